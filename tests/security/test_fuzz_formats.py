"""Fuzzing the CSV and XML readers with a partner's layout (bounded, in the regular run).

Each input goes the way the pipeline takes a partner file: read with the partner's map
(``read_partner_orders``), then mapped and answered (``plan_partner_file``). Property: issues
with their line, or orders, never an exception; each input within a time bound; memory
proportional to the input. The longer atheris runs: ``tests/fuzz/fuzz_csv.py``,
``tests/fuzz/fuzz_xml.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from edigate.formats import read_partner_orders
from edigate.partners import PartnerMap
from edigate.pipeline.detect import Format

from . import targets
from .mutations import mutated

CSV_SEEDS = [path.read_bytes() for path in targets.CSV_SEEDS]
XML_SEEDS = [path.read_bytes() for path in targets.XML_SEEDS]
SETTINGS = settings(
    max_examples=targets.examples(250),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=targets.DERANDOMIZE,
)
PER_INPUT_SECONDS = 5.0


@SETTINGS
@given(mutated(CSV_SEEDS, separators=b',"\n\r/.'))
def test_csv_partner_files_never_raise(data: bytes) -> None:
    targets.bounded(PER_INPUT_SECONDS, targets.csv_orders, data)


@SETTINGS
@given(mutated(XML_SEEDS, separators=b'<>/"=&:'))
def test_xml_partner_files_never_raise(data: bytes) -> None:
    targets.bounded(PER_INPUT_SECONDS, targets.xml_orders, data)


def test_the_seeds_are_read_whole() -> None:
    """The fuzzers start from files that translate: mutations then reach every stage."""
    for data, partner, fmt in [
        (CSV_SEEDS[0], "initech-csv", Format.CSV),
        (XML_SEEDS[0], "contoso-cxml", Format.XML),
    ]:
        plan = targets.partner_file(data, partner, fmt)
        assert plan.errors == [] and plan.orders
        assert all(o.order_json and o.answer for o in plan.orders)


# --------------------------------------------------------------------------- bounds


def csv_file(orders: int) -> bytes:
    """initech's CSV with ``orders`` two-line orders (about 330 bytes each)."""
    lines = targets.CSV_SEEDS[0].read_bytes().decode("utf-8-sig").splitlines()
    header, rows = lines[0], lines[1:3]
    out = [header]
    for n in range(orders):
        out += [row.replace("IN-26-1001", f"IN-{n:07d}") for row in rows]
    return ("\n".join(out) + "\n").encode()


def xml_file(items: int) -> bytes:
    """contoso's OrderRequest with its first ItemOut repeated ``items`` times (+ the 2 others)."""
    text = next(p for p in targets.XML_SEEDS if "contoso" in p.name).read_text()
    start = text.index("<ItemOut")
    end = text.index("</ItemOut>", start) + len("</ItemOut>")
    item = text[start:end]
    many = "\n".join(item.replace('lineNumber="1"', f'lineNumber="{n}"') for n in range(items))
    return (text[:start] + many + text[end:]).encode()


def _partner_map(partner: str) -> PartnerMap:
    found = targets.registry().get(partner)
    assert found is not None
    return found.map


def test_a_large_csv_file_is_read_in_time_and_in_proportion() -> None:
    data = csv_file(5000)  # 1.7 MB, 10,000 rows
    pmap = _partner_map("initech-csv")
    start = time.perf_counter()
    result = read_partner_orders(data, pmap)
    elapsed = time.perf_counter() - start
    assert len(result.orders) == 5000 and result.ok
    assert elapsed < 30, f"{len(data)} bytes took {elapsed:.1f} s"
    tracemalloc.start()
    try:
        small = _csv_peak(csv_file(500), pmap)
        large = _csv_peak(csv_file(2000), pmap)
    finally:
        tracemalloc.stop()
    # Everything read is kept (the orders), so memory grows with the file, but linearly:
    # measured about 40 bytes of Python objects per input byte.
    size = len(csv_file(2000))
    assert large < 100 * size, (large, size)
    assert large < small * 4 * 1.5, (small, large)


def _csv_peak(data: bytes, pmap: PartnerMap) -> int:
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = read_partner_orders(data, pmap)
    assert result.ok
    return tracemalloc.get_traced_memory()[1] - base


_RSS_SCRIPT = """
import json, re, sys
from pathlib import Path
from edigate.formats import read_partner_orders
from edigate.partners import PartnerMap
from edigate.partners import load_registry

def status(field):
    text = Path("/proc/self/status").read_text()
    return int(re.search(field + r":\\s+(\\d+)", text).group(1))

pmap = load_registry(Path(sys.argv[1])).get("contoso-cxml").map
data = Path(sys.argv[2]).read_bytes()
Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
before = status("VmRSS")
result = read_partner_orders(data, pmap)
print(json.dumps({"lines": len(result.orders[0].lines), "issues": len(result.issues),
                  "kib": status("VmHWM") - before}))
"""


def test_a_large_xml_file_is_read_in_time_and_in_proportion(tmp_path: Path) -> None:
    """libxml2's memory is not Python's, so the bound is the RSS of a child process."""
    data = xml_file(4000)
    path = tmp_path / "large.xml"
    path.write_bytes(data)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, str(targets.ROOT), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(targets.ROOT / "src")},
    )
    elapsed = time.perf_counter() - start
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["lines"] == 4002
    assert elapsed < 60, elapsed
    # The tree, the Order model and the issues: bounded by a small multiple of the input.
    assert found["kib"] * 1024 < 40 * len(data), (found, len(data))
