#!/usr/bin/env python3
"""Create one fd of each kind named on the command line, in order, and exec
`$FDPASS send NAME FD...` with them inherited, so that a test can check how
each kind is described after a trip through the broker.

Usage: mkfds.py NAME KIND...   (KIND: see MAKERS; the fifo goes in $TMP;
epoll watches the fd before it; the pidfd is of process $PIDFD_PID)"""
import ctypes
import os
import select
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)
librt = ctypes.CDLL("librt.so.1", use_errno=True)
SIGUSR1, SIGTERM = 10, 15
keep = []  # Python objects whose fds must stay open until the exec


def check(fd, what):
    if fd < 0:
        sys.exit("mkfds.py: %s: %s" % (what, os.strerror(ctypes.get_errno())))
    return fd


def timerfd():
    fd = check(libc.timerfd_create(1, 0), "timerfd_create")   # CLOCK_MONOTONIC
    spec = (ctypes.c_long * 4)(0, 0, 1000, 0)                 # armed for 1000 s
    check(libc.timerfd_settime(fd, 0, spec, None), "timerfd_settime")
    return fd


def signalfd():
    mask = (ctypes.c_ulong * 16)()
    mask[0] = (1 << (SIGUSR1 - 1)) | (1 << (SIGTERM - 1))
    return check(libc.signalfd(-1, mask, 0), "signalfd")


def epoll(fds):
    """Watches the fd made before it, which the group holds too (a watch
    lasts only as long as the watched file)."""
    ep = select.epoll()
    keep.append(ep)
    ep.register(fds[-1], select.EPOLLIN)
    return ep.fileno()


def inotify():
    fd = check(libc.inotify_init1(0), "inotify_init1")
    check(libc.inotify_add_watch(fd, b"/", 0x1), "inotify_add_watch")   # IN_ACCESS
    return fd


def fanotify():
    return check(libc.fanotify_init(0, 0), "fanotify_init")


def memfd():
    fd = os.memfd_create("fdpass-test", os.MFD_ALLOW_SEALING)
    os.write(fd, b"seal")
    libc.fcntl(fd, 1033, 4)                                    # F_ADD_SEALS, F_SEAL_GROW
    return fd


def mqueue():
    name = b"/fdpass-test-%d" % os.getpid()
    librt.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    fd = check(librt.mq_open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600, None), "mq_open")
    librt.mq_unlink(name)
    return fd


def sockets():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    keep.extend([a, b])
    return a.fileno()


def tcp_listener():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    keep.append(s)
    return s.fileno()


def fifo():
    path = os.path.join(os.environ["TMP"], "fifo")
    os.mkfifo(path)
    return os.open(path, os.O_RDWR)


def pipe_end(end):
    r, w = os.pipe()
    os.write(w, b"queued")
    return r if end == "read" else w


def tty():
    master, slave = os.openpty()
    keep.append(slave)
    return master


MAKERS = {
    "file": lambda: os.open("/etc/hostname", os.O_RDONLY),
    "dir": lambda: os.open("/", os.O_RDONLY | os.O_DIRECTORY),
    "pipe": lambda: pipe_end("read"),
    "pipe-write": lambda: pipe_end("write"),
    "fifo": fifo,
    "socket": sockets,
    "tcp": tcp_listener,
    "tty": tty,
    "chardev": lambda: os.open("/dev/null", os.O_RDWR),
    "blockdev": lambda: os.open("/dev/loop0", os.O_RDONLY),
    "eventfd": lambda: os.eventfd(5),
    "timerfd": timerfd,
    "signalfd": signalfd,
    "epoll": epoll,
    "inotify": inotify,
    "fanotify": fanotify,
    "memfd": memfd,
    "pidfd": lambda: os.pidfd_open(int(os.environ["PIDFD_PID"])),  # a live one
    "mqueue": mqueue,
    "unknown": lambda: check(libc.syscall(323, 0), "userfaultfd"),  # x86_64
}


def main():
    name, kinds = sys.argv[1], sys.argv[2:]
    fds = []
    for kind in kinds:
        fd = MAKERS[kind](fds) if kind == "epoll" else MAKERS[kind]()
        os.set_inheritable(fd, True)
        fds.append(fd)
    fdpass = os.environ["FDPASS"]
    os.execv(fdpass, [fdpass, "send", name] + [str(fd) for fd in fds])


if __name__ == "__main__":
    main()
