"""Declarative X12 transaction-set specs: the model, the YAML loader and the compiler.

The specs are data (``edigate/x12/specs``), one directory per version family::

    specs/codes.yaml              code lists by data element number, shared by the families
    specs/directory.yaml          the X12 segment IDs (to tell AK304 1 from 6)
    specs/004010/elements.yaml    data element dictionary and composites
    specs/004010/segments.yaml    segment definitions, shared by every transaction set
    specs/004010/850.yaml         one file per transaction set: loops, usage, repeats, checks
    specs/005010/...              ``base: "004010"`` plus only what 5010 changed

:func:`load_transaction` turns the YAML into the frozen model below (cached), and
:func:`compile_segment` turns a :class:`SegmentDef` into one Python function that answers
"is this segment entirely valid?" with no interpretation left at run time: positions, lengths,
code sets and syntax rules become straight-line code, one variant per number of elements
present (generated on first use), so absent elements cost nothing. The validator calls that
function for every segment and only walks the definition (to say *what* is wrong) when it
returns False.

Usage::

    spec = load_transaction("850", "004010")
    check = compile_segment(spec.root.children[1].segment)   # BEG
    check(["BEG", "00", "SA", "PO1", "", "20261120"], ":", "\\x00")  # -> True
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import importlib.resources
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from ..errors import ConfigError

#: Stands in for the repetition separator when the interchange has none (4010 ``ISA11=U``):
#: a control character can never be part of a valid value, so it never matches valid data.
NO_SEPARATOR = "\x00"

USAGES = frozenset({"M", "O", "X"})
NUMERIC_TYPES = frozenset(f"N{i}" for i in range(10))
TYPES = frozenset({"AN", "ID", "DT", "TM", "R"}) | NUMERIC_TYPES
RULE_KINDS = frozenset("PRCEL")
FAMILIES = ("004010", "005010")
#: GS01 (functional identifier code, X12 479) of each transaction set the specs know: the
#: group a set is sent in, read or written.
FUNCTIONAL_GROUP_OF_SET = {
    "850": "PO",
    "855": "PR",
    "856": "SH",
    "810": "IN",
    "997": "FA",
    "999": "FA",
}
#: GS01 of each transaction set whose group the envelope check knows: the specs' sets, and
#: the purchase order changes sent beside them (860 PC, 865 CA; X12 479). A set of another
#: group under a GS01 is rejected; a set not listed is not judged.
GROUP_OF_SET = {**FUNCTIONAL_GROUP_OF_SET, "860": "PC", "865": "CA"}

SegmentCheck = Callable[[Sequence[str], str, str], bool]


class SpecError(ConfigError):
    """A spec file (or an overlay applied to it) is inconsistent; names the file and the key."""


# ----------------------------------------------------------------------------------- the model
@dataclass(frozen=True, slots=True)
class ElementDef:
    """A simple data element: its dictionary number (``ref``), type and length bounds."""

    ref: str | None
    name: str
    type: str
    min: int
    max: int
    codes: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """An X12 syntax note over 1-based positions: P paired, R required, C conditional,
    E exclusion, L list conditional (the first position is the condition for C and L)."""

    kind: str
    positions: tuple[int, ...]

    def __str__(self) -> str:
        return self.kind + "".join(f"{p:02d}" for p in self.positions)


@dataclass(frozen=True, slots=True)
class CompositeDef:
    ref: str
    name: str
    components: tuple[ElementUse, ...]
    rules: tuple[Rule, ...] = ()


@dataclass(frozen=True, slots=True)
class ElementUse:
    """An element (or composite, or component) at a position, with its usage there.

    ``repeat`` is the maximum number of repetitions (5010 repeating elements); 1 otherwise.
    """

    position: int
    usage: str
    element: ElementDef | None = None
    composite: CompositeDef | None = None
    repeat: int = 1

    @property
    def mandatory(self) -> bool:
        return self.usage == "M"

    @property
    def ref(self) -> str | None:
        if self.element is not None:
            return self.element.ref
        return self.composite.ref if self.composite is not None else None

    @property
    def name(self) -> str:
        if self.element is not None:
            return self.element.name
        return self.composite.name if self.composite is not None else ""


@dataclass(frozen=True, slots=True)
class SegmentDef:
    """A segment as the dictionary defines it. ``permissive`` segments are only placed, not
    checked element by element (rare segments whose definition we do not trust ourselves on)."""

    tag: str
    name: str
    elements: tuple[ElementUse, ...]
    rules: tuple[Rule, ...] = ()
    permissive: bool = False


@dataclass(frozen=True, slots=True)
class SegmentUse:
    """A segment at one position of a transaction set: usage and maximum use there."""

    segment: SegmentDef
    usage: str
    max_use: int | None

    @property
    def tag(self) -> str:
        return self.segment.tag

    @property
    def mandatory(self) -> bool:
        return self.usage == "M"


@dataclass(frozen=True, slots=True)
class SegmentRequirement:
    """ "At least ``min_count`` ``tag`` segments whose elements equal ``where`` in each
    instance of this loop" (an overlay rule such as "REF with REF01=DP is required")."""

    tag: str
    where: tuple[tuple[int, str], ...] = ()
    min_count: int = 1
    source: str = ""

    def describe(self) -> str:
        cond = " and ".join(f"{self.tag}{p:02d}={v}" for p, v in self.where)
        return f"{self.tag} with {cond}" if cond else self.tag


