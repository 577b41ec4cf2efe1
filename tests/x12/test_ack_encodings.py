"""Encodings on the way out: a writer with a BOM-carrying encoding writes one BOM, and the
ack of a UTF-16 file is UTF-8, as the pipeline's own acks are (EBCDIC is answered in kind).
"""

from __future__ import annotations

import codecs
import datetime as dt

import pytest

from edigate.x12 import (
    GroupEnvelope,
    InterchangeEnvelope,
    PartyId,
    Separators,
    TransactionSet,
    X12Reader,
    X12Writer,
)
from edigate.x12.acks import AckOptions, acknowledge, parse_acks
from tests.x12.test_acks import all_findings, group, interchange, tx

STAMP = dt.datetime(2026, 11, 23, 9, 30)
BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF8)


def _write(encoding: str) -> bytes:
    """One interchange, its segments written one by one and in a batch."""
    writer = X12Writer(Separators("*", ">", "~"), encoding=encoding)
    writer.begin_interchange(InterchangeEnvelope(PartyId("ZZ", "US"), PartyId("ZZ", "THEM"), 1))
    writer.begin_group(GroupEnvelope("PR", "US", "THEM", 1, timestamp=STAMP))
    writer.begin_transaction("855", "0001")
    writer.segment(["BAK", "00", "AD", "PO1", "20261123"])
    writer.segments([["N1", "ST", "DOCK"], ["N1", "BT", "HQ"]])
    writer.end_transaction()
    writer.end_group()
    writer.end_interchange()
    return writer.getvalue()


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_writer_with_a_bom_writes_it_once(encoding: str) -> None:
    data = _write(encoding)
    assert sum(data.count(bom) for bom in BOMS) == 1
    assert data.decode(encoding) == _write("utf-8").decode()
    assert all_findings(data) == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_the_ack_of_a_utf16_file_is_utf8_like_the_pipelines(encoding: str) -> None:
    inbound = interchange(group(tx("0001")), ack="1").decode().encode(encoding)
    result = acknowledge(inbound, "997", options=AckOptions(timestamp=STAMP))
    for data in (result.functional, result.technical):
        assert data.startswith(b"ISA*") and b"\x00" not in data
        assert all_findings(data) == []
    received = parse_acks(result.functional + result.technical)
    assert [g.status for g in received.groups] == ["A"]
    assert [t.status for t in received.technical] == ["A"]


def test_the_ack_of_an_ebcdic_file_is_ebcdic() -> None:
    inbound = interchange(group(tx("0001"))).decode().encode("cp037")
    data = acknowledge(inbound, "997", options=AckOptions(timestamp=STAMP)).functional
    reader = X12Reader(data)
    events = list(reader.events())
    assert reader.encoding == "cp037"
    assert [e.set_id for e in events if isinstance(e, TransactionSet)] == ["997"]
    assert all_findings(data) == []
