"""The AS2 HTTP(S) endpoint on the standard library's ThreadingHTTPServer.

POSTs under ``path`` are AS2 messages, or async MDNs for messages we sent (recognised by
content: a multipart/report, signed or not). GET answers a one-line health text.

    server = As2Server(partners, store_handler(store), port=4080).start()
    ...
    server.close()
"""

from __future__ import annotations

import logging
import re
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..base import Handler
from .asyncmdn import AsyncMdnReceiver, MemoryPendingMdns, PendingMdnLog, SettledCallback
from .crypto import DEFAULT_MAX_DECOMPRESSED
from .mdn import is_mdn
from .mdnpost import MdnDeliveryCallback, MdnPoster
from .mime import entity_from_http
from .partner import PartnerLookup
from .receiver import As2Receiver, MemoryMessageIdLog, MessageIdLog
from .transport import HttpAnswer

log = logging.getLogger("edigate.channels.as2")

DEFAULT_MAX_BODY = 256 * 1024 * 1024
#: Connections served at once (a thread each); more are closed for the sender to retry.
DEFAULT_MAX_CONNECTIONS = 32
_MAX_LINE = 1024  # a chunk size line (with extensions) or one trailer field
_MAX_TRAILERS = 64 * 1024
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")


class _BodyTooLarge(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.1"
    server_version = "edigate-AS2"
    timeout = 120  # seconds of socket silence before a stalled client is dropped

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, answer: HttpAnswer) -> None:
        self.send_response(answer.status)
        for name, value in answer.headers:
            if name.lower() not in ("content-length", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(answer.body)
        self.close_connection = True

    def _path_ok(self) -> bool:
        base = self.server.as2.path.rstrip("/")
        path = self.path.split("?", 1)[0].rstrip("/")
        return path == base or path.startswith(base + "/")

    def do_GET(self) -> None:
        if not self._path_ok():
            self._send(HttpAnswer.text(404, "not found\n"))
            return
        self._send(HttpAnswer.text(200, "edigate AS2 endpoint: POST AS2 messages here\n"))

    def do_POST(self) -> None:
        endpoint = self.server.as2
        if not self._path_ok():
            self._send(HttpAnswer.text(404, "not found\n"))
            return
        try:
            body = self._read_body(endpoint.max_body)
        except _BodyTooLarge:
            self._send(HttpAnswer.text(413, f"body exceeds {endpoint.max_body} bytes\n"))
            return
        except ValueError as exc:
            self._send(HttpAnswer.text(400, f"unreadable body: {exc}\n"))
            return
        headers = [
            (k, v)
            for k, v in self.headers.items()
            if k.lower() not in ("content-length", "transfer-encoding", "connection")
        ]
        try:
            answer = endpoint.dispatch(headers, body, remote=self.client_address[0])
        except Exception:
            log.exception("AS2 request from %s failed", self.client_address[0])
            answer = HttpAnswer.text(500, "internal error\n")
        self._send(answer)

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > limit:
            raise _BodyTooLarge
        data = self.rfile.read(length)
        if len(data) != length:
            raise ValueError(f"expected {length} bytes, got {len(data)}")
        return data

    def _read_chunked(self, limit: int) -> bytes:
        """The whole chunked body, or ValueError: a body cut off by a dropped client must
        never be dispatched, or its partner's full resend is refused as a duplicate.
        """
        chunks: list[bytes] = []
        total = 0
        while True:
            size = _chunk_size(self._read_line("chunk size line"))
            if size == 0:
                self._skip_trailers()
                return b"".join(chunks)
            total += size
            if total > limit:
                raise _BodyTooLarge
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise ValueError(
                    f"chunked body cut off: a chunk of {size} bytes ended after {len(chunk)} bytes"
                )
            self._expect_crlf(size)
            chunks.append(chunk)

    def _expect_crlf(self, size: int) -> None:
        """The CRLF that ends chunk data; anything else means the size lied."""
        end = self.rfile.readline(3)
        if not end:
            raise ValueError("chunked body cut off: the connection closed after a chunk")
        if end not in (b"\r\n", b"\n"):
            raise ValueError(f"a chunk of {size} bytes is not followed by CRLF")

    def _read_line(self, what: str) -> bytes:
        """One framing line; ValueError at EOF or when it is overlong (never a silent b"")."""
        line = self.rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE and not line.endswith(b"\n"):
            raise ValueError(f"{what} longer than {_MAX_LINE} bytes")
        if not line.endswith(b"\n"):
            raise ValueError(f"chunked body cut off: the connection closed in the {what}")
        return line

    def _skip_trailers(self) -> None:
        """Read trailer fields up to the blank line that ends the message (bounded)."""
        read = 0
        while (line := self._read_line("trailer section")) not in (b"\r\n", b"\n"):
            read += len(line)
            if read > _MAX_TRAILERS:
                raise ValueError(f"trailer section longer than {_MAX_TRAILERS} bytes")


def _chunk_size(line: bytes) -> int:
    """The size of a chunk from its line, extensions ignored. Only hex digits count: int()
    would also take ``-1`` (read to EOF past max_body), ``+``, ``_`` and spaces.
    """
    text, ext, _ = line.removesuffix(b"\n").removesuffix(b"\r").partition(b";")
    if ext:
        text = text.rstrip(b" \t")  # whitespace is allowed before an extension
    if not _CHUNK_SIZE.fullmatch(text):
        raise ValueError(f"bad chunk size {text[:40]!r}")
    return int(text, 16)


class _HttpServer(ThreadingHTTPServer):
    """One thread per connection, up to ``slots`` at once: each may hold a body of up to
    max_body in memory, so connections beyond that are closed at once (a sender retries
    later) instead of each getting a thread and its memory."""

    daemon_threads = True
    as2: As2Server
    slots: threading.BoundedSemaphore

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):
            log.warning(
                "AS2: %s connections at once already; closed one from %s",
                self.as2.max_connections,
                client_address[0],
            )
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()  # no thread was started to release it
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that drops the connection or fails TLS is logged, not printed to stderr."""
        log.info("AS2 connection from %s failed", client_address[0], exc_info=True)


class As2Server:
    """The AS2 endpoint: receives messages (and async MDNs) and answers them.

    ``partners`` finds the relationship for AS2-From/AS2-To; ``handler`` stores what came
    (``store_handler(store)`` in production). ``on_mdn`` receives the outcome of each async
    MDN for a message we sent with ``As2Channel`` sharing the same ``pending_mdns`` log;
    ``on_mdn_delivery`` how posting each async MDN we owe a partner ended.
    """

    def __init__(
        self,
        partners: PartnerLookup,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/as2",
        ssl_context: ssl.SSLContext | None = None,
        message_ids: MessageIdLog | None = None,
        pending_mdns: PendingMdnLog | None = None,
        on_mdn: SettledCallback | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        max_decompressed: int = DEFAULT_MAX_DECOMPRESSED,
        async_mdn_attempts: int = 5,
        async_mdn_backoff: float = 5.0,
        async_mdn_timeout: float = 30.0,
        async_mdn_ssl_context: ssl.SSLContext | None = None,
        on_mdn_delivery: MdnDeliveryCallback | None = None,
        poll_interval: float = 0.5,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        self.poll_interval = poll_interval  # how soon close() is noticed
        self.path = "/" + path.strip("/")
        self.max_body = max_body
        self.max_connections = max_connections
        poster = MdnPoster(
            attempts=async_mdn_attempts,
            backoff=async_mdn_backoff,
            timeout=async_mdn_timeout,
            ssl_context=async_mdn_ssl_context,
            on_result=on_mdn_delivery,
        )
        self.receiver = As2Receiver(
            partners,
            handler,
            message_ids=message_ids or MemoryMessageIdLog(),
            mdn_poster=poster,
            max_decompressed=max_decompressed,
        )
        self.pending_mdns = pending_mdns or MemoryPendingMdns()
        self.mdn_receiver = AsyncMdnReceiver(
            partners, self.pending_mdns, on_mdn or (lambda outcome: None)
        )
        self._httpd = _HttpServer((host, port), _Handler, bind_and_activate=True)
        self._httpd.as2 = self
        self._httpd.slots = threading.BoundedSemaphore(max_connections)
        if ssl_context is not None:
            # The handshake happens in the request thread, so a slow client cannot stall accept.
            self._httpd.socket = ssl_context.wrap_socket(
                self._httpd.socket, server_side=True, do_handshake_on_connect=False
            )
        self._scheme = "https" if ssl_context is not None else "http"
        self._thread: threading.Thread | None = None
        self._serving = False

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._httpd.server_address[:2]
        return str(host), int(port)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"{self._scheme}://{host}:{port}{self.path}"

    def dispatch(
        self, headers: list[tuple[str, str]], body: bytes, *, remote: str | None = None
    ) -> HttpAnswer:
        """Route one POST: an MDN to the MDN receiver, anything else to the message receiver."""
        entity = entity_from_http(headers, body)
        if is_mdn(entity):
            return self.mdn_receiver.receive_entity(entity)
        return self.receiver.receive_entity(entity, remote=remote)

    def start(self) -> As2Server:
        """Serve in a background thread; returns self."""
        self._serving = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            args=(self.poll_interval,),
            name="as2-server",
            daemon=True,
        )
        self._thread.start()
        log.info("AS2 endpoint listening on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`close` is called from another one."""
        self._serving = True
        self._httpd.serve_forever(self.poll_interval)

    def close(self) -> None:
        """Stop accepting, then let pending async MDNs finish (briefly)."""
        if self._serving:
            self._httpd.shutdown()
            self._serving = False
        self._httpd.server_close()
        if self._thread:
            self._thread.join(5)
        self.receiver.close()

    def __enter__(self) -> As2Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