@dataclass(frozen=True, slots=True)
class LoopDef:
    """A loop: the first child is its trigger segment. The root of a set is a loop with id ''."""

    id: str
    usage: str
    max_repeat: int | None
    children: tuple[SegmentUse | LoopDef, ...]
    requirements: tuple[SegmentRequirement, ...] = ()

    @property
    def trigger(self) -> SegmentUse:
        first = self.children[0]
        assert isinstance(first, SegmentUse)
        return first

    @property
    def tag(self) -> str:
        return self.trigger.tag

    @property
    def mandatory(self) -> bool:
        return self.usage == "M"


@dataclass(frozen=True, slots=True)
class LineCount:
    """``segment``/``element`` (e.g. CTT01) must equal the number of one of ``tags``."""

    segment: str
    element: int
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HashTotal:
    """``segment``/``element`` (e.g. CTT02) is the hash total of ``source`` (e.g. PO1, 2).

    With ``hl_level`` the sum over the HL loops of that level (856 item level ``I``, so packs
    are not counted twice) is accepted as well."""

    segment: str
    element: int
    source_tag: str
    source_element: int
    hl_level: str | None = None


@dataclass(frozen=True, slots=True)
class TransactionSpec:
    set_id: str
    family: str
    name: str
    root: LoopDef
    line_count: LineCount | None = None
    hash_total: HashTotal | None = None
    hl_numbering: bool = False
    vocabulary: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Dictionary:
    """What a version family defines: elements, composites and segments by id."""

    family: str
    elements: Mapping[str, ElementDef]
    composites: Mapping[str, CompositeDef]
    segments: Mapping[str, SegmentDef]


# ------------------------------------------------------------------------------------ loading
def _spec_root() -> Path:
    return Path(str(importlib.resources.files("edigate.x12") / "specs"))


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read spec file: {exc}", path=str(path)) from exc
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        raise SpecError(
            f"invalid YAML: {exc}", path=str(path), line=line + 1 if line is not None else None
        ) from exc
    if not isinstance(data, dict):
        raise SpecError("expected a mapping at the top level", path=str(path))
    return data


def _max(value: Any, where: str, path: Path) -> int | None:
    """Repeat counts: an int, or ``">1"`` for unbounded, as the X12 tables print it."""
    if value == ">1":
        return None
    if isinstance(value, int) and value >= 1:
        return value
    raise SpecError(
        f"{where}: repeat must be a positive integer or '>1', got {value!r}", path=str(path)
    )


def parse_rule(text: str, where: str = "", path: str | None = None) -> Rule:
    """``"P0304"`` -> ``Rule("P", (3, 4))``; raises :class:`SpecError` on anything else."""
    text = str(text).strip()
    kind, digits = text[:1], text[1:]
    if kind not in RULE_KINDS or len(digits) < 4 or len(digits) % 2 or not digits.isdigit():
        raise SpecError(f"{where}: invalid syntax rule {text!r} (e.g. P0304, L010203)", path=path)
    positions = tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2))
    if 0 in positions or len(set(positions)) != len(positions):
        raise SpecError(f"{where}: invalid positions in syntax rule {text!r}", path=path)
    return Rule(kind, positions)


@functools.lru_cache(maxsize=8)
def _codes(root: Path, family: str) -> dict[str, frozenset[str]]:
    path = root / "codes.yaml"
    if not path.exists():
        return {}
    data = _read_yaml(path)
    merged: dict[str, Any] = dict(data.get("codes") or {})
    merged.update((data.get("families") or {}).get(family) or {})
    out: dict[str, frozenset[str]] = {}
    for ref, codes in merged.items():
        if not isinstance(codes, list) or not codes:
            raise SpecError(f"codes.{ref}: expected a non-empty list", path=str(path))
        out[str(ref)] = frozenset(str(c) for c in codes)
    return out


