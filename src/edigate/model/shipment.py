"""The canonical ship notice (what an X12 856 is written from).

Two hierarchies, one per shipment (BSN05, ``structure_code``):

- ``0001`` pick and pack: Shipment -> orders -> optional tares (pallets) -> packs (cartons)
  -> items;
- ``0004`` Shipment, Order, Item (standard pack, drop ship): Shipment -> orders -> items,
  for a sender that does not report its cartons.

Tares and packs carry SSCC-18 numbers, whose GS1 check digit is verified here so a label
misprint is caught before the partner's receiving dock finds it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, model_validator

from .base import Canonical, Code, Count, NonNegative, Text
from .codes import PURPOSE_CODES, Purpose, fill_coded
from .common import FOB, Carrier, Description, Equipment, Identifier, PackDetail, Party, Reference
from .lines import ItemIds


def gs1_check_digit(digits: str) -> int:
    """GS1 mod-10 check digit of ``digits`` (the number without its check digit)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        total += int(ch) * (3 if i % 2 == 0 else 1)
    return (10 - total % 10) % 10


def _strip_ai(value: Any) -> Any:
    # Accept "(00)" + 18 digits or "00" + 18 digits (the form MAN*GM carries).
    if isinstance(value, str):
        v = value.replace("(", "").replace(")", "").replace(" ", "")
        if len(v) == 20 and v.startswith("00"):
            return v[2:]
        return v
    return value


def _check_sscc(value: str) -> str:
    if len(value) != 18 or not value.isdigit():
        raise ValueError(f"SSCC {value!r} must be 18 digits")
    expected = gs1_check_digit(value[:17])
    if int(value[17]) != expected:
        raise ValueError(
            f"SSCC {value} has check digit {value[17]}, but GS1 mod-10 gives {expected}"
        )
    return value


#: An SSCC-18 with a valid GS1 check digit (the "00" application identifier is stripped).
SSCC = Annotated[str, BeforeValidator(_strip_ai), AfterValidator(_check_sscc)]


def _check_shipped(value: Decimal) -> Decimal:
    if value <= 0:
        raise ValueError(
            f"SN102 (units shipped) must be more than 0, got {value}; leave out an item that "
            "did not ship"
        )
    return value


#: Units shipped on an item line: more than 0, since an 856 item line says "this shipped"
#: (the model has no "shipped as zero" line; a cancelled or backordered line is not on it).
Shipped = Annotated[
    Decimal,
    Field(allow_inf_nan=False, json_schema_extra={"exclusiveMinimum": 0}),
    AfterValidator(_check_shipped),
]


