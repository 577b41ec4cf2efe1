"""X12 writer: segments to bytes, with envelopes whose counts and control numbers are right.

X12 has no escape character, so a value that contains a delimiter cannot be written; the
writer raises :class:`~edigate.errors.X12WriteError` naming the segment and element instead
of producing a file the partner would misread.

An element is a ``str`` (a simple value), a ``tuple`` of components (a composite) or a
``list`` of repeats (each a ``str`` or a ``tuple``). Segments read by
:class:`~edigate.x12.reader.X12Reader` keep composites joined in one string; write those
back with ``raw=True``, which allows component and repetition separators inside values.

Usage::

    w = X12Writer(Separators("*", ">", "~", "^"))
    w.begin_interchange(InterchangeEnvelope(PartyId("ZZ", "US"), PartyId("ZZ", "THEM"), 1))
    w.begin_group(GroupEnvelope("PR", "US", "THEM", 1))
    w.begin_transaction("855", "0001")
    w.segment(["BAK", "00", "AD", "PO123", "20261123"])
    w.end_transaction(); w.end_group(); w.end_interchange()
    data = w.getvalue()
"""

from __future__ import annotations

import codecs
import datetime as _dt
import functools
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from ..errors import X12WriteError
from .events import PartyId
from .separators import LINE_BREAKS, Separators

Component = str
Composite = tuple[str, ...]
Element = str | Composite | list[str | Composite]


@dataclass(frozen=True, slots=True)
class InterchangeEnvelope:
    """What goes into the ISA. ``version`` is ISA12, e.g. ``00401`` or ``00501``."""

    sender: PartyId
    receiver: PartyId
    control_number: int | str
    version: str = "00401"
    usage: str = "P"
    ack_requested: bool = False
    timestamp: _dt.datetime | None = None
    authorization: tuple[str, str] = ("00", "")
    security: tuple[str, str] = ("00", "")


@dataclass(frozen=True, slots=True)
class GroupEnvelope:
    """What goes into the GS. ``version`` is GS08, e.g. ``004010`` or ``005010``."""

    functional_id: str
    sender: str
    receiver: str
    control_number: int | str
    version: str = "004010"
    agency: str = "X"
    timestamp: _dt.datetime | None = None


def trim(elements: Sequence[Element]) -> list[Element]:
    """Drop trailing empty elements, as X12 requires of generated segments."""
    out = list(elements)
    while len(out) > 1 and (out[-1] == "" or out[-1] == () or out[-1] == []):
        out.pop()
    return out


