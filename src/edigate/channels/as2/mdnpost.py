"""Posting the async MDNs we owe partners (``Receipt-Delivery-Option: https://...``).

Each MDN is posted in a background thread with retries. Over HTTPS the partner's server is
checked against the partner's own CA file when its relationship names one (``tls_ca``: the
CA its outbound profile trusts, often a self-signed certificate), else against the
server-wide context or the system CAs. The outcome goes to ``on_result`` once, so the
gateway can record it on the inbound document; a final failure is also an ERROR line.

    poster = MdnPoster(on_result=record)
    poster.post(url, headers, body, MdnTarget("po-1@newco", "newco", document_id=7))
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import TransportError
from .transport import post

log = logging.getLogger("edigate.channels.as2")


@dataclass(frozen=True, slots=True)
class MdnTarget:
    """Whose MDN it is: the message it answers, the partner, and our stored document."""

    message_id: str
    partner_id: str
    document_id: int | None = None
    tls_ca: Path | None = None  # the partner's CA file for HTTPS; None: the default trust


@dataclass(frozen=True, slots=True)
class MdnDelivery:
    """How posting one async MDN ended."""

    target: MdnTarget
    url: str
    delivered: bool
    detail: str  # the answer, or the last error
    attempts: int


MdnDeliveryCallback = Callable[[MdnDelivery], None]


def trusting(cafile: Path) -> ssl.SSLContext:
    """A TLS client context trusting only ``cafile``; TransportError when it is unusable."""
    try:
        return ssl.create_default_context(cafile=str(cafile))
    except (OSError, ssl.SSLError) as exc:
        raise TransportError(f"the partner's tls_ca {cafile} is not usable: {exc}") from exc


class MdnPoster:
    """Posts async MDNs in background threads, retrying with exponential backoff.

    ``attempts`` tries in all; waits ``backoff``, ``2*backoff``, ... (capped at
    ``max_backoff``) between them. Any 2xx answer counts as delivered. ``ssl_context`` is
    the trust for partners without a ``tls_ca`` (None: the system CAs).
    """

    def __init__(
        self,
        *,
        attempts: int = 5,
        backoff: float = 5.0,
        max_backoff: float = 300.0,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        on_result: MdnDeliveryCallback | None = None,
    ) -> None:
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.timeout = timeout
        self.ssl_context = ssl_context
        self.on_result = on_result
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()

    def post(
        self, url: str, headers: list[tuple[str, str]], body: bytes, target: MdnTarget
    ) -> None:
        thread = threading.Thread(
            target=self._run,
            args=(url, headers, body, target),
            name=f"as2-mdn-{target.message_id}",
        )
        thread.daemon = True
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _run(
        self, url: str, headers: list[tuple[str, str]], body: bytes, target: MdnTarget
    ) -> None:
        try:
            delivery = self._deliver(url, headers, body, target)
            if not delivery.delivered:
                log.error(
                    "async MDN for <%s> to partner %s not delivered to %s: %s",
                    target.message_id,
                    target.partner_id,
                    url,
                    delivery.detail,
                )
            if self.on_result:
                try:
                    self.on_result(delivery)
                except Exception:  # recording must never kill the thread silently
                    log.exception("recording the async MDN for <%s> failed", target.message_id)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _deliver(
        self, url: str, headers: list[tuple[str, str]], body: bytes, target: MdnTarget
    ) -> MdnDelivery:
        try:
            context = trusting(target.tls_ca) if target.tls_ca else self.ssl_context
        except TransportError as exc:  # every attempt would fail the same way
            return MdnDelivery(target, url, False, f"gave up: {exc}", 0)
        detail = "not attempted"
        for attempt in range(1, self.attempts + 1):
            try:
                answer = post(url, headers, body, timeout=self.timeout, ssl_context=context)
                if 200 <= answer.status < 300:
                    return MdnDelivery(
                        target, url, True, f"delivered to {url} (HTTP {answer.status})", attempt
                    )
                detail = f"HTTP {answer.status} {answer.reason} from {url}"
            except TransportError as exc:
                detail = str(exc)
            log.warning("async MDN for <%s>, attempt %d: %s", target.message_id, attempt, detail)
            if attempt < self.attempts:
                delay = min(self.backoff * 2 ** (attempt - 1), self.max_backoff)
                if self._closing.wait(delay):
                    detail = f"gave up on shutdown after {attempt} attempts: {detail}"
                    return MdnDelivery(target, url, False, detail, attempt)
        detail = f"gave up after {self.attempts} attempts: {detail}"
        return MdnDelivery(target, url, False, detail, self.attempts)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for pending deliveries; True when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                threads = list(self._threads)
            if not threads:
                return True
            for thread in threads:
                left = None if deadline is None else max(0.0, deadline - time.monotonic())
                thread.join(left)
            if deadline is not None and time.monotonic() >= deadline:
                with self._lock:
                    return not self._threads

    def close(self, timeout: float = 5.0) -> None:
        """Stop retrying (current attempts finish) and wait up to ``timeout`` seconds."""
        self._closing.set()
        self.wait(timeout)
