#!/usr/bin/env bats
# fdpass describe (what a process inherited, what another process holds)
# and send --pid (adopting another process's fds without stopping it).

load helpers

HOLDFDS="$BATS_TEST_DIRNAME/holdfds.py"
NOGETFD="$BATS_TEST_DIRNAME/nogetfd.py"
JSONCHECK="$BATS_TEST_DIRNAME/jsoncheck.py"

# Answers every connection with "hello from PID" and closes it: on the fd
# LISTEN_FDS gives it, or on a fresh listener whose port it writes to $1.
SERVER='import os, socket, sys
if os.environ.get("LISTEN_FDS") == "1":
    s = socket.socket(fileno=3)
else:
    s = socket.create_server(("127.0.0.1", 0))
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write("%d\n" % s.getsockname()[1])
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    c.sendall(b"hello from %d\n" % os.getpid())
    c.close()'

setup() {
	common_setup
	export FDPASS
	HOLDER_PID=
	SERVER_PID=
}

teardown() {
	kill_all "$HOLDER_PID" "$SERVER_PID"
	common_teardown
}

# Start holdfds.py (as whoever "$@" says, before it) and wait until it holds
# its fds; HOLDER_PID is then its pid and HOLDER_FDS lists its fds:
# listener, pipe read and write ends, memfd, socket pair.
start_holder() {
	mkdir -m 777 "$TMP/holder"
	"$@" /usr/bin/python3 "$TMP/holdfds.py" ${HOLD_SEND:+--send "$HOLD_SEND"} \
	    ${HOLD_DUPS:+--dups "$HOLD_DUPS"} "$TMP/holder/fds" >/dev/null \
	    2>"$TMP/holder.err" &
	wait_for test -s "$TMP/holder/fds"
	read -r HOLDER_PID HOLDER_FDS <"$TMP/holder/fds"
}

