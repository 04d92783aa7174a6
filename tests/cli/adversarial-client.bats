#!/usr/bin/env bats
# The client side of "nothing lost, nobody locked out": takes into a process
# short of fds, a transfer from a broker to itself, groups deleted while
# they are listed, waits shorter than a millisecond, UTF-8 in JSON, fds the
# kernel will not pass, FIFOs nobody opened, and rules files that are not
# text.

load helpers

FAKE="$BATS_TEST_DIRNAME/fakebroker.py"
JSONCHECK="$BATS_TEST_DIRNAME/jsoncheck.py"

# Run `fdpass $2...` with the fd limit ulimit option $1 (-n N: soft and
# hard, -Sn N: soft only) set first.
with_limit() {
	local limit=$1 n=$2
	shift 2
	run bash -c 'ulimit '"$limit"' '"$n"' && exec "$0" "$@"' "$FDPASS" "$@"
}

# Start the scripted broker at $FDPASS_SOCKET with the groups given and
# wait until it listens; it serves one connection, so one started before
# is done or soon will be.
start_fake() {
	[ -z "$FAKEPROC_PID" ] || wait "$FAKEPROC_PID" || :
	coproc FAKEPROC { exec python3 "$FAKE" "$FDPASS_SOCKET" "$@"; }
	read -r -t 10 _ <&"${FAKEPROC[0]}" || fail "the scripted broker did not start"
}

@test "recv --take into a process without room for the group leaves it with the broker" {
	start_broker
	send_nulls big 253
	with_limit -n 64 recv --take big
	assert_failure 3
	message=$output
	run "$FDPASS" list --long
	assert_line --index 0 "big	fds=253"
	output=$message
	assert_output --regexp '^fdpass: recv: big: the group holds more fds than this process may still open \([0-9]+, under its fd limit of 64: see ulimit -n\); not taking it: the broker keeps it$'
	with_limit -n 64 recv big
	assert_failure 3
	assert_output --partial "the broker keeps the group"
	# a soft limit alone is raised to the hard one, as serve does
	with_limit -Sn 64 recv --take big
	assert_success
	assert_equal "${#lines[@]}" 253
	run "$FDPASS" list
	assert_output ""
}

@test "exec --take of several large groups under a low limit loses none" {
	start_broker
	for g in g1 g2 g3; do send_nulls "$g" 253; done
	with_limit -n 600 exec --take g1 g2 g3 -- true
	assert_failure 3
	message=$output
	run "$FDPASS" list --long
	assert_line "g1	fds=253"
	assert_line "g2	fds=253"
	assert_line "g3	fds=253"
	output=$message
	assert_output --partial "g3: the group holds more fds than this process may still open"
}

@test "exec --take raises its own fd limit, and hands its program the limit it was given" {
	start_broker
	for g in g1 g2 g3 g4 g5; do send_nulls "$g" 253; done
	# 1265 fds reach fd 1267: past a soft limit of 1024, the program could
	# not have them; every group goes back
	with_limit -Sn 1024 exec --take g1 g2 g3 g4 g5 -- true
	assert_failure 3
	message=$output
	run "$FDPASS" list --long
	assert_equal "$(grep -cx 'g[1-5]	fds=253' <<<"$output")" 5
	output=$message
	assert_output "fdpass: exec: true would get fd 1267, past the fd limit it runs with (1024: see ulimit -n); raise that limit, or pass fewer fds"
	# nor so near it that the program could not even load its libraries
	with_limit -Sn 1270 exec --take g1 g2 g3 g4 g5 -- true
	assert_failure 3
	assert_output "fdpass: exec: true would get fds up to 1267, leaving it fewer than 8 free under the fd limit it runs with (1270: see ulimit -n); raise that limit, or pass fewer fds"
	# a program that cannot be run: the groups go back, with the limit
	# raised again to make room for that
	run -127 bash -c 'ulimit -Sn 2048 && exec "$0" "$@"' "$FDPASS" \
	    exec --take g1 g2 g3 g4 g5 -- "$TMP/no-such-program"
	run "$FDPASS" list
	assert_output "$(printf 'g1\ng2\ng3\ng4\ng5')"
	with_limit -Sn 2048 exec --take g1 g2 g3 g4 g5 -- sh -c 'echo "$LISTEN_FDS $(ulimit -Sn)"'
	assert_success
	assert_output "1265 2048"
	run "$FDPASS" list
	assert_output ""
}

