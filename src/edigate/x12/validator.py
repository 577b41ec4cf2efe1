"""Validate X12 transaction sets against the declarative specs, reporting every problem.

One pass over the segments drives a state machine over the compiled loop tree
(:func:`edigate.x12.spec.compile_loop`): each segment is placed at the first position it can
take at or after the current one, in the current loop or, failing that, in an enclosing loop.
A segment that fits nowhere is reported (unrecognized: no X12 segment ID at all, see
``specs/directory.yaml``; not in the set; unexpected; or out of sequence) and the machine
stays where it was, so one stray segment costs one finding.
Placed segments run their compiled element check; only when it fails is the definition walked
to say which element is wrong and why.

Findings follow the 997/999 model: segment problems carry the AK304/IK304 code and
``extra["loop_id"]``; element problems carry the AK403/IK403 code, the element, component and
repetition positions and ``extra["data_element_ref"]``. Positions are the file position
(``Location.segment``) and the position in the transaction (ST = 1).

Transaction-level checks reported as element findings (AK403 code 7, "invalid code value",
on the named element, because the acknowledgement has no closer code): CTT01 line count,
CTT02 hash total, and for 856 the HL numbering (HL01 counts up from 1, HL02 names an earlier
HL01).

Version mapping (GS08 to spec family): ``004010*`` -> 004010; ``005010*`` -> 005010; other
``004xxx`` -> 004010 and ``005xxx``/``006xxx``+ -> 005010 (approximate); ``003xxx``/``002xxx``
and anything unreadable -> 004010 with 6-digit dates accepted (approximate). Approximate
mappings are logged once as a warning and flagged on the validator (``approximate``).

Usage::

    for tx in transactions:
        findings = validate_transaction(tx)
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from .events import TransactionSet
from .findings import ErrorCode, Finding, Location
from .overlay import Overlay, apply_overlay
from .spec import (
    NO_SEPARATOR,
    NUMERIC_TYPES,
    UNBOUNDED,
    CompiledChild,
    CompiledLoop,
    CompositeDef,
    ElementDef,
    ElementUse,
    Rule,
    SegmentDef,
    SpecError,
    TransactionSpec,
    available_sets,
    compile_loop,
    date_lengths,
    load_transaction,
    numeric_digits,
    real_digits,
    segment_directory,
    valid_date,
    valid_time,
)

log = logging.getLogger(__name__)

Problem = tuple[ErrorCode, int, int | None, int | None, str | None, str, str | None]
"""(code, element, component, repetition, value, message, data element ref)."""

_HASH_DIGITS = 10


# ------------------------------------------------------------------------ version mapping
#: The GS08 versions (version and release) with specs of their own: validated exactly. A
#: receiver that supports only these passes them as ``AckOptions(versions=...)``.
SPEC_VERSIONS = frozenset({"004010", "005010"})


@functools.lru_cache(maxsize=256)
def spec_version(version: str) -> tuple[str, bool, bool]:
    """``(family, legacy_dates, exact)`` for a GS08 version such as ``004010VICS``."""
    digits = version.strip()[:6]
    if not (len(digits) == 6 and digits.isdigit()):
        return "004010", True, False
    if digits in SPEC_VERSIONS:
        return digits, False, True
    if digits >= "005000":
        return "005010", False, False
    if digits >= "004000":
        return "004010", False, False
    return "004010", True, False


# ---------------------------------------------------------------------- element problems
def segment_problems(
    seg: SegmentDef, els: Sequence[str], cs: str, rs: str, legacy: bool
) -> list[Problem]:
    """Everything wrong with one segment's elements (the slow, explaining path)."""
    if seg.permissive:
        return []
    out: list[Problem] = []
    tag = seg.tag
    n = len(seg.elements)
    for use in seg.elements:
        p = use.position
        value = els[p] if p < len(els) else ""
        if not value:
            if use.mandatory:
                out.append(_missing(tag, use, p, None))
            continue
        reps = [value]
        # Without a repetition separator, rs is NO_SEPARATOR (NUL): a NUL in the data is a
        # control character, checked with the value below, not a repetition.
        if rs in value and rs != NO_SEPARATOR:
            if use.repeat == 1:
                out.append(
                    (
                        ErrorCode.TOO_MANY_REPETITIONS,
                        p,
                        None,
                        2,
                        value,
                        f"{tag}{p:02d} ({use.name}) does not repeat, but holds repetitions",
                        use.ref,
                    )
                )
                continue
            reps = value.split(rs)
            if len(reps) > use.repeat:
                out.append(
                    (
                        ErrorCode.TOO_MANY_REPETITIONS,
                        p,
                        None,
                        use.repeat + 1,
                        reps[use.repeat],
                        f"{tag}{p:02d} repeats {len(reps)} times, at most {use.repeat} allowed",
                        use.ref,
                    )
                )
                reps = reps[: use.repeat]
        for r, rep_value in enumerate(reps, start=1):
            if not rep_value:
                continue
            rep = r if use.repeat > 1 else None
            if use.composite is not None:
                out.extend(_composite_problems(tag, p, use.composite, rep_value, rep, cs, legacy))
            elif cs in rep_value:
                out.append(
                    (
                        ErrorCode.TOO_MANY_COMPONENTS,
                        p,
                        None,
                        rep,
                        rep_value,
                        f"{tag}{p:02d} ({use.name}) is a simple element but holds components",
                        use.ref,
                    )
                )
            else:
                assert use.element is not None
                problem = value_problem(use.element, rep_value, legacy)
                if problem is not None:
                    code, why = problem
                    out.append((code, p, None, rep, rep_value, f"{tag}{p:02d} {why}", use.ref))
    for p in range(n + 1, len(els)):
        if els[p]:
            out.append(
                (
                    ErrorCode.TOO_MANY_ELEMENTS,
                    p,
                    None,
                    None,
                    els[p],
                    f"{tag} has {n} elements, but element {p} holds data",
                    None,
                )
            )
            break
    present = [p < len(els) and els[p] != "" for p in range(n + 1)]
    uses = {u.position: u for u in seg.elements}
    out.extend(_rule_problems(seg.rules, present, list(els), uses, lambda p: f"{tag}{p:02d}"))
    return out


