#!/usr/bin/env bats
# status and monitor: what the broker is doing, its figures and its events
# as they happen; who may see them; and what a monitor or a STATUS flood
# can make the broker hold (each bound's test failed without the bound).

load helpers

JSONCHECK="$BATS_TEST_DIRNAME/jsoncheck.py"

setup() {
	common_setup
	BG_PIDS=()
	MON_PID=
	# A copy another uid may read (CI clones the tree into a 0700 directory).
	install -m 644 "$BATS_TEST_DIRNAME/hostile.py" "$TMP/hostile.py"
}

teardown() {
	kill_all "${BG_PIDS[@]}" "$MON_PID"
	common_teardown
}

# One member of the JSON object in file $1, by a path of keys ($2, dotted).
json_get() {
	python3 -c 'import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    v = v[k]
print("null" if v is None else v)' "$1" "$2"
}

# `fdpass status --json` into $TMP/status.json, checked against the schema.
status_json() {
	"$FDPASS" status --json "$@" >"$TMP/status.json"
	python3 "$JSONCHECK" status <"$TMP/status.json"
}

# Whether the status member $1 is $2 now (for wait_for).
status_is() {
	status_json && [ "$(json_get "$TMP/status.json" "$1")" = "$2" ]
}

# Start `fdpass monitor ARGS...` (as nobody with MON_AS=nobody), its output
# in $TMP/mon.out, and wait for its first event: it watches from then on.
start_monitor() {
	local as=()
	[ "${MON_AS:-}" != nobody ] || as=("${NOBODY[@]}")
	"${as[@]}" "$FDPASS" monitor "$@" >"$TMP/mon.out" 2>"$TMP/mon.err" 3>&- 4>&- 5>&- &
	MON_PID=$!
	wait_for_line "$TMP/mon.out" '^([0-9T:.-]+Z monitor |\{"kind":"monitor")'
}

# The kinds of the events the monitor printed, one a line, with the name
# of those that have one; connected and left left out.
mon_kinds() {
	awk '$2 != "connected" && $2 != "left" {
		name = ""
		for (i = 3; i <= NF; i++) if ($i ~ /^name=/) name = " " substr($i, 6)
		print $2 name }' "$TMP/mon.out"
}

@test "status: who and where the broker is, what it holds, and its limits" {
	start_broker --max-fds 100 --max-clients 50 --max-waiters 7 \
	    --max-monitors 3 --reserved-clients 5 --client-timeout 30
	"$FDPASS" send --file /etc/hostname --file /etc/hosts web
	status_json
	[ "$(json_get "$TMP/status.json" pid)" -eq "$BROKER_PID" ]
	[ "$(json_get "$TMP/status.json" uid)" -eq "$(id -u)" ]
	[ "$(json_get "$TMP/status.json" protocol)" -eq 2 ]
	[ "$(json_get "$TMP/status.json" address)" = "$FDPASS_SOCKET" ]
	[ "$(json_get "$TMP/status.json" groups)" -eq 1 ]
	[ "$(json_get "$TMP/status.json" fds)" -eq 2 ]
	[ "$(json_get "$TMP/status.json" clients)" -eq 1 ]
	[ "$(json_get "$TMP/status.json" took_over_from)" = null ]
	[ "$(json_get "$TMP/status.json" limits.max_fds)" -eq 100 ]
	[ "$(json_get "$TMP/status.json" limits.max_clients)" -eq 50 ]
	[ "$(json_get "$TMP/status.json" limits.reserved_clients)" -eq 5 ]
	[ "$(json_get "$TMP/status.json" limits.max_waiters)" -eq 7 ]
	[ "$(json_get "$TMP/status.json" limits.max_monitors)" -eq 3 ]
	[ "$(json_get "$TMP/status.json" limits.monitor_queue)" -eq 64 ]
	[ "$(json_get "$TMP/status.json" limits.client_timeout)" -eq 30 ]
	run "$FDPASS" status
	assert_success
	assert_line --regexp "^broker +fdpass [^ ]+, protocol 2, pid $BROKER_PID, "
	assert_line --regexp "^address +$FDPASS_SOCKET\$"
	assert_line --regexp '^groups +1, holding 2 fds of --max-fds 100$'
	assert_line --regexp '^monitors +0, 0 of other uids of --max-monitors 3;'
	# an abstract address reads as it is written
	stop_broker
	start_broker -s "@fdpass-status-$$"
	run "$FDPASS" status --json -s "@fdpass-status-$$"
	assert_success
	assert_output --partial "\"address\":\"@fdpass-status-$$\""
}