def _element_def(ref: str, raw: Any, codes: Mapping[str, frozenset[str]], path: Path) -> ElementDef:
    where = f"elements.{ref}"
    if isinstance(raw, list) and len(raw) in (3, 4):
        etype, lo, hi = raw[0], raw[1], raw[2]
        name = str(raw[3]) if len(raw) == 4 else ""
        code_set = codes.get(ref)
    elif isinstance(raw, dict):
        etype, lo, hi = raw.get("type"), raw.get("min"), raw.get("max")
        name = str(raw.get("name", ""))
        inline = raw.get("codes")
        code_set = frozenset(str(c) for c in inline) if inline else codes.get(ref)
    else:
        raise SpecError(f"{where}: expected [type, min, max, name]", path=str(path))
    if etype not in TYPES:
        raise SpecError(f"{where}: unknown type {etype!r}", path=str(path))
    if not (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi):
        raise SpecError(f"{where}: invalid length bounds {lo!r}..{hi!r}", path=str(path))
    if code_set is not None:
        if etype not in ("ID", "AN"):
            raise SpecError(f"{where}: code list on a {etype} element", path=str(path))
        bad = sorted(c for c in code_set if not lo <= len(c) <= hi)
        if bad:
            raise SpecError(f"{where}: codes {bad} do not fit length {lo}..{hi}", path=str(path))
    return ElementDef(ref, name, str(etype), lo, hi, code_set)


def _element_use(
    raw: Any,
    position: int,
    where: str,
    path: Path,
    elements: Mapping[str, ElementDef],
    composites: Mapping[str, CompositeDef] | None,
) -> ElementUse:
    """``[353, M]``, ``[C040, O]``, ``[128, X, {repeat: 5}]`` or ``[~, O, {type: ID, min: 2,
    max: 2, name: ...}]`` (an element the dictionary does not name)."""
    if not (isinstance(raw, list) and 2 <= len(raw) <= 3):
        raise SpecError(f"{where}: expected [ref, usage] or [ref, usage, {{...}}]", path=str(path))
    ref, usage = raw[0], raw[1]
    opts: dict[str, Any] = raw[2] if len(raw) == 3 else {}
    if usage not in USAGES or not isinstance(opts, dict):
        raise SpecError(f"{where}: usage must be M, O or X, got {usage!r}", path=str(path))
    repeat = opts.get("repeat", 1)
    if not isinstance(repeat, int) or repeat < 1:
        raise SpecError(f"{where}: repeat must be a positive integer", path=str(path))
    if ref is None:
        inline = {k: v for k, v in opts.items() if k != "repeat"}
        element = dataclasses.replace(_element_def(where, inline, {}, path), ref=None)
        return ElementUse(position, usage, element, repeat=repeat)
    ref = str(ref)
    if ref.startswith("C") and composites is not None:
        comp = composites.get(ref)
        if comp is None:
            raise SpecError(f"{where}: composite {ref} is not defined", path=str(path))
        return ElementUse(position, usage, composite=comp, repeat=repeat)
    found = elements.get(ref)
    if found is None:
        raise SpecError(f"{where}: data element {ref} is not in the dictionary", path=str(path))
    return ElementUse(position, usage, found, repeat=repeat)


def _check_rules(rules: Iterable[Rule], count: int, where: str, path: Path) -> None:
    for rule in rules:
        if max(rule.positions) > count:
            raise SpecError(f"{where}: rule {rule} names a position past {count}", path=str(path))


def load_dictionary(family: str, root: Path | None = None) -> Dictionary:
    """The element, composite and segment definitions of a family (cached)."""
    return _load_dictionary(root or _spec_root(), family)


Raw = dict[str, tuple[Any, Path]]


@functools.lru_cache(maxsize=8)
def _raw_family(root: Path, family: str) -> tuple[Raw, Raw, Raw]:
    """Entries of a family merged over its ``base`` family, each with the file it came from."""
    epath = root / family / "elements.yaml"
    spath = root / family / "segments.yaml"
    edata, sdata = _read_yaml(epath), _read_yaml(spath)
    base = edata.get("base") or sdata.get("base")
    if base:
        if str(base) == family:
            raise SpecError(f"family {family} names itself as base", path=str(epath))
        b_el, b_co, b_seg = _raw_family(root, str(base))
        elements, composites, segments = dict(b_el), dict(b_co), dict(b_seg)
    else:
        elements, composites, segments = {}, {}, {}
    for ref, raw in (edata.get("elements") or {}).items():
        elements[str(ref)] = (raw, epath)
    for ref, raw in (edata.get("composites") or {}).items():
        composites[str(ref)] = (raw, epath)
    for tag, raw in (sdata.get("segments") or {}).items():
        segments[str(tag)] = (raw, spath)
    return elements, composites, segments


@functools.lru_cache(maxsize=8)
def _load_dictionary(root: Path, family: str) -> Dictionary:
    codes = _codes(root, family)
    raw_elements, raw_composites, raw_segments = _raw_family(root, family)
    elements = {
        ref: _element_def(ref, raw, codes, path) for ref, (raw, path) in raw_elements.items()
    }
    composites: dict[str, CompositeDef] = {}
    for ref, (raw, path) in raw_composites.items():
        where = f"composites.{ref}"
        if not isinstance(raw, dict) or not isinstance(raw.get("components"), list):
            raise SpecError(f"{where}: expected name and components", path=str(path))
        comps = tuple(
            _element_use(c, i, f"{where}.components[{i}]", path, elements, None)
            for i, c in enumerate(raw["components"], start=1)
        )
        rules = tuple(parse_rule(r, where, str(path)) for r in raw.get("rules") or ())
        _check_rules(rules, len(comps), where, path)
        composites[ref] = CompositeDef(ref, str(raw.get("name", "")), comps, rules)
    segments = {
        tag: _segment_def(tag, raw, path, elements, composites)
        for tag, (raw, path) in raw_segments.items()
    }
    return Dictionary(family, elements, composites, segments)


