"""Chunked request bodies over a raw socket: only a complete, well-formed body is dispatched.

A body cut off by a dropped client must not be stored and acknowledged, or the partner's
full resend is refused as a duplicate Message-ID; a size that is not plain hex (``-1``)
must not read past max_body.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterator

import pytest

from edigate.channels.as2 import As2Server, StaticPartners
from edigate.channels.as2.mdn import parse_mdn
from edigate.channels.base import Outbound

from ...waiting import wait_until
from .conftest import Loop, http_post, pair, response_entity

ORDER = b"ISA*00*partial-order-" + b"REST-OF-THE-ORDER~" * 5


def _head(message_id: str) -> bytes:
    """Request line and headers of an unsigned message from Alice, framed as chunked."""
    return (
        b"POST /as2 HTTP/1.1\r\nHost: bob\r\nAS2-Version: 1.2\r\nAS2-From: ALICE\r\n"
        b"AS2-To: BOB\r\nContent-Type: application/edi-x12\r\n"
        b"Disposition-Notification-To: ALICE\r\n"
        b"Message-ID: <" + message_id.encode() + b">\r\nTransfer-Encoding: chunked\r\n\r\n"
    )


def _raw(server: As2Server, request: bytes) -> tuple[int, bytes]:
    """Send ``request``, close our side as a dropped client would, read the whole answer."""
    with socket.create_connection(server.address, timeout=10) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture
def unsigned_loop(loop: Loop) -> Loop:
    """Bob takes unsigned messages from Alice: a cut-off body would be stored as valid."""
    loop.bob_sees_alice(require_signed=False)
    return loop


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="no-body"),
        pytest.param(b"c8", id="mid-size-line"),
        pytest.param(b"c8\r\n" + ORDER[:21], id="mid-chunk"),
        pytest.param(b"6f\r\n" + ORDER, id="no-crlf-after-chunk"),
        pytest.param(b"6f\r\n" + ORDER + b"\r\n", id="no-final-chunk"),
        pytest.param(b"6f\r\n" + ORDER + b"\r\n0\r\n", id="no-end-of-trailers"),
        pytest.param(b"6f\r\n" + ORDER + b"\r\n0\r\nX-T: 1\r\n", id="mid-trailers"),
    ],
)
def test_chunked_body_cut_off_is_400_and_the_full_resend_is_stored(
    unsigned_loop: Loop, body: bytes
) -> None:
    loop = unsigned_loop
    status, answer = _raw(loop.bob_server, _head("cut@alice") + body)

    assert status == 400
    assert answer.startswith(b"unreadable body: chunked body cut off")
    assert loop.bob_recorder.inbound == []
    # The partner's full resend under the same Message-ID is new to us, not a duplicate.
    headers = [
        ("AS2-From", "ALICE"),
        ("AS2-To", "BOB"),
        ("Message-ID", "<cut@alice>"),
        ("Content-Type", "application/edi-x12"),
        ("Disposition-Notification-To", "ALICE"),
    ]
    status, mdn_headers, mdn_body = http_post(loop.bob_server.url, headers, ORDER)
    assert status == 200
    mdn = parse_mdn(response_entity(mdn_headers, mdn_body))
    assert mdn.positive and b"already been received" not in mdn_body
    assert [i.data for i in loop.bob_recorder.stored] == [ORDER]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(b"-1\r\n" + b"X" * 5000, b"bad chunk size b'-1'", id="negative"),
        pytest.param(b"+5\r\nhello\r\n0\r\n\r\n", b"bad chunk size b'+5'", id="plus"),
        pytest.param(b"5_0\r\n" + b"x" * 80 + b"\r\n0\r\n\r\n", b"bad chunk size", id="underscore"),
        pytest.param(b" 5\r\nhello\r\n0\r\n\r\n", b"bad chunk size b' 5'", id="leading-space"),
        pytest.param(b"0x5\r\nhello\r\n0\r\n\r\n", b"bad chunk size b'0x5'", id="0x-prefix"),
        pytest.param(b"\r\nhello\r\n0\r\n\r\n", b"bad chunk size b''", id="empty-size"),
        pytest.param(b"0" * 17 + b"5\r\nhello\r\n0\r\n\r\n", b"bad chunk size", id="17-digits"),
        pytest.param(b"3\r\nhello\r\n0\r\n\r\n", b"not followed by CRLF", id="size-lies"),
    ],
)
def test_malformed_chunk_framing_is_400_and_nothing_is_stored(
    unsigned_loop: Loop, body: bytes, reason: bytes
) -> None:
    loop = unsigned_loop
    status, answer = _raw(loop.bob_server, _head("bad@alice") + body)
    assert status == 400
    assert answer.startswith(b"unreadable body: ") and reason in answer
    assert loop.bob_recorder.inbound == []


@pytest.fixture
def small_server(loop: Loop) -> Iterator[As2Server]:
    """An endpoint with max_body 1000 that takes Alice's unsigned messages."""
    partners = StaticPartners([pair(loop.idents.bob, loop.idents.alice, require_signed=False)])
    with As2Server(partners, loop.bob_recorder, max_body=1000, poll_interval=0.02) as server:
        yield server


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"-1\r\n" + b"X" * 5000, id="negative-size-reads-to-eof"),
        pytest.param(b"3e8\r\n" + b"X" * 1000 + b"\r\n-3e8\r\n" + b"X" * 1000, id="negative-total"),
    ],
)
def test_a_negative_chunk_size_cannot_slip_past_max_body(
    loop: Loop, small_server: As2Server, body: bytes
) -> None:
    status, answer = _raw(small_server, _head("big@alice") + body)
    assert status == 400 and b"bad chunk size b'-" in answer
    assert loop.bob_recorder.inbound == []


