#!/usr/bin/env python3
"""Hold a TCP listener, both ends of a pipe with bytes queued, a memfd and a
Unix socket pair, write its pid and their fd numbers on one line to the
file given, and wait to be killed, so that describe --pid and send --pid have a
process to look into. With --send NAME, first store the same fds in the
broker (fdpass send, $FDPASS) so recv can describe them too.

With --dups N, also hold N duplicates of the memfd after them.

Usage: holdfds.py [--send NAME] [--dups N] READY-FILE"""
import os
import signal
import socket
import subprocess
import sys


def main():
    args = sys.argv[1:]
    name, dups = None, 0
    while args[0].startswith("--"):
        if args[0] == "--send":
            name = args[1]
        else:
            dups = int(args[1])
        args = args[2:]
    os.closerange(3, 65536)     # only what it holds, from fd 3 on
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    r, w = os.pipe()
    os.write(w, b"queued")
    memfd = os.memfd_create("fdpass-held", os.MFD_ALLOW_SEALING)
    os.write(memfd, b"seal")
    os.lseek(memfd, 1, os.SEEK_SET)
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    fds = [listener.fileno(), r, w, memfd, a.fileno(), b.fileno()]
    fds += [os.dup(memfd) for _ in range(dups)]
    if name is not None:
        subprocess.run([os.environ["FDPASS"], "send", name] +
                       [str(fd) for fd in fds], pass_fds=fds, check=True)
    tmp = args[0] + ".tmp"
    with open(tmp, "w") as f:
        f.write(" ".join(str(n) for n in [os.getpid()] + fds) + "\n")
    os.rename(tmp, args[0])
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