def _segment_def(
    tag: str,
    raw: Any,
    path: Path,
    elements: Mapping[str, ElementDef],
    composites: Mapping[str, CompositeDef],
) -> SegmentDef:
    where = f"segments.{tag}"
    if not (isinstance(raw, dict) and re.fullmatch(r"[A-Z][A-Z0-9]{1,2}", tag)):
        raise SpecError(f"{where}: expected a mapping under a 2-3 character tag", path=str(path))
    uses = tuple(
        _element_use(e, i, f"{where}.elements[{i}]", path, elements, composites)
        for i, e in enumerate(raw.get("elements") or (), start=1)
    )
    rules = tuple(parse_rule(r, where, str(path)) for r in raw.get("rules") or ())
    _check_rules(rules, len(uses), where, path)
    permissive = bool(raw.get("permissive", False))
    if not uses and not permissive:
        raise SpecError(f"{where}: no elements (mark it permissive: true)", path=str(path))
    return SegmentDef(tag, str(raw.get("name", "")), uses, rules, permissive)


def segment_directory(root: Path | None = None) -> frozenset[str]:
    """Every tag known as an X12 segment ID: ``specs/directory.yaml`` plus the segments the
    families define. Tells "not in this set" (AK304 6) from "not a segment" (AK304 1)."""
    return _segment_directory(root or _spec_root())


@functools.lru_cache(maxsize=8)
def _segment_directory(root: Path) -> frozenset[str]:
    path = root / "directory.yaml"
    listed = _read_yaml(path).get("segments") if path.exists() else []
    if not isinstance(listed, list) or not all(
        isinstance(t, str) and re.fullmatch(r"[A-Z][A-Z0-9]{1,2}", t) for t in listed
    ):
        raise SpecError("segments: expected a list of 2-3 character tags", path=str(path))
    tags = set(listed)
    for family in (p.parent.name for p in root.glob("*/segments.yaml")):
        tags.update(_raw_family(root, family)[2])
    return frozenset(tags)


def available_sets(family: str, root: Path | None = None) -> frozenset[str]:
    """The transaction set ids a family has a spec for."""
    base = (root or _spec_root()) / family
    return frozenset(p.stem for p in base.glob("*.yaml") if p.stem.isdigit())


def load_transaction(set_id: str, family: str, root: Path | None = None) -> TransactionSpec:
    """The spec of one transaction set (cached). Raises :class:`SpecError` when missing."""
    return _load_transaction(root or _spec_root(), set_id, family)


@functools.lru_cache(maxsize=64)
def _load_transaction(root: Path, set_id: str, family: str) -> TransactionSpec:
    path = root / family / f"{set_id}.yaml"
    if not path.exists():
        raise SpecError(f"no spec for transaction set {set_id} in {family}", path=str(path))
    data = _read_yaml(path)
    dictionary = _load_dictionary(root, family)
    vocabulary: set[str] = set()

    def node(raw: Any, where: str) -> SegmentUse | LoopDef:
        if isinstance(raw, list):
            if len(raw) != 3 or raw[1] not in ("M", "O"):
                raise SpecError(f"{where}: expected [TAG, M|O, max]", path=str(path))
            seg = dictionary.segments.get(str(raw[0]))
            if seg is None:
                raise SpecError(
                    f"{where}: segment {raw[0]!r} is not defined in {family}/segments.yaml",
                    path=str(path),
                )
            vocabulary.add(seg.tag)
            return SegmentUse(seg, raw[1], _max(raw[2], where, path))
        if isinstance(raw, dict) and "loop" in raw:
            loop_id = str(raw["loop"])
            body = raw.get("body")
            if not isinstance(body, list) or not body:
                raise SpecError(f"{where}: loop {loop_id} has no body", path=str(path))
            children = tuple(node(c, f"{where}.{loop_id}[{i}]") for i, c in enumerate(body))
            if not isinstance(children[0], SegmentUse):
                raise SpecError(
                    f"{where}: loop {loop_id} must start with a segment", path=str(path)
                )
            usage = raw.get("usage", "O")
            if usage not in ("M", "O"):
                raise SpecError(f"{where}: loop usage must be M or O", path=str(path))
            return LoopDef(loop_id, usage, _max(raw.get("max", ">1"), where, path), children)
        raise SpecError(f"{where}: expected [TAG, usage, max] or {{loop: ...}}", path=str(path))

    structure = data.get("structure")
    if not isinstance(structure, list) or not structure:
        raise SpecError("structure: missing or empty", path=str(path))
    children = tuple(node(c, f"structure[{i}]") for i, c in enumerate(structure))
    root_loop = LoopDef("", "M", 1, children)
    if root_loop.trigger.tag != "ST" or not (
        isinstance(children[-1], SegmentUse) and children[-1].tag == "SE"
    ):
        raise SpecError("structure must start with ST and end with SE", path=str(path))
    checks = data.get("checks") or {}
    line_count = hash_total = None
    if "line_count" in checks:
        lc = checks["line_count"]
        tags = lc.get("count")
        line_count = LineCount(str(lc["segment"]), int(lc["element"]), tuple(map(str, tags)))
    if "hash_total" in checks:
        ht = checks["hash_total"]
        m = re.fullmatch(r"([A-Z][A-Z0-9]{1,2})(\d\d)", str(ht.get("sum", "")))
        if m is None:
            raise SpecError("checks.hash_total.sum: expected e.g. PO102", path=str(path))
        level = ht.get("or_hl_level")
        hash_total = HashTotal(
            str(ht["segment"]), int(ht["element"]), m[1], int(m[2]), str(level) if level else None
        )
    return TransactionSpec(
        set_id=str(data.get("set", set_id)),
        family=family,
        name=str(data.get("name", "")),
        root=root_loop,
        line_count=line_count,
        hash_total=hash_total,
        hl_numbering=bool(checks.get("hl_numbering", False)),
        vocabulary=frozenset(vocabulary),
    )


