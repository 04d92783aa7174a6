# Shared set-up for the command-line suites: a private broker per test.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${FDPASS:=$BATS_TEST_DIRNAME/../../fdpass}"
PEER="$BATS_TEST_DIRNAME/peer.py"

# Each test gets its own directory and broker address.
common_setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/fdpass-test.XXXXXX")
	export FDPASS_SOCKET="$TMP/broker.sock"
	BROKER_PID=
	NOTIFY_PID=
	unset NOTIFY_SOCKET
}

# Start a broker on $FDPASS_SOCKET (or the address given) and wait until it accepts.
start_broker() {
	local ready="$TMP/ready.$$"
	mkfifo "$ready"
	"$FDPASS" serve "$@" --ready-fd 3 3>"$ready" 4>&- 5>&- &
	BROKER_PID=$!
	read -r -t 10 _ <"$ready" || fail "broker did not become ready"
	rm -f "$ready"
}

# Stop the broker with SIGTERM and check it exits 0.
stop_broker() {
	[ -n "$BROKER_PID" ] || return 0
	kill -TERM "$BROKER_PID"
	wait "$BROKER_PID"
	local status=$?
	BROKER_PID=
	return "$status"
}

# How many fds the broker holds open right now.
broker_fd_count() {
	ls "/proc/$BROKER_PID/fd" | wc -l
}

# Whether the broker still holds a client's connection: an accepted socket
# shows the listener's path in /proc/net/unix, in state 03 (connected).
broker_has_clients() {
	awk -v p="$FDPASS_SOCKET" '$6 == "03" && $8 == p { found = 1 } END { exit !found }' /proc/net/unix
}

# The broker's fd count once it has dropped every client that hung up.
broker_idle_fd_count() {
	local i
	for i in $(seq 100); do
		broker_has_clients || break
		sleep 0.1
	done
	broker_fd_count
}

# Wait up to 10 s for the broker to work through what clients left queued
# and hold exactly $1 fds; a leak never gets there.
broker_fd_count_is() {
	local i
	for i in $(seq 100); do
		[ "$(broker_fd_count)" -eq "$1" ] && return 0
		sleep 0.1
	done
	fail "broker holds $(broker_fd_count) fds, expected $1"
}

common_teardown() {
	if [ -n "$NOTIFY_PID" ]; then
		kill "$NOTIFY_PID" 2>/dev/null || :
		wait "$NOTIFY_PID" 2>/dev/null || :
	fi
	if [ -n "$BROKER_PID" ]; then
		kill -KILL "$BROKER_PID" 2>/dev/null || :
		wait "$BROKER_PID" 2>/dev/null || :
	fi
	rm -rf "$TMP"
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Start a stand-in service manager's notification socket at $TMP/notify,
# logging to $TMP/notify.log, and export NOTIFY_SOCKET.
start_notify_listener() {
	python3 "$BATS_TEST_DIRNAME/notify-listener.py" "$TMP/notify" \
	    "$TMP/notify.log" 3>&- 4>&- 5>&- &
	NOTIFY_PID=$!
	export NOTIFY_SOCKET="$TMP/notify"
	wait_for test -S "$TMP/notify"
}

# Wait up to 10 s for a command to succeed.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" && return 0
		sleep 0.1
	done
	fail "timed out waiting for: $*"
}

# Wait until the notification log holds a line matching a fixed string.
notified() {
	wait_for grep -qF -- "$1" "$TMP/notify.log"
}
