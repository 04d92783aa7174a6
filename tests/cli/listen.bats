#!/usr/bin/env bats
# Listeners as a systemd .socket unit makes them: every kind, every setting
# read back after a round trip through the broker, every refusal named,
# network namespaces, and nothing left behind by a failure.

load helpers

SOCKOPTS="$BATS_TEST_DIRNAME/sockopts.py"

setup() {
	common_setup
	start_broker
	NETNS=
	MQUEUE=
	SERVERS=()
}

# Servers, namespaces and queues a test made go even when it fails.
teardown() {
	kill_all "${SERVERS[@]}"
	[ -z "$NETNS" ] || ip netns del "$NETNS" 2>/dev/null || :
	[ -z "$MQUEUE" ] || python3 -c 'import ctypes, sys
ctypes.CDLL(None).mq_unlink(sys.argv[1].encode())' "$MQUEUE"
	common_teardown
}

# Store SPEC as group g, then print what the fd carries as a program exec'd
# with it reads it back (tests/cli/sockopts.py).
readback() {
	"$FDPASS" send --replace --listen "$1" g || return
	"$FDPASS" exec g -- python3 "$SOCKOPTS"
}

# The port of group $1's first socket, from its description.
port_of() {
	"$FDPASS" recv "$1" | sed -n '1s/.* local=[^ ]*:\([0-9]*\) .*/\1/p'
}

# Connect to 127.0.0.1:$1 over TCP (the connection waits in the listener's
# queue); fails when nothing listens there.
tcp_connect() {
	python3 -c 'import socket, sys
socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)' "$1"
}

# Connect to the abstract Unix name $1.
abstract_connect() {
	python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).connect("\0" + sys.argv[1])' "$1"
}

# A network namespace of our own, $NETNS, with its loopback up.
need_netns() {
	[ "$(id -u)" = 0 ] || skip "needs root to make a network namespace"
	command -v ip >/dev/null || skip "needs ip (iproute2)"
	NETNS="fdpass-test-$$-$BATS_TEST_NUMBER"
	ip netns add "$NETNS" || skip "cannot make a network namespace here"
	# In a chroot whose / is not a mount point, ip netns add says it failed
	# to set up its mounts yet exits 0, leaving a namespace none can enter.
	ip -n "$NETNS" link set lo up ||
		skip "cannot enter the network namespace ip netns add made here"
}

# Whether this kernel makes sockets of family, type and protocol.
kernel_has() {
	python3 -c 'import socket, sys
socket.socket(*map(int, sys.argv[1:])).close()' "$@" 2>/dev/null
}

@test "TCP settings read back after a round trip through the broker" {
	[ "$(id -u)" = 0 ] || skip "Mark= and Transparent= need CAP_NET_ADMIN"
	run readback "tcp:127.0.0.1:0,ReusePort=yes,FreeBind=yes,Transparent=yes,NoDelay=yes,KeepAlive=yes,KeepAliveTimeSec=1min 30s,KeepAliveIntervalSec=7,KeepAliveProbes=4,DeferAcceptSec=5,Mark=42,IPTOS=low-delay,Priority=5,IPTTL=9,ReceiveBuffer=256K,SendBuffer=128K,BindToDevice=lo,TCPCongestion=reno"
	assert_success
	for line in listening=1 reuseport=1 freebind=1 transparent=1 nodelay=1 \
	    keepalive=1 keepidle=90 keepintvl=7 keepcnt=4 mark=42 tos=16 \
	    priority=5 ttl=9 rcvbuf=524288 sndbuf=262144 bindtodevice=lo \
	    congestion=reno; do
		assert_line "$line"
	done
	# The kernel keeps TCP_DEFER_ACCEPT as retransmissions: 5 s reads back as 7.
	assert_line --regexp '^defer_accept=([5-9]|[1-9][0-9]+)$'
}

