#!/usr/bin/env bats
# fdpass exec as systemd-socket-activate: fresh listeners, accept mode,
# inetd mode, inherited LISTEN_FDS, --fd placement, and real consumers.

load helpers

setup() {
	common_setup
	start_broker
	SOCKET_ACTIVATE=$(command -v systemd-socket-activate || :)
	BG_PIDS=
	PROXYD=/lib/systemd/systemd-socket-proxyd
}

# A failed test leaves nothing it started running.
teardown() {
	local p
	for p in $BG_PIDS; do
		kill "$p" 2>/dev/null || :
		wait "$p" 2>/dev/null || :
	done
	common_teardown
}

# A TCP port nobody listens on right now (systemd-socket-activate refuses 0).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Connect to a Unix stream socket, send $2, print what comes back.
unix_talk() {
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
try:  # a program that answers without reading may have closed already
    s.sendall(sys.argv[2].encode())
    s.shutdown(socket.SHUT_WR)
except OSError:
    pass
sys.stdout.write(s.makefile().read())' "$1" "$2"
}

# What the program sees of fd 3 onward: family, type, listening.
SHOW_SOCKETS='import os, socket
for fd in range(3, 3 + int(os.environ["LISTEN_FDS"])):
    s = socket.socket(fileno=fd)
    print(fd, s.family.name, s.type.name, s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
    s.detach()'

@test "exec -l opens TCP (IPv4 and IPv6), UDP, Unix and abstract sockets at 3 onward" {
	run "$FDPASS" exec -l 127.0.0.1:0 -l '[::1]:0' -l 0 -l "$TMP/s" -l "@fdpass-test-$$" \
	    -- python3 -c "$SHOW_SOCKETS"
	assert_success
	assert_line --index 0 "3 AF_INET SOCK_STREAM 1"
	assert_line --index 1 "4 AF_INET6 SOCK_STREAM 1"
	assert_line --index 2 "5 AF_INET6 SOCK_STREAM 1"
	assert_line --index 3 "6 AF_UNIX SOCK_STREAM 1"
	assert_line --index 4 "7 AF_UNIX SOCK_STREAM 1"
	run "$FDPASS" exec -d -l 127.0.0.1:0 -l "$TMP/d" -- python3 -c "$SHOW_SOCKETS"
	assert_line --index 0 "3 AF_INET SOCK_DGRAM 0"
	assert_line --index 1 "4 AF_UNIX SOCK_DGRAM 0"
	run "$FDPASS" exec --seqpacket -l "$TMP/q" -- python3 -c "$SHOW_SOCKETS"
	assert_output "3 AF_UNIX SOCK_SEQPACKET 1"
}

@test "exec -l names sockets unknown, or by --fdname; -E sets or passes variables" {
	run "$FDPASS" exec -l 127.0.0.1:0 -l "$TMP/s" -- sh -c 'echo "$LISTEN_FDS $LISTEN_FDNAMES"'
	assert_output "2 unknown:unknown"
	run "$FDPASS" exec -l 127.0.0.1:0 -l "$TMP/t" --fdname web:ctl -- sh -c 'echo "$LISTEN_FDNAMES"'
	assert_output "web:ctl"
	run "$FDPASS" exec -l 127.0.0.1:0 -l "$TMP/u" --fdname web -- sh -c 'echo "$LISTEN_FDNAMES"'
	assert_output "web:web"
	run env FROM_US=ours "$FDPASS" exec -l 127.0.0.1:0 -E A=1 -E B= -E FROM_US -E NOT_SET \
	    -- sh -c 'echo "$A|$B|$FROM_US|${NOT_SET-unset}"'
	assert_output "1||ours|"
}

@test "groups, -l sockets and inherited LISTEN_FDS mix: inherited first" {
	"$FDPASS" send --file /etc/hostname conf
	run bash -c 'LISTEN_FDS=2 LISTEN_PID=$$ LISTEN_FDNAMES=old:older exec "$0" exec -l "$1" conf -- sh -c "echo \$LISTEN_FDS \$LISTEN_FDNAMES; readlink /proc/\$\$/fd/3 /proc/\$\$/fd/4 /proc/\$\$/fd/5"' \
	    "$FDPASS" "$TMP/s" 3</etc/passwd 4</etc/group
	assert_success
	assert_line --index 0 "4 old:older:conf:unknown"
	assert_line --index 1 /etc/passwd
	assert_line --index 2 /etc/group
	assert_line --index 3 /etc/hostname
	# LISTEN_PID of another process: the fds are not ours to pass on.
	run bash -c 'LISTEN_FDS=1 LISTEN_PID=1 exec "$0" exec conf -- sh -c "echo \$LISTEN_FDS \$LISTEN_FDNAMES"' \
	    "$FDPASS" 3</etc/passwd
	assert_output "1 conf"
	run bash -c 'LISTEN_FDS=2 LISTEN_PID=$$ LISTEN_FDNAMES=one exec "$0" exec conf -- true' \
	    "$FDPASS" 3</etc/passwd 4</etc/group
	assert_failure 2
	assert_output --partial "malformed LISTEN_FDS"
}

@test "--fd N=NAME puts a group at an exact number, 0 included, outside LISTEN_FDS" {
	"$FDPASS" send --file /etc/hostname host
	"$FDPASS" send --file /etc/passwd --file /etc/group pair
	run "$FDPASS" exec --fd 0=host -- sh -c 'read -r line; echo "${LISTEN_FDS-none} $line"'
	assert_output "none $(cat /etc/hostname)"
	run "$FDPASS" exec --fd 7=pair host -- sh -c 'echo "$LISTEN_FDS $LISTEN_FDNAMES"; readlink /proc/$$/fd/3 /proc/$$/fd/7 /proc/$$/fd/8'
	assert_output "$(printf '1 host\n/etc/hostname\n/etc/passwd\n/etc/group')"
}

@test "--fd refuses collisions, bad numbers and missing names, running nothing" {
	"$FDPASS" send --file /etc/hostname host
	"$FDPASS" send --file /etc/passwd --file /etc/group pair
	run "$FDPASS" exec --fd 3=host host -- touch "$TMP/ran"
	assert_failure 2
	assert_output "fdpass: exec: --fd 3=host: fd 3 is taken by the LISTEN_FDS fds (3 to 3)"
	run "$FDPASS" exec --fd 8=pair --fd 9=host -- touch "$TMP/ran"
	assert_failure 2
	assert_output "fdpass: exec: --fd: fd 9 would be both pair and host"
	run "$FDPASS" exec --fd x=host -- touch "$TMP/ran"
	assert_failure 2
	run "$FDPASS" exec --fd 5 -- touch "$TMP/ran"
	assert_failure 2
	assert_output --partial "expected N=NAME"
	run "$FDPASS" exec --fd 5=missing -- touch "$TMP/ran"
	assert_failure 1
	[ ! -e "$TMP/ran" ]
}

@test "exec -l refuses bad addresses and option mixes clearly" {
	run "$FDPASS" exec -l vsock:x:1234 -- true
	assert_failure 2
	assert_output --partial "vsock:x:1234: vsock CID and port are numbers"
	run "$FDPASS" exec --seqpacket -l 127.0.0.1:0 -- true
	assert_failure 2
	assert_output --partial "a seqpacket socket needs a Unix address"
	run "$FDPASS" exec -d --seqpacket -l "$TMP/x" -- true
	assert_failure 2
	run "$FDPASS" exec -a -d -l 127.0.0.1:0 -- true
	assert_failure 2
	assert_output --partial "datagram sockets do not accept connections"
	run "$FDPASS" exec --fdname a:b:c -l 127.0.0.1:0 -l "$TMP/y" -- true
	assert_failure 2
	run "$FDPASS" exec --fdname 'bad name:' -l 127.0.0.1:0 -- true
	assert_failure 2
	run "$FDPASS" exec -E =x -l 127.0.0.1:0 -- true
	assert_failure 2
	run "$FDPASS" exec -l 127.0.0.1:notaport -- true
	assert_failure 2
	run "$FDPASS" exec --inetd -l 127.0.0.1:0 -l "$TMP/z" -- true
	assert_failure 2
	assert_output --partial "--inetd without --accept passes exactly one fd"
}

@test "--accept runs the program once per connection, with the connection at fd 3" {
	start_notify_listener
	"$FDPASS" exec -a -l "$TMP/a.sock" -- sh -c 'echo "$$ $LISTEN_FDS $LISTEN_FDNAMES $(cat <&3)" >&3' \
	    3>&- 4>&- 5>&- &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	notified "READY=1"
	run unix_talk "$TMP/a.sock" one
	[[ "$output" =~ ^([0-9]+)\ 1\ connection\ one$ ]]
	first=${BASH_REMATCH[1]}
	run unix_talk "$TMP/a.sock" two
	[[ "$output" =~ ^([0-9]+)\ 1\ connection\ two$ ]]
	[ "${BASH_REMATCH[1]}" != "$first" ]
	kill -TERM "$pid"
	wait "$pid"
	notified "STOPPING=1"
}

@test "--accept --inetd puts the connection on stdin and stdout; --fdname names it" {
	"$FDPASS" exec -a --inetd -l "$TMP/i.sock" -- sh -c 'echo "${LISTEN_FDS-none}"; cat' \
	    3>&- 4>&- 5>&- &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	wait_for test -S "$TMP/i.sock"
	run unix_talk "$TMP/i.sock" echoed
	assert_output "$(printf 'none\nechoed')"
	kill -TERM "$pid"
	wait "$pid"
	"$FDPASS" send --listen "unix:$TMP/g.sock" stored
	"$FDPASS" exec -a --fdname peer stored -- sh -c 'echo "$LISTEN_FDNAMES" >&3' \
	    3>&- 4>&- 5>&- &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	run unix_talk "$TMP/g.sock" ""
	assert_output peer
	kill -TERM "$pid"
	wait "$pid"
}

@test "--accept refuses fds that do not listen" {
	"$FDPASS" send --file /etc/hostname conf
	run "$FDPASS" exec -a conf -- true
	assert_failure 2
	assert_output --partial "fd 0 of those to pass (conf) is not a listening"
}

@test "--on-connect execs only once a connection waits" {
	"$FDPASS" exec --on-connect -l "$TMP/w.sock" -- sh -c 'touch "$0"; cat <&3 >/dev/null' "$TMP/ran" \
	    3>&- 4>&- 5>&- &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	wait_for test -S "$TMP/w.sock"
	[ ! -e "$TMP/ran" ]
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$TMP/w.sock"
	wait_for test -e "$TMP/ran"
	kill "$pid" 2>/dev/null || :
	wait "$pid" || :
}

@test "send --listen-fds stores inherited fds under their names, one group per name" {
	run bash -c 'LISTEN_FDS=3 LISTEN_PID=$$ LISTEN_FDNAMES=web:conf:web exec "$0" send --listen-fds' \
	    "$FDPASS" 3</etc/hostname 4</etc/hosts 5</etc/passwd
	assert_success
	run "$FDPASS" list
	assert_output "$(printf 'conf\nweb')"
	run "$FDPASS" recv web
	assert_line --index 0 --partial "path=/etc/hostname"
	assert_line --index 1 --partial "path=/etc/passwd"
	run bash -c 'LISTEN_FDS=1 LISTEN_PID=$$ LISTEN_FDNAMES=web exec "$0" send --listen-fds' \
	    "$FDPASS" 3</etc/hostname
	assert_failure 1
	assert_output "fdpass: send: web: name already held"
	run "$FDPASS" send --listen-fds
	assert_failure 2
	assert_output --partial "no fds inherited through LISTEN_FDS"
	run "$FDPASS" send --listen-fds name
	assert_failure 2
}

@test "libsystemd's sd_listen_fds_with_names accepts what exec hands over" {
	[ -x "$SD_LISTEN" ] || skip "built without libsystemd"
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	"$FDPASS" send --file /etc/hostname conf
	run "$FDPASS" exec -l "$TMP/s" --fdname ctl web conf -- "$SD_LISTEN"
	assert_success
	assert_output "$(printf '3\n3 web stream-listening inherit\n4 conf not-a-socket inherit\n5 ctl stream-listening inherit')"
	run "$FDPASS" exec -d -l 127.0.0.1:0 -- "$SD_LISTEN"
	assert_output "$(printf '1\n3 unknown dgram inherit')"
}

# $1 is what sd-listen --pidfdid printed: LISTEN_PIDFDID names the process
# that reads it where pidfds have inodes of their own, and is unset elsewhere.
pidfdid_is_own() {
	[[ "$1" =~ ^pidfdid=([0-9]+)\ own=([0-9]+)$ ]] &&
	    [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && return 0
	[ "$1" = "pidfdid=unset own=none" ] || fail "LISTEN_PIDFDID wrong: $1"
}

@test "LISTEN_PIDFDID is the inode of the program's own pidfd where the kernel has pidfs" {
	[ -x "$SD_LISTEN" ] || skip "built without libsystemd"
	"$FDPASS" send --listen tcp:127.0.0.1:0 web
	# A stale one from the parent never reaches the program.
	run env LISTEN_PIDFDID=1 "$FDPASS" exec web -- "$SD_LISTEN" --pidfdid
	assert_success
	pidfdid_is_own "${lines[0]}"
	assert_line --index 2 "3 web stream-listening inherit"
	# Each --accept child gets its own.
	LISTEN_PIDFDID=1 "$FDPASS" exec -a -l "$TMP/a.sock" -- sh -c 'exec "$0" --pidfdid >"$1.$$"' \
	    "$SD_LISTEN" "$TMP/out" 3>&- 4>&- 5>&- &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	wait_for test -S "$TMP/a.sock"
	unix_talk "$TMP/a.sock" "" >/dev/null
	wait_for compgen -G "$TMP/out.*"
	wait_for grep -q stream "$TMP"/out.*
	kill -TERM "$pid"
	wait "$pid"
	run cat "$TMP"/out.*
	pidfdid_is_own "${lines[0]}"
	assert_line --index 2 "3 connection stream inherit"
}

@test "exec -l and systemd-socket-activate -l give a program the same" {
	[ -x "$SD_LISTEN" ] || skip "built without libsystemd"
	[ -n "$SOCKET_ACTIVATE" ] || skip "no systemd-socket-activate"
	port=$(free_port)
	# The same program, the same options, a clean environment for both:
	# systemd-socket-activate passes on only PATH, HOME, USER, TERM.
	# Debian 12's systemd (252) sets no LISTEN_PIDFDID; 258 does, as exec does.
	show='env | grep -E "^(LISTEN_|FOO=)" | grep -v ^LISTEN_PIDFDID= | sed "s/^LISTEN_PID=$$\$/LISTEN_PID=self/" | sort; exec "$0"'
	run env -i PATH="$PATH" "$FDPASS" exec -l "127.0.0.1:$port" --fdname web -E FOO=bar \
	    -- sh -c "$show" "$SD_LISTEN"
	assert_success
	ours=$output
	env -i PATH="$PATH" "$SOCKET_ACTIVATE" -l "127.0.0.1:$port" --fdname web -E FOO=bar \
	    -- sh -c "$show" "$SD_LISTEN" >"$TMP/theirs" 2>/dev/null 3>&- 4>&- 5>&- &
	pid=$!
	BG_PIDS="$BG_PIDS $pid"
	# systemd-socket-activate execs on the first connection.
	wait_for python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])))' "$port"
	wait "$pid"
	run cat "$TMP/theirs"
	assert_output "$ours"
	assert_line "LISTEN_PID=self"
	assert_line "LISTEN_FDNAMES=web"
	assert_line "3 web stream-listening inherit"
}

