"""The building blocks on their own: MIME, CMS, MDN fields, certificates."""

from __future__ import annotations

import os
import stat
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from edigate.channels.as2 import certs, crypto
from edigate.channels.as2.errors import ProcessingError
from edigate.channels.as2.mdn import ParsedMdn, build_report, judge, parse_disposition, parse_mdn
from edigate.channels.as2.mime import build_multipart, header_params, parse_entity, split_multipart
from edigate.errors import ConfigError

from .conftest import PAYLOAD, Idents

# ---------------------------------------------------------------- MIME


def test_multipart_split_is_byte_exact_with_lf_and_crlf_delimiters() -> None:
    part1 = b"Content-Type: a/b\r\n\r\nline\nwith --B-ish text\r\n--Bx not a delimiter\r\n"
    part2 = b"Content-Type: c/d\n\nsecond"
    body = b"preamble\n--B\r\n" + part1 + b"\r\n--B\n" + part2 + b"\n--B--\r\nepilogue"
    entity = parse_entity(b'Content-Type: multipart/mixed; boundary="B"\r\n\r\n' + body)
    first, second = split_multipart(entity)
    assert first.raw == part1 and second.raw == part2
    assert first.content_type == "a/b" and second.body == b"second"


def test_multipart_without_close_delimiter_is_tolerated() -> None:
    entity = parse_entity(b"Content-Type: multipart/mixed; boundary=Z\r\n\r\n--Z\r\n\r\nonly")
    [part] = split_multipart(entity)
    assert part.body == b"only"


def test_multipart_round_trip() -> None:
    ctype, body = build_multipart("mixed", [b"Content-Type: x/y\r\n\r\n" + PAYLOAD, b"\r\nz"])
    entity = parse_entity(f"Content-Type: {ctype}\r\n\r\n".encode() + body)
    first, second = split_multipart(entity)
    assert first.body == PAYLOAD and second.body == b"z"


def test_bare_payload_is_not_mistaken_for_headers() -> None:
    edifact = b"UNA:+.? 'UNB+UNOA:3+SENDER+RECEIVER'\nUNH+1+ORDERS:D:96A:UN'\n\nUNZ+1'"
    entity = parse_entity(edifact, require_content_type=True)
    assert entity.headers == () and entity.body == edifact
    x12 = b"ISA*00*          *00*~GS*PO~"
    assert parse_entity(x12, require_content_type=True).body == x12


def test_header_params_and_filenames() -> None:
    assert header_params('attachment; filename="a;b \\"c\\".edi"; size=3') == {
        "filename": 'a;b "c".edi',
        "size": "3",
    }
    entity = parse_entity(
        b'Content-Type: application/edi-x12; name="x.edi"\r\n'
        b"content-disposition: attachment; filename=..\\..\\etc/passwd\r\n\r\n"
    )
    assert entity.filename == "passwd"
    folded = parse_entity(b'Content-Type: multipart/signed;\r\n\tboundary="q"\r\n\r\n')
    assert folded.params["boundary"] == "q"


# ---------------------------------------------------------------- CMS


def test_signature_over_canonical_text_verifies_lf_content(idents: Idents) -> None:
    lf = b"Content-Type: text/plain\n\nline 1\nline 2\n"
    crlf = lf.replace(b"\n", b"\r\n")
    signature = crypto.sign(crlf, idents.alice.key, idents.alice.cert)
    verified = crypto.verify_detached(lf, signature, [idents.alice.cert])
    assert verified.content == crlf and verified.digest == "sha256"


def test_pss_signature_verifies(idents: Idents) -> None:
    pss = padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.DIGEST_LENGTH)
    signature = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(PAYLOAD)
        .add_signer(idents.alice.cert, idents.alice.key, hashes.SHA256(), rsa_padding=pss)
        .sign(
            serialization.Encoding.DER,
            [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
        )
    )
    assert crypto.verify_detached(PAYLOAD, signature, [idents.alice.cert]).digest == "sha256"
    with pytest.raises(ProcessingError) as caught:
        crypto.verify_detached(PAYLOAD + b"!", signature, [idents.alice.cert])
    assert caught.value.modifier == "integrity-check-failed"


def test_signature_checks_do_not_trust_embedded_certificates(idents: Idents) -> None:
    signature = crypto.sign(PAYLOAD, idents.mallory.key, idents.mallory.cert)
    with pytest.raises(ProcessingError) as caught:
        crypto.verify_detached(PAYLOAD, signature, [idents.alice.cert])
    assert caught.value.modifier == "authentication-failed"
    assert "CN=mallory" in caught.value.reason and "CN=alice" in caught.value.reason


