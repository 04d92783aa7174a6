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

@test "-l with --fdname and inherited LISTEN_FDS reach each instance, with --refresh too" {
	local refresh
	for refresh in "" --refresh; do
		: >"$TMP/fds"
		# The first two instances say what they have at 3, 4 and 5 and
		# exit 0; the third waits, so that SIGTERM always finds one
		# running and run's status is that one's.
		"$FDPASS" exec -l "unix:$TMP/inherited$refresh.sock" --fdname inh -- \
		    "$FDPASS" run $refresh --restart=always -l tcp:127.0.0.1:0 \
		    --fdname http web -- sh -c '
			[ "$(wc -l <"$1")" -ge 6 ] && exec sleep 600
			exec "$0" describe 3 4 5 >>"$1"' \
		    "$FDPASS" "$TMP/fds" 2>"$TMP/run.log" 3>&- 4>&- 5>&- &
		RUN_PID=$!
		logged 'started pid' 3
		kill -TERM "$RUN_PID"
		wait_run
		[ "$RUN_STATUS" = 143 ]
		run wc -l <"$TMP/fds"
		assert_output 6
		run sed -n 1,3p "$TMP/fds"
		assert_line --index 0 --regexp "^3 socket inode=[0-9]+ family=unix type=stream .*listening=yes local=$TMP/inherited$refresh.sock .*fdname=inh\$"
		assert_line --index 1 --regexp "^4 socket inode=[0-9]+ family=inet type=stream .*local=127.0.0.1:$PORT .*fdname=web\$"
		assert_line --index 2 --regexp "^5 socket inode=[0-9]+ family=inet type=stream .*listening=yes local=127.0.0.1:[0-9]+ .*fdname=http\$"
		# The second instance got the very same sockets.
		[ "$output" = "$(sed -n 4,6p "$TMP/fds")" ]
	done
}

@test "run --ready=notify: SIGHUP starts a new instance beside the old and stops the old once it is ready" {
	echo "--notify --status warming-up" >"$TMP/mode"
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
	# STATUS= is logged only with -v.
	refute_line --partial STATUS=
}

@test "run --ready=SECONDS: an instance is ready that long after it starts; one that exits sooner is refused" {
	: >"$TMP/mode"
	start_run --ready=1.5 web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	kill -HUP "$RUN_PID"
	logged "old pid $first stopped"
	second=$(ready_pid)
	[ "$second" != "$first" ]
	run get
	assert_output "$second"
	# each was ready no sooner than 1.5 s after it started, and the old
	# one was stopped only then
	run sed -n 's/^fdpass: run: pid [0-9]* ready after \([0-9]*\) ms$/\1/p' \
	    "$TMP/run.log"
	[ "${#lines[@]}" -eq 2 ] && [ "${lines[0]}" -ge 1500 ] &&
	    [ "${lines[1]}" -ge 1500 ]
	run cat "$TMP/run.log"
	assert_line --index 2 "fdpass: run: started pid $second"
	assert_line --index 3 --regexp "^fdpass: run: pid $second ready after [0-9]+ ms\$"
	assert_line --index 4 "fdpass: run: stopping old pid $first (SIGTERM)"
	echo "--crash" >"$TMP/mode"
	kill -HUP "$RUN_PID"
	logged "restart refused: new pid [0-9]+ exited \(exit 1\) before it was ready; pid $second serves on"
	run get
	assert_output "$second"
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
	run backoffs
	assert_line --index 0 "restarting in 0.1 s"
	assert_line --index 1 "restarting in 0.2 s"
	assert_line --index 2 "restarting in 0.4 s"
	# SIGTERM ends the wait, and run exits with the last instance's status
	# (the bound, the reset and SIGHUP in the wait have a test of their own).
	kill -TERM "$RUN_PID"
	wait_run
	[ "$RUN_STATUS" = 1 ]
	run "$FDPASS" run --restart=no --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	assert_failure 1
	assert_line "fdpass: run: not restarting (--restart=no)"
	# A program that is not there ends run at once, as exec does.
	run -127 "$FDPASS" run web -- /no/such/program
	assert_output --partial "cannot run /no/such/program"
}

