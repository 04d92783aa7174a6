#!/usr/bin/env python3
"""A scripted broker for the client tests, speaking fdpass-protocol(7) by
hand, so that a race the real broker would lose only sometimes happens
every time. It serves one client connection, then exits.

Usage: fakebroker.py ADDR NAME=LOOK/TAKE...

LIST answers every NAME, in the order given, with LOOK fds (1 when LOOK is
0). A RETRIEVE of NAME without FDP_F_TAKE answers LOOK fds of /dev/null,
with FDP_F_TAKE TAKE fds; 0 fds answers "no such name", as for a group
deleted since the listing. Prints "ready" once it listens."""
import os
import socket
import struct
import sys

MAGIC, VERSION, HEADER = 0x66647073, 2, "=IHHII"
OP_RETRIEVE, OP_LIST, OP_REPLY = 2, 3, 0x8000
F_TAKE, F_WAIT = 0x2, 0x4
S_OK, S_NOENT, S_UNSUPPORTED = 0, 5, 9


def reply(conn, op, status=0, payload=b"", nfds=0):
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(nfds)]
    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
            struct.pack("%di" % nfds, *fds))] if fds else []
    conn.sendmsg([struct.pack(HEADER, MAGIC, VERSION, op | OP_REPLY, 0, status)
                  + payload], anc)
    for fd in fds:
        os.close(fd)


def serve(conn, groups):
    """Answer the client's requests until it hangs up."""
    conn.settimeout(30)
    while True:
        data = conn.recv(65536)
        if len(data) < 16:
            return
        _, _, op, flags, _ = struct.unpack(HEADER, data[:16])
        if op == OP_LIST:
            reply(conn, op, payload=b"".join(
                struct.pack("=HHI", len(n), max(look, 1), 0) + n.encode()
                for n, (look, _) in groups.items()))
        elif op == OP_RETRIEVE:
            name = data[20 if flags & F_WAIT else 16:].decode()
            nfds = groups.get(name, (0, 0))[1 if flags & F_TAKE else 0]
            reply(conn, op, S_OK if nfds else S_NOENT, nfds=nfds)
        else:
            reply(conn, op, S_UNSUPPORTED)


def main():
    address, groups = sys.argv[1], {}
    for spec in sys.argv[2:]:
        name, counts = spec.split("=")
        look, take = counts.split("/")
        groups[name] = (int(look), int(take))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind("\0" + address[1:] if address.startswith("@") else address)
    try:
        s.listen(1)
        s.settimeout(30)
        print("ready", flush=True)
        conn, _ = s.accept()
        serve(conn, groups)
    finally:
        if not address.startswith("@"):
            os.unlink(address)


if __name__ == "__main__":
    main()