# -------------------------------------------------------------------------- value checking
_REAL = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:E-?[0-9]+)?")
_GOOD_DATES: set[str] = set()
_GOOD_TIMES: set[str] = set()
_CACHE_LIMIT = 50_000


def real_digits(value: str) -> int:
    """Significant length of an R value (sign, point and exponent not counted), -1 if invalid."""
    plain = value.replace(".", "", 1)
    if plain.isdigit() and plain.isascii():
        return len(plain)
    if _REAL.fullmatch(value) is None:
        return -1
    mantissa = value.split("E", 1)[0]
    return sum(c.isdigit() for c in mantissa)


def numeric_digits(value: str) -> int:
    """Length of an Nn value (sign not counted), -1 if not an optionally signed integer."""
    digits = value[1:] if value[:1] == "-" else value
    return len(digits) if digits.isdigit() and digits.isascii() else -1


def valid_date(value: str, lengths: frozenset[int]) -> bool:
    """CCYYMMDD (or YYMMDD where allowed), a real calendar day. Valid values are cached."""
    if value in _GOOD_DATES:
        return len(value) in lengths
    if len(value) not in lengths or not (value.isdigit() and value.isascii()):
        return False
    if len(value) == 6:
        year = int(value[:2])
        year += 2000 if year < 50 else 1900
        month, day = int(value[2:4]), int(value[4:6])
    else:
        year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    try:
        _dt.date(year, month, day)
    except ValueError:
        return False
    if len(_GOOD_DATES) > _CACHE_LIMIT:
        _GOOD_DATES.clear()
    _GOOD_DATES.add(value)
    return True


def valid_time(value: str) -> bool:
    """HHMM, HHMMSS, HHMMSSd or HHMMSSdd with real hours, minutes and seconds (cached)."""
    if value in _GOOD_TIMES:
        return True
    if len(value) not in (4, 6, 7, 8) or not (value.isdigit() and value.isascii()):
        return False
    if int(value[:2]) > 23 or int(value[2:4]) > 59 or (len(value) >= 6 and int(value[4:6]) > 59):
        return False
    if len(_GOOD_TIMES) > _CACHE_LIMIT:
        _GOOD_TIMES.clear()
    _GOOD_TIMES.add(value)
    return True


def date_lengths(element: ElementDef, legacy_dates: bool) -> frozenset[int]:
    """DT lengths an element accepts: 8 (CCYYMMDD) and/or 6 (YYMMDD, pre-4010 versions)."""
    lengths = {n for n in (6, 8) if element.min <= n <= element.max}
    if legacy_dates:
        lengths.add(6)
    return frozenset(lengths or {element.max})


# --------------------------------------------------------------------------- the compiler
_PAD = tuple([""] * i for i in range(100))


