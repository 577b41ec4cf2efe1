"""Whatever a partner sends, translating an 850 never raises: findings or an Order; and the
compiled segment readers read exactly what their specs say."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edigate.translate.x12_850 import (
    COUNT,
    DATE,
    DEC,
    FIELDS,
    HANDLERS,
    N2,
    SPECS,
    TEXT,
    TIME,
    Spec,
    _Reader850,
    translate_850,
)
from edigate.translate.x12_common import Context
from edigate.x12 import TransactionSet

from .x12text import transaction

TAGS = [*sorted(HANDLERS), "PKG", "SI", "ZZZ", "SLN"]
VALUES = st.sampled_from(
    ["", "0", "1", "-1", "12.50", "1E3", "2.", ".5", "20261120", "261120", "20261332",
     "1430", "9999", "UP", "92", "ST", "A", "C", "N", "PE", "EA", " 7 ", "x>y", "ABC",
     "00", "AD", "IA", "-0.01", "NaN"]
)  # fmt: skip
SEGMENT = st.builds(
    lambda tag, values: "*".join([tag, *values]),
    st.sampled_from(TAGS),
    st.lists(VALUES, min_size=0, max_size=12),
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(SEGMENT, min_size=0, max_size=25), st.booleans())
def test_translation_never_raises(body: list[str], with_beg: bool) -> None:
    if with_beg:
        body = ["BEG*00*SA*PO1**20261120", *body]
    tx: TransactionSet = transaction(body)
    result = translate_850(tx)
    errors = [f for f in result.findings if f.is_error]
    assert (result.document is None) == bool(errors)
    for finding in result.findings:
        assert finding.location.segment is not None and finding.location.tag
    if result.document is not None:
        po1 = sum(1 for s in tx.segments if s[0] == "PO1")
        assert len(result.document.lines) == po1


# --------------------------------------------------------------------------- compiled specs
def reference_fields(ctx: Context, i: int, s: list[str], spec: Spec) -> dict[str, Any]:
    """What a segment's spec means, read the plain way (a loop over the spec)."""
    readers = {
        DEC: ctx.decimal,
        N2: ctx.implied,
        COUNT: ctx.count,
        DATE: ctx.date,
        TIME: ctx.time,
    }
    out: dict[str, Any] = {}
    for k, name, kind in spec:
        if k < len(s) and s[k]:
            out[name] = s[k] if kind == TEXT else readers[kind](i, s, k)
    return out


ELEMENTS = st.one_of(
    VALUES,
    st.text(alphabet="0123456789.-E ²٣x", max_size=9),
    st.sampled_from(["20261120", "1430", "143015", "1430155", "007", "1e2", "-.5", "٣"]),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(SPECS)), st.lists(ELEMENTS, max_size=16))
def test_compiled_field_readers_read_as_the_spec_says(tag: str, elements: list[str]) -> None:
    seg = [tag, *elements]
    tx = transaction(["BEG*00*SA*PO1**20261120"])
    reader = _Reader850(tx)
    expected_ctx = Context(tx)
    expected = reference_fields(expected_ctx, 2, seg, SPECS[tag])
    assert FIELDS[tag](reader, 2, seg) == expected
    assert [str(f) for f in reader.ctx.findings] == [str(f) for f in expected_ctx.findings]


def test_a_po1_after_the_ctt_still_becomes_a_line() -> None:
    """Found by the property above in CI: a misplaced PO1 went to extra, losing a line."""
    tx = transaction(["BEG*00*SA*PO1**20261120", "CTT*1", "PO1*1*2*EA*3.50", "PID*F****LATE"])
    result = translate_850(tx)
    assert result.document is not None
    (line,) = result.document.lines
    assert (line.line_number, str(line.quantity), line.description) == ("1", "2", "LATE")
