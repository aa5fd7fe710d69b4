"""Lifecycle shared by every handle class: close(), context manager, use after close."""
import weakref


def _release(free, handle, keepalive):
    """Finalizer body: holds the C destructor, the raw handle and what C borrows from
    Python (arrays, callbacks), never the Python object itself."""
    free(handle)  # `keepalive` only had to live until here


class Handle:
    """Base of Store and Source: owns one C handle, freed exactly once by close(), by
    leaving a ``with`` block, or when the object is garbage-collected."""

    _kind = "object"
    _handle = None      # class defaults keep a half-constructed object closable
    _finalizer = None

    def _adopt(self, handle, free, keepalive=()):
        self._handle = handle
        self._finalizer = weakref.finalize(self, _release, free, handle, keepalive)

    def _live(self):
        """The C handle; ValueError once closed."""
        if self._handle is None:
            raise ValueError(f"operation on a closed {self._kind}")
        return self._handle

    @property
    def closed(self):
        return self._handle is None

    def close(self):
        """Free the C object. Idempotent; any other method afterwards raises ValueError.
        Must not race with other calls on the same object (as the C ``_free``)."""
        if self._finalizer is not None:
            self._finalizer()
        self._handle = None

    def __enter__(self):
        self._live()
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self.closed else f"at {self._handle.value:#x}"
        return f"<persona.{type(self).__name__} {state}>"