class _Gen:
    """Writes the straight-line checker of one segment (see :func:`compile_segment`)."""

    def __init__(self, legacy_dates: bool) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {
            "_PAD": _PAD,
            "_real": real_digits,
            "_date": valid_date,
            "_time": valid_time,
            "_DATES": _GOOD_DATES,
            "_TIMES": _GOOD_TIMES,
        }
        self.legacy = legacy_dates
        self.counter = 0

    def const(self, value: Any) -> str:
        self.counter += 1
        name = f"_k{self.counter}"
        self.ns[name] = value
        return name

    def emit(self, indent: int, text: str) -> None:
        self.lines.append("    " * indent + text)

    def value_check(self, indent: int, var: str, e: ElementDef, seps: bool) -> None:
        """Statements returning False unless ``var`` (non-empty) is a valid ``e`` value."""
        lo, hi = e.min, e.max
        length = (
            f"len({var}) <= {hi}"
            if lo <= 1
            else f"len({var}) == {lo}"
            if lo == hi
            else f"{lo} <= len({var}) <= {hi}"
        )
        sep = f" or cs in {var} or rs in {var}" if seps else ""
        if e.codes is not None:
            codes = self.const(e.codes)
            # Codes are letters and digits, so a code never holds a separator; only check
            # separators when some odd code could.
            odd = seps and any(not c.isalnum() for c in e.codes)
            self.emit(indent, f"if {var} not in {codes}{sep if odd else ''}: return False")
        elif e.type in ("AN", "ID"):
            self.emit(indent, f"if not ({length} and {var}.isprintable()){sep}: return False")
        elif e.type in NUMERIC_TYPES:
            self.emit(indent, f"_d = {var}[1:] if {var}[0] == '-' else {var}")
            self.emit(
                indent,
                f"if not (_d.isdigit() and _d.isascii() and {lo} <= len(_d) <= {hi}): return False",
            )
        elif e.type == "R":
            self.emit(indent, f"if {var}.isdigit() and {var}.isascii():")
            self.emit(indent + 1, f"if not {lo} <= len({var}) <= {hi}: return False")
            self.emit(indent, f"elif not {lo} <= _real({var}) <= {hi}: return False")
        elif e.type == "DT":
            lens = self.const(date_lengths(e, self.legacy))
            self.emit(indent, f"if not _date({var}, {lens}): return False")
        elif e.type == "TM":
            self.emit(
                indent,
                f"if not ({length} and ({var} in _TIMES or _time({var}))): return False",
            )
        else:  # pragma: no cover - TYPES is closed
            raise AssertionError(e.type)

    def rules(
        self, indent: int, rules: Sequence[Rule], prefix: str, empty: int | None = None
    ) -> None:
        """Statements returning False when a syntax rule is broken.

        Positions from ``empty`` on are known to be empty (the checker of a segment with
        fewer elements): rules are folded on them when generated, so a 5-element SDQ does
        not test its nine pairs of absent locations on every call.
        """
        for rule in rules:
            present = [p for p in rule.positions if empty is None or p < empty]
            names = [f"{prefix}{p}" for p in present]
            whole = len(present) == len(rule.positions)
            if rule.kind == "P":
                if not names:
                    continue
                if whole:
                    self.emit(
                        indent,
                        f"if ({' or '.join(names)}) and not ({' and '.join(names)}): return False",
                    )
                else:  # one of the pair is absent, so none may be there
                    self.emit(indent, f"if {' or '.join(names)}: return False")
            elif rule.kind == "R":
                self.emit(indent, f"if not ({' or '.join(names) or '0'}): return False")
            elif rule.kind in ("C", "L"):
                first, rest = f"{prefix}{rule.positions[0]}", names[1:]
                if not names or names[0] != first:
                    continue  # the condition is absent
                if (rule.kind == "C" and not whole) or not rest:  # nothing can satisfy it
                    self.emit(indent, f"if {first}: return False")
                elif rule.kind == "C":
                    self.emit(indent, f"if {first} and not ({' and '.join(rest)}): return False")
                else:
                    self.emit(indent, f"if {first} and not ({' or '.join(rest)}): return False")
            else:  # E
                if len(names) < 2:
                    continue
                present_count = " + ".join(f"(1 if {n} else 0)" for n in names)
                self.emit(indent, f"if {present_count} > 1: return False")

    def composite(self, c: CompositeDef) -> str:
        """A helper function checking one (non-empty) composite value."""
        self.counter += 1
        fname = f"_c{self.counter}"
        n = len(c.components)
        names = [f"c{u.position}" for u in c.components]
        body = self.lines
        self.lines = []
        self.emit(0, f"def {fname}(v, cs, rs):")
        self.emit(1, "if rs in v: return False")
        self.emit(1, "p = v.split(cs)")
        self.emit(1, "m = len(p)")
        self.emit(1, f"if m > {n}:")
        self.emit(2, f"if any(p[{n}:]): return False")
        self.emit(2, f"p = p[:{n}]")
        self.emit(1, f"elif m < {n}: p = p + _PAD[{n} - m]")
        self.emit(1, f"{', '.join(names)}, = p")
        for u in c.components:
            self.element(1, u, f"c{u.position}", seps=False)
        self.rules(1, c.rules, "c")
        self.emit(1, "return True")
        code = "\n".join(self.lines)
        self.lines = body
        exec(compile(code, f"<x12 composite {c.ref}>", "exec"), self.ns)
        return fname

    def element(self, indent: int, u: ElementUse, var: str, seps: bool = True) -> None:
        if u.mandatory:
            self.emit(indent, f"if not {var}: return False")
            inner = indent
        else:
            self.emit(indent, f"if {var}:")
            inner = indent + 1
        if u.repeat > 1:
            self.emit(inner, f"_r = {var}.split(rs)")
            self.emit(inner, f"if len(_r) > {u.repeat}: return False")
            self.emit(inner, "for _v in _r:")
            self.emit(inner + 1, "if not _v: continue")
            self.one_value(inner + 1, u, "_v", seps, repeated=True)
        else:
            self.one_value(inner, u, var, seps, repeated=False)

    def one_value(self, indent: int, u: ElementUse, var: str, seps: bool, repeated: bool) -> None:
        if u.composite is not None:
            fname = self.composite(u.composite)
            self.emit(indent, f"if not {fname}({var}, cs, rs): return False")
        else:
            assert u.element is not None
            if repeated and seps:
                # The repetition separator was split off; a component separator is still wrong.
                self.emit(indent, f"if cs in {var}: return False")
                seps = False
            self.value_check(indent, var, u.element, seps)


