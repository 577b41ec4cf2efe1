"""The worker loop: success, failure with backoff to dead, fencing, clean stop."""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from edigate.config import WorkerConfig
from edigate.pipeline.detect import Format, detect_format
from edigate.pipeline.worker import Lane, Processor, Worker
from edigate.store import PENDING_INBOUND, BlobStore, Direction, RetryBudget, Status, Store
from edigate.store.database import make_engine, migrate, sqlite_url

from ..postgres import empty_tables
from ..waiting import wait_until


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "data")


def lane(store: Store, process: Processor) -> Lane:
    return Lane("inbound", PENDING_INBOUND, Direction.INBOUND, process)


def test_processed_documents_are_not_claimed_again(store: Store) -> None:
    ids = [store.receive(f"d{i}".encode(), channel="cli").document_id for i in range(3)]
    seen: list[int] = []

    def process(doc_id: int, worker: str) -> None:
        seen.append(doc_id)
        with store.claimed(doc_id, worker) as held:
            assert held is not None
            session, doc = held
            store.transition(session, doc, Status.TRANSLATED, "translated")

    stats = Worker(store, [lane(store, process)]).run(until_idle=True)
    assert seen == ids and stats.processed == 3
    assert store.count_by_status() == {"translated": 3}


def test_a_failing_document_is_retried_then_dead(store: Store) -> None:
    doc_id = store.receive(b"poison", channel="cli").document_id
    calls = 0

    def process(_doc_id: int, _worker: str) -> None:
        nonlocal calls
        calls += 1
        raise ValueError("map is broken")

    config = WorkerConfig(max_attempts=3, backoff_seconds=0.01)
    worker = Worker(store, [lane(store, process)], config)
    worker.run(max_seconds=3)
    assert calls == 3
    with store.session() as session:
        doc = store.get(session, doc_id)
        assert doc.status == "dead"
        assert doc.last_error == "ValueError: map is broken"


def test_a_lane_with_its_own_retry_budget_outlasts_the_workers(store: Store) -> None:
    """Deliveries wait out a partner's outage: the outbound lane's budget (12 attempts from
    30 s by default, about 5 h) is its own, not the worker's 5 attempts from 2 s, which
    made every queued delivery dead 30 s into an outage (scale-out review)."""
    doc_id = store.receive(b"an 856", channel="cli").document_id
    calls = 0

    def process(_doc_id: int, _worker: str) -> None:
        nonlocal calls
        calls += 1
        raise OSError("partner folder unreachable")

    config = WorkerConfig(max_attempts=2, backoff_seconds=0.01)
    delivering = Lane(
        "outbound",
        PENDING_INBOUND,
        Direction.INBOUND,
        process,
        retry=RetryBudget(4, 0.01),
    )
    Worker(store, [delivering], config).run(max_seconds=3)
    assert calls == 4
    with store.session() as session:
        assert store.get(session, doc_id).status == "dead"
    defaults = WorkerConfig()
    waits = [min(defaults.delivery_backoff_seconds * 2**n, 3600) for n in range(11)]
    assert defaults.delivery_max_attempts == 12 and sum(waits) > 4 * 3600


def test_the_gateways_delivery_lane_takes_the_delivery_budget(tmp_path: Path) -> None:
    from edigate.app import Gateway
    from edigate.config import GatewayConfig

    config = GatewayConfig(data_dir=tmp_path / "data", config_dir=tmp_path)
    config.worker.delivery_max_attempts, config.worker.delivery_backoff_seconds = 9, 7.5
    gateway = Gateway(config)
    try:
        (outbound,) = [lane for lane in gateway.lanes() if lane.name == "outbound"]
        assert outbound.retry == RetryBudget(9, 7.5)
        # A negative AS2 MDN counts against the same budget.
        dispatcher = gateway.dispatcher
        assert dispatcher.retry == RetryBudget(9, 7.5)
        assert {lane.retry for lane in gateway.lanes() if lane.name != "outbound"} == {None}
    finally:
        gateway.close()


