"""CMS for AS2: sign, verify, encrypt, decrypt, compress, decompress, and the MIC.

Built on ``cryptography`` (the PKCS7 signature and envelope builders for the common
algorithms, RSA and the ciphers for everything else) and ``asn1crypto`` to read CMS
structures, because ``cryptography`` verifies no CMS signature and decrypts no RSA-OAEP or
3DES envelope. Every failure raises :class:`ProcessingError` with the RFC 4130 modifier.

    der = sign(entity_bytes, key, cert, "sha256")
    verified = verify_detached(entity_bytes, der, partner_certs)
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asn1crypto import algos, cms, core  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs7

from ...errors import ConfigError
from .errors import (
    AUTHENTICATION_FAILED,
    DECOMPRESSION_FAILED,
    DECRYPTION_FAILED,
    INTEGRITY_CHECK_FAILED,
    ProcessingError,
)
from .mime import canonical_text

# ---------------------------------------------------------------- algorithm names

_DIGESTS: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
DIGESTS = tuple(_DIGESTS)
DEFAULT_DIGEST = "sha256"


def normalize_digest(name: str) -> str:
    """``SHA-256``, ``sha256``, ``sha_256`` -> ``sha256``; ``sha`` and ``sha-1`` -> ``sha1``.

    Raises ConfigError for anything else (MD5 included: not accepted).
    """
    key = name.strip().strip('"').lower().replace("-", "").replace("_", "")
    if key == "sha":
        key = "sha1"
    if key not in _DIGESTS:
        raise ConfigError(f"unsupported digest algorithm {name!r}; use one of {DIGESTS}")
    return key


def try_digest(name: str) -> str | None:
    """:func:`normalize_digest`, or None when unsupported."""
    try:
        return normalize_digest(name)
    except ConfigError:
        return None


def micalg_name(digest: str) -> str:
    """The RFC 5751 ``micalg`` spelling: ``sha-256``."""
    return "sha-" + normalize_digest(digest)[3:]


def compute_mic(data: bytes, digest: str) -> str:
    """Base64 of the digest of ``data`` (the Received-Content-MIC value)."""
    return base64.b64encode(hashlib.new(normalize_digest(digest), data).digest()).decode("ascii")


def all_mics(data: bytes) -> dict[str, str]:
    """The MIC under every supported digest: a partner may answer with any of them."""
    return {name: compute_mic(data, name) for name in DIGESTS}


_CIPHERS: dict[str, tuple[str, int]] = {  # name -> (asn1crypto id, key bytes)
    "aes128-cbc": ("aes128_cbc", 16),
    "aes192-cbc": ("aes192_cbc", 24),
    "aes256-cbc": ("aes256_cbc", 32),
    "des-ede3-cbc": ("tripledes_3key", 24),
}
CIPHERS = tuple(_CIPHERS)
_CIPHER_ALIASES = {
    "aes128": "aes128-cbc",
    "aes192": "aes192-cbc",
    "aes256": "aes256-cbc",
    "3des": "des-ede3-cbc",
    "3descbc": "des-ede3-cbc",
    "tripledes": "des-ede3-cbc",
    "tripledes192cbc": "des-ede3-cbc",
    "desede3cbc": "des-ede3-cbc",
    "desede3": "des-ede3-cbc",
}
KEY_TRANSPORTS = ("rsa-pkcs1v15", "rsa-oaep")


def normalize_cipher(name: str) -> str:
    """Tolerant cipher names: ``AES-128-CBC``, ``aes128``, ``3des`` -> ``aes128-cbc``, ..."""
    key = name.strip().lower().replace("-", "").replace("_", "")
    for canon in _CIPHERS:
        if key == canon.replace("-", ""):
            return canon
    if key in _CIPHER_ALIASES:
        return _CIPHER_ALIASES[key]
    raise ConfigError(f"unsupported content encryption {name!r}; use one of {CIPHERS}")


def normalize_key_transport(name: str) -> str:
    key = name.strip().lower().replace("_", "-")
    if key in ("rsa", "pkcs1", "pkcs1v15", "rsa-pkcs1", "rsa-pkcs1v15", "rsaes-pkcs1-v1-5"):
        return "rsa-pkcs1v15"
    if key in ("oaep", "rsa-oaep", "rsaes-oaep"):
        return "rsa-oaep"
    raise ConfigError(f"unsupported key transport {name!r}; use one of {KEY_TRANSPORTS}")


# ---------------------------------------------------------------- helpers


def _asn1_cert(cert: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _describe(cert: x509.Certificate) -> str:
    return f"{cert.subject.rfc4514_string()} (serial {cert.serial_number:x})"


def _rid_matches(rid: Any, cert: Any) -> bool:
    """Does a CMS SignerIdentifier / RecipientIdentifier name this (asn1crypto) cert?"""
    if rid.name == "issuer_and_serial_number":
        chosen = rid.chosen
        return bool(
            chosen["serial_number"].native == cert.serial_number and chosen["issuer"] == cert.issuer
        )
    if rid.name == "subject_key_identifier":
        return bool(rid.chosen.native == cert.key_identifier)
    return False


def _load_content_info(der: bytes, expected: str, modifier: str) -> Any:
    try:
        info = cms.ContentInfo.load(der)
        kind = info["content_type"].native
        content = info["content"]
    except (ValueError, TypeError, KeyError) as exc:
        raise ProcessingError(modifier, f"not a CMS structure: {exc}") from exc
    if kind != expected:
        raise ProcessingError(modifier, f"expected CMS {expected}, found {kind}")
    return content


#: What asn1crypto raises on a malformed structure. It parses lazily, so a hostile DER fails
#: wherever a field is first read, not in ``load``.
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError)


@contextmanager
def _malformed(modifier: str, what: str) -> Iterator[None]:
    """Turn a parse failure anywhere inside a CMS structure into a ProcessingError."""
    try:
        yield
    except _ASN1_ERRORS as exc:
        raise ProcessingError(modifier, f"malformed {what}: {exc}") from exc


def cms_content_type(der: bytes) -> str | None:
    """The CMS content type of ``der`` (``signed_data``, ``enveloped_data``...), or None."""
    try:
        return str(cms.ContentInfo.load(der)["content_type"].native)
    except (ValueError, TypeError, KeyError):
        return None


def check_cert_dates(cert: x509.Certificate, now: datetime | None = None) -> str | None:
    """Why ``cert`` is not valid at ``now``, or None."""
    now = now or datetime.now(UTC)
    if now > cert.not_valid_after_utc:
        return f"certificate {_describe(cert)} expired on {cert.not_valid_after_utc:%Y-%m-%d}"
    if now < cert.not_valid_before_utc:
        return (
            f"certificate {_describe(cert)} is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d}"
        )
    return None


# ---------------------------------------------------------------- signatures

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def sign(
    content: bytes, key: SigningKey, cert: x509.Certificate, digest: str = DEFAULT_DIGEST
) -> bytes:
    """A detached CMS signature (DER) over ``content`` exactly as given (no canonicalisation)."""
    name = normalize_digest(digest)
    if name == "sha1":
        return _sign_sha1(content, key, cert)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(content)
    hash_cls = _DIGESTS[name]()
    builder = builder.add_signer(cert, key, hash_cls)  # type: ignore[arg-type]
    options = [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]
    return builder.sign(serialization.Encoding.DER, options)


def _sign_sha1(content: bytes, key: SigningKey, cert: x509.Certificate) -> bytes:
    """SHA-1 signing for old partners: the PKCS7 builder refuses SHA-1, so build CMS here."""
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("SHA-1 signatures are only supported with RSA keys")
    acert = _asn1_cert(cert)
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time({"utc_time": datetime.now(UTC)})]}
        ),
        cms.CMSAttribute({"type": "message_digest", "values": [hashlib.sha1(content).digest()]}),
    ]
    attrs.sort(key=lambda a: a.dump())  # DER orders a SET OF by encoding
    signed_attrs = cms.CMSAttributes(attrs)
    signature = key.sign(signed_attrs.dump(), asym_padding.PKCS1v15(), hashes.SHA1())
    sid = cms.SignerIdentifier(
        name="issuer_and_serial_number",
        value={"issuer": acert.issuer, "serial_number": acert.serial_number},
    )
    signer = cms.SignerInfo(
        {
            "version": "v1",
            "sid": sid,
            "digest_algorithm": {"algorithm": "sha1"},
            "signed_attrs": signed_attrs,
            "signature_algorithm": {"algorithm": "rsassa_pkcs1v15"},
            "signature": signature,
        }
    )
    signed = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": "sha1"}],
            "encap_content_info": {"content_type": "data"},
            "certificates": [acert],
            "signer_infos": [signer],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed}).dump())


@dataclass(frozen=True, slots=True)
class Verified:
    """A signature that verified: its digest, the partner certificate, the signed bytes."""

    digest: str
    certificate: x509.Certificate
    content: bytes


def verify_detached(
    content: bytes,
    signature: bytes,
    certs: Sequence[x509.Certificate],
    *,
    now: datetime | None = None,
) -> Verified:
    """Verify a detached signature over ``content`` with one of ``certs`` (never embedded ones).

    ``content`` is tried as received, then in canonical CRLF form (senders that sign text
    with bare LF line ends). The returned ``content`` is the form that verified: the MIC
    is computed over it.
    """
    with _malformed(AUTHENTICATION_FAILED, "signature"):
        signed_data = _load_content_info(signature, "signed_data", AUTHENTICATION_FAILED)
        try:
            return _verify(signed_data, content, certs, now)
        except ProcessingError as first:
            canonical = canonical_text(content)
            if canonical == content or first.modifier != INTEGRITY_CHECK_FAILED:
                raise
            try:
                return _verify(signed_data, canonical, certs, now)
            except ProcessingError:
                raise first from None


def verify_attached(
    der: bytes, certs: Sequence[x509.Certificate], *, now: datetime | None = None
) -> Verified:
    """Verify an opaque (``smime-type=signed-data``) signature; ``content`` is the eContent."""
    with _malformed(AUTHENTICATION_FAILED, "signed-data"):
        signed_data = _load_content_info(der, "signed_data", AUTHENTICATION_FAILED)
        econtent = signed_data["encap_content_info"]["content"]
        if econtent.native is None:
            raise ProcessingError(INTEGRITY_CHECK_FAILED, "signed-data carries no content")
        content = econtent.native if isinstance(econtent.native, bytes) else econtent.contents
        return _verify(signed_data, bytes(content), certs, now)


def _verify(
    signed_data: Any, content: bytes, certs: Sequence[x509.Certificate], now: datetime | None
) -> Verified:
    if not certs:
        raise ProcessingError(AUTHENTICATION_FAILED, "no certificate is configured to verify it")
    signers = list(signed_data["signer_infos"])
    if not signers:
        raise ProcessingError(AUTHENTICATION_FAILED, "the signature has no signer")
    known = [(c, _asn1_cert(c)) for c in certs]
    integrity_failure: str | None = None
    for signer in signers:
        digest = str(signer["digest_algorithm"]["algorithm"].native)
        if try_digest(digest) is None:
            integrity_failure = f"unsupported digest algorithm {digest}"
            continue
        digest = normalize_digest(digest)
        named = [c for c, a in known if _rid_matches(signer["sid"], a)]
        others = [c for c, _ in known if c not in named]
        for cert in named + others:
            problem = _check_signer(signer, content, digest, cert)
            if problem is None:
                dated = check_cert_dates(cert, now)
                if dated:
                    raise ProcessingError(AUTHENTICATION_FAILED, dated)
                return Verified(digest, cert, content)
            if cert in named:
                integrity_failure = problem
    if integrity_failure:
        raise ProcessingError(INTEGRITY_CHECK_FAILED, integrity_failure)
    ids = "; ".join(_describe_sid(s["sid"], signed_data) for s in signers)
    configured = "; ".join(_describe(c) for c in certs)
    raise ProcessingError(
        AUTHENTICATION_FAILED,
        f"signed by {ids}, which matches none of the configured certificates ({configured})",
    )


def _describe_sid(sid: Any, signed_data: Any) -> str:
    """Who the signer says it is: the subject of its embedded certificate when present."""
    for choice in signed_data["certificates"] or []:
        if choice.name == "certificate" and _rid_matches(sid, choice.chosen):
            try:
                return _describe(x509.load_der_x509_certificate(choice.chosen.dump()))
            except ValueError:
                break
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"].human_friendly
        return f"issuer {issuer} serial {sid.chosen['serial_number'].native:x}"
    return f"key id {sid.chosen.native.hex()}"


def _check_signer(signer: Any, content: bytes, digest: str, cert: x509.Certificate) -> str | None:
    """None when ``signer`` is a valid signature by ``cert`` over ``content``; else why not."""
    actual = hashlib.new(digest, content).digest()
    attrs = signer["signed_attrs"]
    if isinstance(attrs, core.Void) or len(attrs) == 0:
        to_verify = content
    else:
        digests = [a["values"][0].native for a in attrs if a["type"].native == "message_digest"]
        if not digests:
            return "signed attributes carry no message digest"
        if digests[0] != actual:
            return "the content does not match its signature (message digest differs)"
        raw = attrs.dump()
        to_verify = b"\x31" + raw[1:]  # signed over the universal SET OF tag, not [0]
    try:
        _verify_raw(signer, cert, bytes(signer["signature"].native), to_verify, digest)
    except InvalidSignature:
        return "the signature value does not verify with the certificate's key"
    except (ValueError, TypeError) as exc:
        return f"the signature cannot be checked: {exc}"
    return None


def _verify_raw(signer: Any, cert: x509.Certificate, sig: bytes, data: bytes, digest: str) -> None:
    public = cert.public_key()
    algo = signer["signature_algorithm"]
    kind = algo.signature_algo
    hash_obj = _DIGESTS[digest]()
    if isinstance(public, rsa.RSAPublicKey):
        if kind == "rsassa_pss":
            params = algo["parameters"]
            pss_hash = _DIGESTS[normalize_digest(params["hash_algorithm"]["algorithm"].native)]()
            mgf_hash_name = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
            mgf = asym_padding.MGF1(_DIGESTS[normalize_digest(mgf_hash_name)]())
            pss = asym_padding.PSS(mgf, params["salt_length"].native)
            public.verify(sig, data, pss, pss_hash)
            return
        if kind != "rsassa_pkcs1v15":
            raise ValueError(f"{kind} signature with an RSA certificate")
        public.verify(sig, data, asym_padding.PKCS1v15(), hash_obj)
        return
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(sig, data, ec.ECDSA(hash_obj))
        return
    raise ValueError(f"unsupported key type {type(public).__name__}")


# ---------------------------------------------------------------- encryption

DecryptKey = tuple[rsa.RSAPrivateKey, x509.Certificate]


def encrypt(
    content: bytes,
    cert: x509.Certificate,
    cipher: str = "aes128-cbc",
    key_transport: str = "rsa-pkcs1v15",
) -> bytes:
    """An enveloped-data (DER) of ``content`` for the holder of ``cert``."""
    cipher = normalize_cipher(cipher)
    key_transport = normalize_key_transport(key_transport)
    if not isinstance(cert.public_key(), rsa.RSAPublicKey):
        raise ConfigError(f"cannot encrypt for {_describe(cert)}: only RSA keys are supported")
    if key_transport == "rsa-pkcs1v15" and cipher in ("aes128-cbc", "aes256-cbc"):
        builder = pkcs7.PKCS7EnvelopeBuilder().set_data(content).add_recipient(cert)
        if cipher == "aes256-cbc":
            builder = builder.set_content_encryption_algorithm(algorithms.AES256)
        else:
            builder = builder.set_content_encryption_algorithm(algorithms.AES128)
        return builder.encrypt(serialization.Encoding.DER, [pkcs7.PKCS7Options.Binary])
    return _encrypt_cms(content, cert, cipher, key_transport)


def _cipher_algorithm(name: str, key: bytes) -> BlockCipherAlgorithm:
    if name == "des-ede3-cbc":
        return TripleDES(key)
    return algorithms.AES(key)


def _encrypt_cms(content: bytes, cert: x509.Certificate, cipher: str, transport: str) -> bytes:
    """The envelope the PKCS7 builder cannot make (RSA-OAEP, 3DES, AES-192)."""
    asn1_id, key_len = _CIPHERS[cipher]
    cek = os.urandom(key_len)
    algo = _cipher_algorithm(cipher, cek)
    iv = os.urandom(algo.block_size // 8)
    padder = padding.PKCS7(algo.block_size).padder()
    padded = padder.update(content) + padder.finalize()
    encryptor = Cipher(algo, modes.CBC(iv)).encryptor()
    encrypted = encryptor.update(padded) + encryptor.finalize()
    public = cert.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    if transport == "rsa-oaep":
        oaep = asym_padding.OAEP(asym_padding.MGF1(hashes.SHA256()), hashes.SHA256(), None)
        encrypted_key = public.encrypt(cek, oaep)
        kea = {
            "algorithm": "rsaes_oaep",
            "parameters": algos.RSAESOAEPParams(
                {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": "sha256"},
                    },
                }
            ),
        }
    else:
        encrypted_key = public.encrypt(cek, asym_padding.PKCS1v15())
        kea = {"algorithm": "rsaes_pkcs1v15"}
    acert = _asn1_cert(cert)
    recipient = cms.RecipientInfo(
        name="ktri",
        value={
            "version": "v0",
            "rid": cms.RecipientIdentifier(
                name="issuer_and_serial_number",
                value={"issuer": acert.issuer, "serial_number": acert.serial_number},
            ),
            "key_encryption_algorithm": kea,
            "encrypted_key": encrypted_key,
        },
    )
    enveloped = cms.EnvelopedData(
        {
            "version": "v0",
            "recipient_infos": [recipient],
            "encrypted_content_info": {
                "content_type": "data",
                "content_encryption_algorithm": {"algorithm": asn1_id, "parameters": iv},
                "encrypted_content": encrypted,
            },
        }
    )
    info = cms.ContentInfo({"content_type": "enveloped_data", "content": enveloped})
    return bytes(info.dump())


@dataclass(frozen=True, slots=True)
class Decrypted:
    content: bytes
    cipher: str  # e.g. aes256_cbc, tripledes_3key
    key_transport: str  # rsaes_pkcs1v15 | rsaes_oaep


def decrypt(der: bytes, keys: Sequence[DecryptKey]) -> Decrypted:
    """Open an enveloped-data with the first of our ``keys`` it was encrypted for."""
    with _malformed(DECRYPTION_FAILED, "enveloped-data"):
        return _decrypt(der, keys)


def _decrypt(der: bytes, keys: Sequence[DecryptKey]) -> Decrypted:
    enveloped = _load_content_info(der, "enveloped_data", DECRYPTION_FAILED)
    recipients = [r.chosen for r in enveloped["recipient_infos"] if r.name == "ktri"]
    if not recipients:
        raise ProcessingError(DECRYPTION_FAILED, "no RSA key-transport recipient in the envelope")
    ours = [(key, cert, _asn1_cert(cert)) for key, cert in keys]
    for recipient in recipients:
        for key, _cert, acert in ours:
            if _rid_matches(recipient["rid"], acert):
                cek = _unwrap_key(recipient, key)
                return _decrypt_content(enveloped, cek, recipient)
    names = "; ".join(_describe(cert) for _, cert in keys)
    raise ProcessingError(
        DECRYPTION_FAILED, f"the message was not encrypted for our certificate ({names})"
    )


def _unwrap_key(recipient: Any, key: rsa.RSAPrivateKey) -> bytes:
    algo = recipient["key_encryption_algorithm"]
    encrypted_key = bytes(recipient["encrypted_key"].native)
    name = algo["algorithm"].native
    if name == "rsaes_oaep":
        params = algo["parameters"]
        digest = _DIGESTS[normalize_digest(params["hash_algorithm"]["algorithm"].native)]
        mgf_name = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
        mgf = asym_padding.MGF1(_DIGESTS[normalize_digest(mgf_name)]())
        label = params["p_source_algorithm"]["parameters"].native or None
        try:
            return key.decrypt(encrypted_key, asym_padding.OAEP(mgf, digest(), label))
        except ValueError as exc:
            raise ProcessingError(DECRYPTION_FAILED, "the content key does not decrypt") from exc
    if name != "rsaes_pkcs1v15":
        raise ProcessingError(DECRYPTION_FAILED, f"unsupported key transport {name}")
    try:
        return key.decrypt(encrypted_key, asym_padding.PKCS1v15())
    except ValueError:
        # A random key instead of an early error: no padding oracle (Bleichenbacher).
        return os.urandom(32)


def _decrypt_content(enveloped: Any, cek: bytes, recipient: Any) -> Decrypted:
    info = enveloped["encrypted_content_info"]
    algo = info["content_encryption_algorithm"]
    name = algo["algorithm"].native
    try:
        family, mode = algo.encryption_cipher, algo.encryption_mode
        key_len, iv = algo.key_length, bytes(algo.encryption_iv)
    except ValueError as exc:
        raise ProcessingError(DECRYPTION_FAILED, f"unsupported cipher {name}") from exc
    if mode != "cbc" or family not in ("aes", "tripledes"):
        raise ProcessingError(DECRYPTION_FAILED, f"unsupported content encryption {name}")
    if len(cek) != key_len:
        raise ProcessingError(DECRYPTION_FAILED, "the content key does not decrypt")
    cipher_name = "des-ede3-cbc" if family == "tripledes" else "aes128-cbc"
    algorithm = _cipher_algorithm(cipher_name, cek)
    encrypted = info["encrypted_content"].native
    if not encrypted:
        raise ProcessingError(DECRYPTION_FAILED, "the envelope carries no encrypted content")
    decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
    padded = decryptor.update(bytes(encrypted)) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithm.block_size).unpadder()
    try:
        content = unpadder.update(padded) + unpadder.finalize()
    except ValueError as exc:
        raise ProcessingError(DECRYPTION_FAILED, "the content does not decrypt") from exc
    transport = str(recipient["key_encryption_algorithm"]["algorithm"].native)
    return Decrypted(content, str(name), transport)


# ---------------------------------------------------------------- compression (RFC 3274)

DEFAULT_MAX_DECOMPRESSED = 100 * 1024 * 1024
_CHUNK = 64 * 1024


def compress(content: bytes) -> bytes:
    """A compressed-data (DER, zlib) of ``content``."""
    compressed = cms.CompressedData(
        {
            "version": "v0",
            "compression_algorithm": {"algorithm": "zlib"},
            "encap_content_info": {"content_type": "data", "content": zlib.compress(content)},
        }
    )
    return bytes(cms.ContentInfo({"content_type": "compressed_data", "content": compressed}).dump())


def decompress(der: bytes, max_size: int = DEFAULT_MAX_DECOMPRESSED) -> bytes:
    """Inflate a compressed-data, refusing (without inflating it) output beyond ``max_size``."""
    with _malformed(DECOMPRESSION_FAILED, "compressed-data"):
        compressed = _load_content_info(der, "compressed_data", DECOMPRESSION_FAILED)
        algo = compressed["compression_algorithm"]["algorithm"].native
        if algo != "zlib":
            raise ProcessingError(DECOMPRESSION_FAILED, f"unsupported compression {algo}")
        data = compressed["encap_content_info"]["content"].native
    if not data or not isinstance(data, bytes):  # never bytes(n): n zero bytes
        raise ProcessingError(DECOMPRESSION_FAILED, "compressed-data carries no content")
    return inflate(data, max_size)


def inflate(data: bytes, max_size: int) -> bytes:
    """zlib (or raw deflate, which some senders emit) with an output cap, chunk by chunk."""
    for wbits in (zlib.MAX_WBITS, -zlib.MAX_WBITS):
        inflater = zlib.decompressobj(wbits)
        out: list[bytes] = []
        total = 0
        pending = data
        try:
            while not inflater.eof:
                chunk = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                total += len(chunk)
                if total > max_size:
                    raise ProcessingError(
                        DECOMPRESSION_FAILED,
                        f"content inflates beyond the limit of {max_size} bytes",
                    )
                out.append(chunk)
                if not chunk and not pending:
                    break  # input exhausted without the end of the stream
        except zlib.error as exc:
            if wbits == zlib.MAX_WBITS and total == 0:
                continue
            raise ProcessingError(DECOMPRESSION_FAILED, f"corrupt zlib data: {exc}") from exc
        if not inflater.eof:
            raise ProcessingError(DECOMPRESSION_FAILED, "the compressed data is truncated")
        return b"".join(out)
    raise ProcessingError(DECOMPRESSION_FAILED, "not zlib data")
