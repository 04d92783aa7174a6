#!/usr/bin/env bats
# delete, --take, --wait and --ttl: the life of a group in the broker.

load helpers

setup() {
	common_setup
	start_broker -v 2>"$TMP/serve.log"
}

@test "delete closes the group in the broker" {
	before=$(broker_fd_count)
	"$FDPASS" send --file /etc/hostname keep
	"$FDPASS" send --file /etc/hostname --file /etc/hosts gone
	broker_fd_count_is $((before + 3))
	run "$FDPASS" delete gone
	assert_success
	assert_output ""
	broker_fd_count_is $((before + 1))
	run "$FDPASS" list
	assert_output keep
}

@test "delete of a name not held fails after deleting the others" {
	"$FDPASS" send --file /etc/hostname a
	"$FDPASS" send --file /etc/hostname b
	run "$FDPASS" delete a nothing b
	assert_failure 1
	assert_output "fdpass: delete: nothing: no such name"
	run "$FDPASS" list
	assert_output ""
	run "$FDPASS" delete "bad:name"
	assert_failure 2
	run "$FDPASS" delete
	assert_failure 2
}

@test "recv --take retrieves the group and removes it in one step" {
	before=$(broker_fd_count)
	"$FDPASS" send --file /etc/hostname once
	broker_fd_count_is $((before + 1))
	run "$FDPASS" recv --take once
	assert_success
	assert_output --regexp '^0 file path=/etc/hostname '
	broker_fd_count_is "$before"
	run "$FDPASS" recv --take once
	assert_failure 1
	assert_output "fdpass: recv: once: no such name"
}

@test "--take by many clients at once: exactly one wins each group" {
	for round in $(seq 5); do
		"$FDPASS" send --file /etc/hostname "race$round"
		pids=()
		for i in $(seq 12); do
			"$FDPASS" recv --take "race$round" >"$TMP/out.$round.$i" 2>&1 &
			pids+=($!)
		done
		won=0
		for pid in "${pids[@]}"; do
			if wait "$pid"; then won=$((won + 1)); fi
		done
		[ "$won" -eq 1 ] || fail "round $round: $won clients took the group"
		run grep -l "^0 file path=/etc/hostname" "$TMP"/out."$round".*
		[ "${#lines[@]}" -eq 1 ]
		assert_equal "$(grep -l "no such name" "$TMP"/out."$round".* | wc -l)" 11
	done
	run "$FDPASS" list
	assert_output ""
}

@test "recv --wait blocks until the name is stored" {
	"$FDPASS" recv --wait later >"$TMP/out" 2>&1 &
	pid=$!
	wait_for_line "$TMP/serve.log" 'RETRIEVE flags=0x4\(wait\) wait=0ms name="later"'
	kill -0 "$pid"
	"$FDPASS" send --file /etc/hostname later
	wait_for_exit "$pid"
	run cat "$TMP/out"
	assert_output --regexp '^0 file path=/etc/hostname '
	run "$FDPASS" list
	assert_output later
}

@test "recv --wait=SECONDS fails with a clear message when nothing comes" {
	before=$(broker_fd_count)
	run "$FDPASS" recv --wait=0.5 never
	assert_failure 1
	assert_output "fdpass: recv: never: timed out: nothing was stored under the name within 0.5 seconds (--wait)"
	run "$FDPASS" recv --wait=1 never
	assert_output "fdpass: recv: never: timed out: nothing was stored under the name within 1 second (--wait)"
	broker_fd_count_is "$before"
	"$FDPASS" send --file /etc/hostname never
	run "$FDPASS" list
	assert_output never
}

@test "without --wait an unknown name fails at once; bad --wait values are refused" {
	run "$FDPASS" recv nothing
	assert_failure 1
	for bad in 0 -1 x 1x 5000000; do
		run "$FDPASS" recv --wait="$bad" name
		assert_failure 2
		assert_output --partial "--wait=$bad: SECONDS must be a number above 0"
	done
}

@test "every waiter without --take gets the group" {
	for i in 1 2 3; do
		"$FDPASS" recv --wait shared >"$TMP/out.$i" 2>&1 &
		pids[i]=$!
	done
	wait_for_line "$TMP/serve.log" 'RETRIEVE flags=0x4\(wait\) wait=0ms name="shared"' 3
	"$FDPASS" send --file /etc/hostname shared
	for i in 1 2 3; do
		wait_for_exit "${pids[i]}"
		run cat "$TMP/out.$i"
		assert_output --regexp '^0 file path=/etc/hostname '
	done
	run "$FDPASS" list
	assert_output shared
}