@test "Backlog= shows in the description and in ss, and really queues that many connections" {
	"$FDPASS" send --listen 'tcp:127.0.0.1:0,Backlog=3' web
	port=$(port_of web)
	run "$FDPASS" recv web
	assert_output --regexp "listening=yes local=127\.0\.0\.1:$port backlog=3 pending=0 reuseport=no "
	run ss -Hltn "sport = :$port"
	assert_output --regexp "^LISTEN +0 +3 "
	# The kernel queues backlog + 1 connections; the next SYN is dropped.
	run python3 -c 'import select, socket, sys
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(4)]
extra = socket.socket()
extra.setblocking(False)
extra.connect_ex(("127.0.0.1", port))
w = select.select([], [extra], [], 1.5)[1]
done = w and extra.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
print("queued=%d extra=%s" % (len(held), "connected" if done else "waiting"))' "$port"
	assert_output "queued=4 extra=waiting"
	run "$FDPASS" recv web
	assert_output --regexp " backlog=3 pending=4 "
}

@test "IPv6 settings: BindIPv6Only=, IPTTL=, IPTOS=, PassPacketInfo=" {
	kernel_has 10 1 0 && python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' ||
	    skip "no IPv6 here"
	run readback 'tcp:[::]:0,BindIPv6Only=ipv6-only,IPTTL=17,IPTOS=throughput,PassPacketInfo=yes'
	assert_success
	for line in family=AF_INET6 v6only=1 hops=17 ttl=17 tclass=8 tos=8 recvpktinfo=1; do
		assert_line "$line"
	done
	run "$FDPASS" recv g
	assert_output --regexp "family=inet6 .* v6only=yes "
	run readback 'tcp:*:0,BindIPv6Only=both'
	assert_line v6only=0
	run readback '[::]:0,BindIPv6Only=default'
	assert_line "v6only=$(cat /proc/sys/net/ipv6/bindv6only)"
}

@test "UDP settings: Broadcast=, PassPacketInfo=, Timestamping=, ReusePort=" {
	run readback 'udp:127.0.0.1:0,Broadcast=yes,PassPacketInfo=yes,Timestamping=ns,ReusePort=yes,ReceiveBuffer=64K'
	assert_success
	for line in listening=0 broadcast=1 pktinfo=1 timestampns=1 reuseport=1 rcvbuf=131072; do
		assert_line "$line"
	done
	run readback 'udp:127.0.0.1:0,Timestamping=usec'
	assert_line timestamp=1
	assert_line timestampns=0
}

@test "Unix path settings: SocketMode=, SocketUser=, SocketGroup=, DirectoryMode=, Symlinks=, and socket options" {
	need_root
	run readback "unix:$TMP/run/app/s.sock,SocketMode=0660,SocketUser=nobody,SocketGroup=root,DirectoryMode=0750,Symlinks=$TMP/a.sock $TMP/links/b.sock,PassCredentials=yes,PassSecurity=yes,Timestamping=us,Backlog=11"
	assert_success
	for line in passcred=1 passsec=1 timestamp=1; do
		assert_line "$line"
	done
	[ "$(stat -c '%a %U %G %F' "$TMP/run/app/s.sock")" = "660 nobody root socket" ]
	[ "$(stat -c %a "$TMP/run")" = 750 ]
	[ "$(stat -c %a "$TMP/run/app")" = 750 ]
	[ "$(readlink "$TMP/a.sock")" = "$TMP/run/app/s.sock" ]
	[ "$(readlink "$TMP/links/b.sock")" = "$TMP/run/app/s.sock" ]
	run "$FDPASS" recv g
	assert_output --regexp "listening=yes local=$TMP/run/app/s.sock backlog=11 pending=0 "
	# SocketUser= alone takes the user's own group.
	"$FDPASS" send --listen "unix:$TMP/u.sock,SocketUser=nobody" u
	[ "$(stat -c '%U %g' "$TMP/u.sock")" = "nobody $(id -g nobody)" ]
}