def test_garbage_signature_and_envelope_are_processing_errors(idents: Idents) -> None:
    with pytest.raises(ProcessingError, match="authentication-failed"):
        crypto.verify_detached(PAYLOAD, b"\x30\x03\x02\x01\x00", [idents.alice.cert])
    with pytest.raises(ProcessingError, match="decryption-failed"):
        crypto.decrypt(b"not der", [(idents.bob.key, idents.bob.cert)])


@pytest.mark.parametrize("cipher", crypto.CIPHERS)
def test_tampered_ciphertext_fails_cleanly(idents: Idents, cipher: str) -> None:
    der = bytearray(crypto.encrypt(PAYLOAD, idents.bob.cert, cipher))
    der[-1] ^= 0xFF  # last byte of the last block: the padding no longer checks out
    keys = [(idents.bob.key, idents.bob.cert)]
    try:
        result = crypto.decrypt(bytes(der), keys)
    except ProcessingError as exc:
        assert exc.modifier == "decryption-failed"
    else:  # a corrupt last block can by chance still end in valid padding
        assert result.content != PAYLOAD


def test_wrong_key_transport_key_fails_without_an_oracle(idents: Idents) -> None:
    der = crypto.encrypt(PAYLOAD, idents.bob.cert, "aes256-cbc")
    # Present Alice's key with Bob's certificate: the recipient matches, the key does not.
    with pytest.raises(ProcessingError) as caught:
        crypto.decrypt(der, [(idents.alice.key, idents.bob.cert)])
    assert caught.value.modifier == "decryption-failed"


def test_inflate_accepts_raw_deflate_and_refuses_truncation() -> None:
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    deflated = raw.compress(PAYLOAD) + raw.flush()
    assert crypto.inflate(deflated, 10_000) == PAYLOAD
    whole = zlib.compress(PAYLOAD * 50)
    with pytest.raises(ProcessingError, match="truncated"):
        crypto.inflate(whole[: len(whole) // 2], 1_000_000)
    with pytest.raises(ProcessingError, match="decompression-failed"):
        crypto.inflate(b"\x00garbage\xff" * 10, 1_000_000)
    assert crypto.inflate(whole, len(PAYLOAD) * 50) == PAYLOAD * 50
    with pytest.raises(ProcessingError, match="beyond the limit"):
        crypto.inflate(whole, len(PAYLOAD) * 50 - 1)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("SHA-256", "sha256"), ("sha_384", "sha384"), ("sha", "sha1"), (" SHA1 ", "sha1")],
)
def test_digest_names(name: str, expected: str) -> None:
    assert crypto.normalize_digest(name) == expected
    assert crypto.micalg_name(name) == "sha-" + expected[3:]


def test_unsupported_algorithm_names_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="md5"):
        crypto.normalize_digest("md5")
    with pytest.raises(ConfigError, match="rc2"):
        crypto.normalize_cipher("rc2-40")
    assert crypto.normalize_cipher("3DES") == "des-ede3-cbc"
    assert crypto.normalize_cipher("AES_256_CBC") == "aes256-cbc"
    assert crypto.normalize_key_transport("RSAES-OAEP") == "rsa-oaep"


# ---------------------------------------------------------------- MDN fields


@pytest.mark.parametrize(
    ("value", "positive", "modifier"),
    [
        ("automatic-action/MDN-sent-automatically; processed", True, None),
        ("Automatic-Action/MDN-Sent-Automatically; Processed/Warning: duplicate-document", True,
         "duplicate-document"),
        ("automatic-action/MDN-sent-automatically; processed/Error: authentication-failed",
         False, "authentication-failed"),
        ("automatic-action/MDN-sent-automatically; failed/Failure: unsupported format", False,
         "unsupported format"),
    ],
)  # fmt: skip
def test_dispositions(value: str, positive: bool, modifier: str | None) -> None:
    got_positive, got_modifier, _ = parse_disposition(value)
    assert (got_positive, got_modifier) == (positive, modifier)


def _mdn(**changes: object) -> ParsedMdn:
    report = build_report(
        original_message_id="<m@a>", recipient="BOB", mic="QUJD", mic_digest="sha-256"
    )
    parsed = parse_mdn(report)
    return ParsedMdn(**{**parsed.__dict__, **changes})  # type: ignore[arg-type]


def test_judge_checks_each_part_of_an_mdn() -> None:
    mics = {"sha256": "QUJD"}
    assert judge(_mdn(), "m@a", mics, require_signed=False).delivered
    assert "not signed" in judge(_mdn(), "m@a", mics, require_signed=True).detail
    assert "answers message" in judge(_mdn(), "other@a", mics, require_signed=False).detail
    assert "MIC mismatch" in judge(_mdn(mic="WFla"), "m@a", mics, require_signed=False).detail
    negative = _mdn(positive=False, modifier="unexpected-processing-error")
    assert judge(negative, "m@a", mics, require_signed=False).retryable
    permanent = _mdn(positive=False, modifier="decryption-failed")
    assert not judge(permanent, "m@a", mics, require_signed=False).retryable


