"""Problems in a partner's CSV or XML file, as data, and what a reader returns.

A CSV position is a file line and a column, an XML one a file line and the canonical field
being read; neither fits the X12 ``Location`` (segments, elements), so they get their own
record. The message says what was expected::

    line 7, column "Qty": "12,5x" is not a number
    line 31, order.po_date: "2000-13-45" is not a date (expected iso)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ..model.order import Order

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class FormatIssue:
    """One problem: where (``line``, ``column`` or ``field``), what, and the value seen.

    ``order`` is the key of the order it belongs to (its PO number), None for the file;
    ``index`` the order's position in the file (from 0), which tells apart two orders that
    carry the same PO number.
    """

    line: int | None
    column: str | None
    message: str
    value: str | None = None
    severity: Severity = "error"
    field: str | None = None
    order: str | None = None
    index: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where: list[str] = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f'column "{self.column}"')
        elif self.field is not None:
            where.append(self.field)
        text = f"{', '.join(where)}: {self.message}" if where else self.message
        return text + (" (warning)" if self.severity == "warning" else "")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"severity": self.severity, "message": self.message}
        for key in ("line", "column", "field", "value", "order"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass
class ReadResult:
    """The orders read from one file, and every issue.

    An order with an error is left out (``rejected`` holds its key) with all its issues;
    the other orders of the file are whole. ``order_indexes`` and ``rejected_indexes`` give
    the position in the file of each of ``orders`` and ``rejected`` (an issue's ``index``);
    ``line_positions`` where each of an order's lines is in the file (CSV line, XML source
    line), so the map's issues about a line can say where it was read.
    """

    orders: list[Order] = field(default_factory=list)
    issues: list[FormatIssue] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    order_indexes: list[int] = field(default_factory=list)
    rejected_indexes: list[int] = field(default_factory=list)
    line_positions: list[list[int | None]] = field(default_factory=list)

    @property
    def errors(self) -> list[FormatIssue]:
        return [i for i in self.issues if i.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors
