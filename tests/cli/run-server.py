#!/usr/bin/env python3
"""A small HTTP server for the `fdpass run` tests, on the listening socket
at fd 3 (LISTEN_FDS). Each answer is "PID\n" from the instance that served.

  run-server.py [--notify] [--delay SECONDS] [--never-ready] [--crash]
                [--ignore-term] [--term-status N] [--status TEXT]
                [--mainpid-child]

--notify sends READY=1 to $NOTIFY_SOCKET once it serves (after --delay);
--never-ready serves but never says so; --crash exits 1 at once;
--ignore-term ignores SIGTERM; --status sends STATUS=TEXT first;
--mainpid-child forks a child that serves and says MAINPID= and READY=1,
while the first process waits for it.
SIGTERM (unless ignored): finish the connection in hand, then exit 0, or
N with --term-status.
"""
import argparse
import os
import select
import signal
import socket
import sys
import time

stopping = False


def on_term(signum, frame):
    global stopping
    stopping = True


def notify(text):
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr:
        sys.exit("run-server: no NOTIFY_SOCKET")
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(text.encode(), addr)
    s.close()


def answer(conn):
    conn.settimeout(10)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    body = b"%d\n" % os.getpid()
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n"
                 b"Connection: close\r\n\r\n%s" % (len(body), body))
    conn.close()


def serve(listener):
    # Every instance shares the socket's O_NONBLOCK (one open file): all of
    # them run this code, which expects it set.
    listener.setblocking(False)
    while not stopping:
        try:
            readable, _, _ = select.select([listener], [], [], 0.1)
        except InterruptedError:
            continue
        if not readable:
            continue
        try:
            conn, _ = listener.accept()
        except (BlockingIOError, InterruptedError):
            continue
        conn.setblocking(True)
        try:
            answer(conn)
        except OSError:
            conn.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--notify", action="store_true")
    p.add_argument("--delay", type=float, default=0)
    p.add_argument("--never-ready", action="store_true")
    p.add_argument("--crash", action="store_true")
    p.add_argument("--ignore-term", action="store_true")
    p.add_argument("--term-status", type=int, default=0)
    p.add_argument("--status")
    p.add_argument("--mainpid-child", action="store_true")
    a = p.parse_args()
    if a.crash:
        sys.exit(1)
    if os.environ.get("LISTEN_PID") != str(os.getpid()) or \
            os.environ.get("LISTEN_FDS") != "1":
        sys.exit("run-server: LISTEN_PID/LISTEN_FDS are not for this process")
    signal.signal(signal.SIGTERM,
                  signal.SIG_IGN if a.ignore_term else on_term)
    listener = socket.socket(fileno=3)
    if a.mainpid_child:
        child = os.fork()
        if child:
            os.waitpid(child, 0)
            return
        notify("MAINPID=%d" % os.getpid())
    if a.status:
        notify("STATUS=" + a.status)
    time.sleep(a.delay)
    if a.notify and not a.never_ready:
        notify("READY=1")
    serve(listener)
    sys.exit(a.term_status)


if __name__ == "__main__":
    main()
