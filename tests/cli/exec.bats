#!/usr/bin/env bats
# fdpass exec: the LISTEN_FDS hand-off to a program.

load helpers

setup() {
	common_setup
	start_broker
}

@test "exec sets LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES and execs in place" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	"$FDPASS" send --file /etc/hostname --file /etc/hosts conf
	run "$FDPASS" exec web conf -- sh -c 'echo "$LISTEN_FDS $LISTEN_FDNAMES"; [ "$LISTEN_PID" = "$$" ] && echo pid-ok'
	assert_success
	assert_line --index 0 "3 web:conf:conf"
	assert_line --index 1 pid-ok
}

@test "the fds sit at 3 onward, in group order, without close-on-exec" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	"$FDPASS" send --file /etc/hostname --file /etc/hosts conf
	run "$FDPASS" exec conf web -- sh -c 'readlink /proc/$$/fd/3 /proc/$$/fd/4 /proc/$$/fd/5'
	assert_line --index 0 /etc/hostname
	assert_line --index 1 /etc/hosts
	assert_line --index 2 --regexp '^socket:'
}

@test "exec leaves no fd of its own open in the program" {
	"$FDPASS" send --file /etc/hostname --file /etc/hosts conf
	# Start exec with only 0, 1 and 2 open, so whatever else appears is its own.
	# Look at the program from outside, so no fd of the looking shows up.
	python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' \
	    "$FDPASS" exec conf -- sleep 30 &
	pid=$!
	for i in $(seq 100); do
		[[ "$(readlink "/proc/$pid/exe")" == */sleep ]] && break
		sleep 0.1
	done
	run bash -c "ls /proc/$pid/fd | sort -n"
	kill "$pid"
	assert_output "0
1
2
3
4"
}

@test "exec replaces a stale LISTEN_PIDFDID and inherited LISTEN_ variables" {
	"$FDPASS" send --file /etc/hostname conf
	run env LISTEN_PIDFDID=12345 LISTEN_FDNAMES=old LISTEN_FDS=7 \
	    "$FDPASS" exec conf -- sh -c 'echo "${LISTEN_PIDFDID-unset} $LISTEN_FDS $LISTEN_FDNAMES"'
	assert_output --regexp '^(unset|[0-9]+) 1 conf$'
	refute_output --partial 12345
	# With no LISTEN_FDS fds, no LISTEN_ variable at all.
	run env LISTEN_PIDFDID=12345 "$FDPASS" exec --fd 0=conf -- sh -c 'echo "${LISTEN_PIDFDID-unset}"'
	assert_output unset
}

@test "a server restarts on the stored listening socket without dropping a connection" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	port=$("$FDPASS" recv web | sed -n 's/.*local=127\.0\.0\.1:\([0-9]*\).*/\1/p')
	server='import os, socket
s = socket.socket(fileno=3)
c, _ = s.accept()
c.sendall(b"hello from %d\n" % os.getpid())
c.close()'
	"$FDPASS" exec web -- python3 -c "$server" &
	server_pid=$!
	exec 7<>"/dev/tcp/127.0.0.1/$port"
	read -r -t 10 first <&7
	wait "$server_pid"
	exec 7<&-
	# No server runs now, yet the socket is held: this connection waits in its backlog.
	exec 8<>"/dev/tcp/127.0.0.1/$port"
	"$FDPASS" exec web -- python3 -c "$server" &
	server_pid=$!
	read -r -t 10 second <&8
	wait "$server_pid"
	[[ "$first" == "hello from "* ]]
	[[ "$second" == "hello from "* ]]
	[ "$first" != "$second" ]
}

@test "exec of an unknown name fails before running anything" {
	"$FDPASS" send --file /etc/hostname conf
	run "$FDPASS" exec conf missing -- touch "$TMP/ran"
	assert_failure 1
	assert_output "fdpass: exec: missing: no such name"
	[ ! -e "$TMP/ran" ]
}

