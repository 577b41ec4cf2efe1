"""Dotted paths into a canonical document, checked against a schema of its fields.

Maps name canonical fields in text: ``order.currency``, ``line.unit_of_measure``,
``party[ship_to].identifiers[92]``. A path is parsed and checked when the map loads (an
unknown field is a ``file:line`` error, not a silent no-op at 3 a.m.), and evaluated on the
plain-dict shape of the canonical model (its ``model_dump()``), so rules need no pydantic.

Grammar::

    path   := root ("." step)*
    root   := "order" | "line" | "party[" ROLE "]"      party[X] = order.parties[X]
    step   := NAME ("[" KEY "]")?

``NAME[KEY]`` selects, from a list of objects, the one whose key field (``qualifier`` for
identifiers, ``role`` for parties) equals ``KEY``; a path ending there means its ``value``
(or its ``date``, for dates). A list without a key field is addressed by 0-based position
(``order.carriers[0].scac``).

The schema is data (:class:`Schema`); :func:`schema_from_model` derives one from pydantic
models by convention, so the canonical model can replace :data:`DEFAULT_SCHEMA` unchanged.
"""

from __future__ import annotations

import difflib
import enum
import re
import types
import typing
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from ..model.codes import PartyRole

Scope = Literal["order", "line"]


@dataclass(frozen=True, slots=True)
class Leaf:
    """A scalar field."""


@dataclass(frozen=True, slots=True)
class Free:
    """A free-form mapping (``extra``): any key below it is allowed."""


@dataclass(frozen=True, slots=True)
class Obj:
    """A nested object with named fields."""

    fields: Mapping[str, Node]


@dataclass(frozen=True, slots=True)
class Keyed:
    """A list of objects addressed by the value of their ``key`` field."""

    key: str
    item: Obj
    implicit: str | None = None  # the field a path ending at NAME[KEY] refers to
    allowed: frozenset[str] = frozenset()  # the key's values, when they are a closed set


@dataclass(frozen=True, slots=True)
class Indexed:
    """A list of objects without a key, addressed by 0-based position: ``carriers[0]``."""

    item: Obj


Node = Leaf | Free | Obj | Keyed | Indexed


@dataclass(frozen=True, slots=True)
class Schema:
    """The addressable shape of one document: order-level and line-level fields."""

    order: Obj
    line: Obj
    lines_field: str = "lines"
    parties_field: str = "parties"


@dataclass(frozen=True, slots=True)
class Step:
    """One step; ``key`` selects by ``key_field`` (keyed list) or by position (``index``)."""

    name: str
    key: str | None = None
    key_field: str | None = None
    implicit: str | None = None
    index: int | None = None


@dataclass(frozen=True, slots=True)
class FieldPath:
    """A parsed, checked path. ``scope`` says whether it is evaluated per order or per line."""

    text: str
    scope: Scope
    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return self.text


def _obj(**fields: Node) -> Obj:
    return Obj(fields)


_L = Leaf()
_ID = _obj(qualifier=_L, value=_L)
_REF = _obj(qualifier=_L, value=_L, description=_L, date=_L)
_DATE = _obj(qualifier=_L, date=_L, time=_L, time_code=_L, period_format=_L, period=_L)
_NOTE = _obj(code=_L, text=_L)
_DESCRIPTION = _obj(type=_L, characteristic=_L, agency=_L, code=_L, text=_L)
_ADDRESS = _obj(
    lines=_L,
    city=_L,
    state=_L,
    postal_code=_L,
    country=_L,
    location_qualifier=_L,
    location_id=_L,
)
#: A party's ``role`` is one of these: party[bil_to] would select nothing, or make a party
#: the model refuses.
_ROLES = frozenset(role.value for role in PartyRole)
_CONTACT = _obj(function=_L, name=_L, phone=_L, fax=_L, email=_L)
_PARTY = _obj(
    role=_L,
    role_code=_L,
    name=_L,
    additional_names=_L,
    identifiers=Keyed("qualifier", _ID, "value"),
    address=_ADDRESS,
    contacts=Indexed(_CONTACT),
    references=Keyed("qualifier", _REF, "value"),
)
#: An allowance or charge (SAC) and a tax (TXI), the fields a partner's file can give.
_CHARGE = _obj(indicator=_L, code=_L, amount=_L, percent=_L, description=_L, currency=_L)
_TAX = _obj(type_code=_L, amount=_L, percent=_L)
_CARRIER = _obj(
    routing_sequence=_L,
    id_qualifier=_L,
    scac=_L,
    mode=_L,
    routing=_L,
    service_level=_L,
)

