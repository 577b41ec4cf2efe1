"""YAML in, pydantic out, and every error as ``file:line: where: what``.

Profiles and maps are written by people onboarding partners; a message that says *which
line* is wrong saves the hunt. PyYAML's composer gives each node its line; we build plain
values ourselves and remember the line of every mapping key and sequence item, keyed by the
path to it, so a pydantic error ``loc`` (``("ack", "functional")``) finds its line.

Every scalar is read as **text**: YAML 1.1 would turn ``0420`` into 272, ``NO`` into
``False`` and ``997`` into an int that fails a ``Literal["997"]``. The schema decides types
(pydantic parses ``"12"`` as an int and ``"1.5"`` as an exact ``Decimal``). Only a plain
``~``, ``null`` or an empty value is ``None``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ConfigError
from ..unknown_keys import unknown_key
from .errors import ConfigErrors

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)

_NULL_TAG = "tag:yaml.org,2002:null"


@dataclass
class YamlSource:
    """A parsed YAML file: plain data plus the line of every key and item.

    ``path`` is the name shown in messages (as the user gave it, e.g. ``partners/acme.yaml``).
    """

    path: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)

    def line_of(self, loc: Sequence[str | int]) -> int | None:
        """Line of the deepest existing node on ``loc`` (parts not in the data are skipped)."""
        data_loc, _ = _walk(self.data, loc)
        while data_loc not in self.lines and data_loc:
            data_loc = data_loc[:-1]
        return self.lines.get(data_loc)

    def error(self, message: str, loc: Sequence[str | int] = ()) -> ConfigError:
        """A :class:`ConfigError` at ``loc``, the location prefixed to the message when given."""
        shown = _display(_walk(self.data, loc)[1])
        return ConfigError(
            f"{shown}: {message}" if shown else message, path=self.path, line=self.line_of(loc)
        )


def read_yaml(path: Path, shown: str | None = None) -> YamlSource:
    """Read and parse ``path``; raise :class:`ConfigErrors` for I/O, syntax and duplicate keys."""
    name = shown or str(path)
    return parse_yaml(read_utf8(path, name), name)


def read_utf8(path: Path, shown: str, *, bom: bool = False) -> str:
    """The text of a config file (a leading BOM dropped with ``bom``); ConfigErrors naming
    the line of a byte that is not UTF-8 (the decoder's own offset is within its chunk)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigErrors([ConfigError("file not found", path=shown)]) from exc
    except OSError as exc:
        raise ConfigErrors([ConfigError(f"cannot read: {exc}", path=shown)]) from exc
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        bad = data[exc.start : exc.start + 1].hex().upper()
        message = f"byte 0x{bad} (column {column}) is not UTF-8: save the file as UTF-8"
        raise ConfigErrors([ConfigError(message, path=shown, line=line)]) from None


#: Deepest nesting of mappings and sequences accepted. Profiles and maps are a few levels
#: deep; PyYAML's composer recurses per level and would die of a RecursionError near 450.
MAX_DEPTH = 64
#: Values built per character of the file, beyond a fixed allowance. Without aliases a file
#: cannot hold more values than characters; aliases that expand beyond that are a "billion
#: laughs" (nine levels of ten aliases make 10**9 values from 300 bytes).
_VALUES_PER_CHAR = 2
_VALUES_ALLOWANCE = 10_000


class _TooLarge(Exception):
    """Raised inside :func:`_build` when aliases expand beyond the budget."""

    def __init__(self, line: int) -> None:
        self.line = line


def parse_yaml(text: str, path: str) -> YamlSource:
    """Parse YAML text (one document) into a :class:`YamlSource`.

    Hostile text is refused with a ``ConfigError`` too: nesting deeper than
    :data:`MAX_DEPTH`, and aliases that expand to far more values than the file holds.
    """
    try:
        _check_depth(text, path)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark is not None:
            problem += f" ({exc.context} from line {exc.context_mark.line + 1})"
        if "flow" in (exc.context or "") and "'['" in problem:
            problem += '; inside { } quote a path with brackets: "party[ship_to].name"'
        raise ConfigErrors([ConfigError(f"YAML syntax: {problem}", path=path, line=line)]) from exc
    except yaml.YAMLError as exc:
        raise ConfigErrors([ConfigError(f"YAML syntax: {exc}", path=path)]) from exc
    source = YamlSource(path=path, data=None)
    if node is None:
        raise ConfigErrors([ConfigError("empty file: expected a mapping", path=path, line=1)])
    errors: list[ConfigError] = []
    source.lines[()] = node.start_mark.line + 1
    budget = [_VALUES_ALLOWANCE + _VALUES_PER_CHAR * len(text)]
    try:
        source.data = _build(node, (), source, errors, set(), budget)
    except _TooLarge as exc:
        raise ConfigErrors(
            [
                ConfigError(
                    "aliases expand to more values than the file holds (a 'billion laughs'?): "
                    "refused",
                    path=path,
                    line=exc.line,
                )
            ]
        ) from None
    if errors:
        raise ConfigErrors(errors)
    return source


def _check_depth(text: str, path: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` (PyYAML's event parser is iterative)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark is not None else None
                raise ConfigErrors(
                    [
                        ConfigError(
                            f"nested more than {MAX_DEPTH} levels deep: refused",
                            path=path,
                            line=line,
                        )
                    ]
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _build(
    node: yaml.Node,
    loc: Loc,
    src: YamlSource,
    errors: list[ConfigError],
    active: set[int],
    budget: list[int],
) -> Any:
    budget[0] -= 1
    if budget[0] < 0:  # name the top-level key whose aliases blew up, not the aliased node
        raise _TooLarge(src.lines.get(loc[:1], node.start_mark.line + 1))
    if id(node) in active:
        errors.append(ConfigError("recursive alias", path=src.path, line=node.start_mark.line + 1))
        return None
    if isinstance(node, yaml.ScalarNode):
        if node.tag == _NULL_TAG and not node.style:
            return None
        return str(node.value)
    active.add(id(node))
    try:
        if isinstance(node, yaml.SequenceNode):
            items = []
            for index, item in enumerate(node.value):
                src.lines[(*loc, index)] = item.start_mark.line + 1
                items.append(_build(item, (*loc, index), src, errors, active, budget))
            return items
        assert isinstance(node, yaml.MappingNode)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(ConfigError("a key must be a plain value", path=src.path, line=line))
                continue
            key = str(key_node.value)
            if key in result:
                first = src.lines[(*loc, key)]
                shown = _display((*loc, key))
                errors.append(
                    ConfigError(
                        f"{shown}: duplicate key (first on line {first})", path=src.path, line=line
                    )
                )
                continue
            src.lines[(*loc, key)] = line
            result[key] = _build(value_node, (*loc, key), src, errors, active, budget)
        return result
    finally:
        active.discard(id(node))


def _walk(data: Any, loc: Sequence[str | int]) -> tuple[Loc, Loc]:
    """Split a pydantic ``loc`` into (path in the data, path to show).

    Parts that are not keys or indexes of the data (union tags such as ``sftp_push``,
    ``[key]`` markers, validator names) are dropped; a missing last key is kept for display.
    """
    data_loc: list[str | int] = []
    shown: list[str | int] = []
    current = data
    parts = list(loc)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        in_map = isinstance(current, Mapping) and isinstance(part, str) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_map or in_list:
            data_loc.append(part)
            shown.append(part)
            current = current[part]
        elif (
            last
            and isinstance(part, str)
            and not part.startswith("[")
            and (isinstance(current, Mapping) or current is None)
        ):
            shown.append(part)  # a missing key: shown, no line of its own
        else:
            continue
    return tuple(data_loc), tuple(shown)


def _display(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


def validate(
    model: type[M], source: YamlSource, *, context: dict[str, Any] | None = None
) -> tuple[M | None, list[ConfigError]]:
    """Validate ``source`` against ``model``; return the object or *all* the errors."""
    try:
        return model.model_validate(source.data, context=context), []
    except ValidationError as exc:
        return None, sorted(errors_from(exc, source, model), key=_order)


def load(model: type[M], path: Path, shown: str | None = None) -> tuple[M, YamlSource]:
    """Read and validate one file; raise :class:`ConfigErrors` with every problem found."""
    source = read_yaml(path, shown)
    obj, errors = validate(model, source)
    if obj is None:
        raise ConfigErrors(errors)
    return obj, source


def _order(err: ConfigError) -> tuple[str, int]:
    return (err.path or "", err.line or 0)


def errors_from(
    exc: ValidationError, source: YamlSource, model: type[BaseModel]
) -> list[ConfigError]:
    """Turn pydantic's errors into ``file:line: where: what`` errors."""
    result = []
    for err in exc.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        message = str(err["msg"])
        ctx = err.get("ctx") or {}
        if kind in ("union_tag_invalid", "union_tag_not_found") and "discriminator" in ctx:
            loc = (*loc, str(ctx["discriminator"]).strip("'"))
        if kind == "union_tag_invalid":
            expected = [t.strip(" '") for t in str(ctx.get("expected_tags", "")).split(",")]
            close = difflib.get_close_matches(str(ctx.get("tag")), expected, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "expected " + ", ".join(expected)
            message = f"unknown {loc[-1]} {ctx.get('tag')!r} ({hint})"
        elif kind == "extra_forbidden":
            message = unknown_key(model, loc)
        elif kind == "missing":
            message = "required"
        elif kind in ("value_error", "assertion_error"):
            message = message.split(", ", 1)[1] if ", " in message else message
        else:
            message = message[:1].lower() + message[1:]
            value = err.get("input")
            if isinstance(value, str) and len(value) <= 60:
                message += f" (got {value!r})"
            elif value is None:
                message += " (got an empty value)"
        result.append(source.error(message, loc))
    return result