@test "fifo: is made if missing, opened read-write, with its mode, owner and PipeSize=" {
	need_root
	run readback "fifo:$TMP/pipes/in,SocketMode=0620,SocketUser=nobody,PipeSize=256K,Symlinks=$TMP/in"
	assert_success
	for line in kind=fifo mode=0o620 "uid=$(id -u nobody)" access=rw pipe_size=262144; do
		assert_line "$line"
	done
	[ -p "$TMP/pipes/in" ]
	[ "$(readlink "$TMP/in")" = "$TMP/pipes/in" ]
	run "$FDPASS" recv g
	assert_output --regexp "^0 fifo path=$TMP/pipes/in .*end=both pipe_size=262144 "
	# What a writer puts in the path reaches whoever holds the fd.
	echo hello >"$TMP/pipes/in"
	run "$FDPASS" exec g -- sh -c 'head -n1 <&3'
	assert_output hello
	# A FIFO that is there already is opened as it is.
	"$FDPASS" send --listen "fifo:$TMP/pipes/in" again
	run "$FDPASS" send --listen "fifo:$TMP/pipes/in,SocketMode=0600" other
	assert_failure 3
	assert_output --partial "SocketMode=0600: $TMP/pipes/in is there already with mode 0620"
	touch "$TMP/plain"
	run "$FDPASS" send --listen "fifo:$TMP/plain" other
	assert_failure 3
	assert_output --partial "$TMP/plain is there already and is not a FIFO"
}

@test "special: opens a character device or /proc file, read-only unless Writable=yes" {
	run readback 'special:/dev/null'
	assert_line kind=chardev
	assert_line access=r
	run readback 'special:/dev/null,Writable=yes'
	assert_line access=rw
	run readback 'special:/proc/self/status'
	assert_line kind=file
	run "$FDPASS" send --listen "special:$TMP" other
	assert_failure 3
	assert_output --partial "is not a special file"
}

@test "netlink: makes a netlink socket of the family, bound to the groups" {
	run readback 'netlink:kobject-uevent:1,PassCredentials=yes,PassPacketInfo=yes,ReceiveBuffer=1M'
	assert_success
	for line in family=AF_NETLINK protocol=15 groups=1 passcred=1 nlpktinfo=1; do
		assert_line "$line"
	done
	run readback 'netlink:route'
	assert_line protocol=0
	assert_line groups=0
}

@test "mqueue: makes a message queue with MessageQueueMaxMessages=, MessageQueueMessageSize=, SocketMode=" {
	MQUEUE="/fdpass-test-$$"
	run readback "mqueue:$MQUEUE,MessageQueueMaxMessages=4,MessageQueueMessageSize=128,SocketMode=0600"
	assert_success
	assert_line mode=0o600
	assert_line access=r
	run "$FDPASS" recv g
	assert_output --regexp "^0 mqueue name=$MQUEUE .*max_messages=4 message_size=128 "
	run "$FDPASS" send --listen "mqueue:$MQUEUE,MessageQueueMaxMessages=5,MessageQueueMessageSize=128" other
	assert_failure 3
	assert_output --partial "there already with MessageQueueMaxMessages=4"
}

@test "vsock:, and SocketProtocol= sctp, udplite, mptcp: made where the kernel has them, a clear error where not" {
	check() {	# spec, family, type, protocol, the name the error gives
		if kernel_has "$2" "$3" "$4"; then
			run "$FDPASS" send --replace --listen "$1" p
			assert_success
			run "$FDPASS" exec p -- python3 "$SOCKOPTS"
			assert_line "protocol=$4"
		else
			run "$FDPASS" send --replace --listen "$1" p
			assert_failure 3
			assert_output --partial "this kernel does not support $5"
		fi
	}
	# vsock ports are one space for the machine: one of ours
	check "vsock::$((20000 + $$ % 40000))" 40 1 0 vsock
	check 'tcp:127.0.0.1:0,SocketProtocol=sctp' 2 1 132 SCTP
	check 'udp:127.0.0.1:0,SocketProtocol=udplite' 2 2 136 UDP-Lite
	check 'tcp:127.0.0.1:0,SocketProtocol=mptcp' 2 1 262 MPTCP
}

