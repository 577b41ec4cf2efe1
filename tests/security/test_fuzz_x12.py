"""Fuzzing the X12 reader, the validator and the 850 translator (bounded, in the regular run).

Property: any input, however broken, gives events and findings, never an exception; each
input is done within a time bound; memory does not grow with the file. The longer atheris
run of the same target is ``tests/fuzz/fuzz_x12.py``.
"""

from __future__ import annotations

import io
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edigate.x12 import TransactionSet, X12Reader

from . import targets
from .mutations import mutated, mutated_segments

SEEDS = [path.read_bytes() for path in targets.X12_SEEDS]
SETTINGS = settings(
    max_examples=targets.examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=targets.DERANDOMIZE,
)
PER_INPUT_SECONDS = 5.0


def _transactions() -> list[TransactionSet]:
    found = []
    for data in SEEDS:
        found += [e for e in X12Reader(data).events() if isinstance(e, TransactionSet)]
    return found


TRANSACTIONS = _transactions()
TAGS = sorted({seg[0] for tx in TRANSACTIONS for seg in tx.segments})


def test_the_seeds_cover_every_transaction_set_we_validate() -> None:
    assert {tx.set_id for tx in TRANSACTIONS} >= {"850", "855", "856", "810"}
    assert {tx.version[:6] for tx in TRANSACTIONS} == {"004010", "005010"}


@SETTINGS
@given(mutated(SEEDS))
def test_reader_validator_and_translator_never_raise(data: bytes) -> None:
    targets.bounded(PER_INPUT_SECONDS, targets.x12, data)


@SETTINGS
@given(mutated(SEEDS, separators=b"*>~\n^U"))
def test_reader_never_raises_at_its_limits(data: bytes) -> None:
    targets.bounded(PER_INPUT_SECONDS, lambda d: targets.x12(d, limits=targets.SMALL_LIMITS), data)


@settings(max_examples=targets.examples(100), deadline=None, derandomize=targets.DERANDOMIZE)
@given(mutated(SEEDS), st.sampled_from([7, 64, 1000]))
def test_events_do_not_depend_on_where_chunks_end(data: bytes, chunk: int) -> None:
    whole = targets.summary(list(X12Reader(data).events()))
    chunked = targets.summary(list(X12Reader(data, chunk_size=chunk).events()))
    assert chunked == whole


@SETTINGS
@given(st.data())
def test_validator_never_raises_on_mutated_transactions(data: st.DataObject) -> None:
    tx = data.draw(st.sampled_from(TRANSACTIONS))
    segments = data.draw(mutated_segments(tx.segments, TAGS))
    broken = replace(tx, segments=segments, findings=[], segment_count=len(segments))
    findings = targets.bounded(PER_INPUT_SECONDS, targets.validate, broken)
    assert isinstance(findings, list)


# --------------------------------------------------------------------------- bounds


def interchange(transactions: int) -> bytes:
    """One interchange holding ``transactions`` copies of the retailer's 850."""
    lines = (targets.SAMPLES / "x12" / "850-004010-retailer.edi").read_text().splitlines()
    head, body, tail = lines[:2], lines[2:-2], lines[-2:]
    out = head[:]
    for n in range(1, transactions + 1):
        control = f"{n:04d}"
        out += [seg.replace("*0001~", f"*{control}~") for seg in body]
    out += [f"GE*{transactions}*4211~", tail[1]]
    return ("\n".join(out) + "\n").encode()


def _read_all(data: bytes) -> int:
    count = 0
    for event in X12Reader(data).events():
        if isinstance(event, TransactionSet):
            count += 1
    return count


def test_the_largest_generated_input_is_read_and_validated_in_time() -> None:
    data = interchange(2000)  # 2.3 MB
    start = time.perf_counter()
    events = targets.x12(data)
    elapsed = time.perf_counter() - start
    assert sum(isinstance(e, TransactionSet) for e in events) == 2000
    assert elapsed < 30, f"{len(data)} bytes took {elapsed:.1f} s"


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def _peak(data: bytes) -> int:
    stream = io.BytesIO(data)  # as the pipeline reads a blob: from a file object
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    assert _read_all(stream) > 0
    return tracemalloc.get_traced_memory()[1] - base


def test_reader_memory_does_not_grow_with_the_file(traced: None) -> None:
    small, large = interchange(1000), interchange(4000)  # 0.9 MB and 3.7 MB
    small_peak = _peak(small)
    large_peak = _peak(large)
    # Streaming: a chunk and one transaction at a time, whatever the file size (measured:
    # 2.9 MB for both; the chunk is 256 KiB, decoded and split).
    assert large_peak < 4 * 1024 * 1024, large_peak
    assert large_peak < small_peak * 1.2 + 256 * 1024, (small_peak, large_peak)
