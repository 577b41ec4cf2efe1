"""Interoperability with the ``openssl cms`` command, both ways, over real HTTP."""

from __future__ import annotations

import base64
import http.client
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from edigate.channels.as2 import crypto
from edigate.channels.as2.mdn import judge, parse_mdn
from edigate.channels.as2.mime import parse_entity
from edigate.channels.base import Outbound

from .conftest import PAYLOAD, Ident, Loop

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="the openssl command is not installed")

ENTITY = (
    b'Content-Type: application/edi-x12\r\nContent-Disposition: attachment; filename="po.edi"'
    b"\r\n\r\n" + PAYLOAD
)


def openssl(*args: str | Path, input: bytes | None = None) -> bytes:
    result = subprocess.run(
        [OPENSSL or "openssl", *map(str, args)], input=input, capture_output=True, timeout=30
    )
    assert result.returncode == 0, f"openssl {args[:2]} failed: {result.stderr.decode()}"
    return result.stdout


def openssl_fails(*args: str | Path) -> bool:
    result = subprocess.run(
        [OPENSSL or "openssl", *map(str, args)], capture_output=True, timeout=30
    )
    return result.returncode != 0


def post_smime(
    url: str, smime: bytes, message_id: str, extra: dict[str, str]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Wrap openssl's S/MIME output in an AS2 HTTP request: its MIME headers become HTTP ones."""
    # openssl writes its outer header block with bare LF; the body goes exactly as written.
    end = smime.index(b"\n\n")
    head, body = smime[:end], smime[end + 2 :]
    headers: list[tuple[str, str]] = []
    for line in head.decode().splitlines():
        name, _, value = line.partition(": ")
        headers.append((name, value))
    headers += [
        ("AS2-Version", "1.2"),
        ("AS2-From", '"ALICE"'),
        ("as2-to", "BOB"),
        ("Message-ID", f"<{message_id}>"),
        ("Disposition-Notification-To", "alice@example.com"),
        *extra.items(),
    ]
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.putrequest("POST", parts.path)
    for name, value in headers:
        conn.putheader(name, value)
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    response = conn.getresponse()
    answer = response.status, response.getheaders(), response.read()
    conn.close()
    return answer


def b64_sha256(path: Path) -> str:
    return base64.b64encode(openssl("dgst", "-sha256", "-binary", path)).decode()


# ---------------------------------------------------------------- openssl -> edigate


@pytest.mark.parametrize("cipher", ["-aes128", "-aes256", "-des3"])
def test_openssl_signed_then_encrypted_is_received_and_verified(
    loop: Loop, tmp_path: Path, cipher: str
) -> None:
    alice, bob = loop.idents.alice, loop.idents.bob
    loop.bob_sees_alice(require_encrypted=True)
    (tmp_path / "entity.txt").write_bytes(ENTITY)
    signed = openssl(
        "cms", "-sign", "-binary", "-md", "sha256", "-in", tmp_path / "entity.txt",
        "-signer", alice.cert_path, "-inkey", alice.key_path,
    )  # fmt: skip
    (tmp_path / "signed.eml").write_bytes(signed)
    encrypted = openssl(
        "cms", "-encrypt", "-binary", "-in", tmp_path / "signed.eml", cipher, bob.cert_path
    )

    status, headers, body = post_smime(
        loop.bob_server.url,
        encrypted,
        "openssl-1@alice.example",
        {"Disposition-Notification-Options": "signed-receipt-protocol=optional,pkcs7-signature;"
         " signed-receipt-micalg=optional,SHA256"},
    )  # fmt: skip

    assert status == 200
    [got] = loop.bob_recorder.stored
    assert got.data == PAYLOAD and got.filename == "po.edi"
    assert got.meta["signed"] and got.meta["encrypted"] and not got.meta["compressed"]
    # The MIC is over the signed entity: compute it independently with openssl dgst.
    expected_mic = b64_sha256(tmp_path / "entity.txt")
    mdn = parse_mdn(parse_entity(_http_entity(headers, body)), [bob.cert])
    assert mdn.positive and mdn.signed
    assert (mdn.mic, mdn.mic_digest) == (expected_mic, "sha256")


def test_openssl_oaep_envelope_is_decrypted(loop: Loop, tmp_path: Path) -> None:
    loop.bob_sees_alice(require_signed=False, require_encrypted=True)
    (tmp_path / "entity.txt").write_bytes(ENTITY)
    encrypted = openssl(
        "cms", "-encrypt", "-binary", "-aes256", "-in", tmp_path / "entity.txt",
        "-recip", loop.idents.bob.cert_path, "-keyopt", "rsa_padding_mode:oaep",
    )  # fmt: skip
    status, headers, body = post_smime(loop.bob_server.url, encrypted, "oaep@alice", {})
    assert status == 200
    [got] = loop.bob_recorder.stored
    assert got.data == PAYLOAD and got.meta["encrypted"] and not got.meta["signed"]
    # Unsigned but encrypted: the MIC covers the decrypted entity, headers included.
    mdn = parse_mdn(parse_entity(_http_entity(headers, body)))
    assert mdn.positive and mdn.mic == b64_sha256(tmp_path / "entity.txt")


def test_openssl_signature_by_an_unknown_key_is_refused(loop: Loop, tmp_path: Path) -> None:
    mallory = loop.idents.mallory
    (tmp_path / "entity.txt").write_bytes(ENTITY)
    signed = openssl(
        "cms", "-sign", "-binary", "-in", tmp_path / "entity.txt",
        "-signer", mallory.cert_path, "-inkey", mallory.key_path,
    )  # fmt: skip
    status, headers, body = post_smime(loop.bob_server.url, signed, "m@evil", {})
    assert status == 200
    mdn = parse_mdn(parse_entity(_http_entity(headers, body)))
    assert not mdn.positive and mdn.modifier == "authentication-failed"
    assert loop.bob_recorder.stored == [] and len(loop.bob_recorder.failed) == 1


def test_an_aes_gcm_message_gets_a_permanent_decryption_failed(loop: Loop, tmp_path: Path) -> None:
    """authEnvelopedData (RFC 5083) is not read: the MDN says so with a modifier the sender
    does not retry (unexpected-processing-error made our own client retry forever)."""
    loop.bob_sees_alice(require_encrypted=True)
    (tmp_path / "entity.txt").write_bytes(ENTITY)
    made = subprocess.run(
        [OPENSSL or "openssl", "cms", "-encrypt", "-binary", "-aes-256-gcm",
         "-in", tmp_path / "entity.txt", loop.idents.bob.cert_path],
        capture_output=True, timeout=30,
    )  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"this openssl cannot make AES-GCM CMS: {made.stderr.decode().strip()}")
    assert b"authEnveloped-data" in made.stdout  # openssl's own smime-type for it

    status, headers, body = post_smime(loop.bob_server.url, made.stdout, "gcm@alice", {})

    assert status == 200
    mdn = parse_mdn(parse_entity(_http_entity(headers, body)))
    assert not mdn.positive and mdn.modifier == "decryption-failed"
    assert "authenticated-enveloped-data (AES-GCM" in mdn.text
    assert "aes256-cbc" in mdn.text and "des-ede3-cbc" in mdn.text
    assert judge(mdn, "gcm@alice", {}, require_signed=False).retryable is False
    [kept] = loop.bob_recorder.failed
    assert kept.meta["disposition"] == "decryption-failed"


