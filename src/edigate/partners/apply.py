"""Run a partner's map on a canonical order: SKUs, units, codes, defaults, value rules.

The translator gives the order as the partner sent it; this gives the order as our ERP
wants it. What the partner sent is kept: item IDs stay on the line next to our ``sku``, and
a converted line keeps its original figures in ``as_sent``. A line the map rejects is left
out of the ERP order and reported, so the 855 can say IR for it.

Outbound (:func:`apply_outbound`) is the reverse for what the ERP answers: an OrderAck,
Shipment or Invoice in our SKUs and units becomes one in the partner's item IDs and units,
echoing the partner's own figures (``as_sent``) where ours convert back to them exactly.
An invoice keeps the ERP's total: a price of theirs that would bill another line amount is
not echoed, and an invoice whose total would still change is refused.

Usage::

    mapped = apply_inbound(order, partner)
    if mapped.order is None: ...          # rejected as a whole: mapped.errors say why
    mapped.rejected_lines                 # {line index: reason}

    out = apply_outbound(ack, partner, {"4500012345": erp_order})
    out.document                          # None when a line cannot be said in their terms
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated, Any, Generic, NotRequired, TypeVar, cast

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from ..model import Invoice, Order, OrderAck, OrderLine, RejectedLine, Shipment
from ..model.base import Canonical, constructor, rebuilt
from ..model.codes import priced_amount
from ..model.common import PackDetail
from ..model.invoice import cents
from ..model.order import AsSent
from .errors import UomError
from .fields import FieldPath, get_value
from .registry import Partner
from .rules import MapIssue, RuleEngine
from .uom import Converted


@dataclass
class MappedOrder:
    """The map's result. ``order`` is None when the whole order is rejected."""

    order: Order | None
    issues: list[MapIssue] = field(default_factory=list)
    rejected_lines: dict[int, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[MapIssue]:
        return [i for i in self.issues if i.severity == "error"]


def apply_inbound(order: Order, partner: Partner) -> MappedOrder:
    """Map ``order`` from the partner's terms into ours (a new Order; the input is unchanged).

    Only what the map can touch is turned into dicts and validated again: the line fields
    the SKU and unit steps write, and the fields the map's codes, defaults and rules name
    (:meth:`RuleEngine.touched_fields`). Everything else is carried over as the already
    validated values of ``order`` (shared, as the models are never changed in place).
    """
    issues: list[MapIssue] = []
    rejected: dict[int, str] = {}
    order_fields, line_fields = partner.rules.touched_fields("inbound")
    kept: list[int] = []
    lines: list[dict[str, Any]] = []
    reject_order = False
    refusals: list[RejectedLine] = []
    for index, line in enumerate(order.lines):
        data = _plain_fields(line, line_fields)
        refusal, whole_order = _map_line(partner, index, line, data, issues)
        if refusal is None:
            kept.append(index)
            lines.append(data)
            continue
        rejected[index] = refusal.message
        refusals.append(RejectedLine(line=line, code=refusal.code, reason=refusal.message))
        reject_order = reject_order or whole_order
    if reject_order:
        return MappedOrder(None, issues, rejected)
    if order.lines and not lines:
        issues.append(
            _issue("error", "no_lines", "every line of the order was rejected by the map")
        )
        return MappedOrder(None, issues, rejected)
    document = _plain_fields(order, order_fields)
    document["lines"] = lines
    applied = partner.rules.apply_in_place(document, "inbound")
    issues.extend(applied.issues)
    if applied.errors:
        return MappedOrder(None, issues, rejected)
    if refusals:
        applied.document["rejected_lines"] = refusals
    touched = _touched_model(order_fields, line_fields)
    if touched is not None:
        try:  # validate only what the map may have changed, then lay it over the input
            part = touched.validate_python(applied.document)
        except ValidationError:
            pass  # the whole order, below, reports it as it always has
        else:
            return MappedOrder(_laid_over(order, part, kept), issues, rejected)
    result = _merged(order, applied.document)
    result["lines"] = [
        _merged(order.lines[index], line) for index, line in zip(kept, lines, strict=True)
    ]
    try:
        mapped = Order.model_validate(result)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            issues.append(_issue("error", "invalid_result", f"{where}: {err['msg']}", path=where))
        return MappedOrder(None, issues, rejected)
    return MappedOrder(mapped, issues, rejected)


def _plain_fields(model: BaseModel, names: frozenset[str]) -> dict[str, Any]:
    """``model.model_dump(include=names, exclude_none=True)``, without its cost per call
    (which, for a few fields of each of a dozen lines, is most of the map's time)."""
    values = model.__dict__
    plain: dict[str, Any] = {}
    for name in names:
        value = values.get(name)
        if value is None:
            continue
        if isinstance(value, BaseModel):
            plain[name] = value.model_dump(exclude_none=True)
        elif isinstance(value, list):
            plain[name] = [
                v.model_dump(exclude_none=True) if isinstance(v, BaseModel) else v for v in value
            ]
        elif isinstance(value, dict):
            plain[name] = model.model_dump(include={name}, exclude_none=True)[name]
        else:
            plain[name] = value
    return plain


def _merged(model: BaseModel, changed: dict[str, Any]) -> dict[str, Any]:
    """``model``'s set values (None left out, as ``model_dump(exclude_none=True)`` would),
    with ``changed`` on top: validating it checks only what is a dict or a new value."""
    merged = {k: v for k, v in model.__dict__.items() if v is not None}
    merged.update(changed)
    return merged


#: Order fields the Order's own before-validator reads (their code/name pairs are completed
#: from each other): a map touching one of them needs the whole order validated again.
_ORDER_CODED = frozenset({"purpose", "purpose_code", "order_type", "order_type_code"})
#: The line fields :func:`_map_line` writes (SKU, unit conversion).
_LINE_WRITES = frozenset({"sku", "as_sent", "quantity", "unit", "unit_price"})


@functools.lru_cache(maxsize=64)
def _touched_model(
    order_fields: frozenset[str], line_fields: frozenset[str]
) -> TypeAdapter[dict[str, Any]] | None:
    """A validator of only the fields a map may change: the order's ``order_fields`` and
    its ``lines``, each with ``line_fields`` and what the SKU and unit steps write.

    Each field is declared as in Order / OrderLine (same type and constraints, same names,
    so the same values and the same errors), but optional, in a TypedDict: validation gives
    a dict of the fields the map's document holds, validated (no model instance is made
    for a part that is laid over the input at once). None when the shortcut does not apply
    (a model-level validator reads a touched field); then the whole order is validated.
    """
    if order_fields & _ORDER_CODED or not _only_validators(Order, {"_coded"}):
        return None
    if not _only_validators(OrderLine, set()):
        return None
    line = _optional_fields(OrderLine, line_fields | _LINE_WRITES, "TouchedLine")
    if line is None:
        return None
    order = _optional_fields(
        Order,
        order_fields,
        "TouchedOrder",
        lines=list[line],  # type: ignore[valid-type]
        rejected_lines=list[RejectedLine],
    )
    return None if order is None else TypeAdapter(order)


def _only_validators(model: type[BaseModel], names: set[str]) -> bool:
    return set(model.__pydantic_decorators__.model_validators) <= names


#: ``typing_extensions.TypedDict`` (pydantic needs it before Python 3.12), called with
#: fields known only at run time.
_TYPED_DICT: Any = TypedDict


def _optional_fields(model: type[BaseModel], names: frozenset[str], label: str, **more: Any) -> Any:
    """A TypedDict of ``model``'s fields ``names`` (plus ``more``), none of them required,
    configured as the canonical models are (unknown keys refused)."""
    fields: dict[str, Any] = {name: NotRequired[tp] for name, tp in more.items()}
    for name in sorted(names):
        info = model.model_fields.get(name)
        if info is None or info.alias or info.validation_alias or info.discriminator:
            return None
        if model.__pydantic_decorators__.field_validators:
            return None
        tp: Any = info.annotation
        if info.metadata:
            tp = Annotated[(tp, *info.metadata)]
        fields[name] = NotRequired[tp]
    typed = _TYPED_DICT(label, fields)
    typed.__pydantic_config__ = _CONFIG
    return typed


_CONFIG = ConfigDict(**Canonical.model_config)


def _laid_over(order: Order, part: dict[str, Any], kept: list[int]) -> Order:
    """``order`` with the validated ``part`` on top, line by line (``kept`` are the indexes
    of the lines ``part["lines"]`` stand for)."""
    part["lines"] = [
        rebuilt(order.lines[index], line) for index, line in zip(kept, part["lines"], strict=True)
    ]
    return rebuilt(order, part)


def _map_line(
    partner: Partner,
    index: int,
    source: OrderLine,
    line: dict[str, Any],
    issues: list[MapIssue],
) -> tuple[MapIssue | None, bool]:
    """Resolve the SKU and convert the unit of ``source``, writing what changes to ``line``.

    Returns ``(refusal, whole_order)``: the error that refuses the line, None when it is
    kept.
    """
    sku: str | None = None
    if partner.xref is not None:
        found = partner.xref.resolve([(i.qualifier, i.value) for i in source.identifiers])
        if found.ok:
            sku = found.sku
            line["sku"] = sku
        elif found.action == "pass_through":
            issues.append(_issue("warning", "unknown_item", found.message or "", index=index))
        else:
            message = found.message or "unknown item"
            refusal = _issue("error", f"{found.status}_item", message, index=index)
            issues.append(refusal)
            return refusal, found.action == "reject_order"
    quantity = source.quantity
    unit = source.unit
    if quantity is not None and not quantity:
        issues.append(_issue("warning", "zero_quantity", "quantity 0 ordered", index=index))
    if quantity is None or unit is None:
        return None, False
    price = source.unit_price
    try:
        converted = partner.uom.to_internal(quantity, unit, price, sku=sku)
    except UomError as exc:
        refusal = _issue("error", "unit_conversion", str(exc), index=index)
        issues.append(refusal)
        return refusal, False
    if (converted.quantity, converted.unit, converted.unit_price) != (quantity, unit, price):
        # Built, not validated: the values are the line's own, validated for the same types.
        line["as_sent"] = _as_sent(
            {"quantity", "unit"} if price is None else {"quantity", "unit", "unit_price"},
            quantity=quantity,
            unit=unit,
            unit_price=price,
        )
        line["quantity"], line["unit"] = converted.quantity, converted.unit
        if converted.unit_price is not None:
            line["unit_price"] = converted.unit_price
        if source.pack is not None and quantity and converted.unit != unit:
            disagreement = _pack_disagrees(source.pack, unit, quantity, converted)
            if disagreement is not None:
                issues.append(_issue("warning", "pack_mismatch", disagreement, index=index))
    return None, False


def _pack_disagrees(
    pack: PackDetail, unit: str, quantity: Decimal, converted: Converted
) -> str | None:
    """Why the line's own PO4 contradicts the map's conversion of ``quantity`` ``unit``, if
    it does: a partner whose case holds 6 while the map says 12 would get twice what it
    ordered. Only a pack counted in our unit is compared (``PO4*6*1*EA``, ``PO4*12``)."""
    internal = converted.unit
    if pack.pack is None or pack.size_unit not in (None, internal):
        return None
    per_pack = pack.pack if pack.size is None or pack.size_unit is None else pack.pack * pack.size
    if per_pack * quantity == converted.quantity:  # no division on the usual, agreeing path
        return None
    factor = converted.quantity / quantity
    return (
        f"PO4 says {Decimal(per_pack).normalize():f} {internal} per pack, but the map "
        f"converts 1 {unit} to {factor.normalize():f} {internal}: check uom.conversions (or "
        "the partner's PO4)"
    )


_as_sent = constructor(AsSent)


def _issue(
    severity: str, code: str, message: str, *, index: int | None = None, path: str | None = None
) -> MapIssue:
    return MapIssue(severity, code, message, path=path, line_index=index)  # type: ignore[arg-type]


# --- outbound ----------------------------------------------------------------------------------

D = TypeVar("D", bound=OrderAck | Shipment | Invoice)

#: The line models and the fields each may gain from the order line it answers.
_LINE_MODELS: dict[type[BaseModel], str] = {OrderAck: "lines", Invoice: "lines"}


@dataclass
class MappedOutbound(Generic[D]):
    """The reverse map's result. ``document`` is None when any line could not be mapped."""

    document: D | None
    issues: list[MapIssue] = field(default_factory=list)

    @property
    def errors(self) -> list[MapIssue]:
        return [i for i in self.issues if i.severity == "error"]


def apply_outbound(
    document: D, partner: Partner, orders: Mapping[str, Order] | None = None
) -> MappedOutbound[D]:
    """Map ``document`` from our terms into the partner's (a new document; the input is
    unchanged).

    ``orders`` are the mapped orders the ERP received, by PO number. A line answering one of
    their lines (same line number, or the only line with its SKU) takes the partner's item
    IDs and unit from it: the quantity converts back to the unit they ordered in, and where
    our figures are the ones their order became, their own quantity and price are echoed
    exactly. Without an order line, item IDs come from the SKU table and our unit is kept;
    when ``orders`` were looked up (not None), that is a warning: the partner never sent
    that PO, or that line on it. An invoice line echoes their price only where it bills
    the same line amount (else a warning), and an invoice whose total in their terms is not
    the one the ERP booked is an error (``total_changed``).
    Then the map's outbound codes, defaults and rules run.
    """
    found = orders or {}
    issues: list[MapIssue] = []
    data = document.model_dump(exclude_none=True)
    total = document.total_amount if isinstance(document, Invoice) else None
    unknown: set[str] = set()
    for where, index, line, po_number, priced in _lines(data):
        order = found.get(po_number or "")
        source = _order_line(order, line)
        _line_out(partner, line, source, where, index, priced, issues, invoiced=total is not None)
        if orders is None or not po_number:
            continue
        if order is None and po_number not in unknown:
            unknown.add(po_number)
            issues.append(
                _issue(
                    "warning",
                    "unknown_po",
                    f"PO {po_number}: no order of {partner.id}'s with this number reached the "
                    "ERP through us; item IDs come from the SKU table and our units are kept",
                )
            )
        elif order is not None and source is None:
            number = line.get("line_number")
            label = f"line {number}" if number else where
            issues.append(
                _issue(
                    "warning",
                    "unknown_line",
                    f"{label} is not on PO {po_number} as {partner.id} sent it: item IDs come "
                    "from the SKU table and our unit is kept",
                    index=index,
                    path=where,
                )
            )
    _order_parties_out(partner.rules, data, issues)
    if any(i.severity == "error" for i in issues):
        return MappedOutbound(None, issues)
    applied = partner.rules.apply(data, "outbound")
    issues.extend(applied.issues)
    if applied.errors:
        return MappedOutbound(None, issues)
    result = applied.document
    _drop_replaced_codes(partner.rules, result)
    _drop_foreign_fields(type(document), data, result)
    if total is not None:
        result.pop("total_amount", None)  # restated from the partner's figures below
    try:
        mapped = cast(D, type(document).model_validate(result))
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            issues.append(_issue("error", "invalid_result", f"{where}: {err['msg']}", path=where))
        return MappedOutbound(None, issues)
    if isinstance(mapped, Invoice) and total is not None and mapped.total_amount != total:
        issues.append(
            _issue(
                "error",
                "total_changed",
                f"mapped for {partner.id} (their units, prices and map rules) the total "
                f"would be {mapped.total_amount}, but the ERP booked {total}; an invoice goes "
                "out only with the total the ERP booked",
                path="total_amount",
            )
        )
        return MappedOutbound(None, issues)
    return MappedOutbound(mapped, issues)


def _lines(data: dict[str, Any]) -> Iterator[tuple[str, int | None, dict[str, Any], Any, bool]]:
    """Every line-like dict: (where, index in ``lines``, the line, its PO number, priced)."""
    if data.get("document_type") == "shipment":
        for o_index, order in enumerate(data.get("orders", [])):
            po = order.get("po_number")
            for t_index, tare in enumerate(order.get("tares", [])):
                for p_index, pack in enumerate(tare.get("packs", [])):
                    for i_index, item in enumerate(pack.get("items", [])):
                        where = f"orders[{o_index}].tares[{t_index}].packs[{p_index}]"
                        yield f"{where}.items[{i_index}]", None, item, po, False
            for p_index, pack in enumerate(order.get("packs", [])):
                for i_index, item in enumerate(pack.get("items", [])):
                    where = f"orders[{o_index}].packs[{p_index}].items[{i_index}]"
                    yield where, None, item, po, False
            for i_index, item in enumerate(order.get("items", [])):  # BSN05 0004: no packs
                yield f"orders[{o_index}].items[{i_index}]", None, item, po, False
        return
    for index, line in enumerate(data.get("lines", [])):
        yield f"lines[{index}]", index, line, data.get("po_number"), True


def _order_parties_out(rules: RuleEngine, data: dict[str, Any], issues: list[MapIssue]) -> None:
    """An 856's order level (HL O) has parties of its own (the store a PO ships to, N1*ST
    or BY): the map's party codes turn ours into the partner's there too, as they do at the
    shipment level, rather than sending our own location IDs (in place)."""
    orders = data.get("orders") if data.get("document_type") == "shipment" else None
    if not orders:
        return
    party_codes = RuleEngine(
        [
            table
            for table in rules.codes
            if "outbound" in table.flows
            and table.source.scope == table.target.scope == "order"
            and table.source.steps[0].name == table.target.steps[0].name == "parties"
        ],
        lines_field=rules.lines_field,
    )
    if not party_codes.codes:
        return
    for o_index, order in enumerate(orders):
        if not order.get("parties"):
            continue
        applied = party_codes.apply_in_place({"parties": order["parties"]}, "outbound")
        for issue in applied.issues:
            at = f"orders[{o_index}].{issue.path}" if issue.path else f"orders[{o_index}]"
            issues.append(dataclasses.replace(issue, message=f"{at}: {issue.message}", path=at))
        _drop_replaced_codes(party_codes, applied.document)
        order["parties"] = applied.document["parties"]


def _line_out(
    partner: Partner,
    line: dict[str, Any],
    source: OrderLine | None,
    where: str,
    index: int | None,
    priced: bool,
    issues: list[MapIssue],
    *,
    invoiced: bool = False,
) -> None:
    """Give one line the partner's item IDs and unit (in place); ``source`` is the order
    line it answers, if any. An ``invoiced`` line echoes the partner's price only where it
    bills the same amount as ours (:func:`_convert`)."""
    sku: str | None = line.get("sku")
    label = f"line {line['line_number']}" if line.get("line_number") else where
    if sku:
        label += f" (SKU {sku})"

    def error(code: str, message: str) -> None:
        issues.append(_issue("error", code, f"{label}: {message}", index=index, path=where))

    if not line.get("identifiers"):
        if source is not None and source.identifiers:
            line["identifiers"] = [i.model_dump(exclude_none=True) for i in source.identifiers]
        elif sku:
            ids = partner.xref.to_partner(sku) if partner.xref is not None else []
            if not ids:
                table = partner.xref.source if partner.xref is not None else "no SKU table"
                error(
                    "unknown_sku",
                    f"{partner.id} has no item ID for it ({table}) and the line carries none",
                )
                return
            line["identifiers"] = [{"qualifier": i.qualifier, "value": i.value} for i in ids]
    if source is None:
        return
    if source.line_number is not None:
        line["line_number"] = source.line_number  # theirs (PO101), as they match lines by it
    if priced and line.get("price_basis") is None and source.price_basis is not None:
        line["price_basis"] = source.price_basis
    # What they ordered in: as sent where the map converted it, else our figures (their
    # unit was ours); a line of ours in another unit converts to it, or is refused.
    as_sent = source.as_sent
    theirs = as_sent if as_sent is not None and as_sent.unit is not None else source
    unit: str | None = line.get("unit")
    if unit is None or theirs.unit is None:
        return
    ours = sku or source.sku
    ordered = _Ordered(theirs.quantity, theirs.unit, theirs.unit_price, source.unit_price)
    try:
        held = _convert(
            partner, line, "quantity", "unit", "unit_price", unit, ours, ordered, invoiced=invoiced
        )
        if held is not None:
            issues.append(
                _issue(
                    "warning",
                    "partner_price_not_echoed",
                    f"{label}: billed at {held.ours} per {held.unit} (our {held.our_price} per "
                    f"{held.our_unit} in their unit), not {partner.id}'s own {held.theirs}: "
                    f"{held.quantity} x {held.theirs} is {held.their_amount}, but the ERP "
                    f"billed {held.our_amount} for the line",
                    index=index,
                    path=f"{where}.unit_price",
                )
            )
        for status in line.get("statuses", []):
            _convert(partner, status, "quantity", "unit", "unit_price", unit, ours, ordered)
        _convert(partner, line, "ordered_quantity", "ordered_unit", None, unit, ours, ordered)
    except UomError as exc:
        error("unit_conversion", str(exc))


@dataclasses.dataclass(frozen=True, slots=True)
class _Ordered:
    """A line as the partner ordered it (their quantity, unit and price), and our price for
    it (``ours_price``: a price still equal to it is echoed as theirs)."""

    quantity: Decimal | None
    unit: str
    unit_price: Decimal | None
    ours_price: Decimal | None


@dataclasses.dataclass(frozen=True, slots=True)
class _HeldPrice:
    """The partner's price an invoice line does not echo, as it would bill another amount."""

    theirs: Decimal
    ours: Decimal
    unit: str
    quantity: Decimal
    their_amount: Decimal
    our_amount: Decimal
    our_price: Decimal
    our_unit: str


def _convert(
    partner: Partner,
    at: dict[str, Any],
    quantity_key: str,
    unit_key: str,
    price_key: str | None,
    line_unit: str,
    sku: str | None,
    ordered: _Ordered,
    *,
    invoiced: bool = False,
) -> _HeldPrice | None:
    """Convert ``at``'s quantity (in its unit, else the line's) and price to the unit the
    partner ordered in; echo their exact figures where ours are what theirs became.

    A price without a quantity (an IP status stating only the new price) converts too:
    PO104 is read against the line's unit, which becomes theirs. On an ``invoiced`` line
    their price is echoed only where it bills the same amount to the cent (96.50 a case of
    6 became 16.0833 each: 600 EA is 9649.98, 100 CA at 96.50 would be 9650.00), as an
    invoice never bills other than what the ERP booked; else ours is kept, converted, and
    returned as held."""
    quantity: Decimal | None = at.get(quantity_key)
    price: Decimal | None = at.get(price_key) if price_key else None
    if quantity is None and price is None:
        return None
    unit: str = at.get(unit_key) or line_unit
    converted: Converted = partner.uom.to_partner(
        Decimal(0) if quantity is None else quantity,
        unit,
        price,
        partner_unit=ordered.unit,
        sku=sku,
    )
    new_quantity = converted.quantity
    if ordered.quantity is not None and new_quantity == ordered.quantity:
        new_quantity = ordered.quantity
    new_price = converted.unit_price
    held = None
    if (
        price is not None
        and unit != ordered.unit
        and ordered.unit_price is not None
        and price == ordered.ours_price
    ):
        new_price = ordered.unit_price  # their price, not ours times the factor
        if invoiced and quantity is not None and converted.unit_price is not None:
            basis = at.get("price_basis")
            ours = cents(priced_amount(quantity, price, basis))
            theirs = cents(priced_amount(new_quantity, new_price, basis))
            if theirs != ours:
                held = _HeldPrice(
                    new_price,
                    converted.unit_price,
                    converted.unit,
                    new_quantity,
                    theirs,
                    ours,
                    price,
                    unit,
                )
                new_price = converted.unit_price
    if price_key and new_price is not None:
        at[price_key] = new_price
    if at.get(unit_key) is not None or (unit_key == "unit" and quantity is not None):
        at[unit_key] = converted.unit  # a price alone states no ACK03 (no ACK02: P0203)
    if quantity is not None:
        at[quantity_key] = new_quantity
    return held


def _order_line(order: Order | None, line: Mapping[str, Any]) -> OrderLine | None:
    """The order line ``line`` answers: same line number, else the only one with its SKU.

    A line the map refused (``rejected_lines``, as the partner sent it) is answered too,
    by its number: the ERP's IR for it echoes the partner's own IDs and unit."""
    if order is None:
        return None
    sku = line.get("sku")
    number = line.get("line_number")
    if number is not None:
        lines = order.lines + [r.line for r in order.rejected_lines or ()]
        found = [ol for ol in lines if ol.line_number == number]
        if not found and str(number).isdigit():
            found = [
                ol
                for ol in lines
                if ol.line_number is not None
                and ol.line_number.isdigit()
                and int(ol.line_number) == int(number)
            ]
    else:
        found = [ol for ol in order.lines if sku and ol.sku == sku]
    if len(found) != 1:
        return None
    hit = found[0]
    if sku and hit.sku and hit.sku != sku:
        return None  # another item on that line: its IDs and units are not this one's
    return hit


def _drop_replaced_codes(rules: RuleEngine, document: dict[str, Any]) -> None:
    """Outbound, a mapped code replaces ours: the partner sees only their own.

    ``party[ship_to].identifiers[LOC]`` became ``identifiers[92]``; the LOC entry would
    otherwise be the N1's first identifier.
    """
    lines = document.get(rules.lines_field)
    for table in rules.codes:
        if "outbound" not in table.flows or table.target == table.source:
            continue
        ours, theirs = table.target, table.source
        if ours.scope == "order":
            _remove_keyed(ours, theirs, document, None)
        elif isinstance(lines, list):
            for line in lines:
                if isinstance(line, MutableMapping):
                    _remove_keyed(ours, theirs, document, line)


def _remove_keyed(
    ours: FieldPath,
    theirs: FieldPath,
    document: MutableMapping[str, Any],
    line: MutableMapping[str, Any] | None,
) -> None:
    last = ours.steps[-1]
    if last.key is None or get_value(theirs, document, line) is None:
        return
    parent = FieldPath(ours.text, ours.scope, ours.steps[:-1])
    holder = get_value(parent, document, line) if parent.steps else (line or document)
    if not isinstance(holder, MutableMapping):
        return
    items = holder.get(last.name)
    if isinstance(items, list):
        holder[last.name] = [
            i for i in items if not (isinstance(i, Mapping) and i.get(last.key_field) == last.key)
        ]


def _drop_foreign_fields(
    model: type[BaseModel], before: Mapping[str, Any], after: dict[str, Any]
) -> None:
    """A map's defaults are written for orders (``order.currency``): on a document without
    that field (a Shipment has no currency) they do not apply."""
    for key in [k for k in after if k not in before and k not in model.model_fields]:
        del after[key]
    lines_of = _LINE_MODELS.get(model)
    if lines_of is None:
        return
    line_model = model.model_fields[lines_of].annotation
    fields = getattr(line_model, "__args__", (None,))[0]
    known = getattr(fields, "model_fields", None)
    if known is None:
        return
    for line in after.get(lines_of, []):
        if isinstance(line, dict):
            for key in [k for k in line if k not in known]:
                del line[key]
