"""Byte-exact MIME: parse and build entities without re-serialising anything.

Signatures and MICs are computed over the exact octets of a MIME entity, so the stdlib
``email`` package (which re-folds headers and rewrites line ends) is not used: an entity is
kept as its raw bytes plus a parsed view of its headers.

    entity = parse_entity(raw)
    entity.content_type, entity.params["boundary"], entity.decoded_body()
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from .errors import UNEXPECTED_ERROR, ProcessingError

CRLF = b"\r\n"
_TOKEN = re.compile(rb"^[!-9;-~]+$")  # an RFC 5322 field name: printable, no colon
_BARE_LF = re.compile(rb"(?<!\r)\n")
_LONE_LINE_END = re.compile(rb"(?<!\r)\n|\r(?!\n)")
_BASE64_TEXT = re.compile(rb"^[A-Za-z0-9+/=\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class MimeEntity:
    """One MIME entity: parsed headers, the body as received, and the exact raw bytes."""

    headers: tuple[tuple[str, str], ...]
    body: bytes
    raw: bytes
    header_block: bytes = b""
    _index: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name, value in self.headers:
            self._index.setdefault(name.lower(), value)

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first header called ``name`` (case-insensitive)."""
        return self._index.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        """``type/subtype`` in lower case; ``text/plain`` when absent (RFC 2045)."""
        value = self.get("content-type")
        if not value:
            return "text/plain"
        return value.split(";", 1)[0].strip().lower()

    @property
    def params(self) -> dict[str, str]:
        """Content-Type parameters, names in lower case, values unquoted."""
        return header_params(self.get("content-type") or "")

    @property
    def filename(self) -> str | None:
        """The Content-Disposition (or Content-Type ``name``) file name, path parts removed."""
        name = header_params(self.get("content-disposition") or "").get("filename")
        name = name or self.params.get("name")
        if not name:
            return None
        name = re.split(r"[\\/]", name)[-1]
        # Control characters (NUL above all: PostgreSQL cannot store it) are never a name.
        name = _CONTROL.sub("", name).strip()
        return name or None

    def decoded_body(self) -> bytes:
        """The body with its Content-Transfer-Encoding undone (binary/7bit/8bit/absent: as is)."""
        cte = (self.get("content-transfer-encoding") or "").strip().lower()
        if cte == "base64":
            return decode_base64(self.body)
        if cte == "quoted-printable":
            return binascii.a2b_qp(self.body)
        return self.body

    def canonical(self) -> bytes:
        """The entity with its header block in CRLF form and the body untouched."""
        if not self.header_block:
            return self.body
        return canonical_text(self.header_block) + self.body


def header_params(value: str) -> dict[str, str]:
    """Parameters of a structured header (``a=b; c="d; e"``), tolerant of sloppy quoting."""
    params: dict[str, str] = {}
    for piece in _split_params(value)[1:]:
        if "=" not in piece:
            continue
        name, _, val = piece.partition("=")
        val = val.strip()
        if len(val) >= 2 and val[0] == '"' and val[-1] == '"':
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        params[name.strip().lower()] = val
    return params


def _split_params(value: str) -> list[str]:
    pieces, current, quoted, escaped = [], [], False, False
    for ch in value:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            current.append(ch)
            escaped = True
        elif ch == '"':
            quoted = not quoted
            current.append(ch)
        elif ch == ";" and not quoted:
            pieces.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    pieces.append("".join(current).strip())
    return pieces


def decode_base64(data: bytes) -> bytes:
    """Lenient base64: whitespace and missing padding are accepted."""
    compact = re.sub(rb"\s+", b"", data)
    compact += b"=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact)
    except binascii.Error as exc:
        raise ProcessingError(UNEXPECTED_ERROR, f"body is not valid base64: {exc}") from exc


def looks_like_base64(data: bytes) -> bool:
    """True when ``data`` is base64 text rather than binary DER (for a missing CTE header)."""
    head = data[:4096]
    return bool(head) and _BASE64_TEXT.match(head) is not None


def is_canonical(data: bytes) -> bool:
    """True when every line break is CRLF (or there is none): what S/MIME canonicalization
    (RFC 5751 §3.1.1) leaves unchanged, so a signature over it survives a text-mode verify."""
    return _LONE_LINE_END.search(data) is None


def canonical_text(data: bytes) -> bytes:
    """Turn bare LF line ends into CRLF (RFC 5751 canonical form)."""
    return _BARE_LF.sub(CRLF, data)