@test "exec reports usage errors and a program it cannot run" {
	"$FDPASS" send --file /etc/hostname conf
	run "$FDPASS" exec conf true
	assert_failure 2
	assert_output --partial "no PROG given after --"
	run "$FDPASS" exec -- true
	assert_failure 2
	assert_output --partial "nothing to pass: give a group NAME, -l ADDR or --fd N=NAME"
	run "$FDPASS" exec conf --
	assert_failure 2
	run "$FDPASS" exec "bad:name" -- true
	assert_failure 2
	run -127 "$FDPASS" exec conf -- /no/such/program
	assert_failure 127
	assert_output --partial "cannot run /no/such/program"
	run "$FDPASS" exec conf -- "$TMP"
	assert_failure 126
}

@test "the program's exit status is exec's" {
	"$FDPASS" send --file /etc/hostname conf
	run "$FDPASS" exec conf -- sh -c 'exit 42'
	assert_failure 42
}

@test "exec --take --accept gives its groups back when it is stopped" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	"$FDPASS" exec --take -a web -- true 3>&- 4>&- 5>&- &
	pid=$!
	for i in $(seq 100); do
		[ -z "$("$FDPASS" list)" ] && break
		sleep 0.1
	done
	run "$FDPASS" list
	assert_output ""
	kill -TERM "$pid"
	wait "$pid"
	run "$FDPASS" recv web
	assert_success
	assert_output --regexp '^0 socket .*listening=yes'
}

@test "exec --fd refuses a number past the fd limit as a usage error, with no overflow" {
	"$FDPASS" send --file /etc/hostname conf
	"$FDPASS" send --file /etc/passwd --file /etc/group pair
	run "$FDPASS" exec --fd 2147483647=conf -- touch "$TMP/ran"
	assert_failure 2
	assert_output --partial "--fd '2147483647=conf': N must be below the limit of open files"
	run "$FDPASS" exec --fd 99999999999=conf -- touch "$TMP/ran"
	assert_failure 2
	# The last fd of a group must fit too; --take gives the group back.
	run bash -c 'ulimit -n 64; exec "$0" exec --take --fd 63=pair -- touch "$1"' "$FDPASS" "$TMP/ran"
	assert_failure 2
	assert_output --partial "--fd 63=pair: its 2 fds would take 63 to 64, past the limit of open files (64)"
	[ ! -e "$TMP/ran" ]
	run "$FDPASS" list
	assert_output "$(printf 'conf\npair')"
}

@test "exec's own messages reach the stderr it was started with, not a fd placed at 2" {
	"$FDPASS" send --file /etc/hostname conf
	run -127 "$FDPASS" exec --fd 2=conf -- /no/such/program
	assert_failure 127
	assert_output "fdpass: exec: cannot run /no/such/program: No such file or directory"
	# --take: the group placed at 2 goes back to the broker.
	run -127 "$FDPASS" exec --take --fd 2=conf -- /no/such/program
	assert_output "fdpass: exec: cannot run /no/such/program: No such file or directory"
	run "$FDPASS" recv conf
	assert_output --partial "path=/etc/hostname"
	# The program itself gets the group at 2.
	run "$FDPASS" exec --fd 2=conf -- sh -c 'readlink /proc/$$/fd/2'
	assert_output /etc/hostname
}

@test "exec failing after --take took groups stores them back, whatever failed" {
	"$FDPASS" send --file /etc/hostname conf
	"$FDPASS" send --file /etc/hosts other
	touch "$TMP/file"	# in the way of the directory a -l socket needs
	run "$FDPASS" exec --take -l "$TMP/file/s" conf -- touch "$TMP/ran"
	assert_failure 3
	run "$FDPASS" list
	assert_output "$(printf 'conf\nother')"
	run "$FDPASS" exec --take --fd 3=other conf -- touch "$TMP/ran"
	assert_failure 2
	assert_output "fdpass: exec: --fd 3=other: fd 3 is taken by the LISTEN_FDS fds (3 to 3)"
	run "$FDPASS" exec --take --inetd -l "$TMP/s" conf -- touch "$TMP/ran"
	assert_failure 2
	[ ! -e "$TMP/ran" ]
	run "$FDPASS" list
	assert_output "$(printf 'conf\nother')"
}

# Print whether fd 3 is in blocking mode, as a program sees it.
SHOW_BLOCKING='import os; print("blocking" if os.get_blocking(3) else "nonblocking")'

