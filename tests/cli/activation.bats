#!/usr/bin/env bats
# fdpass serve inside a service manager: socket activation and notification.

load helpers

@test "serve sends READY=1, STATUS= on every change, and STOPPING=1" {
	start_notify_listener
	start_broker
	notified "READY=1|STATUS=holding 0 groups, 0 fds fds=0"
	"$FDPASS" send --file /etc/hostname one
	notified "STATUS=holding 1 group, 1 fd fds=0"
	"$FDPASS" send --file /etc/hostname --file /etc/hosts two
	notified "STATUS=holding 2 groups, 3 fds fds=0"
	"$FDPASS" send --replace --file /etc/hostname two
	notified "STATUS=holding 2 groups, 2 fds fds=0"
	stop_broker
	notified "STOPPING=1|STATUS=holding 2 groups, 2 fds fds=0"
}

@test "without NOTIFY_SOCKET serve notifies nobody; a bad one is reported" {
	start_broker
	"$FDPASS" send --file /etc/hostname one
	stop_broker
	NOTIFY_SOCKET="$TMP/nobody" start_broker 2>"$TMP/err"
	run cat "$TMP/err"
	assert_output --partial "NOTIFY_SOCKET $TMP/nobody: No such file or directory; not notifying"
	run "$FDPASS" list
	assert_success
}

@test "a broker started by systemd-socket-activate --seqpacket serves on its socket" {
	start_notify_listener
	systemd-socket-activate "${ACTIVATE_ENV[@]}" -E NOTIFY_SOCKET --seqpacket -l "$FDPASS_SOCKET" \
	    "$FDPASS" serve 2>"$TMP/activate.err" 3>&- 4>&- 5>&- &
	BROKER_PID=$!
	wait_for test -S "$FDPASS_SOCKET"
	# The first connection makes systemd-socket-activate exec the broker.
	run "$FDPASS" send --file /etc/hostname host
	assert_success
	notified "READY=1"
	run "$FDPASS" list
	assert_output host
	run "$FDPASS" recv host
	assert_output --partial "path=/etc/hostname"
	stop_broker
	notified "STOPPING=1"
	# The socket belongs to whoever created it: the broker leaves it alone.
	[ -S "$FDPASS_SOCKET" ]
}

@test "serve refuses a handed-over socket that is not a listening seqpacket one" {
	systemd-socket-activate "${ACTIVATE_ENV[@]}" -l "$TMP/stream.sock" "$FDPASS" serve \
	    2>"$TMP/err" 3>&- 4>&- 5>&- &
	pid=$!
	BROKER_PID=$pid		# so that teardown stops it if the test fails
	wait_for test -S "$TMP/stream.sock"
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$TMP/stream.sock"
	status=0
	wait "$pid" || status=$?
	BROKER_PID=
	[ "$status" -eq 3 ]
	run cat "$TMP/err"
	assert_output --partial "not a listening Unix SOCK_SEQPACKET socket"
}

@test "serve refuses two handed-over fds, malformed names, and -s with activation" {
	run bash -c 'LISTEN_FDS=2 LISTEN_PID=$$ exec "$0" serve 3</dev/null 4</dev/null' "$FDPASS"
	assert_failure 3
	assert_output --partial "2 fds handed over through LISTEN_FDS; serve takes exactly one"
	run bash -c 'LISTEN_FDS=1 LISTEN_PID=$$ LISTEN_FDNAMES=a:b exec "$0" serve 3</dev/null' "$FDPASS"
	assert_failure 3
	assert_output --partial "malformed LISTEN_FDS"
	run python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[2]); s.listen()
os.dup2(s.detach(), 3, inheritable=True) if s.fileno() != 3 else os.set_inheritable(3, True)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execv(sys.argv[1], [sys.argv[1], "serve", "-s", sys.argv[2]])' "$FDPASS" "$TMP/act.sock"
	assert_failure 2
	assert_output --partial "handed its socket through LISTEN_FDS; drop -s"
}

@test "LISTEN_FDS meant for another process is ignored: serve binds its own" {
	LISTEN_FDS=1 LISTEN_PID=1 start_broker
	run "$FDPASS" list
	assert_success
	stop_broker
	[ ! -e "$FDPASS_SOCKET" ]
}
