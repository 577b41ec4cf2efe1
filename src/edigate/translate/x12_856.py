""":class:`Shipment` -> X12 856 (ship notice / manifest), 004010 or 005010.

The hierarchy is the shipment's ``structure_code`` (BSN05, code list 1005): ``0001`` pick
and pack (Shipment, Order, Packaging, Item), ``S`` -> ``O`` -> optional ``T`` (tare,
pallet) -> ``P`` (pack, carton) -> ``I`` (item), S/O/P/I without tares; or ``0004``
(Shipment, Order, Item), ``S`` -> ``O`` -> ``I``. Either way the item level is written by
one method. HL01 numbers the levels from 1 in the order written, HL02 names the parent,
HL04 says whether children follow.

The shipment's TD1 counts what the carrier handles: the outermost packages, i.e. pallets
plus cartons not on a pallet (``Shipment.outermost_packages``), unless the ERP states
``lading_quantity``; TD101 is then their common packaging code when the ERP gives none.
A 0004 shipment reports no packages, so it must state ``lading_quantity``: TD102 is never
guessed (a count of 0 would tell the carrier's dock there is nothing to unload).

Inside each HL loop segments follow the standard's order (LIN, SN1, PRF, PO4, PID, TD1,
TD5, TD3, REF, MAN, DTM, FOB, N1). CTT01 is the number of HL segments and CTT02 the hash
total of the SN102 quantities, as the VICS guideline asks. Every value is checked against
the X12 extended character set (:func:`~.x12_common.x12_text`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from ..errors import X12Error
from ..model.shipment import Pack, Shipment, ShipmentItem, ShipmentOrder, Tare
from ..x12.separators import Separators
from ..x12.writer import GroupEnvelope, InterchangeEnvelope
from .x12_common import (
    Out,
    fmt_date,
    fmt_decimal,
    fmt_hash_total,
    fmt_time,
    fob_segment,
    id_pairs,
    isa_version,
    opt,
    opt_date,
    opt_dec,
    party_segments,
    pid_segment,
    po4_segment,
    ref_segment,
    seg,
    td5_segment,
    write_documents,
    x12_text,
)


def build_856(shipment: Shipment, *, version: str = "004010") -> list[Out]:
    """The 856's segments between ST and SE."""
    isa_version(version)
    return x12_text(_Hierarchy(shipment).build(), f"856 {shipment.shipment_id}")


