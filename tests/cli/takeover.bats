#!/usr/bin/env bats
# serve --takeover: a new broker takes the running one's place, its socket,
# groups and clients, without a request failing; or is refused, and the
# running broker serves on unharmed.

load helpers

TPEER="$BATS_TEST_DIRNAME/takeover-peer.py"

setup() {
	common_setup
	OLD_PID=
	LOAD_PID=
	start_broker -v 2>"$TMP/old.log"
}

teardown() {
	kill_all "$OLD_PID" "$LOAD_PID"
	common_teardown
}

# A steady stream of requests, a store and a retrieve at a time, until
# $TMP/stop exists (at most 5000 pairs): the pairs done go to
# $TMP/progress, the failures counted to $TMP/load.result.
client_load() {
	local i=0 failed=0
	while [ ! -e "$TMP/stop" ] && [ "$i" -lt 5000 ]; do
		i=$((i + 1))
		"$FDPASS" send --file /etc/hostname "load$i" \
		    2>>"$TMP/load.err" || failed=$((failed + 1))
		"$FDPASS" recv "load$i" >/dev/null 2>>"$TMP/load.err" ||
		    failed=$((failed + 1))
		echo "$i" >"$TMP/progress"
	done
	echo "$i $failed" >"$TMP/load.result"
}

# Wait up to 30 s for the load to have done at least $1 pairs.
wait_for_progress() {
	local i
	for i in $(seq 300); do
		[ "$(cat "$TMP/progress" 2>/dev/null || echo 0)" -ge "$1" ] &&
		    return 0
		sleep 0.1
	done
	fail "the client load did not reach $1 pairs"
}

# Start a broker that takes over the running one; $OLD_PID is the old one.
take_over() {
	OLD_PID=$BROKER_PID
	start_broker --takeover -v 2>"$TMP/new.log"
}

# Take over a fake old broker, python3 script $1 in mode $2, at
# $TMP/fake.sock: the takeover must fail with exit 3 and leave the fake's
# socket file; its message is in $output.
take_over_fake() {
	python3 "$1" "$2" "$TMP/fake.sock" >"$TMP/peer.out" &
	local peer=$!
	wait_for_line "$TMP/peer.out" ready
	run "$FDPASS" serve --takeover -s "$TMP/fake.sock"
	assert_failure 3
	wait "$peer"
	[ -S "$TMP/fake.sock" ]
}

@test "takeover under a steady stream of requests: not one fails" {
	"$FDPASS" send --ttl 300 --file /etc/hostname --file /etc/hosts timed
	"$FDPASS" send --file /etc/hostname plain
	client_load &
	LOAD_PID=$!
	wait_for_progress 20
	take_over
	wait_for_exit "$OLD_PID"
	OLD_PID=
	grep -q "serves now; exiting" "$TMP/old.log"
	wait_for_progress $(($(cat "$TMP/progress") + 20))
	touch "$TMP/stop"
	wait "$LOAD_PID"
	LOAD_PID=
	read -r pairs failed <"$TMP/load.result"
	echo "pairs=$pairs failed=$failed"
	[ "$failed" -eq 0 ]
	[ ! -s "$TMP/load.err" ]
	run "$FDPASS" list
	assert_line plain
	assert_line --regexp '^timed	expires_in=(2[0-9][0-9]|300)$'
	[ "$(echo "$output" | grep -c '^load')" -eq "$pairs" ]
	run "$FDPASS" recv timed
	assert_line --index 1 --regexp '^1 file path=/etc/hosts '
	stop_broker
	[ ! -e "$FDPASS_SOCKET" ]
}

@test "clients connected to the old broker are served by the new one" {
	"$FDPASS" send --file /etc/hostname here
	"$FDPASS" recv --wait=60 later >"$TMP/waiter.out" 2>&1 &
	waiter=$!
	python3 "$TPEER" list-twice "$FDPASS_SOCKET" "$TMP/go" >"$TMP/lister.out" &
	lister=$!
	wait_for_line "$TMP/old.log" 'RETRIEVE flags=0x4\(wait\)'
	wait_for_line "$TMP/lister.out" '^list 1'
	take_over
	wait_for_exit "$OLD_PID"
	OLD_PID=
	"$FDPASS" send --file /etc/hosts later
	wait "$waiter"
	run cat "$TMP/waiter.out"
	assert_output --regexp '^0 file path=/etc/hosts '
	touch "$TMP/go"
	wait "$lister"
	run cat "$TMP/lister.out"
	assert_line --index 1 --regexp '^list 2: [0-9]+ bytes$'
	grep -q 'client [0-9]* -> LIST' "$TMP/new.log"
}

