"""Run a partner's map on a canonical order: SKUs, units, codes, defaults, value rules.

The translator gives the order as the partner sent it; this gives the order as our ERP
wants it. What the partner sent is kept: item IDs stay on the line next to our ``sku``, and
a converted line keeps its original figures in ``as_sent``. A line the map rejects is left
out of the ERP order and reported, so the 855 can say IR for it.

Usage::

    mapped = apply_inbound(order, partner)
    if mapped.order is None: ...          # rejected as a whole: mapped.errors say why
    mapped.rejected_lines                 # {line index: reason}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from ..model import Order
from .errors import UomError
from .registry import Partner
from .rules import MapIssue


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
    """Map ``order`` from the partner's terms into ours (a new Order; the input is unchanged)."""
    issues: list[MapIssue] = []
    rejected: dict[int, str] = {}
    lines: list[dict[str, Any]] = []
    reject_order = False
    for index, line in enumerate(order.lines):
        data = line.model_dump(exclude_none=True)
        reason, whole_order = _map_line(partner, index, data, issues)
        if reason is None:
            lines.append(data)
            continue
        rejected[index] = reason
        reject_order = reject_order or whole_order
    if reject_order:
        return MappedOrder(None, issues, rejected)
    if order.lines and not lines:
        issues.append(
            _issue("error", "no_lines", "every line of the order was rejected by the map")
        )
        return MappedOrder(None, issues, rejected)
    document = order.model_dump(exclude_none=True)
    document["lines"] = lines
    applied = partner.rules.apply(document, "inbound")
    issues.extend(applied.issues)
    if applied.errors:
        return MappedOrder(None, issues, rejected)
    try:
        mapped = Order.model_validate(applied.document)
    except ValidationError as exc:
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"])
            issues.append(_issue("error", "invalid_result", f"{where}: {err['msg']}", path=where))
        return MappedOrder(None, issues, rejected)
    return MappedOrder(mapped, issues, rejected)


def _map_line(
    partner: Partner, index: int, line: dict[str, Any], issues: list[MapIssue]
) -> tuple[str | None, bool]:
    """Resolve the SKU and convert the unit of one line (in place).

    Returns ``(reason, whole_order)``: reason is None when the line is kept.
    """
    sku: str | None = None
    if partner.xref is not None:
        ids = [(i["qualifier"], i["value"]) for i in line.get("identifiers", [])]
        found = partner.xref.resolve(ids)
        if found.ok:
            sku = found.sku
            line["sku"] = sku
        elif found.action == "pass_through":
            issues.append(_issue("warning", "unknown_item", found.message or "", index=index))
        else:
            message = found.message or "unknown item"
            issues.append(_issue("error", f"{found.status}_item", message, index=index))
            return message, found.action == "reject_order"
    quantity: Decimal | None = line.get("quantity")
    unit: str | None = line.get("unit")
    if quantity is None or unit is None:
        return None, False
    price: Decimal | None = line.get("unit_price")
    try:
        converted = partner.uom.to_internal(quantity, unit, price, sku=sku)
    except UomError as exc:
        issues.append(_issue("error", "unit_conversion", str(exc), index=index))
        return str(exc), False
    if (converted.quantity, converted.unit, converted.unit_price) != (quantity, unit, price):
        line["as_sent"] = {
            k: v
            for k, v in (("quantity", quantity), ("unit", unit), ("unit_price", price))
            if v is not None
        }
        line["quantity"], line["unit"] = converted.quantity, converted.unit
        if converted.unit_price is not None:
            line["unit_price"] = converted.unit_price
    return None, False


def _issue(
    severity: str, code: str, message: str, *, index: int | None = None, path: str | None = None
) -> MapIssue:
    return MapIssue(severity, code, message, path=path, line_index=index)  # type: ignore[arg-type]
