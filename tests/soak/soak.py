#!/usr/bin/env python3
"""make soak: one broker (and the brokers that take it over, in a chain)
against many clients for minutes, valid and hostile mixed, speaking
fdpass-protocol(7) by hand.

soak.py --fdpass PATH [--seconds N] [--takeover-every N] [--rss-bound MB]
        [--latency-bound S]

Valid clients keep groups that must never go missing, churn others,
wait for names that others store, list, ask STATUS, DUMP everything and
LOAD groups back, and monitor; hostile clients (run as nobody when this
runs as root, so that the owner's reserved room is tried) pipeline
requests (RETRIEVE, LIST, DUMP, STATUS) and never read, monitor and never
read, wait forever, send garbage with random fds (LOADs among it), open
connections until refused, and are SIGKILLed mid-way;
every --takeover-every seconds a new broker takes the running one over.
At the end, with the hostile clients gone: the owner's LIST came back
within --latency-bound seconds every time it was tried, every kept group
is there with its fds, the broker's fd count is what an idle broker's is
plus the fds it holds, each broker's peak RSS stayed under --rss-bound MB,
and each broker that was taken over exited 0. Exits 0 when all held, 1
with what did not."""
import argparse
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

MAGIC, VERSION, HEADER = 0x66647073, 2, "=IHHII"
OP_STORE, OP_RETRIEVE, OP_LIST, OP_DELETE, OP_REPLY = 1, 2, 3, 4, 0x8000
OP_STATUS, OP_MONITOR, OP_DUMP, OP_LOAD = 5, 6, 7, 8
F_REPLACE, F_MORE, F_TAKE, F_WAIT, F_TTL = 0x1, 0x1, 0x2, 0x4, 0x8
S_OK, S_NOENT, S_FULL = 0, 5, 8
KEPT, KEPT_FDS, FILLER = 40, 3, 2000
NOBODY = 65534


def header(op, flags=0):
    return struct.pack(HEADER, MAGIC, VERSION, op, flags, 0)


def rights(fds):
    return [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("%di" % len(fds), *fds))] if fds else []


def recv_record(s):
    """One record: (header fields, payload, fds), fds already closed."""
    data, anc, _, _ = s.recvmsg(70000, socket.CMSG_SPACE(253 * 4))
    nfds = 0
    for _, _, raw in anc:
        for i in range(0, len(raw) - len(raw) % 4, 4):
            os.close(struct.unpack("i", raw[i:i + 4])[0])
            nfds += 1
    if len(data) < 16:
        raise ConnectionError("closed")
    return struct.unpack(HEADER, data[:16]), data[16:], nfds


class Client:
    """A well-behaved client: one request, one answer."""

    def __init__(self, address, timeout=30):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.s.settimeout(timeout)
        self.s.connect(address)

    def call(self, op, name=b"", flags=0, arg=None, fds=()):
        payload = (struct.pack("=I", arg) if arg is not None else b"") + name
        self.s.sendmsg([header(op, flags) + payload], rights(list(fds)))
        h, body, nfds = recv_record(self.s)
        return h[4], body, nfds, h[3]

    def call_record(self, op, payload=b"", flags=0, fds=()):
        self.s.sendmsg([header(op, flags) + payload], rights(list(fds)))
        return recv_record(self.s)

    def list(self):
        names = {}
        status, body, _, flags = self.call(OP_LIST)
        while True:
            off = 0
            while off < len(body):
                nlen, nfds, _ = struct.unpack("=HHI", body[off:off + 8])
                names[body[off + 8:off + 8 + nlen].decode()] = nfds
                off += 8 + nlen
            if not flags & F_MORE:
                return status, names
            h, body, _ = recv_record(self.s)
            flags = h[3]

    def close(self):
        self.s.close()


