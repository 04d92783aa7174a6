#!/usr/bin/env python3
"""Fake new brokers for the takeover tests, speaking fdpass-protocol(7) by
hand to a running broker at ADDR, and failing on purpose:

  version99 ADDR          ask for a takeover in protocol version 99; print
                          the reply's version and status
  die-after-state ADDR    take the state, then hang up before TAKEOVER_READY
  die-after-state-batch ADDR  the same, taking the groups several a record
  die-after-clients ADDR  take the state and the clients, then hang up
                          before TAKEOVER_DONE
  bad-old ADDR            not a new broker but a fake old one at ADDR:
                          answer a TAKEOVER with its listening socket, then
                          a group record that does not parse
  flood ADDR N FILE       a client that sends N LIST requests, reads no reply
                          until FILE exists, then reads them all; prints how
                          many whole answers came and how many sizes they had
  list-twice ADDR FILE    not a broker but a client keeping its connection:
                          LIST, wait for FILE to exist, LIST again on the
                          same connection, printing the bytes of each reply
  live ADDR GO OUT [complete]  ask for a live copy; take the listening
                          socket, print "copying", read nothing more until
                          the file GO exists (the old broker serves on, its
                          socket full), then the rest, holding what a new
                          broker would (a group sent again replaces the
                          first, GONE names go, an empty GONE forgets all):
                          its groups to OUT as "NAME NFDS EXPIRES_IN" lines
                          in name order, and "restarts N" printed; then hang
                          up, or with complete take the clients and say
                          TAKEOVER_DONE
Each prints how many records and fds it received."""
import array
import os
import socket
import struct
import sys
import time

MAGIC, HEADER = 0x66647073, "=IHHII"
OP_LIST, OP_TAKEOVER, OP_TAKEOVER_READY, OP_REPLY = 3, 10, 11, 0x8000
F_MORE, F_BATCH, F_HANDOVER_LISTENER, F_HANDOVER_GROUP = 0x1, 0x10, 0x100, 0x200
OP_TAKEOVER_DONE, F_LIVE, F_HANDOVER_GROUPS, F_HANDOVER_GONE = 12, 0x20, 0x4000, 0x8000


def request(s, op, version=2, flags=0):
    s.send(struct.pack(HEADER, MAGIC, version, op, flags, 0))


def receive(s):
    """One record: its header fields and the fds attached (closed at once)."""
    head, _, nfds = receive_payload(s)
    return head, nfds


def receive_payload(s):
    """One record: its header fields, payload and how many fds came."""
    fds = array.array("i")
    data, anc, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(253 * fds.itemsize))
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[:len(payload) - len(payload) % fds.itemsize])
    for fd in fds:
        socket.close(fd)
    if len(data) < 16:
        sys.exit("short record")
    return struct.unpack(HEADER, data[:16]), data[16:], len(fds)


def live(s, go, out, complete):
    """A new broker taking a live copy; see the modes above."""
    request(s, OP_TAKEOVER, flags=F_BATCH | F_LIVE)
    (_, _, _, flags, status), _, nfds = receive_payload(s)
    if status != 0 or not flags & F_HANDOVER_LISTENER or nfds != 1:
        sys.exit("no listening socket: status %d flags %#x" % (status, flags))
    print("copying", flush=True)
    wait_for(go)
    held, restarts = {}, 0
    while True:
        (_, _, op, flags, status), payload, nfds = receive_payload(s)
        if op != OP_TAKEOVER | OP_REPLY or status != 0:
            sys.exit("unexpected reply op %d status %d" % (op, status))
        if not flags & F_MORE:
            break
        if flags & F_HANDOVER_GONE:
            if not payload:
                held, restarts = {}, restarts + 1
            while payload:
                held.pop(payload[1:1 + payload[0]].decode(), None)
                payload = payload[1 + payload[0]:]
            continue
        total = 0
        while payload:
            nlen, n, expires = struct.unpack("=HHI", payload[:8])
            held[payload[8:8 + nlen].decode()] = (n, expires)
            payload, total = payload[8 + nlen:], total + n
        if total != nfds:
            sys.exit("entries for %d fds, %d came" % (total, nfds))
    with open(out, "w") as f:
        for name in sorted(held):
            f.write("%s %d %d\n" % (name, held[name][0], held[name][1]))
    print("restarts %d" % restarts, flush=True)
    if complete:
        request(s, OP_TAKEOVER_READY)
        stream(s, OP_TAKEOVER_READY)
        request(s, OP_TAKEOVER_DONE)
        print("done", flush=True)


def stream(s, op):
    """Every record of a handover, up to the one without FDP_F_MORE."""
    records = fds = 0
    while True:
        (_, _, rop, flags, status), n = receive(s)
        if rop != op | OP_REPLY or status != 0:
            sys.exit("unexpected reply op %d status %d" % (rop, status))
        records, fds = records + 1, fds + n
        if not flags & F_MORE:
            return records, fds


def wait_for(path):
    """Wait up to 30 s for the test to create path."""
    for _ in range(3000):
        if os.path.exists(path):
            return
        time.sleep(0.01)
    sys.exit("%s never appeared" % path)


def bad_old(address):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(address)
    listener.listen(8)
    print("ready", flush=True)
    conn, _ = listener.accept()
    conn.recv(100)
    reply = OP_TAKEOVER | OP_REPLY
    socket.send_fds(conn, [struct.pack(HEADER, MAGIC, 2, reply,
                    F_MORE | F_HANDOVER_LISTENER, 0)], [listener.fileno()])
    conn.send(struct.pack(HEADER, MAGIC, 2, reply, F_MORE | F_HANDOVER_GROUP,
                          0) + b"\xff" * 3)
    conn.recv(1)


def main():
    mode, address = sys.argv[1], sys.argv[2]
    if mode == "bad-old":
        bad_old(address)
        return
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect("\0" + address[1:] if address.startswith("@") else address)
    if mode == "flood":
        for _ in range(int(sys.argv[3])):
            request(s, OP_LIST)
        print("sent", flush=True)
        wait_for(sys.argv[4])
        answers, sizes, size = 0, set(), 0
        while answers < int(sys.argv[3]):
            data = s.recv(70000)
            size += len(data) - 16
            if not struct.unpack(HEADER, data[:16])[3] & F_MORE:
                sizes.add(size)
                answers, size = answers + 1, 0
        print("answers: %d sizes: %d" % (answers, len(sizes)))
        return
    if mode == "list-twice":
        request(s, OP_LIST)
        print("list 1: %d bytes" % len(s.recv(70000)), flush=True)
        wait_for(sys.argv[3])
        request(s, OP_LIST)
        print("list 2: %d bytes" % len(s.recv(70000)), flush=True)
        return
    if mode == "live":
        live(s, sys.argv[3], sys.argv[4], sys.argv[5:] == ["complete"])
        return
    if mode == "version99":
        request(s, OP_TAKEOVER, version=99)
        (_, version, _, _, status), _ = receive(s)
        print("version %d status %d" % (version, status))
        return
    request(s, OP_TAKEOVER, flags=F_BATCH if mode.endswith("-batch") else 0)
    print("state: %d records, %d fds" % stream(s, OP_TAKEOVER), flush=True)
    if mode == "die-after-clients":
        request(s, OP_TAKEOVER_READY)
        print("clients: %d records, %d fds" % stream(s, OP_TAKEOVER_READY),
              flush=True)
    s.close()


if __name__ == "__main__":
    main()