@test "NetworkNamespacePath=: the listener lives in that namespace, reachable from inside it and not from ours" {
	need_netns
	"$FDPASS" send --listen "tcp:127.0.0.1:0,NetworkNamespacePath=/run/netns/$NETNS" web
	port=$(port_of web)
	run "$FDPASS" recv web
	assert_output --regexp " netns=$(stat -L -c %i "/run/netns/$NETNS") "
	# From ours the port is another one (which something else on this
	# machine may be listening on): a connection never lands in this queue.
	run tcp_connect "$port"
	run "$FDPASS" recv web
	assert_output --regexp " pending=0 "
	ip netns exec "$NETNS" python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"from inside\n")' "$port"
	run "$FDPASS" recv web
	assert_output --regexp " pending=1 "
	# Handed to a program in our namespace, the socket still serves that one.
	run "$FDPASS" exec web -- python3 -c 'import socket
s = socket.socket(fileno=3)
s.settimeout(10)
c = s.accept()[0]
print(c.makefile().readline().strip())'
	assert_output "from inside"
	# An abstract name is per namespace too.
	"$FDPASS" send --listen "@fdpass-test-$$,NetworkNamespacePath=/run/netns/$NETNS" abs
	run abstract_connect "fdpass-test-$$"
	assert_failure
	ip netns exec "$NETNS" python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).connect("\0" + sys.argv[1])' "fdpass-test-$$"
	# A socket on a path is reachable wherever the path is seen: the file
	# system is no part of a network namespace.
	"$FDPASS" send --listen "unix:$TMP/ns.sock,NetworkNamespacePath=/run/netns/$NETNS" path
	python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$TMP/ns.sock"
	# The settings apply in the namespace.
	theirs=$(stat -L -c %i "/run/netns/$NETNS")
	ours=$(stat -L -c %i /proc/self/ns/net)
	run readback "tcp:127.0.0.1:0,NetworkNamespacePath=/run/netns/$NETNS,ReusePort=yes"
	assert_line "netns=$theirs"
	assert_line reuseport=1
	# One send makes a listener in the namespace, a plain one, an abstract
	# one and another in the namespace: fdpass came back to ours after each.
	"$FDPASS" send --listen "tcp:127.0.0.1:0,NetworkNamespacePath=/run/netns/$NETNS" \
	    --listen tcp:127.0.0.1:0 --listen "@fdpass-test-$$-ours" \
	    --listen "@fdpass-test-$$-theirs,NetworkNamespacePath=/run/netns/$NETNS" mix
	run "$FDPASS" recv mix
	assert_line --index 0 --regexp "^0 socket .* netns=$theirs( |$)"
	assert_line --index 1 --regexp "^1 socket .* local=127\.0\.0\.1:"
	assert_line --index 2 --regexp "^2 socket .* local=@fdpass-test-$$-ours "
	assert_line --index 3 --regexp "^3 socket .* netns=$theirs( |$)"
	refute_line --index 1 --partial " netns="
	refute_line --index 2 --partial " netns="
	run "$FDPASS" exec mix -- sh -c 'for fd in 3 4 5 6; do python3 "$0" "$fd" | grep "^netns="; done' "$SOCKOPTS"
	assert_output "netns=$theirs
netns=$ours
netns=$ours
netns=$theirs"
	abstract_connect "fdpass-test-$$-ours"
	run abstract_connect "fdpass-test-$$-theirs"
	assert_failure
}

# Whether process $1 is in the network namespace whose inode is $2.
in_netns() {
	[ "$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null)" = "$2" ]
}

@test "NetworkNamespacePath=/proc/PID/ns/net: the namespace a running process is in" {
	need_netns
	local pid theirs
	theirs=$(stat -L -c %i "/run/netns/$NETNS")
	ip netns exec "$NETNS" sleep 60 3>&- 4>&- 5>&- &
	pid=$!
	wait_for in_netns "$pid" "$theirs"
	"$FDPASS" send --listen "tcp:127.0.0.1:0,NetworkNamespacePath=/proc/$pid/ns/net" web
	kill "$pid"
	wait "$pid" || :
	run "$FDPASS" recv web
	assert_output --regexp " netns=$theirs "
	refute_output --regexp " netns=$(stat -L -c %i /proc/self/ns/net) "
}

