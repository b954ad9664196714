#!/usr/bin/python3
"""tcp-probe: the two ends of the packet test.

  tcp-probe listen PORT...        accept on [::] (IPv4 too) and greet each
                                  client with "220 exim-ban test" until killed
  tcp-probe connect SRC DST PORT  connect from SRC to DST:PORT, wait at most
                                  1 s; print "ok" (greeted), "refused" (RST)
                                  or "timeout" (dropped)
"""
import selectors
import socket
import sys


def listen(ports):
    selector = selectors.DefaultSelector()
    for port in ports:
        server = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("::", port))
        server.listen(16)
        selector.register(server, selectors.EVENT_READ)
    print("listening", flush=True)
    while True:
        for key, _ in selector.select():
            client, _ = key.fileobj.accept()
            try:
                client.sendall(b"220 exim-ban test\r\n")
            finally:
                client.close()


def connect(source, destination, port):
    family = socket.AF_INET6 if ":" in destination else socket.AF_INET
    client = socket.socket(family, socket.SOCK_STREAM)
    client.settimeout(1.0)
    try:
        client.bind((source, 0))
        client.connect((destination, port))
        greeting = client.recv(64)
        print("ok" if greeting.startswith(b"220") else "bad greeting")
    except (ConnectionRefusedError, ConnectionResetError):
        print("refused")
    except socket.timeout:
        print("timeout")
    finally:
        client.close()


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "listen":
        listen([int(p) for p in sys.argv[2:]])
    elif len(sys.argv) == 5 and sys.argv[1] == "connect":
        connect(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.exit(__doc__)
