"""What the endpoint refuses, and how: negative MDNs, HTTP codes, stored raw copies."""

from __future__ import annotations

import base64
import threading
import tracemalloc
import zlib
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from asn1crypto import cms  # type: ignore[import-untyped]

from edigate.channels.as2 import As2Channel, MdnRejected, crypto
from edigate.channels.as2.errors import ProcessingError
from edigate.channels.as2.mdn import MdnRequest, build_mdn, build_report, parse_mdn
from edigate.channels.as2.mime import parse_entity
from edigate.channels.base import DeliveryError, Outbound

from .conftest import PAYLOAD, Ident, Loop, http_post, pair, response_entity


def _mdn(headers: list[tuple[str, str]], body: bytes, loop: Loop):  # type: ignore[no-untyped-def]
    return parse_mdn(response_entity(headers, body), [loop.idents.bob.cert])


def test_tampered_payload_gets_integrity_failure_and_raw_is_kept(loop: Loop) -> None:
    channel = loop.alice_channel(encrypt=False)
    message = channel.build(Outbound(1, "bob", "po.edi", PAYLOAD))
    # PAYLOAD has bare LFs, so it is signed as base64: change the first line of that.
    line = base64.b64encode(PAYLOAD)[:76]
    tampered = message.body.replace(line, base64.b64encode(b"ISA*01" + PAYLOAD[6:])[:76])
    assert tampered != message.body

    status, headers, body = http_post(loop.bob_server.url, message.headers, tampered)

    assert status == 200
    mdn = _mdn(headers, body, loop)
    assert not mdn.positive and mdn.signed
    assert mdn.disposition.endswith("processed/error: integrity-check-failed")
    assert "message digest differs" in mdn.text
    assert loop.bob_recorder.stored == []
    [raw] = loop.bob_recorder.failed
    assert raw.meta["disposition"] == "integrity-check-failed"
    assert "message digest" in raw.meta["failed"]
    assert raw.partner_id == "alice" and raw.meta["message_id"] == message.message_id
    # The raw request is kept whole: headers and the tampered body.
    assert raw.data.endswith(tampered) and b"AS2-From: ALICE" in raw.data


def test_signed_by_an_unknown_key_is_refused(loop: Loop) -> None:
    mallory = loop.idents.mallory
    channel = loop.alice_channel()
    forged = As2Channel(replace(channel.partner, our_key=mallory.key, our_cert=mallory.cert))
    with pytest.raises(MdnRejected) as caught:
        forged.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert not caught.value.retryable
    assert "authentication-failed" in str(caught.value)
    assert loop.bob_recorder.stored == []
    [raw] = loop.bob_recorder.failed
    assert raw.meta["disposition"] == "authentication-failed"
    assert "CN=mallory" in raw.meta["failed"]


def test_as2_from_spoofing_another_partner_is_refused(loop: Loop) -> None:
    """Carol is a real partner of Bob's, but she cannot send as Alice with her own key."""
    mallory = loop.idents.mallory
    loop.bob_partners["carol"] = pair(
        loop.idents.bob, mallory, partner_id="carol", their_as2_id="CAROL"
    )
    carol = As2Channel(pair(mallory, loop.idents.bob, url=loop.bob_server.url, our_as2_id="CAROL"))
    carol.send(Outbound(1, "bob", "ok.edi", b"carol's own order"))
    spoof = As2Channel(replace(carol.partner, our_as2_id="ALICE"))
    with pytest.raises(MdnRejected, match="authentication-failed"):
        spoof.send(Outbound(2, "bob", "spoof.edi", b"pretending to be alice"))
    assert [(i.partner_id, i.data) for i in loop.bob_recorder.stored] == [
        ("carol", b"carol's own order")
    ]
    [raw] = loop.bob_recorder.failed
    assert raw.partner_id == "alice" and raw.meta["disposition"] == "authentication-failed"


def test_expired_partner_certificate_is_rejected_with_the_date(loop: Loop) -> None:
    old = loop.idents.old
    loop.bob_partners["old"] = pair(loop.idents.bob, old, partner_id="old", their_as2_id="OLD")
    partner = pair(old, loop.idents.bob, url=loop.bob_server.url, our_as2_id="OLD")
    message = As2Channel(partner).build(Outbound(1, "bob", "po.edi", PAYLOAD))
    status, headers, body = http_post(loop.bob_server.url, message.headers, message.body)
    assert status == 200
    mdn = _mdn(headers, body, loop)
    assert mdn.modifier == "authentication-failed"
    expiry = f"{old.cert.not_valid_after_utc:%Y-%m-%d}"
    assert f"expired on {expiry}" in mdn.text
    assert loop.bob_recorder.failed[0].meta["failed"].endswith(f"expired on {expiry}")