@test "settings the kernel refuses give exit 3 naming the setting and store nothing" {
	need_root
	need_netns
	open_tmp_to_nobody
	run as_nobody "$FDPASS" send --listen "tcp:127.0.0.1:0,NetworkNamespacePath=/run/netns/$NETNS" web
	assert_failure 3
	assert_output "fdpass: send: cannot listen on tcp:127.0.0.1:0,NetworkNamespacePath=/run/netns/$NETNS: NetworkNamespacePath=/run/netns/$NETNS: Operation not permitted (needs CAP_SYS_ADMIN)"
	run as_nobody "$FDPASS" send --listen 'tcp:127.0.0.1:0,Mark=7' web
	assert_failure 3
	assert_output --partial "Mark=7: Operation not permitted (needs CAP_NET_ADMIN)"
	run as_nobody "$FDPASS" exec -l 'tcp:127.0.0.1:0,Transparent=yes' -- touch "$TMP/ran"
	assert_failure 3
	assert_output --partial "Transparent=yes: Operation not permitted"
	run "$FDPASS" send --listen "tcp:127.0.0.1:0,NetworkNamespacePath=$TMP" web
	assert_failure 3
	assert_output --partial "NetworkNamespacePath=$TMP: not a network namespace"
	run "$FDPASS" send --listen 'tcp:127.0.0.1:0,BindToDevice=nosuchdev0' web
	assert_failure 3
	assert_output --partial "BindToDevice=nosuchdev0: No such device"
	run "$FDPASS" send --listen 'tcp:127.0.0.1:0,TCPCongestion=nosuchalgo' web
	assert_failure 3
	assert_output --partial "TCPCongestion=nosuchalgo: no such congestion control algorithm"
	[ ! -e "$TMP/ran" ]
	run "$FDPASS" list
	assert_output ""
}

@test "a bad, unknown or inapplicable setting is a usage error naming it, and nothing is created or stored" {
	while IFS='|' read -r spec want; do
		run "$FDPASS" send --listen "$spec" web
		assert_failure 2
		assert_output "fdpass: send: $spec: $want"
		run "$FDPASS" exec -l "$spec" -- touch "$TMP/ran"
		assert_failure 2
		assert_output "fdpass: exec: $spec: $want"
	done <<EOF
tcp:127.0.0.1:0,Bogus=1|unknown setting 'Bogus' (fdpass(1) lists them: LISTENERS, Settings)
tcp:127.0.0.1:0,Backlog=many|Backlog=many: expected a whole number from 0 to 4294967295
tcp:127.0.0.1:0,NoDelay=perhaps|NoDelay=perhaps: expected yes or no
tcp:127.0.0.1:0,KeepAliveTimeSec=5 lightyears|KeepAliveTimeSec=5 lightyears: expected a time span such as 5, 1.5s, 500ms, 2min or 1h 30min, or infinity
tcp:127.0.0.1:0,KeepAliveTimeSec=500ms|KeepAliveTimeSec=500ms: 0 seconds (cut to whole seconds, as systemd cuts them); the kernel takes 1 to 32767
tcp:127.0.0.1:0,DeferAcceptSec=1.5.5s|DeferAcceptSec=1.5.5s: expected a time span such as 5, 1.5s, 500ms, 2min or 1h 30min, or infinity
tcp:127.0.0.1:0,ReceiveBuffer=1.5.5M|ReceiveBuffer=1.5.5M: expected a size in bytes such as 65536, 64K or 1.5M (K, M, G, T, P, E: powers of 1024)
tcp:127.0.0.1:0,ReceiveBuffer=3T|ReceiveBuffer=3T: 3298534883328 bytes, more than the kernel takes (at most 2147483647)
tcp:127.0.0.1:0,BindIPv6Only=sometimes|BindIPv6Only=sometimes: expected one of default both ipv6-only
tcp:127.0.0.1:0,IPTTL=300|IPTTL=300: expected a whole number from 1 to 255
udp:127.0.0.1:0,NoDelay=yes|NoDelay= applies to IP stream sockets (TCP, SCTP, MPTCP) only
udp:127.0.0.1:0,Backlog=5|Backlog= applies to IP stream sockets (TCP, SCTP, MPTCP), Unix stream and seqpacket sockets and vsock stream and seqpacket sockets only
tcp:127.0.0.1:0,PipeSize=1M|PipeSize= applies to FIFOs only
@fdpass-test,SocketMode=0600|SocketMode= applies to Unix sockets on a path, FIFOs and message queues only
unix:$TMP/x.sock,ReusePort=yes|ReusePort= applies to IP sockets only
unix:$TMP/x.sock,SocketUser=no-such-user-here|SocketUser=no-such-user-here: expected a user name or uid that exists
mqueue:/q,MessageQueueMaxMessages=3|MessageQueueMaxMessages= and MessageQueueMessageSize= go together: give both or neither
tcp:127.0.0.1:0,SocketProtocol=udplite|SocketProtocol=udplite: UDP-Lite is for datagram sockets (udp:)
EOF
	[ ! -e "$TMP/ran" ]
	[ ! -e "$TMP/x.sock" ]
	run "$FDPASS" list
	assert_output ""
	# The section the unknown-setting message points to is there.
	sed -n '/^\.Sh LISTENERS$/,/^\.Sh /p' "$BATS_TEST_DIRNAME/../../man/fdpass.1" |
	    grep -qx '\.Ss Settings'
}

