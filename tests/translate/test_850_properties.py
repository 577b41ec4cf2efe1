"""Whatever a partner sends, translating an 850 never raises: findings or an Order."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edigate.translate.x12_850 import HANDLERS, translate_850
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
