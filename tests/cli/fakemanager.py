#!/usr/bin/env python3
"""A stand-in for systemd's fd store, for the --fdstore tests.

fakemanager.py DIR [--socket PATH] PROGRAM [ARG...]

Binds the notification socket DIR/notify.sock and runs PROGRAM with
NOTIFY_SOCKET set to it. It keeps the fds of every FDSTORE=1 datagram
under its FDNAME, drops a name's fds on FDSTOREREMOVE=1, and after every
datagram rewrites DIR/store with one line per name, "NAME NFDS", sorted.
On SIGUSR1 it kills PROGRAM with SIGKILL and starts it again with the
stored fds from fd 3 on, LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID set to
the new process's own pid, as systemd does; DIR/pid always holds the pid
of the running PROGRAM. SIGTERM stops PROGRAM with SIGTERM and exits with
its status. A datagram whose fds were cut short (MSG_CTRUNC) or that has
neither key is written to DIR/errors.
With --socket, it also plays a socket unit named fdpass.socket: a
listening SOCK_SEQPACKET socket at PATH, handed over first, before the
stored fds, at every start.
"""
import fcntl
import os
import select
import signal
import socket
import sys

MAX_FDS = 253


def write_atomically(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


class Manager:
    def __init__(self, directory, argv):
        self.dir = directory
        self.listener = None
        if argv[0] == "--socket":
            self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.listener.bind(argv[1])
            self.listener.listen(16)
            argv = argv[2:]
        self.argv = argv
        self.store = {}         # name -> list of fds, in arrival order
        self.order = []         # names in the order first stored
        self.pid = None
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(os.path.join(directory, "notify.sock"))
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        self.pending = []
        signal.signal(signal.SIGUSR1, lambda s, f: self.pending.append(s))
        signal.signal(signal.SIGTERM, lambda s, f: self.pending.append(s))
        signal.signal(signal.SIGCHLD, lambda s, f: None)

    def error(self, text):
        with open(os.path.join(self.dir, "errors"), "a") as f:
            f.write(text + "\n")

    def publish(self):
        lines = "".join("%s %d\n" % (n, len(self.store[n]))
                        for n in sorted(self.store))
        write_atomically(os.path.join(self.dir, "store"), lines)

    def start(self):
        names = [n for n in self.order for _ in self.store[n]]
        fds = [fd for n in self.order for fd in self.store[n]]
        if self.listener is not None:
            names.insert(0, "fdpass.socket")
            fds.insert(0, self.listener.fileno())
        pid = os.fork()
        if pid == 0:
            # Copy the fds above where they go, put them in place from 3
            # on, and close everything else, as systemd hands over exactly
            # LISTEN_FDS fds.
            top = 3 + len(fds) + max(fds + [0])
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, top) for fd in fds]
            for i, fd in enumerate(high):
                os.dup2(fd, 3 + i)
            os.closerange(3 + len(fds), os.sysconf("SC_OPEN_MAX"))
            env = dict(os.environ)
            env["NOTIFY_SOCKET"] = os.path.join(self.dir, "notify.sock")
            if fds:
                env["LISTEN_FDS"] = str(len(fds))
                env["LISTEN_FDNAMES"] = ":".join(names)
                env["LISTEN_PID"] = str(os.getpid())
            os.execvpe(self.argv[0], self.argv, env)
        self.pid = pid
        write_atomically(os.path.join(self.dir, "pid"), "%d\n" % pid)

    def receive(self):
        try:
            data, fds, flags, _ = socket.recv_fds(self.sock, 4096, MAX_FDS)
        except BlockingIOError:
            return False
        if flags & socket.MSG_CTRUNC:
            self.error("fds cut short")
        fields = dict(line.split("=", 1) for line in
                      data.decode().split("\n") if "=" in line)
        name = fields.get("FDNAME", "stored")
        if fields.get("FDSTORE") == "1":
            if name not in self.store:
                self.store[name] = []
                self.order.append(name)
            self.store[name].extend(fds)
        elif fields.get("FDSTOREREMOVE") == "1":
            for fd in self.store.pop(name, []):
                os.close(fd)
            if name in self.order:
                self.order.remove(name)
            for fd in fds:
                os.close(fd)
        elif fds or not set(fields) <= {"READY", "STATUS", "STOPPING"}:
            self.error("neither FDSTORE, FDSTOREREMOVE nor state: %r" % data)
            for fd in fds:
                os.close(fd)
        self.publish()
        return True

    def run(self):
        self.publish()
        self.start()
        self.sock.setblocking(False)
        while True:
            ready, _, _ = select.select([self.sock, self.wake_r], [], [])
            if self.wake_r in ready:
                os.read(self.wake_r, 64)
            if self.sock in ready:
                self.receive()
            while self.pending:
                sig = self.pending.pop(0)
                if sig == signal.SIGUSR1:
                    os.kill(self.pid, signal.SIGKILL)
                    os.waitpid(self.pid, 0)
                    while self.receive():   # what it sent before it died
                        pass
                    self.start()
                else:
                    os.kill(self.pid, signal.SIGTERM)
                    _, status = os.waitpid(self.pid, 0)
                    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    Manager(sys.argv[1], sys.argv[2:]).run()