def test_sending_to_an_expired_certificate_is_not_attempted(loop: Loop) -> None:
    channel = loop.alice_channel(their_certs=(loop.idents.old.cert,))
    with pytest.raises(DeliveryError, match="expired on") as caught:
        channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert not caught.value.retryable
    assert loop.bob_recorder.inbound == []


def test_unknown_as2_to_is_refused_with_403_and_nothing_stored(loop: Loop) -> None:
    channel = loop.alice_channel(their_as2_id="NOT-BOB")
    with pytest.raises(DeliveryError, match="HTTP 403") as caught:
        channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert not caught.value.retryable
    assert "NOT-BOB" in str(caught.value)
    assert loop.bob_recorder.inbound == []


def test_unknown_sender_is_refused_with_403(loop: Loop) -> None:
    channel = loop.alice_channel(our_as2_id="STRANGER")
    with pytest.raises(DeliveryError, match="HTTP 403"):
        channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert loop.bob_recorder.inbound == []


def test_duplicate_message_id_gets_positive_mdn_and_is_stored_once(loop: Loop) -> None:
    channel = loop.alice_channel()
    document = Outbound(11, "bob", "po.edi", PAYLOAD)
    first = channel.send(document)
    second = channel.send(document)  # a retry: same Message-ID
    assert first.meta["as2_message_id"] == second.meta["as2_message_id"]
    assert first.meta["mdn"] == second.meta["mdn"] == "positive"
    assert len(loop.bob_recorder.inbound) == 1
    assert second.evidence is not None
    assert b"already been received" in second.evidence
    assert parse_mdn(parse_entity(second.evidence), [loop.idents.bob.cert]).mic == first.meta["mic"]


def test_a_reused_message_id_with_other_content_is_stored_not_dropped(loop: Loop) -> None:
    """Same partner and Message-ID but another payload: a new document, and its own MIC."""
    channel = loop.alice_channel()
    reused = {"as2_message_id": "po@alice.example"}
    first = channel.send(Outbound(13, "bob", "po.edi", PAYLOAD, meta=reused))
    other = PAYLOAD.replace(b"ST*850*0001", b"ST*850*0002")
    second = channel.send(Outbound(14, "bob", "po.edi", other, meta=reused))
    again = channel.send(Outbound(14, "bob", "po.edi", other, meta=reused))

    assert [i.data for i in loop.bob_recorder.stored] == [PAYLOAD, other]
    assert "reuses_message_id_of" not in loop.bob_recorder.stored[0].meta
    assert loop.bob_recorder.stored[1].meta["reuses_message_id_of"] == 1
    assert second.evidence is not None and b"already been received" not in second.evidence
    assert second.meta["mic"] != first.meta["mic"]  # the channel checked the MDN's MIC
    assert again.evidence is not None and b"already been received" in again.evidence
    assert b"(document 2)" in again.evidence


def test_concurrent_copies_of_one_message_are_stored_once(loop: Loop) -> None:
    channel = loop.alice_channel()
    message = channel.build(Outbound(12, "bob", "po.edi", PAYLOAD))
    results: list[int] = []

    def post() -> None:
        results.append(http_post(loop.bob_server.url, message.headers, message.body)[0])

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [200] * 6
    assert len(loop.bob_recorder.inbound) == 1


def test_unsigned_message_when_signing_is_required(loop: Loop) -> None:
    channel = loop.alice_channel(sign=False)
    with pytest.raises(MdnRejected, match="insufficient-message-security") as caught:
        channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert not caught.value.retryable
    assert caught.value.evidence and b"must sign" in caught.value.evidence
    assert loop.bob_recorder.failed[0].meta["disposition"] == "insufficient-message-security"


def test_unencrypted_message_when_encryption_is_required(loop: Loop) -> None:
    loop.bob_sees_alice(require_encrypted=True)
    channel = loop.alice_channel(encrypt=False)
    with pytest.raises(MdnRejected, match="insufficient-message-security"):
        channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))


def test_message_encrypted_for_someone_else_fails_decryption(loop: Loop) -> None:
    # The first certificate encrypts; Bob's (second) still verifies his MDN.
    channel = loop.alice_channel(their_certs=(loop.idents.mallory.cert, loop.idents.bob.cert))
    with pytest.raises(MdnRejected, match="decryption-failed"):
        channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert "not encrypted for our certificate" in loop.bob_recorder.failed[0].meta["failed"]