class ShipmentItem(ItemIds, Canonical):
    """An item level (HL I): LIN identifiers, SN1 quantities, PID descriptions."""

    line_number: Text | None = Field(None, description="LIN01 / SN101: the PO line")
    sku: Text | None = Field(None, description="our internal SKU (the ERP's item number)")
    identifiers: list[Identifier] = Field(default_factory=list, description="LIN pairs")
    quantity: Shipped = Field(description="SN102 units shipped, more than 0")
    unit: Code = Field(description="SN103")
    ordered_quantity: NonNegative | None = Field(None, description="SN105")
    ordered_unit: Code | None = Field(None, description="SN106")
    status_code: Code | None = Field(None, description="SN108, e.g. AC, IB")
    descriptions: list[Description] = Field(default_factory=list, description="PID")
    pack: PackDetail | None = Field(None, description="PO4")
    references: list[Reference] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _identified(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("identifiers") and not data.get("sku"):
            raise ValueError("a shipped item needs at least one identifier (LIN02/LIN03) or a sku")
        return data


class Pack(Canonical):
    """A pack level (HL P): a carton, with its SSCC-18 and the items in it."""

    sscc: SSCC | None = Field(None, description="MAN*GM (written with the 00 AI)")
    tracking_number: Text | None = Field(None, description="MAN*CP carrier package ID")
    packaging_code: Code | None = Field(None, description="TD101, e.g. CTN25")
    gross_weight: NonNegative | None = Field(None, description="TD107")
    weight_unit: Code = Field("LB", description="TD108")
    pack: PackDetail | None = Field(None, description="PO4")
    items: list[ShipmentItem] = Field(min_length=1)


class Tare(Canonical):
    """A tare level (HL T): a pallet, with its SSCC-18 and the packs on it."""

    sscc: SSCC | None = Field(None, description="MAN*GM")
    packaging_code: Code | None = Field(None, description="TD101, e.g. PLT94")
    gross_weight: NonNegative | None = Field(None, description="TD107")
    weight_unit: Code = Field("LB", description="TD108")
    packs: list[Pack] = Field(min_length=1)


#: BSN05 (code list 1005) of each hierarchy written: pick and pack, and Shipment, Order, Item.
PICK_AND_PACK: Final = "0001"
ORDER_ITEM: Final = "0004"
StructureCode = Literal["0001", "0004"]
_STRUCTURES = {PICK_AND_PACK: "pick and pack", ORDER_ITEM: "Shipment, Order, Item"}


class ShipmentOrder(Canonical):
    """An order level (HL O): the PO being shipped and its tares or packs, or its items."""

    po_number: Text = Field(description="PRF01")
    po_date: dt.date | None = Field(None, description="PRF04")
    release_number: Text | None = Field(None, description="PRF02")
    references: list[Reference] = Field(default_factory=list, description="REF, e.g. DP, IA")
    parties: list[Party] = Field(default_factory=list, description="N1, e.g. BY store")
    tares: list[Tare] = Field(default_factory=list)
    packs: list[Pack] = Field(default_factory=list, description="packs not on a tare")
    items: list[ShipmentItem] = Field(
        default_factory=list,
        description=(
            "items directly under the order (HL I under HL O, BSN05 0004), for a shipment "
            "whose cartons are not reported; instead of tares and packs, never beside them"
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _ships_something(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        po = data.get("po_number")
        if data.get("items") and (data.get("tares") or data.get("packs")):
            raise ValueError(
                f"order {po} gives both items and tares or packs: an order ships either its "
                "items directly (BSN05 0004) or its packs (pick and pack, BSN05 0001)"
            )
        if not data.get("items") and not data.get("tares") and not data.get("packs"):
            raise ValueError(
                f"order {po} ships nothing: give tares or packs (pick and pack), or items "
                "(Shipment, Order, Item)"
            )
        return data

    @property
    def structure_code(self) -> StructureCode:
        """The BSN05 this order's hierarchy needs: 0004 for items directly under it."""
        return ORDER_ITEM if self.items else PICK_AND_PACK

    def all_packs(self) -> list[Pack]:
        """Packs on tares, then loose packs (none for an order that lists its items)."""
        return [p for t in self.tares for p in t.packs] + list(self.packs)

    def packed_items(self) -> list[tuple[Pack | None, ShipmentItem]]:
        """Every item with the pack it is in (None for an item directly under the order):
        what a template iterates to render both hierarchies."""
        return [(p, i) for p in self.all_packs() for i in p.items] + [(None, i) for i in self.items]


def _data_structure(order: Any) -> StructureCode:
    """The structure of an order not yet validated (a dict, or a ShipmentOrder)."""
    if isinstance(order, ShipmentOrder):
        return order.structure_code
    return ORDER_ITEM if isinstance(order, dict) and order.get("items") else PICK_AND_PACK


def _same_structure(order: ShipmentOrder, info: ValidationInfo) -> ShipmentOrder:
    """An order's hierarchy must be the one BSN05 says (one per shipment)."""
    code = info.data.get("structure_code")
    if code is not None and order.structure_code != code:
        raise ValueError(
            f"order {order.po_number} is {_STRUCTURES[order.structure_code]} (BSN05 "
            f"{order.structure_code}), but the shipment is {code} ({_STRUCTURES[code]}: its "
            "structure_code, or its first order's structure when it gives none); one shipment "
            "uses one structure"
        )
    return order


class Shipment(Canonical):
    """An advance ship notice; written as an 856 (BSN05 0001 pick and pack, or 0004)."""

    document_type: Literal["shipment"] = "shipment"
    purpose: Purpose = Field(Purpose.ORIGINAL, description="friendly form of purpose_code")
    purpose_code: Code = Field("00", description="BSN01")
    shipment_id: Text = Field(description="BSN02")
    date: dt.date = Field(description="BSN03")
    time: dt.time | None = Field(
        None, description="BSN04: when the notice was made (the 856 needs it; cXML and CSV not)"
    )
    structure_code: StructureCode = Field(
        PICK_AND_PACK,
        description=(
            "BSN05 (code list 1005). 0001 = Shipment, Order, Packaging, Item: the pick and "
            "pack structure, orders with tares and/or packs (VICS). 0004 = Shipment, Order, "
            "Item: orders with items directly under them. When absent, the code of the "
            "first order's structure; every order must have the structure it names. 0002 "
            "(Shipment, Order, Item, Packaging) is not written."
        ),
    )
    ship_date: dt.date | None = Field(None, description="DTM*011 shipped")
    estimated_delivery_date: dt.date | None = Field(None, description="DTM*017")
    carrier: Carrier | None = Field(None, description="TD5")
    equipment: list[Equipment] = Field(default_factory=list, description="TD3")
    bill_of_lading: Text | None = Field(None, description="REF*BM")
    pro_number: Text | None = Field(None, description="REF*CN")
    tracking_numbers: list[Text] = Field(default_factory=list, description="REF*2I")
    packaging_code: Code | None = Field(
        None,
        description=(
            "TD101, e.g. PLT94 or CTN25. When both it and lading_quantity are absent, the "
            "packaging code the outermost packages share (none if they differ)"
        ),
    )
    lading_quantity: Count | None = Field(
        None,
        description=(
            "TD102; defaults to the outermost packages when written: the tares (pallets) "
            "plus the packs (cartons) not on a tare. A 0004 shipment has no packages to "
            "count, so its 856 needs it stated"
        ),
    )
    gross_weight: NonNegative | None = Field(None, description="TD1 G")
    net_weight: NonNegative | None = Field(None, description="TD1 N")
    weight_unit: Code = Field("LB", description="TD108")
    fob: FOB | None = None
    parties: list[Party] = Field(default_factory=list, description="N1: SF ship from, ST ...")
    references: list[Reference] = Field(default_factory=list, description="other REFs")
    orders: list[Annotated[ShipmentOrder, AfterValidator(_same_structure)]] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _coded(cls, data: Any) -> Any:
        return fill_coded(data, "purpose", "purpose_code", PURPOSE_CODES, Purpose.OTHER, "00")

    @model_validator(mode="before")
    @classmethod
    def _structured(cls, data: Any) -> Any:
        """An ERP that does not state BSN05 gets the code of its first order's structure (so
        a pick and pack file from before 0004 existed reads as it did)."""
        if isinstance(data, dict) and data.get("structure_code") is None:
            orders = data.get("orders")
            if isinstance(orders, list) and orders:
                return {**data, "structure_code": _data_structure(orders[0])}
        return data

    def outermost_packages(self) -> list[Tare | Pack]:
        """What the carrier counts (TD102): each order's tares, then its packs not on one."""
        out: list[Tare | Pack] = []
        for order in self.orders:
            out += order.tares
            out += order.packs
        return out

    @model_validator(mode="after")
    def _consistent(self) -> Shipment:
        if (
            self.gross_weight is not None
            and self.net_weight is not None
            and self.net_weight > self.gross_weight
        ):
            raise ValueError(
                f"net weight {self.net_weight} exceeds gross weight {self.gross_weight}"
            )
        if (
            self.ship_date is not None
            and self.estimated_delivery_date is not None
            and self.estimated_delivery_date < self.ship_date
        ):
            raise ValueError(
                f"estimated delivery {self.estimated_delivery_date} is before the ship date "
                f"{self.ship_date}"
            )
        seen: dict[str, str] = {}
        for order in self.orders:
            for where, sscc in _ssccs(order):
                if sscc in seen:
                    raise ValueError(f"SSCC {sscc} used twice ({seen[sscc]} and {where})")
                seen[sscc] = where
        return self


def _ssccs(order: ShipmentOrder) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for t_index, tare in enumerate(order.tares):
        if tare.sscc:
            out.append((f"order {order.po_number} tare {t_index + 1}", tare.sscc))
        for p_index, pack in enumerate(tare.packs):
            if pack.sscc:
                out.append(
                    (f"order {order.po_number} tare {t_index + 1} pack {p_index + 1}", pack.sscc)
                )
    for p_index, pack in enumerate(order.packs):
        if pack.sscc:
            out.append((f"order {order.po_number} pack {p_index + 1}", pack.sscc))
    return out
