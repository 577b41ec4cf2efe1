"""pyx12 4.0.0 as an independent oracle: on well-formed files our segments equal its segments.

How pyx12 is read: ``pyx12.x12file.X12Reader(text_stream)`` iterates
``pyx12.segment.Segment`` objects; ``seg.get_seg_id()`` is the tag and ``seg.elements`` the
elements, each a ``Composite`` whose ``format()`` joins its components with ISA16 (dropping
trailing empty components). Its tokenizer (``pyx12.rawx12file.RawX12File``) takes the
delimiters from the first 106 characters and splits on the terminator.

Where the comparison is meaningful, and what is normalised:

* pyx12 needs an ISA of exactly 106 characters and text starting with ``ISA``: a corpus
  file it refuses is skipped with pyx12's own error as the reason. We hand it the most it
  can take: the text decoded as our reader decodes it (UTF-8 without the BOM, EBCDIC,
  UTF-16), without newline translation, and with an ISA12 other than 00401/00501 shown to
  it as 00401 (its version gate; the delimiters do not depend on the version), ISA12 itself
  then compared as the file has it.
* Trailing empty components are dropped on our side too (pyx12's ``Composite.format``).
* Line breaks inside a segment are formatting to us and data to pyx12; they are removed from
  pyx12's values before comparing (the reader's rule, tested on its own elsewhere).
* pyx12 drops a last segment that has no terminator, so that one segment is not compared.
* pyx12 stops at an empty segment (``~~``) and ignores repetition separators. Well-formed
  files have no empty segment; repetitions stay joined in both readers' values. The
  ``~~`` difference itself is asserted below, as the regression it is.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pyx12.x12file import X12Reader as Pyx12Reader

from edigate.x12 import InterchangeHeader, Separators, X12Reader
from tests.x12.test_reader import group, interchange, purchase_order, render, transactions

SKIPPED_DIRS = {"edifact", "cxml", "csv", "oagis", "malformed"}

#: Corpus files pyx12 opens but reads differently, because the file itself is ambiguous.
NOT_COMPARABLE = {
    "x12-850/edi.net__x12.850.issue135.edi": (
        "ISA16 is missing ('*T*~' then LF): pyx12 takes '~' as the component separator and "
        "LF as the terminator, we take '~' as the terminator (with a warning)"
    ),
}


def pyx12_segments(text: str) -> list[list[str]]:
    reader = Pyx12Reader(io.StringIO(text))
    return [[seg.get_seg_id(), *(c.format() for c in seg.elements)] for seg in reader]


def our_segments(data: bytes | Path) -> tuple[list[list[str]], Separators]:
    header = next(e for e in X12Reader(data).events() if isinstance(e, InterchangeHeader))
    seps = header.separators
    out = []
    for _, seg in X12Reader(data).segments():
        if seg[0] != "ISA":
            seg = [_trim_components(value, seps.component) for value in seg]
        out.append(seg)
    return out, seps


def _trim_components(value: str, component: str) -> str:
    parts = value.split(component)
    while len(parts) > 1 and parts[-1] == "":
        parts.pop()
    return component.join(parts)


def _without_breaks(segments: list[list[str]], seps: Separators) -> list[list[str]]:
    breaks = [b for b in "\r\n" if b not in seps.delimiters()]
    out = []
    for seg in segments:
        values = seg
        for brk in breaks:
            values = [v.replace(brk, "") for v in values]
        out.append(values)
    return out


def _text_for_pyx12(data: bytes) -> tuple[str, str | None]:
    """The file as text pyx12 can take, and the ISA12 we had to hide from its version gate."""
    reader = X12Reader(data)
    next(reader.events(), None)  # sniffs the encoding
    encoding = "utf-8-sig" if reader.encoding == "utf-8" else reader.encoding
    text = data.decode(encoding, "surrogateescape")
    version = text[84:89]
    if text.startswith("ISA") and version.isdigit() and version not in ("00401", "00501"):
        return text[:84] + "00401" + text[89:], version
    return text, None


def assert_same_segments(data: bytes, name: str) -> int:
    text, hidden_version = _text_for_pyx12(data)
    try:
        theirs = pyx12_segments(text)
    except Exception as exc:  # pyx12 raises its own X12Error, and others on odd input
        pytest.skip(f"pyx12 cannot read {name}: {type(exc).__name__}: {str(exc)[:120]}")
    ours, seps = our_segments(data)
    theirs = _without_breaks(theirs, seps)
    if hidden_version is not None:
        theirs[0][12] = hidden_version
    tail = text.rstrip("".join(c for c in " \t\r\n\u00a0" if c != seps.segment))
    if not tail.endswith(seps.segment):
        ours = ours[:-1]  # pyx12 drops an unterminated last segment
    assert len(theirs) == len(ours), name
    for (i, a), b in zip(enumerate(ours, start=1), theirs, strict=True):
        assert a == b, f"{name}: segment {i} differs"
    return len(ours)


def _corpus_x12(corpus: Path) -> list[Path]:
    return sorted(
        p
        for d in corpus.iterdir()
        if d.is_dir() and d.name not in SKIPPED_DIRS
        for p in d.iterdir()
        if p.is_file()
    )


# ---------------------------------------------------------------------- samples and generated
def test_sample_files_match_pyx12(samples_dir: Path) -> None:
    paths = sorted((samples_dir / "x12").glob("*.edi"))
    assert paths
    for path in paths:
        assert assert_same_segments(path.read_bytes(), path.name) > 10


@pytest.mark.parametrize(
    ("seps", "version"),
    [
        (Separators("*", ":", "~", None, "\n"), "00401"),
        (Separators("*", ">", "~", "^", "\r\n"), "00501"),
        (Separators("|", "!", "\\", None, ""), "00401"),
        (Separators("\x1d", "\x1f", "\x1c", "\x07", "\n"), "00501"),
        (Separators("*", ":", "\x1d", None, "\r\n"), "00401"),
    ],
)
def test_generated_interchanges_match_pyx12(seps: Separators, version: str) -> None:
    orders = [purchase_order(f"{n:04d}", ["REF*ZZ*A:B", "N9*ZZ*R1^R2"]) for n in range(1, 6)]
    data = render(
        interchange([group(orders[:3], "1"), group(orders[3:], "2")], version=version), seps
    )
    assert assert_same_segments(data, f"generated {seps!r}") == 41


# ---------------------------------------------------------------------- corpus
def test_corpus_files_match_pyx12(corpus_dir: Path) -> None:
    """Every corpus X12 file pyx12 can read gives the same segments (one test, a summary)."""
    compared, refused = [], []
    for path in _corpus_x12(corpus_dir):
        rel = path.relative_to(corpus_dir).as_posix()
        if rel in NOT_COMPARABLE:
            continue
        try:
            assert_same_segments(path.read_bytes(), rel)
        except pytest.skip.Exception:
            refused.append(rel)
            continue
        compared.append(rel)
    # pyx12 refuses an ISA that is not exactly 106 characters: a dozen corpus files.
    assert len(compared) >= 80, (compared, refused)


@pytest.mark.parametrize(
    "rel",
    [
        "x12-850/staedi__invoice810_po850_dual.edi",
        "x12-850/bots__850-004010-12.x12",
        "x12-997/staedi__simple997-multiple-interchanges.edi",
        "x12-999/stupidedi__X231A1_999_3-837s.edi",
        "x12-other/oopfactory__Example1_IG_0x1D.txt",
        "x12-other/vscode-edi__odd-separator.edi",
        "x12-other/staedi__sample837-HL-nested.edi",
        "x12-855/oopfactory__855SSimmons.txt",
    ],
)
def test_named_corpus_files_match_pyx12(corpus_dir: Path, rel: str) -> None:
    """A few files of each kind by name (multi-interchange, control-character and newline
    terminators, odd separators, CRLF), so a failure points at the layout that broke."""
    assert assert_same_segments((corpus_dir / rel).read_bytes(), rel) > 5


# ---------------------------------------------------------------------- where pyx12 is wrong
def test_pyx12_stops_at_an_empty_segment_where_we_read_on() -> None:
    orders = [purchase_order(f"{n:04d}") for n in range(1, 21)]
    data = render(interchange([group(orders)]))
    broken = data.replace(b"CTT*1~\nSE*5*0004~", b"CTT*1~~\nSE*5*0004~")
    theirs = pyx12_segments(broken.decode())
    ours = list(X12Reader(broken).segments())
    assert len(theirs) < 25  # pyx12: the first 3 orders and a half, then nothing
    assert len(ours) == len(list(X12Reader(data).segments())) + 1
    assert len(transactions(X12Reader(broken).events())) == 20
