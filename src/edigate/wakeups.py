"""Waking an idle worker when a document arrives, in its process or in worker processes.

An idle worker waits ``[worker] poll_seconds`` or until ``receive()`` commits a document,
whichever comes first. Beside the channels in one process that is a ``threading.Event``.
For ``serve --workers N`` it is a pipe from serve to each worker process: ``receive()``
writes a byte to each (never blocking: a full pipe already holds a wake), the worker waits
on its end with ``select``. A pipe survives what a shared lock would not: a worker killed
while it waits leaves serve nothing to wait for, and a serve that dies closes the pipes,
which tells its workers it is gone (they stop instead of running on as orphans).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import select
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Protocol


class Wakeup(Protocol):
    """What the worker and ``receive()`` use: ``threading.Event``'s set/clear/wait."""

    def set(self) -> None: ...

    def clear(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class WorkerWakers:
    """serve's side: one pipe per worker process; ``set()`` wakes them all."""

    def __init__(self) -> None:
        self._writers: dict[int, Connection] = {}
        self._closed = False
        # Held while writing too: a pipe end closed meanwhile could give its descriptor
        # number to a file opened next (a blob, the database), which the byte would hit.
        self._lock = threading.Lock()

    def pipe_for(self, slot: int) -> Connection:
        """A new pipe for the worker of ``slot`` (its predecessor's is closed); the read
        end, for the worker process. RuntimeError once closed (serve is stopping)."""
        reader, writer = _pipe()
        os.set_blocking(writer.fileno(), False)
        with self._lock:
            if self._closed:
                reader.close()
                writer.close()
                raise RuntimeError("the worker pipes are closed: serve is stopping")
            old = self._writers.pop(slot, None)
            self._writers[slot] = writer
            if old is not None:
                old.close()
        return reader

    def set(self) -> None:
        with self._lock:
            for writer in self._writers.values():
                with contextlib.suppress(OSError):  # full (a wake is pending) or reader gone
                    os.write(writer.fileno(), b"\0")

    def clear(self) -> None:
        """Nothing to clear on this side: each worker clears its own pipe."""

    def wait(self, timeout: float | None = None) -> bool:
        """serve runs no worker of its own in this mode: nothing waits here."""
        return False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for writer in self._writers.values():
                writer.close()
            self._writers = {}


class PipeWakeup:
    """A worker process's side: woken by serve (a byte on ``reader``) or by its own
    ``set()`` (a stop). When serve's end closes, ``on_gone`` is called once."""

    def __init__(self, reader: Connection, on_gone: Callable[[], None]) -> None:
        self._reader = reader
        os.set_blocking(reader.fileno(), False)
        self._own_read, self._own_write = os.pipe()
        os.set_blocking(self._own_read, False)
        os.set_blocking(self._own_write, False)
        self._on_gone = on_gone
        self.gone = False

    def set(self) -> None:
        """Safe in a signal handler: one write to a pipe of this process."""
        with contextlib.suppress(BlockingIOError):
            os.write(self._own_write, b"\0")

    def clear(self) -> None:
        for fd in self._watched():
            self._drain(fd)

    def wait(self, timeout: float | None = None) -> bool:
        ready, _, _ = select.select(self._watched(), [], [], timeout)
        if self._reader.fileno() in ready:
            self._drain(self._reader.fileno())  # else the pipe would stay ready
        return bool(ready)

    def _watched(self) -> list[int]:
        """serve's pipe until it closed (it would then be ready for ever), and our own."""
        return [self._own_read] if self.gone else [self._reader.fileno(), self._own_read]

    def _drain(self, fd: int) -> None:
        while True:
            try:
                data = os.read(fd, 4096)
            except BlockingIOError:
                return
            if not data:  # end of file: only serve's pipe closes (we hold our own writer)
                self.gone = True
                self._on_gone()
                return

    def close(self) -> None:
        self._reader.close()
        os.close(self._own_read)
        os.close(self._own_write)


def _pipe() -> tuple[Connection, Connection]:
    """A one-way pipe whose read end a spawned process can be given."""
    reader, writer = multiprocessing.get_context("spawn").Pipe(duplex=False)
    return reader, writer