@test "systemd-socket-proxyd serves a page through a stored listener under exec" {
	[ -x "$PROXYD" ] || skip "no systemd-socket-proxyd"
	mkdir "$TMP/www"
	echo "hello through fdpass" >"$TMP/www/index.html"
	web_port=$(free_port)
	python3 -m http.server --bind 127.0.0.1 --directory "$TMP/www" "$web_port" \
	    >/dev/null 2>&1 3>&- 4>&- 5>&- &
	web_pid=$!
	BG_PIDS="$BG_PIDS $web_pid"
	"$FDPASS" send --listen tcp:127.0.0.1:0 front
	port=$("$FDPASS" recv front | sed -n 's/.*local=127\.0\.0\.1:\([0-9]*\).*/\1/p')
	"$FDPASS" exec front -- "$PROXYD" "127.0.0.1:$web_port" 3>&- 4>&- 5>&- 2>/dev/null &
	proxy_pid=$!
	BG_PIDS="$BG_PIDS $proxy_pid"
	fetch='import sys, urllib.request
print(urllib.request.urlopen("http://127.0.0.1:%s/index.html" % sys.argv[1], timeout=10).read().decode(), end="")'
	wait_for python3 -c "$fetch" "$web_port" >/dev/null
	run python3 -c "$fetch" "$port"
	kill "$proxy_pid" "$web_pid"
	wait "$proxy_pid" "$web_pid" || :
	assert_output "hello through fdpass"
}
