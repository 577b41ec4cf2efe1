"""Issue 4's reference point, measured here: a plain-Python script that builds our pydantic
``Order`` and an 855 for each PO of the generated file, with no X12 validation.

The issue quotes such a script at about 7,000 POs/s. This one is its honest floor for our
canonical model: it splits the whole file with ``str.split`` (no streaming, no envelope or
syntax checks), places only the segments ``generate.py`` writes, validates the same
``Order`` dict with pydantic, and writes the 855's segments straight from the Order (no
``OrderAck`` model). ``bench_translate.py --reference`` runs it beside the real path in one
process and checks that both give equal Orders and equal 855s, so the ratio compares the
same work minus what the gateway adds (reading, validation, a generic translator, the ack
model).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from edigate.model.order import Order

Seg = list[str]


def _date(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def transactions(path: Path) -> Iterator[list[Seg]]:
    """Every ST..SE of the file as split segments (the file read whole, split lazily)."""
    current: list[Seg] = []
    for raw in path.read_text("ascii").split("~"):
        seg = raw.strip().split("*")
        tag = seg[0]
        if tag == "ST":
            current = [seg]
        elif tag == "SE":
            current.append(seg)
            yield current
        elif current and tag not in ("GE", "IEA"):
            current.append(seg)


def order_dict(segments: list[Seg]) -> dict[str, Any]:
    """The dict ``translate_850`` validates, for the segments ``generate.py`` writes."""
    order: dict[str, Any] = {"lines": []}
    refs: list[dict[str, Any]] = []
    parties: list[dict[str, Any]] = []
    line: dict[str, Any] | None = None
    party: dict[str, Any] | None = None
    for s in segments[1:-1]:
        tag = s[0]
        if tag == "BEG":
            order.update(
                purpose_code=s[1], order_type_code=s[2], po_number=s[3], po_date=_date(s[5])
            )
        elif tag == "CUR":
            order.update(currency_entity=s[1], currency=s[2])
        elif tag == "REF":
            refs.append({"qualifier": s[1], "value": s[2]})
        elif tag == "PER":
            order["contacts"] = [{"function": s[1], "name": s[2], "phone": s[4], "email": s[6]}]
        elif tag == "FOB":
            order["fob"] = [{"payment_method": s[1], "location_qualifier": s[2], "location": s[3]}]
        elif tag == "ITD":
            order["terms"] = [
                {
                    "type_code": s[1],
                    "basis_date_code": s[2],
                    "discount_percent": s[3],
                    "discount_days": int(s[5]),
                    "net_days": int(s[7]),
                }
            ]
        elif tag == "DTM":
            order.setdefault("dates", []).append({"qualifier": s[1], "date": _date(s[2])})
        elif tag == "TD5":
            keys = ("routing_sequence", "id_qualifier", "scac", "mode", "routing")
            order["carriers"] = [dict(zip(keys, s[1:6], strict=True))]
        elif tag == "N9":
            refs.append({"qualifier": s[1], "value": s[2], "messages": []})
        elif tag == "MSG":
            refs[-1]["messages"].append(s[1])
        elif tag == "N1":
            party = {"role_code": s[1], "name": s[2]}
            party["identifiers"] = [{"qualifier": s[3], "value": s[4]}]
            parties.append(party)
        elif tag == "N3" and party is not None:
            party["address"] = {"lines": s[1:]}
        elif tag == "N4" and party is not None:
            party["address"].update(city=s[1], state=s[2], postal_code=s[3], country=s[4])
        elif tag == "PO1":
            line = {
                "line_number": s[1],
                "quantity": s[2],
                "unit": s[3],
                "unit_price": s[4],
                "price_basis": s[5],
                "identifiers": [
                    {"qualifier": s[k], "value": s[k + 1]} for k in range(6, len(s) - 1, 2)
                ],
            }
            order["lines"].append(line)
        elif tag == "PID" and line is not None:
            line["descriptions"] = [{"type": s[1], "text": s[5]}]
        elif tag == "PO4" and line is not None:
            line["pack"] = {"pack": int(s[1]), "size": s[2], "size_unit": s[3]}
        elif tag == "SDQ" and line is not None:
            line["distribution"] = [
                {"location_qualifier": s[2], "location": s[3], "quantity": s[4], "unit": s[1]}
            ]
        elif tag == "CTT":
            order["summary"] = {"line_count": int(s[1])}
    order["references"] = refs
    order["parties"] = parties
    return order


def _number(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def ack_segments(order: Order, ack_date: dt.date) -> list[Seg]:
    """The auto-855's segments (BAK02 AD, one ACK*IA per line), straight from the Order."""
    bak = ["BAK", "00", "AD", order.po_number, order.po_date.strftime("%Y%m%d")]
    out: list[Seg] = [[*bak, "", "", "", "", ack_date.strftime("%Y%m%d")]]
    if order.currency:
        out.append(["CUR", "SE", order.currency])
    out += [["REF", r.qualifier, r.value or ""] for r in order.references if not r.messages]
    for p in order.parties:
        n1 = ["N1", p.role_code, p.name or ""]
        if p.identifiers:
            n1 += [p.identifiers[0].qualifier, p.identifiers[0].value]
        out.append(n1)
        if p.address is not None:
            a = p.address
            out.append(["N3", *a.lines])
            out.append(["N4", a.city or "", a.state or "", a.postal_code or "", a.country or ""])
    total = Decimal(0)
    for line in order.lines:
        quantity = _number(line.quantity) if line.quantity is not None else ""
        po1 = ["PO1", line.line_number or "", quantity, line.unit or ""]
        po1 += [_number(line.unit_price) if line.unit_price is not None else ""]
        po1 += [line.price_basis or ""]
        for ident in line.identifiers:
            po1 += [ident.qualifier, ident.value]
        out.append(po1)
        out += [["PID", d.type, "", "", "", d.text or ""] for d in line.descriptions]
        out.append(["ACK", "IA", quantity, line.unit or ""])
        total += line.quantity or 0
    out.append(["CTT", str(len(order.lines)), _number(total)])
    return out


def run(path: Path, ack_date: dt.date) -> dict[str, float]:
    """One pass; seconds per stage (split, dict, pydantic, 855) and the counts."""
    clock = time.perf_counter
    stages = {"split": 0.0, "dict": 0.0, "pydantic": 0.0, "ack": 0.0}
    orders = ack_count = 0
    txs = transactions(path)
    while True:
        t0 = clock()
        segments = next(txs, None)
        t1 = clock()
        stages["split"] += t1 - t0
        if segments is None:
            break
        data = order_dict(segments)
        t2 = clock()
        order = Order.model_validate(data)
        t3 = clock()
        ack_count += len(ack_segments(order, ack_date))
        stages["dict"] += t2 - t1
        stages["pydantic"] += t3 - t2
        stages["ack"] += clock() - t3
        orders += 1
    return {**stages, "orders": orders, "ack_segments": ack_count}
