#!/usr/bin/env bats
# Who may use the broker: peer credentials, --allow, --rules, and the
# client's check of who runs the broker.

load helpers

setup() {
	common_setup
	need_root
	open_tmp_to_nobody
}

teardown() {
	common_teardown
}

@test "another uid is denied by default, even where the socket lets it connect" {
	start_broker --mode 0666
	before=$(broker_fd_count)
	"$FDPASS" send --file /etc/hostname web
	before=$((before + 1))	# counted before the sender's connection could linger
	run as_nobody "$FDPASS" list
	assert_failure 1
	assert_output "fdpass: list: permission denied"
	run as_nobody "$FDPASS" recv web
	assert_failure 1
	assert_output "fdpass: recv: web: permission denied"
	run as_nobody "$FDPASS" send --file /etc/hosts mine
	assert_failure 1
	assert_output "fdpass: send: mine: permission denied"
	# nobody may not read the source tree (CI clones it into a 0700 directory).
	install -m 644 "$PEER" "$TMP/peer.py"
	run as_nobody /usr/bin/python3 "$TMP/peer.py" status "$FDPASS_SOCKET" 1 mine 2 3
	assert_output 10
	broker_fd_count_is "$before"
	run "$FDPASS" list
	assert_output web
}

@test "the default socket mode keeps another uid from connecting at all" {
	start_broker
	run as_nobody "$FDPASS" list
	assert_failure 3
	assert_output --partial "Permission denied"
}

@test "--allow grants exactly the operations and names it says" {
	start_broker --mode 0666 --allow uid=65534,ops=retrieve+list,names='web*'
	"$FDPASS" send --file /etc/hostname web1
	"$FDPASS" send --file /etc/hostname web2
	"$FDPASS" send --file /etc/hostname db
	run as_nobody "$FDPASS" list
	assert_success
	assert_output "$(printf 'web1\nweb2')"
	run as_nobody "$FDPASS" recv web1
	assert_success
	assert_output --partial "path=/etc/hostname"
	run as_nobody "$FDPASS" recv db
	assert_failure 1
	assert_output "fdpass: recv: db: permission denied"
	run as_nobody "$FDPASS" send --file /etc/hosts web3
	assert_failure 1
	assert_output "fdpass: send: web3: permission denied"
	run "$FDPASS" list
	assert_output "$(printf 'db\nweb1\nweb2')"
}

@test "--allow by user, group and gid; several grants add up" {
	start_broker --mode 0666 --allow user=nobody,ops=store,names=up \
	    --allow group=nogroup,ops=list --allow gid=65534,ops=retrieve,names=db
	"$FDPASS" send --file /etc/hostname db
	run as_nobody "$FDPASS" send --file /etc/hosts up
	assert_success
	run as_nobody "$FDPASS" send --file /etc/hosts other
	assert_failure 1
	run as_nobody "$FDPASS" list
	assert_output "$(printf 'db\nup')"
	run as_nobody "$FDPASS" recv db
	assert_success
	run as_nobody "$FDPASS" recv up
	assert_failure 1
}

@test "a bad --allow SPEC or --rules file is a usage error naming the fault" {
	run "$FDPASS" serve --allow ops=list
	assert_failure 2
	assert_output --partial "none of uid=, user=, gid=, group="
	run "$FDPASS" serve --allow uid=1,ops=steal
	assert_failure 2
	assert_output --partial "unknown operation 'steal'"
	run "$FDPASS" serve --allow user=no-such-user-here
	assert_failure 2
	assert_output --partial "user=no-such-user-here: no such user"
	# a name in no file: a static glibc that went on to load an NSS module
	# for it could crash (SIGSEGV, exit 139)
	run "$FDPASS" serve --allow group=no-such-group-here
	assert_failure 2
	assert_output --partial "group=no-such-group-here: no such group"
	run "$FDPASS" serve --allow uid=1,gid=2
	assert_failure 2
	assert_output --partial "more than one of"
	run "$FDPASS" serve --allow uid=x
	assert_failure 2
	assert_output --partial "uid=x: not a number"
	run "$FDPASS" serve --allow uid=1,colour=red
	assert_failure 2
	assert_output --partial "unknown key 'colour'"
	printf '# comment\n\nuid=1\nuid=2,ops=fly\n' >"$TMP/rules"
	run "$FDPASS" serve --rules "$TMP/rules"
	assert_failure 2
	assert_output --partial "$TMP/rules:4: unknown operation 'fly'"
	run "$FDPASS" serve --rules "$TMP/none"
	assert_failure 2
	assert_output --partial "$TMP/none: No such file or directory"
	[ ! -e "$FDPASS_SOCKET" ]
}