def parse_entity(data: bytes, *, require_content_type: bool = False) -> MimeEntity:
    """Split ``data`` into headers and body, keeping every byte.

    With ``require_content_type`` a block without a Content-Type header is taken as a bare
    body (an EDIFACT ``UNA:+.?`` line must not be read as a header).
    """
    headers: list[tuple[str, str]] = []
    pos = 0
    body_start: int | None = None
    while pos < len(data):
        nl = data.find(b"\n", pos)
        line = data[pos:] if nl < 0 else data[pos:nl]
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            body_start = len(data) if nl < 0 else nl + 1
            break
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip().decode("latin-1"))
        else:
            name_b, colon, value_b = line.partition(b":")
            name_b = name_b.rstrip(b" \t")
            if not colon or not _TOKEN.match(name_b):
                return _bare(data)
            headers.append((name_b.decode("ascii"), value_b.strip().decode("latin-1")))
        if nl < 0:
            break
        pos = nl + 1
    if body_start is None:
        return _bare(data)
    entity = MimeEntity(tuple(headers), data[body_start:], data, data[:body_start])
    if require_content_type and entity.get("content-type") is None:
        return _bare(data)
    return entity


def _bare(data: bytes) -> MimeEntity:
    return MimeEntity((), data, data, b"")


def entity_from_http(headers: Iterable[tuple[str, str]], body: bytes) -> MimeEntity:
    """The outer MIME entity of an HTTP message: its headers are the HTTP headers."""
    pairs = tuple((k, v) for k, v in headers)
    block = render_headers(pairs)
    return MimeEntity(pairs, body, block + body, block)


def split_multipart(entity: MimeEntity) -> list[MimeEntity]:
    """The body parts of a multipart entity, each byte-exact (RFC 2046 §5.1.1).

    The line break before a delimiter belongs to the delimiter, CRLF or a bare LF alike.
    """
    boundary = entity.params.get("boundary")
    if not boundary:
        raise ProcessingError(UNEXPECTED_ERROR, f"{entity.content_type} without a boundary")
    body = entity.body
    delim = b"--" + boundary.encode("latin-1")
    starts: list[tuple[int, int]] = []  # (start of the line break before it, end of the line)
    closed = False
    pos = 0
    while True:
        idx = body.find(delim, pos)
        if idx < 0:
            break
        if idx > 0 and body[idx - 1 : idx] != b"\n":
            pos = idx + 1
            continue
        before = idx
        if idx >= 2 and body[idx - 2 : idx] == CRLF:
            before = idx - 2
        elif idx >= 1:
            before = idx - 1
        after = idx + len(delim)
        is_close = body[after : after + 2] == b"--"
        if not is_close and after < len(body) and body[after : after + 1] not in b" \t\r\n":
            pos = idx + 1  # a longer string that merely starts like the delimiter
            continue
        eol = body.find(b"\n", after)
        line_end = len(body) if eol < 0 else eol + 1
        starts.append((before, line_end))
        if is_close:
            closed = True
            break
        pos = line_end
    if starts and not closed:
        # Tolerated: a missing close delimiter ends the last part at the end of the body.
        starts.append((len(body), len(body)))
    if len(starts) < 2:
        raise ProcessingError(UNEXPECTED_ERROR, f"{entity.content_type} has no body parts")
    parts = []
    for (_, begin), (end, _) in itertools.pairwise(starts):
        parts.append(parse_entity(body[begin:end]))
    return parts


def render_headers(headers: Sequence[tuple[str, str]]) -> bytes:
    """Header lines in CRLF form followed by the empty line."""
    lines = b"".join(f"{k}: {v}".encode("latin-1") + CRLF for k, v in headers)
    return lines + CRLF


def build_entity(headers: Sequence[tuple[str, str]], body: bytes) -> MimeEntity:
    """A new entity from headers and a body."""
    block = render_headers(headers)
    return MimeEntity(tuple(headers), body, block + body, block)


def new_boundary() -> str:
    return f"----=_edigate_{uuid.uuid4().hex}"


def build_multipart(
    subtype: str, parts: Sequence[bytes], params: Sequence[tuple[str, str]] = ()
) -> tuple[str, bytes]:
    """A multipart body from raw part entities; returns (Content-Type value, body)."""
    boundary = new_boundary()
    delim = b"--" + boundary.encode("ascii")
    body = b"".join(delim + CRLF + part + CRLF for part in parts) + delim + b"--" + CRLF
    extra = "".join(f"; {k}={quote_param(v)}" for k, v in params)
    return f'multipart/{subtype}{extra}; boundary="{boundary}"', body


def quote_param(value: str) -> str:
    """A parameter value, quoted when it holds anything but token characters."""
    if re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", value):
        return value
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
