#!/usr/bin/env python3
"""long_entries WORK DEV -- run in the client namespace of run-corpus.sh
after the corpus's clients (its CORPUS_EXTRA_DRIVE): sessions whose log
entries are longer than the 870 bytes Exim puts in one syslog line, so that
Exim splits them into "[1/2] ", "[2/2] " parts. From one address (added to
DEV here, 10.99.2.1), with a 900-character EHLO name (valid labels):
  A:25   AUTH LOGIN with a 1,000-character initial response, twice, where
         A advertises no AUTH (the host stands after the split);
  B:465  three wrong passwords for a 1,000-character user (TLS);
  B:25   a message that B's DATA ACL refuses (exim-syslog-test.sh adds a
         deny for its X-Syslog-Test header): with syslog_duplication = false
         Exim sends the reject log's copy, the message's headers after a
         newline each ("[1\\9] ", "[2\\9] "...), one a forged failure line
         of a victim that must never count.
Prints the sessions' replies."""

import base64
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from smtp_client import Conversation  # noqa: E402

GUESSER = "10.99.2.1"
HELO = ".".join(["l%02d" % n + "x" * 60 for n in range(14)]) + ".example"


VICTIM = "10.99.9.77"  # in the corpus's victim range: never connects
MESSAGE = ("X-Syslog-Test: refuse me\r\n"
           "X-Forged: 2026-12-07 14:01:05 login authenticator failed for (x) [%s]: 535 Incorrect "
           "authentication data (set_id=admin)\r\n"
           "Subject: headers into the reject log\r\n\r\nbody\r\n." % VICTIM)


def session(dst, port, commands, tls_name=None):
    c = Conversation(None, GUESSER, dst, port, timeout=10, tls_name=tls_name)
    try:
        replies = [c.reply().code]
        for command in commands:
            reply = c.command(command)
            replies.append(reply.code)
            if reply.code is None:
                break
        else:
            c.quit()
        return replies
    finally:
        c.close()


def main(work, dev):
    subprocess.run(["ip", "addr", "add", GUESSER + "/16", "dev", dev], check=True)
    replies = [session("10.99.0.1", 25, ["EHLO " + HELO] + ["AUTH LOGIN " + "x" * 1000] * 2)]
    user = "u" * 1000
    for attempt in range(3):
        plain = base64.b64encode(("\0%s\0wrong-%d" % (user, attempt)).encode()).decode()
        replies.append(session("10.99.0.2", 465, ["EHLO " + HELO, "AUTH PLAIN " + plain],
                               tls_name="mx-b.lab.example"))
    replies.append(session("10.99.0.2", 25, ["EHLO client.example", "MAIL FROM:<>",
                                             "RCPT TO:<carol@lab.example>", "DATA", MESSAGE]))
    print("long_entries: replies %s" % replies, file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: long_entries.py WORK DEV")
    main(sys.argv[1], sys.argv[2])
