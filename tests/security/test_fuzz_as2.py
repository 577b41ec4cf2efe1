"""Fuzzing the AS2 receiving path: MIME headers and body, multipart, CMS layers (bounded).

Seeds are real messages built by our sender in every protection combination (plain, signed,
encrypted, compressed, nested). Property: each request unpacks or fails with an
:class:`~edigate.channels.as2.errors.As2Error` naming the RFC 4130 disposition modifier the
negative MDN reports; nothing else escapes (the receiver would log a traceback and answer
``unexpected-processing-error``). The longer atheris run: ``tests/fuzz/fuzz_as2.py``.
"""

from __future__ import annotations

import base64
import time
import tracemalloc

from hypothesis import HealthCheck, given, settings

from edigate.channels.as2.errors import As2Error
from edigate.channels.as2.message import Unpacked

from . import targets
from .mutations import mutated

FIXTURE = targets.as2_fixture()
PER_INPUT_SECONDS = 5.0


def test_every_seed_unpacks_to_the_payload() -> None:
    payload = (targets.SAMPLES / "x12" / "850-004010-retailer.edi").read_bytes()
    layers = set()
    for seed in FIXTURE.seeds:
        result = targets.as2_message(seed)
        assert isinstance(result, Unpacked), result
        assert result.payload == payload and result.filename == "po.edi"
        layers.add(result.layers)
    assert len(layers) == len(FIXTURE.seeds)  # each seed wraps the payload differently


@settings(
    max_examples=targets.examples(300),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=targets.DERANDOMIZE,
)
@given(mutated(FIXTURE.seeds, separators=b'\r\n:;="-'))
def test_mutated_as2_requests_unpack_or_fail_with_a_modifier(data: bytes) -> None:
    targets.bounded(PER_INPUT_SECONDS, targets.as2_message, data)


def test_a_large_plain_message_is_handled_in_time_and_in_proportion() -> None:
    body = b"ISA" + b"x" * (8 * 1024 * 1024)
    message = targets.http_message(
        [("Content-Type", "application/edi-x12"), ("Content-Transfer-Encoding", "base64")],
        base64.encodebytes(body),
    )
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = targets.as2_message(message)
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not isinstance(result, As2Error) and result.payload == body
    assert elapsed < 20, elapsed
    # The request is held once, its base64 text once, the payload once, and the MIC input:
    # a small multiple of the request, never more.
    assert peak < 6 * len(message), (peak, len(message))