def test_stop_finishes_the_current_document_and_releases_the_rest(store: Store) -> None:
    ids = [store.receive(f"d{i}".encode(), channel="cli").document_id for i in range(3)]
    done: list[int] = []
    worker: Worker

    def process(doc_id: int, worker_name: str) -> None:
        with store.claimed(doc_id, worker_name) as held:
            assert held is not None
            store.transition(held[0], held[1], Status.TRANSLATED, "translated")
        done.append(doc_id)
        worker.stop()  # as SIGTERM would, mid-batch

    worker = Worker(store, [lane(store, process)])
    worker.run()
    assert done == ids[:1]
    # The other two are free for the next worker at once, not after a lease.
    assert store.claim("next", PENDING_INBOUND) == ids[1:]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"ISA*00*  ", Format.X12),
        (b"\xef\xbb\xbfISA|00|", Format.X12),
        (b"\r\n  ISA\x1d00", Format.X12),
        ("ISA*00*".encode("utf-16-le"), Format.X12),
        ("ISA*00*".encode("utf-16-be"), Format.X12),
        (b"\x00" * 100 + b"ISA*00*  ", Format.X12),  # NUL padding is not UTF-16
        (b"\xc9\xe2\xc1\\\xf0\xf0", Format.X12),
        (b"UNA:+.? 'UNB+UNOC", Format.EDIFACT),
        (b'<?xml version="1.0"?><cXML/>', Format.XML),
        (b'{"po_number": "1"}', Format.JSON),
        (b"po,line,sku,qty\n1,1,A,2\n1,2,B,3\n", Format.CSV),
        (b"po;sku;qty\r\n1;A;2\r\n", Format.CSV),  # a header and one row
        # A sentence with a comma is one line, not a header and a row.
        (b"Hello, this is not an EDI file at all. Regards, Bob\n", Format.UNKNOWN),
        (b"Hi Bob,\nthe orders follow.\nRegards, Alice\n", Format.UNKNOWN),
        (b"Tk9OIEVESSBGSUxF", Format.UNKNOWN),
        (b"ISAAC NEWTON", Format.UNKNOWN),
    ],
)
def test_detect_format(head: bytes, expected: Format) -> None:
    assert detect_format(head) is expected


def test_detect_the_sample_csv_orders() -> None:
    sample = Path(__file__).resolve().parents[2] / "samples/csv/initech-orders.csv"
    assert detect_format(sample.read_bytes()[:4096]) is Format.CSV


def test_detect_csv_with_quoted_delimiters() -> None:
    head = (
        b'\xef\xbb\xbfPO,Item,Description,Qty\r\nA1,X,"Widget, blue",2\r\nA1,Y,"Clip, steel",3\r\n'
    )
    assert detect_format(head) is Format.CSV


def test_a_failed_batch_is_let_go_without_waiting_for_the_collector(store: Store) -> None:
    """A batch processor that keeps a failure in a dict of its own frame makes a reference
    cycle (exception, traceback, frame, dict); once the failure is recorded the worker
    breaks it, so the batch is freed at once, not at a collection (rare, see heap.py)."""
    import gc
    import weakref

    ids = [store.receive(b"d%d" % i, channel="cli").document_id for i in range(2)]

    class Batch:
        """Stands for what a batch holds: plans, models, bytes."""

    held: list[weakref.ref[Batch]] = []

    def process_batch(doc_ids: list[int], _worker: str) -> dict[int, Exception]:
        batch = Batch()
        held.append(weakref.ref(batch))
        outcome: dict[int, Exception] = {}
        try:
            raise ValueError("commit failed")
        except ValueError as exc:
            outcome[doc_ids[0]] = exc
        return outcome

    batch_lane = Lane(
        "inbound", PENDING_INBOUND, Direction.INBOUND, lambda *_: None, process_batch=process_batch
    )
    gc.disable()
    try:
        Worker(store, [batch_lane], WorkerConfig(backoff_seconds=60)).run_once()
        assert len(held) == 1 and held[0]() is None
    finally:
        gc.enable()
    with store.session() as session:
        assert store.get(session, ids[0]).last_error == "ValueError: commit failed"


def _translate(store: Store, done: threading.Event) -> Processor:
    def process(doc_id: int, worker: str) -> None:
        with store.claimed(doc_id, worker) as held:
            assert held is not None
            store.transition(held[0], held[1], Status.TRANSLATED, "translated")
        done.set()

    return process