# Run a command with only fds 0, 1 and 2 open, so that every other fd it
# shows is one it was given.
std_fds_only() {
	python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# Whether process $1 has two threads.
two_threads() {
	[ "$(ls "/proc/$1/task" | wc -l)" -eq 2 ]
}

# The lines of describe or recv output with their first field (the fd or the
# index) cut off.
strip_first() {
	sed 's/^[0-9]* //'
}

@test "describe names each fd it inherited through LISTEN_FDS, and its JSON validates" {
	start_broker
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	"$FDPASS" send --file /etc/hostname conf
	run "$FDPASS" exec web conf -- "$FDPASS" describe
	assert_success
	assert_line --regexp '^0 '
	assert_line --regexp '^3 socket inode=[0-9]+ family=inet type=stream protocol=tcp listening=yes local=127\.0\.0\.1:[0-9]+ backlog=[0-9]+ pending=0 reuseport=no flags=rdwr fdname=web$'
	assert_line --regexp '^4 file path=/etc/hostname deleted=no size=[0-9]+ offset=0 inode=[0-9]+ dev=[0-9]+:[0-9]+ flags=rdonly fdname=conf$'
	# Nothing more: no fd describe opened for itself shows.
	run std_fds_only "$FDPASS" exec web conf -- "$FDPASS" describe
	assert_success
	run cut -d" " -f1 <<<"$output"
	assert_output $'0\n1\n2\n3\n4'
	std_fds_only "$FDPASS" exec web conf -- "$FDPASS" describe --json >"$TMP/out"
	run python3 "$JSONCHECK" process <"$TMP/out"
	assert_success
	run python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
print(p["pid"] > 0, [(f["fd"], f.get("fdname"), f["kind"]) for f in p["fds"] if f["fd"] > 2])' "$TMP/out"
	assert_output "True [(3, 'web', 'socket'), (4, 'conf', 'file')]"
	run std_fds_only "$FDPASS" exec conf -- "$FDPASS" describe 4 3
	assert_failure 2
	assert_line --regexp '^3 file path=/etc/hostname .* fdname=conf$'
	assert_line "fdpass: describe: fd 4 is not open"
	[ "${#lines[@]}" -eq 2 ]
}

@test "describe names no fd when LISTEN_PID is another process's, and says so" {
	exec 7</etc/hostname
	run env LISTEN_FDS=5 LISTEN_PID=1 LISTEN_FDNAMES=a:b:c:d:e "$FDPASS" describe 7
	exec 7<&-
	assert_success
	assert_line --regexp '^fdpass: describe: LISTEN_FDS is set for pid 1, not for this process \([0-9]+\): no fd is named$'
	assert_line --regexp '^7 file path=/etc/hostname .* flags=rdonly$'
}

@test "describe says when LISTEN_FDNAMES does not name every fd, and still describes them" {
	run sh -c 'exec 3</etc/hostname; LISTEN_FDS=1 LISTEN_PID=$$ LISTEN_FDNAMES=a:b exec "$FDPASS" describe 3'
	assert_failure 2
	assert_line --regexp '^fdpass: describe: malformed LISTEN_FDS'
	assert_line --regexp '^3 file path=/etc/hostname .* flags=rdonly$'
}

@test "describe --pid gives the same answers as recv for a TCP listener, a pipe, a memfd and a socket pair" {
	start_broker
	install -m 644 "$HOLDFDS" "$TMP/holdfds.py"
	HOLD_SEND=held start_holder
	"$FDPASS" recv held | strip_first >"$TMP/recv"
	run "$FDPASS" describe --pid "$HOLDER_PID" $HOLDER_FDS
	assert_success
	[ "${#lines[@]}" -eq 6 ]
	assert_line --index 0 --regexp "^${HOLDER_FDS%% *} socket .* listening=yes local=127\.0\.0\.1:[0-9]+ backlog=[0-9]+ pending=0 reuseport=no flags=rdwr\$"
	assert_line --index 3 --regexp '^[0-9]+ memfd name=fdpass-held size=4 offset=1 seals=none flags=rdwr$'
	assert_line --index 4 --regexp "^[0-9]+ socket .* family=unix type=stream protocol=0 listening=no peer_pid=$HOLDER_PID peer_uid=0 peer_gid=0 flags=rdwr\$"
	run diff "$TMP/recv" <(printf '%s\n' "${lines[@]}" | strip_first)
	assert_success
	# All of its fds, its standard ones among them, as JSON.
	"$FDPASS" describe --json --pid "$HOLDER_PID" >"$TMP/out"
	run python3 "$JSONCHECK" process <"$TMP/out"
	assert_success
	run python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
fds = {f["fd"]: f for f in p["fds"]}
held = [int(n) for n in sys.argv[3].split()]
print(p["pid"] == int(sys.argv[2]), [0, 1, 2] + held == sorted(fds),
      fds[held[1]]["queued"], fds[held[0]]["listening"])' "$TMP/out" "$HOLDER_PID" "$HOLDER_FDS"
	assert_output "True True 6 True"
}

@test "describe --pid and send --pid leave the process's fds as they were" {
	start_broker
	install -m 644 "$HOLDFDS" "$TMP/holdfds.py"
	start_holder
	ls "/proc/$HOLDER_PID/fd" >"$TMP/fds.before"
	"$FDPASS" describe --pid "$HOLDER_PID" >"$TMP/first"
	"$FDPASS" send --pid "$HOLDER_PID" all $HOLDER_FDS
	"$FDPASS" describe --pid "$HOLDER_PID" >"$TMP/second"
	run diff "$TMP/first" "$TMP/second"
	assert_success
	run diff "$TMP/fds.before" <(ls "/proc/$HOLDER_PID/fd")
	assert_success
	# The process runs on, not stopped.
	[ "$(awk '{ print $3 }' "/proc/$HOLDER_PID/stat")" = S ]
	run "$FDPASS" recv all
	assert_line --index 1 --regexp '^1 pipe inode=[0-9]+ end=read pipe_size=[0-9]+ queued=6 flags=rdonly$'
}

@test "describe --pid closes each copy at once: 100 fds described under a limit of 16" {
	install -m 644 "$HOLDFDS" "$TMP/holdfds.py"
	HOLD_DUPS=100 start_holder
	run bash -c 'ulimit -n 16 && exec "$0" describe --pid "$1"' "$FDPASS" "$HOLDER_PID"
	assert_success
	[ "$(grep -c ' memfd name=fdpass-held size=4 offset=1 seals=none flags=rdwr$' <<<"$output")" -eq 101 ]
	refute_output --partial unread
}

@test "send --pid adopts a running server's listening socket; a connection made while no server runs is answered" {
	start_broker
	python3 -c "$SERVER" "$TMP/port" 3>&- 4>&- 5>&- &
	SERVER_PID=$!
	wait_for test -s "$TMP/port"
	port=$(cat "$TMP/port")
	exec 7<>"/dev/tcp/127.0.0.1/$port"
	read -r -t 10 first <&7
	exec 7<&-
	# Find its listening socket, and store a copy of it.
	fd=$("$FDPASS" describe --pid "$SERVER_PID" | awk '/ listening=yes / { print $1 }')
	[ -n "$fd" ]
	run "$FDPASS" send --pid "$SERVER_PID" web "$fd"
	assert_success
	# The server was not disturbed: it still answers.
	exec 7<>"/dev/tcp/127.0.0.1/$port"
	read -r -t 10 second <&7
	exec 7<&-
	[ "$first" = "$second" ]
	kill -KILL "$SERVER_PID"
	wait "$SERVER_PID" || :
	SERVER_PID=
	# No server runs: this connection waits in the held socket's backlog.
	exec 8<>"/dev/tcp/127.0.0.1/$port"
	"$FDPASS" exec web -- python3 -c "$SERVER" 3>&- 4>&- 5>&- &
	SERVER_PID=$!
	read -r -t 10 third <&8
	exec 8<&-
	[[ "$first" == "hello from "* ]]
	[[ "$third" == "hello from $SERVER_PID" ]]
	[ "$first" != "$third" ]
}

@test "send --pid of another uid's process is refused, says why and what would permit it, and stores nothing" {
	need_root
	open_tmp_to_nobody
	start_broker --mode 0666 --allow uid=65534
	install -m 644 "$HOLDFDS" "$TMP/holdfds.py"
	start_holder
	run as_nobody "$FDPASS" send --pid "$HOLDER_PID" web ${HOLDER_FDS%% *}
	assert_failure 3
	assert_output "fdpass: send: pid $HOLDER_PID: cannot copy fd ${HOLDER_FDS%% *}: pidfd_getfd: Operation not permitted: pid $HOLDER_PID runs as uid 0 gid 0 and this command as uid 65534 gid 65534; CAP_SYS_PTRACE (root has it) would permit it, as would running as its uid and gid"
	run "$FDPASS" list
	assert_success
	assert_output ""
	# Its fds cannot even be listed through /proc.
	run as_nobody "$FDPASS" describe --pid "$HOLDER_PID"
	assert_failure 3
	assert_output "fdpass: describe: pid $HOLDER_PID: cannot list its fds: reading /proc: Permission denied: pid $HOLDER_PID runs as uid 0 gid 0 and this command as uid 65534 gid 65534; CAP_SYS_PTRACE (root has it) would permit it, as would running as its uid and gid"
}

@test "describe --pid of a process it may read but not copy from describes from /proc and names what it could not read" {
	need_root
	# A process whose real and effective uids differ is not dumpable, and
	# LeakSanitizer cannot work there (the ENOSYS test below covers /proc).
	! readelf -s "${FDPASS_REAL:-$FDPASS}" 2>/dev/null | grep -q __asan_ ||
	    skip "LeakSanitizer cannot run with real and effective uids apart"
	open_tmp_to_nobody
	install -m 644 "$HOLDFDS" "$TMP/holdfds.py"
	start_holder as_nobody
	set -- $HOLDER_FDS
	"$FDPASS" describe --pid "$HOLDER_PID" "$1" >"$TMP/copied"
	# Real uid root, effective uid nobody, no capability: /proc/PID is
	# readable (file-system uid) but pidfd_getfd is not permitted (real uid).
	# The program itself: bash (CI's valgrind wrapper) would set its
	# effective uid back to its real one.
	real=${FDPASS_REAL:-$FDPASS}
	run setpriv --ruid=0 --euid=65534 --rgid=65534 --egid=65534 --clear-groups \
	    "$real" describe --pid "$HOLDER_PID" "$@"
	assert_success
	why='pidfd_getfd: Operation not permitted \(its uid/gid 65534/65534, ours 0/65534; no CAP_SYS_PTRACE\)'
	assert_line --index 0 "fdpass: describe: pid $HOLDER_PID: its fds cannot be copied, so they are described from /proc alone (unread= says what is missing): pidfd_getfd: Operation not permitted: pid $HOLDER_PID runs as uid 65534 gid 65534 and this command as uid 0 gid 65534; CAP_SYS_PTRACE (root has it) would permit it, as would running as its uid and gid"
	# The socket tables give a TCP listener's every field but those only
	# the socket tells.
	assert_line --index 1 "$(sed -E 's/ backlog=[0-9]+ pending=[0-9]+ reuseport=no//' "$TMP/copied") unread=\"backlog,pending,reuseport: ${why//\\/}\""
	assert_line --index 2 --regexp "^$2 pipe inode=[0-9]+ end=read flags=rdonly unread=\"pipe_size,queued: $why\"\$"
	assert_line --index 4 --regexp "^$4 memfd name=fdpass-held size=4 offset=1 flags=rdwr unread=\"seals: $why\"\$"
	assert_line --index 5 --regexp "^$5 socket inode=[0-9]+ family=unix type=stream protocol=0 listening=no flags=rdwr unread=\"peer,peer_pid,peer_uid,peer_gid: $why\"\$"
	setpriv --ruid=0 --euid=65534 --rgid=65534 --egid=65534 --clear-groups \
	    "$real" describe --json --pid "$HOLDER_PID" 2>/dev/null >"$TMP/out"
	run python3 "$JSONCHECK" process <"$TMP/out"
	assert_success
}

@test "on a kernel without pidfd_getfd, describe --pid falls back to /proc and send --pid says why it cannot" {
	python3 "$NOGETFD" true || skip "cannot install a seccomp filter here"
	start_broker
	install -m 644 "$HOLDFDS" "$TMP/holdfds.py"
	start_holder
	set -- $HOLDER_FDS
	run python3 "$NOGETFD" "$FDPASS" describe --pid "$HOLDER_PID" "$2"
	assert_success
	assert_line --index 0 "fdpass: describe: pid $HOLDER_PID: its fds cannot be copied, so they are described from /proc alone (unread= says what is missing): pidfd_getfd: Function not implemented: this kernel lacks it (pidfd_open came with Linux 5.3, pidfd_getfd with 5.6), or a seccomp filter hides it"
	assert_line --index 1 --regexp "^$2 pipe inode=[0-9]+ end=read flags=rdonly unread=\"pipe_size,queued: pidfd_getfd: Function not implemented\"\$"
	run python3 "$NOGETFD" "$FDPASS" send --pid "$HOLDER_PID" web "$1"
	assert_failure 3
	assert_output "fdpass: send: pid $HOLDER_PID: cannot copy fd $1: pidfd_getfd: Function not implemented: this kernel lacks it (pidfd_open came with Linux 5.3, pidfd_getfd with 5.6), or a seccomp filter hides it"
	run "$FDPASS" list
	assert_output ""
}

@test "describe and send --pid report a bad or missing pid, a closed fd and bad arguments" {
	start_broker
	install -m 644 "$HOLDFDS" "$TMP/holdfds.py"
	start_holder
	run "$FDPASS" describe --pid 0
	assert_failure 2
	assert_output "fdpass: describe: --pid 0: not a process id"
	run "$FDPASS" describe --pid "$HOLDER_PID" x
	assert_failure 2
	assert_output "fdpass: describe: 'x' is not a file descriptor number"
	run "$FDPASS" describe --pid 2147483647
	assert_failure 3
	assert_output "fdpass: describe: pid 2147483647: no such process"
	run "$FDPASS" describe --pid "$HOLDER_PID" 1000
	assert_failure 2
	assert_output "fdpass: describe: fd 1000 is not open in pid $HOLDER_PID"
	run "$FDPASS" send --pid "$HOLDER_PID" web 1000
	assert_failure 2
	assert_output "fdpass: send: fd 1000 is not open in pid $HOLDER_PID"
	run "$FDPASS" send --pid "$HOLDER_PID" web
	assert_failure 2
	assert_output "fdpass: send: --pid $HOLDER_PID: name the file descriptors to copy"
	run "$FDPASS" send --pid 2147483647 web 3
	assert_failure 3
	assert_output "fdpass: send: pid 2147483647: no such process"
	run "$FDPASS" send --pid "$HOLDER_PID" --listen-fds
	assert_failure 2
	assert_line --index 0 --partial "--listen-fds takes no NAME, FD, --file, --listen or --pid"
	# A thread is not a process.
	python3 -c 'import threading, time
t = threading.Thread(target=time.sleep, args=(60,), daemon=True); t.start(); time.sleep(60)' &
	threaded=$!
	wait_for two_threads "$threaded"
	tid=$(ls "/proc/$threaded/task" | grep -vx "$threaded")
	run "$FDPASS" describe --pid "$tid"
	kill "$threaded"
	assert_failure 3
	assert_output "fdpass: describe: pid $tid is a thread of process $threaded, whose fds it shares: give $threaded"
	run "$FDPASS" list
	assert_output ""
}

@test "describe of a process that has exited says so" {
	# A zombie: exited, not yet reaped by its parent, holding no fds.
	python3 -c 'import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
print(pid, flush=True)
time.sleep(60)' >"$TMP/child" &
	parent=$!
	wait_for test -s "$TMP/child"
	child=$(cat "$TMP/child")
	wait_for grep -q '^State:.Z' "/proc/$child/status"
	run "$FDPASS" describe --pid "$child"
	kill "$parent"
	assert_failure 3
	assert_output "fdpass: describe: pid $child: no such process"
}