def entries_of(body):
    """The names and fd counts of LIST entries, and their fds in all."""
    entries, off, total = {}, 0, 0
    while off < len(body):
        nlen, nfds, _ = struct.unpack("=HHI", body[off:off + 8])
        entries[body[off + 8:off + 8 + nlen].decode()] = nfds
        total += nfds
        off += 8 + nlen
    return entries, total


class Soak:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="fdpass-soak.")
        os.chmod(self.dir, 0o755)
        self.address = os.path.join(self.dir, "broker.sock")
        self.null = os.open("/dev/null", os.O_RDONLY)
        self.stop = threading.Event()
        self.kept = threading.Event()	# the kept groups are stored
        self.lock = threading.Lock()
        self.errors = []
        self.counts = {}
        self.latency_max = 0.0
        self.rss_peak = {}
        self.brokers = []
        self.hostile = []
        self.as_nobody = os.getuid() == 0
        self.broker_opts = ["--mode", "0666", "--max-clients", "96",
                            "--max-waiters", "24", "--client-timeout", "20",
                            "--allow", "uid=%d,names=hostile-*" % NOBODY,
                            "--allow", "uid=%d,ops=status+monitor" % NOBODY]

    def error(self, text):
        with self.lock:
            self.errors.append(text)
            print("soak: " + text, file=sys.stderr, flush=True)

    def count(self, what):
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1

    # -- brokers -------------------------------------------------------
    def start_broker(self, takeover):
        r, w = os.pipe()
        argv = [self.args.fdpass, "serve", "-s", self.address, "--ready-fd", str(w)]
        argv += ["--takeover"] if takeover else []
        proc = subprocess.Popen(argv + self.broker_opts, pass_fds=(w,),
                                stdin=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as ready:
            if ready.readline() != "\n":
                raise SystemExit("soak: a broker did not become ready")
        self.brokers.append(proc)
        return proc

    def broker_fds(self, proc):
        return len(os.listdir("/proc/%d/fd" % proc.pid))

    def sample_rss(self):
        for proc in self.brokers:
            try:
                with open("/proc/%d/status" % proc.pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.rss_peak[proc.pid] = int(line.split()[1])
            except OSError:
                pass

    def takeovers(self):
        while not self.stop.wait(self.args.takeover_every):
            old = self.brokers[-1]
            self.start_broker(True)
            try:
                status = old.wait(30)
            except subprocess.TimeoutExpired:
                self.error("broker %d did not exit after a takeover" % old.pid)
                continue
            self.count("takeovers")
            if status != 0:
                self.error("broker %d exited %d after a takeover" % (old.pid, status))

    # -- valid clients -------------------------------------------------
    def keeper(self):
        """The groups that must never go missing, checked all along."""
        c = Client(self.address)
        for i in range(FILLER):	# a LIST of some 500 kB, for those who never read it
            c.call(OP_STORE, (b"filler-%d-" % i).ljust(250, b"f"), F_REPLACE, fds=[self.null])
        for i in range(KEPT):
            st, _, _, _ = c.call(OP_STORE, b"kept-%d" % i, F_REPLACE, fds=[self.null] * KEPT_FDS)
            if st != S_OK:
                self.error("storing kept-%d: status %d" % (i, st))
        self.kept.set()
        rng = random.Random(1)
        while not self.stop.is_set():
            i = rng.randrange(KEPT)
            try:
                st, _, nfds, _ = c.call(OP_RETRIEVE, b"kept-%d" % i)
            except (OSError, ConnectionError) as e:
                self.error("retrieving kept-%d: %s" % (i, e))
                c = Client(self.address)
                continue
            if st == S_FULL:
                self.count("kept-full")
            elif st != S_OK or nfds != KEPT_FDS:
                self.error("kept-%d: status %d, %d fds" % (i, st, nfds))
            self.count("kept-checks")
            time.sleep(0.002)
        c.close()

    def churner(self, seed):
        rng = random.Random(seed)
        c = Client(self.address)
        while not self.stop.is_set():
            name = b"churn-%d-%d" % (seed, rng.randrange(50))
            op = rng.choice(["store", "ttl", "retrieve", "take", "delete"])
            try:
                if op in ("store", "ttl"):
                    c.call(OP_STORE, name, F_REPLACE | (F_TTL if op == "ttl" else 0),
                           arg=1 if op == "ttl" else None,
                           fds=[self.null] * rng.randint(1, 4))
                elif op == "retrieve":
                    c.call(OP_RETRIEVE, name)
                elif op == "take":
                    c.call(OP_RETRIEVE, name, F_TAKE)
                else:
                    c.call(OP_DELETE, name)
                self.count("churn")
            except (OSError, ConnectionError) as e:
                self.error("churner %d: %s" % (seed, e))
                c = Client(self.address)

    def waiter_pair(self, seed):
        """A wait answered by a store: the taker gets the group, once."""
        rng = random.Random(seed)
        n = 0
        while not self.stop.is_set():
            n += 1
            name = b"wait-%d-%d" % (seed, n)
            w = Client(self.address)
            try:
                w.s.send(header(OP_RETRIEVE, F_WAIT | F_TAKE) + struct.pack("=I", 20000) + name)
                time.sleep(rng.random() * 0.05)
                s = Client(self.address)
                st, _, _, _ = s.call(OP_STORE, name, fds=[self.null])
                s.close()
                h, _, nfds = recv_record(w.s)
                if st != S_OK or h[4] != S_OK or nfds != 1:
                    self.error("wait %s: store %d, wait %d with %d fds" % (name, st, h[4], nfds))
                self.count("waits")
            except (OSError, ConnectionError) as e:
                self.error("waiter %d: %s" % (seed, e))
            w.close()

    def owner_lister(self):
        """The owner's LIST and STATUS, from a fresh connection, timed; every kept group in it."""
        self.kept.wait(self.args.seconds)
        while not self.stop.wait(0.5):
            t = time.monotonic()
            try:
                c = Client(self.address, timeout=self.args.latency_bound * 4)
                st, names = c.list()
                status = c.call(OP_STATUS)[0]
                c.close()
            except (OSError, ConnectionError) as e:
                self.error("the owner's LIST or STATUS: %s" % e)
                continue
            if status != S_OK:
                self.error("the owner's STATUS: status %d" % status)
            took = time.monotonic() - t
            self.latency_max = max(self.latency_max, took)
            missing = [i for i in range(KEPT) if names.get("kept-%d" % i) != KEPT_FDS]
            if st != S_OK or missing:
                self.error("the owner's LIST: status %d, kept groups missing %s" % (st, missing))
            self.count("lists")
            self.sample_rss()

    def mover(self):
        """The owner's DUMP of everything, as transfer does it: every kept
        group comes with its fds; then a LOAD of a few groups of its own."""
        n = 0
        self.kept.wait(self.args.seconds)
        while not self.stop.wait(1):
            try:
                c = Client(self.address)
                seen, after = {}, b""
                while True:
                    h, body, nfds = c.call_record(OP_DUMP, after)
                    if h[4] != S_OK:
                        self.error("DUMP: status %d" % h[4])
                        break
                    entries, want = entries_of(body)
                    if want != nfds:
                        self.error("DUMP: entries for %d fds, %d attached" % (want, nfds))
                    seen.update(entries)
                    if not h[3] & F_MORE or not entries:
                        break
                    after = max(entries).encode()
                missing = [i for i in range(KEPT) if seen.get("kept-%d" % i) != KEPT_FDS]
                if missing:
                    self.error("DUMP: kept groups missing %s" % missing)
                n += 1
                names = [b"moved-%d-%d" % (n, i) for i in range(4)]
                payload = b"".join(struct.pack("=HHI", len(m), 2, 0) + m for m in names)
                h, body, _ = c.call_record(OP_LOAD, payload, fds=[self.null] * 8)
                st = struct.unpack("=4I", body) if len(body) == 16 else ()
                if h[4] != S_OK or len(st) != 4 or any(x not in (S_OK, S_FULL) for x in st):
                    self.error("LOAD: status %d, each %s" % (h[4], st))
                for m in names:
                    c.call(OP_DELETE, m)
                c.close()
                self.count("dumps")
            except (OSError, ConnectionError) as e:
                self.error("the owner's DUMP or LOAD: %s" % e)

    def monitor(self):
        """A monitor that reads: its stream goes on through every takeover."""
        while not self.stop.is_set():
            try:
                c = Client(self.address, timeout=1)
                c.s.send(header(OP_MONITOR))
                while not self.stop.is_set():
                    try:
                        h, _, _ = recv_record(c.s)
                    except socket.timeout:
                        continue
                    if h[4] != S_OK:
                        self.error("MONITOR: status %d" % h[4])
                        break
                    if not h[3] & F_MORE:
                        break
                    self.count("events")
                c.close()
            except (OSError, ConnectionError) as e:
                self.error("the owner's monitor: %s" % e)
                time.sleep(0.5)

    # -- hostile clients -----------------------------------------------
    def spawn_hostile(self, rng):
        # run as the owner (not as root), connections until refused would
        # only take the owner's own reserved room from itself
        modes = ["pipeline", "lists", "dumps", "statuses", "monitor", "wait",
                 "garbage", "store-kill"]
        mode = rng.choice(modes + (["flood"] if self.as_nobody else []))
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                if self.as_nobody:
                    os.setgroups([])
                    os.setgid(NOBODY)
                    os.setuid(NOBODY)
                hostile(mode, self.address, rng.randrange(1 << 30))
            except BaseException:
                pass
            os._exit(0)
        self.hostile.append((pid, time.monotonic() + rng.uniform(0.2, 8)))
        self.count("hostile-" + mode)

    def hostile_driver(self):
        rng = random.Random(7)
        while not self.stop.wait(0.1):
            now = time.monotonic()
            for pid, end in list(self.hostile):
                if now >= end:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    self.hostile.remove((pid, end))
            while len(self.hostile) < 24:
                self.spawn_hostile(rng)
        for pid, _ in self.hostile:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.hostile = []

    # -- the run -------------------------------------------------------
    def run(self):
        idle = self.start_broker(False)
        idle_fds = self.broker_fds(idle)
        threads = [threading.Thread(target=self.keeper)]
        threads += [threading.Thread(target=self.churner, args=(i,)) for i in range(3)]
        threads += [threading.Thread(target=self.waiter_pair, args=(i,)) for i in range(2)]
        threads += [threading.Thread(target=self.owner_lister),
                    threading.Thread(target=self.mover),
                    threading.Thread(target=self.monitor),
                    threading.Thread(target=self.takeovers),
                    threading.Thread(target=self.hostile_driver)]
        for t in threads:
            t.start()
        self.stop.wait(self.args.seconds)
        self.stop.set()
        for t in threads:
            t.join()
        self.finish(idle_fds)

    def finish(self, idle_fds):
        broker = self.brokers[-1]
        c = Client(self.address)
        st, names = c.list()
        for name in names:
            if not name.startswith("kept-"):
                c.call(OP_DELETE, name.encode())
        missing = [i for i in range(KEPT) if names.get("kept-%d" % i) != KEPT_FDS]
        if missing:
            self.error("at the end, kept groups missing: %s" % missing)
        c.close()
        want = idle_fds + KEPT * KEPT_FDS
        for _ in range(100):		# the hostile ones' connections are closing
            if self.broker_fds(broker) == want:
                break
            time.sleep(0.1)
        fds = self.broker_fds(broker)
        if fds != want:
            self.error("the broker holds %d fds, an idle one %d plus %d held" %
                       (fds, idle_fds, KEPT * KEPT_FDS))
        self.sample_rss()
        broker.send_signal(signal.SIGTERM)
        if broker.wait(30) != 0:
            self.error("the last broker exited %d" % broker.returncode)
        if os.path.exists(self.address):
            self.error("the socket file is left behind")
        peak = max(self.rss_peak.values()) if self.rss_peak else 0
        if peak > self.args.rss_bound * 1024:
            self.error("a broker's peak RSS was %d kB, past %d MB" % (peak, self.args.rss_bound))
        if self.latency_max > self.args.latency_bound:
            self.error("the owner's slowest LIST took %.2f s, past %.2f s" %
                       (self.latency_max, self.args.latency_bound))
        os.rmdir(self.dir)
        print("soak: %d s, %d brokers (%d takeovers), peak RSS %d kB, slowest owner "
              "LIST %.3f s, final fds %d (idle %d + %d held)" %
              (self.args.seconds, len(self.brokers), self.counts.get("takeovers", 0),
               peak, self.latency_max, fds, idle_fds, KEPT * KEPT_FDS))
        print("soak: " + ", ".join("%s %d" % kv for kv in sorted(self.counts.items())))
        if self.errors:
            print("soak: FAILED, %d errors" % len(self.errors))
            return 1
        print("soak: passed")
        return 0


def hostile(mode, address, seed):
    """One hostile client, until killed."""
    rng = random.Random(seed)
    null = os.open("/dev/null", os.O_RDONLY)

    def connect():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        s.connect(address)
        return s

    held = []
    if mode == "pipeline":		# retrieves of a big group, never read
        s = connect()
        s.sendmsg([header(OP_STORE, F_REPLACE) + b"hostile-big"], rights([null] * 253))
        s.setblocking(False)
        try:
            for _ in range(2000):
                s.send(header(OP_RETRIEVE) + b"hostile-big")
        except BlockingIOError:
            pass
        held.append(s)
    elif mode in ("lists", "dumps", "statuses"):	# LISTs, DUMPs or STATUSes, never read
        op = {"lists": OP_LIST, "dumps": OP_DUMP, "statuses": OP_STATUS}[mode]
        for _ in range(4):
            s = connect()
            s.setblocking(False)
            try:
                for _ in range(200):
                    s.send(header(op))
            except BlockingIOError:
                pass
            held.append(s)
    elif mode == "monitor":		# monitors, never read
        for _ in range(4):
            s = connect()
            s.send(header(OP_MONITOR))
            held.append(s)
    elif mode == "wait":		# waits that outlast everything
        for i in range(8):
            s = connect()
            s.send(header(OP_RETRIEVE, F_WAIT) + struct.pack("=I", 0) + b"hostile-never-%d" % i)
            held.append(s)
    elif mode == "garbage":		# random records with random fds
        while True:
            s = connect()
            size = rng.choice([0, 1, 15, 16, 17, 300, 4096, 4097, 9000])
            data = bytes(rng.getrandbits(8) for _ in range(min(size, 64)))
            data = (data * (size // max(len(data), 1) + 1))[:size]
            if size >= 16 and rng.random() < 0.5:
                data = header(rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 77]),
                              rng.getrandbits(16)) + data[16:]
            try:
                s.sendmsg([data], rights([null] * rng.choice([0, 1, 253])))
                s.settimeout(1)
                s.recv(70000)
            except OSError:
                pass
            s.close()
    elif mode == "flood":		# connections until refused
        for _ in range(300):
            try:
                held.append(connect())
            except OSError:
                break
    elif mode == "store-kill":		# stores of its own names, killed mid-way
        s = connect()
        while True:
            s.sendmsg([header(OP_STORE, F_REPLACE) + b"hostile-%d" % rng.randrange(8)],
                      rights([null] * rng.randint(1, 50)))
            try:
                recv_record(s)
            except (OSError, ConnectionError):
                s = connect()
    while True:
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fdpass", required=True)
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--takeover-every", type=float, default=20)
    ap.add_argument("--rss-bound", type=int, default=64, help="MB")
    ap.add_argument("--latency-bound", type=float, default=2.0, help="seconds")
    return Soak(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
