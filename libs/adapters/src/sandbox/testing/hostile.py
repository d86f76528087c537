"""A job that tries to break out of the sandbox and prints what it managed: one line, REPORT {json}.

The test passes what it needs to know about the host in the config (json is valid yaml).
Every probe returns True/False or a string; the test asserts on each, so a failure names the defence.
"""
import ctypes
import json
import os
import socket
import sys

config = json.load(open(sys.argv[sys.argv.index("--config") + 1]))


def can(action):
    try:
        action()
        return True
    except Exception:
        return False


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def write(path):
    with open(path, "w") as handle:
        handle.write("pwned")


def connect(address):
    if address is None:
        return None
    try:
        socket.create_connection((address[0], address[1]), timeout=2).close()
        return "connected"
    except OSError as error:
        return f"{type(error).__name__}: {error}"


secret = config["secret"].encode()
proc_readable, secret_in_proc, host_path_in_cmdlines = [], [], []
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for name in ("environ", "cmdline"):
        try:
            data = read(f"/proc/{pid}/{name}")
        except OSError:
            continue
        proc_readable.append(f"{pid}/{name}")
        if secret in data:
            secret_in_proc.append(f"{pid}/{name}")
        if name == "cmdline" and any(p.encode() in data for p in config["host_paths"]):
            host_path_in_cmdlines.append(f"{pid}: {data!r}")

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWUSER = 0x10000000
status = dict(line.split(":\t", 1) for line in read("/proc/self/status").decode().splitlines() if ":\t" in line)


def pid1_environ():
    try:
        return [v for v in read("/proc/1/environ").decode().split("\0") if v]
    except OSError as error:
        return type(error).__name__


def setuid_root():
    os.setuid(0)


def signal_worker():
    os.kill(config["worker_pid"], 0)


report = {
    "read": {
        "sibling_by_host_path": can(lambda: read(config["sibling_secret"])),
        "sibling_by_relative_path": can(lambda: read(config["sibling_relative"])),
        "etc_shadow": can(lambda: read("/etc/shadow")),
        "root_home": can(lambda: os.listdir("/root")),
        "host_paths": [os.path.exists(p) for p in config["host_paths"]],
        "sys": can(lambda: os.listdir("/sys")),
    },
    "top_level": sorted(os.listdir("/")),
    "etc": sorted(os.listdir("/etc")),
    "environ": dict(os.environ),
    "secret_in_environ": any(config["secret"] in v for v in os.environ.values()),
    "proc_readable": proc_readable,
    "secret_in_proc": secret_in_proc,
    "pid1_environ": pid1_environ(),
    "host_path_in_cmdlines": host_path_in_cmdlines,
    "write": {
        "output": can(lambda: write("/output/x")),
        "tmp": can(lambda: write(f"/tmp/{config['host_tmp_file']}")),
        "submission": can(lambda: write("/submission/x")),
        "usr": can(lambda: write("/usr/x")),
        "venv": can(lambda: write("/venv/x")),
        "etc": can(lambda: write("/etc/passwd")),
        "root_dir": can(lambda: write("/x")),
        "dev": can(lambda: write("/dev/x")),
        "config": can(lambda: write("/config.yaml")),
    },
    "connect": {"loopback": connect(config["loopback"]), "interface": connect(config["interface"])},
    "privileges": {
        "uid": os.getuid(),
        "groups": os.getgroups(),
        "cap_eff": status["CapEff"].strip(),
        "cap_bnd": status["CapBnd"].strip(),
        "no_new_privs": status["NoNewPrivs"].strip(),
        "setuid_root": can(setuid_root),
        "new_user_namespace": libc.unshare(CLONE_NEWUSER) == 0,
        "signal_worker": can(signal_worker),
    },
    "fds": sorted(fd for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")),
}
print("REPORT " + json.dumps(report), flush=True)
