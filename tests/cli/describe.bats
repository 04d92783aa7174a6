#!/usr/bin/env bats
# Descriptions of every fd kind through the whole path (created, sent,
# held, retrieved, described), as text and as JSON checked against the
# schema fdpass(1) documents.

load helpers

MKFDS="$BATS_TEST_DIRNAME/mkfds.py"
JSONCHECK="$BATS_TEST_DIRNAME/jsoncheck.py"
ALL_KINDS="file dir pipe pipe-write fifo socket tcp tty chardev blockdev eventfd timerfd signalfd epoll inotify fanotify memfd pidfd mqueue unknown"

setup() {
	common_setup
	export TMP FDPASS
	start_broker
	export PIDFD_PID=$BROKER_PID
}

# Store one fd of every kind as group "all" (skip if this machine cannot make one).
store_all_kinds() {
	run python3 "$MKFDS" all $ALL_KINDS
	[ "$status" -eq 0 ] || skip "cannot create every fd kind here: $output"
}

@test "recv describes every kind of fd the way the documentation says" {
	store_all_kinds
	run "$FDPASS" recv all
	assert_success
	assert_line --index 0 --regexp '^0 file path=/etc/hostname deleted=no size=[0-9]+ offset=0 inode=[0-9]+ dev=[0-9]+:[0-9]+ flags=rdonly$'
	assert_line --index 1 --regexp '^1 dir path=/ deleted=no inode=[0-9]+ dev=[0-9]+:[0-9]+ flags=rdonly$'
	assert_line --index 2 --regexp '^2 pipe inode=[0-9]+ end=read pipe_size=[0-9]+ queued=6 flags=rdonly$'
	assert_line --index 3 --regexp '^3 pipe inode=[0-9]+ end=write pipe_size=[0-9]+ queued=6 flags=wronly$'
	assert_line --index 4 --regexp "^4 fifo path=$TMP/fifo deleted=no inode=[0-9]+ dev=[0-9:]+ end=both pipe_size=[0-9]+ queued=0 flags=rdwr$"
	assert_line --index 5 --regexp '^5 socket inode=[0-9]+ family=unix type=stream protocol=0 listening=no .*peer_pid=[0-9]+ peer_uid=0 peer_gid=0 flags=rdwr$'
	assert_line --index 6 --regexp '^6 socket inode=[0-9]+ family=inet type=stream protocol=tcp listening=yes local=127\.0\.0\.1:[0-9]+ backlog=[0-9]+ pending=0 reuseport=no flags=rdwr$'
	assert_line --index 7 --regexp '^7 tty path=[^ ]+ deleted=(yes|no) major=[0-9]+ minor=[0-9]+ flags=rdwr$'
	assert_line --index 8 --regexp '^8 chardev path=/dev/null deleted=no major=1 minor=3 flags=rdwr$'
	assert_line --index 9 --regexp '^9 blockdev path=/dev/loop0 deleted=no major=7 minor=0 flags=rdonly$'
	assert_line --index 10 --regexp '^10 eventfd counter=5 semaphore=no flags=rdwr$'
	assert_line --index 11 --regexp '^11 timerfd clock=monotonic value=[0-9]+\.[0-9]+ interval=0\.0+ ticks=0 flags=rdwr$'
	assert_line --index 12 --regexp '^12 signalfd sigmask=0+4200 signals=USR1,TERM flags=rdwr$'
	assert_line --index 13 --regexp '^13 epoll watches=1 flags=rdwr$'
	assert_line --index 14 --regexp '^14 inotify watches=1 flags=rdonly$'
	assert_line --index 15 --regexp '^15 fanotify fanotify_flags=0x[0-9a-f]+ event_flags=0x[0-9a-f]+ watches=0 flags=rdwr$'
	assert_line --index 16 --regexp '^16 memfd name=fdpass-test size=4 offset=4 seals=grow flags=rdwr$'
	assert_line --index 17 --regexp "^17 pidfd pid=$BROKER_PID flags=rdwr\$"
	assert_line --index 18 --regexp '^18 mqueue name=/fdpass-test-[0-9]+ deleted=yes messages=0 max_messages=[0-9]+ message_size=[0-9]+ flags=rdwr$'
	assert_line --index 19 --regexp '^19 unknown link=anon_inode:\[userfaultfd\] inode=[0-9]+ fdinfo=".*" flags=rdonly$'
	[ "${#lines[@]}" -eq 20 ]
}

