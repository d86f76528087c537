"""A job that tries to forge its own outcome, then fails: prints `FORGE {json}` and exits 7.

It goes after everything that could carry a status out of the sandbox: pid 1 (the launcher) and its
file descriptors by pidfd_getfd, /proc/1/fd and /proc/1/mem, ptrace; a sibling process by ptrace,
process_vm_writev and pidfd_getfd; and it tries to kill pid 1. Every write it manages says "exit 0".
"""
import ctypes
import errno
import json
import os
import signal
import sys
import time

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {"x86_64": {"pidfd_open": 434, "pidfd_getfd": 438, "ptrace": 101, "process_vm_writev": 311,
                 "io_uring_setup": 425, "keyctl": 250, "perf_event_open": 298, "name_to_handle_at": 303, "kcmp": 312},
      "aarch64": {"pidfd_open": 434, "pidfd_getfd": 438, "ptrace": 117, "process_vm_writev": 271,
                  "io_uring_setup": 425, "keyctl": 219, "perf_event_open": 241, "name_to_handle_at": 264, "kcmp": 272}}[os.uname().machine]
PTRACE_ATTACH = 16
FORGED = b"exit 0\n"


def syscall(name, *args):
    result = libc.syscall(NR[name], *[ctypes.c_long(a) for a in args])
    return result, (errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno())) if result < 0 else None)


class Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


def forge_fd(fd):
    try:
        os.write(fd, FORGED)
        return True
    except OSError:
        return False


report = {"pid": os.getpid()}
# 1. pid 1's fds through a pidfd.
pidfd, error = syscall("pidfd_open", 1, 0)
report["pidfd_open_1"] = error or "ok"
stolen = []
if pidfd >= 0:
    for target in range(0, 16):
        fd, error = syscall("pidfd_getfd", pidfd, target, 0)
        if fd >= 0:
            stolen.append(target)
            forge_fd(fd)
        elif target == 0:
            report["pidfd_getfd_1"] = error
report["stolen_from_1"] = stolen
# 2. /proc/1/fd reopen and /proc/1/mem.
reopened = []
try:
    for name in os.listdir("/proc/1/fd"):
        try:
            fd = os.open(f"/proc/1/fd/{name}", os.O_WRONLY)
            reopened.append(name)
            forge_fd(fd)
        except OSError:
            pass
    report["proc_1_fd"] = "listed"
except OSError as error:
    report["proc_1_fd"] = errno.errorcode[error.errno]
report["reopened_from_1"] = reopened
try:
    os.close(os.open("/proc/1/mem", os.O_RDWR))
    report["proc_1_mem"] = "opened"
except OSError as error:
    report["proc_1_mem"] = errno.errorcode[error.errno]
# 3. ptrace pid 1.
report["ptrace_1"] = syscall("ptrace", PTRACE_ATTACH, 1, 0, 0)[1] or "attached"
# 4. A sibling (a child of ours would be a descendant; the forwarder is a sibling, so is this child's child).
sibling = os.fork()
if sibling == 0:
    time.sleep(30)
    os._exit(0)
time.sleep(0.2)
report["ptrace_sibling"] = syscall("ptrace", PTRACE_ATTACH, sibling, 0, 0)[1] or "attached"
buffer = ctypes.create_string_buffer(b"x" * 8)
local = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 8)
remote = Iovec(ctypes.cast(buffer, ctypes.c_void_p), 8)
result = libc.syscall(NR["process_vm_writev"], ctypes.c_long(sibling), ctypes.byref(local), ctypes.c_ulong(1), ctypes.byref(remote), ctypes.c_ulong(1), ctypes.c_ulong(0))
report["process_vm_writev"] = errno.errorcode.get(ctypes.get_errno()) if result < 0 else "written"
child_pidfd, error = syscall("pidfd_open", sibling, 0)
report["pidfd_getfd_sibling"] = syscall("pidfd_getfd", child_pidfd, 1, 0)[1] or "stolen" if child_pidfd >= 0 else error
os.kill(sibling, signal.SIGKILL)
os.waitpid(sibling, 0)
# 5. Calls that without the filter answer something else (EFAULT, a keyring id, 0): EPERM means the filter.
report["filtered"] = {
    "io_uring_setup": syscall("io_uring_setup", 1, 0)[1],
    "keyctl": syscall("keyctl", 0, -1, 0)[1],
    "perf_event_open": syscall("perf_event_open", 0, 0, -1, -1, 0)[1],
    "name_to_handle_at": syscall("name_to_handle_at", -100, 0, 0, 0, 0)[1],
    "kcmp": syscall("kcmp", os.getpid(), os.getpid(), 0, 0, 0)[1],
}
# 6. Signal pid 1 every way, then fail.
sent = []
for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGSTOP, signal.SIGKILL):
    try:
        os.kill(1, number)
        sent.append(number.name)
    except OSError as error:
        sent.append(errno.errorcode[error.errno])
report["kill_1"] = sent
time.sleep(0.2)
report["fds"] = sorted(os.listdir("/proc/self/fd"))
print("FORGE " + json.dumps(report), flush=True)
sys.exit(7)