def _http_entity(headers: list[tuple[str, str]], body: bytes) -> bytes:
    block = "".join(f"{k}: {v}\r\n" for k, v in headers).encode("latin-1")
    return block + b"\r\n" + body


# ---------------------------------------------------------------- edigate -> openssl


def _write_as_smime(path: Path, headers: list[tuple[str, str]], body: bytes) -> Path:
    path.write_bytes(_http_entity(headers, body))
    return path


TEXT_PAYLOAD = b"ISA*00*~\r\nGS*PO*ALICE*BOB~\r\nST*850*0001~\r\nBEG*00*SA*PO1~\r\nSE*3*0001~\r\n"


def _slice_signed(smime: bytes) -> tuple[bytes, bytes]:
    """(signed content, DER signature) cut out of a multipart/signed by plain byte slicing,
    independent of edigate's MIME code (openssl's S/MIME reader rewrites line ends, so it
    cannot carry binary content with mixed CR/LF).
    """
    boundary = re.search(rb'boundary="([^"]+)"', smime)
    assert boundary
    delim = b"\r\n--" + boundary.group(1)
    first = smime.index(b"--" + boundary.group(1) + b"\r\n") + len(boundary.group(1)) + 4
    content, rest = smime[first:].split(delim, 1)
    signature_part = rest.split(delim, 1)[0]
    signature_b64 = signature_part.split(b"\r\n\r\n", 1)[1]
    return content, base64.b64decode(signature_b64)


