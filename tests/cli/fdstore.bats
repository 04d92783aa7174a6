#!/usr/bin/env bats
# serve --fdstore: the groups survive SIGKILL through a service manager's fd
# store, played by fakemanager.py.

load helpers

MANAGER="$BATS_TEST_DIRNAME/fakemanager.py"

# Run the broker under the fake manager and wait until it answers.
start_managed_broker() {
	python3 "$MANAGER" "$TMP" "$FDPASS" serve --fdstore -v \
	    -s "$FDPASS_SOCKET" 2>>"$TMP/serve.log" &
	MANAGER_PID=$!
	wait_for_broker ""
}

# Wait up to 10 s for a broker other than pid $1 to run and answer.
wait_for_broker() {
	local i
	for i in $(seq 100); do
		if [ -s "$TMP/pid" ] && [ "$(cat "$TMP/pid")" != "$1" ] &&
		    "$FDPASS" list >/dev/null 2>&1; then
			BROKER_PID=$(cat "$TMP/pid")
			return 0
		fi
		sleep 0.1
	done
	fail "the managed broker did not answer"
}

# Wait up to 10 s for the manager's fd store to hold exactly $1 ("NAME NFDS" lines).
store_is() {
	local i
	for i in $(seq 100); do
		[ "$(cat "$TMP/store" 2>/dev/null)" = "$1" ] && return 0
		sleep 0.1
	done
	fail "the fd store holds '$(cat "$TMP/store")', expected '$1'"
}

# How many of the broker's fds are open files (the groups here are all
# files): unlike its sockets, no client connection can linger among them.
broker_file_count() {
	local fd n=0
	for fd in /proc/"$BROKER_PID"/fd/*; do
		case $(readlink "$fd") in
		/*) n=$((n + 1)) ;;
		esac
	done
	echo "$n"
}

# SIGKILL the broker through the manager and wait for the new one.
kill_and_restart() {
	local old="$BROKER_PID"
	kill -USR1 "$MANAGER_PID"
	wait_for_broker "$old"
	! kill -0 "$old" 2>/dev/null
}

setup() {
	common_setup
	MANAGER_PID=
}

teardown() {
	if [ -n "$MANAGER_PID" ]; then
		kill -TERM "$MANAGER_PID" 2>/dev/null || :
		wait "$MANAGER_PID" 2>/dev/null || :
	fi
	BROKER_PID=
	[ ! -s "$TMP/errors" ] || cat "$TMP/errors" >&3
	common_teardown
}

@test "a broker killed with SIGKILL and restarted holds what it held" {
	start_managed_broker
	for i in $(seq 30); do echo "line $i"; done >"$TMP/data"
	"$FDPASS" send --file /etc/hostname one
	"$FDPASS" send --ttl 100 --file /etc/hostname --file /etc/hosts two
	"$FDPASS" send --file "$TMP/data" data
	store_is "$(printf 'data 1\none 1\ntwo 2')"
	held=$(broker_file_count)
	kill_and_restart
	[ "$(broker_file_count)" -eq "$held" ]
	run "$FDPASS" list
	assert_output "$(printf 'data\none\ntwo')"
	run "$FDPASS" recv two
	assert_line --index 0 --regexp '^0 file path=/etc/hostname '
	assert_line --index 1 --regexp '^1 file path=/etc/hosts '
	run "$FDPASS" recv --cat data
	assert_output "$(cat "$TMP/data")"
	grep -q "adopted two: 2 fds from the fd store" "$TMP/serve.log"
	# Adopted, not sent again: the store holds each group once.
	store_is "$(printf 'data 1\none 1\ntwo 2')"
	# The new broker goes on mirroring, and a second crash loses nothing.
	"$FDPASS" delete one
	"$FDPASS" send --file /etc/hosts three
	store_is "$(printf 'data 1\nthree 1\ntwo 2')"
	kill_and_restart
	run "$FDPASS" list
	assert_output "$(printf 'data\nthree\ntwo')"
	[ ! -s "$TMP/errors" ]
}

@test "delete, take, replace and expiry remove the group from the fd store" {
	start_managed_broker
	"$FDPASS" send --file /etc/hostname deleted
	"$FDPASS" send --file /etc/hostname taken
	"$FDPASS" send --file /etc/hostname replaced
	"$FDPASS" send --file /etc/hostname kept
	store_is "$(printf 'deleted 1\nkept 1\nreplaced 1\ntaken 1')"
	"$FDPASS" delete deleted
	store_is "$(printf 'kept 1\nreplaced 1\ntaken 1')"
	"$FDPASS" recv --take taken >/dev/null
	store_is "$(printf 'kept 1\nreplaced 1')"
	"$FDPASS" send --replace --file /etc/hosts --file /etc/hosts replaced
	store_is "$(printf 'kept 1\nreplaced 2')"
	"$FDPASS" send --ttl 1 --file /etc/hostname expires
	store_is "$(printf 'expires 1\nkept 1\nreplaced 2')"
	store_is "$(printf 'kept 1\nreplaced 2')"
	run "$FDPASS" list
	assert_output "$(printf 'kept\nreplaced')"
	kill_and_restart
	run "$FDPASS" list
	assert_output "$(printf 'kept\nreplaced')"
	run "$FDPASS" recv replaced
	assert_line --index 1 --regexp '^1 file path=/etc/hosts '
}

@test "adopted groups have no TTL, since the fd store keeps none" {
	start_managed_broker
	"$FDPASS" send --ttl 100 --file /etc/hostname timed
	run "$FDPASS" list
	assert_output --regexp '^timed	expires_in=[0-9]+$'
	store_is "timed 1"
	kill_and_restart
	run "$FDPASS" list
	assert_output timed
}

@test "a broker stopped with SIGTERM leaves the fd store to the manager" {
	start_managed_broker
	"$FDPASS" send --file /etc/hostname stays
	store_is "stays 1"
	kill -TERM "$MANAGER_PID"
	wait "$MANAGER_PID"
	MANAGER_PID=
	store_is "stays 1"
}

@test "a socket-activated broker with --fdstore serves on the unit's socket and adopts the rest" {
	python3 "$MANAGER" "$TMP" --socket "$FDPASS_SOCKET" "$FDPASS" serve \
	    --fdstore -v 2>>"$TMP/serve.log" &
	MANAGER_PID=$!
	wait_for_broker ""
	"$FDPASS" send --file /etc/hostname --file /etc/hosts conf
	"$FDPASS" send --listen "unix:$TMP/app.sock" app
	store_is "app 1
conf 2"
	kill_and_restart
	run "$FDPASS" list
	assert_output "app
conf"
	run "$FDPASS" recv app
	assert_output --regexp "^0 socket .*listening=yes.*local=$TMP/app.sock"
	store_is "app 1
conf 2"
}

@test "--fdstore needs a service manager" {
	run env -u NOTIFY_SOCKET "$FDPASS" serve --fdstore
	assert_failure 2
	assert_output "fdpass: serve: --fdstore: \$NOTIFY_SOCKET is not set: no service manager to keep the groups"
	NOTIFY_SOCKET="$TMP/nobody.sock" run "$FDPASS" serve --fdstore
	assert_failure 3
	assert_output --partial "cannot reach the service manager at \$NOTIFY_SOCKET=$TMP/nobody.sock"
	[ ! -e "$FDPASS_SOCKET" ]
}