def test_chunks_over_max_body_in_total_are_413(loop: Loop, small_server: As2Server) -> None:
    body = (b"258\r\n" + b"X" * 600 + b"\r\n") * 2 + b"0\r\n\r\n"
    status, answer = _raw(small_server, _head("big@alice") + body)
    assert status == 413 and answer == b"body exceeds 1000 bytes\n"
    assert loop.bob_recorder.inbound == []


def test_well_formed_chunks_with_extensions_and_trailers_are_stored(unsigned_loop: Loop) -> None:
    loop = unsigned_loop
    body = (
        b"5;name=value\r\nISA*0\r\n"
        b"A ; ext\r\n0*partial-\r\n"
        b"000000000000005\r\norder\r\n"
        b"0\r\nX-Checksum: abc\r\n\r\n"
    )
    status, answer = _raw(loop.bob_server, _head("ok@alice") + body)
    assert status == 200 and b"MDN-sent-automatically; processed\r\n" in answer
    assert [i.data for i in loop.bob_recorder.stored] == [b"ISA*00*partial-order"]


def test_a_signed_message_sent_chunked_arrives_whole(loop: Loop) -> None:
    """A real signed, encrypted message in several chunks: the framing fix keeps it intact."""
    message = loop.alice_channel().build(Outbound(1, "bob", "po.edi", ORDER))
    head = b"POST /as2 HTTP/1.1\r\nHost: bob\r\nTransfer-Encoding: chunked\r\n"
    for name, value in message.headers:
        head += f"{name}: {value}\r\n".encode()
    body = message.body
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(body[i : i + 700]), body[i : i + 700])
        for i in range(0, len(body), 700)
    )
    status, _ = _raw(loop.bob_server, head + b"\r\n" + chunks + b"0\r\n\r\n")
    assert status == 200
    assert [i.data for i in loop.bob_recorder.stored] == [ORDER]


def test_connections_beyond_the_limit_are_closed_and_the_slot_comes_back(loop: Loop) -> None:
    """Each connection gets a thread that may hold a body of up to max_body: past the
    limit a connection is closed at once (the sender retries), not given a thread."""
    partners = StaticPartners([pair(loop.idents.bob, loop.idents.alice, require_signed=False)])
    with As2Server(partners, loop.bob_recorder, max_connections=1, poll_interval=0.02) as server:
        with socket.create_connection(server.address, timeout=10) as slow:
            slow.sendall(_head("slow@alice"))  # holds the one slot, sending its body slowly
            with socket.create_connection(server.address, timeout=10) as extra:
                extra.sendall(b"GET /as2 HTTP/1.1\r\nHost: bob\r\n\r\n")
                assert extra.recv(1024) == b""  # closed, unanswered
            slow.sendall(b"6f\r\n" + ORDER + b"\r\n0\r\n\r\n")
            slow.shutdown(socket.SHUT_WR)
            answer = b""
            while data := slow.recv(65536):
                answer += data
        assert answer.startswith(b"HTTP/1.") and b" 200 " in answer.split(b"\r\n")[0]
        # The slot is given back just after the answer's connection is closed: soon.
        assert wait_until(lambda: _answered(server, b"next@alice"), 5), "the slot never came back"
    assert [i.data for i in loop.bob_recorder.inbound] == [ORDER, ORDER]


def _answered(server: As2Server, message_id: bytes) -> bool:
    """Whether a whole message on a new connection was answered 200 (not closed unread).
    A connection the server closed at once (its slot not back yet) may fail our send or
    shutdown with ENOTCONN / ECONNRESET: that is "not answered" too."""
    answer = b""
    try:
        with socket.create_connection(server.address, timeout=10) as sock:
            sock.sendall(_head(message_id.decode()) + b"6f\r\n" + ORDER + b"\r\n0\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            while data := sock.recv(65536):
                answer += data
    except OSError as exc:  # ConnectionResetError and the like are OSErrors
        if exc.errno not in (errno.ENOTCONN, errno.ECONNRESET, errno.EPIPE):
            raise
        return False
    return b" 200 " in answer.split(b"\r\n")[0]
