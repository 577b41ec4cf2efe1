"""A partner cannot leave its folder: traversal, absolute paths and symlinks are refused."""

from __future__ import annotations

import os
from pathlib import Path

import paramiko
import pytest

from edigate.channels.sftp_server import SftpServer
from edigate.store import Store


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_bytes(b"not for partners")
    return path


@pytest.mark.parametrize(
    "path",
    ["../x", "/../../x", "in/../../x", "/in/../../x", "/etc/passwd", "/in/sub/x", "/x", "/"],
)
def test_uploads_outside_in_are_refused(
    acme: paramiko.SFTPClient, path: str, tmp_path: Path, store: Store
) -> None:
    with pytest.raises(PermissionError), acme.open(path, "wb") as f:
        f.write(b"escape")
    assert not (tmp_path / "x").exists() and not (tmp_path / "sftp" / "x").exists()
    assert store.count_by_status() == {}


@pytest.mark.parametrize(
    "path", ["../secret.txt", "/../../secret.txt", "/etc/passwd", "/out/../../secret.txt"]
)
def test_reads_outside_the_root_are_refused(acme: paramiko.SFTPClient, path: str) -> None:
    with pytest.raises(PermissionError):
        acme.open(path, "rb").read()
    with pytest.raises(PermissionError):
        acme.stat(path)


@pytest.mark.parametrize("path", ["/..", "..", "/in/../..", "/etc", "/in/x/"])
def test_listing_outside_the_tree_is_refused(acme: paramiko.SFTPClient, path: str) -> None:
    with pytest.raises(OSError):
        acme.listdir(path)


def test_dotdot_inside_the_root_resolves_and_above_it_fails(acme: paramiko.SFTPClient) -> None:
    assert acme.normalize("/in/../out") == "/out"
    assert acme.normalize(".") == "/"
    with pytest.raises(OSError):
        acme.normalize("/..")
    acme.chdir("/out")
    assert acme.listdir() == []


def test_symlink_mkdir_and_cross_folder_rename_are_refused(
    acme: paramiko.SFTPClient, server: SftpServer
) -> None:
    with pytest.raises(PermissionError):
        acme.symlink("/etc/passwd", "/in/passwd")
    with pytest.raises(PermissionError):
        acme.mkdir("/in/sub")
    with pytest.raises(PermissionError):
        acme.rmdir("/out")
    with pytest.raises(OSError):
        acme.readlink("/out")
    with acme.open("/in/po.edi", "wb") as f:
        f.write(b"ISA")
    with pytest.raises(PermissionError):
        acme.rename("/in/po.edi", "/out/po.edi")
    assert not any((server.root / "acme").rglob("passwd"))
    assert not (server.root / "acme" / "out" / "po.edi").exists()


def test_a_symlink_planted_in_out_is_not_served(
    acme: paramiko.SFTPClient, server: SftpServer, secret: Path
) -> None:
    out = server.root / "acme" / "out"
    (out / "leak.txt").symlink_to(secret)
    (out / "ok.txt").write_bytes(b"fine")
    assert acme.listdir("/out") == ["ok.txt"]
    with pytest.raises(PermissionError):
        acme.open("/out/leak.txt", "rb").read()
    with pytest.raises(PermissionError):
        acme.stat("/out/leak.txt")
    with pytest.raises(PermissionError):
        acme.remove("/out/leak.txt")
    assert (out / "leak.txt").is_symlink() and secret.read_bytes() == b"not for partners"
    assert acme.open("/out/ok.txt", "rb").read() == b"fine"


def test_an_out_folder_replaced_by_a_symlink_is_refused(
    acme: paramiko.SFTPClient, server: SftpServer, secret: Path
) -> None:
    out = server.root / "acme" / "out"
    out.rmdir()
    os.symlink(secret.parent, out)
    with pytest.raises(PermissionError):
        acme.listdir("/out")
    with pytest.raises(PermissionError):
        acme.open("/out/secret.txt", "rb").read()
    with pytest.raises(PermissionError):
        acme.remove("/out/secret.txt")
    assert secret.exists()


def test_partners_do_not_see_each_other(acme: paramiko.SFTPClient, server: SftpServer) -> None:
    other = server.root / "initech" / "out"
    other.mkdir(parents=True)
    (other / "855.edi").write_bytes(b"for initech")
    assert acme.listdir("/out") == []
    for path in ("/../initech/out/855.edi", "/out/../../initech/out/855.edi"):
        with pytest.raises(PermissionError):
            acme.open(path, "rb").read()
