#!/usr/bin/env python3
"""Print what an inherited fd (3 unless told) carries, one name=value a
line, read back from the kernel: socket options with getsockopt, the
network namespace with SIOCGSKNS, a file's mode, owner and pipe size with
fstat and fcntl. tests/cli/listen.bats checks each listener setting
against these after a round trip through the broker.

Usage: sockopts.py [FD]"""
import fcntl
import os
import socket
import stat
import sys

SOL_IP, SOL_IPV6, SOL_TCP, SOL_NETLINK = 0, 41, 6, 270
F_GETPIPE_SZ = 1032
SIOCGSKNS = 0x894C

# name, level, option: int options, printed when the kernel answers.
INT_OPTIONS = [
    ("listening", socket.SOL_SOCKET, 30), ("protocol", socket.SOL_SOCKET, 38),
    ("reuseport", socket.SOL_SOCKET, 15), ("keepalive", socket.SOL_SOCKET, 9),
    ("mark", socket.SOL_SOCKET, 36), ("priority", socket.SOL_SOCKET, 12),
    ("rcvbuf", socket.SOL_SOCKET, 8), ("sndbuf", socket.SOL_SOCKET, 7),
    ("broadcast", socket.SOL_SOCKET, 6), ("passcred", socket.SOL_SOCKET, 16),
    ("passsec", socket.SOL_SOCKET, 34), ("timestamp", socket.SOL_SOCKET, 29),
    ("timestampns", socket.SOL_SOCKET, 35),
]
IP_OPTIONS = [
    ("tos", SOL_IP, 1), ("ttl", SOL_IP, 2), ("freebind", SOL_IP, 15),
    ("transparent", SOL_IP, 19), ("pktinfo", SOL_IP, 8),
]
IPV6_OPTIONS = [
    ("v6only", SOL_IPV6, 26), ("hops", SOL_IPV6, 16), ("tclass", SOL_IPV6, 67),
    ("recvpktinfo", SOL_IPV6, 49),
]
TCP_OPTIONS = [
    ("nodelay", SOL_TCP, 1), ("keepidle", SOL_TCP, 4), ("keepintvl", SOL_TCP, 5),
    ("keepcnt", SOL_TCP, 6), ("defer_accept", SOL_TCP, 9),
]


def show(name, value):
    print(f"{name}={value}")


def int_options(s, options):
    for name, level, option in options:
        try:
            show(name, s.getsockopt(level, option))
        except OSError:
            pass


def string_option(s, name, level, option):
    try:
        show(name, s.getsockopt(level, option, 32).split(b"\0")[0].decode())
    except OSError:
        pass


def describe_socket(fd):
    s = socket.socket(fileno=os.dup(fd))
    show("family", s.family.name if hasattr(s.family, "name") else s.family)
    int_options(s, INT_OPTIONS)
    string_option(s, "bindtodevice", socket.SOL_SOCKET, 25)
    if s.family in (socket.AF_INET, socket.AF_INET6):
        int_options(s, IP_OPTIONS)
        if s.family == socket.AF_INET6:
            int_options(s, IPV6_OPTIONS)
        if s.type == socket.SOCK_STREAM:
            int_options(s, TCP_OPTIONS)
            string_option(s, "congestion", SOL_TCP, 13)
    if s.family == socket.AF_NETLINK:
        int_options(s, [("nlpktinfo", SOL_NETLINK, 3)])
        show("groups", s.getsockname()[1])
    try:
        ns = fcntl.ioctl(fd, SIOCGSKNS)
        show("netns", os.fstat(ns).st_ino)
        os.close(ns)
    except OSError:
        pass
    s.close()


def main():
    fd = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    st = os.fstat(fd)
    if stat.S_ISSOCK(st.st_mode):
        describe_socket(fd)
        return
    show("kind", "fifo" if stat.S_ISFIFO(st.st_mode) else
         "chardev" if stat.S_ISCHR(st.st_mode) else "file")
    show("mode", oct(stat.S_IMODE(st.st_mode)))
    show("uid", st.st_uid)
    show("gid", st.st_gid)
    show("access", {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}[
        fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE])
    if stat.S_ISFIFO(st.st_mode):
        show("pipe_size", fcntl.fcntl(fd, F_GETPIPE_SZ))


main()