class _Hierarchy:
    """Writes the HL tree, numbering levels as they are written."""

    def __init__(self, shipment: Shipment) -> None:
        self.shipment = shipment
        self.out: list[Out] = []
        self.count = 0
        self.units = Decimal(0)
        self.shipped: list[Decimal] = []  # SN102s, for a hash total past 10 digits

    def hl(self, parent: int | None, level: str, has_children: bool) -> int:
        self.count += 1
        self.out.append(
            seg(
                "HL",
                str(self.count),
                "" if parent is None else str(parent),
                level,
                "1" if has_children else "0",
            )
        )
        return self.count

    def build(self) -> list[Out]:
        sh = self.shipment
        for order in sh.orders:  # the model checks it; a model_copy() does not validate
            if order.structure_code != sh.structure_code:
                raise X12Error(
                    f"856 {sh.shipment_id}: order {order.po_number} has the structure of BSN05 "
                    f"{order.structure_code}, but the shipment says {sh.structure_code}"
                )
        self.out.append(
            seg(
                "BSN",
                sh.purpose_code,
                sh.shipment_id,
                fmt_date(sh.date),
                fmt_time(self._time()),
                sh.structure_code,
            )
        )
        top = self.hl(None, "S", True)
        self._shipment_level()
        for order in sh.orders:
            self._order(order, top)
        self.out.append(seg("CTT", str(self.count), fmt_hash_total(self.units, self.shipped)))
        return self.out

    def _time(self) -> dt.time:
        """BSN04 is mandatory in the 856 (004010 and 005010): said here, by name, rather than
        by the validator reading back a BSN without it."""
        sh = self.shipment
        if sh.time is None:
            raise X12Error(
                f"856 {sh.shipment_id}: the shipment has no time; BSN04 (when the notice was "
                "made) is mandatory in an 856"
            )
        return sh.time

    def _shipment_level(self) -> None:
        sh = self.shipment
        out = self.out
        packaging, lading = sh.packaging_code, sh.lading_quantity
        if lading is None:
            outermost = sh.outermost_packages()
            if not outermost:
                raise X12Error(
                    f"856 {sh.shipment_id}: the orders list their items without packs (BSN05 "
                    f"{sh.structure_code}), so there are no packages to count: give "
                    "lading_quantity (TD102, the pieces the carrier handles)"
                )
            lading = len(outermost)
            if packaging is None:
                packaging = _common_code(outermost)
        out.append(
            seg(
                "TD1",
                opt(packaging),
                str(lading),
                "",
                "",
                "",
                "G" if sh.gross_weight is not None else "",
                opt_dec(sh.gross_weight),
                sh.weight_unit if sh.gross_weight is not None else "",
            )
        )
        if sh.net_weight is not None:
            out.append(
                seg("TD1", "", "", "", "", "", "N", fmt_decimal(sh.net_weight), sh.weight_unit)
            )
        if sh.carrier is not None:
            out.append(td5_segment(sh.carrier))
        for eq in sh.equipment:
            out.append(seg("TD3", eq.code, opt(eq.initial), opt(eq.number)))
        if sh.bill_of_lading:
            out.append(seg("REF", "BM", sh.bill_of_lading))
        if sh.pro_number:
            out.append(seg("REF", "CN", sh.pro_number))
        for number in sh.tracking_numbers:
            out.append(seg("REF", "2I", number))
        out += [ref_segment(r) for r in sh.references]
        if sh.ship_date is not None:
            out.append(seg("DTM", "011", fmt_date(sh.ship_date)))
        if sh.estimated_delivery_date is not None:
            out.append(seg("DTM", "017", fmt_date(sh.estimated_delivery_date)))
        if sh.fob is not None:
            out.append(fob_segment(sh.fob))
        for party in sh.parties:
            out += party_segments(party)

    def _order(self, order: ShipmentOrder, parent: int) -> None:
        me = self.hl(parent, "O", True)
        self.out.append(
            seg("PRF", order.po_number, opt(order.release_number), "", opt_date(order.po_date))
        )
        self.out += [ref_segment(r) for r in order.references]
        for party in order.parties:
            self.out += party_segments(party)
        for tare in order.tares:
            self._tare(tare, me)
        for pack in order.packs:
            self._pack(pack, me)
        for item in order.items:
            self._item(item, me)

    def _tare(self, tare: Tare, parent: int) -> None:
        me = self.hl(parent, "T", True)
        if tare.packaging_code or tare.gross_weight is not None:
            self.out.append(_td1(tare.packaging_code, tare.gross_weight, tare.weight_unit))
        if tare.sscc:
            self.out.append(seg("MAN", "GM", "00" + tare.sscc))
        for pack in tare.packs:
            self._pack(pack, me)

    def _pack(self, pack: Pack, parent: int) -> None:
        me = self.hl(parent, "P", True)
        if pack.pack is not None:
            self.out.append(po4_segment(pack.pack))
        if pack.packaging_code or pack.gross_weight is not None:
            self.out.append(_td1(pack.packaging_code, pack.gross_weight, pack.weight_unit))
        if pack.sscc:
            self.out.append(seg("MAN", "GM", "00" + pack.sscc))
        if pack.tracking_number:
            self.out.append(seg("MAN", "CP", pack.tracking_number))
        for item in pack.items:
            self._item(item, me)

    def _item(self, item: ShipmentItem, parent: int) -> None:
        if item.quantity <= 0:  # the model refuses it; a model_copy() does not validate
            raise X12Error(
                f"856 {self.shipment.shipment_id} line {item.line_number or item.sku}: SN102 "
                f"(units shipped) must be more than 0, got {item.quantity}"
            )
        self.hl(parent, "I", False)
        self.units += item.quantity
        self.shipped.append(item.quantity)
        ordered_unit = item.ordered_unit or (
            item.unit if item.ordered_quantity is not None else None
        )
        self.out.append(seg("LIN", opt(item.line_number), *id_pairs(item.identifiers, item.sku)))
        self.out.append(
            seg(
                "SN1",
                opt(item.line_number),
                fmt_decimal(item.quantity),
                item.unit,
                "",
                opt_dec(item.ordered_quantity),
                opt(ordered_unit),
                "",
                opt(item.status_code),
            )
        )
        if item.pack is not None:
            self.out.append(po4_segment(item.pack))
        self.out += [pid_segment(d) for d in item.descriptions]
        self.out += [ref_segment(r) for r in item.references]


def _common_code(packages: list[Tare | Pack]) -> str | None:
    """The packaging code all ``packages`` share (TD101 for their count), else None: a
    mixed load (pallets and loose cartons, or CTN25 and BOX25) has no one code to claim."""
    codes = {p.packaging_code for p in packages}
    return codes.pop() if len(codes) == 1 else None


def _td1(packaging_code: str | None, weight: Decimal | None, unit: str) -> Out:
    return seg(
        "TD1",
        opt(packaging_code),
        "1" if packaging_code else "",
        "",
        "",
        "",
        "G" if weight is not None else "",
        opt_dec(weight),
        unit if weight is not None else "",
    )


def write_856(
    shipments: Iterable[Shipment],
    *,
    version: str = "004010",
    interchange: InterchangeEnvelope | None = None,
    group: GroupEnvelope | None = None,
    separators: Separators | None = None,
    timestamp: dt.datetime | None = None,
    first_control_number: int = 1,
) -> bytes:
    """A whole interchange of 856s (the "no partner" envelope unless one is given)."""
    return write_documents(
        "856",
        build_856,
        shipments,
        version=version,
        interchange=interchange,
        group=group,
        separators=separators,
        timestamp=timestamp,
        first_control_number=first_control_number,
    )
