"""Partner overlays: one trading partner's tightening of a standard transaction-set spec.

Implementation guides narrow the standard: "REF with REF01=DP is required in the header",
"PER is required", "PO103 is EA or CA", "N102 at most 35 characters", "no more than 200
PO1 loops". An :class:`Overlay` says that as plain data; :func:`apply_overlay` rewrites a
:class:`~edigate.x12.spec.TransactionSpec` accordingly, and the validator compiles the result
once per overlay object (see :func:`edigate.x12.validator.validator_for`).

Addressing:

* an element is ``TAGnn`` (``PO103``) or ``TAGnn-c`` for a component (``REF04-1``); prefix a
  loop path to scope it (``PO1/REF02``: REF inside PO1 loops; ``/REF02``: header-level REF);
* a loop is its loop id (``PO1``) or a path of loop ids (``PO1/N1``);
* a required segment names its tag, the loop it is required in (``None`` for the header,
  i.e. the top level of the set) and optional element values it must carry.

Usage::

    overlay = Overlay(
        name="acme",
        required_segments=(RequiredSegment("REF", where={"REF01": "DP"}),),
        required_elements=("PER02",),
        codes={"PO103": ("EA", "CA")},
        max_lengths={"N102": 35},
        loop_max={"PO1": 200},
    )
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

from .spec import (
    CompositeDef,
    ElementDef,
    ElementUse,
    LoopDef,
    SegmentDef,
    SegmentRequirement,
    SegmentUse,
    SpecError,
    TransactionSpec,
    walk_segment_uses,
)

_ELEMENT_PATH = re.compile(
    r"(?P<scope>/|(?:/?[A-Z0-9]{2,3}/)+)?(?P<ref>[A-Z][A-Z0-9]{1,2}\d\d(?:-\d{1,2})?)"
)


@dataclass(frozen=True)
class RequiredSegment:
    """At least ``min_count`` ``tag`` segments in each instance of ``loop`` (``None``: the
    header), each carrying the element values in ``where`` (e.g. ``{"REF01": "DP"}``)."""

    tag: str
    loop: str | None = None
    where: Mapping[str, str] = field(default_factory=dict)
    min_count: int = 1


@dataclass(frozen=True, eq=False)
class Overlay:
    """A partner's tightening of a spec. Compiled validators are cached per overlay *object*
    (identity), so build one per partner and reuse it."""

    name: str = ""
    required_segments: tuple[RequiredSegment, ...] = ()
    required_elements: tuple[str, ...] = ()
    codes: Mapping[str, Collection[str]] = field(default_factory=dict)
    max_lengths: Mapping[str, int] = field(default_factory=dict)
    loop_max: Mapping[str, int] = field(default_factory=dict)
    segment_max: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _ElementRef:
    scope: tuple[str, ...] | None  # None: anywhere; () : top level only; else loop-id suffix
    tag: str
    position: int
    component: int | None
    text: str


def apply_overlay(
    spec: TransactionSpec, overlay: Overlay, *, strict: bool = True
) -> TransactionSpec:
    """The spec with the overlay's restrictions applied; raises :class:`SpecError` when the
    overlay names something the spec does not have (so typos in partner maps surface).

    ``strict=False`` (the validator, on what arrives) applies what matches and passes over
    a restriction that matches nothing: a map written for one version family, checked
    strictly when it is loaded, must not fail every document of the other family.
    """
    label = f"overlay {overlay.name!r}" if overlay.name else "overlay"
    used: set[str] = set()
    elements = [
        (_parse_element(k, spec, label), kind, value)
        for kind, items in (
            ("required", {k: True for k in overlay.required_elements}),
            ("codes", overlay.codes),
            ("max", overlay.max_lengths),
        )
        for k, value in items.items()
    ]
    loops = {_split_path(k): v for k, v in overlay.loop_max.items()}
    seg_max = {_parse_segment_key(k, label): (k, v) for k, v in overlay.segment_max.items()}
    requirements = [_requirement(r, spec, label) for r in overlay.required_segments]

    def rewrite_segment(use: SegmentUse, path: tuple[str, ...], trigger: bool) -> SegmentUse:
        seg = use.segment
        # A loop's trigger also belongs to the enclosing loop: "PO1/PID05" names the PID that
        # starts a PID loop inside PO1.
        paths = (path, path[:-1]) if trigger else (path,)
        for ref, kind, value in elements:
            if ref.tag == seg.tag and any(_in_scope(ref.scope, p) for p in paths):
                seg = _tighten(seg, ref, kind, value, label)
                used.add(ref.text)
        max_use = use.max_use
        for (scope, tag), (key, limit) in seg_max.items():
            if tag == seg.tag and any(_in_scope(scope, p) for p in paths):
                max_use = limit if max_use is None else min(max_use, limit)
                used.add(f"segment_max:{key}")
        return SegmentUse(seg, use.usage, max_use)

    def rewrite_loop(loop: LoopDef, path: tuple[str, ...]) -> LoopDef:
        here = path + ((loop.id,) if loop.id else ())
        children: list[SegmentUse | LoopDef] = []
        for k, child in enumerate(loop.children):
            if isinstance(child, LoopDef):
                sub = rewrite_loop(child, here)
                sub_path = (*here, child.id)
                for key, limit in loops.items():
                    if _suffix(sub_path, key):
                        used.add("loop:" + "/".join(key))
                        current = sub.max_repeat
                        sub = dataclasses.replace(
                            sub, max_repeat=limit if current is None else min(current, limit)
                        )
                children.append(sub)
            else:
                children.append(rewrite_segment(child, here, trigger=k == 0 and bool(loop.id)))
        reqs = list(loop.requirements)
        for req, loop_path in requirements:
            if (loop_path == () and not here) or (loop_path and here and _suffix(here, loop_path)):
                if not any(_child_tag(c) == req.tag for c in children):
                    if not strict:
                        continue
                    raise SpecError(
                        f"{label}: {req.tag} is not a segment of loop "
                        f"{'/'.join(here) or 'header'} in {spec.set_id}"
                    )
                used.add("req:" + req.source)
                if req.where:
                    reqs.append(req)
                else:
                    children = [_make_mandatory(c, req.tag) for c in children]
        return dataclasses.replace(loop, children=tuple(children), requirements=tuple(reqs))

    root = rewrite_loop(spec.root, ())
    if not strict:
        return dataclasses.replace(spec, root=root)
    for ref, _, _ in elements:
        if ref.text not in used:
            raise SpecError(
                f"{label}: {ref.text} matches no segment of {spec.set_id} {spec.family}"
            )
    for key in loops:
        if "loop:" + "/".join(key) not in used:
            raise SpecError(f"{label}: loop {'/'.join(key)} is not in {spec.set_id} {spec.family}")
    for text, _ in seg_max.values():
        if f"segment_max:{text}" not in used:
            raise SpecError(
                f"{label}: max_segments {text} matches no segment of {spec.set_id} {spec.family}"
            )
    for req, _ in requirements:
        if "req:" + req.source not in used:
            raise SpecError(f"{label}: no loop for required segment {req.source}")
    return dataclasses.replace(spec, root=root)


# ----------------------------------------------------------------------------- helpers
def _split_path(text: str) -> tuple[str, ...]:
    parts = tuple(p for p in text.strip().split("/") if p)
    if not parts:
        raise SpecError(f"invalid loop path {text!r}")
    return parts


def _suffix(path: tuple[str, ...], key: tuple[str, ...]) -> bool:
    return len(path) >= len(key) and path[len(path) - len(key) :] == key


def _in_scope(scope: tuple[str, ...] | None, path: tuple[str, ...]) -> bool:
    if scope is None:
        return True
    if scope == ():
        return path == ()
    return _suffix(path, scope)


def _child_tag(child: SegmentUse | LoopDef) -> str:
    return child.tag


def _make_mandatory(child: SegmentUse | LoopDef, tag: str) -> SegmentUse | LoopDef:
    if child.tag != tag:
        return child
    if isinstance(child, LoopDef):
        return dataclasses.replace(child, usage="M")
    return SegmentUse(child.segment, "M", child.max_use)


def _parse_element(text: str, spec: TransactionSpec, label: str) -> _ElementRef:
    m = _ELEMENT_PATH.fullmatch(text.strip())
    if m is None:
        raise SpecError(f"{label}: {text!r} is not an element reference like PO103 or N1/REF02")
    scope_text, ref = m["scope"], m["ref"]
    scope: tuple[str, ...] | None
    if scope_text is None:
        scope = None
    elif scope_text == "/":
        scope = ()
    else:
        scope = tuple(p for p in scope_text.split("/") if p)
    main, _, comp = ref.partition("-")
    # Positions are always two digits: "N102" is N1 + 02, "PO103" is PO1 + 03.
    tag, pos = main[:-2], int(main[-2:])
    if tag not in spec.vocabulary:
        raise SpecError(f"{label}: {text!r}: segment {tag} is not in {spec.set_id}")
    return _ElementRef(scope, tag, pos, int(comp) if comp else None, text)


def _parse_segment_key(text: str, label: str) -> tuple[tuple[str, ...] | None, str]:
    parts = text.strip().split("/")
    tag = parts[-1]
    if not re.fullmatch(r"[A-Z][A-Z0-9]{1,2}", tag):
        raise SpecError(f"{label}: segment_max key {text!r} must end in a segment tag")
    head = parts[:-1]
    if not head:
        return None, tag
    if head == [""]:
        return (), tag
    return tuple(p for p in head if p), tag


def _requirement(
    req: RequiredSegment, spec: TransactionSpec, label: str
) -> tuple[SegmentRequirement, tuple[str, ...]]:
    if req.tag not in spec.vocabulary:
        raise SpecError(f"{label}: required segment {req.tag} is not in {spec.set_id}")
    width = max(
        (
            len(use.segment.elements)
            for _, use in walk_segment_uses(spec.root)
            if use.segment.tag == req.tag
        ),
        default=0,
    )
    where: list[tuple[int, str]] = []
    for key, value in req.where.items():
        m = re.fullmatch(rf"{re.escape(req.tag)}(\d\d)", key)
        if m is None:
            raise SpecError(f"{label}: condition {key!r} must name an element of {req.tag}")
        if not 1 <= int(m[1]) <= width:  # else no segment could ever meet it
            raise SpecError(f"{label}: condition {key!r}: {req.tag} has {width} elements")
        where.append((int(m[1]), str(value)))
    loop_path = _split_path(req.loop) if req.loop else ()
    cond = ",".join(f"{k}={v}" for k, v in sorted(req.where.items()))
    source = f"{req.loop or 'header'}/{req.tag}[{cond}]"
    if req.min_count < 1:
        raise SpecError(f"{label}: min_count of {source} must be at least 1")
    return SegmentRequirement(req.tag, tuple(sorted(where)), req.min_count, source), loop_path


def _tighten(seg: SegmentDef, ref: _ElementRef, kind: str, value: object, label: str) -> SegmentDef:
    uses = list(seg.elements)
    if not 1 <= ref.position <= len(uses):
        raise SpecError(f"{label}: {ref.text}: {seg.tag} has {len(uses)} elements")
    use = uses[ref.position - 1]
    if ref.component is not None:
        comp = use.composite
        if comp is None or not 1 <= ref.component <= len(comp.components):
            raise SpecError(f"{label}: {ref.text}: no such component")
        parts = list(comp.components)
        parts[ref.component - 1] = _tighten_use(parts[ref.component - 1], kind, value, ref, label)
        new_comp = CompositeDef(comp.ref, comp.name, tuple(parts), comp.rules)
        uses[ref.position - 1] = dataclasses.replace(use, composite=new_comp)
    else:
        uses[ref.position - 1] = _tighten_use(use, kind, value, ref, label)
    return dataclasses.replace(seg, elements=tuple(uses), permissive=False)


def _tighten_use(
    use: ElementUse, kind: str, value: object, ref: _ElementRef, label: str
) -> ElementUse:
    if kind == "required":
        return dataclasses.replace(use, usage="M")
    element = use.element
    if element is None:
        raise SpecError(f"{label}: {ref.text} is a composite; name a component (e.g. -1)")
    change: Callable[[ElementDef], ElementDef]
    if kind == "codes":
        assert isinstance(value, Collection)
        codes = frozenset(str(v) for v in value)
        bad = sorted(c for c in codes if not element.min <= len(c) <= element.max)
        if not codes or bad:
            raise SpecError(
                f"{label}: {ref.text}: codes {bad or '[]'} do not fit {element.type} "
                f"{element.min}..{element.max}"
            )

        def change(e: ElementDef) -> ElementDef:
            return dataclasses.replace(e, codes=codes)

    else:
        assert isinstance(value, int)
        if value < element.min:
            raise SpecError(
                f"{label}: {ref.text}: max length {value} is below the minimum {element.min}"
            )
        limit = min(value, element.max)
        too_long = sorted(c for c in element.codes or () if len(c) > limit)
        if too_long:
            raise SpecError(f"{label}: {ref.text}: codes {too_long} are longer than {limit}")

        def change(e: ElementDef) -> ElementDef:
            return dataclasses.replace(e, max=limit)

    return dataclasses.replace(use, element=change(element))