@pytest.mark.parametrize(
    ("cipher", "transport"),
    [("aes128-cbc", "rsa-pkcs1v15"), ("aes256-cbc", "rsa-oaep"), ("des-ede3-cbc", "rsa-pkcs1v15")],
)
def test_our_signed_encrypted_message_opens_with_openssl(
    loop: Loop, tmp_path: Path, cipher: str, transport: str
) -> None:
    """Binary payload (bare LF and CR, so it is signed as base64): openssl decrypts, then
    verifies the detached signature over the exact signed bytes; the MIC matches openssl's
    digest of them."""
    alice, bob = loop.idents.alice, loop.idents.bob
    channel = loop.alice_channel(cipher=cipher, key_transport=transport)
    message = channel.build(Outbound(9, "bob", "po.edi", PAYLOAD))
    (tmp_path / "body.der").write_bytes(message.body)

    openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "body.der",
        "-recip", bob.cert_path, "-inkey", bob.key_path, "-out", tmp_path / "signed.eml",
    )  # fmt: skip
    content, signature = _slice_signed((tmp_path / "signed.eml").read_bytes())
    (tmp_path / "content.bin").write_bytes(content)
    (tmp_path / "sig.der").write_bytes(signature)
    verified = openssl(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.der",
        "-content", tmp_path / "content.bin", "-CAfile", alice.cert_path,
    )  # fmt: skip

    head, _, payload = verified.partition(b"\r\n\r\n")
    assert b"Content-Transfer-Encoding: base64" in head
    assert base64.b64decode(payload) == PAYLOAD
    assert b"filename=po.edi" in head
    assert message.mic == b64_sha256(tmp_path / "content.bin")
    # The check is real: with another trust anchor openssl refuses the same signature.
    assert openssl_fails(
        "cms", "-verify", "-binary", "-inform", "DER", "-in", tmp_path / "sig.der",
        "-content", tmp_path / "content.bin", "-CAfile", loop.idents.mallory.cert_path,
    )  # fmt: skip


def test_our_text_message_verifies_with_openssls_smime_reader(loop: Loop, tmp_path: Path) -> None:
    """A CRLF text payload goes through openssl's own S/MIME parser end to end."""
    alice, bob = loop.idents.alice, loop.idents.bob
    channel = loop.alice_channel()
    message = channel.build(Outbound(9, "bob", "po.edi", TEXT_PAYLOAD))
    (tmp_path / "body.der").write_bytes(message.body)
    openssl(
        "cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "body.der",
        "-recip", bob.cert_path, "-inkey", bob.key_path, "-out", tmp_path / "signed.eml",
    )  # fmt: skip
    verified = openssl(
        "cms", "-verify", "-in", tmp_path / "signed.eml", "-CAfile", alice.cert_path,
        "-out", tmp_path / "content.bin",
    )  # fmt: skip
    assert verified == b""
    content = (tmp_path / "content.bin").read_bytes()
    assert content.endswith(b"\r\n\r\n" + TEXT_PAYLOAD)
    assert message.mic == b64_sha256(tmp_path / "content.bin")


LF_PAYLOAD = TEXT_PAYLOAD.replace(b"\r\n", b"\n")  # as a profile with `newline: lf` writes it


@pytest.mark.parametrize("encrypt", [False, True], ids=["signed", "signed+encrypted"])
def test_our_lf_payload_verifies_with_openssl_in_text_mode(
    loop: Loop, tmp_path: Path, encrypt: bool
) -> None:
    """openssl cms -verify without -binary turns bare LFs into CRLF before checking: the
    signed part must be base64 for the signature to hold, and the content comes back exact."""
    alice, bob = loop.idents.alice, loop.idents.bob
    message = loop.alice_channel(encrypt=encrypt).build(Outbound(9, "bob", "po.edi", LF_PAYLOAD))
    smime = _write_as_smime(tmp_path / "message.eml", message.headers, message.body)
    if encrypt:
        (tmp_path / "body.der").write_bytes(message.body)
        openssl(
            "cms", "-decrypt", "-binary", "-inform", "DER", "-in", tmp_path / "body.der",
            "-recip", bob.cert_path, "-inkey", bob.key_path, "-out", smime,
        )  # fmt: skip

    openssl(
        "cms", "-verify", "-in", smime, "-CAfile", alice.cert_path,
        "-out", tmp_path / "content.bin",
    )  # fmt: skip

    content = (tmp_path / "content.bin").read_bytes()
    head, _, body = content.partition(b"\r\n\r\n")
    assert b"Content-Transfer-Encoding: base64" in head
    assert base64.b64decode(body) == LF_PAYLOAD
    assert message.mic == b64_sha256(tmp_path / "content.bin")
    # And our own endpoint unpacks it to the same bytes, with the MIC the sender expects.
    delivery = loop.alice_channel(encrypt=encrypt).send(Outbound(9, "bob", "po.edi", LF_PAYLOAD))
    assert delivery.meta["mdn"] == "positive" and delivery.meta["mic"] == message.mic
    assert [i.data for i in loop.bob_recorder.stored] == [LF_PAYLOAD]


