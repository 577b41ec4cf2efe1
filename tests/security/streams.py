"""Huge hostile X12 made on the fly: a file object that generates its bytes as they are read.

Ten million segments in one transaction (170 MB) or one line of a gigabyte never exist in
memory or on disk: :class:`GeneratedStream` yields them chunk by chunk. Run as a script, it
reads one such stream with :class:`~edigate.x12.X12Reader` in a fresh process and prints what
the reader reported and the peak memory (VmHWM, reset before reading) as JSON::

    python3 -m tests.security.streams segments 10000000 [max_transaction_segments]
    python3 -m tests.security.streams line 1073741824
"""

from __future__ import annotations

import io
import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ISA = (
    b"ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*EDIGATEDIST    *261120*1405*U*00401"
    b"*000004211*0*P*>~\nGS*PO*ACMERETAIL*EDIGATEDIST*20261120*1405*4211*X*004010~\n"
    b"ST*850*0001~\nBEG*00*SA*4500012345**20261120~\n"
)


def trailer(segments: int) -> bytes:
    return f"SE*{segments}*0001~\nGE*1*4211~\nIEA*1*000004211~\n".encode()


class GeneratedStream(io.RawIOBase):
    """A read-only binary stream over a generator of byte pieces (any sizes)."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._pending = b""
        self.produced = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            piece = next(self._pieces, None)
            if piece is None:
                return 0
            self._pending = piece
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self.produced += size
        return size


def many_segments(count: int, block: int = 10_000) -> Iterator[bytes]:
    """One 850 whose body is ``count`` REF segments (17 bytes each), then the trailers."""
    yield ISA
    one = b"REF*ZZ*123456789~\n"
    full = one * block
    left = count
    while left:
        take = min(block, left)
        yield full if take == block else one * take
        left -= take
    yield trailer(count + 3)


def one_long_line(size: int, block: int = 1 << 20) -> Iterator[bytes]:
    """An 850 whose REF segment holds ``size`` bytes before its terminator (no line breaks)."""
    yield ISA + b"REF*ZZ*"
    piece = b"x" * block
    left = size
    while left:
        take = min(block, left)
        yield piece if take == block else piece[:take]
        left -= take
    yield b"~\n" + trailer(4)


def _status(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    found = re.search(field + r":\s+(\d+)", text)
    assert found is not None
    return int(found.group(1))


def measure(kind: str, size: int, max_transaction_segments: int | None = None) -> dict[str, object]:
    """Read one generated stream; what the reader reported, how long, how much memory."""
    from edigate.x12 import Finding, ReaderLimits, TransactionSet, X12Reader

    limits = ReaderLimits()
    if max_transaction_segments is not None:
        limits = ReaderLimits(max_transaction_segments=max_transaction_segments)
    pieces = many_segments(size) if kind == "segments" else one_long_line(size)
    stream = GeneratedStream(pieces)
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := current RSS
    before = _status("VmRSS")
    start = time.perf_counter()
    transactions = []
    codes: list[str] = []
    for event in X12Reader(stream, limits=limits).events():
        if isinstance(event, TransactionSet):
            transactions.append(
                {
                    "kept": len(event.segments),
                    "count": event.segment_count,
                    "complete": event.complete,
                    "findings": [f.code.name for f in event.findings],
                    "messages": [f.message for f in event.findings],
                }
            )
            del event
        elif isinstance(event, Finding):
            codes.append(event.code.name)
        else:
            codes += [f.code.name for f in getattr(event, "findings", ())]
    elapsed = time.perf_counter() - start
    return {
        "bytes": stream.produced,
        "seconds": round(elapsed, 2),
        "peak_kib": _status("VmHWM") - before,
        "transactions": transactions,
        "other_findings": codes,
    }


if __name__ == "__main__":
    kind, size = sys.argv[1], int(sys.argv[2])
    limit = int(sys.argv[3]) if len(sys.argv) > 3 else None
    print(json.dumps(measure(kind, size, limit)))