def compile_segment(segment: SegmentDef, legacy_dates: bool = False) -> SegmentCheck:
    """One function ``check(elements, component_sep, repetition_sep) -> bool`` for a segment.

    True means no element, component, repetition or syntax-rule problem at all; the
    validator then has nothing to report for the segment. Pass :data:`NO_SEPARATOR` as
    ``repetition_sep`` when the interchange has none. Results are cached per definition.
    """
    return _compile_segment(segment, legacy_dates)


@functools.lru_cache(maxsize=4096)
def _compile_segment(segment: SegmentDef, legacy_dates: bool) -> SegmentCheck:
    """A dispatcher on the number of elements present: each count gets a checker of its own
    (generated on first use) that tests only the elements there are, without padding the
    list to full length (an allocation per segment) and testing every absent one."""
    if segment.permissive:
        return _always_valid
    full = len(segment.elements) + 1
    variants: list[SegmentCheck] = []

    def first_use(count: int) -> SegmentCheck:
        def generate(els: Sequence[str], cs: str, rs: str) -> bool:
            check = _variant(segment, legacy_dates, count)
            variants[count] = check
            return check(els, cs, rs)

        return generate

    variants.extend(first_use(count) for count in range(full + 1))
    ns: dict[str, Any] = {"_v": variants}
    code = "\n".join(
        [
            "def check(els, cs, rs):",
            "    n = len(els)",
            f"    if n > {full}:",
            f"        if any(els[{full}:]): return False",
            f"        return _v[{full}](els[:{full}], cs, rs)",
            "    return _v[n](els, cs, rs)",
        ]
    )
    exec(compile(code, f"<x12 segment {segment.tag}>", "exec"), ns)
    return cast(SegmentCheck, ns["check"])


def _variant(segment: SegmentDef, legacy_dates: bool, count: int) -> SegmentCheck:
    """The checker of ``segment`` given exactly ``count`` elements (the tag included)."""
    gen = _Gen(legacy_dates)
    gen.emit(0, "def check(els, cs, rs):")
    present = [u for u in segment.elements if u.position < count]
    absent = [u for u in segment.elements if u.position >= count]
    if any(u.mandatory for u in absent):
        gen.emit(1, "return False")
    else:
        if present:
            gen.emit(1, f"_, {', '.join(f'e{u.position}' for u in present)}, = els")
        for u in present:
            gen.element(1, u, f"e{u.position}")
        gen.rules(1, segment.rules, "e", empty=count)
        gen.emit(1, "return True")
    code = "\n".join(gen.lines)
    exec(compile(code, f"<x12 segment {segment.tag}/{count}>", "exec"), gen.ns)
    return cast(SegmentCheck, gen.ns["check"])


def _padded_check(segment: SegmentDef, legacy_dates: bool = False) -> SegmentCheck:
    """The single-function checker (every element, list padded): the reference the
    per-count checkers are tested against."""
    gen = _Gen(legacy_dates)
    n = len(segment.elements)
    gen.emit(0, "def check(els, cs, rs):")
    gen.emit(1, "n = len(els)")
    gen.emit(1, f"if n > {n + 1}:")
    gen.emit(2, f"if any(els[{n + 1}:]): return False")
    gen.emit(2, f"els = els[:{n + 1}]")
    gen.emit(1, f"elif n < {n + 1}: els = els + _PAD[{n + 1} - n]")
    gen.emit(1, f"_, {', '.join(f'e{u.position}' for u in segment.elements)}, = els")
    for u in segment.elements:
        gen.element(1, u, f"e{u.position}")
    gen.rules(1, segment.rules, "e")
    gen.emit(1, "return True")
    code = "\n".join(gen.lines)
    exec(compile(code, f"<x12 segment {segment.tag}>", "exec"), gen.ns)
    return cast(SegmentCheck, gen.ns["check"])


