#!/usr/bin/env bats
# The broker on a shared machine: socket paths, limits, fd exhaustion, and
# clients that misbehave by the thousand.

load helpers

setup() {
	common_setup
	PEERS=()
}

# Peers a failed test left running go too.
teardown() {
	kill_all "${PEERS[@]}"
	common_teardown
}

# Start a broker with a soft and hard fd limit of $1; the rest are serve's options.
start_broker_limited() {
	local limit=$1 ready="$TMP/ready"
	shift
	mkfifo "$ready"
	(ulimit -n "$limit"; exec "$FDPASS" serve "$@" --ready-fd 3 3>"$ready" 4>&- 5>&-) &
	BROKER_PID=$!
	wait_ready "$ready"
	rm -f "$ready"
}

@test "--mode widens the path socket's mode; a bad mode is a usage error" {
	start_broker --mode 0660
	run stat -c %a "$FDPASS_SOCKET"
	assert_output 660
	run "$FDPASS" serve -s "$TMP/x.sock" --mode 0400
	assert_failure 2
	assert_output --partial "--mode 0400: not an octal mode from 0600 to 0777"
	run "$FDPASS" serve -s "$TMP/x.sock" --mode 999
	assert_failure 2
}

@test "missing directories on the way to the socket are created 0700" {
	export FDPASS_SOCKET="$TMP/a/b/broker.sock"
	start_broker
	run stat -c %a "$TMP/a" "$TMP/a/b" "$FDPASS_SOCKET"
	assert_output "$(printf '700\n700\n600')"
	stop_broker
	[ ! -e "$FDPASS_SOCKET" ]
	[ -d "$TMP/a/b" ]
}

@test "a symlink on the way owned by someone else is never followed; our own is" {
	need_root
	mkdir "$TMP/real"
	ln -s "$TMP/real" "$TMP/theirs"
	chown -h 65534:65534 "$TMP/theirs"
	run "$FDPASS" serve -s "$TMP/theirs/broker.sock"
	assert_failure 3
	assert_output --partial "a directory on the way is a symbolic link owned by another user"
	[ ! -e "$TMP/real/broker.sock" ]
	ln -s "$TMP/real" "$TMP/mine"
	export FDPASS_SOCKET="$TMP/mine/broker.sock"
	start_broker
	[ -S "$TMP/real/broker.sock" ]
}

@test "a symlink at the socket path itself is never replaced" {
	ln -s /etc/hostname "$FDPASS_SOCKET"
	run "$FDPASS" serve
	assert_failure 3
	[ -L "$FDPASS_SOCKET" ]
	[ -f /etc/hostname ]
}

@test "serve refuses bad limit options" {
	for opt in --max-fds --max-clients; do
		run "$FDPASS" serve "$opt" 0
		assert_failure 2
		assert_output --partial "$opt 0: not a positive number"
	done
	run "$FDPASS" serve --client-timeout soon
	assert_failure 2
	assert_output --partial "--client-timeout soon: not a number of seconds"
}

@test "the broker raises its soft fd limit to the hard limit" {
	[ -z "${FDPASS_REAL:-}" ] || skip "valgrind stands in for the fd limit"
	ready="$TMP/ready"
	mkfifo "$ready"
	(ulimit -S -n 100; exec "$FDPASS" serve --ready-fd 3 3>"$ready" 4>&- 5>&-) &
	BROKER_PID=$!
	wait_ready "$ready"
	soft=$(awk '/^Max open files/ { print $4 }' "/proc/$BROKER_PID/limits")
	hard=$(awk '/^Max open files/ { print $5 }' "/proc/$BROKER_PID/limits")
	[ "$soft" = "$hard" ]
	[ "$soft" != 100 ]
}

@test "--max-fds refuses a store that would pass it and keeps every group" {
	start_broker --max-fds 5
	send_nulls three 3
	run send_nulls three-more 3
	assert_failure 1
	assert_output "fdpass: send: three-more: the broker holds as many fds as it may (serve --max-fds)"
	send_nulls two 2
	send_nulls three 1 --replace
	send_nulls one 1
	run "$FDPASS" list
	assert_output "$(printf 'one\nthree\ntwo')"
}

@test "a broker at a tiny fd limit refuses cleanly and keeps every group it held" {
	# valgrind keeps the top of a small fd range for itself, and fds the
	# kernel hands over there never reach the broker to be closed.
	[ -z "${FDPASS_REAL:-}" ] || skip "valgrind stands in for the fd limit"
	start_broker_limited 64
	before=$(broker_fd_count)
	"$FDPASS" send --file /etc/hostname host
	send_nulls three 3
	before=$((before + 4))	# counted before the senders' connections could linger
	run send_nulls big 60
	assert_failure 1
	assert_output --partial "big: the broker could not take every file descriptor"
	# Past --max-fds, or past what the kernel can hand over (valgrind
	# keeps some of the limit for itself): refused either way.
	run send_nulls forty 40
	assert_failure 1
	assert_output --regexp "forty: (the broker holds as many fds as it may|the broker could not take every file descriptor)"
	broker_fd_count_is "$before"
	run "$FDPASS" list
	assert_output "$(printf 'host\nthree')"
	run "$FDPASS" recv three
	assert_line --index 2 --regexp '^2 chardev path=/dev/null'
	run "$FDPASS" recv host
	assert_output --partial /etc/hostname
}