def _missing(tag: str, use: ElementUse, p: int, comp: int | None) -> Problem:
    where = f"{tag}{p:02d}" + (f"-{comp}" if comp else "")
    return (
        ErrorCode.MANDATORY_ELEMENT_MISSING,
        p,
        comp,
        None,
        None,
        f"{where} ({use.name}) is mandatory",
        use.ref,
    )


def _composite_problems(
    tag: str, p: int, comp: CompositeDef, value: str, rep: int | None, cs: str, legacy: bool
) -> list[Problem]:
    out: list[Problem] = []
    parts = value.split(cs)
    nc = len(comp.components)
    if len(parts) > nc and any(parts[nc:]):
        out.append(
            (
                ErrorCode.TOO_MANY_COMPONENTS,
                p,
                nc + 1,
                rep,
                value,
                f"{tag}{p:02d} ({comp.ref}) has {nc} components, got {len(parts)}",
                comp.ref,
            )
        )
    parts = (parts + [""] * nc)[:nc]
    for cu in comp.components:
        k = cu.position
        cv = parts[k - 1]
        if not cv:
            if cu.mandatory:
                miss = _missing(tag, cu, p, k)
                out.append((*miss[:3], rep, *miss[4:]))
            continue
        assert cu.element is not None
        problem = value_problem(cu.element, cv, legacy)
        if problem is not None:
            code, why = problem
            out.append((code, p, k, rep, cv, f"{tag}{p:02d}-{k} {why}", cu.ref))
    present = [False] + [v != "" for v in parts]
    uses = {u.position: u for u in comp.components}

    def name(k: int) -> str:
        return f"{tag}{p:02d}-{k}"

    for code, k, _, _, v, msg, ref in _rule_problems(comp.rules, present, ["", *parts], uses, name):
        out.append((code, p, k, rep, v, msg, ref))
    return out


