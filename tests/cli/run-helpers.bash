# Shared by the suites of fdpass run: a stored listening socket "web" on
# $PORT, run started in the background with its log, requests, and a load.

SERVER="$BATS_TEST_DIRNAME/run-server.py"
LOAD="$BATS_TEST_DIRNAME/http-load.py"

# A broker holding "web", a listening TCP socket on 127.0.0.1:$PORT.
run_setup() {
	common_setup
	start_broker
	RUN_PID=
	LOAD_PID=
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	PORT=$("$FDPASS" recv web | sed -n 's/.*local=127\.0\.0\.1:\([0-9]*\).*/\1/p')
}

# The load stops; run is stopped with SIGTERM, killed after 20 s.
run_teardown() {
	[ -z "$LOAD_PID" ] || { touch "$TMP/stop"; wait "$LOAD_PID" || :; }
	stop_gently "$RUN_PID"
	common_teardown
}

# Start `fdpass run ARG...` in the background; its log goes to $TMP/run.log.
start_run() {
	"$FDPASS" run --pid-file "$TMP/run.pid" "$@" 2>"$TMP/run.log" 3>&- 4>&- 5>&- &
	RUN_PID=$!
}

# Wait up to 30 s for $2 (default 1) lines of run's log matching $1.
logged() {
	local i
	for i in $(seq 300); do
		[ "$(grep -Ec -- "$1" "$TMP/run.log")" -ge "${2:-1}" ] && return 0
		sleep 0.1
	done
	cat "$TMP/run.log" >&2
	fail "fewer than ${2:-1} lines matching '$1' in run's log"
}

# Wait up to 60 s for run to end, and forget it; its exit status goes to
# $RUN_STATUS. One that does not end is left for the teardown to kill.
wait_run() {
	local i
	for i in $(seq 600); do
		if ! kill -0 "$RUN_PID" 2>/dev/null; then
			RUN_STATUS=0
			wait "$RUN_PID" || RUN_STATUS=$?
			RUN_PID=
			return 0
		fi
		sleep 0.1
	done
	fail "run (pid $RUN_PID) did not end"
}

# Wait at most $1 seconds of wall-clock time for $3 (default 1) lines of
# run's log matching $2: for what must happen well before a timer of run's
# would make it happen anyway.
logged_within() {
	local deadline=$((${EPOCHREALTIME/./} + $1 * 1000000))
	while [ "${EPOCHREALTIME/./}" -lt "$deadline" ]; do
		[ "$(grep -Ec -- "$2" "$TMP/run.log")" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	cat "$TMP/run.log" >&2
	fail "fewer than ${3:-1} lines matching '$2' in run's log within $1 s"
}

# What run's log says of its restart waits, one "restarting in N s" a line.
backoffs() {
	grep -o 'restarting in [0-9.]* s' "$TMP/run.log"
}

# The pid of the instance that became ready last.
ready_pid() {
	sed -n 's/^fdpass: run: pid \([0-9]*\) ready after.*/\1/p' "$TMP/run.log" | tail -n 1
}

# One request for $1 (default /): prints the answer's body.
get() {
	python3 -c 'import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s%s" % (sys.argv[1], sys.argv[2]), timeout=20).read().decode().strip())' "$PORT" "${1:-/}"
}

# $1 restarts by SIGHUP of the run started, under a steady load of GET
# $LOAD_PATH (default /): no connection refused or reset, none waiting $2 ms
# or longer, each new instance answering before the next restart (with the
# body $3 if given).
restarts_under_load() {
	local i
	logged 'ready after'
	python3 "$LOAD" "$PORT" "$TMP/stop" 2 "${LOAD_PATH:-/}" >"$TMP/load.out" &
	LOAD_PID=$!
	wait_for test -e "$TMP/stop.running"
	for i in $(seq "$1"); do
		kill -HUP "$RUN_PID"
		logged 'old pid [0-9]+ stopped' "$i"
		run get "${LOAD_PATH:-/}"
		assert_success
		[ -z "${3:-}" ] || assert_output "$3"
	done
	touch "$TMP/stop"
	wait "$LOAD_PID"
	LOAD_PID=
	run cat "$TMP/load.out"
	assert_output --regexp '^requests [0-9]+ errors 0 max_ms [0-9]+ pids [0-9]+$'
	[[ "$output" =~ max_ms\ ([0-9]+) ]]
	[ "${BASH_REMATCH[1]}" -lt "$2" ]
}
