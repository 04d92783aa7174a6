#!/usr/bin/env bats
# contrib/: the systemd units (the system's and the user's) and the s6
# service directory, tried as far as a machine without systemd as PID 1
# allows.

load helpers

setup() {
	common_setup
	CONTRIB="${TESTS_SRCDIR:-$BATS_TEST_DIRNAME/..}/../contrib"
	scan_pid=
}

# Whether s6 says the service is down.
s6_down() {
	[ "$(s6-svstat -o up "$1")" = false ]
}

# A failed s6 test leaves no supervision tree behind.
teardown() {
	if [ -n "$scan_pid" ]; then
		s6-svscanctl -t "$TMP/scan" 2>/dev/null || kill "$scan_pid" 2>/dev/null || :
		wait "$scan_pid" 2>/dev/null || :
	fi
	common_teardown
}

# The value of KEY= in a unit file.
unit_value() {
	sed -n "s/^$2=//p" "$1"
}

# The units as make install writes them, with fdpass's directory for @bindir@,
# into $TMP/units: the system's, and the user's in $TMP/units/user.
install_units() {
	local bindir
	bindir=$(dirname "${FDPASS_REAL:-$FDPASS}")
	mkdir -p "$TMP/units/user"
	cp "$CONTRIB/systemd/fdpass.socket" "$TMP/units/"
	cp "$CONTRIB/systemd/user/fdpass.socket" "$TMP/units/user/"
	sed "s#@bindir@#$bindir#" "$CONTRIB/systemd/fdpass.service.in" >"$TMP/units/fdpass.service"
	cp "$TMP/units/fdpass.service" "$TMP/units/user/"
}

@test "the system units pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	install_units
	run systemd-analyze verify --man=no "$TMP/units/fdpass.socket" "$TMP/units/fdpass.service"
	assert_success
	assert_output ""
}

@test "the user units pass systemd-analyze --user verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	install_units
	mkdir "$TMP/run"
	XDG_RUNTIME_DIR=$TMP/run run systemd-analyze --user verify --man=no \
	    "$TMP/units/user/fdpass.socket" "$TMP/units/user/fdpass.service"
	assert_success
	assert_output ""
}

@test "the service has the installed fdpass in ExecStart, @bindir@ in the template" {
	[ "$(unit_value "$CONTRIB/systemd/fdpass.service.in" ExecStart)" = "@bindir@/fdpass serve" ]
	built="$(dirname "${FDPASS_REAL:-$FDPASS}")/contrib/systemd/fdpass.service"
	[ -f "$built" ] || skip "no built unit next to fdpass"
	run unit_value "$built" ExecStart
	assert_output --regexp '^/.*/bin/fdpass serve$'
}

# Run fdpass.service's command line (its arguments, given to $FDPASS) under
# systemd-socket-activate, listening at $1 as fdpass.socket would.
activate_like_systemd() {
	local exec_start
	install_units
	[ "$(unit_value "$TMP/units/fdpass.service" Type)" = notify ]
	exec_start=$(unit_value "$TMP/units/fdpass.service" ExecStart)
	start_notify_listener
	# ListenSequentialPacket= is --seqpacket.
	systemd-socket-activate "${ACTIVATE_ENV[@]}" -E NOTIFY_SOCKET --seqpacket -l "$1" \
	    "$FDPASS" ${exec_start#* } 2>/dev/null 3>&- 4>&- 5>&- &
	BROKER_PID=$!
	wait_for test -S "$1"
}

@test "the system units' command line runs under systemd-socket-activate as systemd would run it" {
	command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate"
	[ "$(unit_value "$CONTRIB/systemd/fdpass.socket" ListenSequentialPacket)" = /run/fdpass.sock ]
	# the socket path is the test's own
	activate_like_systemd "$FDPASS_SOCKET"
	run "$FDPASS" send --file /etc/hostname host
	assert_success
	notified "READY=1"
	notified "STATUS=holding 1 group, 1 fd"
	stop_broker
	notified "STOPPING=1"
}

@test "the user units give the user a broker at the commands' default address" {
	command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate"
	# %t is the user's $XDG_RUNTIME_DIR
	[ "$(unit_value "$CONTRIB/systemd/user/fdpass.socket" ListenSequentialPacket)" = %t/fdpass.sock ]
	export XDG_RUNTIME_DIR=$TMP/run
	mkdir -m 700 "$XDG_RUNTIME_DIR"
	activate_like_systemd "$XDG_RUNTIME_DIR/fdpass.sock"
	# no -s, no $FDPASS_SOCKET: the commands find it
	unset FDPASS_SOCKET
	run "$FDPASS" send --file /etc/hostname host
	assert_success
	run "$FDPASS" list
	assert_output host
	notified "READY=1"
	stop_broker
	notified "STOPPING=1"
}

@test "the s6 service directory runs the broker under s6-supervise with readiness" {
	command -v s6-svscan >/dev/null || skip "no s6"
	mkdir "$TMP/scan"
	cp -r "$CONTRIB/s6/fdpass" "$TMP/scan/"
	# The run script calls `fdpass`: the real one, even where $FDPASS wraps it.
	PATH="$(dirname "${FDPASS_REAL:-$FDPASS}"):$PATH" s6-svscan "$TMP/scan" >/dev/null 2>&1 3>&- 4>&- 5>&- &
	scan_pid=$!
	wait_for s6-svok "$TMP/scan/fdpass"
	run s6-svwait -U -t 10000 "$TMP/scan/fdpass"
	assert_success
	run "$FDPASS" send --file /etc/hostname host
	assert_success
	run "$FDPASS" list
	assert_output host
	s6-svc -d "$TMP/scan/fdpass"
	# The broker removes its socket file as it stops on s6's SIGTERM.
	wait_for test ! -e "$FDPASS_SOCKET"
	wait_for s6_down "$TMP/scan/fdpass"
	s6-svscanctl -t "$TMP/scan"
	wait "$scan_pid"
	scan_pid=
}
