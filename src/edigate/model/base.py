"""The base class and field types every canonical model shares.

Money and quantities are ``Decimal`` (never float: 0.1 + 0.2 must be 0.3 on an invoice),
dates are ``date``. Unknown fields are refused (``extra="forbid"``) so a typo in ERP JSON is
an error, not silently ignored data.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

#: A qualifier or short code: 1 to 3 characters (``UP``, ``92``, ``002``). Blanks around a
#: code are never meaningful (some partners pad every element), so they are stripped.
Qualifier = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=3)]
#: A code element: 1 to 10 characters (``C310``, ``CTN25``, ``USD``), blanks stripped.
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10)]
#: A value that must say something.
Text = Annotated[str, StringConstraints(min_length=1)]
#: A signed amount of money, as the partner stated it.
Amount = Annotated[Decimal, Field(allow_inf_nan=False)]
#: A quantity, price, weight or volume: never negative.
NonNegative = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
#: A percentage, 0 to 100.
Percent = Annotated[Decimal, Field(ge=0, le=100, allow_inf_nan=False)]
#: A whole count (pack sizes, lading quantities).
Count = Annotated[int, Field(ge=0)]


class Canonical(BaseModel):
    """Base of every canonical model: strict about unknown fields, JSON round-trippable."""

    model_config = ConfigDict(
        extra="forbid",
        validate_default=False,
        ser_json_inf_nan="strings",
        use_enum_values=False,
    )


def optional_in_schema(*names: str) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` hook: ``names`` are derived from a sibling code field when
    absent (e.g. ``role`` from ``role_code``), so the schema must not call them required."""

    def extra(schema: dict[str, Any]) -> None:
        required = schema.get("required")
        if isinstance(required, list):
            schema["required"] = [r for r in required if r not in names]

    return extra
