#!/usr/bin/env bats
# Debugging by hand: peer mode (--listen), recv --cat, and -v.

load helpers

@test "recv --listen takes one send, describes it and exits" {
	start_peer recv --listen -s "$TMP/peer.sock"
	send_to_peer --file /etc/hostname --listen tcp:127.0.0.1:0 hello
	wait_for_exit "$PEER_PID"
	run cat "$TMP/peer.out"
	assert_line --index 0 --regexp '^0 file path=/etc/hostname '
	assert_line --index 1 --regexp '^1 socket .*listening=yes'
	[ ! -e "$TMP/peer.sock" ]
}

@test "recv --peer --json names the group the sender gave" {
	start_peer recv --peer --json -s "$TMP/peer.sock"
	send_to_peer --file /etc/hostname "given name"
	wait_for_exit "$PEER_PID"
	run python3 "$BATS_TEST_DIRNAME/jsoncheck.py" group <"$TMP/peer.out"
	assert_success
	run cat "$TMP/peer.out"
	assert_output --regexp '^\{"name":"given name","nfds":1,"fds":\[\{"kind":"file"'
}

@test "exec --peer runs the program with the fds one send stored" {
	start_peer exec --peer -s "$TMP/peer.sock" -- sh -c 'echo "$LISTEN_FDS $LISTEN_FDNAMES"; cat <&3'
	send_to_peer --file /etc/hostname host
	wait_for_exit "$PEER_PID"
	run cat "$TMP/peer.out"
	assert_line --index 0 "1 host"
	assert_line --index 1 "$(head -n1 /etc/hostname)"
}

@test "the peer answers other requests as a broker would until the store" {
	start_peer recv --peer -s "$TMP/peer.sock"
	run python3 "$BATS_TEST_DIRNAME/peer.py" status "$TMP/peer.sock" 2 x 2
	assert_output 5			# RETRIEVE of a name not held: NOENT
	peer_status=0
	wait_for_exit "$PEER_PID" || peer_status=$?
	[ "$peer_status" -eq 3 ]
	run cat "$TMP/peer.err"
	assert_output "fdpass: recv: the sender left without storing a group"
}

@test "peer mode refuses a NAME, --take, --wait and --fd" {
	run "$FDPASS" recv --peer -s "$TMP/peer.sock" name
	assert_failure 2
	run "$FDPASS" recv --peer --take -s "$TMP/peer.sock"
	assert_failure 2
	assert_output --partial "--take and --wait are for a broker"
	run "$FDPASS" exec --peer -s "$TMP/peer.sock" name -- true
	assert_failure 2
	assert_output --partial "--peer takes no group NAME"
	run "$FDPASS" exec --peer --wait -s "$TMP/peer.sock" -- true
	assert_failure 2
	assert_output --partial "--take, --wait and --fd are for a broker"
	run "$FDPASS" exec --peer --fd 0=x -s "$TMP/peer.sock" -- true
	assert_failure 2
	[ ! -e "$TMP/peer.sock" ]
}

@test "recv --cat copies a file from its offset and leaves the offset alone" {
	start_broker
	printf 'line one\nline two\n' >"$TMP/f"
	exec 5<"$TMP/f"
	read -r _ <&5
	"$FDPASS" send f 5
	exec 5<&-
	run "$FDPASS" recv --cat f
	assert_output "line two"
	"$FDPASS" recv --cat f >"$TMP/copy"		# stdout a file, not a pipe
	run cat "$TMP/copy"
	assert_output "line two"
	run "$FDPASS" recv f
	assert_output --regexp 'offset=9 '
}

@test "recv --cat copies what a pipe and a socket hold until their writers close" {
	start_broker
	printf 'through a pipe' | "$FDPASS" send p
	run "$FDPASS" recv --cat p
	assert_output "through a pipe"
	python3 -c '
import os, socket, sys
a, b = socket.socketpair()
b.sendall(b"through a socket"); b.close()
os.set_inheritable(a.fileno(), True)
os.execv(sys.argv[1], [sys.argv[1], "send", "s", str(a.fileno())])' "$FDPASS"
	"$FDPASS" recv --cat s >"$TMP/s"
	run cat "$TMP/s"
	assert_output "through a socket"
}

