"""The fast paths of the writer, reader and validator give exactly what the slow,
explaining paths give: the same text, the same errors, the same findings."""

from __future__ import annotations

import datetime as dt
import io
import random
from decimal import Decimal

import pytest

from edigate.errors import X12WriteError
from edigate.x12 import (
    ErrorCode,
    PartyId,
    SegmentEncoder,
    Separators,
    TransactionSet,
    X12Reader,
    X12Writer,
)
from edigate.x12.overlay import Overlay, RequiredSegment
from edigate.x12.spec import (
    NO_SEPARATOR,
    ElementUse,
    SegmentDef,
    _padded_check,
    available_sets,
    compile_segment,
    load_transaction,
    walk_segment_uses,
)
from edigate.x12.validator import _hash_totals, validate_transaction
from edigate.x12.writer import (
    Element,
    InterchangeEnvelope,
    _ccyymmdd,
    _control,
    _hhmm,
    _yymmdd,
)
from tests.x12.test_validator import GOOD_850, transaction

SEPS = Separators("*", ">", "~", "^", "\n")
ALPHABET = "AB1 .-*>~^\r\n"


def outcome(encode: object, segment: list[Element], raw: bool) -> tuple[str, ...]:
    """The text, or the error with its segment and element."""
    try:
        return ("ok", encode(segment, raw=raw))  # type: ignore[operator]
    except X12WriteError as err:
        return ("error", str(err), str(err.segment), str(err.element))


def random_segment(rng: random.Random) -> list[Element]:
    tag = rng.choice(["N1", "PO1", "REF", "B G", "", "ISA"])
    out: list[Element] = [tag] if tag else []
    for _ in range(rng.randrange(0, 6)):
        value = "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 4)))
        kind = rng.random()
        if kind < 0.1:
            out.append(("X", value))
        elif kind < 0.15:
            out.append([value, "Y"])
        else:
            out.append(value)
    return out


@pytest.mark.parametrize("raw", [False, True])
def test_encode_agrees_with_the_element_by_element_path(raw: bool) -> None:
    rng = random.Random(20261123)
    for _ in range(3000):
        segment = random_segment(rng)
        # A fresh encoder knows no tags yet; a warm one takes the fast path for known tags.
        for encoder in (SegmentEncoder(SEPS), warm_encoder()):
            fast = outcome(encoder.encode, segment, raw)
            slow = outcome(lambda s, raw, e=encoder: e._encode(s, raw), segment, raw)
            assert fast == slow, segment


def warm_encoder() -> SegmentEncoder:
    encoder = SegmentEncoder(SEPS)
    for tag in ("N1", "PO1", "REF", "ISA"):
        encoder.encode([tag, "A"])
    return encoder


def test_segments_batch_writes_what_was_encoded_before_a_bad_segment() -> None:
    good: list[list[Element]] = [
        ["BAK", "00", "AD", "PO1"],
        ["PO1", "1", "5", ("EA", "X")],
        ["CTT", "1"],
    ]
    bad: list[list[Element]] = [*good, ["REF", "ZZ", "A*B"], ["CTT", "2"]]
    one_by_one = X12Writer(SEPS)
    one_by_one.begin_interchange(
        InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), 1, version="00501")
    )
    batch = X12Writer(SEPS)
    batch.begin_interchange(
        InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), 1, version="00501")
    )
    batch._encoder._tags.update({"BAK", "PO1", "CTT", "REF"})  # the fast path is taken
    with pytest.raises(X12WriteError, match="REF02"):
        for segment in bad:
            one_by_one.segment(segment)
    with pytest.raises(X12WriteError, match="REF02"):
        batch.segments(bad)
    assert batch.getvalue() == one_by_one.getvalue()
    assert batch.getvalue().endswith(b"CTT*1~\n")


def test_segments_batch_counts_toward_se01_and_falls_back_for_composites() -> None:
    body: list[list[Element]] = [["BAK", "00", "AD"], ["SV1", ("HC", "99213")], ["CTT", "1"]]
    written = []
    for batched in (False, True):
        writer = X12Writer(SEPS)
        writer.begin_transaction("855", 1)
        if batched:
            writer.segments(body)
        else:
            for segment in body:
                writer.segment(segment)
        assert writer.end_transaction() == 5
        written.append(writer.getvalue())
    assert written[0] == written[1]
    assert b"SV1*HC>99213~" in written[1]


def test_segments_batch_stops_at_the_segment_the_encoding_cannot_hold() -> None:
    stream = io.BytesIO()
    writer = X12Writer(SEPS, stream, encoding="ascii")
    writer._encoder._tags.update({"N1", "N2"})
    with pytest.raises(UnicodeEncodeError):
        writer.segments([["N1", "ST", "OK"], ["N2", "CAFÉ"], ["N1", "BT", "LATER"]])
    assert stream.getvalue() == b"N1*ST*OK~\n"


