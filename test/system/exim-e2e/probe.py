"""e2e.py probe SRC,DST,PORT... (in a client namespace): TCP connects, all
at once, each bounded by PROBE_TIMEOUT."""

import json
import os
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from plan import PROBE_TIMEOUT  # noqa: E402
from smtp_client import Conversation  # noqa: E402


def probe_one(src, dst, port):
    t0 = time.monotonic()
    try:
        c = Conversation(None, src, dst, port, PROBE_TIMEOUT)
    except socket.timeout:
        return "timeout after %.1f s" % (time.monotonic() - t0)
    except ConnectionRefusedError:
        return "refused"
    except OSError as e:
        return "error %s" % e
    # connected: a well-behaved client, greeting then QUIT
    try:
        c.sock.settimeout(5)
        if port == 465:
            c.start_tls("mx.e2e.example")
        return "connected %s" % c.read_reply().code
    except OSError as e:
        return "error %s" % e
    finally:
        c.quit()


def main_probe(specs):
    jobs = []
    for spec in specs:
        src, dst, port = spec.split(",")[:3]
        jobs.append((spec, src, dst, int(port)))
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as ex:
        results = list(ex.map(lambda j: (j[0], probe_one(j[1], j[2], j[3])), jobs))
    print(json.dumps(dict(results)))
    return 0
