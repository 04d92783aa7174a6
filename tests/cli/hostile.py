#!/usr/bin/env python3
"""Hostile clients for tests/cli/adversarial.bats: each mode does to the
broker what an attacker allowed one name could, speaking
fdpass-protocol(7) by hand, then prints "ready" and stays (holding its
connections) until killed, unless the mode says otherwise."""
import os
import socket
import struct
import sys
import time

MAGIC, VERSION, HEADER = 0x66647073, 2, "=IHHII"
OP_STORE, OP_RETRIEVE, OP_LIST, OP_DELETE, OP_TAKEOVER, OP_REPLY = 1, 2, 3, 4, 10, 0x8000
OP_STATUS, OP_MONITOR = 5, 6
F_REPLACE, F_WAIT, F_MORE = 0x1, 0x4, 0x1
EVENT = "=QHHIIIIIIHH"     # struct fdp_wire_event, 40 bytes
KINDS = [None, "monitor", "stored", "replaced", "retrieved", "taken", "deleted",
         "expired", "refused", "connected", "left", "takeover", "dropped", "stopped"]


def header(op, flags=0):
    return struct.pack(HEADER, MAGIC, VERSION, op, flags, 0)


def connect(address, sndbuf=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    if sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    s.connect("\0" + address[1:] if address.startswith("@") else address)
    return s


def rights(fds):
    return [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
             struct.pack("%di" % len(fds), *fds))]


def status_of(s):
    """The status of the next reply; fds that came with it are closed."""
    data, anc, _, _ = s.recvmsg(65536, socket.CMSG_SPACE(253 * 4))
    for _, _, raw in anc:
        for i in range(0, len(raw) - len(raw) % 4, 4):
            os.close(struct.unpack("i", raw[i:i + 4])[0])
    return struct.unpack(HEADER, data[:16])[4] if len(data) >= 16 else None


def store(s, name, fds, replace=True):
    s.sendmsg([header(OP_STORE, F_REPLACE if replace else 0) + name], rights(fds))
    return status_of(s)


def ready():
    print("ready", flush=True)


def stay():
    while True:
        time.sleep(3600)


def fill(address, count, namelen):
    """Store count groups of one fd (/dev/null) under names namelen long."""
    s = connect(address)
    with open("/dev/null") as null:
        for i in range(count):
            name = (b"%06d-" % i).ljust(namelen, b"n")
            st = store(s, name, [null.fileno()])
            if st != 0:
                sys.exit("hostile.py: store %d: status %s" % (i, st))


def list_pipeline(address, clients, count):
    """clients connections each send count LISTs and never read a reply."""
    conns = []
    for _ in range(clients):
        s = connect(address, sndbuf=1 << 20)
        for _ in range(count):
            s.send(header(OP_LIST))
        conns.append(s)
    ready()
    stay()


def drain_waiters(address, waiters):
    """A client whose STORE of "x" the broker will read only while it
    drains (it sits behind a LIST reply the client never reads), and
    waiters for "x" that can no longer be answered (their reading side
    is shut down), connected after it."""
    p = connect(address, sndbuf=1 << 20)
    p.send(header(OP_LIST))
    with open("/dev/null") as null:
        p.sendmsg([header(OP_STORE, F_REPLACE) + b"x"], rights([null.fileno()]))
    conns = [p]
    for _ in range(waiters):
        w = connect(address)
        w.send(header(OP_RETRIEVE, F_WAIT) + struct.pack("=I", 0) + b"x")
        conns.append(w)
    time.sleep(0.5)		# the broker reads the waits
    for w in conns[1:]:
        w.shutdown(socket.SHUT_RD)
    ready()
    stay()


def pipeline(address, name, count):
    """count RETRIEVEs of name sent at once, no reply ever read."""
    s = connect(address, sndbuf=1 << 20)
    for _ in range(count):
        s.send(header(OP_RETRIEVE) + name)
    ready()
    stay()


def waiters(address, count):
    """count connections waiting, with no limit, for names never stored;
    the first one stores every waiting connection's own socket in the
    broker first, so that nothing outside the broker holds them."""
    conns = [connect(address) for _ in range(count)]
    st = store(conns[0], b"self", [c.fileno() for c in conns[1:]]) if count > 1 else 0
    print("stored %s" % st, flush=True)
    for i, c in enumerate(conns):
        c.send(header(OP_RETRIEVE, F_WAIT) + struct.pack("=I", 0) + b"never-%d" % i)
    ready()
    stay()


def inflight_hog(count):
    """Keep count fds of this uid in flight in a socketpair nobody reads."""
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    with open("/dev/null") as null:
        while count > 0:
            n = min(count, 253)
            a.sendmsg([b"x"], rights([null.fileno()] * n))
            count -= n
    ready()
    stay()


