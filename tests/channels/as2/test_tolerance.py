"""Senders differ: header case, quoting, transfer encodings and algorithm spellings."""

from __future__ import annotations

import base64

import pytest

from edigate.channels.as2.mdn import parse_mdn, parse_request
from edigate.channels.as2.message import quote_as2_id, unquote_as2_id
from edigate.channels.base import Outbound

from .conftest import PAYLOAD, Loop, http_post, response_entity


def _relabel(headers: list[tuple[str, str]], **changes: str) -> list[tuple[str, str]]:
    """Replace header values by (case-insensitive) name; names are lower-cased on the way."""
    wanted = {k.lower().replace("_", "-"): v for k, v in changes.items()}
    out = []
    for name, value in headers:
        key = name.lower()
        out.append((key, wanted.pop(key, value)))
    out.extend(wanted.items())
    return out


@pytest.mark.parametrize("cte", ["base64", "BASE64", None])
def test_lowercase_headers_quoted_ids_and_base64_bodies(loop: Loop, cte: str | None) -> None:
    channel = loop.alice_channel()
    message = channel.build(Outbound(1, "bob", "po.edi", PAYLOAD))
    headers = [(k, v) for k, v in message.headers if k.lower() != "content-transfer-encoding"]
    if cte:
        headers.append(("Content-Transfer-Encoding", cte))
    headers = _relabel(
        headers,
        as2_from='"ALICE"',
        as2_to=' "BOB" ',
        disposition_notification_options=(
            "Signed-Receipt-Protocol = required , pkcs7-signature ; "
            "signed-receipt-micalg = optional , SHA1 , sha-256"
        ),
    )
    body = base64.encodebytes(message.body)  # wrapped at 76 columns with bare LF
    status, rheaders, rbody = http_post(loop.bob_server.url, headers, body)
    assert status == 200
    mdn = parse_mdn(response_entity(rheaders, rbody), [loop.idents.bob.cert])
    assert mdn.positive, mdn.text
    # The MIC follows the signature (sha256); the MDN is signed with the first asked: sha-1.
    assert (mdn.mic, mdn.mic_digest) == (message.mic, "sha256")
    assert "micalg=sha-1" in dict(rheaders)["Content-Type"]
    assert loop.bob_recorder.stored[0].data == PAYLOAD


@pytest.mark.parametrize(
    ("spelling", "digest"),
    [("sha1", "sha1"), ("SHA-1", "sha1"), ("sha-256", "sha256"), ("SHA256", "sha256"),
     ("sha384", "sha384"), ("SHA-512", "sha512"), ("md5, sha-256", "sha256")],
)  # fmt: skip
def test_unsigned_mic_uses_the_requested_algorithm(loop: Loop, spelling: str, digest: str) -> None:
    loop.bob_sees_alice(require_signed=False)
    channel = loop.alice_channel(sign=False, encrypt=False, mdn_digest=digest)
    message = channel.build(Outbound(1, "bob", "po.edi", PAYLOAD))
    headers = _relabel(
        message.headers,
        disposition_notification_options=(
            f"signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, "
            f"{spelling}"
        ),
    )
    status, rheaders, rbody = http_post(loop.bob_server.url, headers, message.body)
    assert status == 200
    mdn = parse_mdn(response_entity(rheaders, rbody), [loop.idents.bob.cert])
    assert mdn.positive and mdn.mic_digest == digest
    # Plain message: the MIC covers the content only, no headers.
    assert mdn.mic == message.mics[digest]
    assert message.body == PAYLOAD


def test_async_request_with_mailto_falls_back_to_sync(loop: Loop) -> None:
    channel = loop.alice_channel()
    message = channel.build(Outbound(1, "bob", "po.edi", PAYLOAD))
    headers = [*message.headers, ("Receipt-Delivery-Option", "mailto:as2@alice.example")]
    status, rheaders, rbody = http_post(loop.bob_server.url, headers, message.body)
    assert status == 200
    assert parse_mdn(response_entity(rheaders, rbody), [loop.idents.bob.cert]).positive


def test_parse_request_variants() -> None:
    req = parse_request(
        {
            "disposition-notification-to": "x@y",
            "disposition-notification-options": (
                'signed-receipt-protocol=optional, "pkcs7-signature"; '
                "signed-receipt-micalg=optional, sha-512, sha1, unknown"
            ),
        }
    )
    assert req.wanted and req.signed and req.micalgs == ("sha512", "sha1")
    assert not parse_request({"disposition-notification-to": "x"}).signed
    assert not parse_request({}).wanted
    assert parse_request({"receipt-delivery-option": "http://h/mdn"}).async_url == "http://h/mdn"


@pytest.mark.parametrize("as2_id", ["ALICE", "Alice Corp", 'a"b', "x\\y", "ünï"])
def test_as2_id_quoting_round_trips(as2_id: str) -> None:
    assert unquote_as2_id(quote_as2_id(as2_id)) == as2_id
    if " " in as2_id or '"' in as2_id:
        assert quote_as2_id(as2_id).startswith('"')