@pytest.fixture(params=["sqlite", "postgres"])
def one_connection(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine whose pool holds one connection and waits 0.2 s for it."""
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
    else:
        url = sqlite_url(tmp_path)
    engine = make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    migrate(engine)
    if request.param == "postgres":
        empty_tables(engine)
    yield engine
    engine.dispose()


def test_a_full_connection_pool_only_delays_the_worker(
    one_connection: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """serve's worker thread (processes=0) meets a pool whose connections all wait on a
    slow database: it waits and retries, and goes on once a connection is free."""
    store = Store(one_connection, BlobStore(tmp_path / "blobs"))
    doc_id = store.receive(b"x", channel="cli").document_id
    done = threading.Event()
    worker = Worker(store, [lane(store, _translate(store, done))], WorkerConfig(poll_seconds=0.05))
    held = one_connection.connect()  # a channel's transaction on a slow database
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        time.sleep(1.0)  # several claims time out on the pool
        assert thread.is_alive() and not done.is_set()
    finally:
        held.close()
    assert done.wait(10), "the worker did not process the document once the pool freed"
    worker.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert store.count_by_status() == {"translated": 1}
    assert "connection pool exhausted" in caplog.text
    with store.session() as session:
        assert store.get(session, doc_id).status == "translated"


def test_an_unexpected_error_in_a_round_is_logged_and_the_worker_goes_on(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing restarts serve's worker thread: a round that raises (a bug, an error nobody
    foresaw) is logged with its traceback and tried again, never the end of the loop."""
    store.receive(b"x", channel="cli")
    real_claim = store.claim
    calls = 0

    def claim_failing_twice(*args: Any, **kwargs: Any) -> list[int]:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError("unforeseen")
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(store, "claim", claim_failing_twice)
    done = threading.Event()
    worker = Worker(store, [lane(store, _translate(store, done))], WorkerConfig(poll_seconds=0.05))
    thread = threading.Thread(target=worker.run, daemon=True)
    with caplog.at_level(logging.ERROR, logger="edigate.worker"):
        thread.start()
        assert done.wait(10), "the worker stopped after a failed round"
        worker.stop()
        thread.join(10)
    assert not thread.is_alive()
    failures = [r for r in caplog.records if "round failed" in r.getMessage()]
    assert len(failures) == 2
    assert failures[0].exc_info is not None and "unforeseen" in caplog.text
    # A one-shot run has a caller to tell: there it propagates.
    calls = 0
    with pytest.raises(RuntimeError, match="unforeseen"):
        Worker(store, [lane(store, _translate(store, done))]).run(until_idle=True)


def _seconds_to_stop_after_a_stray_sigterm(worker: Worker, parked: Callable[[], bool]) -> float:
    """Run ``worker`` in this (the main) thread, as ``edigate worker`` does; once ``parked``
    holds, send SIGTERM to another thread. How long after that the worker returned."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    worker.install_signal_handlers()
    signalled_at: list[float] = []

    def sigterm_to_this_thread() -> None:
        wait_until(parked, 10)
        time.sleep(0.3)  # the main thread is in its wait by now
        signalled_at.append(time.monotonic())
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

    try:
        other = threading.Thread(target=sigterm_to_this_thread)
        other.start()
        worker.run()
        returned_at = time.monotonic()
        other.join()
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])
    assert signalled_at and worker.stopping
    return returned_at - signalled_at[0]


def test_a_backing_off_worker_stops_soon_on_a_sigterm_another_thread_received(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """``edigate worker`` with its database down waits up to 30 s between rounds. A SIGTERM
    the kernel hands to another of its threads only runs its handler when the main thread
    wakes: the wait must wake often (``interrupts``), not at the end of the back-off."""

    def claim_failing(*_: Any, **__: Any) -> list[int]:
        raise RuntimeError("database down")

    monkeypatch.setattr(store, "claim", claim_failing)
    # poll_seconds 20: the first back-off is 20 s.
    worker = Worker(
        store, [lane(store, _translate(store, threading.Event()))], WorkerConfig(poll_seconds=20)
    )
    with caplog.at_level(logging.ERROR, logger="edigate.worker"):
        took = _seconds_to_stop_after_a_stray_sigterm(
            worker,
            lambda: any("retrying in 20.0 s" in r.getMessage() for r in caplog.records),
        )
    assert took < 5, f"the worker stopped {took:.1f} s after the signal was sent"


def test_an_idle_worker_with_a_long_poll_stops_soon_on_a_sigterm_another_thread_received(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[worker] poll_seconds = 20`` (fewer polls of a shared database): the idle wait
    wakes for a stray SIGTERM as the back-off does."""
    waiting = threading.Event()
    real_wait = store.wakeup.wait

    def wait(timeout: float | None = None) -> bool:
        waiting.set()
        return real_wait(timeout)

    monkeypatch.setattr(store.wakeup, "wait", wait)
    worker = Worker(
        store, [lane(store, _translate(store, threading.Event()))], WorkerConfig(poll_seconds=20)
    )
    took = _seconds_to_stop_after_a_stray_sigterm(worker, waiting.is_set)
    assert took < 5, f"the worker stopped {took:.1f} s after the signal was sent"