def test_compressed_then_signed_verifies_with_openssl_in_text_mode(
    loop: Loop, tmp_path: Path
) -> None:
    """Compressed before signing, the signed part is the compressed-data DER: binary, so
    it is signed as base64 too, and our endpoint still opens it."""
    channel = loop.alice_channel(encrypt=False, compress=True)
    message = channel.build(Outbound(9, "bob", "po.edi", LF_PAYLOAD))
    smime = _write_as_smime(tmp_path / "message.eml", message.headers, message.body)
    openssl("cms", "-verify", "-in", smime, "-CAfile", loop.idents.alice.cert_path)
    delivery = channel.send(Outbound(9, "bob", "po.edi", LF_PAYLOAD))
    assert delivery.meta["mdn"] == "positive"
    [got] = loop.bob_recorder.stored
    assert got.data == LF_PAYLOAD and got.meta["compressed"] and got.meta["signed"]


@pytest.mark.parametrize("payload", [TEXT_PAYLOAD, b"ISA*00*~GS*PO~ST*850*0001~SE*2*0001~"])
def test_a_payload_already_in_canonical_form_is_signed_as_binary(
    loop: Loop, tmp_path: Path, payload: bytes
) -> None:
    message = loop.alice_channel(encrypt=False).build(Outbound(9, "bob", "po.edi", payload))
    smime = _write_as_smime(tmp_path / "message.eml", message.headers, message.body)
    openssl("cms", "-verify", "-in", smime, "-CAfile", loop.idents.alice.cert_path)
    assert b"Content-Transfer-Encoding: binary\r\n" in message.body
    assert b"\r\n\r\n" + payload + b"\r\n--" in message.body


def test_tampered_message_fails_openssl_verify(loop: Loop, tmp_path: Path) -> None:
    channel = loop.alice_channel(encrypt=False)
    message = channel.build(Outbound(9, "bob", "po.edi", TEXT_PAYLOAD))
    smime = _write_as_smime(tmp_path / "signed.eml", message.headers, message.body)
    openssl("cms", "-verify", "-in", smime, "-CAfile", loop.idents.alice.cert_path)
    smime.write_bytes(smime.read_bytes().replace(b"ST*850", b"ST*855"))
    assert openssl_fails("cms", "-verify", "-in", smime, "-CAfile", loop.idents.alice.cert_path)


@pytest.mark.parametrize("digest", ["sha256", "sha1", "sha512"])
def test_openssl_verifies_our_signed_mdn(loop: Loop, tmp_path: Path, digest: str) -> None:
    channel = loop.alice_channel(mdn_digest=digest)
    delivery = channel.send(Outbound(4, "bob", "po.edi", PAYLOAD))
    assert delivery.evidence is not None
    (tmp_path / "mdn.eml").write_bytes(delivery.evidence)
    report = openssl(
        "cms", "-verify", "-in", tmp_path / "mdn.eml", "-CAfile", loop.idents.bob.cert_path
    )
    assert b"multipart/report" in report
    assert b"automatic-action/MDN-sent-automatically; processed" in report
    assert f"Received-Content-MIC: {delivery.meta['mic']}".encode() in report
    micalg = crypto.micalg_name(digest)
    assert f"micalg={micalg}".encode() in delivery.evidence


# ---------------------------------------------------------------- compression (RFC 3274)


def _openssl_has_zlib() -> bool:
    result = subprocess.run(
        [OPENSSL or "openssl", "cms", "-compress", "-binary", "-outform", "DER"],
        input=b"probe", capture_output=True, timeout=30,
    )  # fmt: skip
    return result.returncode == 0


def test_openssl_cms_compress_uncompress_both_ways(tmp_path: Path) -> None:
    if not _openssl_has_zlib():
        pytest.skip(
            "this openssl is built without zlib (cms -compress: unsupported compression "
            "algorithm); see the asn1parse + perl zlib interop tests below"
        )
    (tmp_path / "entity.txt").write_bytes(ENTITY)
    theirs = openssl(
        "cms", "-compress", "-binary", "-outform", "DER", "-in", tmp_path / "entity.txt"
    )
    assert crypto.decompress(theirs) == ENTITY
    (tmp_path / "ours.der").write_bytes(crypto.compress(ENTITY))
    back = openssl("cms", "-uncompress", "-binary", "-inform", "DER", "-in", tmp_path / "ours.der")
    assert back == ENTITY


