"""The base class and field types every canonical model shares.

Money and quantities are ``Decimal`` (never float: 0.1 + 0.2 must be 0.3 on an invoice),
dates are ``date``. Unknown fields are refused (``extra="forbid"``) so a typo in ERP JSON is
an error, not silently ignored data.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated, Any, TypeVar, get_args

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


M = TypeVar("M", bound=BaseModel)
_MISSING: Any = object()


def constructor(cls: type[M]) -> Callable[..., M]:
    """A keyword constructor of ``cls`` that does not validate: ``make(fields_set, **values)``.

    Only for values taken from models that were validated already, where validating again
    would only check what is known to hold (the auto-855 echoes a validated Order; see
    ``translate.auto_ack``). It does what ``model_construct`` does (about 50 us a call with
    pydantic 2.13, against under 1 us here and 2 us for ``model_validate``). The function is
    generated from the model's fields, so a field added later gets its default here too.
    Fields left out get their default (a fresh list from a ``default_factory``); a required
    field left out is a TypeError. ``fields_set`` is what validation would report as set.
    """
    namespace: dict[str, Any] = {"_cls": cls, "_MISSING": _MISSING, "_set": object.__setattr__}
    params: list[str] = []
    items: list[str] = []
    for name, info in cls.model_fields.items():
        if not name.isidentifier() or name.startswith("_") or info.alias not in (None, name):
            raise TypeError(f"{cls.__name__}.{name}: no generated constructor for this field")
        if info.default_factory is not None:
            if info.default_factory_takes_validated_data:
                raise TypeError(f"{cls.__name__}.{name}: default_factory takes data")
            namespace[f"_f_{name}"] = info.default_factory
            params.append(f"{name}=_MISSING")
            # A fresh list from a literal: what the factory ``list`` gives, without a call.
            fresh = "[]" if info.default_factory is list else f"_f_{name}()"
            items.append(f"{name!r}: {fresh} if {name} is _MISSING else {name}")
        elif info.is_required():
            params.append(name)
            items.append(f"{name!r}: {name}")
        else:
            try:
                hash(info.default)
            except TypeError:  # pydantic copies a mutable default; sharing it would be wrong
                raise TypeError(f"{cls.__name__}.{name}: mutable default") from None
            namespace[f"_d_{name}"] = info.default
            params.append(f"{name}=_d_{name}")
            items.append(f"{name!r}: {name}")
    code = [
        f"def make(fields_set, *, {', '.join(params)}):",
        "    instance = _cls.__new__(_cls)",
        "    _set(instance, '__dict__', {" + ", ".join(items) + "})",
        "    _set(instance, '__pydantic_fields_set__', fields_set)",
        "    _set(instance, '__pydantic_extra__', None)",
        "    _set(instance, '__pydantic_private__', None)",
        "    return instance",
    ]
    exec(compile("\n".join(code), f"<constructor {cls.__name__}>", "exec"), namespace)
    make: Callable[..., M] = namespace["make"]
    return make


def rebuilt(instance: M, changes: Mapping[str, Any]) -> M:
    """A copy of the validated ``instance`` with ``changes`` on top, without validating.

    ``changes`` must hold values validated for their fields already (the partner map
    validates only the fields it may touch; see ``partners.apply``). Gives what validating
    the merged dump (None values left out) gives, the fields reported as set included (the
    non-None ones and those changed), except that unchanged lists are shared, as their
    items are: canonical models are never changed in place.
    """
    cls = type(instance)
    shape = _SHAPES.get(cls)
    if shape is None:
        shape = _SHAPES[cls] = _shape(cls)
    never_none, maybe_none = shape
    values = instance.__dict__
    data = values.copy()
    data.update(changes)
    fields_set = {k for k in maybe_none if values[k] is not None}
    fields_set.update(never_none)
    fields_set.update(changes)
    copy = cls.__new__(cls)
    _setattr(copy, "__dict__", data)
    _setattr(copy, "__pydantic_fields_set__", fields_set)
    _setattr(copy, "__pydantic_extra__", None)
    _setattr(copy, "__pydantic_private__", None)
    return copy


_setattr = object.__setattr__
_SHAPES: dict[type[BaseModel], tuple[frozenset[str], tuple[str, ...]]] = {}


def _shape(cls: type[BaseModel]) -> tuple[frozenset[str], tuple[str, ...]]:
    """(fields never None: lists from a default factory, fields that may be None)."""
    never = frozenset(
        name
        for name, info in cls.model_fields.items()
        if info.default_factory is not None and type(None) not in get_args(info.annotation)
    )
    return never, tuple(name for name in cls.model_fields if name not in never)


def optional_in_schema(*names: str) -> Callable[[dict[str, Any]], None]:
    """``json_schema_extra`` hook: ``names`` are derived from a sibling code field when
    absent (e.g. ``role`` from ``role_code``), so the schema must not call them required."""

    def extra(schema: dict[str, Any]) -> None:
        required = schema.get("required")
        if isinstance(required, list):
            schema["required"] = [r for r in required if r not in names]

    return extra
