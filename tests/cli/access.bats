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
	run "$FDPASS" serve --allow uid=1,uid=2
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
