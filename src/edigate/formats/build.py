"""Assemble one canonical Order from values read out of a partner's file.

The CSV and XML readers find values and their positions; this puts each at its canonical
path (converted to the field's type) and validates the whole as an :class:`Order`. Every
problem becomes a :class:`FormatIssue` at the line it came from, and an order with any error
is not built: a half-read order is worse than none.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from ..model.order import Order
from ..partners.fields import get_value, set_value
from .issues import FormatIssue, Severity
from .values import Target

#: C0 control characters but tab, LF and CR, and DEL: never text a partner means to send (the
#: X12 validator refuses them too), and PostgreSQL cannot store NUL in a text column at all.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character(text: str) -> str | None:
    """``U+0000``-style name of the first control character in ``text``, or None."""
    found = _CONTROL.search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


#: Purposes whose orders must carry lines: an original and a replacement say what to ship;
#: a cancellation (01, cXML delete 03) or a header change (04) may name no line.
LINES_REQUIRED = ("00", "05")


class OrderBuilder:
    """Values for one order (``key``: its PO number or group key; ``index``: its position in
    the file) and its lines."""

    def __init__(self, key: str, line: int | None, index: int | None = None):
        self.key = key
        self.line = line
        self.index = index
        self.order: dict[str, Any] = {}
        self.lines: list[dict[str, Any]] = []
        self.line_positions: list[int | None] = []
        self.issues: list[FormatIssue] = []
        # Keyed by column and field: one column may fill several order fields.
        self._first: dict[tuple[str, str], tuple[str, int | None]] = {}

    @property
    def has_errors(self) -> bool:
        return any(i.is_error for i in self.issues)

    def issue(
        self,
        line: int | None,
        message: str,
        *,
        column: str | None = None,
        field: str | None = None,
        value: str | None = None,
        severity: Severity = "error",
    ) -> None:
        self.issues.append(
            FormatIssue(
                line,
                column,
                message,
                value,
                severity,
                field=field,
                order=self.key,
                index=self.index,
            )
        )

    def add_line(self, line: int | None) -> dict[str, Any]:
        data: dict[str, Any] = {}
        self.lines.append(data)
        self.line_positions.append(line)
        return data

    def put(
        self,
        target: Target,
        raw: str,
        *,
        line: int | None,
        column: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Convert ``raw`` and set it: on the order, or on the line ``data``."""
        field = None if column is not None else target.text
        bad = control_character(raw)
        if bad is not None:
            self.issue(
                line, f"holds a control character ({bad})", column=column, field=field, value=raw
            )
            return
        if target.path.scope == "order" and column is not None:
            # A CSV repeats the order's fields on every row: they must agree.
            first = self._first.get((column, target.text))
            if first is not None:
                if first[0] != raw:
                    self.issue(
                        line,
                        f'"{raw}" differs from "{first[0]}" on line {first[1]} '
                        f"({target.text} is one value per order)",
                        column=column,
                        value=raw,
                    )
                return
            self._first[(column, target.text)] = (raw, line)
        try:
            value = target.convert(raw)
        except ValueError as exc:
            self.issue(line, str(exc), column=column, field=field, value=raw)
            return
        line_data = data if target.path.scope == "line" else None
        try:
            if target.kind == "texts":
                existing = get_value(target.path, self.order, line_data)
                value = [*(existing if isinstance(existing, list) else []), value]
            set_value(target.path, value, self.order, line_data)
        except ValueError as exc:
            self.issue(line, str(exc), column=column, field=field, value=raw)

    def finish(self, *, number_lines: bool = False) -> Order | None:
        """The validated Order, or None (with issues) when anything is wrong."""
        purpose = str(self.order.get("purpose_code") or "00").strip()
        if not self.lines and not self.has_errors and purpose in LINES_REQUIRED:
            # An order with nothing to ship would reach the ERP as an empty order.
            self.issue(self.line, "the order has no lines: at least one line is required")
        if purpose in LINES_REQUIRED and not self.has_errors:
            for index, item in enumerate(self.lines):
                if item.get("quantity") is None:  # the ERP would be told to ship nothing
                    self.issue(
                        self.line_positions[index],
                        f"line {index + 1} of the order: quantity: required, but the file "
                        "has no value for it",
                    )
        if self.has_errors:
            return None
        data = dict(self.order)
        lines = [dict(item) for item in self.lines]
        if number_lines:
            for index, item in enumerate(lines):
                item.setdefault("line_number", str(index + 1))
        data["lines"] = lines
        try:
            return Order.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = tuple(err["loc"])
                line = self.line
                if len(loc) >= 2 and loc[0] == "lines" and isinstance(loc[1], int):
                    line = self.line_positions[loc[1]]
                    where = f"line {loc[1] + 1} of the order: " + _dotted(loc[2:])
                else:
                    where = _dotted(loc)
                message = str(err["msg"]).removeprefix("Value error, ")
                if err["type"] == "missing":
                    message = "required, but the file has no value for it"
                value = err.get("input")
                shown = value if isinstance(value, str) else None
                self.issue(line, f"{where}: {message}", value=shown)
            return None


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "order"