class SegmentEncoder:
    """Turns one segment into text with given separators, refusing values that break it."""

    def __init__(self, separators: Separators) -> None:
        separators.check()
        self.seps = separators
        delims = separators.delimiters()
        self._forbidden = "".join(delims) + LINE_BREAKS
        self._raw_forbidden = separators.element + separators.segment + LINE_BREAKS
        # The fast path of encode() tests the joined text: every forbidden character but
        # the element separator, which it counts instead (padded to fixed-size tuples so
        # the tests unroll; a repeated character is only tested twice).
        others = [c for c in self._forbidden if c != separators.element]
        self._others = tuple((others + others[-1:] * 5)[:5])
        raw_others = [c for c in self._raw_forbidden if c != separators.element]
        self._raw_others = tuple((raw_others + raw_others[-1:] * 3)[:3])
        self._tags: set[str] = set()  # tags encode() has accepted: checked once each

    def encode(self, segment: Sequence[Element], *, raw: bool = False) -> str:
        """The segment's text, without terminator.

        The usual segment is all simple values without a separator in them: joined and
        tested in one go (a few C-level scans instead of one per value and character).
        Anything else, or a value that breaks the segment, takes the element-by-element
        path, which says exactly what is wrong.
        """
        es = self.seps.element
        try:
            text = es.join(segment)  # type: ignore[arg-type]
        except TypeError:  # a composite, a repeat or a value of the wrong type
            return self._encode(segment, raw)
        if text.count(es) == len(segment) - 1 and segment[0] in self._tags:
            if raw:
                c1, c2, c3 = self._raw_others
                if c1 not in text and c2 not in text and c3 not in text:
                    return text
            else:
                c1, c2, c3, c4, c5 = self._others
                if (
                    c1 not in text
                    and c2 not in text
                    and c3 not in text
                    and c4 not in text
                    and c5 not in text
                ):
                    return text
        return self._encode(segment, raw)

    def encode_all(self, segments: Sequence[Sequence[Element]], raw: bool) -> list[str] | None:
        """Each segment's text when all are simple values that :meth:`encode` would pass
        as they are (tested in one go over the joined batch); else None."""
        es = self.seps.element
        try:
            texts = [es.join(seg) for seg in segments]  # type: ignore[arg-type]
        except TypeError:
            return None
        text = es.join(texts)
        if text.count(es) != sum(map(len, segments)) - 1:
            return None
        if raw:
            c1, c2, c3 = self._raw_others
            if c1 in text or c2 in text or c3 in text:
                return None
        else:
            c1, c2, c3, c4, c5 = self._others
            if c1 in text or c2 in text or c3 in text or c4 in text or c5 in text:
                return None
        tags = self._tags
        for seg in segments:
            if seg[0] not in tags:
                return None
        return texts

    def clean(self, text: str) -> bool:
        """True when ``text`` holds no separator and no line break (a simple value may)."""
        c1, c2, c3, c4, c5 = self._others
        return (
            self.seps.element not in text
            and c1 not in text
            and c2 not in text
            and c3 not in text
            and c4 not in text
            and c5 not in text
        )

    def _encode(self, segment: Sequence[Element], raw: bool) -> str:
        """Element by element: composites, repeats, and the exact error for a bad value."""
        seps = self.seps
        parts: list[str] = []
        tag = segment[0] if segment else ""
        if not isinstance(tag, str) or not tag.isalnum() or not 2 <= len(tag) <= 3:
            raise X12WriteError(f"invalid segment tag {tag!r}: 2 or 3 letters and digits")
        for index, element in enumerate(segment):
            if isinstance(element, str):
                self._check(element, tag, index, raw)
                parts.append(element)
            elif isinstance(element, tuple):
                parts.append(self._composite(element, tag, index))
            elif isinstance(element, list):
                if seps.repetition is None:
                    raise X12WriteError(
                        f"{tag}{index:02d} repeats, but the interchange has no repetition "
                        "separator (ISA11)",
                        segment=tag,
                        element=index,
                    )
                reps = [
                    self._composite(r, tag, index) if isinstance(r, tuple) else r for r in element
                ]
                for r in element:
                    if isinstance(r, str):
                        self._check(r, tag, index, raw)
                parts.append(seps.repetition.join(reps))
            else:
                raise X12WriteError(
                    f"{tag}{index:02d} must be str, tuple or list, not {type(element).__name__}",
                    segment=tag,
                    element=index,
                )
        if len(self._tags) < 4096:
            self._tags.add(str(tag))
        return seps.element.join(parts)

    def _composite(self, components: Composite, tag: str, index: int) -> str:
        for value in components:
            self._check(value, tag, index, False)
        while components and components[-1] == "":
            components = components[:-1]
        return self.seps.component.join(components)

    def _check(self, value: str, tag: str, index: int, raw: bool) -> None:
        forbidden = self._raw_forbidden if raw else self._forbidden
        for ch in forbidden:
            if ch in value:
                raise X12WriteError(
                    f"{tag}{index:02d} value {value!r} contains {_name(ch, self.seps)} {ch!r}; "
                    "X12 has no escape, so choose other separators or change the value",
                    segment=tag,
                    element=index,
                )


