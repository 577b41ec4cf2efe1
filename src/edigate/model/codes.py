"""Friendly names for the X12 codes the canonical models carry, and the tables between them.

A model keeps both the raw code (what the partner sent, or what goes out) and the friendly
name (what the ERP reads). Codes a table does not know map to ``other``; the raw code is
still kept, so nothing is lost. Each table maps code -> name; the reverse is derived and
used when the ERP gives only the name.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, TypeVar

E = TypeVar("E", bound=enum.StrEnum)


class Purpose(enum.StrEnum):
    """Transaction set purpose (element 353: BEG01, BAK01, BSN01, BIG08)."""

    ORIGINAL = "original"
    CANCELLATION = "cancellation"
    ADD = "add"
    DELETE = "delete"
    CHANGE = "change"
    REPLACE = "replace"
    CONFIRMATION = "confirmation"
    DUPLICATE = "duplicate"
    STATUS = "status"
    RESPONSE = "response"
    REQUEST = "request"
    PROPOSED = "proposed"
    REISSUE = "reissue"
    INFORMATION_COPY = "information_copy"
    DRAFT = "draft"
    OTHER = "other"


PURPOSE_CODES: Mapping[str, Purpose] = {
    "00": Purpose.ORIGINAL,
    "01": Purpose.CANCELLATION,
    "02": Purpose.ADD,
    "03": Purpose.DELETE,
    "04": Purpose.CHANGE,
    "05": Purpose.REPLACE,
    "06": Purpose.CONFIRMATION,
    "07": Purpose.DUPLICATE,
    "08": Purpose.STATUS,
    "11": Purpose.RESPONSE,
    "13": Purpose.REQUEST,
    "16": Purpose.PROPOSED,
    "18": Purpose.REISSUE,
    "22": Purpose.INFORMATION_COPY,
    "24": Purpose.DRAFT,
}


class OrderType(enum.StrEnum):
    """Purchase order type (element 92: BEG02)."""

    STAND_ALONE = "stand_alone"
    NEW_ORDER = "new_order"
    BLANKET = "blanket"
    RELEASE = "release"
    DROP_SHIP = "drop_ship"
    REORDER = "reorder"
    RUSH = "rush"
    EMERGENCY = "emergency"
    CONSIGNED = "consigned"
    CONFIRMATION = "confirmation"
    PROMOTION = "promotion"
    SAMPLE = "sample"
    SPECIAL = "special"
    STANDING = "standing"
    DIRECT_TO_STORE = "direct_to_store"
    PURCHASE_ORDER = "purchase_order"
    SUPPLY_OR_SERVICE = "supply_or_service"
    CHANGE = "change"
    OTHER = "other"


ORDER_TYPE_CODES: Mapping[str, OrderType] = {
    "SA": OrderType.STAND_ALONE,
    "NE": OrderType.NEW_ORDER,
    "BK": OrderType.BLANKET,
    "RL": OrderType.RELEASE,
    "DS": OrderType.DROP_SHIP,
    "RE": OrderType.REORDER,
    "RO": OrderType.RUSH,
    "EO": OrderType.EMERGENCY,
    "CN": OrderType.CONSIGNED,
    "CF": OrderType.CONFIRMATION,
    "PR": OrderType.PROMOTION,
    "SP": OrderType.SAMPLE,
    "OS": OrderType.SPECIAL,
    "ST": OrderType.STANDING,
    "SD": OrderType.DIRECT_TO_STORE,
    "KN": OrderType.PURCHASE_ORDER,
    "SS": OrderType.SUPPLY_OR_SERVICE,
    "CP": OrderType.CHANGE,
}


class AckType(enum.StrEnum):
    """Acknowledgment type (element 587: BAK02)."""

    ACCEPTED_WITH_CHANGES = "accepted_with_changes"  # AC
    ACCEPTED = "accepted"  # AD: with detail, no change
    EXCEPTIONS_ONLY = "exceptions_only"  # AE
    HOLD = "hold"  # AH
    ACCEPTED_NO_DETAIL = "accepted_no_detail"  # AK
    REPLENISHMENT = "replenishment"  # AP
    ACCEPTED_AT = "accepted_at"  # AT
    NOT_NEEDED = "not_needed"  # NA
    REJECTED_WITH_DETAIL = "rejected_with_detail"  # RD
    REJECTED_EXCEPTIONS_ONLY = "rejected_exceptions_only"  # RF
    REJECTED = "rejected"  # RJ: no detail
    REJECTED_COUNTER_OFFER = "rejected_counter_offer"  # RO
    OTHER = "other"


ACK_TYPE_CODES: Mapping[str, AckType] = {
    "AC": AckType.ACCEPTED_WITH_CHANGES,
    "AD": AckType.ACCEPTED,
    "AE": AckType.EXCEPTIONS_ONLY,
    "AH": AckType.HOLD,
    "AK": AckType.ACCEPTED_NO_DETAIL,
    "AP": AckType.REPLENISHMENT,
    "AT": AckType.ACCEPTED_AT,
    "NA": AckType.NOT_NEEDED,
    "RD": AckType.REJECTED_WITH_DETAIL,
    "RF": AckType.REJECTED_EXCEPTIONS_ONLY,
    "RJ": AckType.REJECTED,
    "RO": AckType.REJECTED_COUNTER_OFFER,
}


class LineStatusCode(enum.StrEnum):
    """Line item status (element 668: ACK01)."""

    ACCEPTED = "accepted"  # IA
    REJECTED = "rejected"  # IR
    BACKORDERED = "backordered"  # IB
    QUANTITY_CHANGED = "quantity_changed"  # IQ
    PRICE_CHANGED = "price_changed"  # IP
    DATE_CHANGED = "date_changed"  # DR
    ITEM_CHANGED = "item_changed"  # IC: accepted, changes made
    SUBSTITUTED = "substituted"  # IS
    DELETED = "deleted"  # ID
    ON_HOLD = "on_hold"  # IH
    ACCEPTED_AND_SHIPPED = "accepted_and_shipped"  # AC
    ACCEPTED_AND_RELEASED = "accepted_and_released"  # AR
    PARTIAL_BACKORDERED = "partial_backordered"  # BP
    SCHEDULE_PENDING = "schedule_pending"  # SP
    REJECTED_NOT_CONTRACT_ITEM = "rejected_not_contract_item"  # R1
    REJECTED_INVALID_ITEM = "rejected_invalid_item"  # R2
    REJECTED_INVALID_UNIT = "rejected_invalid_unit"  # R3
    REJECTED_NOT_AVAILABLE = "rejected_not_available"  # R4
    OTHER = "other"


LINE_STATUS_CODES: Mapping[str, LineStatusCode] = {
    "IA": LineStatusCode.ACCEPTED,
    "IR": LineStatusCode.REJECTED,
    "IB": LineStatusCode.BACKORDERED,
    "IQ": LineStatusCode.QUANTITY_CHANGED,
    "IP": LineStatusCode.PRICE_CHANGED,
    "DR": LineStatusCode.DATE_CHANGED,
    "IC": LineStatusCode.ITEM_CHANGED,
    "IS": LineStatusCode.SUBSTITUTED,
    "ID": LineStatusCode.DELETED,
    "IH": LineStatusCode.ON_HOLD,
    "AC": LineStatusCode.ACCEPTED_AND_SHIPPED,
    "AR": LineStatusCode.ACCEPTED_AND_RELEASED,
    "BP": LineStatusCode.PARTIAL_BACKORDERED,
    "SP": LineStatusCode.SCHEDULE_PENDING,
    "R1": LineStatusCode.REJECTED_NOT_CONTRACT_ITEM,
    "R2": LineStatusCode.REJECTED_INVALID_ITEM,
    "R3": LineStatusCode.REJECTED_INVALID_UNIT,
    "R4": LineStatusCode.REJECTED_NOT_AVAILABLE,
}

#: Statuses that accept (all or part of) the line, for the BAK02 choice AD / AC / RD.
ACCEPTING_STATUSES = frozenset(
    {
        LineStatusCode.ACCEPTED,
        LineStatusCode.ACCEPTED_AND_SHIPPED,
        LineStatusCode.ACCEPTED_AND_RELEASED,
    }
)


class PartyRole(enum.StrEnum):
    """Entity identifier (element 98: N101)."""

    BUYER = "buyer"  # BY
    SELLER = "seller"  # SE
    SHIP_TO = "ship_to"  # ST
    BILL_TO = "bill_to"  # BT
    SHIP_FROM = "ship_from"  # SF
    MARK_FOR = "mark_for"  # Z7
    VENDOR = "vendor"  # VN
    SUPPLIER = "supplier"  # SU
    REMIT_TO = "remit_to"  # RI
    ORDERED_BY = "ordered_by"  # OB
    BILL_AND_SHIP_TO = "bill_and_ship_to"  # BS
    MANUFACTURER = "manufacturer"  # MF
    CARRIER = "carrier"  # CA
    WAREHOUSE = "warehouse"  # WH
    STORE = "store"  # SN
    DELIVERY_ADDRESS = "delivery_address"  # DA
    END_USER = "end_user"  # EN
    PAYER = "payer"  # PR
    SOLD_TO = "sold_to"  # SO
    CONSIGNEE = "consignee"  # CN
    OTHER = "other"


PARTY_ROLE_CODES: Mapping[str, PartyRole] = {
    "BY": PartyRole.BUYER,
    "SE": PartyRole.SELLER,
    "ST": PartyRole.SHIP_TO,
    "BT": PartyRole.BILL_TO,
    "SF": PartyRole.SHIP_FROM,
    "Z7": PartyRole.MARK_FOR,
    "VN": PartyRole.VENDOR,
    "SU": PartyRole.SUPPLIER,
    "RI": PartyRole.REMIT_TO,
    "OB": PartyRole.ORDERED_BY,
    "BS": PartyRole.BILL_AND_SHIP_TO,
    "MF": PartyRole.MANUFACTURER,
    "CA": PartyRole.CARRIER,
    "WH": PartyRole.WAREHOUSE,
    "SN": PartyRole.STORE,
    "DA": PartyRole.DELIVERY_ADDRESS,
    "EN": PartyRole.END_USER,
    "PR": PartyRole.PAYER,
    "SO": PartyRole.SOLD_TO,
    "CN": PartyRole.CONSIGNEE,
}


class Indicator(enum.StrEnum):
    """Allowance or charge indicator (element 248: SAC01)."""

    ALLOWANCE = "allowance"  # A
    CHARGE = "charge"  # C
    NONE = "none"  # N: no allowance or charge (informational)
    PROMOTION = "promotion"  # P (5010)


INDICATOR_CODES: Mapping[str, Indicator] = {
    "A": Indicator.ALLOWANCE,
    "C": Indicator.CHARGE,
    "N": Indicator.NONE,
    "P": Indicator.PROMOTION,
}
INDICATOR_LETTERS: Mapping[Indicator, str] = {v: k for k, v in INDICATOR_CODES.items()}

#: SAC12 methods of handling that settle outside the invoice (bill back, vendor check,
#: credit to account, paid by vendor): they do not change the invoice total.
OFF_INVOICE_EXCLUDED_METHODS = frozenset({"01", "03", "04", "05"})


def reverse(table: Mapping[str, E]) -> dict[E, str]:
    """Name -> first code that maps to it."""
    out: dict[E, str] = {}
    for code, name in table.items():
        out.setdefault(name, code)
    return out


_REVERSED: dict[int, dict[Any, str]] = {}


def fill_coded(
    data: Any,
    name_field: str,
    code_field: str,
    table: Mapping[str, E],
    other: E,
    default_code: str | None = None,
) -> Any:
    """Before-validator helper: complete a (name, code) pair from whichever was given.

    The name follows from the code through ``table`` (``other`` when unknown); the code
    follows from the name through the reversed table. Both given and disagreeing is an
    error, so a document never says one thing in its code and another in its name.
    """
    if not isinstance(data, dict):
        return data
    code = data.get(code_field)
    name = data.get(name_field)
    if code is None and name is None:
        if default_code is None:
            return data
        code = default_code
    if code is None:
        rev = _REVERSED.get(id(table))
        if rev is None:
            rev = _REVERSED[id(table)] = reverse(table)
        try:
            key = type(other)(str(name))
        except ValueError:
            return data  # let the enum field report the bad name
        code = rev.get(key)
        if code is None:
            raise ValueError(f"{name_field} {name!r} has no X12 code of its own: give {code_field}")
        return {**data, code_field: code}
    if not isinstance(code, str):
        return data  # the str field reports the type error
    expected = table.get(code, other)
    if name is None:
        return {**data, name_field: expected, code_field: code}
    if name != expected and str(name) != expected.value:
        raise ValueError(
            f"{name_field} {name!r} contradicts {code_field} {code!r}, which means "
            f"{expected.value!r}"
        )
    return data if code_field in data else {**data, code_field: code}


#: Price bases (PO105, IT105; code list 639) whose price is for more than one unit.
PRICED_PER = {"HP": Decimal(100), "TP": Decimal(1000)}


def priced_amount(quantity: Decimal, unit_price: Decimal, basis: str | None) -> Decimal:
    """quantity x unit price, for a price per hundred (HP) or per thousand (TP) units too."""
    per = PRICED_PER.get(basis or "")
    amount = quantity * unit_price
    return amount if per is None else amount / per
