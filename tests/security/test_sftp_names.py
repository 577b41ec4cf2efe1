"""SFTP file names a partner should not be able to use: NUL and control characters, names
longer than a file system takes, Unicode look-alikes of ``..`` and ``/``.

Traversal, absolute paths and symlinks are tested in ``tests/channels/test_sftp_confinement.py``;
this adds the names that try to get around a lexical check. Each refused upload leaves
nothing stored and nothing on disk, and the server keeps serving the partner.
"""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest

from edigate.channels.sftp_server import SftpServer
from edigate.store import Store


def tree(server: SftpServer) -> list[str]:
    """Every path under the SFTP root, relative (upload temp files are hidden dot-names)."""
    root = server.root
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.name.startswith("."))


def upload_refused(sftp: paramiko.SFTPClient, path: str | bytes) -> None:
    with pytest.raises(OSError), sftp.open(path, "wb") as f:  # type: ignore[arg-type]
        f.write(b"ISA")


@pytest.mark.parametrize(
    "name",
    [
        "po\x00.edi",
        "x\x00/../../../etc/passwd",
        "\x00",
        "po\n.edi",
        "po\r.edi",
        "po\x1b[2J.edi",
        "po\x7f",
    ],
    ids=["nul", "nul-then-dotdot", "only-nul", "lf", "cr", "ansi-escape", "del"],
)
def test_control_characters_in_names_are_refused(
    acme: paramiko.SFTPClient, server: SftpServer, store: Store, name: str
) -> None:
    upload_refused(acme, "/in/" + name)
    assert store.count_by_status() == {}
    assert tree(server) == ["acme", "acme/in", "acme/out"]
    assert acme.listdir("/") == ["in", "out"]  # still served


def test_names_longer_than_255_bytes_are_refused_and_255_is_fine(
    acme: paramiko.SFTPClient, server: SftpServer, store: Store
) -> None:
    upload_refused(acme, "/in/" + "a" * 256)
    upload_refused(acme, "/in/" + "é" * 128)  # 256 bytes in UTF-8
    upload_refused(acme, "/in/" + "x" * 100_000)
    upload_refused(acme, "/in/" + "a/" * 5_000 + "x")
    assert store.count_by_status() == {}
    with acme.open("/in/" + "a" * 255, "wb") as f:
        f.write(b"ISA")
    assert store.count_by_status() == {"received": 1}


LOOK_ALIKES = [
    "\uff0e\uff0e",  # FULLWIDTH FULL STOP x2
    "\u2025",  # TWO DOT LEADER
    "\u2024\u2024",  # ONE DOT LEADER x2
    "\u00b7\u00b7",  # MIDDLE DOT x2
    "%2e%2e",  # URL-encoded
    "..\u200b",  # dots and a zero-width space
]


@pytest.mark.parametrize("dots", LOOK_ALIKES, ids=lambda d: d.encode("unicode_escape").decode())
@pytest.mark.parametrize(
    "slash", ["/", "\u2215", "\uff0f", "\\"], ids=["slash", "division", "fullwidth", "backslash"]
)
def test_unicode_look_alikes_of_dotdot_never_leave_the_folder(
    acme: paramiko.SFTPClient,
    server: SftpServer,
    store: Store,
    tmp_path: Path,
    dots: str,
    slash: str,
) -> None:
    escape = slash.join([dots, dots, "escaped.edi"])
    for path in ("/in/" + escape, "/" + escape, "/in/" + dots + "/" + dots + "/x"):
        try:
            with acme.open(path, "wb") as f:
                f.write(b"ISA")
        except OSError:
            continue
        # Accepted only as one plain name directly in /in: stored, never as a path.
        assert path.count("/") == 2 and path.startswith("/in/"), path
    outside = [p for p in tmp_path.rglob("escaped.edi")] + [p for p in tmp_path.rglob("x")]
    assert outside == []
    assert tree(server) == ["acme", "acme/in", "acme/out"]
    for doc_name in _stored_names(store):
        assert "/" not in doc_name and doc_name not in (".", "..")


def _stored_names(store: Store) -> list[str]:
    from sqlalchemy import select

    from edigate.store import Document

    with store.session() as session:
        return [d.filename or "" for d in session.scalars(select(Document))]


def test_invalid_utf8_names_are_refused_or_kept_byte_exact(
    acme: paramiko.SFTPClient, server: SftpServer, store: Store
) -> None:
    """A name that is not UTF-8 is sent as raw bytes by some clients."""
    try:
        with acme.open(b"/in/po-\xff\xfe.edi", "wb") as f:  # type: ignore[call-overload]
            f.write(b"ISA")
    except (OSError, UnicodeError):
        assert store.count_by_status() == {}
    else:
        (name,) = _stored_names(store)
        assert name.startswith("po-") and "/" not in name
    assert tree(server) == ["acme", "acme/in", "acme/out"]
    assert acme.listdir("/") == ["in", "out"]