@test "--rules is reread on SIGHUP; a file that does not parse keeps the old rules" {
	echo 'uid=65534,ops=list' >"$TMP/rules"
	start_broker --mode 0666 --rules "$TMP/rules" 2>"$TMP/log"
	"$FDPASS" send --file /etc/hostname web
	run as_nobody "$FDPASS" list
	assert_output web
	run as_nobody "$FDPASS" recv web
	assert_failure 1
	printf '# now retrieve too\nuid=65534,ops=list+retrieve\n' >"$TMP/rules"
	kill -HUP "$BROKER_PID"
	wait_for_line "$TMP/log" "$TMP/rules: 1 rules loaded"
	run as_nobody "$FDPASS" recv web
	assert_success
	echo 'uid=65534,ops=list+' >"$TMP/rules"
	echo 'garbage' >>"$TMP/rules"
	kill -HUP "$BROKER_PID"
	wait_for_line "$TMP/log" "keeping the rules in force"
	run grep -c "$TMP/rules:2: 'garbage' is not KEY=VALUE; keeping" "$TMP/log"
	assert_output 1
	run as_nobody "$FDPASS" recv web
	assert_success
	stop_broker
}

@test "a broker run by another uid is refused unless --trust-uid names it" {
	export FDPASS_SOCKET="@fdpass-test-$$-$RANDOM"
	ready="$TMP/ready"
	mkfifo "$ready"
	chmod 666 "$ready"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$FDPASS" serve --ready-fd 3 3>"$ready" 4>&- 5>&- &
	BROKER_PID=$!
	wait_ready "$ready"
	exec 5</etc/hostname
	for cmd in "list" "recv web" "send web 5" "exec web -- true"; do
		run "$FDPASS" $cmd
		assert_failure 3
		assert_output --partial "runs as uid 65534, neither yours nor root's; refusing it"
	done
	exec 5<&-
	run "$FDPASS" list --trust-uid 65534
	assert_success
	run "$FDPASS" list --trust-uid 1
	assert_failure 3
	run "$FDPASS" recv --trust-uid nobody web
	assert_failure 2
	assert_output --partial "--trust-uid nobody: not a uid"
	run as_nobody "$FDPASS" list
	assert_success
}

@test "delete needs delete, --take retrieve and delete, --wait a name it may retrieve" {
	start_broker --mode 0666 --allow uid=65534,ops=retrieve+list,names='web*' \
	    --allow uid=65534,ops=delete,names=web1
	for name in web1 web2 db; do
		"$FDPASS" send --file /etc/hostname "$name"
	done
	run as_nobody "$FDPASS" delete web2
	assert_failure 1
	assert_output "fdpass: delete: web2: permission denied"
	run as_nobody "$FDPASS" recv --take web2
	assert_failure 1
	assert_output "fdpass: recv: web2: permission denied"
	# refused at once, not after waiting for a name it may not have
	run as_nobody "$FDPASS" recv --wait=30 db
	assert_failure 1
	assert_output "fdpass: recv: db: permission denied"
	run as_nobody "$FDPASS" recv --wait=30 --take web2
	assert_failure 1
	assert_output "fdpass: recv: web2: permission denied"
	run as_nobody "$FDPASS" recv --take web1
	assert_success
	assert_output --partial "path=/etc/hostname"
	"$FDPASS" send --file /etc/hostname web1
	run as_nobody "$FDPASS" delete web1
	assert_success
	run "$FDPASS" list
	assert_output "$(printf 'db\nweb2')"
}

@test "list --long shows only the names it may list, their fds where it may retrieve" {
	start_broker --mode 0666 --allow uid=65534,ops=list,names='[dw]*' \
	    --allow uid=65534,ops=retrieve,names=web
	for name in web db secret; do
		"$FDPASS" send --file /etc/hostname "$name"
	done
	run as_nobody "$FDPASS" list --long
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 $'db\tfds=1'
	assert_line --index 1 $'web\tfds=1'
	assert_line --index 2 --regexp $'^\t0 file path=/etc/hostname '
	as_nobody "$FDPASS" list --long --json >"$TMP/list.json"
	python3 "$BATS_TEST_DIRNAME/jsoncheck.py" list <"$TMP/list.json"
	run python3 -c 'import json, sys
print(" ".join(g["name"] + ("+fds" if "fds" in g else "") for g in json.load(sys.stdin)))' <"$TMP/list.json"
	assert_output "db web+fds"
}

@test "no rule grants a takeover: another uid is refused whatever it may do" {
	start_broker --mode 0666 --allow uid=65534
	"$FDPASS" send --file /etc/hostname kept
	run as_nobody "$FDPASS" serve --takeover
	assert_failure 1
	assert_output "fdpass: serve: --takeover: takeover refused: only the broker's own user or root may take it over"
	run as_nobody "$FDPASS" list
	assert_success
	assert_output kept
}

@test "peer mode (recv --peer) has the default rules: only its own uid and root" {
	start_peer recv -v --listen -s "$TMP/peer.sock"
	wait_for_line "$TMP/peer.err" 'listening on'
	chmod 666 "$TMP/peer.sock"
	run as_nobody "$FDPASS" send -s "$TMP/peer.sock" --file /etc/hosts theirs
	assert_failure 1
	assert_output "fdpass: send: theirs: permission denied"
	# peer mode serves one client: the one refused ends it
	rc=0
	wait_for_exit "$PEER_PID" || rc=$?
	[ "$rc" -eq 3 ]
	grep -q "the sender left without storing a group" "$TMP/peer.err"
}