# ---------------------------------------------------------------- certificates


def test_load_certificates_in_every_format(idents: Idents, tmp_path: Path) -> None:
    a, b = idents.alice.cert, idents.alice_next.cert
    pem = tmp_path / "two.pem"
    pem.write_bytes(
        a.public_bytes(serialization.Encoding.PEM) + b.public_bytes(serialization.Encoding.PEM)
    )
    der = tmp_path / "one.cer"
    der.write_bytes(a.public_bytes(serialization.Encoding.DER))
    p7b = tmp_path / "bundle.p7b"
    p7b.write_bytes(pkcs7.serialize_certificates([a, b], serialization.Encoding.DER))
    assert certs.load_certificates(pem) == [a, b]
    assert certs.load_certificates(der) == [a]
    assert sorted(c.serial_number for c in certs.load_certificates(p7b)) == sorted(
        [a.serial_number, b.serial_number]
    )
    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    with pytest.raises(ConfigError, match=r"bad\.pem"):
        certs.load_certificates(bad)
    with pytest.raises(ConfigError, match="missing"):
        certs.load_certificates(tmp_path / "missing.pem")


def test_load_keys_and_pkcs12(idents: Idents, tmp_path: Path) -> None:
    key = certs.load_private_key(idents.alice.key_path)
    assert certs.check_key_matches(key, idents.alice.cert)
    assert not certs.check_key_matches(key, idents.bob.cert)
    encrypted = tmp_path / "enc.key"
    encrypted.write_bytes(
        idents.alice.key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"s3cret"),
        )
    )
    assert certs.check_key_matches(certs.load_private_key(encrypted, "s3cret"), idents.alice.cert)
    with pytest.raises(ConfigError, match=r"enc\.key"):
        certs.load_private_key(encrypted, "wrong")
    p12 = tmp_path / "id.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"alice", idents.alice.key, idents.alice.cert, None,
            serialization.BestAvailableEncryption(b"pw"),
        )
    )  # fmt: skip
    key2, cert2 = certs.load_pkcs12(p12, "pw")
    assert cert2 == idents.alice.cert and certs.check_key_matches(key2, cert2)


def test_validity_findings(idents: Idents) -> None:
    cert = idents.alice.cert
    assert certs.check_validity(cert) == []
    [expired] = certs.check_validity(idents.old.cert, label="partner OLD")
    assert expired.severity == "error" and expired.message.startswith("partner OLD: ")
    assert "expired on" in expired.message
    soon = cert.not_valid_after_utc - timedelta(days=10)
    [warning] = certs.check_validity(cert, now=soon)
    assert warning.severity == "warning" and "(in 10 days)" in warning.message
    early = cert.not_valid_before_utc - timedelta(days=1)
    assert certs.check_validity(cert, now=early)[0].severity == "error"
    assert certs.check_validity(cert, now=datetime.now(UTC), warn_days=400)[0].severity == "warning"


def test_keygen_writes_a_private_key_and_usable_certificate(tmp_path: Path) -> None:
    identity = certs.keygen("EDIGATE PROD/1", tmp_path / "keys", days=90)
    assert identity.key_path.name == "EDIGATE_PROD_1.key"
    assert stat.S_IMODE(os.stat(identity.key_path).st_mode) == 0o600
    key = certs.load_private_key(identity.key_path)
    [cert] = certs.load_certificates(identity.cert_path)
    assert certs.check_key_matches(key, cert) and key.key_size == 2048
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign
    assert (cert.not_valid_after_utc - cert.not_valid_before_utc).days == 90
    # It does what AS2 needs: sign/verify and encrypt/decrypt.
    signature = crypto.sign(PAYLOAD, key, cert)
    assert crypto.verify_detached(PAYLOAD, signature, [cert]).certificate == cert
    assert crypto.decrypt(crypto.encrypt(PAYLOAD, cert), [(key, cert)]).content == PAYLOAD
    with pytest.raises(ConfigError, match="refusing to overwrite"):
        certs.keygen("EDIGATE PROD/1", tmp_path / "keys")
    again = certs.keygen("EDIGATE PROD/1", tmp_path / "keys", overwrite=True, key_size=3072)
    assert certs.load_private_key(again.key_path).key_size == 3072
    assert stat.S_IMODE(os.stat(again.key_path).st_mode) == 0o600
