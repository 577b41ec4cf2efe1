"""pyx12 4.0.0 as an independent oracle for the 997s and 999s we write.

pyx12's bundled 997/999 maps are written for HIPAA: AK101 accepts only healthcare
functional ids (``AK1*PO`` is "not found") and AK201 only healthcare sets. We copy its map
folder, widen those two code lists in the 997 and both 999 maps, add a ``maps.xml`` entry
for GS08 ``005010`` (a 999 under the bare version), and validate against the copy with
``map_path=``. Nothing else is relaxed, so every other pyx12 check still applies.

Errors are collected from pyx12's error tree (through its JSON visitor: ISA, GS, ST,
segment and element errors) and from the ``pyx12`` logger at ERROR level.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import pyx12
import pyx12.params
import pyx12.x12n_document
from lxml import etree

from edigate.x12 import X12Reader

AK101_EXTRA = ("PO", "PR", "SH", "IN", "FA")
AK201_EXTRA = ("850", "855", "856", "810", "997", "999")
WIDENED = ("997.4010.xml", "999.5010.xml", "999.5010X231.A1.xml")
#: (ISA12 block, GS08, map file) entries the copy's maps.xml must have.
INDEX_ENTRIES = (
    ("00501", "005010", "999.5010X231.A1.xml"),
    ("00501", "005010X231A1", "999.5010X231.A1.xml"),
    ("00401", "004010", "997.4010.xml"),
)


def prepare_map_copy(dest: Path) -> Path:
    """Copy pyx12's map folder under ``dest``, widened as described above; return its path."""
    source = Path(pyx12.__file__).parent / "map"
    target = dest / "pyx12-map"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
    for name in WIDENED:
        widen_codes(target / name, {"AK101": AK101_EXTRA, "AK201": AK201_EXTRA})
    _index(target / "maps.xml")
    return target


def widen_codes(path: Path, extra: dict[str, tuple[str, ...]]) -> None:
    """Add codes to the ``valid_codes`` of the named elements of one map file."""
    tree = etree.parse(str(path))
    found = set()
    for element in tree.iter("element"):
        xid = element.get("xid")
        if xid not in extra:
            continue
        codes = element.find("valid_codes")
        if codes is None:
            raise AssertionError(f"{path.name}: {xid} has no valid_codes to widen")
        present = {c.text for c in codes.iter("code")}
        for code in extra[xid]:
            if code not in present:
                etree.SubElement(codes, "code").text = code
        found.add(xid)
    if found != set(extra):
        raise AssertionError(f"{path.name}: elements {set(extra) - found} not found")
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")


def _index(path: Path) -> None:
    tree = etree.parse(str(path))
    root = tree.getroot()
    for icvn, vriic, filename in INDEX_ENTRIES:
        version = root.find(f"version[@icvn='{icvn}']")
        if version is None:
            raise AssertionError(f"maps.xml has no version block {icvn}")
        if version.find(f"map[@vriic='{vriic}'][@fic='FA']") is None:
            entry = etree.SubElement(version, "map", vriic=vriic, fic="FA", abbr=filename[:3])
            entry.text = filename
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"log: {record.getMessage()}")


def pyx12_errors(data: bytes, map_path: Path) -> list[str]:
    """Everything pyx12 finds wrong with ``data``; an empty list means it validates.

    ``data`` is decoded as our reader sniffs it (acks mirror an EBCDIC inbound).
    """
    reader = X12Reader(data)
    for _ in reader.events():
        pass
    handler = _Collect()
    logger = logging.getLogger("pyx12")
    logger.addHandler(handler)
    try:
        fd_json = io.StringIO()
        valid = pyx12.x12n_document.x12n_document(
            pyx12.params.ParamsBase(),
            io.StringIO(data.decode(reader.encoding)),
            fd_997=None,
            fd_html=None,
            fd_json=fd_json,
            map_path=str(map_path),
        )
    finally:
        logger.removeHandler(handler)
    errors = handler.messages + _walk(json.loads(fd_json.getvalue() or '{"interchanges": []}'))
    if not valid and not errors:
        errors.append("pyx12 says the document is not valid (no detail given)")
    return errors


def _walk(doc: dict[str, Any]) -> list[str]:
    out: list[str] = []

    def add(where: str, errors: list[dict[str, Any]]) -> None:
        for e in errors:
            value = f" value={e['err_val']!r}" if e.get("err_val") is not None else ""
            out.append(f"{where}: {e['err_cde']} {e['err_str']}{value}")

    for isa in doc.get("interchanges", []):
        add(f"ISA {isa.get('isa_trn_set_id')}", isa.get("errors", []))
        for gs in isa.get("groups", []):
            add(f"GS {gs.get('gs_control_num')}", gs.get("errors", []))
            for st in gs.get("transactions", []):
                where = f"ST {st.get('trn_set_control_num')}"
                add(where, st.get("errors", []))
                for seg in st.get("segments", []):
                    seg_where = f"{where} {seg.get('seg_id')}@{seg.get('seg_count')}"
                    add(seg_where, seg.get("errors", []))
                    for ele in seg.get("elements", []):
                        add(f"{seg_where} el{ele.get('ele_pos')}", ele.get("errors", []))
    return out