@test "sizes and time spans as systemd writes them: fractions, every suffix, units, infinity, cut to what the kernel takes" {
	[ "$(id -u)" = 0 ] || skip "buffers past net.core.[rw]mem_max need CAP_NET_ADMIN"
	run readback 'tcp:127.0.0.1:0,ReceiveBuffer=1.5M,SendBuffer=0.0001T,KeepAliveTimeSec=1.5min,KeepAliveIntervalSec=2min 5s,DeferAcceptSec=1.5s'
	assert_success
	# The kernel doubles buffer sizes; 0.0001T is 109951162.7776 bytes, cut.
	for line in rcvbuf=3145728 sndbuf=219902324 keepidle=90 keepintvl=125 defer_accept=1; do
		assert_line "$line"
	done
	# infinity: the longest the kernel takes, or, for KeepAliveTimeSec=,
	# the kernel's default, as under systemd; 0 leaves the default too.
	run readback 'tcp:127.0.0.1:0,DeferAcceptSec=infinity,KeepAliveIntervalSec=infinity,KeepAliveTimeSec=infinity,ReceiveBuffer=0'
	assert_success
	assert_line keepintvl=32767
	assert_line "keepidle=$(cat /proc/sys/net/ipv4/tcp_keepalive_time)"
	assert_line --regexp '^defer_accept=[0-9]{4,}$'
	run readback "fifo:$TMP/f,PipeSize=0.5M"
	assert_line pipe_size=524288
	# Too big for the kernel's field: a usage error naming the setting.
	run "$FDPASS" send --listen 'tcp:127.0.0.1:0,ReceiveBuffer=1T' web
	assert_failure 2
	assert_output "fdpass: send: tcp:127.0.0.1:0,ReceiveBuffer=1T: ReceiveBuffer=1T: 1099511627776 bytes, more than the kernel takes (at most 2147483647)"
	run "$FDPASS" exec -l 'tcp:127.0.0.1:0,DeferAcceptSec=100y' -- true
	assert_failure 2
	assert_output --partial "DeferAcceptSec=100y: 3155760000 seconds (cut to whole seconds, as systemd cuts them); the kernel takes 0 to 2147483647"
}

@test "ports outside 0-65535 and ports that are not numbers are usage errors, for send and exec alike" {
	for spec in tcp:127.0.0.1:65536 tcp:127.0.0.1:65537 tcp:127.0.0.1:70000 \
	    udp:127.0.0.1:99999 tcp:127.0.0.1:18446744073709551617 \
	    tcp:127.0.0.1:-1 tcp:127.0.0.1:http tcp:127.0.0.1: 65536; do
		run "$FDPASS" send --listen "$spec" web
		assert_failure 2
		assert_output --regexp "^fdpass: send: $spec: port '.*': expected a number from 0 to 65535$"
		run "$FDPASS" exec -l "$spec" -- touch "$TMP/ran"
		assert_failure 2
		assert_output --partial "expected a number from 0 to 65535"
	done
	[ ! -e "$TMP/ran" ]
	run "$FDPASS" list
	assert_output ""
}

