"""What kind of document is this? Decided from the first bytes, never from the file name."""

from __future__ import annotations

import csv
import enum

_EBCDIC_ISA = b"\xc9\xe2\xc1"
_SNIFF = 4096


class Format(enum.StrEnum):
    X12 = "x12"
    EDIFACT = "edifact"
    XML = "xml"
    JSON = "json"
    CSV = "csv"
    UNKNOWN = "unknown"


def detect_format(head: bytes) -> Format:
    """Classify a document by its first few KiB (BOMs, UTF-16 and EBCDIC X12 included)."""
    data = head[:_SNIFF]
    # UTF-16 without a BOM: every other byte NUL, from the first character on (not a run of
    # NUL padding before an ASCII ISA, which the strip below takes away).
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(data) > 3 and (data[0] == 0) != (data[1] == 0)
    ):
        data = _from_utf16(data)
    text = data.lstrip(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x00")
    if text.startswith(b"ISA") and len(text) > 3 and not chr(text[3]).isalnum():
        return Format.X12
    if text.lstrip(b"\x40\x25\x15\x0d")[:3] == _EBCDIC_ISA:
        return Format.X12
    if text.startswith((b"UNA", b"UNB")):
        return Format.EDIFACT
    if text.startswith(b"<"):
        return Format.XML
    if text.startswith((b"{", b"[")):
        return Format.JSON
    if _looks_like_csv(text):
        return Format.CSV
    return Format.UNKNOWN


def _from_utf16(data: bytes) -> bytes:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codecs: tuple[str, ...] = ("utf-16",)  # the BOM says which
    else:
        codecs = ("utf-16-be",) if data[0] == 0 else ("utf-16-le",)
    for codec in codecs:
        try:
            return data[: len(data) // 2 * 2].decode(codec).encode("utf-8", "replace")
        except UnicodeDecodeError:
            continue
    return data


def _looks_like_csv(text: bytes) -> bool:
    """The first lines (two or more) parse, quotes honoured, into the same number (> 1) of
    fields. One line is not enough: a sentence with a comma would pass. An order file has
    a header and a row; a partner's headerless one-row file still reads as CSV, since a
    CSV partner's channel names it (``_partner_format`` in the inbound pipeline)."""
    lines = [ln for ln in text.decode("utf-8", "replace").splitlines()[:6] if ln.strip()]
    if len(lines) < 2:
        return False
    if len(text) >= _SNIFF:
        lines = lines[:-1]  # the last line may be cut off by the sniff window
    for delimiter in (",", ";", "\t", "|"):
        widths = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(widths) == 1 and widths.pop() > 1:
            return True
    return False