def _perl_zlib(*args: str, data: bytes) -> bytes:
    if shutil.which("perl") is None:
        pytest.skip("perl is not installed")
    script = {
        "compress": "use Compress::Zlib; local $/; binmode STDIN; binmode STDOUT; "
        "print compress(<STDIN>)",
        "uncompress": "use Compress::Zlib; local $/; binmode STDIN; binmode STDOUT; "
        "print uncompress(<STDIN>)",
    }[args[0]]
    result = subprocess.run(["perl", "-e", script], input=data, capture_output=True, timeout=30)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout


def test_our_compressed_data_parses_in_openssl_and_inflates_with_perl(tmp_path: Path) -> None:
    der = tmp_path / "ours.der"
    der.write_bytes(crypto.compress(ENTITY))
    printed = openssl("cms", "-cmsout", "-print", "-inform", "DER", "-in", der).decode()
    assert "id-smime-ct-compressedData" in printed
    assert "zlib compression" in printed
    dump = openssl("asn1parse", "-inform", "DER", "-in", der).decode()
    [hexdump] = re.findall(r"OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)", dump)
    assert _perl_zlib("uncompress", data=bytes.fromhex(hexdump)) == ENTITY


def test_compressed_data_built_by_openssl_asn1parse_and_perl_is_read(tmp_path: Path) -> None:
    deflated = _perl_zlib("compress", data=ENTITY)
    (tmp_path / "gen.cnf").write_text(
        "asn1 = SEQUENCE:ci\n[ci]\nct = OID:1.2.840.113549.1.9.16.1.9\n"
        "content = EXPLICIT:0,SEQUENCE:cd\n[cd]\nversion = INTEGER:0\nalg = SEQUENCE:zalg\n"
        "encap = SEQUENCE:encap\n[zalg]\noid = OID:1.2.840.113549.1.9.16.3.8\n"
        "[encap]\nct = OID:1.2.840.113549.1.7.1\n"
        f"content = EXPLICIT:0,FORMAT:HEX,OCTETSTRING:{deflated.hex()}\n"
    )
    openssl("asn1parse", "-genconf", tmp_path / "gen.cnf", "-out", tmp_path / "gen.der", "-noout")
    assert crypto.decompress((tmp_path / "gen.der").read_bytes()) == ENTITY


def test_compressed_signed_message_from_openssl_parts_is_received(
    loop: Loop, tmp_path: Path
) -> None:
    """Compress (asn1parse + perl) then sign with openssl: the MIC covers the compressed entity."""
    alice: Ident = loop.idents.alice
    deflated = _perl_zlib("compress", data=ENTITY)
    (tmp_path / "gen.cnf").write_text(
        "asn1 = SEQUENCE:ci\n[ci]\nct = OID:1.2.840.113549.1.9.16.1.9\n"
        "content = EXPLICIT:0,SEQUENCE:cd\n[cd]\nversion = INTEGER:0\nalg = SEQUENCE:zalg\n"
        "encap = SEQUENCE:encap\n[zalg]\noid = OID:1.2.840.113549.1.9.16.3.8\n"
        "[encap]\nct = OID:1.2.840.113549.1.7.1\n"
        f"content = EXPLICIT:0,FORMAT:HEX,OCTETSTRING:{deflated.hex()}\n"
    )
    openssl("asn1parse", "-genconf", tmp_path / "gen.cnf", "-out", tmp_path / "gen.der", "-noout")
    compressed_entity = (
        b"Content-Type: application/pkcs7-mime; smime-type=compressed-data; name=smime.p7z\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes((tmp_path / "gen.der").read_bytes()).replace(b"\n", b"\r\n")
    )
    (tmp_path / "c.eml").write_bytes(compressed_entity)
    signed = openssl(
        "cms", "-sign", "-binary", "-in", tmp_path / "c.eml", "-signer", alice.cert_path,
        "-inkey", alice.key_path, "-md", "sha256",
    )  # fmt: skip
    status, headers, body = post_smime(loop.bob_server.url, signed, "comp@alice", {})
    assert status == 200
    [got] = loop.bob_recorder.stored
    assert got.data == PAYLOAD and got.meta["compressed"] and got.meta["signed"]
    mdn = parse_mdn(parse_entity(_http_entity(headers, body)))
    assert mdn.positive and mdn.mic == b64_sha256(tmp_path / "c.eml")
