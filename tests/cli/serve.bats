#!/usr/bin/env bats
# fdpass serve: the broker's socket, readiness, shutdown, and survival.

load helpers

@test "serve creates its path socket with mode 0600 and announces readiness" {
	start_broker
	[ -S "$FDPASS_SOCKET" ]
	run stat -c %a "$FDPASS_SOCKET"
	assert_output 600
	run "$FDPASS" list
	assert_success
	assert_output ""
}

@test "SIGTERM stops the broker cleanly and removes its socket file" {
	start_broker
	"$FDPASS" send --file /etc/hostname host
	stop_broker
	[ ! -e "$FDPASS_SOCKET" ]
}

@test "SIGINT stops the broker cleanly too" {
	start_broker
	kill -INT "$BROKER_PID"
	wait "$BROKER_PID"
	BROKER_PID=
	[ ! -e "$FDPASS_SOCKET" ]
}

@test "a second broker on a live address is refused and the first keeps serving" {
	start_broker
	"$FDPASS" send --file /etc/hostname host
	run "$FDPASS" serve
	assert_failure 3
	assert_output --partial "a live server already answers"
	[ -S "$FDPASS_SOCKET" ]
	run "$FDPASS" list
	assert_output host
}

@test "a stale socket file left by a killed broker is replaced" {
	start_broker
	kill -KILL "$BROKER_PID"
	wait "$BROKER_PID" || :
	BROKER_PID=
	[ -S "$FDPASS_SOCKET" ]
	start_broker
	run "$FDPASS" list
	assert_success
}

@test "a file that is not a socket is never removed" {
	echo precious >"$FDPASS_SOCKET"
	run "$FDPASS" serve
	assert_failure 3
	assert_output --partial "cannot listen on $FDPASS_SOCKET"
	run cat "$FDPASS_SOCKET"
	assert_output precious
}

@test "serve on an abstract address leaves no file and answers" {
	export FDPASS_SOCKET="@fdpass-test-$$-$RANDOM"
	start_broker
	"$FDPASS" send --file /etc/hostname host
	run "$FDPASS" list
	assert_output host
	stop_broker
}

@test "the -s option wins over FDPASS_SOCKET" {
	start_broker -s "$TMP/other.sock"
	run "$FDPASS" list -s "$TMP/other.sock"
	assert_success
	run "$FDPASS" list
	assert_failure 3
}

@test "serve refuses bad arguments with a usage error" {
	run "$FDPASS" serve --ready-fd 77
	assert_failure 2
	assert_output --partial "--ready-fd 77: not an open file descriptor"
	run "$FDPASS" serve --no-such-option
	assert_failure 2
	assert_output --partial "usage: fdpass serve"
	run "$FDPASS" serve extra
	assert_failure 2
	run "$FDPASS" serve -s "$TMP/$(printf 'x%.0s' {1..120})"
	assert_failure 2
	assert_output --partial "address too long"
}

@test "--help prints the usage and exits 0" {
	run "$FDPASS" serve --help
	assert_success
	assert_output --partial "--ready-fd"
	run "$FDPASS" --help
	assert_success
	assert_output --partial "fdpass exec"
	run "$FDPASS" no-such-command
	assert_failure 2
	assert_output --partial "unknown command 'no-such-command'"
}

@test "thousands of garbage records with random fds, and dropped connections, leave the broker alive with no fd leaked" {
	start_broker
	before=$(broker_fd_count)
	"$FDPASS" send --file /etc/hostname host
	before=$((before + 1))	# counted before the sender's connection could linger
	run python3 "$PEER" garbage "$FDPASS_SOCKET" 3000 7
	assert_success
	run "$FDPASS" list
	assert_output host
	broker_fd_count_is "$before"
}

@test "requests the broker must refuse get stable status codes" {
	start_broker
	before=$(broker_fd_count)
	"$FDPASS" send --file /etc/hostname host
	before=$((before + 1))	# counted before the sender's connection could linger
	run python3 "$PEER" status "$FDPASS_SOCKET" 1 host 99
	assert_output 1			# another protocol version
	run python3 "$PEER" status "$FDPASS_SOCKET" 1 newname 2 0
	assert_output 6			# store with no fds
	run python3 "$PEER" status "$FDPASS_SOCKET" 1 "bad:name" 2 2
	assert_output 3			# invalid name, fds closed
	run python3 "$PEER" status "$FDPASS_SOCKET" 2 host 2 3
	assert_output 2			# retrieve carrying fds, fds closed
	run python3 "$PEER" status "$FDPASS_SOCKET" 77 host 2 1
	assert_output 9			# unknown op, fd closed
	broker_fd_count_is "$before"
	run "$FDPASS" list
	assert_output host
}

@test "a broker short of fds refuses a store it cannot take whole and keeps what it held" {
	ready="$TMP/ready"
	mkfifo "$ready"
	(ulimit -n 40; exec "$FDPASS" serve --ready-fd 3 3>"$ready" 4>&- 5>&-) &
	BROKER_PID=$!
	read -r -t 10 _ <"$ready"
	"$FDPASS" send --file /etc/hostname host
	args=()
	for i in $(seq 60); do args+=(--file /dev/null); done
	run "$FDPASS" send "${args[@]}" big
	assert_failure 1
	assert_output --partial "big: the broker could not take every file descriptor"
	run "$FDPASS" list
	assert_output host
}