@test "a broker out of fds for new connections rests, then serves once they are freed" {
	[ -z "${FDPASS_REAL:-}" ] || skip "valgrind stands in for the fd limit"
	start_broker_limited 64
	"$FDPASS" send --file /etc/hostname host
	# More connections than the broker has fds: accept() fails with EMFILE
	# and waits on a timer; the rest sit in the listening socket's backlog.
	python3 "$PEER" hang "$FDPASS_SOCKET" 100 idle >"$TMP/hang" &
	hang=$!
	PEERS+=("$hang")
	wait_for_line "$TMP/hang" ready
	kill -0 "$BROKER_PID"
	kill -KILL "$hang"
	wait "$hang" || :
	run timeout 30 "$FDPASS" list
	assert_success
	assert_output host
}

@test "a broker without room for a whole request stops reading until fds are freed" {
	start_broker_limited 300
	"$FDPASS" send --file /etc/hostname host
	# Idle clients take the room a request needs.
	python3 "$PEER" hang "$FDPASS_SOCKET" 30 idle >"$TMP/hang" &
	hang=$!
	PEERS+=("$hang")
	wait_for_line "$TMP/hang" ready
	"$FDPASS" send --file /etc/hosts waiting &
	sender=$!
	PEERS+=("$sender")
	sleep 1
	kill -0 "$sender"	# still waiting for an answer, not refused
	kill -KILL "$hang"
	wait "$hang" || :
	wait "$sender"
	run "$FDPASS" list
	assert_output "$(printf 'host\nwaiting')"
}

@test "--client-timeout drops an idle client; --max-clients makes others wait" {
	start_broker --client-timeout 1 --max-clients 1
	python3 "$PEER" idle "$FDPASS_SOCKET" >"$TMP/idle" &
	idle=$!
	PEERS+=("$idle")
	wait_for_line "$TMP/idle" connected
	run timeout 30 "$FDPASS" list	# waits in the backlog until the idle one is dropped
	assert_success
	wait "$idle"
	run cat "$TMP/idle"
	assert_output "$(printf 'connected\ndropped')"
}

@test "hundreds of clients SIGKILLed mid-request leave no fd behind" {
	start_broker
	before=$(broker_fd_count)
	send_nulls big 253
	before=$((before + 253))	# counted before the sender's connection could linger
	pids=()
	for i in 1 2 3 4; do
		python3 "$PEER" hang "$FDPASS_SOCKET" 75 >"$TMP/hang.$i" &
		pids+=($!)
		PEERS+=($!)
	done
	for i in 1 2 3 4; do
		wait_for_line "$TMP/hang.$i" ready
	done
	kill -KILL "${pids[@]}"
	wait "${pids[@]}" || :
	# The stores the broker took, even from clients already dead, hold
	# their 10 fds each; nothing else stays.
	for i in $(seq 100); do
		stored=$("$FDPASS" list | grep -c '^hang-' || :)
		[ "$(broker_fd_count)" -eq $((before + 10 * stored)) ] && break
		sleep 0.1
	done
	broker_fd_count_is $((before + 10 * stored))
	run "$FDPASS" list
	assert_line big
}

@test "SIGTERM answers the requests already sent before the broker exits" {
	start_broker
	send_nulls big 253
	python3 "$PEER" slow-reader "$FDPASS_SOCKET" 20 >"$TMP/slow" &
	slow=$!
	PEERS+=("$slow")
	wait_for_line "$TMP/slow" sent
	kill -TERM "$BROKER_PID"
	wait "$slow"
	run cat "$TMP/slow"
	assert_output "$(printf 'sent\nanswers 20')"
	wait "$BROKER_PID"
	BROKER_PID=
	[ ! -e "$FDPASS_SOCKET" ]
}

@test "fds a TTL lets go make room for a paused client" {
	start_broker_limited 300 --max-fds 100
	# 60 fds leave no room for a whole request, until their TTL runs out.
	send_nulls brief 60 --ttl 2
	"$FDPASS" send --file /etc/hosts after &
	sender=$!
	PEERS+=("$sender")
	for i in $(seq 200); do
		kill -0 "$sender" 2>/dev/null || break
		sleep 0.1
	done
	wait "$sender"
	run "$FDPASS" list
	assert_output after
}

@test "a client waiting with --wait is not idle: --client-timeout leaves it waiting" {
	start_broker --client-timeout 1 -v 2>"$TMP/serve.log"
	"$FDPASS" recv --wait late >"$TMP/out" 2>&1 &
	pid=$!
	PEERS+=("$pid")
	wait_for_line "$TMP/serve.log" 'name="late"'
	sleep 3		# three client timeouts
	kill -0 "$pid"
	"$FDPASS" send --file /etc/hostname late
	wait_for_exit "$pid"
	run cat "$TMP/out"
	assert_output --regexp '^0 file path=/etc/hostname '
}

@test "exec --peer runs its program with the fd limit it was given" {
	(ulimit -S -n 200; exec "$FDPASS" exec --peer -s "$TMP/peer.sock" -- \
	    sh -c 'ulimit -S -n') >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	PEERS+=("$pid")
	for i in $(seq 100); do
		[ -S "$TMP/peer.sock" ] && break
		sleep 0.1
	done
	send_to_peer --file /etc/hostname limit
	wait_for_exit "$pid"
	run cat "$TMP/out"
	assert_output 200
}
