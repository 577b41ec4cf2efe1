"""The canonical ship notice (what an X12 856 is written from).

Shipment -> orders -> optional tares (pallets) -> packs (cartons) -> items: the pick and
pack hierarchy. Tares and packs carry SSCC-18 numbers, whose GS1 check digit is verified
here so a label misprint is caught before the partner's receiving dock finds it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

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


class ShipmentOrder(Canonical):
    """An order level (HL O): the PO being shipped and its tares or packs."""

    po_number: Text = Field(description="PRF01")
    po_date: dt.date | None = Field(None, description="PRF04")
    release_number: Text | None = Field(None, description="PRF02")
    references: list[Reference] = Field(default_factory=list, description="REF, e.g. DP, IA")
    parties: list[Party] = Field(default_factory=list, description="N1, e.g. BY store")
    tares: list[Tare] = Field(default_factory=list)
    packs: list[Pack] = Field(default_factory=list, description="packs not on a tare")

    @model_validator(mode="before")
    @classmethod
    def _ships_something(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("tares") and not data.get("packs"):
            raise ValueError(f"order {data.get('po_number')} ships nothing: give tares or packs")
        return data

    def all_packs(self) -> list[Pack]:
        """Packs on tares, then loose packs."""
        return [p for t in self.tares for p in t.packs] + list(self.packs)


class Shipment(Canonical):
    """An advance ship notice; written as an 856 (BSN05 0001, pick and pack)."""

    document_type: Literal["shipment"] = "shipment"
    purpose: Purpose = Field(Purpose.ORIGINAL, description="friendly form of purpose_code")
    purpose_code: Code = Field("00", description="BSN01")
    shipment_id: Text = Field(description="BSN02")
    date: dt.date = Field(description="BSN03")
    time: dt.time | None = Field(
        None, description="BSN04: when the notice was made (the 856 needs it; cXML and CSV not)"
    )
    structure_code: Literal["0001"] = Field(
        "0001",
        description=(
            "BSN05. 0001 = Shipment, Order, Packaging, Item (code list 1005): the pick and "
            "pack structure, with or without tares (VICS). 0002 (Shipment, Order, Item, "
            "Packaging) is not written."
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
            "plus the packs (cartons) not on a tare"
        ),
    )
    gross_weight: NonNegative | None = Field(None, description="TD1 G")
    net_weight: NonNegative | None = Field(None, description="TD1 N")
    weight_unit: Code = Field("LB", description="TD108")
    fob: FOB | None = None
    parties: list[Party] = Field(default_factory=list, description="N1: SF ship from, ST ...")
    references: list[Reference] = Field(default_factory=list, description="other REFs")
    orders: list[ShipmentOrder] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _coded(cls, data: Any) -> Any:
        return fill_coded(data, "purpose", "purpose_code", PURPOSE_CODES, Purpose.OTHER, "00")

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
