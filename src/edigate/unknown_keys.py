"""What key a config file meant, when pydantic refuses one it does not know.

Shared by the partner YAML loader and edigate.toml: both are pydantic models with
``extra="forbid"``, and a misspelt key deserves the same ``did you mean`` in each.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel


def unknown_key(model: type[BaseModel], loc: Sequence[str | int]) -> str:
    """``unknown key 'lease_secs' (did you mean 'lease_seconds'?)`` for pydantic's
    ``extra_forbidden`` error at ``loc`` of ``model``: the keys accepted there are found by
    walking the model's fields along ``loc``."""
    key = str(loc[-1]) if loc else "?"
    known = _fields_at(model, loc[:-1])
    if not known:
        return f"unknown key {key!r}"
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else "expected one of " + ", ".join(known)
    return f"unknown key {key!r} ({hint})"


def _fields_at(model: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Keys the model accepts at ``loc`` (best effort: follows models, lists, dicts, unions)."""
    candidates: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for tp in _expand(candidates):
            if isinstance(tp, type) and issubclass(tp, BaseModel) and isinstance(part, str):
                for name, info in tp.model_fields.items():
                    if part in (name, info.alias):
                        nxt.append(info.annotation)
                if _tag_of(tp) == part:
                    nxt.append(tp)
            origin = typing.get_origin(tp)
            if origin is list and isinstance(part, int):
                nxt.extend(typing.get_args(tp)[:1])
            elif origin is dict:
                nxt.extend(typing.get_args(tp)[1:2])
        candidates = nxt
    names: list[str] = []
    for tp in _expand(candidates):
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            for name, info in tp.model_fields.items():
                shown = info.alias or name
                if shown not in names:
                    names.append(shown)
    return names


def _expand(types_: list[Any]) -> list[Any]:
    out: list[Any] = []
    for tp in types_:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            out.extend(_expand([typing.get_args(tp)[0]]))
        elif origin in (typing.Union, types.UnionType):
            out.extend(_expand(list(typing.get_args(tp))))
        else:
            out.append(tp)
    return out


def _tag_of(model: type[BaseModel]) -> str | None:
    info = model.model_fields.get("type")
    if info is None:
        return None
    args = typing.get_args(info.annotation)
    return str(args[0]) if len(args) == 1 else None
