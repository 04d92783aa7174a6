#!/usr/bin/env python3
"""A stand-in for the service manager's notification socket.

Usage: notify-listener.py SOCKET LOG

Binds a SOCK_DGRAM socket at SOCKET (a path, or @name for an abstract one)
and appends one line to LOG for each notification: its KEY=VALUE lines
joined by '|', then ' fds=N' with the number of fds attached (closed at
once). Runs until killed; tests wait for SOCKET (or the first line).
"""
import array
import os
import socket
import sys

path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + path[1:] if path.startswith("@") else path)
with open(log, "a", buffering=1) as out:
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(253 * 4))
        fds = array.array("i")
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % 4])
        for fd in fds:
            os.close(fd)
        out.write("%s fds=%d\n" % (data.decode().replace("\n", "|"), len(fds)))