@test "--wait --take: exactly one waiter gets each group stored" {
	for i in 1 2 3; do
		"$FDPASS" recv --wait --take job >"$TMP/out.$i" 2>&1 &
		pids[i]=$!
	done
	wait_for_line "$TMP/serve.log" 'take,wait.*name="job"' 3
	for n in 1 2 3; do
		"$FDPASS" send --file /etc/hostname job
		for i in $(seq 100); do
			done_count=0
			for j in 1 2 3; do
				kill -0 "${pids[j]}" 2>/dev/null || done_count=$((done_count + 1))
			done
			[ "$done_count" -ge "$n" ] && break
			sleep 0.1
		done
		[ "$done_count" -eq "$n" ] || fail "$done_count waiters done after $n stores"
		run "$FDPASS" list
		assert_output ""
	done
	for j in 1 2 3; do
		wait "${pids[j]}"
		run cat "$TMP/out.$j"
		assert_output --regexp '^0 file path=/etc/hostname '
	done
}

@test "a waiting client that hangs up is forgotten, with nothing leaked" {
	before=$(broker_fd_count)
	"$FDPASS" recv --wait --take gone >/dev/null 2>&1 &
	pid=$!
	wait_for_line "$TMP/serve.log" 'name="gone"'
	kill -TERM "$pid"
	wait "$pid" || :
	broker_fd_count_is "$before"
	"$FDPASS" send --file /etc/hostname gone
	run "$FDPASS" list
	assert_output gone
}

@test "a group stored with --ttl closes when it expires, and list shows time left" {
	before=$(broker_fd_count)
	"$FDPASS" send --ttl 100 --file /etc/hostname long
	"$FDPASS" send --ttl 1 --file /etc/hostname short
	"$FDPASS" send --file /etc/hostname forever
	run "$FDPASS" list
	assert_line --index 0 --regexp $'^forever$'
	assert_line --index 1 --regexp $'^long\texpires_in=(100|99)$'
	assert_line --index 2 --regexp $'^short\texpires_in=1$'
	for i in $(seq 100); do
		[ "$("$FDPASS" list | wc -l)" -eq 2 ] && break
		sleep 0.1
	done
	run "$FDPASS" list
	assert_line --index 0 forever
	assert_line --index 1 --regexp $'^long\texpires_in=(9[0-9]|100)$'
	[ "${#lines[@]}" -eq 2 ]
	broker_fd_count_is $((before + 2))
}

@test "replace, delete and take cancel a TTL" {
	"$FDPASS" send --ttl 1 --file /etc/hostname replaced
	"$FDPASS" send --replace --file /etc/hosts replaced
	"$FDPASS" send --ttl 1 --file /etc/hostname deleted
	"$FDPASS" delete deleted
	"$FDPASS" send --ttl 1 --file /etc/hostname taken
	"$FDPASS" recv --take taken
	"$FDPASS" send --ttl 1 --file /etc/hostname marker
	for i in $(seq 100); do
		"$FDPASS" list | grep -q marker || break
		sleep 0.1
	done
	run "$FDPASS" list
	assert_output replaced
	run "$FDPASS" recv replaced
	assert_output --partial /etc/hosts
}

@test "bad --ttl values are refused before anything is sent" {
	for bad in 0 -5 x 1.5; do
		run "$FDPASS" send --ttl "$bad" --file /etc/hostname t
		assert_failure 2
		assert_output --partial "--ttl $bad: SECONDS must be a whole number"
	done
	run "$FDPASS" list
	assert_output ""
}

@test "exec --wait starts the program once the group is stored" {
	"$FDPASS" exec --wait web -- sh -c 'echo "$LISTEN_FDS $LISTEN_FDNAMES"' >"$TMP/out" &
	pid=$!
	wait_for_line "$TMP/serve.log" 'name="web"'
	"$FDPASS" send --file /etc/hostname web
	wait_for_exit "$pid"
	run cat "$TMP/out"
	assert_output "1 web"
}

@test "exec --take removes the groups; a failed exec --take stores them back" {
	"$FDPASS" send --file /etc/hostname --file /etc/hosts a
	run "$FDPASS" exec --take a missing -- true
	assert_failure 1
	assert_output "fdpass: exec: missing: no such name"
	run -127 "$FDPASS" exec --take a -- "$TMP/no-such-program"
	run "$FDPASS" recv a
	assert_line --index 0 --partial /etc/hostname
	assert_line --index 1 --partial /etc/hosts
	run "$FDPASS" exec --take a -- sh -c 'echo $LISTEN_FDS'
	assert_output 2
	run "$FDPASS" list
	assert_output ""
}

@test "exec --wait times out like recv" {
	run "$FDPASS" exec --wait=0.2 none -- true
	assert_failure 1
	assert_output --partial "none: timed out"
}

@test "a waiting client that sends another request is dropped" {
	run python3 "$PEER" wait-then-send "$FDPASS_SOCKET"
	assert_output closed
	run "$FDPASS" list
	assert_success
}

@test "the broker's answers to DELETE and to a WAIT with no argument" {
	run python3 "$PEER" status "$FDPASS_SOCKET" 4 nothing 2
	assert_output 5			# DELETE of a name not held
	run python3 "$PEER" short-wait "$FDPASS_SOCKET"
	assert_output 2			# MALFORMED: no room for the wait argument
}