@test "replies queued for a client that does not read go to the new broker" {
	long=$(printf 'n%.0s' {1..250})
	for i in $(seq 300); do
		"$FDPASS" send --file /etc/hostname "$long$i"
	done
	python3 "$TPEER" flood "$FDPASS_SOCKET" 30 "$TMP/go" >"$TMP/flood.out" &
	flood=$!
	wait_for_line "$TMP/flood.out" '^sent$'
	wait_for_line "$TMP/old.log" '<- LIST reply .* flags=0x1\(more\)' 2
	take_over
	wait_for_exit "$OLD_PID"
	OLD_PID=
	grep -q 'TAKEOVER_READY reply .* flags=0x801' "$TMP/old.log"
	touch "$TMP/go"
	wait "$flood"
	run cat "$TMP/flood.out"
	assert_line --index 1 "answers: 30 sizes: 1"
	grep -q 'client [0-9]* -> LIST' "$TMP/new.log"
}

@test "takeover by another user is refused; the old broker serves on" {
	before=$(($(broker_fd_count) + 1))
	"$FDPASS" send --file /etc/hostname kept
	broker_fd_count_is "$before"
	chmod 755 "$TMP"
	chmod 666 "$FDPASS_SOCKET"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$FDPASS" serve --takeover
	assert_failure 1
	assert_output "fdpass: serve: --takeover: takeover refused: only the broker's own user or root may take it over"
	grep -q "takeover refused" "$TMP/old.log"
	broker_fd_count_is "$before"
	run "$FDPASS" list
	assert_output kept
	stop_broker
}

@test "only the broker's own user or root takes it over" {
	stop_broker
	chmod 1777 "$TMP"
	sock="$TMP/nobody.sock"
	mkfifo "$TMP/nobody.ready"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$FDPASS" serve -s "$sock" --ready-fd 3 3>"$TMP/nobody.ready" \
	    2>/dev/null 4>&- 5>&- &
	OLD_PID=$!
	# generous: under CI's valgrind stage this broker starts slowly
	read -r -t 60 _ <"$TMP/nobody.ready" || fail "nobody's broker did not become ready"
	# root's clients trust a broker of nobody's only when told to
	"$FDPASS" send --trust-uid 65534 -s "$sock" --file /etc/hostname theirs
	chmod 666 "$sock"
	run setpriv --reuid=65533 --regid=65533 --clear-groups \
	    "$FDPASS" serve --takeover -s "$sock"
	assert_failure 1
	assert_output "fdpass: serve: --takeover: the broker at $sock runs as another user; only that user or root may take it over"
	run "$FDPASS" list --trust-uid 65534 -s "$sock"
	assert_output theirs
	# root may take over anyone's broker, without --trust-uid
	start_broker --takeover -s "$sock"
	wait_for_exit "$OLD_PID"
	OLD_PID=
	run "$FDPASS" list -s "$sock"
	assert_output theirs
}

@test "takeover in another protocol version is refused cleanly" {
	before=$(($(broker_fd_count) + 1))
	"$FDPASS" send --file /etc/hostname kept
	broker_fd_count_is "$before"
	run python3 "$TPEER" version99 "$FDPASS_SOCKET"
	assert_output "version 2 status 1"
	broker_fd_count_is "$before"
	run "$FDPASS" list
	assert_output kept
	take_over_fake "$PEER" other-version
	assert_output "fdpass: serve: --takeover: the running broker speaks protocol version 99, this fdpass speaks 2; it serves on"
	stop_broker
}

@test "an old broker that sends what does not parse is not taken over" {
	take_over_fake "$TPEER" bad-old
	assert_output "fdpass: serve: --takeover failed: peer does not speak the fdpass protocol; the running broker serves on"
}