@test "status: the counts follow stores, retrievals and refusals" {
	start_broker
	status_json
	[ "$(json_get "$TMP/status.json" requests.status.served)" -eq 0 ]
	"$FDPASS" send --file /etc/hostname a
	"$FDPASS" send --file /etc/hostname --file /etc/hosts b
	run "$FDPASS" send --file /etc/hostname a
	assert_failure 1
	"$FDPASS" recv a >/dev/null
	run "$FDPASS" recv nothing
	assert_failure 1
	"$FDPASS" recv --take b >/dev/null
	"$FDPASS" delete a
	run "$FDPASS" delete a
	assert_failure 1
	"$FDPASS" list >/dev/null
	status_json
	local j=$TMP/status.json
	[ "$(json_get "$j" requests.store.served)" -eq 2 ]
	[ "$(json_get "$j" requests.store.refused)" -eq 1 ]
	# recv --take of b: a look first only when short of fds, so 2 or 3
	[ "$(json_get "$j" requests.retrieve.served)" -ge 2 ]
	[ "$(json_get "$j" requests.retrieve.refused)" -eq 1 ]
	[ "$(json_get "$j" requests.delete.served)" -eq 1 ]
	[ "$(json_get "$j" requests.delete.refused)" -eq 1 ]
	[ "$(json_get "$j" requests.list.served)" -eq 1 ]
	[ "$(json_get "$j" requests.status.served)" -eq 1 ]
	[ "$(json_get "$j" groups)" -eq 0 ]
	[ "$(json_get "$j" fds)" -eq 0 ]
	"$FDPASS" send --file /etc/hostname c
	status_json
	[ "$(json_get "$j" requests.store.served)" -eq 3 ]
	[ "$(json_get "$j" requests.status.served)" -eq 2 ]
	[ "$(json_get "$j" groups)" -eq 1 ]
	# a name only waited for is not a group held
	"$FDPASS" recv --wait=10 later >/dev/null &
	BG_PIDS+=($!)
	wait_for status_is clients 2
	[ "$(json_get "$j" groups)" -eq 1 ]
}

@test "status counts a transfer's DUMP and LOAD; monitors hear of each group it moves" {
	local to="$TMP/to.sock"
	start_broker -s "$to"
	BG_PIDS+=("$BROKER_PID")
	"$FDPASS" monitor -s "$to" >"$TMP/mon-to.out" 3>&- 4>&- 5>&- &
	BG_PIDS+=($!)
	wait_for_line "$TMP/mon-to.out" ' monitor '
	start_broker
	"$FDPASS" send --file /dev/null a
	"$FDPASS" send --file /dev/null --file /dev/null b
	"$FDPASS" send --ttl 60 --file /dev/null c
	send_nulls d 253	# so that DUMP takes two records, the first with MORE
	start_monitor
	run "$FDPASS" transfer "$FDPASS_SOCKET" "$to"
	assert_success
	wait_for_line "$TMP/mon.out" ' retrieved name=d '
	wait_for_line "$TMP/mon-to.out" ' stored name=d '
	run mon_kinds
	assert_output "monitor
retrieved a
retrieved b
retrieved c
retrieved d"
	run grep -c ' stored name=[abcd] ' "$TMP/mon-to.out"
	assert_output 4
	status_json
	[ "$(json_get "$TMP/status.json" requests.dump.served)" -eq 2 ]
	[ "$(json_get "$TMP/status.json" requests.load.served)" -eq 0 ]
	status_json -s "$to"
	[ "$(json_get "$TMP/status.json" requests.load.served)" -eq 2 ]
	[ "$(json_get "$TMP/status.json" requests.dump.served)" -eq 0 ]
	[ "$(json_get "$TMP/status.json" groups)" -eq 4 ]
}

