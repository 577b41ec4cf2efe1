"""Map defaults tried on the canonical order when the map loads.

A default is text in YAML (``order.dates[002]: 2026-13-45``); only the order model knows
whether that text can be a date, a number or a code. Tried here, a default the model refuses
is a ``file:line`` problem of ``partners check``, not a rejection of every order that leaves
the field out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..model import Order
from .fields import FieldPath, Schema, parse_path, set_value

#: The smallest order the model accepts: each default is written into a copy of it alone.
_TRIAL_ORDER: dict[str, Any] = {
    "po_number": "TRIAL",
    "po_date": "2026-01-01",
    "lines": [{"line_number": "1", "quantity": "1", "unit": "EA"}],
}


def defaults_the_model_refuses(
    defaults: Mapping[str, str], schema: Schema
) -> list[tuple[tuple[Any, ...], str]]:
    """``(loc, message)`` for each default whose value the order model refuses in its own
    field. Errors elsewhere (a party defaulted only in its city lacks a name) depend on what
    the partner's file brings, and are not the default's."""
    problems: list[tuple[tuple[Any, ...], str]] = []
    for text, value in defaults.items():
        try:
            path = parse_path(text, schema)
        except ValueError:
            continue  # reported where the path is checked
        order = copy.deepcopy(_TRIAL_ORDER)
        line = order["lines"][0]
        try:
            set_value(path, value, order, line)
        except ValueError:
            continue
        own = _location(path, schema)
        try:
            Order.model_validate(order)
        except ValidationError as exc:
            for error in exc.errors():
                if tuple(error["loc"])[: len(own)] == own:
                    message = error["msg"].removeprefix("Value error, ")
                    problems.append((("defaults", text), f"{value!r}: {message}"))
                    break
    return problems


def _location(path: FieldPath, schema: Schema) -> tuple[str | int, ...]:
    """Where pydantic reports an error in the field ``path`` wrote on the trial order (each
    list the path passes through holds only what it wrote: index 0)."""
    loc: list[str | int] = [] if path.scope == "order" else [schema.lines_field, 0]
    for step in path.steps:
        loc.append(step.name)
        if step.key is not None or step.index is not None:
            loc.append(0)
            if step is path.steps[-1] and step.implicit is not None:
                loc.append(step.implicit)
    return tuple(loc)