def value_problem(e: ElementDef, value: str, legacy: bool = False) -> tuple[ErrorCode, str] | None:
    """Why a non-empty value is not a valid ``e``, or None."""
    etype = e.type
    if etype in ("AN", "ID"):
        if not value.isprintable():
            return (
                ErrorCode.INVALID_CHARACTER,
                f"({e.name}) holds a control or undecodable character",
            )
        if len(value) < e.min:
            return ErrorCode.ELEMENT_TOO_SHORT, f"({e.name}) {value!r} is shorter than {e.min}"
        if len(value) > e.max:
            return ErrorCode.ELEMENT_TOO_LONG, f"({e.name}) {value!r} is longer than {e.max}"
        if e.codes is not None and value not in e.codes:
            shown = ", ".join(sorted(e.codes)[:12]) + (", ..." if len(e.codes) > 12 else "")
            return (
                ErrorCode.INVALID_CODE_VALUE,
                f"({e.name}) {value!r} is not a valid code ({shown})",
            )
        return None
    if etype in NUMERIC_TYPES or etype == "R":
        size = numeric_digits(value) if etype != "R" else real_digits(value)
        kind = "a decimal number" if etype == "R" else "an integer"
        if size < 0:
            return ErrorCode.INVALID_CHARACTER, f"({e.name}) {value!r} is not {kind}"
        if size < e.min:
            return (
                ErrorCode.ELEMENT_TOO_SHORT,
                f"({e.name}) {value!r} has fewer than {e.min} digits",
            )
        if size > e.max:
            return ErrorCode.ELEMENT_TOO_LONG, f"({e.name}) {value!r} has more than {e.max} digits"
        return None
    if etype == "DT":
        lengths = date_lengths(e, legacy)
        if not valid_date(value, lengths):
            form = " or ".join(
                "CCYYMMDD" if n == 8 else "YYMMDD" for n in sorted(lengths, reverse=True)
            )
            return ErrorCode.INVALID_DATE, f"({e.name}) {value!r} is not a valid date ({form})"
        return None
    if not (e.min <= len(value) <= e.max and valid_time(value)):
        return ErrorCode.INVALID_TIME, f"({e.name}) {value!r} is not a valid time (HHMM[SS[dd]])"
    return None


def _rule_problems(
    rules: Sequence[Rule],
    present: list[bool],
    values: list[str],
    uses: dict[int, ElementUse],
    name: Callable[[int], str],
) -> list[Problem]:
    """Syntax-rule violations; ``present``/``values`` are indexed by position (0 unused)."""
    out: list[Problem] = []

    def ref(p: int) -> str | None:
        use = uses.get(p)
        return use.ref if use is not None else None

    for rule in rules:
        pos = rule.positions
        have = [p for p in pos if present[p]]
        missing = [p for p in pos if not present[p]]
        names = ", ".join(name(p) for p in pos)
        if rule.kind == "P" and have and missing:
            for p in missing:
                out.append(
                    _conditional(p, f"{rule}: {names} go together; {name(p)} is missing", ref(p))
                )
        elif rule.kind == "R" and not have:
            out.append(
                _conditional(pos[0], f"{rule}: at least one of {names} is required", ref(pos[0]))
            )
        elif rule.kind == "C" and present[pos[0]]:
            for p in missing:
                out.append(_conditional(p, f"{rule}: {name(pos[0])} requires {name(p)}", ref(p)))
        elif rule.kind == "L" and present[pos[0]] and len(have) == 1:
            others = ", ".join(name(p) for p in pos[1:])
            out.append(
                _conditional(
                    pos[1], f"{rule}: {name(pos[0])} requires one of {others}", ref(pos[1])
                )
            )
        elif rule.kind == "E" and len(have) > 1:
            p = have[1]
            out.append(
                (
                    ErrorCode.EXCLUSION_VIOLATED,
                    p,
                    None,
                    None,
                    values[p],
                    f"{rule}: only one of {names} may be present",
                    ref(p),
                )
            )
    return out


def _conditional(p: int, message: str, ref: str | None) -> Problem:
    return (ErrorCode.CONDITIONAL_ELEMENT_MISSING, p, None, None, None, message, ref)


