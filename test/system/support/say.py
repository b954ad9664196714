"""A driver's progress lines: each prefixed with the driver's name and
flushed at once, so that they interleave in order with its children's
output in ctest's log."""

import sys


def sayer(name, stream=None):
    """A function that prints "NAME: TEXT" on `stream` (stdout unless given)
    and flushes it; with name None, TEXT alone."""
    def say(text):
        print(text if name is None else "%s: %s" % (name, text), file=stream or sys.stdout, flush=True)
    return say
