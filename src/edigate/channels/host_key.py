"""The SFTP server's host key: made once, kept private, reused for the server's whole life.

Partners pin this key (OpenSSH ``known_hosts``). If it changed on every start, their clients
would refuse the connection, or their operators would learn to click past warnings.

Usage::

    key = load_or_create_host_key(Path("var/sftp_host_ed25519"))
    print(key_fingerprint(key))      # SHA256:... as ``ssh-keygen -lf`` prints it
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
from pathlib import Path

import paramiko
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..errors import ConfigError
from ..fsutil import fsync_dir
from ..secret_files import check_private_file


def load_or_create_host_key(path: Path) -> paramiko.PKey:
    """Load the private host key at ``path``; on first start, generate an ed25519 key there.

    The file is created with mode 0600 (atomically: it appears complete or not at all). An
    existing key readable by group or others is refused, as sshd refuses it.
    """
    path = Path(path)
    if not path.exists():
        _create_ed25519(path)
    check_private_file(path, "SFTP host key")
    try:
        return paramiko.PKey.from_path(path)
    except (paramiko.SSHException, OSError, ValueError) as exc:
        raise ConfigError(f"cannot load the SFTP host key: {exc}", path=str(path)) from exc


def key_fingerprint(key: paramiko.PKey) -> str:
    """``SHA256:<base64>`` of the public key, the form ``ssh-keygen -lf`` prints."""
    return blob_fingerprint(key.asbytes())


def blob_fingerprint(blob: bytes) -> str:
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def public_key_line(key: paramiko.PKey, comment: str = "") -> str:
    """The OpenSSH public key line (for partners' ``known_hosts`` and for ``sftp_push``)."""
    line = f"{key.get_name()} {key.get_base64()}"
    return f"{line} {comment}" if comment else line


def _create_ed25519(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        # link, not replace: if two processes race on first start, the first key wins.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)
