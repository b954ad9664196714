"""Clients of exim-band's control socket for the system tests, speaking its
protocol directly (one JSON object per line each way): one blocking
client's reply lines, and a crowd of clients connected at once and served
from one thread (a selector), each reply timed."""

import json
import selectors
import socket
import time


def connect(path, timeout=10):
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(timeout)
    client.connect(path)
    return client


def read_line(client):
    data = b""
    while not data.endswith(b"\n"):
        chunk = client.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_reply(client):
    """The next reply as an object; None when the daemon closed the
    connection, sent no JSON or took over 10 s."""
    client.settimeout(10)
    try:
        line = read_line(client)
        return json.loads(line) if line else None
    except (socket.timeout, ConnectionResetError, ValueError):
        return None


class Crowd:
    """`requests` (one line each) sent by as many clients, all connected
    before the first sends. run() sends them all and collects every reply;
    the connections stay open until close()."""

    def __init__(self, path, requests):
        self.requests = requests
        self.clients = []
        try:
            for _ in requests:
                self.clients.append(connect(path))
        except BaseException:
            self.close()
            raise
        for client in self.clients:
            client.setblocking(False)

    def run(self, timeout):
        """Returns per client (reply object or None, seconds from its send to
        its whole reply line, or None)."""
        selector = selectors.DefaultSelector()
        received = [b""] * len(self.clients)
        done = [None] * len(self.clients)
        sent_at = [0.0] * len(self.clients)
        for i, (client, line) in enumerate(zip(self.clients, self.requests)):
            sent_at[i] = time.monotonic()
            client.sendall(line.encode() + b"\n")   # a few bytes: a fresh socket's buffer takes them
            selector.register(client, selectors.EVENT_READ, i)
        open_ = len(self.clients)
        deadline = time.monotonic() + timeout
        while open_ and time.monotonic() < deadline:
            for key, _ in selector.select(max(deadline - time.monotonic(), 0)):
                i = key.data
                try:
                    chunk = key.fileobj.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except ConnectionResetError:
                    chunk = b""
                received[i] += chunk
                if chunk and not received[i].endswith(b"\n"):
                    continue
                done[i] = time.monotonic() - sent_at[i] if chunk else None
                selector.unregister(key.fileobj)
                open_ -= 1
        selector.close()
        results = []
        for data, took in zip(received, done):
            try:
                reply = json.loads(data) if data.endswith(b"\n") else None
            except ValueError:
                reply = None
            results.append((reply, took if reply is not None else None))
        return results

    def close(self):
        for client in self.clients:
            client.close()
        self.clients = []
