"""Benchmark: read and validate a 10,000-PO 850 interchange; compare with pyx12.

Not collected by pytest. Run::

    python tests/bench/bench_validate.py [--orders 10000] [--pyx12-orders 1000]

Every measurement runs in a fresh subprocess pinned to one CPU, so the peak RSS
(``ru_maxrss``) is that of the measured work alone. Reported:

* edigate: read only; read + validate (every transaction), with the validate share;
* pyx12 4.0.0 on the same file: its ``X12Reader`` (tokenising only), and full validation with
  an 850 map generated from *our* 004010 850 spec (pyx12 ships no 850 map), on a smaller file
  because it is slow; POs/s are comparable, the totals are not.

The "validate" run feeds every reader event, with the validator's findings, to the 997
builder (``AckBuilder``), so "read + validate + 997" is the whole job of issue 3; the
validator's and the builder's shares are timed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import generate

from edigate.x12 import Finding, TransactionSet, X12Reader
from edigate.x12.acks import AckBuilder, CounterControlNumbers
from edigate.x12.spec import (
    ElementUse,
    LoopDef,
    SegmentUse,
    load_transaction,
    walk_segment_uses,
)
from edigate.x12.validator import validator_for

TARGET_POS = 5_000
TARGET_RSS_MB = 150


#: Hook for the 997/999 builder (``edigate.x12.acks``, not written yet): set it to a function
#: ``(transaction, findings) -> ack`` and the benchmark times read -> validate -> acknowledge,
#: reporting the ack share on its own line.


# ------------------------------------------------------------------------- child processes
def _pin_one_cpu() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_edigate(path: str, mode: str) -> dict[str, Any]:
    _pin_one_cpu()
    validator = validator_for("850", "004010")
    assert validator is not None
    builder = AckBuilder("997", CounterControlNumbers())
    txs = findings = ack_bytes = 0
    validate_s = ack_s = 0.0
    start = time.perf_counter()
    for event in X12Reader(path).events():
        found: list[Finding] = []
        if isinstance(event, TransactionSet):
            txs += 1
            if mode == "validate":
                t = time.perf_counter()
                found = validator.validate(event)
                validate_s += time.perf_counter() - t
                findings += len(found)
        if mode == "validate":
            t = time.perf_counter()
            out = builder.feed(event, found)
            ack_s += time.perf_counter() - t
            if out is not None:
                ack_bytes += len(out.functional or b"")
    total = time.perf_counter() - start
    return {
        "txs": txs,
        "findings": findings,
        "total_s": total,
        "validate_s": validate_s,
        "ack_s": ack_s,
        "ack_bytes": ack_bytes,
        "rss_mb": _rss_mb(),
    }


def child_pyx12_read(path: str) -> dict[str, Any]:
    _pin_one_cpu()
    import pyx12.x12file

    start = time.perf_counter()
    segments = sum(1 for _ in pyx12.x12file.X12Reader(path))
    return {"segments": segments, "total_s": time.perf_counter() - start, "rss_mb": _rss_mb()}


def child_pyx12_validate(path: str, map_dir: str) -> dict[str, Any]:
    _pin_one_cpu()
    import io

    import pyx12.params
    import pyx12.x12n_document

    param = pyx12.params.params()
    ack = io.StringIO()
    start = time.perf_counter()
    ok = pyx12.x12n_document.x12n_document(param, path, ack, None, None, map_path=map_dir)
    total = time.perf_counter() - start
    text = ack.getvalue()
    return {
        "ok": bool(ok),
        "ak5_accepted": text.count("AK5*A"),
        "ak3_errors": text.count("AK3*"),
        "total_s": total,
        "rss_mb": _rss_mb(),
    }


def run_child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


# ----------------------------------------------------------------- pyx12 map from our spec
def write_pyx12_map(dest: Path) -> Path:
    """A pyx12 map directory whose 850 map is generated from our 004010 850 spec.

    The envelope (ISA/GS/ST/SE/GE/IEA) comes from pyx12's own 997 map; the data element
    dictionary is pyx12's, extended (and, for our elements, overridden) with ours.
    """
    import pyx12

    src = Path(pyx12.__file__).parent / "map"
    dest.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.suffix in (".xml", ".xsd"):
            shutil.copy(f, dest / f.name)
    spec = load_transaction("850", "004010")

    tree = ET.parse(src / "997.4010.xml")
    root = tree.getroot()
    _widen(root, {"GS01": "PO", "ST01": "850"})
    root.set("xid", "850")
    name = root.find("name")
    assert name is not None
    name.text = "Purchase Order 850 (generated from edigate's 004010 spec)"
    st_loop = root.find(".//loop[@xid='ST_LOOP']")
    assert st_loop is not None
    header = st_loop.find("loop[@xid='HEADER']")
    assert header is not None
    for child in list(header):
        if child.tag in ("segment", "loop"):
            header.remove(child)
    pos = 10
    for node in spec.root.children[1:-1]:  # ST and SE come from the template
        header.append(_map_node(node, pos))
        pos += 10

    elements: dict[str, tuple[str, int, int, str]] = {}
    for _, seg_use in walk_segment_uses(spec.root):
        for use in seg_use.segment.elements:
            parts = use.composite.components if use.composite is not None else (use,)
            for part in parts:
                e = part.element
                if e is not None and e.ref is not None:
                    elements[e.ref] = (e.type, e.min, e.max, e.name)
    dtree = ET.parse(src / "dataele.xml")
    droot = dtree.getroot()
    for existing in list(droot):
        if existing.get("ele_num") in elements:
            droot.remove(existing)
    for ref, (etype, lo, hi, ename) in sorted(elements.items()):
        ET.SubElement(
            droot,
            "data_ele",
            ele_num=ref,
            data_type=etype,
            min_len=str(lo),
            max_len=str(hi),
            name=ename or ref,
        )
    dtree.write(dest / "dataele.xml", encoding="utf-8", xml_declaration=True)
    tree.write(dest / "850.4010.edigate.xml", encoding="utf-8", xml_declaration=True)

    control = ET.parse(src / "x12.control.00401.xml")
    _widen(control.getroot(), {"GS01": "PO"})  # the shipped maps only know healthcare groups
    control.write(dest / "x12.control.00401.xml", encoding="utf-8", xml_declaration=True)

    mtree = ET.parse(src / "maps.xml")
    for version in mtree.getroot():
        if version.get("icvn") == "00401":
            entry = ET.SubElement(version, "map", vriic="004010", fic="PO", abbr="850")
            entry.text = "850.4010.edigate.xml"
    mtree.write(dest / "maps.xml", encoding="utf-8", xml_declaration=True)
    return dest


def _widen(root: ET.Element, codes: dict[str, str]) -> None:
    """Set the code lists of envelope elements (pyx12's maps only allow HIPAA values)."""
    for el in root.iter("element"):
        code = codes.get(el.get("xid") or "")
        valid = el.find("valid_codes")
        if code is not None and valid is not None:
            for old in list(valid):
                valid.remove(old)
            _text(valid, "code", code)


def _text(parent: ET.Element, tag: str, text: str) -> None:
    ET.SubElement(parent, tag).text = text


def _map_node(node: SegmentUse | LoopDef, pos: int) -> ET.Element:
    if isinstance(node, LoopDef):
        loop = ET.Element("loop", xid=node.id)
        _text(loop, "name", node.id)
        _text(loop, "usage", "R" if node.mandatory else "S")
        _text(loop, "pos", f"{pos:03d}")
        _text(loop, "repeat", str(node.max_repeat) if node.max_repeat else ">1")
        for i, child in enumerate(node.children):
            loop.append(_map_node(child, pos + i))
        return loop
    seg = node.segment
    out = ET.Element("segment", xid=seg.tag)
    _text(out, "name", seg.name)
    _text(out, "usage", "R" if node.mandatory else "S")
    _text(out, "pos", f"{pos:03d}")
    _text(out, "max_use", str(node.max_use) if node.max_use else ">1")
    for rule in seg.rules:
        _text(out, "syntax", str(rule))
    for use in seg.elements:
        out.append(_map_element(seg.tag, use))
    return out


def _map_element(tag: str, use: ElementUse, comp_of: str = "") -> ET.Element:
    usage = "R" if use.mandatory else "S"
    if use.composite is not None:
        comp = ET.Element("composite")
        _text(comp, "data_ele", use.composite.ref)
        _text(comp, "name", use.composite.name)
        _text(comp, "usage", usage)
        _text(comp, "seq", f"{use.position:02d}")
        for rule in use.composite.rules:
            _text(comp, "syntax", str(rule))
        for part in use.composite.components:
            comp.append(_map_element(tag, part, f"{tag}{use.position:02d}"))
        return comp
    xid = f"{comp_of}-{use.position:02d}" if comp_of else f"{tag}{use.position:02d}"
    el = ET.Element("element", xid=xid)
    e = use.element
    assert e is not None
    _text(el, "data_ele", e.ref or "")
    _text(el, "name", e.name or xid)
    _text(el, "usage", usage)
    _text(el, "seq", f"{use.position:02d}")
    if e.codes:
        codes = ET.SubElement(el, "valid_codes")
        for code in sorted(e.codes):
            _text(codes, "code", code)
    return el


# --------------------------------------------------------------------------------- driver
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--pyx12-orders", type=int, default=1_000)
    parser.add_argument("--no-pyx12", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        big = generate(Path(tmp) / "850-bench.edi", args.orders)
        size = big.stat().st_size / 1e6
        print(f"input: {args.orders} POs, {size:.1f} MB ({big.name}), one CPU per measurement")
        read = run_child("edigate", str(big), "read")
        full = run_child("edigate", str(big), "validate")
        n = full["txs"]
        print(
            f"edigate read only:        {n / read['total_s']:9,.0f} POs/s  "
            f"({read['total_s']:.2f} s, peak RSS {read['rss_mb']:.0f} MB)"
        )
        print(
            f"edigate read+validate+997:{n / full['total_s']:9,.0f} POs/s  "
            f"({full['total_s']:.2f} s, peak RSS {full['rss_mb']:.0f} MB, "
            f"{full['findings']} findings, 997 of {full['ack_bytes']:,} bytes)"
        )
        print(
            f"edigate validate alone:   {n / full['validate_s']:9,.0f} POs/s  "
            f"({full['validate_s']:.2f} s)"
        )
        print(f"997 builder alone:        {n / full['ack_s']:9,.0f} POs/s  ({full['ack_s']:.2f} s)")
        verdict = (
            n / full["total_s"] >= TARGET_POS
            and full["rss_mb"] < TARGET_RSS_MB
            and full["findings"] == 0
        )
        print(
            f"targets met (read+validate+997 >= {TARGET_POS:,} POs/s, RSS < "
            f"{TARGET_RSS_MB} MB): {verdict}"
        )
        if args.no_pyx12:
            return
        small = generate(Path(tmp) / "850-pyx12.edi", args.pyx12_orders)
        px_read = run_child("pyx12-read", str(big))
        print(
            f"pyx12 X12Reader (tokenise only, {args.orders} POs): "
            f"{n / px_read['total_s']:9,.0f} POs/s  ({px_read['total_s']:.2f} s, "
            f"peak RSS {px_read['rss_mb']:.0f} MB)"
        )
        map_dir = write_pyx12_map(Path(tmp) / "pyx12-map")
        px = run_child("pyx12-validate", str(small), str(map_dir))
        mine = run_child("edigate", str(small), "validate")
        print(
            f"pyx12 validate with our 850 as a map ({args.pyx12_orders} POs): "
            f"{args.pyx12_orders / px['total_s']:9,.0f} POs/s  ({px['total_s']:.2f} s, "
            f"peak RSS {px['rss_mb']:.0f} MB, {px['ak5_accepted']} accepted, "
            f"{px['ak3_errors']} AK3)"
        )
        print(
            f"edigate read + validate, same file:              "
            f"{mine['txs'] / mine['total_s']:9,.0f} POs/s  "
            f"(x{px['total_s'] / mine['total_s']:.0f} faster)"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, rest = sys.argv[2], sys.argv[3:]
        if kind == "edigate":
            result = child_edigate(rest[0], rest[1])
        elif kind == "pyx12-read":
            result = child_pyx12_read(rest[0])
        else:
            result = child_pyx12_validate(rest[0], rest[1])
        print(json.dumps(result))
    else:
        main()