@test "--restart=always starts an instance again after exit 0 too; on-failure, the default, does not" {
	run "$FDPASS" run web -- true
	assert_success
	assert_line --regexp '^fdpass: run: pid [0-9]+ exited \(exit 0\)$'
	assert_line "fdpass: run: not restarting (--restart=on-failure)"
	start_run --restart=always web -- sh -c 'echo "$$" >>"$0"' "$TMP/starts"
	logged 'started pid' 3
	run backoffs
	assert_line --index 0 "restarting in 0.1 s"
	assert_line --index 1 "restarting in 0.2 s"
	run grep -Ec '^fdpass: run: pid [0-9]+ exited \(exit 0\)$' "$TMP/run.log"
	[ "$output" -ge 2 ]
	wait_for sh -c '[ "$(wc -l <"$0")" -ge 3 ]' "$TMP/starts"
}

# The backoff's whole course, about 25 s: 12.7 s of waits up to the bound,
# then 10 s of serving to start the count over. SIGHUP during the wait at
# the bound must start an instance well before the 10 s are over.
@test "the restart backoff doubles from 0.1 s up to 10 s; SIGHUP cuts the wait short; 10 s of serving start it over" {
	echo "--crash" >"$TMP/mode"
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'restarting in 10\.0 s'
	run backoffs
	assert_output "$(printf 'restarting in %s s\n' 0.1 0.2 0.4 0.8 1.6 3.2 6.4 10.0)"
	echo "--notify" >"$TMP/mode"
	kill -HUP "$RUN_PID"
	logged_within 7 'started pid' 9
	logged 'ready after'
	# An instance that served less than 10 s leaves the count as it was...
	kill -KILL "$(ready_pid)"
	logged 'restarting in' 9
	run backoffs
	assert_line --index 8 "restarting in 10.0 s"
	kill -HUP "$RUN_PID"
	logged 'ready after' 2
	# ...one that served 10 s starts it over. run counts from READY=1,
	# which came before its line in the log: this wait is the time served,
	# not a guess at how long something takes.
	sleep 10.5
	kill -KILL "$(ready_pid)"
	logged 'restarting in' 10
	run backoffs
	assert_line --index 9 "restarting in 0.1 s"
}

@test "SIGTERM stops the instance and run exits with its status; SIGUSR1 is passed on" {
	start_run web -- sh -c 'trap "echo usr1 >>\"$0\"" USR1; trap "exit 7" TERM; while :; do sleep 0.1; done' "$TMP/usr1"
	logged 'ready after'
	kill -USR1 "$RUN_PID"
	wait_for grep -q usr1 "$TMP/usr1"
	kill -TERM "$RUN_PID"
	wait_run
	[ "$RUN_STATUS" = 7 ]
	run cat "$TMP/run.log"
	assert_line "fdpass: run: SIGTERM: stopping"
	assert_line --regexp '^fdpass: run: pid [0-9]+ stopped \(exit 7\)$'
	[ ! -e "$TMP/run.pid" ]
}

@test "SIGINT stops every instance as SIGTERM does; run exits with the serving one's status" {
	echo "--notify --term-status 7" >"$TMP/mode"
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	# A new instance, starting when SIGINT comes, is stopped too.
	echo "--notify --never-ready --term-status 9" >"$TMP/mode"
	kill -HUP "$RUN_PID"
	logged 'started pid' 2
	second=$(sed -n 's/^fdpass: run: started pid //p' "$TMP/run.log" | tail -n 1)
	wait_for sh -c 'tr "\0" " " </proc/$0/cmdline | grep -q -- --never-ready' "$second"
	kill -INT "$RUN_PID"
	wait_run
	[ "$RUN_STATUS" = 7 ]
	run cat "$TMP/run.log"
	assert_line "fdpass: run: SIGINT: stopping"
	assert_line "fdpass: run: pid $first stopped (exit 7)"
	assert_line --regexp "^fdpass: run: pid $second stopped \((exit 9|killed by SIGTERM)\)\$"
	[ ! -e "/proc/$first" ] && [ ! -e "/proc/$second" ]
}

