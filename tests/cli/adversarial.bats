#!/usr/bin/env bats
# The broker against an attacker allowed one name: nothing lost, no crash,
# nobody locked out. One test per defect found by trying (the numbers are
# those of the issue "Nothing lost, nobody locked out"); each failed before
# its fix.

load helpers

setup() {
	common_setup
	BG_PIDS=()
	# A copy another uid may read (CI clones the tree into a 0700 directory).
	install -m 644 "$BATS_TEST_DIRNAME/hostile.py" "$TMP/hostile.py"
}

teardown() {
	kill_all "${BG_PIDS[@]}"
	common_teardown
	[ -z "${SHORT_DIR:-}" ] || rm -rf "$SHORT_DIR"
}

# Start a broker as nobody, in a directory of nobody's, with a soft and hard
# fd limit of $1; the rest are serve's options.
start_broker_as_nobody() {
	local limit=$1 ready="$TMP/ready"
	shift
	open_tmp_to_nobody
	install -d -o 65534 -g 65534 -m 700 "$TMP/nobody"
	export FDPASS_SOCKET="$TMP/nobody/broker.sock"
	mkfifo "$ready"
	chmod 666 "$ready"
	(ulimit -n "$limit"; exec "${NOBODY[@]}" "$FDPASS" serve "$@" \
	    --ready-fd 3 3>"$ready" 4>&- 5>&-) &
	BROKER_PID=$!
	wait_ready "$ready"
	rm -f "$ready"
}

@test "1: SIGTERM while a draining STORE wakes waiters that cannot be answered" {
	start_broker
	python3 "$TMP/hostile.py" fill "$FDPASS_SOCKET" 1200 250
	start_hostile drain-waiters "$FDPASS_SOCKET" 3
	kill -TERM "$BROKER_PID"
	local status=0
	wait_for_exit "$BROKER_PID" || status=$?
	BROKER_PID=
	[ "$status" -eq 0 ]
	[ ! -e "$FDPASS_SOCKET" ]
}

# Start `fdpass serve ARGS...` in the background, stopped by teardown.
serve_bg() {
	"$FDPASS" serve "$@" 3>&- 4>&- 5>&- &
	BG_PIDS+=($!)
}

@test "2: takeovers in a chain at a path keep the socket file, and serve" {
	serve_bg 2>"$TMP/a.log"
	local a=${BG_PIDS[-1]} b c
	wait_for test -S "$FDPASS_SOCKET"
	"$FDPASS" send --file /etc/hostname web
	serve_bg --takeover 2>"$TMP/b.log"
	b=${BG_PIDS[-1]}
	wait_for_exit "$a"
	serve_bg --takeover 2>"$TMP/c.log"
	c=${BG_PIDS[-1]}
	wait_for_exit "$b"
	[ -S "$FDPASS_SOCKET" ]
	run timeout 10 "$FDPASS" list
	assert_success
	assert_output web
	start_broker --takeover
	wait_for_exit "$c"
	[ -S "$FDPASS_SOCKET" ]
	run "$FDPASS" list
	assert_output web
	stop_broker
	[ ! -e "$FDPASS_SOCKET" ]
}

@test "2: a stopping broker leaves alone a socket file that is no longer its own" {
	start_broker
	local old=$BROKER_PID
	rm "$FDPASS_SOCKET"
	serve_bg 2>"$TMP/new.log"
	BROKER_PID=${BG_PIDS[-1]}
	wait_for test -S "$FDPASS_SOCKET"
	kill -TERM "$old"
	wait_for_exit "$old"
	[ -S "$FDPASS_SOCKET" ]
	run "$FDPASS" list
	assert_success
}

@test "5: waiters whose own sockets the broker holds do not lock the owner out" {
	need_root
	open_tmp_to_nobody
	start_broker --mode 0666 --max-clients 8 --allow uid=65534
	HOSTILE_AS=nobody start_hostile waiters "$FDPASS_SOCKET" 8
	run timeout 10 "$FDPASS" list
	assert_success
	assert_output self
	# another uid now gets a plain answer, not a hang
	run timeout 10 "${NOBODY[@]}" "$FDPASS" list
	assert_failure 1
	assert_output --partial "too many clients"
	# the owner can still take the broker over, clients and all
	start_broker --takeover
	run timeout 10 "$FDPASS" delete self
	assert_success
}

@test "5: --max-waiters bounds the waiting clients of other uids, not the owner's" {
	need_root
	open_tmp_to_nobody
	start_broker -v --mode 0666 --max-waiters 2 --allow uid=65534 2>"$TMP/log"
	HOSTILE_AS=nobody start_hostile waiters "$FDPASS_SOCKET" 2
	run timeout 10 "${NOBODY[@]}" "$FDPASS" recv --wait=5 other
	assert_failure 1
	assert_output --partial "too many clients wait at the broker"
	"$FDPASS" recv --wait=10 mine >"$TMP/mine.out" &
	local waiter=$!
	wait_for_line "$TMP/log" 'RETRIEVE .*name="mine"'
	"$FDPASS" send --file /etc/hostname mine
	wait_for_exit "$waiter"
}