def test_isa_field_with_a_separator_is_still_named() -> None:
    writer = X12Writer(SEPS)
    with pytest.raises(X12WriteError, match="ISA06") as caught:
        writer.begin_interchange(InterchangeEnvelope(PartyId("ZZ", "A*B"), PartyId("ZZ", "C"), 1))
    assert caught.value.segment == "ISA"


def test_too_long_isa_fields_are_named_in_field_order() -> None:
    long_id = PartyId("ZZ", "SIXTEEN-CHARS-ID")
    with pytest.raises(X12WriteError, match="ISA06 'SIXTEEN-CHARS-ID' is longer than 15"):
        X12Writer(SEPS).begin_interchange(InterchangeEnvelope(long_id, PartyId("ZZ", "B"), 1))
    with pytest.raises(X12WriteError, match="ISA01"):
        X12Writer(SEPS).begin_interchange(
            InterchangeEnvelope(long_id, PartyId("ZZ", "B"), 1, authorization=("003", ""))
        )
    with pytest.raises(X12WriteError, match="ISA15"):
        X12Writer(SEPS).begin_interchange(
            InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), 1, usage="PT")
        )
    with pytest.raises(X12WriteError, match="ISA13"):  # the field before ISA15 in the ISA
        X12Writer(SEPS).begin_interchange(
            InterchangeEnvelope(PartyId("ZZ", "A"), PartyId("ZZ", "B"), "X1", usage="PT")
        )


@pytest.mark.parametrize("year", [1, 99, 999, 1000, 2026, 9999])
def test_envelope_dates_and_times_read_as_strftime_writes_them(year: int) -> None:
    for stamp in (dt.datetime(year, 1, 2, 3, 4), dt.datetime(year, 12, 31, 23, 59)):
        assert _yymmdd(stamp) == stamp.strftime("%y%m%d")
        assert _ccyymmdd(stamp) == stamp.strftime("%Y%m%d")
        assert _hhmm(stamp) == stamp.strftime("%H%M")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, "000000001"), (0, "000000000"), ("42", "000000042"), ("0007", "000000007")],
)
def test_control_numbers_are_padded(value: int | str, expected: str) -> None:
    assert _control(value, 9, "ISA13") == expected


@pytest.mark.parametrize("value", [-1, 1_000_000_000, True, "12a", ""])
def test_bad_control_numbers_are_refused(value: int | str) -> None:
    with pytest.raises(X12WriteError, match="ISA13"):
        _control(value, 9, "ISA13")


# ---------------------------------------------------------------------------- validator
def test_two_overlay_requirements_are_each_checked_once_past_their_place() -> None:
    overlay = Overlay(
        required_segments=(
            RequiredSegment("REF", where={"REF01": "IA"}),
            RequiredSegment("N1", where={"N101": "BT"}),
        )
    )
    found = validate_transaction(transaction(GOOD_850), overlay)
    assert [(f.code, f.location.tag, f.location.segment_in_transaction) for f in found] == [
        (ErrorCode.MANDATORY_SEGMENT_MISSING, "REF", 4),  # at the PER, past the REFs
        (ErrorCode.MANDATORY_SEGMENT_MISSING, "N1", 9),  # at the first PO1, past the N1s
    ]


def test_a_required_segment_present_in_its_place_is_counted() -> None:
    overlay = Overlay(
        required_segments=(
            RequiredSegment("REF", where={"REF01": "DP"}),
            RequiredSegment("N1", where={"N101": "ST"}),
        )
    )
    assert validate_transaction(transaction(GOOD_850), overlay) == []


def reference_hash_totals(values: list[str]) -> set[Decimal]:
    total = sum((Decimal(v) for v in values if v), Decimal(0))
    digit_sum = sum(int(v.replace("-", "").replace(".", "")) for v in values if v)
    out = {total, Decimal(digit_sum), Decimal(digit_sum % 10**10)}
    if total == total.to_integral_value():
        out.add(Decimal(int(total) % 10**10))
    return out


@pytest.mark.parametrize(
    "values",
    [["15", "35"], ["0015", "", "7"], ["99999999999", "2"], ["1.5", "2"], ["-3", "4"], ["0"]],
)
def test_hash_totals_of_whole_numbers_match_the_general_sum(values: list[str]) -> None:
    assert _hash_totals(values) == reference_hash_totals(values)


def test_hash_totals_refuse_what_is_not_a_number() -> None:
    assert _hash_totals(["12", "x"]) is None
    assert _hash_totals(["\u00b2"]) is None  # a digit to str.isdigit, not to int()