@test "at shutdown, an instance that ignores the stop signal is killed after --stop-timeout; run exits 137" {
	echo "--notify --ignore-term" >"$TMP/mode"
	start_run --ready=notify --stop-timeout 1 web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	pid=$(ready_pid)
	kill -TERM "$RUN_PID"
	logged "pid $pid did not stop within 1 s: SIGKILL"
	wait_run
	[ "$RUN_STATUS" = 137 ]
	run cat "$TMP/run.log"
	assert_line "fdpass: run: pid $pid stopped (killed by SIGKILL)"
	# A second SIGTERM or SIGINT kills at once, long before --stop-timeout.
	start_run --ready=notify --stop-timeout 600 web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	pid=$(ready_pid)
	kill -TERM "$RUN_PID"
	logged 'SIGTERM: stopping'
	kill -INT "$RUN_PID"
	logged 'SIGINT: killing every instance'
	wait_run
	[ "$RUN_STATUS" = 137 ]
	run cat "$TMP/run.log"
	assert_line "fdpass: run: pid $pid stopped (killed by SIGKILL)"
}

# Started with & by bats, as by a script, run gets SIGINT and SIGQUIT
# ignored: the instance must not inherit that for what run passes on.
@test "SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGTTIN, SIGTTOU, SIGALRM and SIGPWR reach the instance; the stop signal too" {
	local sig
	start_run --stop-signal INT web -- sh -c '
	    for sig in QUIT USR1 USR2 WINCH TTIN TTOU ALRM PWR; do
		    trap "echo $sig >>\"$0\"" "$sig"
	    done
	    trap "exit 9" INT
	    echo up >"$0.up"
	    while :; do sleep 0.1; done' "$TMP/signals"
	wait_for test -e "$TMP/signals.up"
	for sig in QUIT USR1 USR2 WINCH TTIN TTOU ALRM PWR; do
		kill -"$sig" "$RUN_PID"
		wait_for grep -qxs "$sig" "$TMP/signals"
	done
	run cat "$TMP/signals"
	assert_output "$(printf '%s\n' QUIT USR1 USR2 WINCH TTIN TTOU ALRM PWR)"
	kill -TERM "$RUN_PID"
	wait_run
	[ "$RUN_STATUS" = 9 ]
	# With no instance ready yet, the starting one gets them; and a stop
	# signal run was started with ignored is not ignored there either.
	rm "$TMP/signals" "$TMP/signals.up"
	trap '' PWR
	start_run --ready=notify --stop-signal PWR web -- sh -c '
	    trap "echo USR2 >>\"$0\"" USR2
	    trap "exit 8" PWR
	    echo up >"$0.up"
	    while :; do sleep 0.1; done' "$TMP/signals"
	trap - PWR
	wait_for test -e "$TMP/signals.up"
	kill -USR2 "$RUN_PID"
	wait_for grep -qxs USR2 "$TMP/signals"
	kill -TERM "$RUN_PID"
	wait_run
	[ "$RUN_STATUS" = 8 ]
}

@test "run tells its own NOTIFY_SOCKET READY=1 and STATUS= as instances become ready, STOPPING=1 at the end" {
	start_notify_listener
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	notified "READY=1|STATUS=serving: pid $first fds=0"
	# The instance has a NOTIFY_SOCKET of its own; of run's sockets, only
	# the one at 3 (once the server has closed the one it sent READY=1 on).
	tr '\0' '\n' <"/proc/$first/environ" | grep -q '^NOTIFY_SOCKET=@'
	wait_for sh -c '[ "$(ls -l "/proc/$0/fd" | grep -c socket:)" = 1 ] &&
	    ls -l "/proc/$0/fd" | grep -q " 3 -> socket:"' "$first"
	kill -HUP "$RUN_PID"
	logged "old pid $first stopped"
	second=$(ready_pid)
	notified "STATUS=serving: pid $second fds=0"
	kill -TERM "$RUN_PID"
	wait_run
	[ "$RUN_STATUS" = 0 ]
	run cat "$TMP/notify.log"
	assert_output "$(printf '%s fds=0\n' "READY=1|STATUS=serving: pid $first" \
	    "STATUS=serving: pid $second" STOPPING=1)"
	# An instance that is not told to notify does not see run's socket.
	run "$FDPASS" run --restart=no web -- sh -c 'echo "${NOTIFY_SOCKET-none}"'
	assert_line none
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
	# A fourth would have started as the third became ready, before the
	# second was stopped: no need to wait for it.
	run grep -c 'started pid' "$TMP/run.log"
	assert_output 3
}