@test "a new broker that fails halfway leaves the old one with everything" {
	# three fds in groups and the waiting client's connection
	before=$(($(broker_fd_count) + 4))
	"$FDPASS" send --ttl 300 --file /etc/hostname timed
	"$FDPASS" send --file /etc/hostname --file /etc/hosts two
	"$FDPASS" recv --wait=60 later >"$TMP/waiter.out" 2>&1 &
	waiter=$!
	wait_for_line "$TMP/old.log" 'RETRIEVE flags=0x4\(wait\)'
	broker_fd_count_is "$before"
	run python3 "$TPEER" die-after-state "$FDPASS_SOCKET"
	assert_output "state: 4 records, 4 fds"
	run python3 "$TPEER" die-after-state-batch "$FDPASS_SOCKET"
	assert_output "state: 3 records, 4 fds"
	run python3 "$TPEER" die-after-clients "$FDPASS_SOCKET"
	assert_line --index 1 "clients: 2 records, 1 fds"
	wait_for_line "$TMP/old.log" "failed halfway; serving on" 2
	broker_fd_count_is "$before"
	run "$FDPASS" list
	assert_line --index 0 --regexp '^timed	expires_in=[0-9]+$'
	assert_line --index 1 two
	"$FDPASS" send --file /etc/hosts later
	wait "$waiter"
	run cat "$TMP/waiter.out"
	assert_output --regexp '^0 file path=/etc/hosts '
	stop_broker
}

@test "a peer (recv --listen), which has no takeover, answers UNSUPPORTED" {
	start_peer recv --listen -s "$TMP/peer.sock"
	run "$FDPASS" serve --takeover -s "$TMP/peer.sock"
	assert_failure 1
	assert_output "fdpass: serve: --takeover: operation not supported by the broker"
	wait "$PEER_PID" || :
	run cat "$TMP/peer.err"
	assert_output "fdpass: recv: the sender left without storing a group"
}

@test "--takeover with no broker to take over, or with --fdstore" {
	stop_broker
	run "$FDPASS" serve --takeover
	assert_failure 3
	assert_output --partial "cannot reach the broker at $FDPASS_SOCKET"
	run "$FDPASS" serve --takeover --fdstore
	assert_failure 2
	assert_output "fdpass: serve: --fdstore and --takeover do not go together"
}

@test "the new broker judges by its own rules: a waiter they deny hears so" {
	need_root
	stop_broker
	open_tmp_to_nobody
	start_broker --mode 0666 --allow uid=65534,ops=retrieve+list,names=web \
	    -v 2>"$TMP/old.log"
	as_nobody "$FDPASS" recv --wait=30 web >"$TMP/out" 2>&1 &
	pid=$!
	wait_for_line "$TMP/old.log" 'name="web"'
	take_over		# with no --allow: its own uid and root only
	wait_for_exit "$OLD_PID"
	OLD_PID=
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	run cat "$TMP/out"
	assert_output "fdpass: recv: web: permission denied"
	run as_nobody "$FDPASS" list
	assert_failure 1
	assert_output "fdpass: list: permission denied"
}

@test "a takeover of many groups hands over every group, its fds and its TTL" {
	python3 - "$FDPASS_SOCKET" <<'EOF'
import os, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
null = os.open("/dev/null", os.O_RDONLY)
def store(name, nfds, ttl):
    head = struct.pack("=IHHII", 0x66647073, 2, 1, 0x8 if ttl else 0, 0)
    arg = struct.pack("=I", ttl) if ttl else b""
    s.sendmsg([head + arg + name], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
               struct.pack("%di" % nfds, *[null] * nfds))])
    assert struct.unpack("=IHHII", s.recv(100)[:16])[4] == 0
for i in range(3000):
    store(b"g%04d" % i, 1 + i % 4, 1000 + i if i % 3 == 0 else 0)
store(b"big", 253, 0)
store(b"n" * 255, 2, 5000)
EOF
	"$FDPASS" list --json >"$TMP/before"
	take_over
	wait_for_exit "$OLD_PID"
	OLD_PID=
	"$FDPASS" list --json >"$TMP/after"
	run python3 - "$TMP/before" "$TMP/after" <<'EOF'
import json, sys
before, after = ({g["name"]: g for g in json.load(open(p))} for p in sys.argv[1:])
assert len(before) == 3002, len(before)
assert before.keys() == after.keys(), "names differ"
for name, g in before.items():
    h = after[name]
    assert h["nfds"] == g["nfds"], name
    if g["expires_in"] is None:
        assert h["expires_in"] is None, name
    else:
        assert 0 <= g["expires_in"] - h["expires_in"] <= 5, name
print("all", len(after))
EOF
	assert_success
	assert_output "all 3002"
	run "$FDPASS" recv big
	assert_line --index 252 --partial "252 chardev path=/dev/null"
}
