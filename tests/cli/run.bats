#!/usr/bin/env bats
# fdpass run: a supervisor that keeps a program running on gathered fds,
# restarts it on SIGHUP beside the old instance, and after a crash.

load helpers
load run-helpers

setup() {
	run_setup
	echo "--notify" >"$TMP/mode"
}

teardown() {
	run_teardown
}

# The test server, run with the options in $TMP/mode as each instance
# starts, so that a test changes what the next instance does.
SERVE_MODE=(sh -c 'exec python3 "$0" $(cat "$1")' "$SERVER")

@test "run starts PROG with the fds at 3, LISTEN_ variables for the child, nothing of its own" {
	"$FDPASS" send --file /etc/hostname conf
	run "$FDPASS" run --restart=no web conf -- sh -c \
	    'echo "$LISTEN_FDS $LISTEN_FDNAMES ${NOTIFY_SOCKET-none}"; [ "$LISTEN_PID" = $$ ] && echo pid-ok'
	assert_success
	assert_line "2 web:conf none"
	assert_line pid-ok
	assert_line --regexp '^fdpass: run: started pid [0-9]+$'
	assert_line "fdpass: run: not restarting (--restart=no)"
	# Started with only 0, 1 and 2 open, so that whatever else PROG has is
	# run's; looked at from outside, so that nothing of the looking shows.
	python3 -c 'import os, sys; os.closerange(3, 65536); os.execvp(sys.argv[1], sys.argv[1:])' \
	    "$FDPASS" run --ready=notify web conf -- sleep 60 2>"$TMP/run.log" &
	RUN_PID=$!
	logged 'started pid'
	pid=$(sed -n 's/^fdpass: run: started pid //p' "$TMP/run.log")
	wait_for sh -c '[ "$(readlink "/proc/$0/exe")" = "$1" ]' "$pid" "$(command -v sleep)"
	run sh -c "ls /proc/$pid/fd | sort -n"
	assert_output "$(printf '0\n1\n2\n3\n4')"
	tr '\0' '\n' <"/proc/$pid/environ" | grep -q '^NOTIFY_SOCKET=@'
}

@test "run --ready=notify: SIGHUP starts a new instance beside the old and stops the old once it is ready" {
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after [0-9]+ ms'
	first=$(ready_pid)
	run get
	assert_output "$first"
	kill -HUP "$(cat "$TMP/run.pid")"
	logged "old pid $first stopped \(exit 0\)"
	second=$(ready_pid)
	[ "$second" != "$first" ]
	run get
	assert_output "$second"
	run cat "$TMP/run.log"
	assert_line --index 2 --regexp "^fdpass: run: started pid $second\$"
	assert_line --index 3 --regexp "^fdpass: run: pid $second ready after [0-9]+ ms\$"
	assert_line --index 4 "fdpass: run: stopping old pid $first (SIGTERM)"
}

@test "a new instance that never says it is ready is refused; the old one serves on" {
	start_run --ready=notify --ready-timeout 2 web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	echo "--notify --never-ready" >"$TMP/mode"
	kill -HUP "$RUN_PID"
	logged "restart refused: new pid [0-9]+ was not ready within 2 s; pid $first serves on"
	logged "^fdpass: run: pid [0-9]+ stopped"
	run get
	assert_output "$first"
	# The next restart works again.
	echo "--notify" >"$TMP/mode"
	kill -HUP "$RUN_PID"
	logged "old pid $first stopped"
	run get
	refute_output "$first"
}

@test "a new instance that crashes at start is refused; the old one serves on" {
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	echo "--crash" >"$TMP/mode"
	kill -HUP "$RUN_PID"
	logged "restart refused: new pid [0-9]+ exited \(exit 1\) before it was ready; pid $first serves on"
	run get
	assert_output "$first"
	run grep -c 'restarting in' "$TMP/run.log"
	assert_output 0
}

