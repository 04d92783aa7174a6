#!/usr/bin/env bats
# contrib/: the systemd units and the s6 service directory, tried as far as
# a machine without systemd as PID 1 allows.

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

@test "the systemd units pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze"
	mkdir "$TMP/units"
	cp "$CONTRIB/systemd/fdpass.socket" "$TMP/units/"
	sed "s#^ExecStart=/usr/local/bin/fdpass#ExecStart=$FDPASS#" \
	    "$CONTRIB/systemd/fdpass.service" >"$TMP/units/fdpass.service"
	run systemd-analyze verify --man=no "$TMP/units/fdpass.socket" "$TMP/units/fdpass.service"
	assert_success
	assert_output ""
}

@test "the units' command line runs under systemd-socket-activate as systemd would run it" {
	command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate"
	[ "$(unit_value "$CONTRIB/systemd/fdpass.socket" ListenSequentialPacket)" = /run/fdpass.sock ]
	exec_start=$(unit_value "$CONTRIB/systemd/fdpass.service" ExecStart)
	[ "$(unit_value "$CONTRIB/systemd/fdpass.service" Type)" = notify ]
	start_notify_listener
	# ListenSequentialPacket= is --seqpacket; the socket path is the test's own.
	systemd-socket-activate "${ACTIVATE_ENV[@]}" -E NOTIFY_SOCKET --seqpacket -l "$FDPASS_SOCKET" \
	    "$FDPASS" ${exec_start#/usr/local/bin/fdpass} 2>/dev/null 3>&- 4>&- 5>&- &
	BROKER_PID=$!
	wait_for test -S "$FDPASS_SOCKET"
	run "$FDPASS" send --file /etc/hostname host
	assert_success
	notified "READY=1"
	notified "STATUS=holding 1 group, 1 fd"
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