# ----------------------------------------------------------------------------- validator
class TransactionValidator:
    """A compiled transaction-set spec; :meth:`validate` is safe to call from any thread."""

    def __init__(
        self,
        spec: TransactionSpec,
        *,
        legacy_dates: bool = False,
        approximate: bool = False,
        version: str = "",
    ) -> None:
        self.spec = spec
        self.legacy_dates = legacy_dates
        self.approximate = approximate
        self.version = version or spec.family
        self.root = compile_loop(spec.root, legacy_dates)
        lc, ht = spec.line_count, spec.hash_total
        self._total_tags = frozenset(
            ([lc.segment, *lc.tags] if lc else [])
            + ([ht.segment, ht.source_tag] if ht else [])
            + (["HL"] if spec.hl_numbering or (ht and ht.hl_level) else [])
        )

    @property
    def family(self) -> str:
        return self.spec.family

    # ------------------------------------------------------------------- the matcher
    def validate(self, tx: TransactionSet) -> list[Finding]:
        """Validator findings for one transaction (the reader's stay in ``tx.findings``)."""
        segments = tx.segments
        seps = tx.interchange.separators
        cs = seps.component
        rs = seps.repetition or NO_SEPARATOR
        report = _Report(self, tx)
        node = self.root
        idx = -1
        counts = [0] * len(node.children)
        reqs = _req_counts(node)
        stack: list[tuple[CompiledLoop, int, list[int], list[int] | None]] = []
        # The current loop's tables, reloaded whenever ``node`` changes.
        forward, children = node.forward, node.children
        # Segments the transaction totals read (CTT, PO1, HL ...), noted on the way.
        total_tags = self._total_tags
        hits: list[tuple[int, list[str]]] = []
        i = -1
        for els in segments:
            i += 1
            tag = els[0]
            if tag in total_tags:
                hits.append((i, els))
            j = forward[idx + 1].get(tag)
            if j is None and stack:
                # The common way a loop instance ends: the segment belongs to the enclosing
                # loop (a new PO1 after the last segment of the previous PO1 loop).
                p_node, p_idx, p_counts, p_reqs = stack[-1]
                pj = p_node.forward[p_idx + 1].get(tag)
                if pj is not None and (pj != p_idx or p_counts[pj] < p_node.children[pj].max):
                    if reqs is not None or idx < node.last_mandatory:
                        report.close(node, idx, counts, reqs, i, is_root=False, ended=True)
                    stack.pop()
                    node, idx, counts, reqs, j = p_node, p_idx, p_counts, p_reqs, pj
                    forward, children = node.forward, node.children
            if j is not None and (j != idx or counts[j] < children[j].max):
                child = children[j]
                if j != idx:
                    if node.next_mandatory[idx + 1] < j:
                        report.gap(node, idx, j, counts, i)
                    idx = j
                counts[j] += 1
                if reqs is not None and (tag in node.requirement_tags or j > reqs[-1]):
                    _count_req(node, reqs, els, j, i, report)
                loop = child.loop
                if loop is not None:
                    stack.append((node, idx, counts, reqs))
                    node = loop
                    forward, children = node.forward, node.children
                    idx = 0
                    counts = [0] * len(children)
                    counts[0] = 1
                    reqs = _req_counts(node) if node.requirements else None  # a call saved
                    if reqs is not None:
                        _count_req(node, reqs, els, 0, i, report)
                if not child.check(els, cs, rs):
                    report.elements(child, node, i, els)
                continue
            if not tag:
                continue  # empty segment: the reader reported it
            # Slow path: a repeat past its maximum, or a segment of an enclosing loop.
            placed = self._place(tag, els, i, node, idx, counts, reqs, stack, report)
            if placed is None:
                continue
            node, idx, counts, reqs = placed
            forward, children = node.forward, node.children
        # End of the transaction: close every open loop.
        end = len(segments)
        ended_with_se = bool(segments) and segments[-1][0] == "SE"
        at = end - 1 if ended_with_se else end
        while True:
            report.close(node, idx, counts, reqs, at, is_root=not stack, ended=ended_with_se)
            if not stack:
                break
            node, idx, counts, reqs = stack.pop()
        if hits:
            self._totals(hits, report)
        return report.findings

    def _place(
        self,
        tag: str,
        els: list[str],
        i: int,
        node: CompiledLoop,
        idx: int,
        counts: list[int],
        reqs: list[int] | None,
        stack: list[tuple[CompiledLoop, int, list[int], list[int] | None]],
        report: _Report,
    ) -> tuple[CompiledLoop, int, list[int], list[int] | None] | None:
        """Place a segment the current position does not take directly; None if nowhere."""
        frames = [*stack, (node, idx, counts, reqs)]
        for depth in range(len(frames) - 1, -1, -1):
            f_node, f_idx, f_counts, f_reqs = frames[depth]
            j = f_node.forward[f_idx + 1].get(tag)
            if j is None:
                continue
            child = f_node.children[j]
            if j == f_idx and f_counts[j] >= child.max:
                later = (
                    f_node.forward[f_idx + 2].get(tag) if f_idx + 2 < len(f_node.forward) else None
                )
                if later is not None:
                    j = later
                    child = f_node.children[j]
            # Close the loops above the frame that takes the segment.
            for up in range(len(frames) - 1, depth, -1):
                u_node, u_idx, u_counts, u_reqs = frames[up]
                report.close(u_node, u_idx, u_counts, u_reqs, i, is_root=False, ended=True)
            del stack[depth:]
            if j != f_idx and f_node.next_mandatory[f_idx + 1] < j:
                report.gap(f_node, f_idx, j, f_counts, i)
            f_counts[j] += 1
            if f_counts[j] > child.max:
                code = (
                    ErrorCode.LOOP_OVER_MAX
                    if child.loop is not None
                    else ErrorCode.SEGMENT_OVER_MAX_USE
                )
                what = f"loop {child.loop.id}" if child.loop is not None else tag
                report.segment(
                    code,
                    i,
                    tag,
                    f"{what} occurs {f_counts[j]} times, at most {child.max} allowed here",
                    loop=child.loop.id if child.loop is not None else f_node.id,
                )
            if f_reqs is not None:
                _count_req(f_node, f_reqs, els, j, i, report)
            node, idx, counts, reqs = f_node, j, f_counts, f_reqs
            if child.loop is not None:
                stack.append((node, idx, counts, reqs))
                node = child.loop
                idx = 0
                counts = [0] * len(node.children)
                counts[0] = 1
                reqs = _req_counts(node)
                if reqs is not None:
                    _count_req(node, reqs, els, 0, i, report)
            if not child.check(els, report.cs, report.rs):
                report.elements(child, node, i, els)
            return node, idx, counts, reqs
        self._misplaced(tag, i, frames, report)
        return None

    def _misplaced(
        self,
        tag: str,
        i: int,
        frames: list[tuple[CompiledLoop, int, list[int], list[int] | None]],
        report: _Report,
    ) -> None:
        loop = frames[-1][0].id
        if not (
            2 <= len(tag) <= 3
            and tag.isalnum()
            and tag.isascii()
            and tag.isupper()
            and tag[0].isalpha()
        ):
            report.segment(
                ErrorCode.UNRECOGNIZED_SEGMENT, i, tag, f"{tag!r} is not a segment ID", loop
            )
            return
        for f_node, f_idx, _, _ in reversed(frames):
            if tag in f_node.earlier[f_idx + 1]:
                where = f"loop {f_node.id}" if f_node.id else "the transaction"
                report.segment(
                    ErrorCode.SEGMENT_OUT_OF_SEQUENCE,
                    i,
                    tag,
                    f"{tag} belongs earlier in {where} ({self.spec.set_id})",
                    loop,
                )
                return
        if tag not in self.spec.vocabulary and tag not in segment_directory():
            report.segment(
                ErrorCode.UNRECOGNIZED_SEGMENT,
                i,
                tag,
                f"{tag} is not an X12 segment ID",
                loop,
            )
        elif tag in self.spec.vocabulary:
            report.segment(
                ErrorCode.UNEXPECTED_SEGMENT,
                i,
                tag,
                f"{tag} is not expected here in {self.spec.set_id}"
                + (f" (inside loop {loop})" if loop else ""),
                loop,
            )
        else:
            report.segment(
                ErrorCode.SEGMENT_NOT_IN_SET,
                i,
                tag,
                f"{tag} is not a segment of transaction set {self.spec.set_id} ({self.family})",
                loop,
            )

    # ---------------------------------------------------------------- transaction totals
    def _totals(self, hits: list[tuple[int, list[str]]], report: _Report) -> None:
        """Line count, hash total and HL numbering, from the segments with those tags."""
        spec = self.spec
        counts: dict[str, int] = {}
        hls: list[tuple[int, list[str]]] = []
        summary: dict[str, tuple[int, list[str]]] = {}
        ht = spec.hash_total
        hash_values: list[str] = []
        level_values: list[str] = []
        level = ""
        source_tag, source_element, hl_level = (
            (ht.source_tag, ht.source_element, ht.hl_level) if ht is not None else ("", 0, None)
        )
        for i, els in hits:
            tag = els[0]
            counts[tag] = counts.get(tag, 0) + 1
            summary[tag] = (i, els)
            if tag == "HL":
                hls.append((i, els))
                level = els[3] if len(els) > 3 else ""
            if tag == source_tag:
                value = els[source_element] if source_element < len(els) else ""
                hash_values.append(value)
                if level == hl_level:
                    level_values.append(value)
        lc = spec.line_count
        if lc is not None and lc.segment in summary:
            i, els = summary[lc.segment]
            value = els[lc.element] if lc.element < len(els) else ""
            if value.isdigit():
                actual = {t: counts.get(t, 0) for t in lc.tags}
                if int(value) not in actual.values():
                    said = " or ".join(f"{n} {t} segments" for t, n in actual.items())
                    report.total(
                        i,
                        lc.segment,
                        lc.element,
                        "354",
                        value,
                        f"{lc.segment}{lc.element:02d} says {value}, "
                        f"but the transaction has {said}",
                    )
        if ht is not None and ht.segment in summary:
            i, els = summary[ht.segment]
            value = els[ht.element] if ht.element < len(els) else ""
            expected = _hash_totals(hash_values)
            if expected is not None and ht.hl_level is not None and level_values:
                expected |= _hash_totals(level_values) or set()
            if value and expected is not None:
                try:
                    stated: Decimal | None = Decimal(value)
                except InvalidOperation:
                    stated = None
                if stated is not None and stated not in expected:
                    shown = min(expected, key=lambda d: (len(str(d)), str(d)))
                    report.total(
                        i,
                        ht.segment,
                        ht.element,
                        "347",
                        value,
                        f"{ht.segment}{ht.element:02d} hash total {value} does not match the sum "
                        f"of {ht.source_tag}{ht.source_element:02d} ({shown})",
                    )
        if spec.hl_numbering:
            self._hl_numbering(hls, report)

    def _hl_numbering(self, hls: list[tuple[int, list[str]]], report: _Report) -> None:
        expected = 1
        seen: set[str] = set()
        for i, els in hls:
            hl01 = els[1] if len(els) > 1 else ""
            hl02 = els[2] if len(els) > 2 else ""
            if hl01.isdigit() and int(hl01) != expected:
                report.total(
                    i,
                    "HL",
                    1,
                    "628",
                    hl01,
                    f"HL01 is {hl01}, expected {expected} (HL numbers count up from 1)",
                )
            if hl01.isdigit():
                expected = int(hl01) + 1
            else:
                expected += 1
            if hl02 and (hl02 not in seen or hl02 == hl01):
                report.total(
                    i,
                    "HL",
                    2,
                    "734",
                    hl02,
                    f"HL02 {hl02} does not refer to an earlier HL01 (parent must come first)",
                )
            if hl01:
                seen.add(hl01)


