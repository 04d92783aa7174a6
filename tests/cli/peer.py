#!/usr/bin/env python3
"""A misbehaving peer for the command-line tests, speaking fdpass-protocol(7)
by hand: a fake broker that dies mid-request or speaks another version, and
clients that send garbage or requests the broker must refuse."""
import os
import random
import socket
import struct
import sys
import time

MAGIC, VERSION, HEADER = 0x66647073, 2, "=IHHII"
OP_STORE, OP_RETRIEVE, OP_LIST, OP_REPLY = 1, 2, 3, 0x8000
F_WAIT = 0x4


def header(op, version=VERSION, flags=0, status=0, magic=MAGIC):
    return struct.pack(HEADER, magic, version, op, flags, status)


def listener(address):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind("\0" + address[1:] if address.startswith("@") else address)
    s.listen(8)
    print("ready", flush=True)
    return s


def connect(address):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("\0" + address[1:] if address.startswith("@") else address)
    return s


def reply_status(s):
    data = s.recv(65536)
    return struct.unpack(HEADER, data[:16])[4] if len(data) >= 16 else None


def fd_kinds(rng, null):
    """Random fds of several kinds: files, pipe ends, sockets."""
    r, w = os.pipe()
    a, b = socket.socketpair()
    kinds = [null.fileno(), r, w, a.fileno(), b.fileno()]
    return [rng.choice(kinds) for _ in range(rng.choice([0, 0, 1, 3, 100, 253]))], (r, w, a, b)


def garbage(address, count, seed):
    """Records of random length and bytes, some with a valid header, with
    random fds attached; some connections dropped before the answer."""
    rng = random.Random(seed)
    with open("/dev/null") as null:
        for _ in range(count):
            s = connect(address)
            size = rng.choice([0, 1, 15, 16, 17, 100, 300, 4096, 4097, 5000, 70000])
            payload = bytes(rng.getrandbits(8) for _ in range(min(size, 64)))
            payload = payload * (size // max(len(payload), 1) + 1)
            if size >= 16 and rng.random() < 0.5:   # a valid header, a request refused
                op = rng.choice([1, 2, 3, 77])
                payload = header(op) + (b":" if op == OP_STORE else b"") + payload[16:size]
            fds, keep = fd_kinds(rng, null)
            try:
                s.sendmsg([payload[:size]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                              struct.pack("%di" % len(fds), *fds))] if fds else [])
                if rng.random() < 0.7:
                    s.settimeout(5)
                    s.recv(65536)
            except OSError:
                pass
            s.close()
            for fd in keep[:2]:
                os.close(fd)
            keep[2].close()
            keep[3].close()


def hang(address, count, idle):
    """count clients in every state a request can be in, never finishing:
    connected with nothing sent, a store sent and its answer never read,
    retrieves of a large group piling up unread answers; or only the first."""
    conns = []
    with open("/dev/null") as null:
        for i in range(count):
            s = connect(address)
            s.setblocking(False)
            kind = 0 if idle else i % 3
            try:
                if kind == 1:
                    fds = [null.fileno()] * 10
                    s.sendmsg([header(OP_STORE) + b"hang-%d" % i],
                              [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                struct.pack("%di" % len(fds), *fds))])
                elif kind == 2:
                    for _ in range(50):
                        s.send(header(OP_RETRIEVE) + b"big")
            except BlockingIOError:
                pass
            conns.append(s)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


def main():
    mode, address = sys.argv[1], sys.argv[2]
    if mode == "die-mid-request":        # read one request, never answer
        conn, _ = listener(address).accept()
        conn.recv(65536)
        conn.close()
    elif mode == "other-version":        # answer everything as version 99
        conn, _ = listener(address).accept()
        data = conn.recv(65536)
        op = struct.unpack(HEADER, data[:16])[2]
        conn.send(header(op | OP_REPLY, version=99, status=1))
        conn.recv(1)
    elif mode == "garbage":              # N records of random bytes, random fds
        garbage(address, int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else 1)
    elif mode == "hang":                 # N clients left mid-request until killed
        hang(address, int(sys.argv[3]), sys.argv[4:] == ["idle"])
    elif mode == "slow-reader":          # N retrieves sent at once, read after a nudge
        s = connect(address)
        count = int(sys.argv[3])
        for _ in range(count):
            s.send(header(OP_RETRIEVE) + b"big")
        print("sent", flush=True)
        time.sleep(1)
        answers = 0
        s.settimeout(30)
        while answers < count:
            data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(253 * 4))
            if not data:
                break
            for level, kind, fds in anc:
                for i in range(0, len(fds) - len(fds) % 4, 4):
                    os.close(struct.unpack("i", fds[i:i + 4])[0])
            answers += 1
        print("answers %d" % answers, flush=True)
    elif mode == "idle":                 # connect, send nothing, wait to be dropped
        s = connect(address)
        print("connected", flush=True)
        s.settimeout(60)
        print("dropped" if s.recv(1) == b"" else "answered", flush=True)
    elif mode == "status":               # one raw request; print the reply status
        op, name = int(sys.argv[3]), sys.argv[4].encode()
        version = int(sys.argv[5]) if len(sys.argv) > 5 else VERSION
        nfds = int(sys.argv[6]) if len(sys.argv) > 6 else 0
        s = connect(address)
        with open("/dev/null") as null:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                    struct.pack("%di" % nfds, *([null.fileno()] * nfds)))] if nfds else []
            s.sendmsg([header(op, version=version) + name], anc)
        print(reply_status(s))
    elif mode == "wait-then-send":       # wait for a name, then break the rule
        s = connect(address)
        s.send(header(OP_RETRIEVE, flags=F_WAIT) + struct.pack("=I", 0) + b"x")
        s.send(header(OP_LIST))
        s.settimeout(10)
        print("closed" if s.recv(65536) == b"" else "answered")
    elif mode == "short-wait":           # WAIT without room for its argument
        s = connect(address)
        s.send(header(OP_RETRIEVE, flags=F_WAIT) + b"x")
        print(reply_status(s))
    else:
        sys.exit("peer.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