@test "without --refresh, run keeps the fds it gathered: a group stored again is not the next instance's" {
	start_run --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	held=$(readlink "/proc/$first/fd/3")
	"$FDPASS" send --replace --listen tcp:127.0.0.1:0 web
	kill -HUP "$RUN_PID"
	logged "old pid $first stopped"
	second=$(ready_pid)
	[ "$second" != "$first" ]
	run readlink "/proc/$second/fd/3"
	assert_output "$held"
	run get
	assert_output "$second"
}

@test "--refresh takes a socket stored again at the next restart and closes the one it held" {
	start_run --refresh --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	held=$(readlink "/proc/$first/fd/3")
	"$FDPASS" send --replace --listen tcp:127.0.0.1:0 web
	new_port=$("$FDPASS" recv web | sed -n 's/.*local=127\.0\.0\.1:\([0-9]*\).*/\1/p')
	kill -HUP "$RUN_PID"
	logged "old pid $first stopped"
	second=$(ready_pid)
	run readlink "/proc/$second/fd/3"
	refute_output "$held"
	# Nothing holds the old socket any more: connections to it are refused.
	run python3 -c 'import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
except ConnectionRefusedError:
    print("refused")' "$PORT"
	assert_output refused
	PORT=$new_port
	run get
	assert_output "$second"
	# The broker gone, a restart with --refresh is refused.
	stop_broker
	kill -HUP "$RUN_PID"
	logged 'restart refused: the groups could not be gathered again; pid [0-9]+ serves on'
}

@test "with -v, STATUS= is logged and a MAINPID= not of the instance's is ignored; fds on datagrams are closed" {
	echo "--notify --status warming-up" >"$TMP/mode"
	start_run -v --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	pid=$(ready_pid)
	run grep -c "^fdpass: run: pid $pid: STATUS=warming-up\$" "$TMP/run.log"
	assert_output 1
	fds=$(ls /proc/"$RUN_PID"/fd | wc -l)
	addr=$(tr '\0' '\n' </proc/"$pid"/environ | sed -n 's/^NOTIFY_SOCKET=@//p')
	# From this shell's uid, so allowed: a flood of datagrams with fds, one
	# too long, MAINPID= of a process not the instance's, then one last
	# STATUS=, which run reads after all the others.
	python3 -c '
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
to = "\0" + sys.argv[1]
fd = os.open("/etc/hostname", os.O_RDONLY)
for i in range(500):
    s.sendmsg([b"STATUS=flood"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd] * 8))], 0, to)
s.sendto(b"READY=1" + b"Y" * 60000, to)
s.sendto(b"MAINPID=1", to)
s.sendto(b"STATUS=flood over", to)' "$addr"
	logged "^fdpass: run: pid $pid: STATUS=flood over\$"
	[ "$(ls /proc/"$RUN_PID"/fd | wc -l)" = "$fds" ]
	run grep -c "^fdpass: run: pid $pid: STATUS=flood\$" "$TMP/run.log"
	assert_output 500
	run cat "$TMP/run.log"
	assert_line --regexp "^fdpass: run: pid $pid: a notification dropped \\(too long, or from pid [0-9]+, not allowed\\)\$"
	assert_line "fdpass: run: pid $pid: MAINPID=1 ignored: not its process"
	# The instance is still the one signalled and watched.
	kill -HUP "$RUN_PID"
	logged "old pid $pid stopped \(exit 0\)"
}

@test "MAINPID= names the process run signals and watches" {
	# run watches a MAINPID= process through a pidfd, which valgrind 3.19
	# (CI's valgrind stage) does not know.
	[ -z "${FDPASS_REAL:-}" ] || skip "pidfd_open does not work under valgrind 3.19"
	echo "--notify --mainpid-child" >"$TMP/mode"
	start_run -v --ready=notify web -- "${SERVE_MODE[@]}" "$TMP/mode"
	logged 'ready after'
	first=$(ready_pid)
	run get
	main=$output
	[ "$main" != "$first" ]
	logged "^fdpass: run: pid $first: main pid is now $main\$"
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
