"""``edigate serve --workers N``: the worker as N processes beside the channels.

One process runs Python on one core at a time, so ``edigate serve`` with its worker thread
uses about one core. With ``--workers N`` the channels stay in serve and N ``edigate
worker`` processes (spawned, each with the gateway's configuration) translate and deliver
on the other cores. They claim their documents from the shared database as separate
workers do (leases, fenced commits), so nothing here divides the work.

serve supervises them: a worker that exits unexpectedly is logged and started again (after
1 s, doubling to a minute while it keeps failing); a new worker frees the claims its dead
predecessor left (``pipeline.claims``). With ``serve --name NAME`` they are ``NAME/1`` ...
``NAME/N``, so that holds across a restart of serve, in a new container or on PostgreSQL
too; a name is one live process's (``pipeline.name_locks``), so a new ``NAME/1`` waits
until an old one left behind by a killed serve has finished its batch. A ``receive()`` in
serve wakes them at once through a pipe to each (``wakeups.py``), as it wakes the worker
thread. On stop they get SIGTERM, finish the document in hand and exit; a worker whose
serve died (``kill -9``) sees its pipe close and stops the same way, after the batch in
hand, so orphans do not outlive it for long.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Any

from .config import GatewayConfig
from .wakeups import PipeWakeup, WorkerWakers

log = logging.getLogger("edigate.serve")

#: How often serve looks at its workers.
CHECK_SECONDS = 1.0
FIRST_RESTART_SECONDS = 1.0
MAX_RESTART_SECONDS = 60.0
#: A worker that ran this long before it died is restarted without the longer delays.
HEALTHY_SECONDS = 60.0
STOP_SECONDS = 60.0
#: The log line format of serve and its workers.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def worker_main(
    reader: Connection,
    config: GatewayConfig,
    name: str | None,
    log_level: str,
    log_format: str,
) -> None:
    """A worker process: as ``edigate worker [--name NAME]``, woken by serve's ``receive()``."""
    from .app import Gateway

    logging.basicConfig(level=log_level, format=log_format)
    gateway = Gateway(config)
    try:
        worker = gateway.worker(name)

        def serve_gone() -> None:
            log.warning("serve is gone: worker %s stops after the document in hand", worker.name)
            worker.stop()

        wakeup = PipeWakeup(reader, serve_gone)
        gateway.store.wakeup = wakeup
        stats = worker.run_process()
        log.info("worker %s stopped: %d document(s) processed", worker.name, stats.processed)
        wakeup.close()
    finally:
        gateway.close()


@dataclass
class _Slot:
    number: int
    process: SpawnProcess | None = None
    started: float = 0.0
    delay: float = FIRST_RESTART_SECONDS
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class WorkerProcesses:
    """``count`` supervised worker processes running ``config``'s lanes."""

    config: GatewayConfig
    count: int
    wakers: WorkerWakers
    #: serve --name: the workers are ``NAME/1`` ... ``NAME/N``, so a restarted serve (or a
    #: restarted slot) takes back its predecessor's claims at once; None: default names.
    name: str | None = None
    log_level: str = "INFO"
    log_format: str = LOG_FORMAT
    _slots: list[_Slot] = field(default_factory=list)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _supervisor: threading.Thread | None = None

    def start(self) -> None:
        """Launch the workers (none once stopping) and their supervisor."""
        self._slots = [_Slot(n) for n in range(1, self.count + 1)]
        for slot in self._slots:
            self._launch(slot)
        self._supervisor = threading.Thread(
            target=self._supervise, name="edigate-workers", daemon=True
        )
        self._supervisor.start()

    @property
    def pids(self) -> list[int | None]:
        """The running workers' process ids (None for a slot waiting to restart)."""
        with self._lock:
            return [
                s.process.pid if s.process is not None and s.process.is_alive() else None
                for s in self._slots
            ]

    @property
    def restarts(self) -> int:
        with self._lock:
            return sum(s.restarts for s in self._slots)

    def stop_restarting(self) -> None:
        """From now on a worker that exits stays down (serve is stopping: a Ctrl-C reaches
        the workers too, and they must not be started again meanwhile)."""
        self._stopping.set()

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """SIGTERM every worker, wait for each to finish its document, kill the late."""
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=CHECK_SECONDS * 5)
        with self._lock:
            running = [s.process for s in self._slots if s.process is not None]
        for process in running:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + timeout
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.error("worker pid %s did not stop in %.0f s: killed", process.pid, timeout)
                process.kill()
                process.join(5)
        self.wakers.close()

    def _launch(self, slot: _Slot) -> None:
        """Start the slot's worker, unless stopping. Under the lock, so stop() sees every
        worker started (one it missed would keep serve from exiting)."""
        context = multiprocessing.get_context("spawn")
        with self._lock:
            if self._stopping.is_set():
                return
            reader = self.wakers.pipe_for(slot.number)
            name = None if self.name is None else f"{self.name}/{slot.number}"
            args: tuple[Any, ...] = (reader, self.config, name, self.log_level, self.log_format)
            # Daemonic: should serve exit without stop() (an error in start()), the exit
            # handler of multiprocessing sends them SIGTERM instead of waiting for them.
            process = context.Process(
                target=worker_main, args=args, name=f"edigate-worker-{slot.number}", daemon=True
            )
            try:
                process.start()
            finally:
                reader.close()  # the worker has its own copy now
            slot.process, slot.started, slot.restart_at = process, time.monotonic(), None
        log.info("worker process %d started (pid %s)", slot.number, process.pid)

    def _supervise(self) -> None:
        while not self._stopping.wait(CHECK_SECONDS):
            for slot in self._slots:
                try:
                    self._check(slot, time.monotonic())
                except Exception:  # e.g. no process could be started: try again later
                    log.exception("worker process %d could not be started", slot.number)
                    with self._lock:
                        slot.restart_at = time.monotonic() + slot.delay
                    slot.delay = min(slot.delay * 2, MAX_RESTART_SECONDS)

    def _check(self, slot: _Slot, now: float) -> None:
        """Start the slot's worker again when it is due, or note that it died."""
        process = slot.process
        if slot.restart_at is not None:
            if now >= slot.restart_at and not self._stopping.is_set():
                self._launch(slot)
            return
        if process is None or process.is_alive() or self._stopping.is_set():
            return
        if now - slot.started >= HEALTHY_SECONDS:
            slot.delay = FIRST_RESTART_SECONDS
        log.warning(
            "worker process %d (pid %s) exited with %s: restarting in %.0f s",
            slot.number,
            process.pid,
            process.exitcode,
            slot.delay,
        )
        with self._lock:
            slot.restart_at = now + slot.delay
            slot.restarts += 1
        slot.delay = min(slot.delay * 2, MAX_RESTART_SECONDS)
