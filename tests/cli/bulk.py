#!/usr/bin/env python3
"""DUMP and LOAD by hand, for tests/cli/bulk.bats, and a stand-in for a
broker that knows neither:

  dump ADDR               DUMP from the start to the end, after the last
                          name each time; print each group "NAME NFDS
                          EXPIRES_IN", then "records N"
  dump-status ADDR        one DUMP; print its status
  load ADDR [-r] NFDS,TTL,NAME...
                          one LOAD of those groups (fds of /dev/null);
                          print the status, then each group's
  load-raw ADDR HEX NFDS  one LOAD of the payload HEX with NFDS fds; print
                          the status
  old ADDR BROKER         listen at ADDR as a broker without DUMP and LOAD:
                          answer them UNSUPPORTED, pass everything else on
                          to the broker at BROKER and its answers back,
                          fds and all; print "ready" once listening"""
import os
import socket
import struct
import sys
import threading

MAGIC, VERSION, HEADER = 0x66647073, 2, "=IHHII"
OP_DUMP, OP_LOAD, OP_REPLY = 7, 8, 0x8000
F_REPLACE, F_MORE = 0x1, 0x1
S_UNSUPPORTED = 9


def sockaddr(address):
    return "\0" + address[1:] if address.startswith("@") else address


def connect(address):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sockaddr(address))
    return s


def header(op, flags=0, status=0):
    return struct.pack(HEADER, MAGIC, VERSION, op, flags, status)


def recv(s):
    """One record: its header fields, payload and fds (the caller's)."""
    data, anc, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(253 * 4))
    fds = []
    for _, _, raw in anc:
        fds += [struct.unpack("i", raw[i:i + 4])[0]
                for i in range(0, len(raw) - len(raw) % 4, 4)]
    if len(data) < 16:
        raise ConnectionError("closed")
    return struct.unpack(HEADER, data[:16]), data[16:], fds


def rights(fds):
    return [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
             struct.pack("%di" % len(fds), *fds))] if fds else []


def dump(address):
    s = connect(address)
    after, records, more = b"", 0, True
    while more:
        s.send(header(OP_DUMP) + after)
        (_, _, op, flags, status), body, fds = recv(s)
        assert op == OP_DUMP | OP_REPLY and status == 0, (op, status)
        records, more, off, used = records + 1, flags & F_MORE, 0, 0
        while off < len(body):
            nlen, nfds, expires = struct.unpack("=HHI", body[off:off + 8])
            after = body[off + 8:off + 8 + nlen]
            print(after.decode(), nfds, expires)
            off, used = off + 8 + nlen, used + nfds
        assert used == len(fds), (used, len(fds))
        for fd in fds:
            os.close(fd)
    print("records", records)


def load(address, args):
    flags = 0
    if args[0] == "-r":
        flags, args = F_REPLACE, args[1:]
    payload, nfds = b"", 0
    for spec in args:
        n, ttl, name = spec.split(",", 2)
        payload += struct.pack("=HHI", len(name), int(n), int(ttl)) + name.encode()
        nfds += int(n)
    s = connect(address)
    null = os.open("/dev/null", os.O_RDONLY)
    s.sendmsg([header(OP_LOAD, flags) + payload], rights([null] * nfds))
    (_, _, _, _, status), body, _ = recv(s)
    print(status, *[struct.unpack("=I", body[i:i + 4])[0]
                    for i in range(0, len(body), 4)])


def load_raw(address, payload, nfds):
    s = connect(address)
    null = os.open("/dev/null", os.O_RDONLY)
    s.sendmsg([header(OP_LOAD) + payload], rights([null] * nfds))
    print(recv(s)[0][4])


def relay(client, broker):
    """One connection of the stand-in: each request on, each answer back."""
    try:
        while True:
            (_, _, op, flags, status), body, fds = recv(client)
            if op in (OP_DUMP, OP_LOAD):
                for fd in fds:
                    os.close(fd)
                client.send(header(op | OP_REPLY, status=S_UNSUPPORTED))
                continue
            broker.sendmsg([header(op, flags, status) + body], rights(fds))
            for fd in fds:
                os.close(fd)
            while True:
                (_, _, rop, rflags, rstatus), rbody, rfds = recv(broker)
                client.sendmsg([header(rop, rflags, rstatus) + rbody], rights(rfds))
                for fd in rfds:
                    os.close(fd)
                if not (rop == 3 | OP_REPLY and rflags & F_MORE):
                    break
    except (ConnectionError, OSError):
        pass
    client.close()
    broker.close()


def old(address, broker):
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(sockaddr(address))
    listener.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = listener.accept()
        threading.Thread(target=relay, args=(client, connect(broker)),
                         daemon=True).start()


def main():
    mode, address = sys.argv[1], sys.argv[2]
    if mode == "dump":
        dump(address)
    elif mode == "dump-status":
        s = connect(address)
        s.send(header(OP_DUMP))
        print(recv(s)[0][4])
    elif mode == "load":
        load(address, sys.argv[3:])
    elif mode == "load-raw":
        load_raw(address, bytes.fromhex(sys.argv[3]), int(sys.argv[4]))
    elif mode == "old":
        old(address, sys.argv[3])
    else:
        sys.exit("bulk.py: unknown mode " + mode)


if __name__ == "__main__":
    main()