def _hash_totals(values: list[str]) -> set[Decimal] | None:
    """Acceptable CTT02 values: the arithmetic sum, or the X12 digit sum (decimal points and
    signs ignored), each also truncated to its rightmost 10 digits. None if not summable."""
    joined = "".join(values)
    if joined.isdigit() and joined.isascii():  # whole numbers only: both sums are the same
        digit_sum = sum(map(int, filter(None, values)))
        return {Decimal(digit_sum), Decimal(digit_sum % 10**_HASH_DIGITS)}
    total = Decimal(0)
    digit_sum = 0
    for v in values:
        if not v:
            continue
        try:
            total += Decimal(v)
        except InvalidOperation:
            return None
        digits = v.replace("-", "").replace(".", "")
        if not digits.isdigit():
            return None
        digit_sum += int(digits)
    out = {total, Decimal(digit_sum), Decimal(digit_sum % 10**_HASH_DIGITS)}
    if total == total.to_integral_value():
        out.add(Decimal(int(total) % 10**_HASH_DIGITS))
    return out


def _req_counts(node: CompiledLoop) -> list[int] | None:
    """Overlay requirement state of a loop instance: [count, checked] per requirement, then
    the lowest position of a requirement not checked yet (see :func:`_count_req`)."""
    if not node.requirements:
        return None
    return [0] * (2 * len(node.requirements)) + [min(node.requirement_index)]


