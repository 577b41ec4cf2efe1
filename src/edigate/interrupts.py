"""Waits that a signal handler can end.

The kernel hands a process-wide signal (``docker stop``'s SIGTERM) to any thread that does
not block it: the SFTP accept loop, an fsync pool thread. CPython then runs the Python
handler in the main thread only, at its next bytecode; a main thread parked on a lock or in
``select`` until something is set would not get there until something else woke it. So
the main thread waits in short steps.
"""

from __future__ import annotations

import time
from typing import Protocol

#: Longest a signal received by another thread waits for its Python handler.
SIGNAL_CHECK_SECONDS = 0.25


class Waitable(Protocol):
    """``threading.Event`` or a worker's wakeup: ``wait`` says whether it was set."""

    def wait(self, timeout: float | None = None) -> bool: ...


def wait_for(waitable: Waitable, timeout: float | None = None) -> bool:
    """``waitable.wait(timeout)``, in steps short enough for signal handlers to run between
    them; True once it is set, False when ``timeout`` passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = SIGNAL_CHECK_SECONDS
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            step = min(step, left)
        if waitable.wait(step):
            return True