@test "status and monitor: usage errors exit 2, no broker 3" {
	run "$FDPASS" status extra
	assert_failure 2
	assert_line --index 0 "usage: fdpass status [-v] [-s ADDR] [--trust-uid N] [--json]"
	run "$FDPASS" monitor --bogus
	assert_failure 2
	run "$FDPASS" monitor
	assert_failure 3
	assert_output --partial "cannot reach the broker at $FDPASS_SOCKET"
	run "$FDPASS" status --json
	assert_failure 3
}

@test "status and monitor: a broker without them answers UNSUPPORTED, and the client says so" {
	python3 "$BATS_TEST_DIRNAME/fakebroker.py" "$TMP/fake.sock" >"$TMP/fake.out" &
	BG_PIDS+=($!)
	wait_for_line "$TMP/fake.out" ready
	run "$FDPASS" status -s "$TMP/fake.sock"
	assert_failure 1
	assert_output "fdpass: status: the broker does not answer STATUS (an fdpass older than this one, or a peer)"
	python3 "$BATS_TEST_DIRNAME/fakebroker.py" "$TMP/fake2.sock" >"$TMP/fake2.out" &
	BG_PIDS+=($!)
	wait_for_line "$TMP/fake2.out" ready
	run "$FDPASS" monitor -s "$TMP/fake2.sock"
	assert_failure 1
	assert_output "fdpass: monitor: the broker does not answer MONITOR (an fdpass older than this one, or a peer)"
	# peer mode is no broker to watch either
	"$FDPASS" recv --peer -s "$TMP/peer.sock" >"$TMP/peer.out" 2>&1 &
	BG_PIDS+=($!)
	wait_for test -S "$TMP/peer.sock"
	run "$FDPASS" status -s "$TMP/peer.sock"
	assert_failure 1
	assert_output --partial "does not answer STATUS"
}

@test "monitor: each kind of event, in order, and the stream's end" {
	start_broker
	start_monitor
	"$FDPASS" send --file /etc/hostname web
	"$FDPASS" send --replace --ttl 60 --file /etc/hostname --file /etc/hosts web
	"$FDPASS" recv web >/dev/null
	run "$FDPASS" send --file /etc/hostname web
	assert_failure 1
	"$FDPASS" recv --take web >/dev/null
	"$FDPASS" send --file /etc/hostname gone
	"$FDPASS" delete gone
	"$FDPASS" send --ttl 1 --file /etc/hostname brief
	wait_for_line "$TMP/mon.out" ' expired name=brief '
	stop_broker
	wait_for_exit "$MON_PID"
	MON_PID=
	run mon_kinds
	assert_output "monitor
stored web
replaced web
retrieved web
refused web
taken web
stored gone
deleted gone
stored brief
expired brief
stopped"
	run cat "$TMP/mon.out"
	assert_line --index 0 --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{6}Z monitor client=1 uid=[0-9]+ gid=[0-9]+ pid=[0-9]+$'
	assert_line --regexp ' replaced name=web nfds=2 ttl=60 client=[0-9]+ uid='
	assert_line --regexp ' refused name=web op=store status=4 message="name already held" client=[0-9]+ uid='
	assert_line --regexp ' expired name=brief nfds=1$'
	assert_line --regexp ' connected client=2 uid=[0-9]+ gid=[0-9]+ pid=[0-9]+$'
	assert_line --regexp ' left client=2 uid='
	# each client's connected comes before its events and its left after
	[ "$(grep -c ' connected ' "$TMP/mon.out")" -eq "$(grep -c ' left ' "$TMP/mon.out")" ]
	[ ! -s "$TMP/mon.err" ]
}

