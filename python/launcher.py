"""Starts a job: the MLflow relay forwarder (inside the sandbox), then the user's entrypoint.

    python launcher.py --entrypoint main.py --config C --output O
                       [--status-fd N] [--relay-socket PATH --relay-port PORT]

Runs `python {entrypoint} --config C --output O` in the current directory with the same stdio and
exits with its exit code, or dies of the same signal. With --status-fd it writes `started` before
the entrypoint runs and `exit N` / `signal N` after, so the runner can tell a sandbox that never
came up, and a signal, from an exit code. With --relay-socket it first serves 127.0.0.1:PORT,
piping each connection to that unix socket (the sandbox has no network; the host end of the
socket connects to MLflow). Standard library only.
"""

import argparse
import os
import selectors
import signal
import socket
import subprocess
import sys


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entrypoint", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--status-fd", type=int)
    parser.add_argument("--relay-socket")
    parser.add_argument("--relay-port", type=int)
    args = parser.parse_args()

    if args.relay_socket:
        start_forwarder(args.relay_port, args.relay_socket, keep_closed=args.status_fd)
    # A name starting with "-" would be read as an option of python.
    entrypoint = os.path.join(".", args.entrypoint) if args.entrypoint.startswith("-") else args.entrypoint
    report(args.status_fd, "started")
    try:
        child = subprocess.Popen([sys.executable, entrypoint, "--config", args.config, "--output", args.output])
    except OSError as error:
        print(f"launcher: cannot start {args.entrypoint}: {error}", file=sys.stderr, flush=True)
        report(args.status_fd, "exit 127")
        sys.exit(127)
    returncode = child.wait()
    if returncode < 0:
        report(args.status_fd, f"signal {-returncode}")
        # Die the way the child did; SIGKILL and SIGSTOP cannot (and need not) be reset first.
        if -returncode not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(-returncode, signal.SIG_DFL)
        os.kill(os.getpid(), -returncode)
    report(args.status_fd, f"exit {returncode}")
    sys.exit(returncode)


def report(fd, line: str) -> None:
    if fd is not None:
        os.write(fd, (line + "\n").encode())


def start_forwarder(port: int, socket_path: str, keep_closed) -> None:
    """Listens before returning, so the user's first MLflow call finds the port open."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(64)
    if os.fork() == 0:
        try:
            if keep_closed is not None:
                os.close(keep_closed)
            forward(listener, socket_path)
        finally:
            os._exit(0)
    listener.close()


def forward(listener: socket.socket, socket_path: str) -> None:
    """One thread for all connections: a pids limit counts threads too."""
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                accept(selector, listener, socket_path)
                continue
            source, (target, pair) = key.fileobj, key.data
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
    pair = {"sockets": (client, upstream), "open": 2}
    selector.register(client, selectors.EVENT_READ, (upstream, pair))
    selector.register(upstream, selectors.EVENT_READ, (client, pair))


def close_pair(selector, pair) -> None:
    for sock in pair["sockets"]:
        try:
            selector.unregister(sock)
        except KeyError:
            pass
        sock.close()


if __name__ == "__main__":
    main()
