"""e2e.py client KIND SRC DST (in the bot namespace): one raw SMTP session
of the bot."""

import json
import os
import ssl
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
sys.path.insert(0, os.path.join(HERE, "..", "exim-corpus"))
import corpus  # noqa: E402  -- the corpus test's raw SMTP session
from plan import SWAKS_TIMEOUT  # noqa: E402


class RawClient:
    def __init__(self, addr):
        self.addr = addr
        self.log = []


def main_client(kind, src, dst):
    """One raw bot session; prints {"ok": bool, "codes": [...], "detail": ...}.
    The session's hit is written before the bot's last read; the bot then
    closes without waiting (its ban may already drop its packets)."""
    corpus.SERVER["E"] = {4: dst, 6: dst}
    corpus.TIMEOUT = SWAKS_TIMEOUT
    c = RawClient(src)
    codes = []
    result = {"ok": False, "codes": codes, "kind": kind, "src": src}
    try:
        if kind in ("nixconn587", "nixconn465"):
            # connect ACL: a defer instead of the greeting (on 465 the TLS
            # handshake comes first)
            port = 587 if kind == "nixconn587" else 465
            s = corpus.Session(c, "E", port, tls_on_connect=(port == 465))
            codes.append(s.banner[0])
            result["ok"] = s.banner[0] == 451
            result["detail"] = s.banner[1]
            s.sock.close()
        else:
            port = 25 if kind in ("noadv25", "blast25") else 587
            s = corpus.Session(c, "E", port)
            codes.append(s.banner[0])
            s.cmd("EHLO ylmf-pc", 250)
            ehlo = c.log[-1]
            if kind == "blast25":
                cmds = ["AUTH LOGIN"] * 3
            elif kind == "noadv25":
                cmds = ["AUTH LOGIN"]
            else:
                cmds = ["AUTH PLAIN " + corpus.b64("\0admin\0admin123")]
            for n, line in enumerate(cmds):
                r = s.cmd(line)
                codes.append(r[0])
                if r[0] != 503:
                    result["detail"] = "%r -> %r (%s)" % (line, r, ehlo)
                    break
            else:
                result["ok"] = True
            s.sock.close()
    except (OSError, ssl.SSLError, corpus.SmtpError) as e:
        result["detail"] = "%s: %s" % (type(e).__name__, e)
    print(json.dumps(result))
    return 0
