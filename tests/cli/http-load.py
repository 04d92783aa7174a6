#!/usr/bin/env python3
"""A bounded HTTP load on loopback for the `fdpass run` tests.

  http-load.py PORT STOPFILE [CLIENTS [PATH]]

CLIENTS threads (default 4) each send GET requests for PATH (default /) one after another, a
pause of 5 ms between two, until STOPFILE exists, at most 120 s and 20000
requests in all; STOPFILE.running appears once one is answered. Then one line: "requests N errors N max_ms N pids N",
pids being how many instances answered; each error on a line of its own
before it. Exit 0.
"""
import os
import socket
import sys
import threading
import time

port = int(sys.argv[1])
stopfile = sys.argv[2]
clients = int(sys.argv[3]) if len(sys.argv) > 3 else 4
path = sys.argv[4] if len(sys.argv) > 4 else "/"
deadline = time.monotonic() + 120
lock = threading.Lock()
state = {"requests": 0, "max": 0.0, "errors": [], "pids": set()}


def one():
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    try:
        s.sendall(b"GET %s HTTP/1.0\r\nHost: test\r\n\r\n" % path.encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    took = time.monotonic() - start
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.0 200") and \
            not head.startswith(b"HTTP/1.1 200"):
        raise OSError("bad answer %r" % data[:60])
    return took, body.strip()


def client():
    while not os.path.exists(stopfile) and time.monotonic() < deadline:
        with lock:
            if state["requests"] >= 20000:
                return
            state["requests"] += 1
        try:
            took, body = one()
            with lock:
                state["max"] = max(state["max"], took)
                state["pids"].add(body)
                if len(state["pids"]) == 1 and "running" not in state:
                    state["running"] = True
                    open(stopfile + ".running", "w").close()
        except OSError as e:
            with lock:
                state["errors"].append(repr(e))
        time.sleep(0.005)


threads = [threading.Thread(target=client) for _ in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for e in state["errors"]:
    print("error", e)
print("requests %d errors %d max_ms %d pids %d" % (
    state["requests"], len(state["errors"]), state["max"] * 1000,
    len(state["pids"])))