#: The canonical order as maps may address it: a hand-written mirror of the main fields of
#: :class:`edigate.model.Order` / ``OrderLine``. Once the partner layer binds to the model,
#: ``schema_from_model(Order)`` replaces it (same names, every field).
DEFAULT_SCHEMA = Schema(
    order=_obj(
        po_number=_L,
        po_date=_L,
        purpose=_L,
        purpose_code=_L,
        order_type=_L,
        order_type_code=_L,
        release_number=_L,
        contract_number=_L,
        acknowledgment_type=_L,
        currency=_L,
        currency_entity=_L,
        parties=Keyed("role", _PARTY, allowed=_ROLES),
        contacts=Indexed(_CONTACT),
        dates=Keyed("qualifier", _DATE, "date"),
        references=Keyed("qualifier", _REF, "value"),
        notes=Indexed(_NOTE),
        carriers=Indexed(_CARRIER),
        allowances_charges=Indexed(_CHARGE),
        taxes=Indexed(_TAX),
    ),
    line=_obj(
        line_number=_L,
        quantity=_L,
        unit=_L,
        unit_price=_L,
        price_basis=_L,
        currency=_L,
        identifiers=Keyed("qualifier", _ID, "value"),
        descriptions=Indexed(_DESCRIPTION),
        dates=Keyed("qualifier", _DATE, "date"),
        references=Keyed("qualifier", _REF, "value"),
        notes=Indexed(_NOTE),
        parties=Keyed("role", _PARTY, allowed=_ROLES),
        allowances_charges=Indexed(_CHARGE),
        taxes=Indexed(_TAX),
    ),
)

_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\[\]]+)\])?")


def parse_path(text: str, schema: Schema = DEFAULT_SCHEMA) -> FieldPath:
    """Parse and check ``text``; ``ValueError`` says what is wrong and what exists."""
    raw = _split(text)
    head, head_key = raw[0]
    steps: list[Step] = []
    if head == "order" and head_key is None:
        scope: Scope = "order"
        node: Node = schema.order
    elif head == "line" and head_key is None:
        scope, node = "line", schema.line
    elif head == "party" and head_key is not None:
        scope, node = "order", schema.order
        raw[0] = (schema.parties_field, head_key)
    else:
        raise ValueError(f"path {text!r} must start with 'order.', 'line.' or 'party[ROLE].'")
    if head != "party" and len(raw) == 1:
        raise ValueError(f"path {text!r} names no field, e.g. '{head}.<field>'")
    todo = raw if head == "party" else raw[1:]
    where = head
    for i, (name, key) in enumerate(todo):
        last = i == len(todo) - 1
        if isinstance(node, Free):
            if key is not None:
                raise ValueError(f"{where}.{name}: free-form fields take no [key]")
            steps.append(Step(name))
            where += f".{name}"
            continue
        if not isinstance(node, Obj):
            raise ValueError(f"{where} has no fields; {text!r} goes too deep")
        child = node.fields.get(name)
        if child is None:
            raise ValueError(_unknown(name, where, node, schema))
        label = "party" if where == "party" else f"{where}.{name}"
        if isinstance(child, Keyed):
            if key is None:
                raise ValueError(f"{label} is a list: select one with {label}[<{child.key}>]")
            if child.allowed and key not in child.allowed:
                raise ValueError(_unknown_key(key, label, child))
            selected = f"{label}[{key}]"
            if last and child.implicit is None:
                raise ValueError(f"{selected} needs a field, e.g. {selected}.name")
            steps.append(Step(name, key, child.key, child.implicit))
            node = child.item
            where = selected
            continue
        if isinstance(child, Indexed):
            if key is None or not key.isdigit():
                raise ValueError(f"{label} is a list: select one by position, e.g. {label}[0]")
            if last:
                raise ValueError(f"{label}[{key}] needs a field, e.g. {label}[{key}].<field>")
            steps.append(Step(name, index=int(key)))
            node = child.item
            where = f"{label}[{key}]"
            continue
        if key is not None:
            raise ValueError(f"{label} is not a list and takes no [key]")
        if isinstance(child, Obj) and last:
            raise ValueError(f"{label} is a group; name a field in it: {', '.join(child.fields)}")
        steps.append(Step(name))
        node = child
        where = label
    return FieldPath(text=text, scope=scope, steps=tuple(steps))


def _split(text: str) -> list[tuple[str, str | None]]:
    parts: list[tuple[str, str | None]] = []
    pos = 0
    while True:
        m = _STEP.match(text, pos)
        if m is None:
            raise ValueError(f"path {text!r} is malformed at character {pos + 1}")
        parts.append((m.group(1), m.group(2)))
        pos = m.end()
        if pos == len(text):
            return parts
        if text[pos] != ".":
            raise ValueError(f"path {text!r} is malformed at character {pos + 1}")
        pos += 1


def _unknown(name: str, where: str, node: Obj, schema: Schema) -> str:
    if where == "order" and name == schema.lines_field:
        return f"order.{name}: address line fields as 'line.<field>'"
    return f"unknown field {name!r} in {where} ({_hint(name, list(node.fields))})"


def _unknown_key(key: str, label: str, node: Keyed) -> str:
    return f"{label}[{key}]: unknown {node.key} {key!r} ({_hint(key, sorted(node.allowed))})"


def _hint(name: str, known: list[str]) -> str:
    """``did you mean 'x'?``, or the known names when none is close."""
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(known)


# --- evaluation on plain dicts -----------------------------------------------------------------


