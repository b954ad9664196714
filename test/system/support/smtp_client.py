"""The SMTP client of the system tests that run Exim in network namespaces,
and a way to open its sockets in another namespace without a new process
per connection.

  Netns(name).socket(family)   a socket in network namespace `name` (setns on
                               the calling thread only, then back)
  Conversation(netns, src, dst, port, timeout, tls_name, early)
                               one raw connection: TLS from the first byte
                               or after STARTTLS, input before the greeting,
                               replies read whole (multi-line ones too)
  greet(sock_factory, src, dst, port)
                               one connection: the greeting (code, text,
                               seconds), then QUIT
  auth_unadvertised(sock_factory, src, dst, port, times)
                               EHLO, then AUTH LOGIN `times` times where the
                               server advertises no AUTH: each is a 503 and,
                               with +smtp_protocol_error, one mainlog line
                               ("AUTH command used when not advertised")

Every read and connect is bounded by `timeout`."""

import collections
import ctypes
import os
import socket
import ssl
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


# code None: the server closed the connection (or a read failed, or timed
# out) before a whole reply, or sent a line that is no reply; text holds the
# lines read, each without its code.
Reply = collections.namedtuple("Reply", "code text")


class Conversation:
    """One SMTP connection from `src` to `dst`:`port`, its socket made in
    `netns` (a Netns) or in this process's namespace (None). `early` bytes
    are sent at once, before anything is read; with `tls_name` the
    connection is TLS from the first byte, that name sent as SNI (no
    certificate check). Every connect and read is bounded by `timeout`."""

    def __init__(self, netns, src, dst, port, timeout=5.0, tls_name=None, early=None):
        family = _family(dst)
        self.sock = netns.socket(family) if netns else socket.socket(family, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.buffer = b""
        self.closed = False
        try:
            self.sock.bind((src, 0))
            self.sock.connect((dst, port))
            if early is not None:
                self.sock.sendall(early)
            if tls_name is not None:
                self.start_tls(tls_name)
        except BaseException:
            self.sock.close()
            raise

    def start_tls(self, name):
        """The TLS handshake, `name` as SNI; raises ssl.SSLError (an OSError)
        when it fails, the plain socket left in place."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.sock = context.wrap_socket(self.sock, server_hostname=name)

    def _receive(self):
        try:
            data = self.sock.recv(65536)
        except OSError:       # reset, TLS alert, timeout: the end of the session
            data = b""
        if not data:
            self.closed = True
        self.buffer += data
        return bool(data)

    def read_reply(self):
        """The next reply, multi-line or not (see Reply for code None)."""
        lines = []
        while True:
            while b"\n" not in self.buffer:
                if self.closed or not self._receive():
                    return Reply(None, "\n".join(lines))
            line, self.buffer = self.buffer.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("latin-1")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                try:
                    return Reply(int(line[:3]), "\n".join(lines))
                except ValueError:
                    return Reply(None, "\n".join(lines[:-1] + [line]))

    def reply(self):
        """read_reply(), but a reply with no code raises ConnectionError."""
        r = self.read_reply()
        if r.code is None:
            raise ConnectionError("connection closed or no SMTP reply after %r" % r.text)
        return r

    def send(self, data):
        """Raw text (latin-1) or bytes, nothing added."""
        self.sock.sendall(data.encode("latin-1") if isinstance(data, str) else data)

    def command(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def wait_closed(self):
        """Reads until the server closes, at most `timeout` s, then closes."""
        deadline = time.monotonic() + self.timeout
        while not self.closed and time.monotonic() < deadline:
            self._receive()
        self.sock.close()

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