class X12Writer:
    """Writes segments and envelopes to a binary stream (or memory), counting as it goes."""

    def __init__(
        self,
        separators: Separators | None = None,
        stream: BinaryIO | None = None,
        *,
        encoding: str = "utf-8",
    ) -> None:
        self.seps = separators or Separators()
        self._encoder = encoder_for(self.seps)
        self._stream = stream if stream is not None else io.BytesIO()
        self._encoding = encoding
        self._stateful = _bom_once(encoding)
        self._end = self.seps.segment + self.seps.suffix
        self._isa_control: str | None = None
        self._gs_control: str | None = None
        self._st_control: str | None = None
        self._group_count = 0
        self._tx_count = 0
        self._segment_count = 0

    # ------------------------------------------------------------------ plain segments
    def segment(self, elements: Sequence[Element], *, raw: bool = False) -> None:
        """Write one segment (counted toward SE01 when inside a transaction)."""
        self._put(self._encoder.encode(elements, raw=raw))
        if self._st_control is not None:
            self._segment_count += 1

    def segments(self, segments: Iterable[Sequence[Element]], *, raw: bool = False) -> None:
        """Write segments as :meth:`segment` does, a batch per stream write.

        What was encoded before a bad segment is written before its error propagates, so
        the stream holds what one call per segment would have left there.
        """
        if isinstance(segments, list | tuple):
            for start in range(0, len(segments), _BATCH):
                batch = segments[start : start + _BATCH]
                texts = self._encoder.encode_all(batch, raw)
                if texts is None:  # something to compose or to refuse: one by one
                    break
                self._put_many(texts)
            else:
                return
            segments = segments[start:]
        encode = self._encoder.encode
        texts = []
        try:
            for seg in segments:
                texts.append(encode(seg, raw=raw))
                if len(texts) >= _BATCH:
                    self._put_many(texts)
                    texts = []
        finally:
            if texts:
                self._put_many(texts)

    def _put(self, text: str) -> None:
        """Write one segment; a BOM-led encoding goes through its incremental encoder."""
        if self._stateful is None:  # inline: one call per segment on the hot path
            self._stream.write((text + self._end).encode(self._encoding, "surrogateescape"))
        else:
            self._stream.write(self._stateful(text + self._end))

    def _put_many(self, texts: list[str]) -> None:
        """Write and count encoded segments (one by one if one cannot be encoded to bytes)."""
        end = self._end
        counting = self._st_control is not None
        try:
            joined = end.join(texts) + end
            if self._stateful is None:
                data = joined.encode(self._encoding, "surrogateescape")
            else:
                data = self._stateful(joined)
        except UnicodeEncodeError:
            for text in texts:  # raises at the segment that cannot be written, as segment()
                self._put(text)
                if counting:
                    self._segment_count += 1
            return  # pragma: no cover - the loop raised
        self._stream.write(data)
        if counting:
            self._segment_count += len(texts)

    # ------------------------------------------------------------------ envelopes
    def begin_interchange(self, env: InterchangeEnvelope) -> None:
        if self._isa_control is not None:
            raise X12WriteError("begin_interchange: the previous interchange is still open")
        self._put(self.isa_text(env))
        self._isa_control = _control(env.control_number, 9, "ISA13")
        self._group_count = 0

    def isa_text(self, env: InterchangeEnvelope) -> str:
        """The ISA, fixed width: every field padded to its size."""
        seps = self.seps
        stamp = env.timestamp or _dt.datetime.now(_dt.UTC)
        repetition = seps.repetition if env.version >= "00402" and seps.repetition else "U"
        auth, security, sender, receiver = env.authorization, env.security, env.sender, env.receiver
        padded = [
            auth[0].ljust(2),
            auth[1].ljust(10),
            security[0].ljust(2),
            security[1].ljust(10),
            sender.qualifier.ljust(2),
            sender.id.ljust(15),
            receiver.qualifier.ljust(2),
            receiver.id.ljust(15),
            env.version.ljust(5),
            env.usage.ljust(1),
        ]
        if sum(map(len, padded)) != _ISA_PADDED:  # a value is too long: say which
            padded = [
                _fixed(auth[0], 2, "ISA01"),
                _fixed(auth[1], 10, "ISA02"),
                _fixed(security[0], 2, "ISA03"),
                _fixed(security[1], 10, "ISA04"),
                _fixed(sender.qualifier, 2, "ISA05"),
                _fixed(sender.id, 15, "ISA06"),
                _fixed(receiver.qualifier, 2, "ISA07"),
                _fixed(receiver.id, 15, "ISA08"),
                _fixed(env.version, 5, "ISA12"),
            ]
            _control(env.control_number, 9, "ISA13")  # its error comes first, as before
            padded.append(_fixed(env.usage, 1, "ISA15"))
        fields = [
            "ISA",
            *padded[:8],
            _yymmdd(stamp),
            _hhmm(stamp),
            repetition,
            padded[8],
            _control(env.control_number, 9, "ISA13"),
            "1" if env.ack_requested else "0",
            padded[9],
        ]
        encoder = self._encoder
        if not encoder.clean("".join(fields[1:11]) + "".join(fields[12:])):
            for index, value in enumerate(fields[1:], start=1):
                if index != 11:
                    encoder._check(value, "ISA", index, False)
        return seps.element.join(fields) + seps.element + seps.component

    def begin_group(self, env: GroupEnvelope) -> None:
        if self._isa_control is None:
            raise X12WriteError("begin_group: no interchange is open")
        if self._gs_control is not None:
            raise X12WriteError("begin_group: the previous group is still open")
        stamp = env.timestamp or _dt.datetime.now(_dt.UTC)
        control = str(int(env.control_number)) if str(env.control_number).isdigit() else ""
        if not control or len(control) > 9:
            raise X12WriteError(f"GS06 must be 1 to 9 digits, got {env.control_number!r}")
        self.segment(
            [
                "GS",
                env.functional_id,
                env.sender,
                env.receiver,
                _ccyymmdd(stamp),
                _hhmm(stamp),
                control,
                env.agency,
                env.version,
            ]
        )
        self._gs_control = control
        self._group_count += 1
        self._tx_count = 0

    def begin_transaction(
        self, set_id: str, control_number: int | str, convention: str | None = None
    ) -> None:
        if self._st_control is not None:
            raise X12WriteError("begin_transaction: the previous transaction is still open")
        control = _control(control_number, 4, "ST02")
        st: list[Element] = ["ST", set_id, control]
        if convention:
            st.append(convention)
        self._st_control = control
        self._segment_count = 0
        self.segment(st)

    def end_transaction(self) -> int:
        """Write the SE; returns the segment count it carries."""
        if self._st_control is None:
            raise X12WriteError("end_transaction: no transaction is open")
        count = self._segment_count + 1
        self._put(self._encoder.encode(["SE", str(count), self._st_control]))
        self._st_control = None
        self._tx_count += 1
        return count

    def end_group(self) -> None:
        if self._gs_control is None:
            raise X12WriteError("end_group: no group is open")
        if self._st_control is not None:
            raise X12WriteError("end_group: a transaction is still open")
        self.segment(["GE", str(self._tx_count), self._gs_control])
        self._gs_control = None

    def end_interchange(self) -> None:
        if self._isa_control is None:
            raise X12WriteError("end_interchange: no interchange is open")
        if self._gs_control is not None:
            raise X12WriteError("end_interchange: a group is still open")
        self.segment(["IEA", str(self._group_count), self._isa_control])
        self._isa_control = None

    def getvalue(self) -> bytes:
        """The bytes written so far (only when writing to memory)."""
        if not isinstance(self._stream, io.BytesIO):
            raise X12WriteError("getvalue() is only for writers without a stream")
        return self._stream.getvalue()