def is_missing(value: Any) -> bool:
    """None, empty text and empty collections count as missing (defaults fill them)."""
    if value is None:
        return True
    kind = type(value)
    if kind is str or kind is list or kind is dict:  # the usual cases, without isinstance
        return not value
    return isinstance(value, str | list | dict) and len(value) == 0


def get_value(
    path: FieldPath, order: Mapping[str, Any], line: Mapping[str, Any] | None = None
) -> Any:
    """Read ``path``; ``None`` where any step is absent."""
    current: Any = _root(path, order, line)
    for step in path.steps:
        if type(current) is not dict and not isinstance(current, Mapping):
            return None
        value = current.get(step.name)
        if step.index is not None:
            current = (
                value[step.index] if isinstance(value, list) and step.index < len(value) else None
            )
            continue
        if step.key is None:
            current = value
            continue
        item = _find(value, step)
        if item is None:
            return None
        current = item
        if step is path.steps[-1]:
            return item.get(step.implicit) if step.implicit else item
    return current


def set_value(
    path: FieldPath,
    value: Any,
    order: MutableMapping[str, Any],
    line: MutableMapping[str, Any] | None = None,
) -> None:
    """Write ``path``, creating the objects and list items on the way.

    ``ValueError`` when a positional step points past the end of its list plus one.
    """
    current: MutableMapping[str, Any] = _root(path, order, line)
    for i, step in enumerate(path.steps):
        last = i == len(path.steps) - 1
        if step.index is not None:
            items = current.get(step.name)
            if not isinstance(items, list):
                items = []
                current[step.name] = items
            if step.index > len(items):
                raise ValueError(
                    f"{path.text}: {step.name} has {len(items)} item(s), cannot set [{step.index}]"
                )
            if step.index == len(items):
                items.append({})
            current = items[step.index]
            continue
        if step.key is None:
            if last:
                current[step.name] = value
                return
            nxt = current.get(step.name)
            if type(nxt) is not dict and not isinstance(nxt, MutableMapping):
                nxt = {}
                current[step.name] = nxt
            current = nxt
            continue
        items = current.get(step.name)
        if not isinstance(items, list):
            items = []
            current[step.name] = items
        item = _find(items, step)
        if item is None:
            assert step.key_field is not None
            item = {step.key_field: step.key}
            items.append(item)
        if last:
            assert step.implicit is not None
            item[step.implicit] = value
            return
        current = item


def _root(path: FieldPath, order: Any, line: Any) -> Any:
    if path.scope == "line":
        if line is None:
            raise ValueError(f"{path.text} is a line path; evaluate it per line")
        return line
    return order


def _find(items: Any, step: Step) -> Any:
    if not isinstance(items, list):
        return None
    key_field, key = step.key_field, step.key
    for item in items:
        if type(item) is dict:  # what a dump gives; other mappings take the slow test
            if item.get(key_field) == key:
                return item
        elif isinstance(item, MutableMapping) and item.get(key_field) == key:
            return item
    return None


# --- deriving a schema from pydantic models ----------------------------------------------------


def schema_from_model(
    order: type[BaseModel], *, lines_field: str = "lines", parties_field: str = "parties"
) -> Schema:
    """Build a :class:`Schema` from the canonical pydantic models.

    Conventions: a list of models with a ``qualifier`` field is keyed by it (``role`` for
    parties), and a path ending at a selection means its ``value`` (else ``date``) field;
    other lists of models are addressed by position; dicts are free-form; lists of scalars
    are one field.
    """
    fields = dict(_model_obj(order).fields)
    fields.pop(lines_field, None)
    info = order.model_fields.get(lines_field)
    line_type = _list_item(info.annotation) if info is not None else None
    if line_type is None:
        raise ValueError(f"{order.__name__}.{lines_field} is not a list of models")
    return Schema(
        order=Obj(fields),
        line=_model_obj(line_type),
        lines_field=lines_field,
        parties_field=parties_field,
    )


def _model_obj(model: type[BaseModel]) -> Obj:
    fields: dict[str, Node] = {}
    for name, info in model.model_fields.items():
        node = _node(info.annotation)
        if node is not None:
            fields[name] = node
    return Obj(fields)


def _closed_values(model: type[BaseModel], name: str) -> frozenset[str]:
    """The values of field ``name`` when its type is an enum, else none (any value)."""
    tp = _unwrap(model.model_fields[name].annotation)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return frozenset(str(member.value) for member in tp)
    return frozenset()


def _node(tp: Any) -> Node | None:
    tp = _unwrap(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return _model_obj(tp)
    origin = typing.get_origin(tp)
    if origin in (dict, Mapping):
        return Free()
    if origin is list:
        item = _list_item(tp)
        if item is None:
            return Leaf()
        obj = _model_obj(item)
        for key in ("qualifier", "role"):
            if key in obj.fields:
                implicit = next((f for f in ("value", "date") if f in obj.fields), None)
                return Keyed(key, obj, implicit, _closed_values(item, key))
        return Indexed(obj)
    return Leaf()


def _list_item(tp: Any) -> type[BaseModel] | None:
    tp = _unwrap(tp)
    if typing.get_origin(tp) is not list:
        return None
    (item,) = typing.get_args(tp) or (None,)
    item = _unwrap(item)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


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