# Make the stored socket web non-blocking, as a server that sets O_NONBLOCK does.
leave_nonblocking() {
	"$FDPASS" exec web -- python3 -c 'import os; os.set_blocking(3, False)'
	run "$FDPASS" recv web
	assert_output --regexp 'flags=rdwr,nonblock'
}

@test "a server's O_NONBLOCK stays on the stored socket; --blocking and --nonblocking set the mode" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	leave_nonblocking
	run "$FDPASS" exec web -- python3 -c "$SHOW_BLOCKING"
	assert_output nonblocking
	run "$FDPASS" exec --blocking web -- python3 -c "$SHOW_BLOCKING"
	assert_success
	assert_output blocking
	run "$FDPASS" recv web
	refute_output --partial nonblock
	run "$FDPASS" exec --nonblocking --fd 7=web -- python3 -c 'import os; print(os.get_blocking(7))'
	assert_output False
	run "$FDPASS" exec --blocking --nonblocking web -- true
	assert_failure 2
	assert_output --partial "--blocking and --nonblocking exclude each other"
}

@test "--blocking refuses a socket another program holds, names it, and gives --take's groups back" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	"$FDPASS" send --file /etc/hostname conf
	leave_nonblocking
	"$FDPASS" exec web -- sleep 60 3>&- 4>&- 5>&- &
	holder=$!
	wait_for sh -c '[ "$(readlink "/proc/$0/exe")" = "$1" ]' "$holder" "$(command -v sleep)"
	run "$FDPASS" exec --take --blocking conf web -- touch "$TMP/ran"
	assert_failure 3
	assert_output "fdpass: exec: --blocking: web: pid $holder (sleep) holds this socket too, and its mode is shared by all who hold it: left as it is"
	[ ! -e "$TMP/ran" ]
	run "$FDPASS" list
	assert_output "$(printf 'conf\nweb')"
	run "$FDPASS" exec web -- python3 -c "$SHOW_BLOCKING"
	assert_output nonblocking
	# Already in the mode asked for: nothing to change, nothing refused.
	run "$FDPASS" exec --nonblocking web -- python3 -c "$SHOW_BLOCKING"
	assert_output nonblocking
	kill "$holder"
	wait "$holder" || :
	run "$FDPASS" exec --blocking web -- python3 -c "$SHOW_BLOCKING"
	assert_output blocking
}

@test "--blocking says whose fds it could not read, and goes on" {
	need_root
	# A non-blocking socket inherited through LISTEN_FDS by exec run as nobody,
	# who may not read the fds of root's processes (this test's shell, say).
	run python3 -c '
import os, socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
s.setblocking(False)
os.dup2(s.fileno(), 3)
os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
os.execvp("setpriv", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
    sys.argv[1], "exec", "--blocking", "--", "python3", "-c", sys.argv[2]])' "$FDPASS" "$SHOW_BLOCKING"
	assert_success
	assert_line --index 0 --regexp '^fdpass: exec: --blocking: could not read which fds [0-9]+ process(es)? of other users hold \(pid [0-9]'
	assert_line --index 1 blocking
}

@test "--accept --nonblocking hands each connection over non-blocking" {
	"$FDPASS" exec -a --nonblocking -l "$TMP/a.sock" -- python3 -c 'import os; os.write(3, b"%d\n" % os.get_blocking(3))' \
	    3>&- 4>&- 5>&- &
	pid=$!
	wait_for test -S "$TMP/a.sock"
	run python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
print(s.makefile().read(), end="")' "$TMP/a.sock"
	kill -TERM "$pid"
	wait "$pid"
	assert_output 0
}

@test "--blocking knows the broker by the connection, not by who called listen()" {
	# A broker handed its socket by a process that listen()ed and left, as
	# systemd does: SO_PEERCRED names that process, not the broker.
	stop_broker
	export FDPASS_SOCKET="$TMP/activated.sock"
	BROKER_PID=$(python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1])
s.listen()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.dup2(s.fileno(), 3)
    os.environ.update(LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
    os.execvp(sys.argv[2], [sys.argv[2], "serve"])
print(pid)' "$FDPASS_SOCKET" "$FDPASS" 4>&- 5>&-)
	wait_for "$FDPASS" list
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	leave_nonblocking
	run "$FDPASS" exec --blocking web -- python3 -c "$SHOW_BLOCKING"
	assert_success
	assert_output blocking
}
