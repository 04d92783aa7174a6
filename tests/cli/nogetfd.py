#!/usr/bin/env python3
"""Run a command as on a kernel without pidfd_getfd(2): a seccomp filter
makes that system call fail with ENOSYS, everything else goes through.

Usage: nogetfd.py PROG [ARG...]   (exits 77 on a machine it cannot filter)"""
import ctypes
import os
import platform
import struct
import sys

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, ENOSYS = 0x7fff0000, 0x00050000, 38
BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x20, 0x15, 0x06
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
NR_PIDFD_GETFD = 438     # the same on every architecture since Linux 5.6


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def insn(code, k, jt=0, jf=0):
    return struct.pack("HBBI", code, jt, jf, k)


def main():
    arch = AUDIT_ARCH.get(platform.machine())
    if arch is None:
        sys.exit(77)
    prog = b"".join([
        insn(BPF_LD_W_ABS, 4),                        # seccomp_data.arch
        insn(BPF_JEQ_K, arch, 0, 3),
        insn(BPF_LD_W_ABS, 0),                        # seccomp_data.nr
        insn(BPF_JEQ_K, NR_PIDFD_GETFD, 0, 1),
        insn(BPF_RET_K, SECCOMP_RET_ERRNO | ENOSYS),
        insn(BPF_RET_K, SECCOMP_RET_ALLOW),
    ])
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                       ctypes.byref(fprog), 0, 0) != 0:
        sys.exit("nogetfd.py: seccomp: %s" % os.strerror(ctypes.get_errno()))
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
