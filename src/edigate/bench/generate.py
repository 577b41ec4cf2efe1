"""Deterministic, realistic inputs for the benchmarks: 850 interchanges and ERP shipments.

Two styles of purchase order:

* ``generic`` (the reader and validator benchmarks since the start): an unknown retailer
  (``BENCHRETAILER``) with random UPCs; no partner map would take its items. Its output is
  byte-for-byte what ``tests/bench/generate.py`` always wrote, so old figures stay comparable.
* ``acme`` (everything end to end): the example partner ``acme-retail`` (its ISA/GS IDs, its
  stores, its departments) ordering only items from its SKU table
  (``maps/acme-retail-skus.csv``) in cases or eaches, so validation, the 850 translation and
  the partner's map all succeed, and an auto-855 and a 997 follow.

Usage::

    generate(Path("pos.edi"), 10_000)                      # generic, one interchange
    generate(Path("acme.edi"), 10_000, style="acme")       # acme-retail, one interchange
    generate_to_size(Path("big.edi"), 100)                 # about 100 MB of acme POs
    for name, data in single_po_files(2_000): ...           # one PO per interchange
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

Style = Literal["generic", "acme"]

GENERIC_HEADER = (
    "ISA*00*          *00*          *ZZ*BENCHRETAILER  *ZZ*EDIGATE        *261123*0930*U*00401*"
    "000000001*0*P*>~\nGS*PO*BENCHRETAILER*EDIGATE*20261123*0930*1*X*004010~\n"
)


@dataclass(frozen=True, slots=True)
class Item:
    """One line of acme-retail's SKU table, as ACME orders it."""

    upc: str
    vendor_item: str
    description: str
    pack: int  # eaches per case (the map's CA factor for this SKU)
    case_price: tuple[int, int]  # cents per case, low and high
    sku: str


#: Items from maps/acme-retail-skus.csv with the map's case factors (GAD-200-SS: 6).
ACME_ITEMS = (
    Item("012345678905", "WID-100", "WIDGET, BLUE, 12 PER CASE", 12, (4800, 6000), "WID-100-BLU"),
    Item("012345678912", "GAD-200", "GADGET, STAINLESS, 6 PER CASE", 6, (9000, 9900), "GAD-200-SS"),
    Item("012345678929", "CLP-050", "CLIP, STEEL", 12, (2400, 3600), "CLP-050-ST"),
)
#: acme-retail's ship-to store codes that its map translates (N1*ST*..*92*<code>).
ACME_STORES = (
    ("0420", "ACME DC NORTH", "4200 LOGISTICS PKWY", "JOLIET", "60431"),
    ("0101", "ACME STORE CHICAGO 01", "100 N STATE ST", "CHICAGO", "60602"),
    ("0102", "ACME STORE CHICAGO 02", "2200 N CLARK ST", "CHICAGO", "60614"),
)
ACME_FIRST_PO = 7_100_000_000


def acme_header(control: int) -> str:
    """ISA and GS of an acme-retail production interchange (ISA14 = 0: no TA1 asked)."""
    return (
        "ISA*00*          *00*          *ZZ*ACMERETAIL     *ZZ*EDIGATEDIST    *261120*1405*U*"
        f"00401*{control:09d}*0*P*>~\n"
        f"GS*PO*ACMERETAIL*EDIGATEDIST*20261120*1405*{control}*X*004010~\n"
    )


