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
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

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
