"""Starts a job: the MLflow relay forwarder (inside the sandbox), then the user's entrypoint.

    python launcher.py --entrypoint main.py --config C --output O
                       [--status-fd N] [--relay-socket PATH --relay-port PORT]
    python launcher.py --entrypoint score.py [--status-fd N] -- ARG...

Runs `python {entrypoint} --config C --output O` (or, given arguments after `--`, `python {entrypoint}
ARG...`: how a scorer is run) in the current directory as a child with the same
stdio, with no other file descriptor (whatever the chain inherited, fd 251 of some shell, say), and
exits with its exit code, or 128+N when it died of signal N. In the sandbox the launcher is pid 1
(bwrap --as-pid-1): it reaps orphans, the kernel drops the signals the job sends it, and it makes
itself non-dumpable first, so the job (same uid, no capabilities) can neither ptrace it, read its
memory nor take its file descriptors. bwrap, outside, reports its exit status; that is what the
runner trusts. --status-fd only says whether 128+N was a signal or an exit code.
With --relay-socket it first serves 127.0.0.1:PORT, piping each connection to that unix socket (the
sandbox has no network; the host end of the socket connects to MLflow). Standard library only.
"""

import argparse
import ctypes
import os
import selectors
import signal
import socket
import sys

PR_SET_DUMPABLE = 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entrypoint", required=True)
    parser.add_argument("--config")
    parser.add_argument("--output")
    parser.add_argument("--status-fd", type=int)
    parser.add_argument("--relay-socket")
    parser.add_argument("--relay-port", type=int)
    own, user_args = split_at_dashes(sys.argv[1:])
    args = parser.parse_args(own)
    if user_args is None:
        if args.config is None or args.output is None:
            parser.error("--config and --output are required unless the arguments follow --")
        user_args = ["--config", args.config, "--output", args.output]

    make_undumpable()
    # Python's own SIGINT handler would let the job end pid 1 with a KeyboardInterrupt.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    # Whatever the chain inherited (a shell's fd 251, say) goes now; only the status fd stays.
    close_fds_above_2(keep=args.status_fd)
    if args.status_fd is not None:
        os.set_inheritable(args.status_fd, False)
    if args.relay_socket:
        start_forwarder(args.relay_port, args.relay_socket)
    # A name starting with "-" would be read as an option of python.
    entrypoint = os.path.join(".", args.entrypoint) if args.entrypoint.startswith("-") else args.entrypoint
    command = [sys.executable, entrypoint, *user_args]
    child = os.fork()
    if child == 0:
        run_user_code(command, args.entrypoint)
    status = wait_for(child)
    if os.WIFSIGNALED(status):
        report(args.status_fd, f"signal {os.WTERMSIG(status)}")
        os._exit(128 + os.WTERMSIG(status))
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else 255
    report(args.status_fd, f"exit {code}")
    os._exit(code)


def split_at_dashes(argv):
    """The launcher's own options, and the entrypoint's arguments after the first `--` (None without one)."""
    if "--" not in argv:
        return argv, None
    at = argv.index("--")
    return argv[:at], argv[at + 1:]


def make_undumpable() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        print(f"launcher: prctl(PR_SET_DUMPABLE): {os.strerror(ctypes.get_errno())}", file=sys.stderr, flush=True)
        os._exit(125)


def close_fds_above_2(keep=None) -> None:
    top = os.sysconf("SC_OPEN_MAX")
    if keep is None:
        os.closerange(3, top)
    else:
        os.closerange(3, keep)
        os.closerange(keep + 1, top)


def run_user_code(command, entrypoint: str) -> None:
    """In the forked child: nothing but stdio goes on to the user's code."""
    try:
        close_fds_above_2()
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.execv(command[0], command)
    except OSError as error:
        print(f"launcher: cannot start {entrypoint}: {error}", file=sys.stderr, flush=True)
    os._exit(127)


def wait_for(child: int) -> int:
    """Waits for the user's process, reaping every other child (as pid 1, orphans land here)."""
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 255 << 8
        if pid == child and (os.WIFEXITED(status) or os.WIFSIGNALED(status)):
            return status


def report(fd, line: str) -> None:
    if fd is not None:
        try:
            os.write(fd, (line + "\n").encode())
        except OSError:
            pass


def start_forwarder(port: int, socket_path: str) -> None:
    """Listens before returning, so the user's first MLflow call finds the port open."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    if os.fork() == 0:
        try:
            close_fds_above_2(keep=listener.fileno())
            forward(listener, socket_path)
        finally:
            os._exit(0)
    listener.close()


def forward(listener: socket.socket, socket_path: str) -> None:
    """One thread for all connections: a pids limit counts threads too. One connection's trouble never ends it."""
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                try:
                    accept(selector, listener, socket_path)
                except OSError:
                    pass
                continue
            source, (target, pair) = key.fileobj, key.data
            # Both ends can be ready in one batch: the first may have closed the pair already.
            if pair["closed"]:
                continue
            try:
                data = source.recv(65536)
                if data:
                    target.sendall(data)
                    continue
                # Half-close: the other direction may still be sending.
                target.shutdown(socket.SHUT_WR)
                selector.unregister(source)
                pair["open"] -= 1
                if pair["open"] == 0:
                    close_pair(selector, pair)
            except OSError:
                close_pair(selector, pair)


def accept(selector, listener: socket.socket, socket_path: str) -> None:
    client, _ = listener.accept()
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(socket_path)
    except OSError:
        client.close()
        upstream.close()
        return
    pair = {"sockets": (client, upstream), "open": 2, "closed": False}
    selector.register(client, selectors.EVENT_READ, (upstream, pair))
    selector.register(upstream, selectors.EVENT_READ, (client, pair))


def close_pair(selector, pair) -> None:
    if pair["closed"]:
        return
    pair["closed"] = True
    for sock in pair["sockets"]:
        try:
            selector.unregister(sock)
        except (KeyError, ValueError):
            pass
        sock.close()


if __name__ == "__main__":
    main()