@test "describing leaves each fd as it was" {
	store_all_kinds
	"$FDPASS" recv all >"$TMP/first"
	"$FDPASS" recv all >"$TMP/second"
	# only the timer's time to expiry may move
	run diff <(grep -v timerfd "$TMP/first") <(grep -v timerfd "$TMP/second")
	assert_success
	assert_output ""
}

@test "list --long describes each group's fds under its name" {
	store_all_kinds
	"$FDPASS" send --ttl 100 --file /etc/hosts hosts
	run "$FDPASS" list --long
	assert_success
	assert_line --index 0 $'all\tfds=20'
	assert_line --index 1 --regexp $'^\t0 file path=/etc/hostname '
	assert_line --index 20 --regexp $'^\t19 unknown link=anon_inode:'
	assert_line --index 21 --regexp $'^hosts\tfds=1 expires_in=(100|99)$'
	assert_line --index 22 --regexp $'^\t0 file path=/etc/hosts '
	[ "${#lines[@]}" -eq 23 ]
	"$FDPASS" recv all | sed 's/^/\t/' | grep -v timerfd >"$TMP/recv"
	run diff <(sed -n '2,21p' <<<"$output" | grep -v timerfd) "$TMP/recv"
	assert_success
}

@test "recv --json validates against the documented schema, every kind included" {
	store_all_kinds
	"$FDPASS" recv --json all >"$TMP/out"
	run python3 "$JSONCHECK" group <"$TMP/out"
	assert_success
	[ "$(wc -l <"$TMP/out")" -eq 1 ]
	run python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))
kinds = [f["kind"] for f in g["fds"]]
print(" ".join(kinds))
e = g["fds"][10]; m = g["fds"][16]; s = g["fds"][6]
assert e["counter"] == 5 and e["semaphore"] is False, e
assert m["seals"] == "grow" and m["size"] == 4, m
assert s["listening"] is True and s["local"].startswith("127.0.0.1:"), s
print(g["name"], g["nfds"])' "$TMP/out"
	assert_success
	assert_line --index 0 "file dir pipe pipe fifo socket socket tty chardev blockdev eventfd timerfd signalfd epoll inotify fanotify memfd pidfd mqueue unknown"
	assert_line --index 1 "all 20"
}

@test "list --json, with and without --long, validates against the schema" {
	run "$FDPASS" list --json
	assert_output "[]"
	store_all_kinds
	"$FDPASS" send --ttl 100 --file /etc/hosts 'with "quotes" \ and space'
	"$FDPASS" list --json >"$TMP/short"
	run python3 "$JSONCHECK" list <"$TMP/short"
	assert_success
	"$FDPASS" list --json --long >"$TMP/long"
	run python3 "$JSONCHECK" list <"$TMP/long"
	assert_success
	run python3 -c '
import json, sys
short, long = (json.load(open(p)) for p in sys.argv[1:])
print([(g["name"], g["nfds"], g["expires_in"] is None, "fds" in g) for g in short])
print([(g["name"], len(g["fds"]), 90 <= (g["expires_in"] or 100) <= 100) for g in long])' "$TMP/short" "$TMP/long"
	assert_line --index 0 "[('all', 20, True, False), ('with \"quotes\" \\\\ and space', 1, False, False)]"
	assert_line --index 1 "[('all', 20, True), ('with \"quotes\" \\\\ and space', 1, True)]"
}

@test "the schema check catches output that breaks the schema" {
	run python3 "$JSONCHECK" group <<<'{"name":"x","nfds":1,"fds":[{"kind":"eventfd","flags":"rdwr","counter":"5"}]}'
	assert_failure
	run python3 "$JSONCHECK" group <<<'{"name":"x","nfds":2,"fds":[{"kind":"dir","flags":"rdonly"}]}'
	assert_failure
	run python3 "$JSONCHECK" list <<<'[{"name":"x","nfds":1}]'
	assert_failure
	run python3 "$JSONCHECK" list <<<'[{"name":"x","nfds":1,"expires_in":null}]'
	assert_success
}
