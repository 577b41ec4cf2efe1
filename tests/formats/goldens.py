"""Golden outputs of the formats layer: what a sample reads as, what a template writes.

Reader goldens are ``samples/expected/<sample>.order.json`` (the orders before any map, as
the X12 translation goldens are); template goldens are
``samples/expected/<source>.<partner>.<set>.<suffix>``, rendered at a fixed time. Run
``EDIGATE_UPDATE_GOLDEN=1 pytest tests/formats`` to rewrite them after an intended change
(and review the diff).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from edigate.formats import read_partner_orders, render_outbound
from edigate.formats.templates import Outbound
from edigate.model import Order, OrderAck, Shipment, load
from edigate.model.jsonio import dump
from edigate.partners import load_registry
from edigate.translate import auto_ack

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"
EXPECTED = SAMPLES / "expected"
NOW = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.UTC)
UPDATE = os.environ.get("EDIGATE_UPDATE_GOLDEN") == "1"

CONTOSO_ORDER = "xml/contoso-orderrequest.xml"

#: (sample under samples/, partner whose map reads it)
READS = [
    ("csv/initech-orders.csv", "initech-csv"),
    ("xml/contoso-orderrequest.xml", "contoso-cxml"),
]


@dataclass(frozen=True)
class Render:
    source: str  # under samples/: canonical JSON, or a partner file (its first order acked)
    partner: str
    expected: str  # under samples/expected/
    #: A partner file whose first order stands for the one the ERP's document answers (the
    #: pipeline passes it from the store): given the document's PO number, it supplies what
    #: the ERP leaves out, such as the cXML payloadID the answer must name.
    answers: str | None = None

    @property
    def id(self) -> str:
        return self.expected


RENDERS = [
    Render(
        "xml/contoso-orderrequest.xml", "contoso-cxml", "contoso-orderrequest.contoso-cxml.855.xml"
    ),
    Render(
        "canonical/order-ack-changes.json",
        "contoso-cxml",
        "order-ack-changes.contoso-cxml.855.xml",
        answers=CONTOSO_ORDER,
    ),
    Render(
        "canonical/shipment-cartons.json",
        "contoso-cxml",
        "shipment-cartons.contoso-cxml.856.xml",
        answers=CONTOSO_ORDER,
    ),
    Render("csv/initech-orders.csv", "initech-csv", "initech-orders.initech-csv.855.csv"),
    Render(
        "canonical/order-ack-changes.json", "initech-csv", "order-ack-changes.initech-csv.855.csv"
    ),
    Render(
        "canonical/shipment-cartons.json", "initech-csv", "shipment-cartons.initech-csv.856.csv"
    ),
    Render(
        "canonical/shipment-items.json",
        "contoso-cxml",
        "shipment-items.contoso-cxml.856.xml",
        answers=CONTOSO_ORDER,
    ),
    Render("canonical/shipment-items.json", "initech-csv", "shipment-items.initech-csv.856.csv"),
    Render("canonical/invoice.json", "initech-csv", "invoice.initech-csv.810.csv"),
]


def read_json(sample: str, partner_id: str) -> str:
    partner = load_registry(ROOT).get(partner_id)
    assert partner is not None
    result = read_partner_orders((SAMPLES / sample).read_bytes(), partner.map)
    assert result.issues == [], [str(i) for i in result.issues]
    return json.dumps([dump(o) for o in result.orders], indent=2, ensure_ascii=False) + "\n"


def document(source: str, partner_id: str) -> Outbound:
    """The outbound document of a render case: canonical JSON, or an auto-855 of an order."""
    path = SAMPLES / source
    if path.suffix == ".json":
        loaded = load(json.loads(path.read_text()))
        assert not isinstance(loaded, Order)
        return loaded
    partner = load_registry(ROOT).get(partner_id)
    assert partner is not None
    result = read_partner_orders(path.read_bytes(), partner.map)
    ack: OrderAck = auto_ack(result.orders[0], ack_date=NOW.date())
    return ack


def render(case: Render) -> bytes:
    partner = load_registry(ROOT).get(case.partner)
    assert partner is not None
    outbound = document(case.source, case.partner)
    orders = answered(outbound, case.answers) if case.answers else {}
    body, _ = render_outbound(outbound, partner, now=NOW, orders=orders)
    return body


def answered(outbound: Outbound, source: str = CONTOSO_ORDER) -> dict[str, Order]:
    """The orders ``outbound`` answers, as the pipeline finds them in the store: the first
    order of the partner file ``source`` (as read by Contoso's map), under each PO number
    ``outbound`` names."""
    partner = load_registry(ROOT).get("contoso-cxml")
    assert partner is not None
    (first, *_) = read_partner_orders((SAMPLES / source).read_bytes(), partner.map).orders
    if isinstance(outbound, Shipment):
        po_numbers = [o.po_number for o in outbound.orders]
    else:
        po_numbers = [outbound.po_number or ""]
    return {po: first.model_copy(update={"po_number": po}) for po in po_numbers}


def check(expected: Path, actual: bytes) -> None:
    if UPDATE:
        expected.write_bytes(actual)
    assert expected.is_file(), f"{expected} missing: run with EDIGATE_UPDATE_GOLDEN=1"
    assert actual.decode("utf-8") == expected.read_text(encoding="utf-8")