@test "an old instance that ignores SIGTERM is killed after --stop-timeout" {
	echo "--notify --ignore-term" >"$TMP/mode"
	start_run --ready=notify --stop-timeout 1 web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	echo "--notify" >"$TMP/mode"
	kill -HUP "$RUN_PID"
	logged "pid $first did not stop within 1 s: SIGKILL"
	logged "old pid $first stopped \(killed by SIGKILL\)"
	run get
	assert_output "$(ready_pid)"
}

@test "an instance that dies on its own is restarted; connections wait in the backlog meanwhile" {
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	kill -KILL "$first"
	logged "pid $first exited \(killed by SIGKILL\)"
	logged 'restarting in 0\.1 s'
	run get
	assert_success
	[ "$output" != "$first" ]
	logged 'ready after' 2
}

@test "a program that keeps crashing is restarted with a growing backoff; --restart=no ends run with its status" {
	echo "--crash" >"$TMP/mode"
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'restarting in 0\.8 s'
	run grep -o 'restarting in [0-9.]* s' "$TMP/run.log"
	assert_line --index 0 "restarting in 0.1 s"
	assert_line --index 1 "restarting in 0.2 s"
	assert_line --index 2 "restarting in 0.4 s"
	# SIGHUP starts one at once, and SIGTERM ends the wait.
	kill -TERM "$RUN_PID"
	wait "$RUN_PID" || status=$?
	RUN_PID=
	[ "$status" = 1 ]
	run "$FDPASS" run --restart=no --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	assert_failure 1
	assert_line "fdpass: run: not restarting (--restart=no)"
	# A program that is not there ends run at once, as exec does.
	run -127 "$FDPASS" run web -- /no/such/program
	assert_output --partial "cannot run /no/such/program"
}

@test "SIGTERM stops the instance and run exits with its status; SIGUSR1 is passed on" {
	start_run web -- sh -c 'trap "echo usr1 >>\"$0\"" USR1; trap "exit 7" TERM; while :; do sleep 0.1; done' "$TMP/usr1"
	logged 'ready after'
	kill -USR1 "$RUN_PID"
	wait_for grep -q usr1 "$TMP/usr1"
	kill -TERM "$RUN_PID"
	wait "$RUN_PID" || status=$?
	RUN_PID=
	[ "$status" = 7 ]
	run cat "$TMP/run.log"
	assert_line "fdpass: run: SIGTERM: stopping"
	assert_line --regexp '^fdpass: run: pid [0-9]+ stopped \(exit 7\)$'
	[ ! -e "$TMP/run.pid" ]
}

@test "a SIGHUP during a restart is remembered, not stacked" {
	echo "--notify --delay 1" >"$TMP/mode"
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	kill -HUP "$RUN_PID"
	logged 'started pid' 2
	kill -HUP "$RUN_PID"
	kill -HUP "$RUN_PID"
	kill -HUP "$RUN_PID"
	logged 'SIGHUP: a restart is under way; one more follows it'
	logged 'old pid [0-9]+ stopped' 2
	sleep 2
	run grep -c 'started pid' "$TMP/run.log"
	assert_output 3
}

@test "--refresh takes a socket stored again at the next restart; without it run keeps its own" {
	start_run --refresh --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	"$FDPASS" send --replace --listen tcp:127.0.0.1:0 web
	new_port=$("$FDPASS" recv web | sed -n 's/.*local=127\.0\.0\.1:\([0-9]*\).*/\1/p')
	kill -HUP "$RUN_PID"
	logged 'old pid [0-9]+ stopped'
	PORT=$new_port
	run get
	assert_output "$(ready_pid)"
	# The broker gone, a restart with --refresh is refused.
	stop_broker
	kill -HUP "$RUN_PID"
	logged 'restart refused: the groups could not be gathered again; pid [0-9]+ serves on'
}

@test "the notification socket takes MAINPID= and drops the fds that ride on datagrams" {
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	pid=$(ready_pid)
	fds=$(ls /proc/"$RUN_PID"/fd | wc -l)
	addr=$(tr '\0' '\n' </proc/"$pid"/environ | sed -n 's/^NOTIFY_SOCKET=@//p')
	python3 -c '
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
fd = os.open("/etc/hostname", os.O_RDONLY)
for i in range(500):
    s.sendmsg([b"STATUS=flood"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd] * 8))], 0, "\0" + sys.argv[1])
