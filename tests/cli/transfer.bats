#!/usr/bin/env bats
# transfer: copy and move every group between two brokers, TTLs included.

load helpers

# A second broker at $TO, its pid in $TO_PID; $BROKER_PID stays FROM's.
start_second_broker() {
	local from_pid="$BROKER_PID"
	TO="$TMP/to.sock"
	start_broker -s "$TO"
	TO_PID=$BROKER_PID
	BROKER_PID=$from_pid
}

setup() {
	common_setup
	start_broker
	FROM="$FDPASS_SOCKET"
	start_second_broker
}

teardown() {
	if [ -n "$TO_PID" ]; then
		kill -KILL "$TO_PID" 2>/dev/null || :
		wait "$TO_PID" 2>/dev/null || :
	fi
	common_teardown
}

# The whole-second TTL shown by list, for name $2 at broker $1.
ttl_of() {
	"$FDPASS" list -s "$1" | awk -F'\t' -v n="$2" \
	    '$1 == n { sub("expires_in=", "", $2); print $2 }'
}

@test "transfer copies every group, its fds and its time left" {
	"$FDPASS" send --file /etc/hostname plain
	"$FDPASS" send --ttl 300 --file /etc/hostname --file /etc/hosts timed
	for i in $(seq 40); do echo "$i"; done >"$TMP/data"
	"$FDPASS" send --file "$TMP/data" data
	run "$FDPASS" transfer "$FROM" "$TO"
	assert_success
	assert_output ""
	run "$FDPASS" list -s "$TO" --long
	assert_line --index 0 --regexp '^data	fds=1$'
	assert_line --regexp '^plain	fds=1$'
	assert_line --regexp '^timed	fds=2 expires_in=[0-9]+$'
	ttl=$(ttl_of "$TO" timed)
	[ "$ttl" -gt 200 ] && [ "$ttl" -le 300 ]
	[ -z "$(ttl_of "$TO" plain)" ]
	run "$FDPASS" recv -s "$TO" --cat data
	assert_output "$(cat "$TMP/data")"
	run "$FDPASS" list
	assert_output --partial plain
	assert_equal "$("$FDPASS" list | cut -f1)" "$(printf 'data\nplain\ntimed')"
}

@test "transfer --move empties FROM once TO holds each group" {
	before=$(broker_fd_count)
	"$FDPASS" send --file /etc/hostname a
	"$FDPASS" send --ttl 100 --file /etc/hostname b
	broker_fd_count_is $((before + 2))
	run "$FDPASS" transfer --move "$FROM" "$TO"
	assert_success
	run "$FDPASS" list
	assert_output ""
	broker_fd_count_is "$before"
	assert_equal "$("$FDPASS" list -s "$TO" | cut -f1)" "$(printf 'a\nb')"
}

@test "a group TO refuses stays at FROM, even with --move" {
	"$FDPASS" send --file /etc/hostname clash
	"$FDPASS" send --file /etc/hostname fine
	"$FDPASS" send -s "$TO" --file /etc/hosts clash
	run "$FDPASS" transfer --move "$FROM" "$TO"
	assert_failure 1
	assert_output "fdpass: transfer: clash: $TO refused it: name already held; $FROM keeps it"
	assert_equal "$("$FDPASS" list)" clash
	run "$FDPASS" recv clash
	assert_output --regexp 'path=/etc/hostname '
	run "$FDPASS" recv -s "$TO" clash
	assert_output --regexp 'path=/etc/hosts '
	assert_equal "$("$FDPASS" list -s "$TO")" "$(printf 'clash\nfine')"
}

@test "transfer --replace overwrites what TO holds under the names" {
	"$FDPASS" send --file /etc/hostname clash
	"$FDPASS" send -s "$TO" --file /etc/hosts clash
	run "$FDPASS" transfer --replace "$FROM" "$TO"
	assert_success
	run "$FDPASS" recv -s "$TO" clash
	assert_output --regexp 'path=/etc/hostname '
}

@test "transfer to a broker that is not there loses nothing" {
	"$FDPASS" send --file /etc/hostname keep
	run "$FDPASS" transfer --move "$FROM" "$TMP/nobody.sock"
	assert_failure 3
	assert_output --partial "cannot reach the broker at $TMP/nobody.sock"
	assert_equal "$("$FDPASS" list)" keep
}

@test "TO going away midway leaves FROM whole" {
	for i in $(seq 30); do
		"$FDPASS" send --file /etc/hostname "g$i"
	done
	kill -STOP "$TO_PID"
	"$FDPASS" transfer --move "$FROM" "$TO" >"$TMP/out" 2>&1 &
	pid=$!
	kill -KILL "$TO_PID"
	wait "$TO_PID" || :
	TO_PID=
	wait_for_exit "$pid" || status=$?
	[ "${status:-0}" -eq 3 ]
	[ "$("$FDPASS" list | wc -l)" -eq 30 ]
}

@test "transfer usage errors" {
	run "$FDPASS" transfer "$FROM"
	assert_failure 2
	assert_output --partial "usage: fdpass transfer"
	run "$FDPASS" transfer --bogus "$FROM" "$TO"
	assert_failure 2
	run "$FDPASS" transfer --help
	assert_success
	assert_output --partial "--move"
}
