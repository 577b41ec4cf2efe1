"""The pipes that wake serve's worker processes (``edigate.wakeups``), in one process."""

from __future__ import annotations

import time

import pytest

from edigate.wakeups import PipeWakeup, WorkerWakers


def _pair() -> tuple[WorkerWakers, PipeWakeup, list[str]]:
    gone: list[str] = []
    wakers = WorkerWakers()
    wakeup = PipeWakeup(wakers.pipe_for(1), lambda: gone.append("gone"))
    return wakers, wakeup, gone


def test_a_receive_wakes_a_waiting_worker_and_clear_forgets_it() -> None:
    wakers, wakeup, gone = _pair()
    assert wakeup.wait(0.05) is False  # nothing yet: the full timeout
    wakers.set()
    started = time.monotonic()
    assert wakeup.wait(5) is True and time.monotonic() - started < 1
    wakers.set()
    wakeup.clear()
    assert wakeup.wait(0.05) is False and gone == []
    wakers.close()
    wakeup.close()


def test_the_worker_wakes_itself_to_stop() -> None:
    wakers, wakeup, _ = _pair()
    wakeup.set()  # what its signal handler does
    assert wakeup.wait(5) is True
    wakers.close()
    wakeup.close()


def test_a_full_pipe_never_blocks_serve() -> None:
    wakers, wakeup, _ = _pair()
    started = time.monotonic()
    for _ in range(200_000):  # far more than a pipe holds
        wakers.set()
    assert time.monotonic() - started < 30
    wakeup.clear()
    assert wakeup.wait(0.05) is False
    wakers.close()
    wakeup.close()


def test_serve_gone_is_told_once_and_the_worker_does_not_spin() -> None:
    wakers, wakeup, gone = _pair()
    wakers.close()  # as when serve dies: its end of the pipe is closed
    assert wakeup.wait(5) is True
    wakeup.clear()
    assert gone == ["gone"]
    started = time.monotonic()
    assert wakeup.wait(0.2) is False  # the closed pipe is no longer looked at
    assert time.monotonic() - started >= 0.15
    assert gone == ["gone"]
    wakeup.close()


def test_a_restarted_worker_gets_a_new_pipe_and_the_old_one_is_closed() -> None:
    wakers = WorkerWakers()
    old: list[str] = []
    first = PipeWakeup(wakers.pipe_for(1), lambda: old.append("gone"))
    second = PipeWakeup(wakers.pipe_for(1), lambda: None)
    first.clear()
    assert old == ["gone"]  # its writer was closed when the slot got a new pipe
    wakers.set()
    assert second.wait(5) is True
    wakers.close()
    first.close()
    second.close()


def test_no_pipe_is_made_once_serve_closed_them() -> None:
    wakers = WorkerWakers()
    wakers.close()
    with pytest.raises(RuntimeError, match="serve is stopping"):
        wakers.pipe_for(1)
