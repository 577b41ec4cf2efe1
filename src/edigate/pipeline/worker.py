"""The worker: claim due documents, process each, record success or retry with backoff.

Processing a document is a callable the pipeline provides; the worker only owns the loop:
claiming (leases, SKIP LOCKED on PostgreSQL), error handling (an exception becomes a failed
attempt, retried with exponential backoff, then ``dead``), and stopping cleanly (SIGTERM:
the document in hand is finished, nothing new is claimed). A round that fails in a way
nobody foresaw is logged with its traceback and retried after a wait: a long run ends
only when stopped (serve's worker thread is not restarted).

A processor returns normally when it committed its own result through
``store.claimed(doc_id, worker)``; any exception means "not done" and nothing it wrote in
its transaction survives. A lane may instead take its whole claimed batch at once
(``process_batch``, so several documents share one commit); it returns the documents that
failed, each recorded as a failed attempt like an exception from ``process``.

An idle worker waits for ``poll_seconds`` or until ``receive()`` in this process (or, for
the worker processes of ``serve --workers``, in serve) commits a document (``store.wakeup``,
see ``wakeups.py``), whichever comes first: a file received by a channel beside the worker
is picked up at once, not at the next poll.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import FrameType

from ..config import WorkerConfig
from ..errors import EdigateError, StoreUnavailableError
from ..heap import prepare_long_running_heap
from ..interrupts import wait_for
from ..store import Direction, RetryBudget, Status, Store
from .claims import default_worker_name, register, release_dead_claims
from .name_locks import NAME_WAIT_SECONDS, name_lock

log = logging.getLogger("edigate.worker")

Processor = Callable[[int, str], None]
#: (claimed ids, worker) -> the ids that failed, with why.
BatchProcessor = Callable[[list[int], str], dict[int, Exception]]
#: Longest wait after rounds that failed in a row (see ``Worker.run``).
MAX_BACKOFF_SECONDS = 30.0


@dataclass
class Lane:
    """One kind of work: which documents to claim and what to do with each."""

    name: str
    statuses: Sequence[Status]
    direction: Direction
    process: Processor
    failed_status: Status = Status.FAILED
    #: Only documents of these channels (None: any) / never these channels.
    channels: Sequence[str] | None = None
    exclude_channels: Sequence[str] = ()
    #: Takes the claimed batch at once instead of ``process`` per document.
    process_batch: BatchProcessor | None = None
    #: Documents claimed at once (None: the worker configuration's ``batch``).
    batch: int | None = None
    #: Its own retry budget (None: the worker configuration's ``max_attempts`` and
    #: ``backoff_seconds``): deliveries wait out a partner's outage, processing does not.
    retry: RetryBudget | None = None


@dataclass
class Periodic:
    """Work that is no stored document: poll the ERP inbox, mark overdue acknowledgements.

    ``run`` returns how much it did (0 = nothing), so ``run(until_idle=True)`` keeps going
    while it finds work. It runs at most every ``interval`` seconds (0: every round).
    """

    name: str
    run: Callable[[], int]
    interval: float = 0.0
    last: float = field(default=float("-inf"), repr=False)
    #: Takes back at once what a dead worker of the given (stable) name left half done in
    #: this task (the ERP inbox's claimed files), as its document claims are.
    release: Callable[[str], int] | None = None


@dataclass
class WorkerStats:
    processed: int = 0
    failed: int = 0
    lanes: dict[str, int] = field(default_factory=dict)


class Worker:
    def __init__(
        self,
        store: Store,
        lanes: Sequence[Lane],
        config: WorkerConfig | None = None,
        *,
        name: str | None = None,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.store = store
        self.lanes = list(lanes)
        self.periodic = list(periodic)
        self.config = config or WorkerConfig()
        self.name = name or default_worker_name(id(self))
        register(self.name)
        #: A name given is stable, so it must be one live worker's (``name_locks``).
        self._name_lock = name_lock(store, name) if name else None
        self.stats = WorkerStats()
        self._stop = threading.Event()

    def release_dead_claims(self) -> int:
        """Before the first claim: free the claims of this worker's own name (its
        predecessor's: a name is one worker's; its ERP inbox files too) and, on SQLite
        (one host), of this host's dead workers (see ``pipeline.claims``). PostgreSQL's
        other workers may run on hosts whose processes this one cannot see: leases free
        theirs.

        A named worker first waits until no live process holds its name (a previous
        serve's worker finishing its batch, another gateway started with the same name):
        until then the name's claims are not its predecessor's to take."""
        if not self._hold_name():
            return 0
        if self._name_lock is not None:
            self._release_periodic()
        if self.store.engine.dialect.name != "sqlite":
            return self.store.release_claims([self.name])
        return release_dead_claims(self.store, self.name)

    def _release_periodic(self) -> None:
        """What this name's predecessor left in the periodic tasks (its ERP inbox files)."""
        for task in self.periodic:
            if task.release is None:
                continue
            try:
                freed = task.release(self.name)
            except Exception:  # the folder unreachable now: the task's timeout frees them
                log.exception("%s: could not take back what %s left", task.name, self.name)
                continue
            if freed:
                log.info("%s: took back %d item(s) %s left", task.name, freed, self.name)

    def _hold_name(self) -> bool:
        """Take this worker's name lock, waiting while a live process holds it; False if
        asked to stop meanwhile."""
        lock = self._name_lock
        if lock is None or lock.try_acquire():
            return True
        log.warning(
            "worker name %s is held by a live process (%s): waiting until it stops",
            self.name,
            lock.path,
        )
        while not lock.try_acquire():
            if self._stop.wait(NAME_WAIT_SECONDS):
                return False
        log.info("worker name %s is free now", self.name)
        return True

    def run_process(self, *, until_idle: bool = False) -> WorkerStats:
        """:meth:`run` as its process's main loop (``edigate worker``, serve's worker
        processes): dead workers' claims taken back, SIGTERM/SIGINT finish the document in
        hand, the collector set for a long run (``heap.py``; call it once the startup
        objects, the partner registry among them, are loaded)."""
        self.install_signal_handlers()  # first: a wait for the name must answer SIGTERM
        self.release_dead_claims()
        if self.stopping:
            return self.stats
        log.info("worker %s running", self.name)
        prepare_long_running_heap()
        return self.run(until_idle=until_idle)

    @property
    def stopping(self) -> bool:
        """:meth:`stop` was called (perhaps while it waited for its name)."""
        return self._stop.is_set()

    def stop(self, *_: object) -> None:
        """Finish the document in hand, then return from :meth:`run`."""
        self._stop.set()
        self.store.wakeup.set()

    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: FrameType | None) -> None:
            log.info("signal %s: stopping after the current document", signum)
            self.stop()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def run_once(self) -> int:
        """Claim and process one batch per lane; returns how many documents were handled."""
        self.store.wakeup.clear()  # what is received from now on wakes the next idle wait
        handled = self._run_periodic()
        for lane in self.lanes:
            if self._stop.is_set():
                break
            try:
                ids = self.store.claim(
                    self.name,
                    lane.statuses,
                    direction=lane.direction,
                    limit=lane.batch or self.config.batch,
                    lease_seconds=self.config.lease_seconds,
                    channels=lane.channels,
                    exclude_channels=lane.exclude_channels,
                )
            except StoreUnavailableError as exc:
                log.warning("database unavailable, will retry: %s", exc)
                return handled
            if lane.process_batch is not None and ids:
                if self._stop.is_set():
                    for doc_id in ids:
                        self.store.release(doc_id, self.name)
                    continue
                self._process_batch(lane, ids)
                handled += len(ids)
                continue
            for doc_id in ids:
                if self._stop.is_set():
                    self.store.release(doc_id, self.name)
                    continue
                self._process(lane, doc_id)
                handled += 1
        return handled

    def run(self, *, until_idle: bool = False, max_seconds: float | None = None) -> WorkerStats:
        """Loop until stopped (or, with ``until_idle``, until nothing is due).

        A round that raises is logged and retried after a growing wait: serve's worker
        thread must outlive any one failure, since nothing restarts it. With ``until_idle``
        (a one-shot run, whose caller can report it) the exception propagates."""
        deadline = time.monotonic() + max_seconds if max_seconds else None
        failures = 0
        while not self._stop.is_set():
            handled: int | None = None
            try:
                handled = self.run_once()
                failures = 0
            except Exception as exc:
                if until_idle:
                    raise
                failures += 1
                self._back_off(exc, failures)
            if deadline is not None and time.monotonic() > deadline:
                break
            if handled == 0:
                if until_idle:
                    break
                wait_for(self.store.wakeup, self.config.poll_seconds)
        if self._stop.is_set() and self._name_lock is not None:
            self._name_lock.release()  # stopped for good: a successor may take the name
        return self.stats

    def _back_off(self, exc: Exception, failures: int) -> None:
        """After the ``failures``-th failed round in a row: log ``exc`` with its traceback,
        then wait (doubling from ``poll_seconds`` up to ``MAX_BACKOFF_SECONDS``, so a lasting
        fault neither spins nor floods the log) unless stopped meanwhile."""
        delay = min(self.config.poll_seconds * 2 ** min(failures - 1, 16), MAX_BACKOFF_SECONDS)
        log.error(
            "worker %s: round failed (%d in a row), retrying in %.1f s",
            self.name,
            failures,
            delay,
            exc_info=exc,
        )
        wait_for(self._stop, delay)  # in steps: a SIGTERM may come to another thread

    def _run_periodic(self) -> int:
        """Run the periodic tasks that are due; a failing one is logged and tried later."""
        done = 0
        for task in self.periodic:
            now = time.monotonic()
            if self._stop.is_set() or now - task.last < task.interval:
                continue
            task.last = now
            try:
                done += task.run()
            except StoreUnavailableError as exc:
                log.warning("%s: database unavailable, will retry: %s", task.name, exc)
            except Exception:
                log.exception("%s failed; will retry", task.name)
        return done

    def _process(self, lane: Lane, doc_id: int) -> None:
        started = time.perf_counter()
        try:
            lane.process(doc_id, self.name)
        except StoreUnavailableError as exc:
            # Nothing was committed; the lease will expire and the document come back.
            log.warning("document %s: database unavailable: %s", doc_id, exc)
            return
        except Exception as exc:  # any failure is a failed attempt, retried
            self._failed(lane, doc_id, exc, traceback.format_exc())
            return
        self.stats.processed += 1
        self.stats.lanes[lane.name] = self.stats.lanes.get(lane.name, 0) + 1
        log.debug("document %s done in %.1f ms", doc_id, (time.perf_counter() - started) * 1e3)

    def _process_batch(self, lane: Lane, ids: list[int]) -> None:
        assert lane.process_batch is not None
        started = time.perf_counter()
        try:
            failed = lane.process_batch(ids, self.name)
        except StoreUnavailableError as exc:
            log.warning("documents %s: database unavailable: %s", ids, exc)
            return
        except Exception as exc:  # the batch as a whole: each document failed an attempt
            trace = traceback.format_exc()
            for doc_id in ids:
                self._failed(lane, doc_id, exc, trace)
            return
        for doc_id, error in failed.items():
            self._failed(lane, doc_id, error, "".join(traceback.format_exception(error)))
        done = len(ids) - len(failed)
        self.stats.processed += done
        self.stats.lanes[lane.name] = self.stats.lanes.get(lane.name, 0) + done
        log.debug("%d documents done in %.1f ms", len(ids), (time.perf_counter() - started) * 1e3)

    def _failed(self, lane: Lane, doc_id: int, exc: BaseException, trace: str) -> None:
        """Record a failed attempt: retried with backoff, then dead."""
        self.stats.failed += 1
        detail = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, EdigateError):  # a failure we foresaw: its message says it all
            log.error("document %s failed: %s", doc_id, detail)
            log.debug("document %s failed at:\n%s", doc_id, trace)
        else:
            log.error("document %s failed: %s\n%s", doc_id, detail, trace)
        retry = lane.retry or RetryBudget(self.config.max_attempts, self.config.backoff_seconds)
        try:
            self.store.fail(
                doc_id,
                self.name,
                detail,
                max_attempts=retry.max_attempts,
                base_delay=retry.backoff_seconds,
                failed_status=lane.failed_status,
            )
        except StoreUnavailableError:
            log.warning("document %s: could not record the failure", doc_id)
        # Written down: let go of its frames now. A processor that keeps the exception in a
        # dict of its frame (the inbound lane's outcome of a batch) makes a reference cycle
        # that holds the whole batch until the collector's next run, which a long-running
        # worker makes rare (heap.py).
        exc.__traceback__ = None