# ---------------------------------------------------------------------------- reader
def test_a_repeated_st02_is_reported_on_the_second_transaction_only() -> None:
    body = "~".join([*GOOD_850, f"SE*{len(GOOD_850) + 1}*0001"])
    text = (
        "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*1200*U*"
        f"00401*000000001*0*P*>~GS*PO*SENDER*RECEIVER*20261120*1200*1*X*004010~{body}~{body}~"
        "GE*2*1~IEA*1*000000001~"
    )
    first, second = [e for e in X12Reader(text.encode()).events() if isinstance(e, TransactionSet)]
    assert first.findings == []
    assert [f.code for f in second.findings] == [ErrorCode.DUPLICATE_TRANSACTION_CONTROL_NUMBER]


def test_se_with_padded_control_number_or_wrong_count_is_read_as_before() -> None:
    body = list(GOOD_850)
    padded = transaction([*body, f"SE*{len(body) + 1}*0001 "], se=False)
    assert padded.findings == []
    wrong = transaction([*body, f"SE*{len(body)}*0002"], se=False)
    assert [f.code for f in wrong.findings] == [
        ErrorCode.SEGMENT_COUNT_MISMATCH,
        ErrorCode.TRANSACTION_CONTROL_MISMATCH,
    ]


# ---------------------------------------------------------------------------- segment checks
def spec_segments() -> list[SegmentDef]:
    seen: dict[int, SegmentDef] = {}
    for family in ("004010", "005010"):
        for set_id in sorted(available_sets(family)):
            root = load_transaction(set_id, family).root
            for _, use in walk_segment_uses(root):
                if not use.segment.permissive:
                    seen.setdefault(id(use.segment), use.segment)
    return list(seen.values())


def random_value(rng: random.Random, use: ElementUse) -> str:
    pick = rng.random()
    codes = sorted(use.element.codes) if use.element and use.element.codes else []
    if pick < 0.35:
        return ""
    if pick < 0.5 and codes:
        return rng.choice(codes)
    if pick < 0.6:
        return rng.choice(["20261120", "261120", "1200", "120000", "2026113"])
    if pick < 0.75:
        return "".join(rng.choice("0123456789") for _ in range(rng.randrange(1, 12)))
    return "".join(rng.choice("AB9 .->^\x01") for _ in range(rng.randrange(1, 6)))


def test_per_count_checkers_agree_with_the_padded_checker() -> None:
    rng = random.Random(4010)
    segments = spec_segments()
    assert len(segments) > 50
    for seg in segments:
        for legacy in (False, True):
            fast, reference = compile_segment(seg, legacy), _padded_check(seg, legacy)
            for _ in range(60):
                els = [seg.tag] + [random_value(rng, u) for u in seg.elements]
                els += [rng.choice(["", "", "X"]) for _ in range(rng.randrange(0, 3))]
                els = els[: rng.randrange(0, len(els) + 1)]
                for cs, rs in ((">", "^"), (">", NO_SEPARATOR)):
                    assert fast(els, cs, rs) == reference(els, cs, rs), (seg.tag, els)


def _strptime_accepts(value: str, fmt: str, width: int) -> bool:
    if not (len(value) == width and value.isdigit() and value.isascii()):
        return False
    try:
        dt.datetime.strptime(value, fmt)
    except ValueError:
        return False
    return True


def test_isa_date_check_accepts_exactly_what_strptime_does() -> None:
    """Every YYMMDD with month 00-13 and day 00-32 (the leap days of each century too),
    and odd widths and digits: ISA09's check agrees with ``strptime("%y%m%d")``."""
    from edigate.x12.isa import valid_yymmdd

    values = [f"{y:02d}{m:02d}{d:02d}" for y in range(100) for m in range(14) for d in range(33)]
    values += ["", "26112", "2611233", "26ab23", "\uff12\uff16\uff11\uff11\uff12\uff13"]
    wrong = [v for v in values if valid_yymmdd(v) != _strptime_accepts(v, "%y%m%d", 6)]
    assert wrong == []
    assert valid_yymmdd("000229") and not valid_yymmdd("690229")  # 2000 yes, 1969 no


def test_isa_time_check_accepts_exactly_what_strptime_does() -> None:
    from edigate.x12.isa import valid_hhmm

    values = [f"{h:02d}{m:02d}" for h in range(30) for m in range(70)]
    values += ["", "930", "09300", "9:30", "\uff10\uff19\uff13\uff10"]
    wrong = [v for v in values if valid_hhmm(v) != _strptime_accepts(v, "%H%M", 4)]
    assert wrong == []
