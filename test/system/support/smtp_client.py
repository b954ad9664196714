"""Small SMTP clients for the system tests that run Exim in network
namespaces, and a way to open their sockets in another namespace without a
new process per connection.

  Netns(name).socket(family)   a socket in network namespace `name` (setns on
                               the calling thread only, then back)
  greet(sock_factory, src, dst, port)
                               one connection: the greeting (code, text,
                               seconds), then QUIT
  auth_unadvertised(sock_factory, src, dst, port, times)
                               EHLO, then AUTH LOGIN `times` times where the
                               server advertises no AUTH: each is a 503 and,
                               with +smtp_protocol_error, one mainlog line
                               ("AUTH command used when not advertised")

Every read and connect is bounded by `timeout`."""

import ctypes
import os
import socket
import time

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)


class Netns:
    """Opens sockets in the network namespace `name` (/run/netns/NAME) from
    any thread of this process: setns() moves the calling thread only, and
    a socket keeps the namespace it was made in."""

    def __init__(self, name):
        self.name = name
        self.fd = os.open("/run/netns/%s" % name, os.O_RDONLY | os.O_CLOEXEC)

    def socket(self, family, kind=socket.SOCK_STREAM):
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        try:
            if _libc.setns(self.fd, CLONE_NEWNET) != 0:
                e = ctypes.get_errno()
                raise OSError(e, "setns(%s): %s" % (self.name, os.strerror(e)))
            try:
                return socket.socket(family, kind)
            finally:
                if _libc.setns(home, CLONE_NEWNET) != 0:
                    e = ctypes.get_errno()
                    raise OSError(e, "setns back: %s" % os.strerror(e))
        finally:
            os.close(home)

    def close(self):
        os.close(self.fd)


def _family(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


class Reply:
    def __init__(self, code, text):
        self.code = code
        self.text = text

    def __repr__(self):
        return "%s %s" % (self.code, self.text)


class Conversation:
    """One SMTP connection from `src` to `dst`:`port`."""

    def __init__(self, netns, src, dst, port, timeout=5.0):
        family = _family(dst)
        self.sock = netns.socket(family) if netns else socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.buffer = b""
        try:
            self.sock.bind((src, 0))
            self.sock.connect((dst, port))
        except BaseException:
            self.sock.close()
            raise

    def reply(self):
        """One reply, multi-line or not: (code, the text of its lines)."""
        lines = []
        while True:
            while b"\n" not in self.buffer:
                data = self.sock.recv(4096)
                if not data:
                    raise ConnectionError("connection closed after %r" % (lines or self.buffer))
                self.buffer += data
            line, self.buffer = self.buffer.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("latin-1")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                try:
                    code = int(line[:3])
                except ValueError:
                    raise ConnectionError("not an SMTP reply: %r" % line)
                return Reply(code, "\n".join(lines))

    def command(self, text):
        self.sock.sendall(text.encode("latin-1") + b"\r\n")
        return self.reply()

    def quit(self):
        """QUIT, without waiting long for the answer."""
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.sock.settimeout(2)
            while self.sock.recv(4096):
                pass
        except OSError:
            pass
        self.close()

    def close(self):
        self.sock.close()


def greet(netns, src, dst, port=25, timeout=5.0):
    """Connects and reads the greeting; returns (code, text, seconds from
    the start of the connect to the greeting). Exim sends its connect-ACL
    refusal in place of the greeting, then closes."""
    t0 = time.monotonic()
    c = Conversation(netns, src, dst, port, timeout)
    try:
        r = c.reply()
        took = time.monotonic() - t0
        if r.code == 220:
            c.quit()
        return r.code, r.text, took
    finally:
        c.close()


def auth_unadvertised(netns, src, dst, port=25, times=1, timeout=5.0):
    """EHLO then `times` x AUTH LOGIN on a server that advertises no AUTH;
    returns the AUTH replies' codes (503 each)."""
    c = Conversation(netns, src, dst, port, timeout)
    try:
        r = c.reply()
        if r.code != 220:
            raise ConnectionError("greeting %r" % r)
        r = c.command("EHLO ylmf-pc")
        if r.code != 250:
            raise ConnectionError("EHLO: %r" % r)
        codes = [c.command("AUTH LOGIN").code for _ in range(times)]
        c.quit()
        return codes
    finally:
        c.close()
