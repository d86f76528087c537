"""Churns the launcher's relay forwarder: 300 connections whose both ends close at once, then one more.

    python forwarder-churn.py LAUNCHER_DIR   ->   prints `alive` if the forwarder still serves, `dead ...` if not.
"""
import os
import socket
import sys
import tempfile
import threading

sys.path.insert(0, sys.argv[1])
import launcher  # noqa: E402

path = tempfile.mktemp()
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(64)


def serve():
    while True:
        conn, _ = server.accept()
        conn.sendall(b"x" * 10)
        conn.close()


threading.Thread(target=serve, daemon=True).start()
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
port = listener.getsockname()[1]
threading.Thread(target=launcher.forward, args=(listener, path), daemon=True).start()
try:
    for _ in range(300):
        client = socket.create_connection(("127.0.0.1", port), timeout=3)
        client.sendall(b"y" * 10)
        client.close()
    client = socket.create_connection(("127.0.0.1", port), timeout=3)
    print("alive" if client.recv(10) == b"x" * 10 else "dead: wrong answer")
except OSError as error:
    print(f"dead: {error}")
finally:
    os.unlink(path)