def purchase_order(index: int, rng: random.Random) -> list[str]:
    """One generic 850 of about 70 segments: header, parties, 8-16 lines with PID, PO4, SDQ."""
    po = f"PO{4500000000 + index}"
    segs = [
        f"ST*850*{index:04d}",
        f"BEG*00*SA*{po}**20261120",
        "CUR*BY*USD",
        f"REF*DP*{rng.randint(100, 999)}",
        "REF*IA*VEND0042",
        "PER*BD*JANE BUYER*TE*5551234567*EM*jane@example.com",
        "FOB*PP*ZZ*ORIGIN",
        "ITD*01*3*2**30**60",
        "DTM*002*20261201",
        "DTM*037*20261125",
        "TD5*O*2*UPSN*M*UPS GROUND",
        "N9*L1*NOTES",
        "MSG*HANDLE WITH CARE, DELIVER TO DOCK 4",
        "N1*ST*STORE 1234*92*1234",
        "N3*100 MAIN STREET*SUITE 5",
        "N4*SPRINGFIELD*IL*62701*US",
        "N1*BT*ACME RETAIL HQ*92*0001",
        "N3*1 CORPORATE WAY",
        "N4*CHICAGO*IL*60601*US",
        "N1*VN*WIDGETS INC*92*V42",
    ]
    lines = rng.randint(8, 16)
    for line in range(1, lines + 1):
        qty = rng.randint(1, 48)
        price = rng.randint(100, 99999) / 100
        sku = rng.randint(10000000, 99999999)
        segs.append(f"PO1*{line}*{qty}*CA*{price:.2f}*PE*UP*0{sku}1234*VN*V-{sku}*IN*B{sku}")
        segs.append(f"PID*F****WIDGET MODEL {sku} BLUE")
        segs.append("PO4*12*1*EA")
        segs.append(f"SDQ*CA*92*0001*{qty}")
    segs.append(f"CTT*{lines}")
    segs.append(f"SE*{len(segs) + 1}*{index:04d}")
    return segs


