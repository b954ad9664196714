"""The run's progress lines: each step with the seconds since the start."""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from say import sayer  # noqa: E402


T0 = time.monotonic()


say = sayer("exim-e2e")


def step(msg):
    say("[%5.1f s] %s" % (time.monotonic() - T0, msg))
