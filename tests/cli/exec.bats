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

@test "exec drops a stale LISTEN_PIDFDID and replaces inherited LISTEN_ variables" {
	"$FDPASS" send --file /etc/hostname conf
	run env LISTEN_PIDFDID=12345 LISTEN_FDNAMES=old LISTEN_FDS=7 \
	    "$FDPASS" exec conf -- sh -c 'echo "${LISTEN_PIDFDID-unset} $LISTEN_FDS $LISTEN_FDNAMES"'
	assert_output "unset 1 conf"
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
	run "$FDPASS" exec --take -l "$TMP/no/such/dir/s" conf -- touch "$TMP/ran"
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