@test "6: a client that never reads its answers cannot starve the others" {
	need_root
	start_broker_as_nobody 1024
	local args=() i
	for i in $(seq 253); do args+=(--file /dev/null); done
	as_nobody "$FDPASS" send "${args[@]}" big
	HOSTILE_AS=nobody start_hostile pipeline "$FDPASS_SOCKET" big 40
	for i in 1 2 3; do
		run timeout 10 "${NOBODY[@]}" "$FDPASS" recv big
		assert_success
		assert_line --index 252 --partial "252 "
	done
}

@test "6: a send the kernel refuses is the broker's failure, not a dropped connection" {
	need_root
	start_broker_as_nobody 1024
	as_nobody "$FDPASS" send --file /dev/null small
	# 1100 fds of nobody's in flight elsewhere: past the broker's limit
	HOSTILE_AS=nobody HOSTILE_ULIMIT=4096 start_hostile inflight-hog 1100
	run timeout 10 "${NOBODY[@]}" "$FDPASS" recv small
	assert_failure 1
	assert_output --partial "cannot hand out"
	run timeout 10 "${NOBODY[@]}" "$FDPASS" list
	assert_success
	assert_output small
}

@test "7: clients that send LIST and never read cost the broker a bounded amount" {
	start_broker -v 2>"$TMP/log"
	python3 "$TMP/hostile.py" fill "$FDPASS_SOCKET" 4000 250
	local before
	before=$(broker_peak_kb)
	start_hostile list-pipeline "$FDPASS_SOCKET" 40 1
	wait_for_line "$TMP/log" '-> LIST' 40
	run timeout 10 "$FDPASS" list
	assert_success
	assert_line --index 3999 --partial 003999-nnnnnnnn
	[ "$(broker_peak_kb)" -lt $((before + 16384)) ] ||
	    fail "peak RSS grew from $before kB to $(broker_peak_kb) kB"
}

@test "8: SIGTERM's drain stays bounded in memory, and a second signal ends it" {
	start_broker
	python3 "$TMP/hostile.py" fill "$FDPASS_SOCKET" 2000 250
	start_hostile list-pipeline "$FDPASS_SOCKET" 3 60
	local before
	before=$(broker_peak_kb)
	kill -TERM "$BROKER_PID"
	sleep 0.5
	local peak
	peak=$(broker_peak_kb)
	kill -TERM "$BROKER_PID"
	# the second signal ends it at once: no waiting out the 5 s drain
	for _ in $(seq 40); do
		kill -0 "$BROKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	! kill -0 "$BROKER_PID" 2>/dev/null || fail "the second SIGTERM did not end the drain"
	wait_for_exit "$BROKER_PID"
	BROKER_PID=
	[ "$peak" -lt $((before + 32768)) ] ||
	    fail "peak RSS grew from $before kB to $peak kB in the drain"
}

@test "9: --max-fds past the fd limit is cut down, and requests without fds are answered" {
	mkfifo "$TMP/ready"
	(ulimit -n 400; exec "$FDPASS" serve --max-fds 5000 --ready-fd 3 \
	    3>"$TMP/ready" 4>&- 5>&- 2>"$TMP/serve.err") &
	BROKER_PID=$!
	wait_ready "$TMP/ready"
	run cat "$TMP/serve.err"
	# (valgrind keeps the top of the limit for itself)
	assert_output --regexp "--max-fds 5000: past what the fd limit \([0-9]+\) leaves"
	# stores until one waits for room for a whole request's fds
	local i=0
	while timeout 5 "$FDPASS" send --file /dev/null --file /dev/null "g$i"; do
		i=$((i + 1))
		[ "$i" -lt 400 ] || fail "no store ever waited for room"
	done
	"$FDPASS" send --file /dev/null waiting 3>&- &
	local sender=$!
	BG_PIDS+=($sender)
	sleep 0.5
	kill -0 "$sender"	# it waits: the broker has no room for its fds
	run timeout 10 "$FDPASS" list
	assert_success
	assert_line --index 0 g0
	run timeout 10 "$FDPASS" recv g0
	assert_success
	run timeout 10 "$FDPASS" delete g0 g1 g2 g3 g4 g5 g6 g7 g8 g9
	assert_success
	wait_for_exit "$sender"
	run "$FDPASS" list
	assert_line waiting
}

