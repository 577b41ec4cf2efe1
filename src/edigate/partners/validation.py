"""A partner's extra X12 rules ("validation overlay"), as neutral typed data.

Partners tighten the standard: *we require REF*DP*, *only EA or CA in PO103*, *at most 200
PO1 loops*. The map states them in YAML; this module holds them in plain frozen dataclasses
and turns them into the X12 codec's :class:`~edigate.x12.overlay.Overlay` (:func:`to_overlay`).

Element references use X12's usual spelling: ``PO103`` is element 3 of PO1, ``REF01``
element 1 of REF, ``SLN05-01`` component 1 of element 5 of SLN. A loop path in front scopes
it: ``PO1/REF02`` is REF02 inside PO1 loops, ``/REF02`` the header-level REF only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..x12 import overlay as x12_overlay

_REF = re.compile(
    r"^(?P<scope>/|(?:/?[A-Z0-9]{2,3}/)+)?(?P<tag>[A-Z][A-Z0-9]{1,2})(?P<el>\d{2})"
    r"(?:-(?P<comp>\d{1,2}))?$"
)
_TAG = re.compile(r"^[A-Z][A-Z0-9]{1,2}$")
_LOOP = re.compile(r"^/?[A-Z0-9]{2,3}(?:/[A-Z0-9]{2,3})*$")


@dataclass(frozen=True, slots=True)
class ElementRef:
    """One element (and optionally one component) of a segment; positions are 1-based.

    ``scope``: None anywhere, ``()`` the header only, else the loop path it must be inside.
    """

    tag: str
    element: int
    component: int | None = None
    scope: tuple[str, ...] | None = None

    def __str__(self) -> str:
        text = f"{self.tag}{self.element:02d}"
        if self.component is not None:
            text += f"-{self.component:02d}"
        if self.scope is None:
            return text
        return "/".join(self.scope) + "/" + text if self.scope else "/" + text


@dataclass(frozen=True, slots=True)
class RequiredSegment:
    """``tag`` must occur (``min_count`` times) in each ``loop`` (None: the header); with
    ``when``, the occurrences must also carry these element values.

    ``RequiredSegment("REF", ((ElementRef("REF", 1), "DP"),))``: a REF whose REF01 is DP.
    """

    tag: str
    when: tuple[tuple[ElementRef, str], ...] = ()
    loop: str | None = None
    min_count: int = 1


@dataclass(frozen=True, slots=True)
class AllowedCodes:
    """Only ``codes`` may appear in ``element`` (on top of the standard's own code list)."""

    element: ElementRef
    codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class MaxLength:
    element: ElementRef
    length: int


@dataclass(frozen=True, slots=True)
class MaxOccurs:
    """``tag`` (a loop id or loop path for loops; a segment tag, optionally scoped, for
    segments) may occur at most ``limit`` times."""

    tag: str
    limit: int


@dataclass(frozen=True, slots=True)
class ValidationSpec:
    """Everything a partner adds for one transaction set (``set_id`` such as ``850``)."""

    set_id: str
    require: tuple[RequiredSegment, ...] = ()
    elements: tuple[ElementRef, ...] = ()
    codes: tuple[AllowedCodes, ...] = ()
    max_lengths: tuple[MaxLength, ...] = ()
    max: tuple[MaxOccurs, ...] = ()  # loops
    max_segments: tuple[MaxOccurs, ...] = ()


def parse_element_ref(text: str) -> ElementRef:
    """``"PO103"`` -> ``ElementRef("PO1", 3)``; ``ValueError`` for anything else."""
    m = _REF.match(text)
    if m is None:
        raise ValueError(
            f"{text!r} is not an element reference like PO103 (segment tag, then the element "
            "position in two digits, optionally -NN for a component, optionally a loop path "
            "before it: PO1/REF02)"
        )
    element = int(m["el"])
    component = int(m["comp"]) if m["comp"] else None
    if element == 0 or component == 0:
        raise ValueError(f"{text!r}: element and component positions start at 1")
    scope_text = m["scope"]
    scope = None if scope_text is None else tuple(p for p in scope_text.split("/") if p)
    return ElementRef(m["tag"], element, component, scope)


def check_tag(text: str) -> str:
    """A segment tag: two or three characters, a letter first."""
    if not _TAG.match(text):
        raise ValueError(f"{text!r} is not a segment tag (2-3 characters, uppercase, e.g. REF)")
    return text


def check_loop(text: str) -> str:
    """A loop id or path of loop ids (``PO1``, ``PO1/N1``)."""
    if not _LOOP.match(text):
        raise ValueError(f"{text!r} is not a loop id or path (e.g. PO1 or PO1/N1)")
    return text


def check_segment_key(text: str) -> str:
    """A segment tag, optionally scoped: ``REF``, ``/REF`` (header), ``PO1/REF``."""
    head, _, tag = text.rpartition("/")
    check_tag(tag)
    if head and not _LOOP.match(head):
        raise ValueError(f"{text!r}: {head!r} is not a loop path")
    return text


def to_overlay(spec: ValidationSpec, name: str = "") -> x12_overlay.Overlay:
    """The X12 codec's overlay for ``spec``; build it once per partner and reuse it."""
    return x12_overlay.Overlay(
        name=name,
        required_segments=tuple(
            x12_overlay.RequiredSegment(
                tag=r.tag,
                loop=r.loop,
                where={str(ref): value for ref, value in r.when},
                min_count=r.min_count,
            )
            for r in spec.require
        ),
        required_elements=tuple(str(e) for e in spec.elements),
        codes={str(c.element): tuple(sorted(c.codes)) for c in spec.codes},
        max_lengths={str(m.element): m.length for m in spec.max_lengths},
        loop_max={m.tag: m.limit for m in spec.max},
        segment_max={m.tag: m.limit for m in spec.max_segments},
    )