def _count_req(
    node: CompiledLoop, reqs: list[int], els: list[str], j: int, i: int, report: _Report
) -> None:
    """Count a segment toward the loop's overlay requirements; once the matcher is past the
    required segment's position, report a shortfall right there.

    Callers skip the call unless the tag is a required one or ``j`` is past ``reqs[-1]``:
    otherwise it would change nothing.
    """
    checked = False
    for k, req in enumerate(node.requirements):
        if els[0] == req.tag and all(p < len(els) and els[p] == v for p, v in req.where):
            reqs[2 * k] += 1
        if not reqs[2 * k + 1] and j > node.requirement_index[k]:
            reqs[2 * k + 1] = 1
            checked = True
            if reqs[2 * k] < req.min_count:
                report.requirement(node, k, i)
    if checked:
        reqs[-1] = min(
            (at for k, at in enumerate(node.requirement_index) if not reqs[2 * k + 1]),
            default=UNBOUNDED,
        )


class _Report:
    """Collects findings with the locations the acknowledgements need."""

    def __init__(self, validator: TransactionValidator, tx: TransactionSet) -> None:
        self.v = validator
        self.tx = tx
        self.findings: list[Finding] = []
        seps = tx.interchange.separators
        self.cs = seps.component
        self.rs = seps.repetition or NO_SEPARATOR
        # The control numbers every finding carries (looked up only when there is one).
        self._controls: tuple[str, str | None, str] | None = None

    def _loc(self, i: int, tag: str, **kw: Any) -> Location:
        controls = self._controls
        if controls is None:
            tx = self.tx
            group = tx.group.control_number if tx.group is not None else None
            controls = self._controls = (tx.interchange.control_number, group, tx.control_number)
        return Location(
            segment=self.tx.position + i,
            tag=tag,
            segment_in_transaction=self.tx.place(i),
            interchange_control=controls[0],
            group_control=controls[1],
            transaction_control=controls[2],
            **kw,
        )

    def segment(
        self,
        code: ErrorCode,
        i: int,
        tag: str,
        message: str,
        loop: str = "",
        value: str | None = None,
    ) -> None:
        extra = {"loop_id": loop} if loop else {}
        self.findings.append(
            Finding(
                code, self._loc(i, tag), message, value=tag if value is None else value, extra=extra
            )
        )

    def missing(self, child: CompiledChild, node: CompiledLoop, i: int, why: str = "") -> None:
        loop = child.loop.id if child.loop is not None else node.id
        what = f"loop {child.loop.id} ({child.tag})" if child.loop is not None else child.tag
        where = f"loop {node.id}" if node.id else self.v.spec.set_id
        self.findings.append(
            Finding(
                ErrorCode.MANDATORY_SEGMENT_MISSING,
                self._loc(i, child.tag),
                why or f"mandatory {what} of {where} is missing before this point",
                extra={"loop_id": loop} if loop else {},
            )
        )

    def gap(self, node: CompiledLoop, idx: int, j: int, counts: list[int], i: int) -> None:
        for k in node.mandatory_indexes:
            if idx < k < j and counts[k] == 0:
                self.missing(node.children[k], node, i)

    def close(
        self,
        node: CompiledLoop,
        idx: int,
        counts: list[int],
        reqs: list[int] | None,
        i: int,
        *,
        is_root: bool,
        ended: bool,
    ) -> None:
        for k in node.mandatory_indexes:
            if k > idx and counts[k] == 0:
                child = node.children[k]
                if is_root and child.tag == "SE" and not ended:
                    continue  # the reader reports the missing trailer
                self.missing(child, node, min(i, len(self.tx.segments)))
        if reqs is not None:
            for k, req in enumerate(node.requirements):
                if not reqs[2 * k + 1] and reqs[2 * k] < req.min_count:
                    self.requirement(node, k, min(i, len(self.tx.segments)))

    def requirement(self, node: CompiledLoop, k: int, i: int) -> None:
        req = node.requirements[k]
        where = f"each {node.id} loop" if node.id else "the header"
        self.findings.append(
            Finding(
                ErrorCode.MANDATORY_SEGMENT_MISSING,
                self._loc(i, req.tag),
                f"{req.describe()} is required in {where} by the partner overlay"
                + (f" (at least {req.min_count})" if req.min_count > 1 else ""),
                extra={"loop_id": node.id} if node.id else {},
            )
        )

    def elements(self, child: CompiledChild, node: CompiledLoop, i: int, els: list[str]) -> None:
        seg = child.use.segment
        problems = segment_problems(seg, els, self.cs, self.rs, self.v.legacy_dates)
        if seg.tag in ("ST", "SE"):
            # ST01/ST02 and the whole SE are the reader's to check and report.
            problems = [p for p in problems if seg.tag == "ST" and p[1] > 2]
        loop = child.loop.id if child.loop is not None else node.id
        for code, element, component, repetition, value, message, ref in problems:
            extra: dict[str, Any] = {}
            if ref is not None and ref.isdigit():
                extra["data_element_ref"] = ref
            elif ref is not None:
                extra["composite_ref"] = ref  # AK402 is numeric: composites have no number
            if loop:
                extra["loop_id"] = loop
            self.findings.append(
                Finding(
                    code,
                    self._loc(
                        i, seg.tag, element=element, component=component, repetition=repetition
                    ),
                    message,
                    value=value,
                    extra=extra,
                )
            )

    def total(self, i: int, tag: str, element: int, ref: str, value: str, message: str) -> None:
        self.findings.append(
            Finding(
                ErrorCode.INVALID_CODE_VALUE,
                self._loc(i, tag, element=element),
                message,
                value=value,
                extra={"data_element_ref": ref},
            )
        )