@test "recv --cat of an fd that cannot be read fails clearly" {
	start_broker
	"$FDPASS" send --flags w,create --file "$TMP/w" wo
	run "$FDPASS" recv --cat wo
	assert_failure 3
	assert_output "fdpass: recv: --cat: fd 0 (file) cannot be read: Bad file descriptor"
}

@test "-v logs each protocol step of every command" {
	start_broker -v 2>"$TMP/serve.log"
	run "$FDPASS" send -v --ttl 5 --file /etc/hostname web
	assert_line --index 0 --regexp '^fdpass: send: -> STORE flags=0x8\(ttl\) ttl=5s name="web" fds=1 \[[0-9]+\]$'
	assert_line --index 1 'fdpass: send: <- STORE reply status=0 (success) flags=0x0 fds=0'
	run "$FDPASS" recv -v --take web
	assert_line --index 0 'fdpass: recv: -> RETRIEVE flags=0x2(take) name="web" fds=0'
	assert_line --index 1 --regexp '^fdpass: recv: <- RETRIEVE reply status=0 \(success\) flags=0x0 fds=1 \[[0-9]+\]$'
	run "$FDPASS" list -v
	assert_output --partial 'fdpass: list: -> LIST flags=0x0 fds=0'
	run "$FDPASS" delete -v web
	assert_line --index 0 'fdpass: delete: -> DELETE flags=0x0 name="web" fds=0'
	assert_line --index 1 'fdpass: delete: <- DELETE reply status=5 (no such name) flags=0x0 fds=0'
	run "$FDPASS" exec -v web -- true
	assert_line --index 0 'fdpass: exec: -> RETRIEVE flags=0x0 name="web" fds=0'
	wait_for_line "$TMP/serve.log" 'client [0-9]+ -> DELETE flags=0x0 name="web" fds=0'
	run grep -E 'client [0-9]+ <- STORE reply status=0' "$TMP/serve.log"
	assert_success
}

# stderr is shared with the programs fdpass runs (run's instances, exec's
# program after a failed exec): a message written in pieces could be cut
# by theirs.
@test "each message and -v line reaches stderr in one write" {
	command -v strace >/dev/null || skip "strace is not installed"
	start_broker
	# (LeakSanitizer cannot run under ptrace: an ASan build's is off here)
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	    run strace -qq -e trace=write -e signal=none -s 4096 \
	    -o "$TMP/trace" "$FDPASS" recv -v web
	assert_failure 1
	run grep '^write(2, ' "$TMP/trace"
	assert_line --index 0 --regexp '^write\(2, "fdpass: recv: -> RETRIEVE flags=0x0 name=\\"web\\" fds=0\\n", [0-9]+\) += [0-9]+$'
	assert_line --index 1 --regexp '^write\(2, "fdpass: recv: <- RETRIEVE reply status=5 \(no such name\) flags=0x0 fds=0\\n", [0-9]+\) += [0-9]+$'
	assert_line --index 2 --regexp '^write\(2, "fdpass: recv: [^"]*web[^"]*\\n", [0-9]+\) += [0-9]+$'
	[ "${#lines[@]}" -eq 3 ]
}

@test "-v says when no reply came" {
	python3 "$BATS_TEST_DIRNAME/peer.py" die-mid-request "$TMP/fake.sock" >"$TMP/ready" &
	for i in $(seq 100); do [ -s "$TMP/ready" ] && break; sleep 0.1; done
	run "$FDPASS" list -v -s "$TMP/fake.sock"
	assert_failure 3
	assert_line --index 1 'fdpass: list: <- no reply: peer closed the connection'
}
