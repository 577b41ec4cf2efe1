"""A background loop that calls ``poll_once()`` every few seconds until stopped.

Shared by the inbound pollers (remote SFTP folders, local watched folders). A failing round
is logged and the loop carries on: the next round retries whatever was left in place.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

log = logging.getLogger("edigate.poll")


class PollLoop:
    """Run ``poll`` every ``interval`` seconds in a daemon thread: ``start()``/``stop()``."""

    def __init__(self, poll: Callable[[], object], interval: float, name: str) -> None:
        if interval <= 0:
            raise ValueError("a poll interval must be positive")
        self.poll = poll
        self.interval = interval
        self.name = name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        """Poll until :meth:`stop` (in the calling thread)."""
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception:
                log.exception("%s: poll failed, retrying in %.1f s", self.name, self.interval)
            self._stop.wait(self.interval)

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the round in progress (a file being stored is finished first)."""
        self.request_stop()
        self.join(timeout)

    def request_stop(self) -> None:
        """Ask the loop to end after its round, without waiting (see :meth:`join`)."""
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` for the thread to end; True once it has."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return False
            self._thread = None
        return True

    @property
    def alive(self) -> bool:
        """The thread is still running (a round may be in progress after a stop request)."""
        return self._thread is not None and self._thread.is_alive()

    def pause(self, seconds: float) -> bool:
        """Sleep inside a round, ending early on a stop request; True when asked to stop."""
        return self._stop.wait(seconds)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def __enter__(self) -> PollLoop:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