# ----------------------------------------------------------------------------- entry points
def validator_for(
    set_id: str, version: str, overlay: Overlay | None = None
) -> TransactionValidator | None:
    """The compiled validator for a set and GS08 version (None if the set has no spec).

    Compiled once per (set, family, overlay object) and cached.
    """
    family, legacy, exact = spec_version(version)
    return _validator(set_id, family, legacy, exact, overlay, version if not exact else family)


@functools.lru_cache(maxsize=512)
def _validator(
    set_id: str, family: str, legacy: bool, exact: bool, overlay: Overlay | None, version: str
) -> TransactionValidator | None:
    if set_id not in available_sets(family):
        return None
    spec = load_transaction(set_id, family)
    if overlay is not None:
        try:
            spec = apply_overlay(spec, overlay, strict=False)
        except SpecError as exc:  # checked when the map loads: here, another version family
            log.warning("%s %s: the partner's overlay does not apply (%s)", set_id, version, exc)
    if not exact:
        log.warning(
            "no %s spec for version %r: validating against %s%s",
            set_id,
            version,
            family,
            " (6-digit dates accepted)" if legacy else "",
        )
    return TransactionValidator(spec, legacy_dates=legacy, approximate=not exact, version=version)


def validate_transaction(tx: TransactionSet, overlay: Overlay | None = None) -> list[Finding]:
    """Validate one transaction with the spec its ST01 and GS08 select."""
    validator = validator_for(tx.set_id, tx.version, overlay)
    if validator is None:
        return [
            Finding(
                ErrorCode.TRANSACTION_NOT_SUPPORTED,
                Location(
                    segment=tx.position,
                    tag="ST",
                    element=1,
                    segment_in_transaction=1,
                    interchange_control=tx.interchange.control_number,
                    group_control=tx.group.control_number if tx.group is not None else None,
                    transaction_control=tx.control_number,
                ),
                f"transaction set {tx.set_id!r} (version {tx.version}) has no spec",
                value=tx.set_id,
                extra={"data_element_ref": "143"},
            )
        ]
    return validator.validate(tx)