def test_missing_as2_headers_is_400(loop: Loop) -> None:
    status, _, body = http_post(loop.bob_server.url, [("Content-Type", "text/plain")], b"hi")
    assert status == 400 and b"as2-from, as2-to, message-id" in body
    assert loop.bob_recorder.inbound == []


def test_store_failure_is_503_and_retryable(loop: Loop) -> None:
    loop.bob_recorder.fail = True
    channel = loop.alice_channel()
    with pytest.raises(DeliveryError, match="HTTP 503") as caught:
        channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert caught.value.retryable
    # Nothing was recorded as seen: the retry is processed normally.
    loop.bob_recorder.fail = False
    assert channel.send(Outbound(1, "bob", "po.edi", PAYLOAD)).meta["mdn"] == "positive"
    assert loop.bob_recorder.stored[0].data == PAYLOAD


def test_unreachable_partner_is_retryable(loop: Loop) -> None:
    channel = loop.alice_channel()
    dead = As2Channel(replace(channel.partner, url="http://127.0.0.1:9/as2"), timeout=2)
    with pytest.raises(DeliveryError) as caught:
        dead.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    assert caught.value.retryable


# ---------------------------------------------------------------- compression bombs


def _bomb(size: int) -> bytes:
    """A compressed-data of ``size`` zero bytes, built without holding them in memory."""
    deflater = zlib.compressobj(9)
    block = bytes(1024 * 1024)
    pieces = [deflater.compress(block) for _ in range(size // len(block))]
    pieces.append(deflater.flush())
    compressed = b"".join(pieces)
    info = cms.ContentInfo(
        {
            "content_type": "compressed_data",
            "content": cms.CompressedData(
                {
                    "version": "v0",
                    "compression_algorithm": {"algorithm": "zlib"},
                    "encap_content_info": {"content_type": "data", "content": compressed},
                }
            ),
        }
    )
    return bytes(info.dump())


def test_decompression_bomb_is_refused_with_bounded_memory() -> None:
    der = _bomb(256 * 1024 * 1024)
    assert len(der) < 400_000  # 256 MB of zeros in a few hundred kB
    tracemalloc.start()
    try:
        with pytest.raises(ProcessingError, match="beyond the limit of 1048576") as caught:
            crypto.decompress(der, max_size=1024 * 1024)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.modifier == "decompression-failed"
    assert peak < 8 * 1024 * 1024, f"peak {peak} bytes"


def test_decompression_bomb_over_http_gets_negative_mdn(loop: Loop) -> None:
    loop.bob_sees_alice(require_signed=False)
    der = _bomb(64 * 1024 * 1024)
    headers = [
        ("AS2-From", "ALICE"),
        ("AS2-To", "BOB"),
        ("Message-ID", "<bomb@alice>"),
        ("Disposition-Notification-To", "x"),
        ("Content-Type", "application/pkcs7-mime; smime-type=compressed-data"),
    ]
    status, rheaders, body = http_post(loop.bob_server.url, headers, der)
    assert status == 200
    mdn = parse_mdn(response_entity(rheaders, body))
    assert mdn.modifier == "decompression-failed"
    assert "beyond the limit" in mdn.text
    [raw] = loop.bob_recorder.failed
    assert raw.data.endswith(der)


# ---------------------------------------------------------------- async MDN delivery


class _Flaky(BaseHTTPRequestHandler):
    """An MDN endpoint that fails the first ``failures`` POSTs."""

    def do_POST(self) -> None:
        server = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server.posts.append((list(self.headers.items()), body))  # type: ignore[attr-defined]
        status = 503 if len(server.posts) <= server.failures else 200  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_async_mdn_is_retried_until_delivered(loop: Loop) -> None:
    flaky = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    flaky.posts = []  # type: ignore[attr-defined]
    flaky.failures = 2  # type: ignore[attr-defined]
    thread = threading.Thread(target=flaky.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{flaky.server_address[1]}/mdn"
        channel = loop.alice_channel(mdn_mode="async", async_mdn_url=url)
        delivery = channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
        assert delivery.meta["mdn"] == "pending"
        assert loop.bob_server.receiver.mdn_poster.wait(10)
    finally:
        flaky.shutdown()
        flaky.server_close()
    posts = flaky.posts  # type: ignore[attr-defined]
    assert len(posts) == 3
    headers, body = posts[-1]
    mdn = parse_mdn(response_entity(headers, body), [loop.idents.bob.cert])
    assert mdn.positive and mdn.mic == delivery.meta["mic"]


def _bob_mdn(
    loop: Loop, signer: Ident, message_id: str, mic: str
) -> tuple[list[tuple[str, str]], bytes]:
    """An MDN as Bob's endpoint would send it, signed by ``signer``."""
    partner = pair(signer, loop.idents.alice, our_as2_id="BOB")
    report = build_report(
        original_message_id=message_id, recipient="BOB", mic=mic, mic_digest="sha256"
    )
    return build_mdn(report, partner, MdnRequest(True, True, ("sha256",)), message_id="m@bob")


def test_async_mdn_for_an_unknown_message_is_404(loop: Loop) -> None:
    headers, body = _bob_mdn(loop, loop.idents.bob, "never-sent@alice", "AAAA")
    status, _, answer = http_post(loop.alice_server.url, headers, body)
    assert status == 404 and b"never-sent@alice" in answer
    assert loop.alice_outcomes.items == []


def test_async_mdn_settles_once(loop: Loop) -> None:
    """A partner retrying an MDN we already took gets 200, and the message settles once."""
    channel = loop.alice_channel(mdn_mode="async", async_mdn_url="http://127.0.0.1:9/none")
    delivery = channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    headers, body = _bob_mdn(
        loop, loop.idents.bob, delivery.meta["as2_message_id"], delivery.meta["mic"]
    )
    assert http_post(loop.alice_server.url, headers, body)[0] == 200
    assert http_post(loop.alice_server.url, headers, body)[0] == 200
    [outcome] = loop.alice_outcomes.items
    assert outcome.delivered and outcome.document_id == 1


def test_async_mdn_with_wrong_mic_is_not_delivered(loop: Loop) -> None:
    channel = loop.alice_channel(mdn_mode="async", async_mdn_url="http://127.0.0.1:9/none")
    delivery = channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    wrong = base64.b64encode(b"x" * 32).decode()
    headers, body = _bob_mdn(loop, loop.idents.bob, delivery.meta["as2_message_id"], wrong)
    assert http_post(loop.alice_server.url, headers, body)[0] == 200
    [outcome] = loop.alice_outcomes.items
    assert not outcome.delivered and not outcome.retryable
    assert "MIC mismatch" in outcome.detail


def test_forged_async_mdn_is_refused(loop: Loop) -> None:
    """An MDN claiming to come from Bob but signed by Mallory settles nothing."""
    channel = loop.alice_channel(mdn_mode="async", async_mdn_url="http://127.0.0.1:9/none")
    delivery = channel.send(Outbound(1, "bob", "po.edi", PAYLOAD))
    message_id = delivery.meta["as2_message_id"]
    headers, body = _bob_mdn(loop, loop.idents.mallory, message_id, delivery.meta["mic"])
    status, _, answer = http_post(loop.alice_server.url, headers, body)
    assert status == 403 and b"signature" in answer
    assert loop.alice_outcomes.items == []
    assert loop.alice_pending.outcome(message_id) is None


def test_a_message_that_fails_its_checks_gets_no_async_mdn_posted(loop: Loop) -> None:
    """Anyone who knows a partner's AS2 ids can send a message that fails its checks: the
    URL it names must not make us POST to an address of its choosing. Its negative MDN is
    the HTTP answer instead; a message that passes gets its async MDN as asked."""
    flaky = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    flaky.posts = []  # type: ignore[attr-defined]
    flaky.failures = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=flaky.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{flaky.server_address[1]}/mdn"
        unsigned = loop.alice_channel(mdn_mode="async", async_mdn_url=url, sign=False)
        message = unsigned.build(Outbound(1, "bob", "po.edi", PAYLOAD))
        status, headers, body = http_post(loop.bob_server.url, message.headers, message.body)
        assert status == 200
        mdn = parse_mdn(response_entity(headers, body), [loop.idents.bob.cert])
        assert mdn.disposition is not None and "insufficient-message-security" in mdn.disposition
        assert loop.bob_server.receiver.mdn_poster.wait(10)
        assert flaky.posts == []  # type: ignore[attr-defined]
        assert loop.bob_recorder.failed[0].meta["disposition"] == "insufficient-message-security"

        signed = loop.alice_channel(mdn_mode="async", async_mdn_url=url)
        assert signed.send(Outbound(2, "bob", "po2.edi", PAYLOAD)).meta["mdn"] == "pending"
        assert loop.bob_server.receiver.mdn_poster.wait(10)
        assert len(flaky.posts) == 1  # type: ignore[attr-defined]
    finally:
        flaky.shutdown()
        flaky.server_close()