@test "a malformed spec is exit 2, a system failure exit 3, for send --listen and exec -l alike, in one message" {
	for spec in tcp:nohost 'tcp:[::1' a:b:c 'tcp:127.0.0.1:0,Backlog=x' vsock:x:1; do
		run "$FDPASS" send --listen "$spec" web
		assert_failure 2
		[ "${#lines[@]}" -eq 1 ]
		run "$FDPASS" exec -l "$spec" -- true
		assert_failure 2
		[ "${#lines[@]}" -eq 1 ]
	done
	"$FDPASS" send --listen tcp:127.0.0.1:0 held
	port=$(port_of held)
	run "$FDPASS" send --listen "tcp:127.0.0.1:$port" web
	assert_failure 3
	assert_output "fdpass: send: cannot listen on tcp:127.0.0.1:$port: bind: Address already in use"
	run "$FDPASS" exec -l "tcp:127.0.0.1:$port" -- true
	assert_failure 3
	assert_output "fdpass: exec: cannot listen on tcp:127.0.0.1:$port: bind: Address already in use"
	run "$FDPASS" send --listen tcp:no.such.host.invalid:80 web
	assert_failure 3
	assert_output --partial "cannot resolve no.such.host.invalid"
}

@test "every spec is parsed before any is opened" {
	run "$FDPASS" exec -l "unix:$TMP/first.sock" -l 'tcp:127.0.0.1:0,NoDelay=maybe' -- touch "$TMP/ran"
	assert_failure 2
	assert_output "fdpass: exec: tcp:127.0.0.1:0,NoDelay=maybe: NoDelay=maybe: expected yes or no"
	run "$FDPASS" send --listen "unix:$TMP/first.sock" --listen 'fifo:x,Backlog=1' web
	assert_failure 2
	[ ! -e "$TMP/first.sock" ]
	[ ! -e "$TMP/ran" ]
	[ ! -e x ]
}

@test "a listener that fails after its file is made leaves nothing behind, but never removes what was there" {
	touch "$TMP/taken"
	run "$FDPASS" send --listen "unix:$TMP/new/dir/s.sock,Symlinks=$TMP/new/link $TMP/taken" web
	assert_failure 3
	assert_output --partial "Symlinks=$TMP/taken: File exists"
	[ ! -e "$TMP/new" ]
	run "$FDPASS" send --listen "fifo:$TMP/made/f,Symlinks=$TMP/taken" web
	assert_failure 3
	[ ! -e "$TMP/made" ]
	mkfifo "$TMP/kept"
	run "$FDPASS" send --listen "fifo:$TMP/kept,Symlinks=$TMP/taken" web
	assert_failure 3
	[ -p "$TMP/kept" ]
	[ -f "$TMP/taken" ]
	run "$FDPASS" list
	assert_output ""
}