def slow_taker(address, interval):
    """TAKEOVER, then read one handover record every interval seconds."""
    s = connect(address)
    s.send(header(OP_TAKEOVER))
    ready()
    while True:
        data, anc, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(253 * 4))
        if not data:
            print("closed", flush=True)
            stay()
        for _, _, raw in anc:
            for i in range(0, len(raw) - len(raw) % 4, 4):
                os.close(struct.unpack("i", raw[i:i + 4])[0])
        time.sleep(interval)


def churn(address, count, namelen):
    """STORE a name namelen long, RETRIEVE it count times, DELETE it, on
    one connection: an event a request for a monitor, and nothing the
    broker allocates and frees a request (a memory checker's quarantine
    would hold it), nor anything left held."""
    s = connect(address)
    name = b"c" * namelen
    with open("/dev/null") as null:
        st = store(s, name, [null.fileno()])
    for op in [OP_RETRIEVE] * count + [OP_DELETE]:
        if st != 0:
            sys.exit("hostile.py: churn: status %s" % st)
        s.send(header(op) + name)
        st = status_of(s)
    if st != 0:
        sys.exit("hostile.py: churn: DELETE: status %s" % st)


def monitor(address):
    """A monitor connection, its first record read: its status."""
    s = connect(address)
    s.send(header(OP_MONITOR))
    return s, status_of(s)


def monitor_idle(address):
    """A monitor that never reads past its first record."""
    s, st = monitor(address)
    if st != 0:
        sys.exit("hostile.py: MONITOR: status %s" % st)
    ready()
    stay()


def monitors(address, count):
    """count monitors at once; print the status each got."""
    conns = []
    for i in range(count):
        s, st = monitor(address)
        print("monitor %d: status %s" % (i, st), flush=True)
        conns.append(s)
    ready()
    stay()


def monitor_talk(address):
    """A monitor that sends a request: print what the connection does."""
    s, st = monitor(address)
    s.send(header(OP_STATUS))
    s.settimeout(10)
    try:
        while s.recv(70000):
            pass
        print("closed", flush=True)
    except socket.timeout:
        print("still open", flush=True)


def slow_monitor(address):
    """MONITOR, then (once a line comes on stdin) read the stream to its
    end: each event's kind a line (with its count for dropped, its old pid
    for takeover), then "end" after the last record or "eof"."""
    s, st = monitor(address)
    ready()
    sys.stdin.readline()
    s.settimeout(60)
    while True:
        data = s.recv(70000)
        if not data:
            print("eof", flush=True)
            return
        _, _, op, flags, st = struct.unpack(HEADER, data[:16])
        ev = struct.unpack(EVENT, data[16:56])
        kind = KINDS[ev[1]] if ev[1] < len(KINDS) else str(ev[1])
        name = data[56:56 + ev[10]].decode()
        print(" ".join(x for x in (kind, name, str(ev[4]) if kind in
              ("dropped", "takeover") else "") if x), flush=True)
        if not flags & F_MORE:
            print("end", flush=True)
            return


def flood(address, op, clients):
    """clients connections each send requests of op (no name) as long as
    their socket takes them, and never read a reply."""
    conns = []
    for _ in range(clients):
        s = connect(address, sndbuf=1 << 20)
        s.setblocking(False)
        try:
            while True:
                s.send(header(op))
        except BlockingIOError:
            pass
        conns.append(s)
    ready()
    stay()


def slow_lister(address):
    """LIST, read one record, then (once a line comes on stdin) the rest:
    print how many names came, and whether they came in order, once each."""
    s = connect(address)
    s.send(header(OP_LIST))
    names, more = [], True
    ready()
    sys.stdin.readline()
    s.settimeout(30)
    while more:
        data = s.recv(70000)
        _, _, op, flags, st = struct.unpack(HEADER, data[:16])
        more = flags & 0x1
        off = 16
        while off < len(data):
            nlen = struct.unpack("=H", data[off:off + 2])[0]
            names.append(data[off + 8:off + 8 + nlen])
            off += 8 + nlen
    print("names %d %s" % (len(names), "sorted" if names == sorted(set(names)) else "unsorted"),
          flush=True)


def main():
    mode, address = sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else ""
    if mode == "fill":
        fill(address, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "list-pipeline":
        list_pipeline(address, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "drain-waiters":
        drain_waiters(address, int(sys.argv[3]))
    elif mode == "pipeline":
        pipeline(address, sys.argv[3].encode(), int(sys.argv[4]))
    elif mode == "waiters":
        waiters(address, int(sys.argv[3]))
    elif mode == "inflight-hog":
        inflight_hog(int(sys.argv[2]))
    elif mode == "slow-lister":
        slow_lister(address)
    elif mode == "churn":
        churn(address, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "monitor-idle":
        monitor_idle(address)
    elif mode == "monitors":
        monitors(address, int(sys.argv[3]))
    elif mode == "monitor-talk":
        monitor_talk(address)
    elif mode == "slow-monitor":
        slow_monitor(address)
    elif mode == "flood":
        flood(address, int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "slow-taker":
        slow_taker(address, float(sys.argv[3]))
    else:
        sys.exit("hostile.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