def _always_valid(els: Sequence[str], cs: str, rs: str) -> bool:
    return True


# ------------------------------------------------------------------------ matcher tables
@dataclass(eq=False, slots=True)
class CompiledChild:
    """One position of a compiled loop: a segment, or a nested loop (``loop`` set)."""

    tag: str
    use: SegmentUse
    check: SegmentCheck
    mandatory: bool
    max: int
    loop: CompiledLoop | None = None


@dataclass(eq=False, slots=True)
class CompiledLoop:
    """A loop ready for the matcher.

    ``forward[i + 1]`` maps a tag to the first child index ``j >= i`` it can match after
    child ``i`` (index -1 before anything); ``earlier[i + 1]`` holds every tag that only
    occurs before child ``i`` (deep), which is how out-of-sequence is told from unexpected.
    ``next_mandatory[i + 1]`` is the first mandatory child after ``i``.
    """

    id: str
    path: tuple[str, ...]
    mandatory: bool
    max: int
    children: list[CompiledChild] = field(default_factory=list)
    forward: list[dict[str, int]] = field(default_factory=list)
    earlier: list[frozenset[str]] = field(default_factory=list)
    next_mandatory: list[int] = field(default_factory=list)
    mandatory_indexes: tuple[int, ...] = ()
    last_mandatory: int = -1
    requirements: tuple[SegmentRequirement, ...] = ()
    requirement_index: tuple[int, ...] = ()
    requirement_tags: frozenset[str] = frozenset()


UNBOUNDED = 1 << 62


def compile_loop(
    loop: LoopDef, legacy_dates: bool = False, path: tuple[str, ...] = ()
) -> CompiledLoop:
    """Precompute the matcher tables of a loop tree (the transaction root included)."""
    here = path + ((loop.id,) if loop.id else ())
    out = CompiledLoop(
        loop.id,
        here,
        loop.mandatory,
        loop.max_repeat or UNBOUNDED,
        requirements=loop.requirements,
    )
    deep: list[frozenset[str]] = []
    for i, child in enumerate(loop.children):
        if isinstance(child, LoopDef):
            sub = compile_loop(child, legacy_dates, here)
            trig = child.trigger
            out.children.append(
                CompiledChild(
                    trig.tag,
                    trig,
                    compile_segment(trig.segment, legacy_dates),
                    child.mandatory,
                    child.max_repeat or UNBOUNDED,
                    sub,
                )
            )
            deep.append(frozenset(_deep_tags(child)))
        else:
            # A loop's trigger counts once per instance whatever the table says.
            once = loop.id != "" and i == 0
            out.children.append(
                CompiledChild(
                    child.tag,
                    child,
                    compile_segment(child.segment, legacy_dates),
                    child.mandatory or once,
                    1 if once else (child.max_use or UNBOUNDED),
                )
            )
            deep.append(frozenset({child.tag}))
    n = len(out.children)
    # Inside a loop its trigger never matches again: a second trigger starts a new instance,
    # which the enclosing loop's table handles. The root (ST) has no enclosing loop.
    first = 1 if loop.id else 0
    for i in range(-1, n):
        table: dict[str, int] = {}
        for j in range(max(i, first), n):
            table.setdefault(out.children[j].tag, j)
        out.forward.append(table)
        before: set[str] = set()
        for j in range(0, max(i, 0)):
            before |= deep[j]
        out.earlier.append(frozenset(before))
        nxt = next((j for j in range(i + 1, n) if out.children[j].mandatory), UNBOUNDED)
        out.next_mandatory.append(nxt)
    out.mandatory_indexes = tuple(j for j in range(n) if out.children[j].mandatory)
    out.last_mandatory = max(out.mandatory_indexes, default=-1)
    out.requirement_index = tuple(
        next(j for j, c in enumerate(out.children) if c.tag == req.tag) for req in loop.requirements
    )
    out.requirement_tags = frozenset(req.tag for req in loop.requirements)
    return out


def _deep_tags(loop: LoopDef) -> set[str]:
    tags: set[str] = set()
    for child in loop.children:
        tags |= _deep_tags(child) if isinstance(child, LoopDef) else {child.tag}
    return tags


def walk_segment_uses(loop: LoopDef) -> Iterable[tuple[tuple[str, ...], SegmentUse]]:
    """Every segment position of a loop tree with the loop-id path that encloses it."""

    def walk(node: LoopDef, path: tuple[str, ...]) -> Iterable[tuple[tuple[str, ...], SegmentUse]]:
        here = path + ((node.id,) if node.id else ())
        for child in node.children:
            if isinstance(child, LoopDef):
                yield from walk(child, here)
            else:
                yield here, child

    return walk(loop, ())