#: Total width of the padded ISA fields (ISA01-08, ISA12, ISA15).
_ISA_PADDED = 2 + 10 + 2 + 10 + 2 + 15 + 2 + 15 + 5 + 1
#: Segments encoded per stream write by :meth:`X12Writer.segments`.
_BATCH = 512


def _bom_once(encoding: str) -> Callable[[str], bytes] | None:
    """An incremental encoder for an encoding that starts with a BOM, else None.

    ``str.encode`` per write would put a BOM before every segment, and a reader takes each
    one after the first for data (``\\ufeffGS``). Other encodings keep ``str.encode``, the
    faster path.
    """
    if not "".encode(encoding):
        return None
    return codecs.getincrementalencoder(encoding)("surrogateescape").encode


@functools.lru_cache(maxsize=64)
def encoder_for(separators: Separators) -> SegmentEncoder:
    """The shared encoder of a set of separators (every outbound envelope builds a writer)."""
    return SegmentEncoder(separators)


def _ccyymmdd(stamp: _dt.datetime) -> str:
    """``strftime("%Y%m%d")`` without its cost (the same text for years 1000 to 9999)."""
    if stamp.year < 1000:
        return stamp.strftime("%Y%m%d")
    return str(stamp.year) + _TWO[stamp.month] + _TWO[stamp.day]


def _yymmdd(stamp: _dt.datetime) -> str:
    return _TWO[stamp.year % 100] + _TWO[stamp.month] + _TWO[stamp.day]


def _hhmm(stamp: _dt.datetime) -> str:
    return _TWO[stamp.hour] + _TWO[stamp.minute]


#: "00" to "99": two-digit fields by lookup (formatting is the slower part of an ISA).
_TWO = tuple(f"{i:02d}" for i in range(100))


def encode_segments(
    segments: Iterable[Sequence[Element]],
    separators: Separators,
    *,
    raw: bool = True,
    encoding: str = "utf-8",
) -> bytes:
    """Serialise segments as they are (ISA included, no counting): the reader's inverse."""
    encoder = encoder_for(separators)
    end = separators.segment + separators.suffix
    text = "".join(encoder.encode(seg, raw=raw) + end for seg in segments)
    return text.encode(encoding, "surrogateescape")


def _name(ch: str, seps: Separators) -> str:
    if ch == seps.element:
        return "the element separator"
    if ch == seps.segment:
        return "the segment terminator"
    if ch == seps.component:
        return "the component separator"
    if ch == seps.repetition:
        return "the repetition separator"
    return "a line break"


def _fixed(value: str, width: int, name: str) -> str:
    if len(value) > width:
        raise X12WriteError(f"{name} {value!r} is longer than {width} characters", segment="ISA")
    return value.ljust(width)


def _control(value: int | str, width: int, name: str) -> str:
    if type(value) is int and 0 <= value <= 999_999_999:
        return str(value).zfill(width)
    text = str(value)
    if not text.isdigit() or int(text) > 999_999_999:
        raise X12WriteError(f"{name} control number must be up to 9 digits, got {value!r}")
    return str(int(text)).zfill(width)
