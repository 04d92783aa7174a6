#!/usr/bin/env bats
# DUMP and LOAD, the requests that move many groups a record (transfer's),
# and transfer with a broker that knows neither.

load helpers

BULK="$BATS_TEST_DIRNAME/bulk.py"

setup() {
	common_setup
	OLD_PIDS=()
}

teardown() {
	kill_all "${OLD_PIDS[@]}"
	common_teardown
}

# A broker without DUMP and LOAD at $1, in front of the one at $2.
start_old() {
	python3 "$BULK" old "$1" "$2" >"$TMP/old.$#" 3>&- 4>&- 5>&- &
	OLD_PIDS+=($!)
	wait_for_line "$TMP/old.$#" ready
}

@test "DUMP hands over every group, its fds and TTL, a record at a time, each name once" {
	start_broker
	python3 "$BATS_TEST_DIRNAME/hostile.py" fill "$FDPASS_SOCKET" 1500 20
	send_nulls big 253
	"$FDPASS" send --ttl 100 --file /dev/null timed
	python3 "$BULK" dump "$FDPASS_SOCKET" >"$TMP/dump"
	run tail -n 1 "$TMP/dump"
	assert_output --regexp '^records ([7-9]|[1-9][0-9])$'
	run grep -c -v '^records' "$TMP/dump"
	assert_output 1502
	run bash -c "grep -v '^records' '$TMP/dump' | cut -d' ' -f1 | LC_ALL=C sort -c && echo sorted"
	assert_output sorted
	run grep -E '^(big|timed) ' "$TMP/dump"
	assert_line --index 0 "big 253 0"
	assert_line --index 1 --regexp '^timed 1 (9[0-9]|100)$'
}

@test "LOAD stores each group as its STORE would, and answers each one's status" {
	start_broker --max-fds 20
	"$FDPASS" send --file /dev/null held
	run python3 "$BULK" load "$FDPASS_SOCKET" 2,0,new 1,0,held 1,0,bad:name \
	    1,50,timed 30,0,big
	# OK; EXISTS; BADNAME; OK; FULL (past --max-fds)
	assert_output "0 0 4 3 0 8"
	run "$FDPASS" list
	assert_output --regexp 'held'
	assert_line --index 1 new
	assert_line --index 2 --regexp '^timed	expires_in=(49|50)$'
	run python3 "$BULK" load "$FDPASS_SOCKET" -r 3,0,held
	assert_output "0 0"
	run "$FDPASS" recv held
	assert_line --index 2 --partial "2 chardev path=/dev/null"
}

@test "a LOAD whose entries do not add up is refused whole, nothing stored" {
	start_broker
	# one entry of 2 fds, 1 attached; then none at all; then too long
	run python3 "$BULK" load-raw "$FDPASS_SOCKET" 010002000000000061 1
	assert_output 2
	run python3 "$BULK" load-raw "$FDPASS_SOCKET" 010001000000000061 0
	assert_output 6
	run python3 "$BULK" load-raw "$FDPASS_SOCKET" "$(printf '00%.0s' $(seq 5000))" 1
	assert_output 2
	run "$FDPASS" list
	assert_output ""
}

@test "DUMP and LOAD give another uid only the names its rules cover" {
	need_root
	open_tmp_to_nobody
	install -m 644 "$BULK" "$TMP/bulk.py"
	start_broker --mode 0666 --allow 'uid=65534,ops=list+retrieve,names=a*' \
	    --allow 'uid=65534,ops=store,names=up*' --allow 'uid=65534,ops=list,names=b*'
	for name in a1 a2 b1 c1; do "$FDPASS" send --file /dev/null "$name"; done
	run as_nobody /usr/bin/python3 "$TMP/bulk.py" dump "$FDPASS_SOCKET"
	assert_output "$(printf 'a1 1 0\na2 1 0\nrecords 1')"
	run as_nobody /usr/bin/python3 "$TMP/bulk.py" load "$FDPASS_SOCKET" 1,0,up1 1,0,c2
	assert_output "0 0 10"
	run "$FDPASS" list
	assert_output "$(printf 'a1\na2\nb1\nc1\nup1')"
}

@test "peer mode, which takes one group, answers LOAD UNSUPPORTED" {
	start_peer recv --peer -s "$TMP/peer.sock"
	run python3 "$BULK" load "$TMP/peer.sock" 1,0,one 1,0,two
	assert_output 9
	local rc=0
	wait_for_exit "$PEER_PID" || rc=$?
	PEER_PID=
	assert_equal "$rc" 3
	run cat "$TMP/peer.err"
	assert_output --partial "the sender left without storing a group"
}

@test "transfer with a broker that knows no DUMP or LOAD lists, retrieves and stores instead" {
	start_broker
	local a=$BROKER_PID
	python3 "$BATS_TEST_DIRNAME/hostile.py" fill "$FDPASS_SOCKET" 600 12
	"$FDPASS" send --ttl 500 --file /dev/null --file /dev/null timed
	export FDPASS_SOCKET="$TMP/to.sock"
	"$FDPASS" serve 3>&- 4>&- 5>&- &
	OLD_PIDS+=($!)
	wait_for test -S "$TMP/to.sock"
	start_old "$TMP/old-from.sock" "$TMP/broker.sock"
	start_old "$TMP/old-to.sock" "$TMP/to.sock"
	# FROM without DUMP: LIST and RETRIEVE; TO without LOAD: STORE
	run "$FDPASS" transfer "$TMP/old-from.sock" "$TMP/old-to.sock"
	assert_success
	run "$FDPASS" list -s "$TMP/to.sock"
	assert_line --index 0 --partial 000000-
	assert_line --index 600 --regexp '^timed	expires_in=(4[0-9][0-9]|500)$'
	[ "${#lines[@]}" -eq 601 ]
	run "$FDPASS" recv -s "$TMP/to.sock" timed
	assert_line --index 1 --partial "1 chardev path=/dev/null"
	# --move through them: FROM emptied, TO replaced
	run "$FDPASS" transfer --move --replace "$TMP/old-from.sock" "$TMP/old-to.sock"
	assert_success
	run "$FDPASS" list -s "$TMP/broker.sock"
	assert_output ""
	BROKER_PID=$a
}
