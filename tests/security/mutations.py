"""Hypothesis strategies that start from real documents and break them the way fuzzers do.

Random bytes almost never get past the first check of a parser; a real purchase order with
a few bytes flipped, a span deleted or duplicated, a separator swapped for another, or a
hostile token inserted reaches deep into it. Each strategy draws a seed and 0..N mutations.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

#: Bytes that mean something to one of our parsers (or to a spreadsheet, or to UTF-8).
INTERESTING_BYTES = b"\x00\x1a\x7f\x80\xc3\xff~*>^|\n\r\t ,;\"'<>&=+-@"
#: Whole tokens worth inserting: envelope starts, XML entity tricks, MIME boundaries...
TOKENS: tuple[bytes, ...] = (
    b"ISA*00*          *00*          *ZZ*A              *ZZ*B              *261120*1405*U*00401"
    b"*000000001*0*P*>~",
    b"ST*850*0001~",
    b"SE*2*0001~",
    b"GS*PO*A*B*20261120*1405*1*X*004010~",
    b"GE*1*1~",
    b"IEA*1*000000001~",
    b"~~",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b'<!DOCTYPE x [<!ENTITY e "e">]>',
    b"&e;",
    b"&amp;",
    b"<![CDATA[",
    b"]]>",
    b"<?xml version='1.0' encoding='UTF-16'?>",
    b'xmlns:x="urn:x"',
    b'"',
    b'""',
    b"\r\n",
    b"\r\n\r\n",
    b"--boundary\r\n",
    b"Content-Type: multipart/signed; boundary=boundary\r\n",
    b"Content-Type: application/pkcs7-mime; smime-type=compressed-data\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b'=HYPERLINK("http://x")',
    b"&x",
    b"*l0",
    b"&l0 ",
    b"!!python/object:os.system",
    b"{",
    b"[",
    b": ",
    b"- ",
    b"9" * 40,
    b"-1e999999",
    b"0x1F",
    b"NaN",
)
OPS = ("flip", "set", "insert", "token", "delete", "duplicate", "swap", "truncate")


@st.composite
def mutated(
    draw: st.DrawFn,
    seeds: Sequence[bytes],
    *,
    max_ops: int = 6,
    separators: bytes = b"*>~\n",
) -> bytes:
    """A seed with up to ``max_ops`` mutations (``separators``: the bytes ``swap`` replaces)."""
    data = bytearray(draw(st.sampled_from(list(seeds))))
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.sampled_from(OPS))
        size = len(data)
        if size == 0 and op not in ("insert", "token"):
            op = "token"
        if op == "flip":
            i = draw(st.integers(0, size - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            i = draw(st.integers(0, size - 1))
            data[i] = draw(st.sampled_from(list(INTERESTING_BYTES)))
        elif op == "insert":
            i = draw(st.integers(0, size))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        elif op == "token":
            i = draw(st.integers(0, size))
            data[i:i] = draw(st.sampled_from(TOKENS))
        elif op == "delete":
            i = draw(st.integers(0, size - 1))
            j = draw(st.integers(i + 1, min(size, i + 64)))
            del data[i:j]
        elif op == "duplicate":
            i = draw(st.integers(0, size - 1))
            j = draw(st.integers(i + 1, min(size, i + 256)))
            k = draw(st.integers(0, size))
            times = draw(st.integers(1, 4))
            data[k:k] = bytes(data[i:j]) * times
        elif op == "swap":
            old = draw(st.sampled_from(list(separators)))
            new = draw(st.sampled_from(list(INTERESTING_BYTES)))
            data = bytearray(bytes(data).replace(bytes([old]), bytes([new])))
        else:  # truncate
            data = data[: draw(st.integers(0, size))]
    return bytes(data)


#: Element values the validator and the translator must survive.
HOSTILE_VALUES = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "-0",
            "00000000",
            "99999999999999999999",
            "1E+999999",
            "-.",
            ".5",
            "1,5",
            "20261304",
            "20260229",
            "2400",
            "9999",
            "NaN",
            "Infinity",
            "\x00",
            "\udc80",
            "é" * 3,
            ">>",
            "A>B>C",
            "x" * 300,
        ]
    ),
)


@st.composite
def mutated_segments(
    draw: st.DrawFn, segments: list[list[str]], tags: Sequence[str]
) -> list[list[str]]:
    """A transaction's segments with values replaced, elements and segments added or dropped."""
    segs = [list(s) for s in segments]
    for _ in range(draw(st.integers(1, 8))):
        op = draw(
            st.sampled_from(
                ["value", "value", "value", "drop_el", "add_el", "drop", "dup", "move", "tag"]
            )
        )
        i = draw(st.integers(0, len(segs) - 1))
        seg = segs[i]
        if op == "value" and len(seg) > 1:
            seg[draw(st.integers(1, len(seg) - 1))] = draw(HOSTILE_VALUES)
        elif op == "drop_el" and len(seg) > 1:
            del seg[draw(st.integers(1, len(seg) - 1))]
        elif op == "add_el":
            seg.append(draw(HOSTILE_VALUES))
        elif op == "drop" and len(segs) > 1:
            del segs[i]
        elif op == "dup":
            segs.insert(draw(st.integers(0, len(segs))), list(seg))
        elif op == "move" and len(segs) > 1:
            moved = segs.pop(i)
            segs.insert(draw(st.integers(0, len(segs))), moved)
        elif op == "tag":
            seg[0] = draw(st.sampled_from([*tags, "", "ZZZ", "ST", "SE", "HL"]))
    return segs
