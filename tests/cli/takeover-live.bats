#!/usr/bin/env bats
# serve --takeover's live copy: the running broker copies its groups to the
# new one while it still serves, then, paused, sends what changed behind
# the copy; the new broker ends with exactly what the old one held at the
# pause. tests/cli/takeover-peer.py's live mode stands in for a new broker
# that holds the copy open (reading nothing) until the test says so.

load helpers

TPEER="$BATS_TEST_DIRNAME/takeover-peer.py"

setup() {
	common_setup
	PEER_PID=
	# no -v: under valgrind, logging each request would outlast the
	# copy's 10 s in the test that stores 4,500 names behind it
	start_broker --max-fds 15000 2>"$TMP/old.log"
	# 8000 groups of 1 fd, every seventh with a TTL: more than the
	# handover socket holds unread (net.unix.max_dgram_qlen records)
	python3 - "$FDPASS_SOCKET" <<-'EOF'
	import os, socket, struct, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
	s.connect(sys.argv[1])
	null = os.open("/dev/null", os.O_RDONLY)
	for i in range(8000):
	    ttl = 1000 + i if i % 7 == 0 else 0
	    head = struct.pack("=IHHII", 0x66647073, 2, 1, 0x8 if ttl else 0, 0)
	    s.sendmsg([head + (struct.pack("=I", ttl) if ttl else b"") +
	               b"g%04d" % i], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
	               struct.pack("i", null))])
	    assert struct.unpack("=IHHII", s.recv(100)[:16])[4] == 0
	EOF
}

teardown() {
	kill_all "$PEER_PID"
	common_teardown
}

# Start the fake new broker (takeover-peer.py live, extra arguments $@) and
# wait until it holds the copy open; LIVE_START is when it asked.
start_live_peer() {
	LIVE_START=$SECONDS
	python3 "$TPEER" live "$FDPASS_SOCKET" "$TMP/go" "$TMP/copy" "$@" \
	    >"$TMP/peer.out" 2>&1 3>&- 4>&- 5>&- &
	PEER_PID=$!
	wait_for_line "$TMP/peer.out" '^copying$'
}

# Let the fake new broker read the rest and wait for it to be done.
finish_live_peer() {
	touch "$TMP/go"
	wait_for_exit "$PEER_PID"
	PEER_PID=
}

# The fake new broker (started with complete) takes the rest and the
# clients, and says TAKEOVER_DONE: the old broker exits 0.
finish_live_takeover() {
	finish_live_peer
	run cat "$TMP/peer.out"
	assert_output "copying
restarts 0
done"
	wait_for_exit "$BROKER_PID"
	assert_equal "$?" 0
	BROKER_PID=
}

# The copy the fake new broker took ($TMP/copy) is what the broker holds
# now: the same names with the same fd counts, and TTLs apart by no more
# than the time since the copy began (a record read late says the time
# left when it was sent), give or take a second.
copy_is_held() {
	local slack=$((SECONDS - LIVE_START + 1))

	"$FDPASS" list --json >"$TMP/held.json"
	run python3 - "$TMP/held.json" "$TMP/copy" "$slack" <<-'EOF'
	import json, sys
	held = {g["name"]: g for g in json.load(open(sys.argv[1]))}
	copy = {}
	for line in open(sys.argv[2]):
	    name, nfds, expires = line.split()
	    copy[name] = (int(nfds), int(expires))
	assert held.keys() == copy.keys(), sorted(held.keys() ^ copy.keys())[:10]
	for name, g in held.items():
	    nfds, expires = copy[name]
	    assert g["nfds"] == nfds, (name, g["nfds"], nfds)
	    if g["expires_in"] is None:
	        assert expires == 0, name
	    else:
	        assert 0 <= expires - g["expires_in"] <= int(sys.argv[3]), \
	            (name, expires, g)
	print("same", len(held))
	EOF
	assert_success
}

