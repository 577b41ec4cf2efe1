"""Received-Content-MIC is required only of signed receipts (RFC 4130 §7.4.3).

With an unsigned receipt requested, a positive MDN without a MIC delivers the document;
a MIC that is present must still match, and a signed receipt must still carry one.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from edigate.channels.as2 import As2Channel, MdnRejected
from edigate.channels.as2.mdn import MdnRequest, build_mdn, build_report
from edigate.channels.as2.partner import As2Partner
from edigate.channels.base import Outbound

from .conftest import PAYLOAD, Loop, http_post, pair

NO_MIC = "the MDN carries no Received-Content-MIC"
NO_MIC_UNSIGNED = (
    "unsigned MDN: processed, it carried no MIC (optional: an unsigned receipt was requested)"
)


def _bob_mdn(
    loop: Loop, message_id: str, *, signed: bool, mic: str | None = None
) -> tuple[list[tuple[str, str]], bytes]:
    """An MDN from Bob for ``message_id``; without ``mic`` it has no Received-Content-MIC."""
    partner = pair(loop.idents.bob, loop.idents.alice, our_as2_id="BOB")
    report = build_report(
        original_message_id=message_id, recipient="BOB", mic=mic, mic_digest="sha256"
    )
    request = MdnRequest(True, signed, ("sha256",) if signed else ())
    return build_mdn(report, partner, request, message_id="mdn@bob")


def _send_async(loop: Loop, *, mdn_signed: bool) -> tuple[str, str]:
    """Send to Bob asking for an async MDN that never comes by itself: (Message-ID, MIC)."""
    channel = loop.alice_channel(
        mdn_mode="async", mdn_signed=mdn_signed, async_mdn_url="http://127.0.0.1:9/none"
    )
    delivery = channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    return delivery.meta["as2_message_id"], delivery.meta["mic"]


def test_unsigned_async_mdn_without_mic_delivers_when_unsigned_was_requested(loop: Loop) -> None:
    message_id, _ = _send_async(loop, mdn_signed=False)
    headers, body = _bob_mdn(loop, message_id, signed=False)
    assert b"Received-Content-MIC" not in body

    status, _, answer = http_post(loop.alice_server.url, headers, body)

    assert status == 200 and b"received" in answer
    [outcome] = loop.alice_outcomes.items
    assert outcome.delivered, outcome.detail
    assert outcome.detail == NO_MIC_UNSIGNED


def test_unsigned_async_mdn_with_a_wrong_mic_is_still_refused(loop: Loop) -> None:
    message_id, _ = _send_async(loop, mdn_signed=False)
    wrong = base64.b64encode(b"x" * 32).decode()
    headers, body = _bob_mdn(loop, message_id, signed=False, mic=wrong)
    assert http_post(loop.alice_server.url, headers, body)[0] == 200
    [outcome] = loop.alice_outcomes.items
    assert not outcome.delivered and not outcome.retryable
    assert "MIC mismatch" in outcome.detail


def test_unsigned_async_mdn_with_the_right_mic_says_it_matches(loop: Loop) -> None:
    message_id, mic = _send_async(loop, mdn_signed=False)
    headers, body = _bob_mdn(loop, message_id, signed=False, mic=mic)
    assert http_post(loop.alice_server.url, headers, body)[0] == 200
    [outcome] = loop.alice_outcomes.items
    assert outcome.delivered and outcome.detail == "unsigned MDN: processed, MIC sha256 matches"


def test_signed_async_mdn_without_mic_fails_when_signed_was_requested(loop: Loop) -> None:
    message_id, _ = _send_async(loop, mdn_signed=True)
    headers, body = _bob_mdn(loop, message_id, signed=True)
    assert http_post(loop.alice_server.url, headers, body)[0] == 200
    [outcome] = loop.alice_outcomes.items
    assert not outcome.delivered and not outcome.retryable
    assert outcome.detail == NO_MIC


# ---------------------------------------------------------------- sync MDN from a partner


class _MiclessPartner(BaseHTTPRequestHandler):
    """A partner's AS2 endpoint answering every message with a positive MDN without MIC."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        server: _MiclessServer = self.server  # type: ignore[assignment]
        report = build_report(original_message_id=self.headers["Message-ID"], recipient="BOB")
        request = MdnRequest(True, server.signed, ("sha256",) if server.signed else ())
        headers, body = build_mdn(report, server.partner, request, message_id="mdn@bob")
        self.send_response(200)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class _MiclessServer(ThreadingHTTPServer):
    partner: As2Partner
    signed: bool


@pytest.fixture
def micless(loop: Loop) -> Iterator[_MiclessServer]:
    server = _MiclessServer(("127.0.0.1", 0), _MiclessPartner)
    server.partner = pair(loop.idents.bob, loop.idents.alice, our_as2_id="BOB")
    server.signed = False
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _to(channel: As2Channel, server: _MiclessServer) -> As2Channel:
    """The same channel, sending to ``server`` instead of Bob's endpoint."""
    url = f"http://127.0.0.1:{server.server_address[1]}/as2"
    return As2Channel(replace(channel.partner, url=url), timeout=10)


def test_unsigned_sync_mdn_without_mic_delivers_when_unsigned_was_requested(
    loop: Loop, micless: _MiclessServer
) -> None:
    channel = _to(loop.alice_channel(mdn_signed=False), micless)
    delivery = channel.send(Outbound(2, "bob", "po.edi", PAYLOAD))
    assert delivery.meta["mdn"] == "positive"
    assert delivery.detail == NO_MIC_UNSIGNED
    assert delivery.evidence and b"Received-Content-MIC" not in delivery.evidence


def test_signed_sync_mdn_without_mic_is_refused_when_signed_was_requested(
    loop: Loop, micless: _MiclessServer
) -> None:
    micless.signed = True
    channel = _to(loop.alice_channel(), micless)
    with pytest.raises(MdnRejected, match=NO_MIC) as caught:
        channel.send(Outbound(3, "bob", "po.edi", PAYLOAD))
    assert not caught.value.retryable
