"""Two edigate identities exchange AS2 over loopback HTTP in every protection combination."""

from __future__ import annotations

import ipaddress
import itertools
import ssl
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from edigate.channels.as2 import As2Channel, As2Server, MdnRejected, StaticPartners
from edigate.channels.as2.mdn import parse_mdn
from edigate.channels.as2.mime import parse_entity
from edigate.channels.base import DeliveryError, Outbound, store_handler
from edigate.store import Document, Store

from .conftest import PAYLOAD, Idents, Loop, pair

COMBOS = list(itertools.product([False, True], repeat=3))


def _ids(combo: tuple[bool, bool, bool]) -> str:
    names = [n for n, on in zip(("signed", "encrypted", "compressed"), combo, strict=True) if on]
    return "+".join(names) or "plain"


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("combo", COMBOS, ids=[_ids(c) for c in COMBOS])
def test_every_combination_arrives_byte_identical_with_matching_mic(
    loop: Loop, combo: tuple[bool, bool, bool], mode: str
) -> None:
    signed, encrypted, compressed = combo
    loop.bob_sees_alice(require_signed=signed, require_encrypted=encrypted)
    channel = loop.alice_channel(sign=signed, encrypt=encrypted, compress=compressed, mdn_mode=mode)
    document = Outbound(7, "bob", "po-7.edi", PAYLOAD)

    delivery = channel.send(document)

    [got] = loop.bob_recorder.inbound
    assert got.data == PAYLOAD
    assert got.channel == "as2" and got.partner_id == "alice" and got.filename == "po-7.edi"
    assert (got.meta["signed"], got.meta["encrypted"], got.meta["compressed"]) == combo
    assert got.meta["as2_from"] == "ALICE" and got.meta["as2_to"] == "BOB"
    assert got.meta["message_id"] == delivery.meta["as2_message_id"]
    assert got.meta["mic"] == delivery.meta["mic"]
    assert got.meta["mic_alg"] == delivery.meta["mic_alg"]

    if mode == "sync":
        assert delivery.meta["mdn"] == "positive"
        evidence = delivery.evidence
    else:
        assert delivery.meta["mdn"] == "pending"
        outcome = loop.alice_outcomes.wait()
        assert outcome.delivered, outcome.detail
        assert outcome.document_id == 7 and outcome.partner_id == "bob"
        assert outcome.message_id == delivery.meta["as2_message_id"]
        evidence = outcome.evidence
    assert evidence is not None
    # The evidence is the signed MDN itself: it re-verifies with Bob's certificate.
    mdn = parse_mdn(parse_entity(evidence), [loop.idents.bob.cert])
    assert mdn.signed and mdn.positive
    assert mdn.mic == delivery.meta["mic"]
    assert mdn.original_message_id == delivery.meta["as2_message_id"]


@pytest.mark.parametrize("encrypted", [False, True])
def test_sign_before_compress_uses_the_signed_payload_for_the_mic(
    loop: Loop, encrypted: bool
) -> None:
    loop.bob_sees_alice(require_encrypted=encrypted)
    channel = loop.alice_channel(
        sign=True, encrypt=encrypted, compress=True, compress_before_sign=False
    )
    message = channel.build(Outbound(1, "bob", "a.edi", PAYLOAD))
    delivery = channel.send(Outbound(1, "bob", "a.edi", PAYLOAD))
    [got] = loop.bob_recorder.inbound
    assert got.data == PAYLOAD
    expected_layers = ["compressed", "signed"]
    if encrypted:
        expected_layers.insert(0, "encrypted")
    assert got.meta["layers"] == expected_layers
    # Build is deterministic in what the MIC covers (the payload entity), so both agree.
    assert delivery.meta["mic"] == message.mic == got.meta["mic"]


@pytest.mark.parametrize(
    ("cipher", "transport", "digest"),
    [
        ("aes256-cbc", "rsa-pkcs1v15", "sha512"),
        ("aes192-cbc", "rsa-oaep", "sha384"),
        ("des-ede3-cbc", "rsa-oaep", "sha1"),
        ("AES-128-CBC", "rsa-oaep", "SHA-256"),
    ],
)
def test_algorithm_choices_round_trip(loop: Loop, cipher: str, transport: str, digest: str) -> None:
    loop.bob_sees_alice(require_encrypted=True)
    channel = loop.alice_channel(
        cipher=cipher, key_transport=transport, digest=digest, mdn_digest=digest
    )
    delivery = channel.send(Outbound(3, "bob", "x.edi", PAYLOAD))
    [got] = loop.bob_recorder.inbound
    assert got.data == PAYLOAD
    assert delivery.meta["mic_alg"] == channel.partner.digest == got.meta["mic_alg"]
    mdn = parse_mdn(parse_entity(delivery.evidence or b""), [loop.idents.bob.cert])
    assert mdn.mic_digest == channel.partner.digest