@test "a live copy: the broker serves on while it copies; the copy ends as what it held at the pause" {
	start_live_peer
	# behind the copy (it stopped a few records in) and ahead of it
	for i in 0010 0011 0012; do
		timeout 10 "$FDPASS" send --replace --file /etc/hosts \
		    --file /etc/hostname "g$i"
	done
	timeout 10 "$FDPASS" delete g0020 g0021 g7010 g7011
	timeout 10 "$FDPASS" recv --take g0030 >/dev/null
	timeout 10 "$FDPASS" send --replace --ttl 500 --file /etc/hosts g0040
	timeout 10 "$FDPASS" send --replace --file /etc/hosts --file /etc/hosts \
	    --file /etc/hosts g7000
	timeout 10 "$FDPASS" send --file /etc/hosts a-new
	timeout 10 "$FDPASS" send --file /etc/hosts z-new
	run timeout 10 "$FDPASS" list
	assert_success
	[ "${#lines[@]}" -eq 7997 ]
	finish_live_peer
	run cat "$TMP/peer.out"
	assert_output "copying
restarts 0"
	wait_for_line "$TMP/old.log" "failed halfway; serving on"
	copy_is_held
	assert_output "same 7997"
	run "$FDPASS" recv g0011
	assert_line --index 0 --regexp '^0 file path=/etc/hosts '
	stop_broker
}

@test "all sent, the broker serves on until the new broker has read the copy, then pauses" {
	# ten groups left: the whole copy fits in the socket at once, and the
	# fake new broker reads none of it until told
	"$FDPASS" list | cut -f1 | sed 1,10d | xargs "$FDPASS" delete
	start_live_peer complete
	run timeout 5 "$FDPASS" list
	assert_success
	[ "${#lines[@]}" -eq 10 ]
	timeout 5 "$FDPASS" delete g0000
	timeout 5 "$FDPASS" send --file /etc/hosts g0001-after
	finish_live_takeover
	run cut -d' ' -f1,2 "$TMP/copy"
	assert_output "g0001 1
g0001-after 1
g0002 1
g0003 1
g0004 1
g0005 1
g0006 1
g0007 1
g0008 1
g0009 1"
}

@test "a live copy that kept too many changed names starts again, and still ends exact" {
	start_live_peer
	# 4,500 names of 250 bytes stored behind the copy: past the 1 MiB of
	# changed names it keeps
	python3 - "$FDPASS_SOCKET" <<-'EOF'
	import os, socket, struct, sys
	s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
	s.connect(sys.argv[1])
	null = os.open("/dev/null", os.O_RDONLY)
	head = struct.pack("=IHHII", 0x66647073, 2, 1, 0, 0)
	for i in range(4500):
	    s.sendmsg([head + (b"a%05d" % i).ljust(250, b"a")],
	              [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", null))])
	    if i % 64 == 63:
	        for _ in range(64):
	            assert struct.unpack("=IHHII", s.recv(100)[:16])[4] == 0
	for _ in range(4500 % 64):
	    assert struct.unpack("=IHHII", s.recv(100)[:16])[4] == 0
	EOF
	finish_live_peer
	run cat "$TMP/peer.out"
	assert_output --regexp '^copying
restarts [1-9][0-9]*$'
	copy_is_held
	assert_output "same 12500"
	stop_broker
}

@test "a second takeover while a live copy runs is told BUSY; the first goes on" {
	start_live_peer complete
	run timeout 30 "$FDPASS" serve --takeover -s "$FDPASS_SOCKET"
	assert_failure 1
	assert_output "fdpass: serve: --takeover: another takeover of the broker is under way"
	finish_live_takeover
}

@test "SIGTERM during a live copy hands over at once rather than stop" {
	"$FDPASS" list >"$TMP/before"
	start_live_peer complete
	kill -TERM "$BROKER_PID"
	finish_live_takeover
	cut -f1 "$TMP/before" >"$TMP/names"
	run diff "$TMP/names" <(cut -d' ' -f1 "$TMP/copy")
	assert_success
}

@test "a new broker that never reads the copy costs the broker its copy's bounds, no more" {
	start_live_peer
	# the copy's 10 s, then 10 s for the pause's step: serving all along
	# until the pause
	run timeout 5 "$FDPASS" list
	assert_success
	[ "${#lines[@]}" -eq 8000 ]
	wait_for_line_within 40 "$TMP/old.log" "failed halfway; serving on"
	timeout 10 "$FDPASS" send --file /etc/hosts after
	run "$FDPASS" list
	[ "${#lines[@]}" -eq 8001 ]
	stop_broker
}

@test "a new broker that hangs up during a live copy ends it; nothing is lost or left open" {
	before=$(broker_fd_count)
	start_live_peer
	kill -KILL "$PEER_PID"
	wait "$PEER_PID" || :
	PEER_PID=
	wait_for_line "$TMP/old.log" "failed halfway; serving on"
	broker_fd_count_is "$before"
	run "$FDPASS" list
	[ "${#lines[@]}" -eq 8000 ]
	stop_broker
}