def acme_purchase_order(index: int, rng: random.Random, po_number: int) -> list[str]:
    """One acme-retail 850 (about 70 segments) that its map accepts in full."""
    store = ACME_STORES[rng.randrange(len(ACME_STORES))]
    segs = [
        f"ST*850*{index:04d}",
        f"BEG*00*SA*{po_number}**20261120",
        "CUR*BY*USD",
        f"REF*DP*{rng.randint(10, 99):03d}",
        "REF*IA*VEND-00981",
        "PER*BD*DANA BUYER*TE*3125550142*EM*dana.buyer@acme-retail.example",
        "FOB*PP*ZZ*ORIGIN",
        "ITD*01*3*2**30**60",
        "DTM*002*20261204",
        "DTM*037*20261126",
        "TD5*O*2*UPSN*M*UPS GROUND",
        "N9*L1*SPECIAL INSTRUCTIONS",
        "MSG*DELIVER TO RECEIVING DOCK 4, 7AM-3PM",
        "N1*BT*ACME RETAIL HQ*92*0001",
        "N3*1 CORPORATE WAY",
        "N4*CHICAGO*IL*60601*US",
        f"N1*ST*{store[1]}*92*{store[0]}",
        f"N3*{store[2]}",
        f"N4*{store[3]}*IL*{store[4]}*US",
        "N1*VN*EDIGATE DISTRIBUTION*92*V981",
    ]
    lines = rng.randint(8, 16)
    for line in range(1, lines + 1):
        item = ACME_ITEMS[rng.randrange(len(ACME_ITEMS))]
        cases = rng.random() < 0.8
        qty = rng.randint(1, 40) if cases else rng.randint(1, 10) * item.pack
        unit = "CA" if cases else "EA"
        cents = rng.randint(*item.case_price)
        price = Decimal(cents) / 100 if cases else Decimal(cents // item.pack) / 100
        buyer = f"A-{100000 + rng.randint(0, 899999)}"
        segs.append(
            f"PO1*{line}*{qty}*{unit}*{price:.2f}*PE*UP*{item.upc}*VN*{item.vendor_item}*IN*{buyer}"
        )
        segs.append(f"PID*F****{item.description}")
        segs.append(f"PO4*{item.pack}*1*EA")
        first = qty // 2
        if first and unit == "CA":
            segs.append(f"SDQ*CA*92*0101*{first}*0102*{qty - first}")
    segs.append(f"CTT*{lines}")
    segs.append(f"SE*{len(segs) + 1}*{index:04d}")
    return segs


def interchange_text(
    orders: int,
    *,
    style: Style = "generic",
    seed: int = 42,
    control: int = 1,
    first_po: int = ACME_FIRST_PO,
) -> Iterator[str]:
    """The interchange in pieces (a few KB each), so a 100 MB file never sits in memory."""
    rng = random.Random(seed)
    yield GENERIC_HEADER if style == "generic" else acme_header(control)
    for i in range(1, orders + 1):
        if style == "generic":
            segs = purchase_order(i, rng)
        else:
            segs = acme_purchase_order(i, rng, first_po + i - 1)
        yield "~\n".join(segs) + "~\n"
    group = 1 if style == "generic" else control
    yield f"GE*{orders}*{group}~\nIEA*1*{control:09d}~\n"


def generate(path: Path, orders: int, seed: int = 42, *, style: Style = "generic") -> Path:
    """Write one interchange of ``orders`` 850s to ``path``; returns ``path``."""
    with path.open("w", encoding="ascii", newline="\n") as out:
        for piece in interchange_text(orders, style=style, seed=seed):
            out.write(piece)
    return path


#: Bytes of one acme 850 on average (measured over 10,000: 2,059 bytes).
ACME_PO_BYTES = 2_059


def generate_to_size(path: Path, megabytes: float, *, seed: int = 42) -> tuple[Path, int]:
    """About ``megabytes`` MB (10^6 bytes) of acme 850s in one interchange; returns the
    path and the number of POs."""
    orders = max(1, round(megabytes * 1e6 / ACME_PO_BYTES))
    return generate(path, orders, seed, style="acme"), orders


def single_po_files(
    count: int, *, seed: int = 7, first_control: int = 1, first_po: int = ACME_FIRST_PO
) -> Iterator[tuple[str, bytes]]:
    """``count`` acme-retail files of one 850 each: distinct ISA13s and PO numbers, so
    none is a duplicate of another. Yields (file name, bytes)."""
    rng = random.Random(seed)
    for n in range(count):
        control = first_control + n
        po = first_po + n
        body = "~\n".join(acme_purchase_order(1, rng, po)) + "~\n"
        text = acme_header(control) + body + f"GE*1*{control}~\nIEA*1*{control:09d}~\n"
        yield f"acme-850-{po}.edi", text.encode("ascii")


def sscc(serial17: str) -> str:
    """An SSCC-18: 17 digits and their GS1 mod-10 check digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(serial17)))
    return serial17 + str((10 - total % 10) % 10)


def shipment_for(order: dict[str, Any], index: int) -> dict[str, Any]:
    """The ERP's shipment of a whole canonical order (as the ERP outbox holds it): every line
    shipped in full, one carton per line, in our SKUs and units."""
    ship_to = next((p for p in order.get("parties", []) if p.get("role") == "ship_to"), None)
    packs = []
    for n, line in enumerate(order["lines"], start=1):
        packs.append(
            {
                "sscc": sscc(f"0061414{index:07d}{n:03d}"),
                "items": [
                    {
                        "line_number": line["line_number"],
                        "sku": line["sku"],
                        "quantity": line["quantity"],
                        "unit": line["unit"],
                    }
                ],
            }
        )
    parties: list[dict[str, Any]] = [
        {
            "role": "ship_from",
            "name": "EDIGATE DISTRIBUTION",
            "identifiers": [{"qualifier": "92", "value": "V981"}],
        }
    ]
    if ship_to is not None:
        parties.append(
            {
                "role": "ship_to",
                "name": ship_to.get("name"),
                "identifiers": [
                    i for i in ship_to.get("identifiers", []) if i.get("qualifier") == "LOC"
                ],
            }
        )
    return {
        "document_type": "shipment",
        "shipment_id": f"ASN-{index:08d}",
        "date": "2026-11-26",
        "time": "09:15:00",
        "ship_date": "2026-11-26",
        "carrier": {"routing_sequence": "O", "scac": "UPSN", "mode": "U", "routing": "UPS GROUND"},
        "bill_of_lading": f"BOL-{index:08d}",
        "packaging_code": "CTN25",
        "parties": parties,
        "orders": [
            {
                "po_number": order["po_number"],
                "po_date": order.get("po_date"),
                "references": [r for r in order.get("references", []) if r["qualifier"] == "DP"],
                "packs": packs,
            }
        ],
    }


def write_shipments(orders_dir: Path, inbox: Path, limit: int | None = None) -> int:
    """One shipment JSON in ``inbox`` per canonical order in ``orders_dir``; returns how many."""
    inbox.mkdir(parents=True, exist_ok=True)
    count = 0
    for index, path in enumerate(sorted(orders_dir.glob("*.json")), start=1):
        if limit is not None and count >= limit:
            break
        order = json.loads(path.read_text(encoding="utf-8"))
        target = inbox / f"shipment-{order['po_number']}.json"
        target.write_text(json.dumps(shipment_for(order, index), indent=2), encoding="utf-8")
        count += 1
    return count
