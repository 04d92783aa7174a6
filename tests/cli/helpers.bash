# Shared set-up for the command-line suites: a private broker per test.
bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

# An absolute path: a PATH entry holding ".." keeps zsh from completing
# commands (completion.bats puts fdpass's directory first on PATH).
: "${FDPASS:=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/fdpass}"
PEER="$BATS_TEST_DIRNAME/peer.py"

# Each test gets its own directory and broker address.
common_setup() {
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/fdpass-test.XXXXXX")
	export FDPASS_SOCKET="$TMP/broker.sock"
	BROKER_PID=
	NOTIFY_PID=
	unset NOTIFY_SOCKET
}

# systemd-socket-activate hands its program a clean environment: these -E
# options pass on what tests/cli/valgrind-fdpass needs when it is $FDPASS.
ACTIVATE_ENV=(-E FDPASS_REAL -E VALGRIND_LOGDIR)

# Start a broker on $FDPASS_SOCKET (or the address given) and wait until it accepts.
start_broker() {
	local ready="$TMP/ready.$$"
	mkfifo "$ready"
	"$FDPASS" serve "$@" --ready-fd 3 3>"$ready" 4>&- 5>&- &
	BROKER_PID=$!
	wait_ready "$ready"
	rm -f "$ready"
	wait_for_ready_fd_closed
}

# The broker closes --ready-fd just after writing to it: wait for that, so
# that a test counting the broker's fds from now on does not count it. A
# client the broker accepts meanwhile may get fd 3 again: only the fifo
# there counts.
wait_for_ready_fd_closed() {
	local i
	for i in $(seq 100); do
		case $(readlink "/proc/$BROKER_PID/fd/3" 2>/dev/null) in
		*/ready.*) sleep 0.1 ;;
		*) return 0 ;;
		esac
	done
	fail "broker did not close its --ready-fd"
}

# Wait for a broker's readiness line on the fifo $1 and for the broker to
# close the fifo, so that no count of the broker's fds sees it.
wait_ready() {
	[ "$(timeout 10 cat "$1" | wc -l)" -ge 1 ] || fail "broker did not become ready"
}

# SIGKILL each background process given (empty arguments are skipped)
# and reap it: what a failed test leaves running goes with its teardown.
kill_all() {
	local pid
	for pid in "$@"; do
		[ -n "$pid" ] || continue
		kill -KILL "$pid" 2>/dev/null || :
		wait "$pid" 2>/dev/null || :
	done
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

# Stop the process $1 (when set) with SIGTERM, so that one run under
# valgrind can report, and kill it if it has not exited within 20 s.
stop_gently() {
	local i
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || :
	for i in $(seq 200); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || :
	wait "$1" 2>/dev/null || :
}

# A broker still running is stopped gently.
common_teardown() {
	if [ -n "$NOTIFY_PID" ]; then
		kill "$NOTIFY_PID" 2>/dev/null || :
		wait "$NOTIFY_PID" 2>/dev/null || :
	fi
	stop_gently "$BROKER_PID"
	rm -rf "$TMP"
}

setup() {
	common_setup
}

teardown() {
	common_teardown
}

# Run a command as nobody (uid and gid 65534, no other groups); the tests
# that need another uid run only as root.
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)
as_nobody() {
	"${NOBODY[@]}" "$@"
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root to act as another uid"
	command -v setpriv >/dev/null || skip "needs setpriv"
}

# Let nobody reach the test's directory, so it may connect to a socket there.
open_tmp_to_nobody() {
	chmod 711 "$TMP"
}

# Wait up to 10 s for $3 (default 1) lines matching the extended regexp $2
# in file $1 (a `serve -v` log, say): how a test knows the broker has seen
# a request.
wait_for_line() {
	wait_for_line_within 10 "$@"
}

# wait_for_line with a bound of $1 seconds instead of 10.
wait_for_line_within() {
	local i want="${4:-1}"
	for i in $(seq $(($1 * 10))); do
		[ "$(grep -Ec -- "$3" "$2" 2>/dev/null)" -ge "$want" ] && return 0
		sleep 0.1
	done
	fail "fewer than $want lines matching '$3' in $2"
}

# Wait up to 10 s for the process $1 to end; its status is then in $?.
wait_for_exit() {
	local i
	for i in $(seq 100); do
		kill -0 "$1" 2>/dev/null || { wait "$1"; return; }
		sleep 0.1
	done
	fail "process $1 did not end"
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

# Start `fdpass $@` in the background, output in $TMP/peer.out and
# $TMP/peer.err, and wait until its socket file is there.
start_peer() {
	"$FDPASS" "$@" >"$TMP/peer.out" 2>"$TMP/peer.err" &
	PEER_PID=$!
	for i in $(seq 100); do
		[ -S "$TMP/peer.sock" ] && return 0
		sleep 0.1
	done
	fail "the peer did not listen"
}

# send to the peer; a connect that came between bind and listen is retried.
send_to_peer() {
	for i in $(seq 50); do
		"$FDPASS" send -s "$TMP/peer.sock" "$@" && return 0
		[ "$?" -eq 3 ] || return 1
		sleep 0.1
	done
	return 1
}

# Send a group of $2 fds (all /dev/null) under name $1; extra arguments first.
send_nulls() {
	local name=$1 n=$2 args=() i
	shift 2
	for i in $(seq "$n"); do args+=(--file /dev/null); done
	"$FDPASS" send "$@" "${args[@]}" "$name"
}

# Run hostile.py MODE ARGS... in the background (the suite's setup copies
# it to $TMP/hostile.py, where another uid may read it; its pid joins
# BG_PIDS): as nobody with HOSTILE_AS=nobody, with an fd limit of
# HOSTILE_ULIMIT, its standard input from HOSTILE_IN. Its output goes to
# $HOSTILE_OUT; wait until it says it is ready.
start_hostile() {
	local as=(python3)
	HOSTILE_OUT="$TMP/hostile.${#BG_PIDS[@]}"
	[ "${HOSTILE_AS:-}" != nobody ] || as=("${NOBODY[@]}" /usr/bin/python3)
	([ -z "${HOSTILE_ULIMIT:-}" ] || ulimit -n "$HOSTILE_ULIMIT"
	 exec "${as[@]}" "$TMP/hostile.py" "$@") <"${HOSTILE_IN:-/dev/null}" \
	    >"$HOSTILE_OUT" 3>&- 4>&- 5>&- &
	BG_PIDS+=($!)
	for _ in $(seq 300); do
		grep -q '^ready' "$HOSTILE_OUT" && return 0
		kill -0 "${BG_PIDS[-1]}" 2>/dev/null ||
		    fail "hostile.py $1 ended: $(cat "$HOSTILE_OUT")"
		sleep 0.1
	done
	fail "hostile.py $1 did not get ready"
}

# The broker's peak resident memory so far, in kB.
broker_peak_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$BROKER_PID/status"
}