@test "a command that fails leaves nothing any of its listeners made, but never removes what was there" {
	"$FDPASS" send --listen tcp:127.0.0.1:0 held
	port=$(port_of held)
	mkfifo "$TMP/kept"
	mkdir "$TMP/old"
	spec_a="unix:$TMP/a/b/s.sock,Symlinks=$TMP/links/s $TMP/old/s"
	spec_b="fifo:$TMP/f/in,Symlinks=$TMP/old/f"
	# The third listener fails: the two made before it go.
	run "$FDPASS" send --listen "$spec_a" --listen "$spec_b" --listen "fifo:$TMP/kept" --listen "tcp:127.0.0.1:$port" web
	assert_failure 3
	assert_output "fdpass: send: cannot listen on tcp:127.0.0.1:$port: bind: Address already in use"
	[ ! -e "$TMP/a" ]
	[ ! -e "$TMP/links" ]
	[ ! -e "$TMP/f" ]
	[ -p "$TMP/kept" ]
	[ -d "$TMP/old" ]
	[ -z "$(ls "$TMP/old")" ]
	run "$FDPASS" exec -l "$spec_a" -l "$spec_b" -l "fifo:$TMP/kept" -l "tcp:127.0.0.1:$port" -- touch "$TMP/ran"
	assert_failure 3
	[ ! -e "$TMP/a" ]
	[ ! -e "$TMP/links" ]
	[ ! -e "$TMP/f" ]
	[ ! -e "$TMP/ran" ]
	[ -p "$TMP/kept" ]
	[ -z "$(ls "$TMP/old")" ]
	# A --file that fails after a listener, the broker refusing the
	# group, no broker: the same.
	run "$FDPASS" send --listen "$spec_a" --file "$TMP/no-such-file" web
	assert_failure 3
	[ ! -e "$TMP/a" ]
	[ -z "$(ls "$TMP/old")" ]
	run "$FDPASS" send --listen "$spec_a" --listen "$spec_b" held
	assert_failure 1
	[ ! -e "$TMP/a" ]
	[ ! -e "$TMP/f" ]
	[ -z "$(ls "$TMP/old")" ]
	FDPASS_SOCKET="$TMP/no-broker.sock" run "$FDPASS" send --listen "$spec_a" web
	assert_failure 3
	[ ! -e "$TMP/a" ]
	# exec failing after its listeners are made (--inetd with two fds).
	run "$FDPASS" exec --inetd -l "$spec_a" -l "$spec_b" -- touch "$TMP/ran"
	assert_failure 2
	[ ! -e "$TMP/a" ]
	[ ! -e "$TMP/f" ]
	[ ! -e "$TMP/ran" ]
	# What succeeds keeps what it made.
	"$FDPASS" send --listen "$spec_a" --listen "$spec_b" web
	[ -S "$TMP/a/b/s.sock" ]
	[ -L "$TMP/old/s" ]
	[ -p "$TMP/f/in" ]
	run "$FDPASS" list
	assert_output "held
web"
}

@test "a reuseport pair: two listeners on one port, each handed its own connections" {
	"$FDPASS" send --listen 'tcp:127.0.0.1:0,ReusePort=yes' a
	port=$(port_of a)
	"$FDPASS" send --listen "tcp:127.0.0.1:$port,ReusePort=yes" b
	[ "$(port_of b)" = "$port" ]
	run "$FDPASS" send --listen "tcp:127.0.0.1:$port" c
	assert_failure 3
	run "$FDPASS" recv b
	assert_output --regexp " reuseport=yes "
	# A server on each, answering with its name.
	for name in a b; do
		"$FDPASS" exec "$name" -- python3 -c 'import socket, sys
s = socket.socket(fileno=3)
while True:
    c = s.accept()[0]
    c.sendall(sys.argv[1].encode())
    c.close()' "$name" 3>&- 4>&- 5>&- &
		SERVERS+=($!)
	done
	# The kernel spreads connections over the pair by their addresses:
	# connect until both have answered (each a half chance, 200 at most).
	run python3 -c 'import socket, sys
seen = {}
for _ in range(200):
    c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    name = c.recv(16).decode()
    c.close()
    seen[name] = seen.get(name, 0) + 1
    if len(seen) == 2:
        break
print(" ".join(sorted(seen)))' "$port"
	assert_output "a b"
}

@test "exec -l applies settings too, and the description is valid JSON" {
	run "$FDPASS" exec -l 'tcp:127.0.0.1:0,Backlog=9,NoDelay=yes' -- python3 "$SOCKOPTS"
	assert_line nodelay=1
	"$FDPASS" send --listen 'tcp:127.0.0.1:0,Backlog=9,ReusePort=yes' --listen "unix:$TMP/s,Backlog=4" web
	"$FDPASS" recv --json web >"$TMP/web.json"
	python3 "$BATS_TEST_DIRNAME/jsoncheck.py" group <"$TMP/web.json"
	python3 -c 'import json, sys
g = json.load(open(sys.argv[1]))
t, u = g["fds"]
assert (t["backlog"], t["pending"], t["reuseport"]) == (9, 0, True), t
assert (u["backlog"], u["pending"]) == (4, 0), u' "$TMP/web.json"
}
