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