s.sendto(b"READY=1" + b"Y" * 60000, "\0" + sys.argv[1])' "$addr"
	sleep 1
	[ "$(ls /proc/"$RUN_PID"/fd | wc -l)" = "$fds" ]
	run get
	assert_output "$pid"
}

@test "MAINPID= names the process run signals and watches" {
	# run watches a MAINPID= process through a pidfd, which valgrind 3.19
	# (CI's valgrind stage) does not know.
	[ -z "${FDPASS_REAL:-}" ] || skip "pidfd_open does not work under valgrind 3.19"
	echo "--notify --mainpid-child" >"$TMP/mode"
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	run get
	main=$output
	[ "$main" != "$first" ]
	# The stop signal goes to the main process, which serves.
	kill -STOP "$main"
	kill -HUP "$RUN_PID"
	logged "stopping old pid $first"
	kill -CONT "$main"
	logged "old pid $first stopped"
	[ ! -e "/proc/$main" ] || [ "$(awk '{print $3}' "/proc/$main/stat")" = Z ]
	# The main process dying is the instance dying: run starts another.
	main=$(get)
	kill -KILL "$main"
	logged "main pid $main of pid $(ready_pid) ended"
	logged 'ready after' 3
}

@test "run refuses bad options" {
	run "$FDPASS" run --refresh --take web -- true
	assert_failure 2
	assert_output --partial "--refresh gathers the groups again from the broker: not with --take or --peer"
	run "$FDPASS" run --ready=soon web -- true
	assert_failure 2
	run "$FDPASS" run --stop-signal NOPE web -- true
	assert_failure 2
	assert_output --partial "--stop-signal NOPE: not a signal"
	run "$FDPASS" run --restart=sometimes web -- true
	assert_failure 2
	run "$FDPASS" run --stop-timeout 0 web -- true
	assert_failure 2
	run "$FDPASS" run -a web -- true
	assert_failure 2
	run "$FDPASS" run web
	assert_failure 2
	run "$FDPASS" run missing -- true
	assert_failure 1
}

# Five restarts by SIGHUP under a steady load: no connection refused or
# reset, none waiting as long as the stop timeout (10 s), each new instance
# answering before the next restart.
@test "five restarts under load with --ready=exec: no connection refused or reset" {
	echo "" >"$TMP/mode"
	start_run --ready=exec --stop-timeout 10 web -- "${SERVE_MODE[@]}" "$TMP/mode"
	restarts_under_load 5 10000
}

@test "five restarts under load with --ready=notify: no connection refused or reset" {
	start_run --ready=notify --stop-timeout 10 web -- "${SERVE_MODE[@]}" "$TMP/mode"
	restarts_under_load 5 10000
}

@test "each instance gets LISTEN_PIDFDID of its own pidfd where the kernel has pidfs" {
	[ -x "$SD_LISTEN" ] || skip "built without libsystemd"
	run env LISTEN_PIDFDID=1 "$FDPASS" run --restart=no web -- "$SD_LISTEN" --pidfdid
	assert_success
	assert_line "3 web stream-listening inherit"
	line=$(printf '%s\n' "$output" | grep '^pidfdid=')
	[[ "$line" =~ ^pidfdid=([0-9]+)\ own=([0-9]+)$ && "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ]] ||
	    [ "$line" = "pidfdid=unset own=none" ]
}

@test "run --blocking will not change the mode under the old instance: the restart is refused" {
	# The test server sets O_NONBLOCK on the socket it shares with the next.
	start_run --blocking --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	kill -HUP "$RUN_PID"
	logged "--blocking: web: pid $first \(python3\) holds this socket too"
	logged "restart refused: no new instance could start; pid $first serves on"
	run get
	assert_output "$first"
	# Once it is gone, the next instance gets the socket blocking again
	# (and sets O_NONBLOCK itself).
	kill -KILL "$first"
	logged 'ready after' 2
	run grep -c 'holds this socket too' "$TMP/run.log"
	assert_output 1
}
