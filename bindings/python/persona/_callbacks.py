"""Python functions called from C: exceptions are caught in the trampoline (ctypes would
only print them), remembered, and re-raised once the C call has returned."""
import contextlib

from ._capi import PersonaError


class CallbackGuard:
    """Remembers the first exception raised by the callbacks it wrapped."""

    def __init__(self):
        self.pending = None

    def wrap(self, func, failure=-1):
        """A trampoline for ``func``: returns ``failure`` to C instead of raising."""
        def trampoline(*args):
            try:
                return func(*args)
            except BaseException as exc:  # noqa: B902 - everything must stop at the C border
                if self.pending is None:
                    self.pending = exc
                return failure
        return trampoline

    def take(self):
        exc, self.pending = self.pending, None
        return exc


def _take_first(guards):
    first = None
    for guard in guards:
        exc = guard.take()
        if first is None:
            first = exc
    return first


@contextlib.contextmanager
def reraising(*guards):
    """Run a C call; if a wrapped callback raised, raise that exception (with the
    library's PersonaError, typically CallbackError, as its ``__cause__``)."""
    guards = [g for g in guards if g is not None]
    for guard in guards:
        guard.take()  # nothing stale from an earlier call
    try:
        yield
    except PersonaError as err:
        exc = _take_first(guards)
        if exc is not None:
            raise exc from err
        raise
    exc = _take_first(guards)
    if exc is not None:
        raise exc