@test "9: a broker short of fds for a whole request still answers requests without fds" {
	# restarted by its service manager with a lower fd limit, it is handed
	# back more fds than leave room for a whole request
	echo 20000 >"$TMP/limit"
	python3 "$BATS_TEST_DIRNAME/fakemanager.py" "$TMP" sh -c \
	    'ulimit -n "$(cat "$0/limit")"; exec "$1" serve --fdstore -s "$2"' \
	    "$TMP" "$FDPASS" "$FDPASS_SOCKET" 2>"$TMP/serve.log" 3>&- 4>&- 5>&- &
	BG_PIDS+=($!)
	wait_for "$FDPASS" list
	local i args=()
	for i in $(seq 100); do args+=(--file /dev/null); done
	for i in 1 2 3; do "$FDPASS" send "${args[@]}" "g$i"; done
	wait_for grep -q "g3 100" "$TMP/store"
	echo 400 >"$TMP/limit"
	local old
	old=$(cat "$TMP/pid")
	kill -USR1 "${BG_PIDS[-1]}"
	wait_for bash -c '[ "$(cat "$1")" != "$2" ]' _ "$TMP/pid" "$old"
	BROKER_PID=$(cat "$TMP/pid")
	# until the new broker listens, the old one's socket file refuses (3)
	for _ in $(seq 300); do
		run timeout 10 "$FDPASS" list
		[ "$status" -eq 3 ] || break
		sleep 0.1
	done
	assert_success
	assert_output "$(printf 'g1\ng2\ng3')"
	run timeout 10 "$FDPASS" recv g1
	assert_success
	run timeout 10 "$FDPASS" delete g1 g2 g3
	assert_success
	run timeout 10 "$FDPASS" send --file /dev/null small
	assert_success
}

@test "9: a takeover by a broker whose fd limit cannot hold the groups is refused" {
	start_broker
	local i args=()
	for i in $(seq 100); do args+=(--file /dev/null); done
	for i in 1 2 3; do "$FDPASS" send "${args[@]}" "g$i"; done
	run bash -c 'ulimit -n 300; exec "$FDPASS" serve --takeover'
	assert_failure
	assert_output --partial "fd limit"
	run timeout 10 "$FDPASS" list
	assert_success
	assert_output "$(printf 'g1\ng2\ng3')"
}

@test "10: a taker that reads slowly cannot freeze the old broker past the step's bound" {
	start_broker
	python3 "$TMP/hostile.py" fill "$FDPASS_SOCKET" 600 250
	start_hostile slow-taker "$FDPASS_SOCKET" 1
	run timeout 40 "$FDPASS" list
	assert_success
	assert_line --index 0 --partial 000000-nnnnnnnn
}

@test "7: a LIST being sent goes on from the new broker after a takeover, each name once" {
	start_broker
	python3 "$TMP/hostile.py" fill "$FDPASS_SOCKET" 3000 250
	mkfifo "$TMP/go"
	python3 "$TMP/hostile.py" slow-lister "$FDPASS_SOCKET" <"$TMP/go" \
	    >"$TMP/lister" 3>&- 4>&- 5>&- &
	BG_PIDS+=($!)
	exec 6>"$TMP/go"
	wait_for_line "$TMP/lister" ready
	local old=$BROKER_PID
	start_broker --takeover
	wait_for_exit "$old"
	echo go >&6
	exec 6>&-
	wait_for_line "$TMP/lister" names
	run cat "$TMP/lister"
	assert_line "names 3000 sorted"
}

@test "15: serve at a 107-byte path whose file name is long" {
	local dir name
	dir=$(mktemp -d /tmp/fXXXX)
	SHORT_DIR=$dir
	name=$(printf 'b%.0s' $(seq $((107 - ${#dir} - 1))))
	export FDPASS_SOCKET="$dir/$name"
	[ "${#FDPASS_SOCKET}" -eq 107 ]
	start_broker
	[ -S "$FDPASS_SOCKET" ]
	"$FDPASS" send --file /etc/hostname web
	run "$FDPASS" list
	assert_output web
	stop_broker
	[ ! -e "$FDPASS_SOCKET" ]
}

@test "19: a client without rights gets DENIED before the broker looks at the name" {
	need_root
	open_tmp_to_nobody
	install -m 644 "$PEER" "$TMP/peer.py"
	start_broker --mode 0666
	# a bad name, no fds on a STORE, fds on a RETRIEVE, a WAIT too short
	run as_nobody /usr/bin/python3 "$TMP/peer.py" status "$FDPASS_SOCKET" 1 'bad:name' 2 1
	assert_output 10
	run as_nobody /usr/bin/python3 "$TMP/peer.py" status "$FDPASS_SOCKET" 1 good 2 0
	assert_output 10
	run as_nobody /usr/bin/python3 "$TMP/peer.py" status "$FDPASS_SOCKET" 2 good 2 1
	assert_output 10
	run as_nobody /usr/bin/python3 "$TMP/peer.py" short-wait "$FDPASS_SOCKET"
	assert_output 10
	run as_nobody /usr/bin/python3 "$TMP/peer.py" status "$FDPASS_SOCKET" 77 x 2 0
	assert_output 10
}