@test "monitor --json: one object a line, as fdpass(1) documents them" {
	start_broker --max-clients 1 --reserved-clients 1
	open_tmp_to_nobody
	start_monitor --json
	"$FDPASS" send --ttl 5 --file /etc/hostname web
	"$FDPASS" recv web >/dev/null
	run "$FDPASS" recv none
	assert_failure 1
	"$FDPASS" delete web
	stop_broker
	wait_for_exit "$MON_PID"
	MON_PID=
	python3 "$JSONCHECK" events <"$TMP/mon.out"
	run cat "$TMP/mon.out"
	assert_line --regexp '^\{"kind":"stored","time":[0-9]+\.[0-9]{6},"name":"web","nfds":1,"ttl":5,"client":[0-9]+,"uid":[0-9]+,"gid":[0-9]+,"pid":[0-9]+\}$'
	assert_line --regexp '^\{"kind":"refused","time":[0-9.]+,"name":"none","op":"retrieve","status":5,"message":"no such name",'
	assert_line --regexp '^\{"kind":"stopped","time":[0-9.]+\}$'
}

@test "monitor: a refused connection is told with its uid" {
	need_root
	open_tmp_to_nobody
	start_broker --mode 0666 --max-clients 2 --allow uid=65534
	start_monitor
	HOSTILE_AS=nobody start_hostile waiters "$FDPASS_SOCKET" 1
	run timeout 10 "${NOBODY[@]}" "$FDPASS" list
	assert_failure 1
	assert_output --partial "too many clients"
	wait_for_line "$TMP/mon.out" ' refused op=connect status=8 message="the broker has too many clients \(serve --max-clients\)" uid=65534 gid=65534 pid=[0-9]+$'
	status_json
	[ "$(json_get "$TMP/status.json" refused_connections)" -eq 1 ]
	[ "$(json_get "$TMP/status.json" waiters)" -eq 1 ]
}

@test "status and monitor: the owner's and root's by default, others' by rule, names by list rights" {
	need_root
	open_tmp_to_nobody
	# all of the ops on groups, but neither status nor monitor
	start_broker --mode 0666 --allow uid=65534
	run "${NOBODY[@]}" "$FDPASS" status
	assert_failure 1
	assert_output "fdpass: status: permission denied"
	run "${NOBODY[@]}" "$FDPASS" monitor
	assert_failure 1
	assert_output "fdpass: monitor: permission denied"
	stop_broker
	printf '%s\n' 'uid=65534,ops=status+monitor' \
	    'uid=65534,ops=list+store,names=pub*' >"$TMP/rules"
	chmod 644 "$TMP/rules"
	start_broker --mode 0666 --rules "$TMP/rules"
	"${NOBODY[@]}" "$FDPASS" status --json >"$TMP/nobody.json"
	python3 "$JSONCHECK" status <"$TMP/nobody.json"
	MON_AS=nobody start_monitor
	"$FDPASS" send --file /etc/hostname secret
	"$FDPASS" send --file /etc/hostname public
	"${NOBODY[@]}" "$FDPASS" send --file /dev/null pub2
	run "${NOBODY[@]}" "$FDPASS" send --file /dev/null secret2
	assert_failure 1
	run "$FDPASS" delete nothing
	assert_failure 1
	"$FDPASS" delete secret public
	stop_broker
	wait_for_exit "$MON_PID"
	MON_PID=
	run mon_kinds
	assert_output "monitor
stored public
stored pub2
deleted public
stopped"
	# of the events without a name, its own uid's only
	run grep -c ' connected .* uid=65534 ' "$TMP/mon.out"
	assert_output 2
	run grep -c ' connected ' "$TMP/mon.out"
	assert_output 2
}

@test "monitor: one that sends anything is disconnected; it may only hang up" {
	start_broker
	run python3 "$TMP/hostile.py" monitor-talk "$FDPASS_SOCKET"
	assert_output closed
	status_json
	[ "$(json_get "$TMP/status.json" monitors)" -eq 0 ]
	[ "$(json_get "$TMP/status.json" clients)" -eq 1 ]
}