def test_rollover_accepts_either_certificate(loop: Loop) -> None:
    """During a rollover Bob trusts Alice's old and new certificates."""
    nxt = loop.idents.alice_next
    loop.bob_sees_alice(their_certs=(loop.idents.alice.cert, nxt.cert))
    old = loop.alice_channel()
    old.send(Outbound(1, "bob", "old.edi", b"signed with the old key"))
    new = type(old)(replace(old.partner, our_key=nxt.key, our_cert=nxt.cert))
    new.send(Outbound(2, "bob", "new.edi", b"signed with the new key"))
    assert [i.data for i in loop.bob_recorder.stored] == [
        b"signed with the old key",
        b"signed with the new key",
    ]


def test_no_mdn_requested_gets_plain_200(loop: Loop) -> None:
    channel = loop.alice_channel(mdn_mode="none")
    delivery = channel.send(Outbound(5, "bob", "n.edi", PAYLOAD))
    assert delivery.evidence is None and "no MDN" in delivery.detail
    assert loop.bob_recorder.stored[0].data == PAYLOAD


def test_unsigned_mdn_when_none_requested(loop: Loop) -> None:
    channel = loop.alice_channel(mdn_signed=False)
    delivery = channel.send(Outbound(6, "bob", "u.edi", PAYLOAD))
    mdn = parse_mdn(parse_entity(delivery.evidence or b""))
    assert not mdn.signed and mdn.positive and mdn.mic == delivery.meta["mic"]


def test_https_exchange_into_a_real_store(idents: Idents, tmp_path: Path) -> None:
    """TLS on both sides, and the production handler: bytes and metadata land in the store."""
    tls_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    tls_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(tls_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(tls_key, hashes.SHA256())
    )
    (tmp_path / "tls.crt").write_bytes(tls_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "tls.key").write_bytes(
        tls_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(tmp_path / "tls.crt", tmp_path / "tls.key")
    client_tls = ssl.create_default_context(cafile=str(tmp_path / "tls.crt"))

    store = Store.open(tmp_path / "data")
    server = As2Server(
        StaticPartners([pair(idents.bob, idents.alice)]),
        store_handler(store),
        ssl_context=server_tls,
        poll_interval=0.02,
    ).start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        partner = pair(idents.alice, idents.bob, url=server.url, compress=True)
        channel = As2Channel(partner, ssl_context=client_tls, timeout=10)
        delivery = channel.send(Outbound(21, "bob", "po-21.edi", PAYLOAD))
        # A message encrypted for someone else is kept too, marked failed.
        wrong = replace(partner, their_certs=(idents.mallory.cert, idents.bob.cert))
        with pytest.raises(MdnRejected, match="decryption-failed"):
            As2Channel(wrong, ssl_context=client_tls, timeout=10).send(
                Outbound(22, "bob", "po-22.edi", PAYLOAD)
            )
        # A client that does not trust the server's TLS certificate gets no further.
        with pytest.raises(DeliveryError, match="CERTIFICATE_VERIFY_FAILED") as caught:
            As2Channel(partner, ssl_context=ssl.create_default_context(), timeout=10).send(
                Outbound(23, "bob", "x.edi", PAYLOAD)
            )
        assert caught.value.retryable
    finally:
        server.close()
    assert delivery.meta["mdn"] == "positive"
    with store.session() as session:
        good, bad = session.scalars(select(Document).order_by(Document.id)).all()
        assert store.content(good) == PAYLOAD
        assert (good.channel, good.partner_id, good.filename) == ("as2", "alice", "po-21.edi")
        assert good.meta["mic"] == delivery.meta["mic"]
        assert good.meta["signed"] and good.meta["encrypted"] and good.meta["compressed"]
        assert bad.meta["disposition"] == "decryption-failed" and bad.meta["failed"]
        assert bad.partner_id == "alice" and b"AS2-From: ALICE" in store.content(bad)
    store.close()
