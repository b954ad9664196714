"""A system test's assertions: Failure is what every driver prints as FAIL
(its run ends there), check() raises it when a condition does not hold and
counts the checks that held, for the drivers that report that count."""


class Failure(Exception):
    pass


_held = 0


def check(condition, what):
    """Raises Failure(what) unless `condition` is true; otherwise counts one
    more check held (checks_held())."""
    global _held
    if not condition:
        raise Failure(what)
    _held += 1


def checks_held():
    """How many check() calls of this process have held."""
    return _held
