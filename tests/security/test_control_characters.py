"""Control characters in partner data: refused with their position, never stored.

Found by probing the pipeline on PostgreSQL: a CSV order whose PO number held a NUL byte
(valid UTF-8, so the reader took it) was translated, and the commit failed on every attempt
(PostgreSQL text cannot hold NUL) until the document was ``dead``; on SQLite the NUL went on
to the ERP. The X12 validator already refuses control characters (AK4 code 6); the CSV/XML
readers now do too, and an AS2 file name drops them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from edigate.app import Gateway
from edigate.channels.as2.mime import build_entity
from edigate.config import load_config
from edigate.formats import read_partner_orders
from edigate.store import Document, Status

from ..postgres import empty_tables
from . import targets
from .conftest import receive

ROOT = Path(__file__).resolve().parents[2]
CSV = (ROOT / "samples/csv/initech-orders.csv").read_bytes()


def hostile_csv() -> bytes:
    """initech's file: order IN-26-1002's key holds a NUL; a description of IN-26-1001 too."""
    data = CSV.replace(b"IN-26-1002", b"IN-26-\x001002")
    return data.replace(b"Paper clips (box of 100)", b"Paper clips\x1b[31m (box)")


def test_the_csv_reader_refuses_control_characters_with_line_and_column() -> None:
    partner = targets.registry().get("initech-csv")
    assert partner is not None
    result = read_partner_orders(hostile_csv(), partner.map)
    assert result.orders == []
    messages = sorted(str(i) for i in result.errors)
    assert messages == [
        'line 3, column "Description": holds a control character (U+001B)',
        'line 5, column "PO Number": the order key holds a control character (U+0000)',
    ]
    assert result.rejected == ["IN-26-1001"]


@pytest.fixture(params=["sqlite", "postgres"])
def any_gateway(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Gateway]:
    config_dir = tmp_path / "config"
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, config_dir / name)
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    config = load_config(
        None, environ={}, data_dir=tmp_path / "data", config_dir=config_dir, database_url=url
    )
    gw = Gateway(config)
    if url:
        empty_tables(gw.store.engine)
    yield gw
    gw.close()


def test_a_nul_in_a_csv_order_is_rejected_not_dead_on_either_database(
    any_gateway: Gateway,
) -> None:
    gw = any_gateway
    doc_id = receive(gw, hostile_csv(), partner_id="initech-csv", filename="orders.csv")
    with gw.store.session() as session:
        docs = list(session.scalars(select(Document).order_by(Document.id)))
        statuses = {d.id: d.status for d in docs}
        po_numbers = [d.po_number for d in docs if d.po_number]
    # Processed to a verdict on the first attempt: not failed (to be retried), never dead.
    assert statuses[doc_id] in (Status.REJECTED, Status.TRANSLATED), statuses
    assert not {Status.FAILED, Status.DEAD} & set(statuses.values()), statuses
    assert all("\x00" not in po for po in po_numbers)
    assert list((gw.erp.outbox / "orders").glob("*.json")) == []  # no half-read order left


def test_an_as2_file_name_never_carries_control_characters() -> None:
    for raw, expected in [
        ('attachment; filename="po\x00.edi"', "po.edi"),
        ('attachment; filename="../../etc/\x1b[2Jpasswd"', "[2Jpasswd"),
        ('attachment; filename="\x00\x01"', None),
    ]:
        entity = build_entity([("Content-Disposition", raw)], b"ISA")
        assert entity.filename == expected