@test "monitor: one that never reads costs the broker its queue, and is told what it lost" {
	start_broker
	mkfifo "$TMP/go"
	exec 6<>"$TMP/go"
	HOSTILE_IN=$TMP/go start_hostile slow-monitor "$FDPASS_SOCKET"
	local reader=$HOSTILE_OUT before
	before=$(broker_peak_kb)
	python3 "$TMP/hostile.py" churn "$FDPASS_SOCKET" 60000 250
	# 60000 events of 290 bytes: an unbounded queue grows by 17 MB
	[ "$(broker_peak_kb)" -lt $((before + 8192)) ] ||
	    fail "peak RSS grew from $before kB to $(broker_peak_kb) kB"
	status_json
	local dropped
	dropped=$(json_get "$TMP/status.json" events_dropped)
	[ "$dropped" -gt 59000 ]
	# the monitor reads now: what was queued, then how many it lost (the
	# status client's leaving too, unless the monitor was reading by then)
	echo go >&6
	exec 6>&-
	wait_for_line "$reader" '^dropped '
	stop_broker
	wait_for_line "$reader" '^end$'
	run cat "$reader"
	assert_line --index 1 "connected"
	assert_line --index 2 "stored $(printf 'c%.0s' $(seq 250))"
	assert_line --regexp "^dropped ($dropped|$((dropped + 1)))\$"
	[ "$(tail -n 2 "$reader" | head -n 1)" = stopped ]
}

@test "monitor: one that leaves its events unread for --client-timeout is dropped; a quiet one is not" {
	start_broker --client-timeout 1
	start_hostile monitor-idle "$FDPASS_SOCKET"
	start_monitor
	# nothing happens for longer than the timeout: both stay
	sleep 2.5
	status_json
	[ "$(json_get "$TMP/status.json" monitors)" -eq 2 ]
	# events the idle one never reads: dropped after the timeout
	python3 "$TMP/hostile.py" churn "$FDPASS_SOCKET" 1000 10
	wait_for status_is monitors 1
	kill -0 "$MON_PID"
}

@test "--max-monitors bounds the monitors of other uids; the owner's still come" {
	need_root
	open_tmp_to_nobody
	start_broker --mode 0666 --max-monitors 2 --allow uid=65534,ops=monitor+status
	HOSTILE_AS=nobody start_hostile monitors "$FDPASS_SOCKET" 3
	run cat "$HOSTILE_OUT"
	assert_line --index 0 "monitor 0: status 0"
	assert_line --index 1 "monitor 1: status 0"
	assert_line --index 2 "monitor 2: status 8"
	run timeout 10 "${NOBODY[@]}" "$FDPASS" monitor
	assert_failure 1
	assert_output "fdpass: monitor: too many monitors of other users watch the broker (serve --max-monitors)"
	start_monitor
	status_json
	[ "$(json_get "$TMP/status.json" monitors)" -eq 3 ]
	[ "$(json_get "$TMP/status.json" monitors_others)" -eq 2 ]
	[ "$(json_get "$TMP/status.json" requests.monitor.refused)" -eq 2 ]
}

@test "the owner's status and monitor come through when other uids fill --max-clients" {
	need_root
	open_tmp_to_nobody
	start_broker --mode 0666 --max-clients 4 --allow uid=65534
	HOSTILE_AS=nobody start_hostile waiters "$FDPASS_SOCKET" 4
	run timeout 10 "${NOBODY[@]}" "$FDPASS" list
	assert_failure 1
	assert_output --partial "too many clients"
	run timeout 10 "$FDPASS" status
	assert_success
	assert_line --regexp '^clients +5 of --max-clients 4, and 16 more'
	start_monitor
	"$FDPASS" delete self
	wait_for_line "$TMP/mon.out" ' deleted name=self '
}

@test "a STATUS flood costs the broker one reply a client" {
	start_broker -v 2>"$TMP/log"
	local before
	before=$(broker_peak_kb)
	start_hostile flood "$FDPASS_SOCKET" 5 100
	wait_for_line "$TMP/log" '-> STATUS' 100
	run timeout 10 "$FDPASS" status
	assert_success
	# 100 clients of about 600 replies each unread: 24 MB if queued
	[ "$(broker_peak_kb)" -lt $((before + 8192)) ] ||
	    fail "peak RSS grew from $before kB to $(broker_peak_kb) kB"
}

