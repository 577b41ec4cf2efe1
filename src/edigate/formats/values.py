"""Text from a partner's file -> the typed value a canonical field takes.

What a path needs (a number, a date, a list of lines) is read from the canonical pydantic
models themselves, so a column mapped to ``line.quantity`` is parsed as a decimal and one
mapped to ``party[ship_to].address.lines`` collects every value, without a type table to
keep in step with the models.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel

from ..model.order import Order, OrderLine
from ..partners.fields import FieldPath, parse_path

Kind = Literal["text", "texts", "decimal", "int", "date", "time", "bool"]

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")
_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)$")
_TRUE = {"1", "true", "yes", "y", "x"}
_FALSE = {"0", "false", "no", "n", ""}


@lru_cache(maxsize=1024)
def kind_of(text: str) -> Kind:
    """What ``text`` (a canonical path) holds; ``ValueError`` when no model field is there."""
    path = parse_path(text)
    tp: Any = Order if path.scope == "order" else OrderLine
    last = len(path.steps) - 1
    for i, step in enumerate(path.steps):
        if not (isinstance(tp, type) and issubclass(tp, BaseModel)):
            raise ValueError(f"{text}: {step.name} is inside a plain value")
        info = tp.model_fields.get(step.name)
        if info is None:
            raise ValueError(f"{text}: the canonical model has no field {step.name!r} here")
        tp = _unwrap(info.annotation)
        if step.key is not None or step.index is not None:
            tp = _item(tp)
            if i == last and step.implicit is not None:
                implicit = tp.model_fields[step.implicit].annotation
                tp = _unwrap(implicit)
    return _leaf(text, tp)


def _leaf(text: str, tp: Any) -> Kind:
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        if _unwrap(item) is str:
            return "texts"
        raise ValueError(f"{text} is a list of objects; name a field of one of them")
    if isinstance(tp, type):
        if issubclass(tp, BaseModel):
            raise ValueError(f"{text} is a group; name a field in it")
        if issubclass(tp, bool):
            return "bool"
        if issubclass(tp, Decimal):
            return "decimal"
        if issubclass(tp, int):
            return "int"
        if issubclass(tp, dt.datetime):
            raise ValueError(f"{text}: date-times are not read from files")
        if issubclass(tp, dt.date):
            return "date"
        if issubclass(tp, dt.time):
            return "time"
        if issubclass(tp, str | enum.Enum):
            return "text"
    if typing.get_origin(tp) is Literal:
        return "text"
    raise ValueError(f"{text}: cannot be read from a file (type {tp!r})")


def _item(tp: Any) -> Any:
    if typing.get_origin(tp) is not list:
        raise ValueError(f"{tp!r} is not a list")
    return _unwrap(typing.get_args(tp)[0])


def _unwrap(tp: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


@dataclass(frozen=True, slots=True)
class Target:
    """A canonical field and how its text converts: formats, separators, a value table."""

    path: FieldPath
    kind: Kind
    source: str  # the column name or the XPath, for messages
    date_formats: tuple[str, ...] = ("iso",)
    decimal: str = "."
    thousands: str | None = None
    values: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.path.text

    def convert(self, raw: str) -> Any:
        """The typed value of ``raw`` (already stripped, not empty); ``ValueError`` says why."""
        if self.values:
            if raw not in self.values:
                known = ", ".join(self.values)
                raise ValueError(f'"{raw}" is not one of {known}')
            raw = self.values[raw]
        return convert(
            self.kind,
            raw,
            date_formats=self.date_formats,
            decimal=self.decimal,
            thousands=self.thousands,
        )


def target(
    text: str,
    source: str,
    *,
    date_formats: tuple[str, ...] = ("iso",),
    decimal: str = ".",
    thousands: str | None = None,
    values: dict[str, str] | None = None,
) -> Target:
    return Target(
        parse_path(text), kind_of(text), source, date_formats, decimal, thousands, values or {}
    )


def convert(
    kind: Kind,
    raw: str,
    *,
    date_formats: tuple[str, ...] = ("iso",),
    decimal: str = ".",
    thousands: str | None = None,
) -> Any:
    """Convert ``raw`` to ``kind``; ``ValueError`` with a message naming the value."""
    if kind in ("text", "texts"):
        return raw
    if kind == "decimal":
        return parse_decimal(raw, decimal, thousands)
    if kind == "int":
        number = parse_decimal(raw, decimal, thousands)
        if number != number.to_integral_value():
            raise ValueError(f'"{raw}" is not a whole number')
        return int(number)
    if kind == "date":
        return parse_date(raw, date_formats)
    if kind == "time":
        try:
            return dt.time.fromisoformat(raw)
        except ValueError:
            raise ValueError(f'"{raw}" is not a time (expected HH:MM[:SS])') from None
    lowered = raw.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(f'"{raw}" is not yes or no')


def parse_decimal(raw: str, decimal: str = ".", thousands: str | None = None) -> Decimal:
    text = raw.replace("\u00a0", " ").replace("\u202f", " ").strip()  # no-break spaces
    if thousands and thousands in text:
        text = _ungrouped(raw, text, decimal, thousands)
    if decimal != ".":
        if "." in text:
            raise ValueError(f'"{raw}" is not a number (the decimal separator is "{decimal}")')
        text = text.replace(decimal, ".")
    if not _NUMBER.match(text):
        hint = ""
        if decimal == "." and re.match(r"^[+-]?\d+,\d+$", text):
            hint = ' (the decimal separator is ".")'
        raise ValueError(f'"{raw}" is not a number{hint}')
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ValueError(f'"{raw}" is not a number') from None


def _ungrouped(raw: str, text: str, decimal: str, thousands: str) -> str:
    """``text`` without its thousands separators, which must group the whole part in threes
    (``1.250,5``): anything else (``12.5`` where ``.`` groups thousands) is a number in
    another convention, and dropping the mark would read it ten or a hundred times over."""
    whole, _, fraction = text.partition(decimal)
    digits = whole.lstrip("+-").strip()
    groups = digits.split(thousands)
    grouped = (
        thousands not in fraction
        and 1 <= len(groups[0]) <= 3
        and all(len(g) == 3 for g in groups[1:])
        and all(g.isdigit() and g.isascii() for g in groups)
    )
    if not grouped:
        raise ValueError(
            f'"{raw}" is not a number (the thousands separator "{thousands}" groups digits '
            f'in threes; the decimal separator is "{decimal}")'
        )
    return text.replace(thousands, "")


def _iso_date(raw: str) -> dt.date | None:
    """``YYYY-MM-DD`` or a whole ISO date-time (its date as written), else None: trailing
    text (``2026-03-09 or 2026-03-16``) is not a date, not the first one mentioned."""
    try:
        if _ISO_DATE.match(raw):
            return dt.date.fromisoformat(raw)
        if _ISO_DATE_TIME.match(raw):
            return dt.datetime.fromisoformat(raw).date()
    except ValueError:
        return None
    return None


def parse_date(raw: str, formats: tuple[str, ...]) -> dt.date:
    for fmt in formats:
        if fmt == "iso":
            found = _iso_date(raw)
            if found is not None:
                return found
            continue
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValueError(f'"{raw}" is not a date (expected {" or ".join(formats)})')