@test "a take whose fds the kernel still drops says the group is lost" {
	# looked at, the group has 1 fd; taken, 100: as if replaced meanwhile
	start_fake big=1/100
	with_limit -n 64 recv --take big
	assert_failure 3
	assert_output "fdpass: recv: big: the group is lost: the broker removed it as it handed it over, and the kernel closed its fds, for which this process had no room (fd limit 64); it held 1 fd a moment before"
}

@test "transfer from a broker to itself, however reached, is refused and changes nothing" {
	start_broker
	send_nulls a 2
	"$FDPASS" send --ttl 300 --file /etc/hostname b
	ln -s "$FDPASS_SOCKET" "$TMP/link"
	for to in "$FDPASS_SOCKET" "$TMP/link" "$TMP/../${TMP##*/}/broker.sock"; do
		run "$FDPASS" transfer --move --replace "$FDPASS_SOCKET" "$to"
		assert_failure 2
		assert_output "fdpass: transfer: $FDPASS_SOCKET and $to lead to the same broker; nothing to transfer"
	done
	run "$FDPASS" list --long
	assert_line --index 0 "a	fds=2"
	assert_line --regexp '^b	fds=1 expires_in=[0-9]+$'
	stop_broker
	export FDPASS_SOCKET="@fdpass-test-$$-$RANDOM"
	start_broker
	send_nulls a 1
	run "$FDPASS" transfer --move "$FDPASS_SOCKET" "$FDPASS_SOCKET"
	assert_failure 2
	assert_output --partial "lead to the same broker"
	run "$FDPASS" list
	assert_output a
}

@test "list --long --json leaves out a group deleted between LIST and its RETRIEVE" {
	start_fake a=1/1 b=0/0
	run "$FDPASS" list --long --json
	assert_success
	python3 "$JSONCHECK" list <<<"$output"
	assert_equal "$(python3 -c 'import json,sys; print([g["name"] for g in json.load(sys.stdin)])' <<<"$output")" "['a']"
	start_fake a=0/0 b=2/2
	run "$FDPASS" list --long --json
	assert_success
	python3 "$JSONCHECK" list <<<"$output"
	assert_equal "$(python3 -c 'import json,sys; print([(g["name"], len(g["fds"])) for g in json.load(sys.stdin)])' <<<"$output")" "[('b', 2)]"
	start_fake a=0/0
	run "$FDPASS" list --long --json
	assert_success
	assert_output "[]"
	start_fake a=1/1 b=0/0
	run "$FDPASS" list --long
	assert_success
	assert_line --index 0 "a	fds=1"
	assert_equal "${#lines[@]}" 2
}

@test "a --wait shorter than a millisecond waits a millisecond, not forever" {
	start_broker
	for wait in 0.0000009 1e-7 0.0004; do
		run timeout 10 "$FDPASS" recv -v --wait="$wait" nothing-here
		assert_failure 1
		assert_line --partial "wait=1ms"
		assert_line "fdpass: recv: nothing-here: timed out: nothing was stored under the name within $wait seconds (--wait)"
	done
	run timeout 10 "$FDPASS" exec --wait=0.0000009 nothing-here -- true
	assert_failure 1
	assert_output --partial "timed out"
	run "$FDPASS" recv --wait=0 nothing-here
	assert_failure 2
	assert_output --partial "SECONDS must be a number above 0"
}

@test "JSON keeps UTF-8 paths as they are and other bytes as \\udcNN, both ways" {
	start_broker
	: >"$TMP/café"
	: >"$TMP/$(printf 'bad\xff\xed\xa0\x80')"
	"$FDPASS" send --file "$TMP/café" --file "$TMP/$(printf 'bad\xff\xed\xa0\x80')" u
	run "$FDPASS" recv --json u
	assert_success
	python3 "$JSONCHECK" group <<<"$output"
	assert_output --partial "\"path\":\"$TMP/café\""
	assert_output --partial "\"path\":\"$TMP/bad\\udcff\\udced\\udca0\\udc80\""
	# decoding with surrogateescape gives the very bytes of each path back
	"$FDPASS" recv --json u | python3 -c '
import json, os, sys
doc = json.loads(sys.stdin.buffer.read().decode("utf-8"))
for fd in doc["fds"]:
    os.stat(fd["path"].encode("utf-8", "surrogateescape"))'
	run "$FDPASS" recv u
	assert_line --index 0 --partial "path=$TMP/café "
	assert_line --index 1 --partial "path=\"$TMP/bad\\xff\\xed\\xa0\\x80\" "
}

@test "send names the fd the kernel refuses to pass, and stores nothing" {
	start_broker
	run python3 -c '
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
params = ctypes.create_string_buffer(120)
fd = libc.syscall(425, 4, params)        # io_uring_setup on x86_64
if fd < 0 or os.uname().machine != "x86_64":
    print("no io_uring: %s" % os.strerror(ctypes.get_errno()))
    sys.exit(77)
os.dup2(fd, 7)
os.execv(sys.argv[1], [sys.argv[1], "send", "ring", "0", "7"])' "$FDPASS"
	[ "$status" -ne 77 ] || skip "$output"
	assert_failure 3
	assert_output "fdpass: send: ring: fd 7 (unknown link=anon_inode:[io_uring]) cannot be passed: the kernel refuses to send it (Invalid argument); nothing was stored"
	run "$FDPASS" list
	assert_output ""
}

@test "send --file of a FIFO never waits for the other end" {
	start_broker
	mkfifo "$TMP/fifo" "$TMP/nobody-reads"
	run timeout 10 "$FDPASS" send --file "$TMP/fifo" f
	assert_success
	run "$FDPASS" recv f
	assert_output --regexp "^0 fifo path=$TMP/fifo .* flags=rdonly$"
	run timeout 10 "$FDPASS" send --flags r,nonblock --file "$TMP/fifo" nb
	assert_success
	run "$FDPASS" recv nb
	assert_output --partial "flags=rdonly,nonblock"
	run timeout 10 "$FDPASS" send --flags w --file "$TMP/nobody-reads" w
	assert_failure 3
	assert_output "fdpass: send: $TMP/nobody-reads: a FIFO with no reader: opening it for writing only would wait for one (--flags rw does not)"
	run "$FDPASS" list
	assert_output "$(printf 'f\nnb')"
}

@test "a rules file with a NUL byte or a key given twice is refused, naming the line" {
	printf 'uid=1\nuid=2\0,ops=list\n' >"$TMP/rules"
	run "$FDPASS" serve --rules "$TMP/rules"
	assert_failure 2
	assert_output "fdpass: serve: --rules: $TMP/rules:2: a NUL byte at column 6"
	printf 'uid=1,ops=list\r\n# two\n\tuid=2,ops=list,ops=store+retrieve+delete\n' >"$TMP/rules"
	run "$FDPASS" serve --rules "$TMP/rules"
	assert_failure 2
	assert_output "fdpass: serve: --rules: $TMP/rules:3: ops= given twice"
	for spec in uid=1,names=a,names=b uid=1,uid=2 user=root,user=root; do
		run "$FDPASS" serve --allow "$spec"
		assert_failure 2
		key=${spec##*,}
		assert_output "fdpass: serve: --allow $spec: ${key%%=*}= given twice"
	done
	printf 'uid=1,ops=list\n' >"$TMP/rules"
	start_broker --rules "$TMP/rules" 2>"$TMP/log"
	printf 'uid=1,ops=list\nuid=2,ops=li\rst\n' >"$TMP/rules"
	kill -HUP "$BROKER_PID"
	wait_for_line "$TMP/log" "keeping the rules in force"
	run grep -c "$TMP/rules:2: a control character (0x0d) at column 13; keeping" "$TMP/log"
	assert_output 1
	printf 'uid=1,ops=list\n\0\n' >"$TMP/rules"
	kill -HUP "$BROKER_PID"
	wait_for_line "$TMP/log" "keeping the rules in force" 2
	run grep -c "$TMP/rules:2: a NUL byte at column 1; keeping" "$TMP/log"
	assert_output 1
}