# The events a monitor's output ($1: text, or slow-monitor's with slow)
# reports before its takeover event: those it got and those it was told
# it lost, its own first event and its own connection left out.
events_before_takeover() {
	if [ "${2:-}" = slow ]; then
		awk '/^takeover / { exit } /^dropped / { n += $2; next }
		    !/^ready$/ { n++ } END { print n }' "$1"
	else
		awk '$2 == "takeover" { exit } $2 == "monitor" { next }
		    $2 == "dropped" { sub("count=", "", $3); n += $3; next }
		    { n++ } END { print n }' "$1"
	fi
}

@test "a monitor survives a takeover, with the events it had not read and what it lost" {
	start_broker -v 2>"$TMP/old.log"
	mkfifo "$TMP/go"
	exec 6<>"$TMP/go"
	HOSTILE_IN=$TMP/go start_hostile slow-monitor "$FDPASS_SOCKET"
	local reader=$HOSTILE_OUT old=$BROKER_PID
	start_monitor 6>&-
	# more events than the socket and the slow one's queue hold
	python3 "$TMP/hostile.py" churn "$FDPASS_SOCKET" 600 250
	start_broker --takeover 6>&-
	wait_for_exit "$old"
	# its queued events went over as replies, and that it monitors
	grep -q 'TAKEOVER_READY reply .* flags=0x801 ' "$TMP/old.log"
	[ "$(grep -c 'TAKEOVER_READY reply .* flags=0x2001 ' "$TMP/old.log")" -eq 2 ]
	"$FDPASS" send --file /etc/hostname after
	wait_for_line "$TMP/mon.out" ' stored name=after '
	status_json
	[ "$(json_get "$TMP/status.json" took_over_from)" -eq "$old" ]
	[ "$(json_get "$TMP/status.json" monitors)" -eq 2 ]
	echo go >&6
	exec 6>&-
	wait_for_line "$reader" '^stored after$'
	stop_broker
	wait_for_line "$reader" '^end$'
	wait_for_exit "$MON_PID"
	MON_PID=
	# the slow one got or was told of every event the reading one got,
	# and the reading one's connection besides
	grep -q '^dropped ' "$reader"
	[ "$(events_before_takeover "$reader" slow)" -eq \
	    $(($(events_before_takeover "$TMP/mon.out") + 1)) ]
	run grep -A1 "^takeover $old\$" "$reader"
	assert_line --index 1 connected
	grep -q " takeover old_pid=$old uid=[0-9]* gid=[0-9]* pid=[0-9]*\$" "$TMP/mon.out"
	[ "$(tail -n 1 "$TMP/mon.out" | cut -d' ' -f2)" = stopped ]
}

@test "a takeover that fails after the clients leaves the monitor with the old broker" {
	start_broker -v 2>"$TMP/old.log"
	start_monitor
	"$FDPASS" send --file /etc/hostname before
	run python3 "$BATS_TEST_DIRNAME/takeover-peer.py" die-after-clients \
	    "$FDPASS_SOCKET"
	assert_success
	assert_line --regexp '^clients: [0-9]+ records, 1 fds$'
	grep -q 'TAKEOVER_READY reply .* flags=0x2001 ' "$TMP/old.log"
	"$FDPASS" send --file /etc/hostname after
	wait_for_line "$TMP/mon.out" ' stored name=after '
	status_json
	[ "$(json_get "$TMP/status.json" requests.takeover.served)" -eq 1 ]
	[ "$(json_get "$TMP/status.json" monitors)" -eq 1 ]
	stop_broker
	wait_for_exit "$MON_PID"
	MON_PID=
	run mon_kinds
	assert_output "monitor
stored before
stored after
stopped"
}

@test "a monitor the new broker's rules do not allow ends DENIED at the takeover" {
	need_root
	open_tmp_to_nobody
	start_broker --mode 0666 --allow uid=65534,ops=monitor
	MON_AS=nobody start_monitor
	local old=$BROKER_PID status=0
	start_broker --takeover --allow uid=65534,ops=list
	wait_for_exit "$old"
	wait_for_exit "$MON_PID" || status=$?
	MON_PID=
	[ "$status" -eq 1 ]
	run cat "$TMP/mon.err"
	assert_output "fdpass: monitor: permission denied"
}
