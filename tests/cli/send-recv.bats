#!/usr/bin/env bats
# fdpass send, recv and list: storing, retrieving and describing groups.

load helpers

setup() {
	common_setup
	start_broker
}

@test "send stores standard input by default and recv describes it" {
	"$FDPASS" send conf </etc/hostname
	run "$FDPASS" recv conf
	assert_success
	assert_output --regexp '^0 file path=/etc/hostname .*flags=rdonly'
}

@test "send stores the fds named on the command line, in order" {
	exec 5</etc/hostname 6>"$TMP/out"
	"$FDPASS" send pair 5 6
	exec 5<&- 6>&-
	run "$FDPASS" recv pair
	assert_line --index 0 --regexp '^0 file path=/etc/hostname '
	assert_line --index 1 --regexp "^1 file path=$TMP/out .*flags=wronly"
}

@test "--file and --listen come first in command-line order, then the FD arguments" {
	exec 5</etc/hostname
	"$FDPASS" send --file /etc/hosts --listen "unix:$TMP/u.sock" mixed 5
	run "$FDPASS" recv mixed
	assert_line --index 0 --regexp '^0 file path=/etc/hosts '
	assert_line --index 1 --regexp "^1 socket .*family=unix.*listening=yes"
	assert_line --index 2 --regexp '^2 file path=/etc/hostname '
}

@test "--flags sets how the following --file options are opened" {
	"$FDPASS" send --flags w,create --file "$TMP/new" --flags w,create,append --file "$TMP/log" files
	[ -f "$TMP/new" ]
	run "$FDPASS" recv files
	assert_line --index 0 --regexp 'flags=wronly( |$)'
	assert_line --index 1 --regexp 'flags=wronly,append'
}

@test "--listen creates TCP, UDP, Unix and abstract sockets" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 --listen udp:127.0.0.1:0 \
	    --listen "unix:$TMP/s.sock" --listen "@fdpass-test-$$" socks
	run "$FDPASS" recv socks
	assert_line --index 0 --regexp 'family=inet type=stream .*listening=yes.*local=127\.0\.0\.1:[0-9]+'
	assert_line --index 1 --regexp 'family=inet type=dgram .*local=127\.0\.0\.1:[0-9]+'
	assert_line --index 2 --regexp "family=unix type=stream .*local=$TMP/s.sock"
	assert_line --index 3 --regexp "local=@fdpass-test-$$"
	[ -S "$TMP/s.sock" ]
}

@test "a name already held is refused unless --replace" {
	"$FDPASS" send --file /etc/hostname web
	run "$FDPASS" send --file /etc/hosts web
	assert_failure 1
	assert_output "fdpass: send: web: name already held"
	run "$FDPASS" recv web
	assert_output --partial /etc/hostname
	"$FDPASS" send --replace --file /etc/hosts web
	run "$FDPASS" recv web
	assert_output --partial /etc/hosts
}

@test "recv of an unknown name fails at once" {
	run "$FDPASS" recv nothing
	assert_failure 1
	assert_output "fdpass: recv: nothing: no such name"
}

@test "recv leaves the group held" {
	"$FDPASS" send --file /etc/hostname keep
	"$FDPASS" recv keep
	run "$FDPASS" recv keep
	assert_success
}

@test "253 fds make one group; 254 are refused and nothing is stored" {
	args=()
	for i in $(seq 253); do args+=(--file /dev/null); done
	run "$FDPASS" send "${args[@]}" full
	assert_success
	run "$FDPASS" recv full
	assert_line --index 252 --regexp '^252 chardev'
	exec 5</dev/null
	run "$FDPASS" send "${args[@]}" over 5
	assert_failure 2
	assert_output "fdpass: send: over: too many file descriptors (254); a group holds at most 253"
	run "$FDPASS" list
	assert_output full
}

@test "names follow systemd's fd-name rules" {
	long=$(printf 'n%.0s' {1..255})
	run "$FDPASS" send --file /etc/hostname "$long"
	assert_success
	run "$FDPASS" send --file /etc/hostname "${long}n"
	assert_failure 2
	assert_output --partial "invalid name"
	run "$FDPASS" send --file /etc/hostname "a:b"
	assert_failure 2
	run "$FDPASS" send --file /etc/hostname ""
	assert_failure 2
	run "$FDPASS" send --file /etc/hostname "with space"
	assert_success
	run "$FDPASS" list
	assert_output "$long
with space"
}

@test "list prints held names sorted, across several reply records" {
	for i in $(seq -w 300); do
		"$FDPASS" send --file /dev/null "$(printf 'g%.0s' {1..200})-$i"
	done
	run "$FDPASS" list
	assert_success
	[ "${#lines[@]}" -eq 300 ]
	assert_line --index 0 --regexp -- '-001$'
	assert_line --index 299 --regexp -- '-300$'
}

@test "bad FD arguments are refused before anything is sent" {
	run "$FDPASS" send web 77
	assert_failure 2
	assert_output "fdpass: send: '77' is not an open file descriptor"
	run "$FDPASS" send web notanumber
	assert_failure 2
	run bash -c '"$FDPASS" send web 0 <&-'
	assert_failure 2
	run bash -c '"$FDPASS" send web <&-'
	assert_failure 2
	assert_output --partial "standard input is closed"
	run "$FDPASS" list
	assert_output ""
}

@test "--listen resolves a host name from /etc/hosts, static build or not" {
	grep -qE '^127\.0\.0\.1[[:space:]].*localhost' /etc/hosts ||
	    skip "/etc/hosts does not name 127.0.0.1 localhost"
	"$FDPASS" send --listen tcp:localhost:0 named
	run "$FDPASS" recv named
	assert_line --index 0 --regexp 'listening=yes.*local=(127\.0\.0\.1|\[::1\]):[0-9]+'
}

@test "a --file or --listen that cannot be opened stores nothing" {
	run "$FDPASS" send --file "$TMP/missing" web
	assert_failure 3
	assert_output --partial "$TMP/missing: No such file or directory"
	run "$FDPASS" send --listen tcp:nohost web
	assert_failure 2
	assert_output --partial "port 'nohost': expected a number from 0 to 65535"
	run "$FDPASS" send --listen tcp:no.such.host.invalid:80 web
	assert_failure 3
	assert_output --partial "cannot resolve"
	run "$FDPASS" send --flags bogus --file /etc/hostname web
	assert_failure 2
	assert_output --partial "unknown flag 'bogus'"
	run "$FDPASS" list
	assert_output ""
}

@test "a failed send leaves the caller's fds open and usable" {
	"$FDPASS" send --file /etc/hostname web
	exec 5</etc/hostname
	run "$FDPASS" send web 5
	assert_failure 1
	read -r line <&5
	[ "$line" = "$(head -n1 /etc/hostname)" ]
}

@test "the broker holds the fd after the sender is gone" {
	"$FDPASS" send pipe 5 5> >(cat >"$TMP/through")
	sleep 0.1
	"$FDPASS" exec pipe -- sh -c 'echo through-the-broker >&3'
	"$FDPASS" send --replace --file /dev/null pipe
	for i in $(seq 50); do [ -s "$TMP/through" ] && break; sleep 0.1; done
	run cat "$TMP/through"
	assert_output through-the-broker
}
