"""Waits that a signal handler can end.

The kernel hands a process-wide signal (``docker stop``'s SIGTERM) to any thread that does
not block it: the SFTP accept loop, an fsync pool thread. CPython then runs the Python
handler in the main thread only, at its next bytecode; a main thread parked on a lock until
an event is set would not get there until something else woke it. So the main thread
waits in short steps.
"""

from __future__ import annotations

import threading
import time

#: Longest a signal received by another thread waits for its Python handler.
SIGNAL_CHECK_SECONDS = 0.25


def wait_for(event: threading.Event, timeout: float | None = None) -> bool:
    """``event.wait(timeout)``, in steps short enough for signal handlers to run between
    them; True once the event is set."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while not event.is_set():
        step = SIGNAL_CHECK_SECONDS
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            step = min(step, left)
        event.wait(step)
    return True
