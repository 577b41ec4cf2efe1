"""The HTTP both directions share: one POST with the standard library, and an answer value."""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import TransportError

DEFAULT_TIMEOUT = 60.0
MAX_RESPONSE = 16 * 1024 * 1024  # an MDN is a few kB; anything near this is not an MDN


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """An HTTP response: what the server sends, or what the client received."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    reason: str = ""

    @classmethod
    def text(cls, status: int, message: str) -> HttpAnswer:
        return cls(status, [("Content-Type", "text/plain; charset=utf-8")], message.encode())


def check_url(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path) of an http(s) URL; TransportError otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"not an http(s) URL: {url!r}")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        port = parts.port
    except ValueError as exc:
        raise TransportError(f"bad port in {url!r}") from exc
    return parts.scheme, parts.hostname, port, path


def post(
    url: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    ssl_context: ssl.SSLContext | None = None,
    max_response: int = MAX_RESPONSE,
) -> HttpAnswer:
    """POST ``body``; any network, TLS or protocol failure becomes TransportError."""
    scheme, host, port, path = check_url(url)
    conn: http.client.HTTPConnection
    if scheme == "https":
        context = ssl_context or ssl.create_default_context()
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.putheader("Connection", "close")
        conn.endheaders(body)
        response = conn.getresponse()
        data = response.read(max_response + 1)
        if len(data) > max_response:
            raise TransportError(f"response from {url} exceeds {max_response} bytes")
        return HttpAnswer(response.status, list(response.getheaders()), data, response.reason)
    except TimeoutError as exc:
        raise TransportError(f"timed out after {timeout:g}s talking to {url}") from exc
    except (OSError, http.client.HTTPException) as exc:
        raise TransportError(f"HTTP POST to {url} failed: {exc!r}") from exc
    finally:
        conn.close()
