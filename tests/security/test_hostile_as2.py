"""Hostile AS2: compression bombs that hide in nested or raw-deflate layers, layer floods.

Already proven in ``tests/channels/as2/test_negative.py``: a 256 MB bomb is refused in
bounded memory (``test_decompression_bomb_is_refused_with_bounded_memory``), over HTTP it
gets a negative MDN (``test_decompression_bomb_over_http_gets_negative_mdn``), and an
AS2-From naming another partner is refused (``test_negative.py::``
``test_as2_from_spoofing_another_partner_is_refused``, ``test_unknown_sender_is_refused_with_403``,
``test_unknown_as2_to_is_refused_with_403_and_nothing_stored``).
"""

from __future__ import annotations

import time
import tracemalloc
import zlib

import pytest
from asn1crypto import cms  # type: ignore[import-untyped]

from edigate.channels.as2.errors import DECOMPRESSION_FAILED, UNEXPECTED_ERROR, ProcessingError
from edigate.channels.as2.message import unpack
from edigate.channels.as2.mime import build_entity

from . import targets

LIMIT = 1024 * 1024
COMPRESSED = "application/pkcs7-mime; smime-type=compressed-data"


def compressed_data(pieces: list[bytes], *, repeat: int = 1, wbits: int = zlib.MAX_WBITS) -> bytes:
    """A CMS compressed-data of ``pieces`` (the last one ``repeat`` times), streamed."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, wbits)
    out = [deflater.compress(p) for p in pieces[:-1]]
    out += [deflater.compress(pieces[-1]) for _ in range(repeat)]
    out.append(deflater.flush())
    info = cms.ContentInfo(
        {
            "content_type": "compressed_data",
            "content": cms.CompressedData(
                {
                    "version": "v0",
                    "compression_algorithm": {"algorithm": "zlib"},
                    "encap_content_info": {"content_type": "data", "content": b"".join(out)},
                }
            ),
        }
    )
    return bytes(info.dump())


def entity_header(content_type: str) -> bytes:
    return f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n\r\n".encode()


def unpack_bounded(der: bytes) -> tuple[ProcessingError, int, float]:
    entity = build_entity([("Content-Type", COMPRESSED)], der)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ProcessingError) as caught:
            unpack(entity, targets.as2_fixture().partner, max_decompressed=LIMIT)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return caught.value, peak, time.perf_counter() - start


def test_a_bomb_inside_a_harmless_looking_compressed_layer_is_refused() -> None:
    """The outer layer inflates to 300 kB (under the limit): the 300 MB is one layer down."""
    inner = compressed_data([entity_header("application/edi-x12"), bytes(1 << 20)], repeat=300)
    outer = compressed_data([entity_header(COMPRESSED), inner])
    assert len(outer) < 10_000 < len(inner) < LIMIT
    error, peak, elapsed = unpack_bounded(outer)
    assert error.modifier == DECOMPRESSION_FAILED
    assert f"beyond the limit of {LIMIT} bytes" in error.reason
    assert peak < 8 * LIMIT, peak
    assert elapsed < 10, elapsed


def test_a_raw_deflate_bomb_is_bounded_too() -> None:
    der = compressed_data(
        [entity_header("application/edi-x12"), bytes(1 << 20)], repeat=256, wbits=-zlib.MAX_WBITS
    )
    error, peak, _ = unpack_bounded(der)
    assert error.modifier == DECOMPRESSION_FAILED and "beyond the limit" in error.reason
    assert peak < 8 * LIMIT, peak


def test_layers_nested_past_the_limit_are_refused() -> None:
    der = compressed_data([entity_header("application/edi-x12"), b"ISA"])
    for _ in range(9):
        der = compressed_data([entity_header(COMPRESSED), der])
    error, peak, _ = unpack_bounded(der)
    assert error.modifier == UNEXPECTED_ERROR and "more than 8 nested S/MIME layers" in error.reason
    assert peak < 8 * LIMIT


@pytest.mark.parametrize(
    ("sample", "modifier"),
    [
        ("malformed-compressed-data.bin", DECOMPRESSION_FAILED),
        ("malformed-enveloped-data.bin", "decryption-failed"),
        ("malformed-signature.bin", "authentication-failed"),
    ],
)
def test_cms_that_lies_about_its_inner_lengths_gets_the_right_modifier(
    sample: str, modifier: str
) -> None:
    """asn1crypto parses lazily: these loaded, then raised ValueError on first use (kept
    fuzz finds, fixed in ``crypto._malformed``)."""
    result = targets.as2_message((targets.REGRESSIONS / "as2" / sample).read_bytes())
    assert isinstance(result, ProcessingError)
    assert result.modifier == modifier and result.reason.startswith("malformed ")
