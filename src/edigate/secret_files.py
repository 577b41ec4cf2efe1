"""Private key files must be private: refuse to load one that group or others can read.

sshd refuses a host key readable by others, and so do we, for every secret file we load:
the SFTP host key, the ``sftp_push`` client key, AS2 private keys and PKCS#12 files. A key
that others can read may already be copied; loading it silently would hide that.

    check_private_file(Path("config/as2/EDIGATE.key"), "AS2 private key")

``check_readable_file`` is the startup half: the file is there and this process can read it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError

#: Permission bits that let someone other than the owner read, write or run the file.
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


def check_private_file(path: Path, what: str) -> None:
    """Raise ConfigError naming ``path`` and the fix when group or others have any access.

    A missing file is left to the loader, which says so in its own words.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return
    if mode & _OTHERS:
        raise ConfigError(
            f"{what} is accessible by group or others (mode {stat.S_IMODE(mode):04o}); "
            f"run 'chmod 600 {path}'",
            path=str(path),
        )


def check_readable_file(path: Path, what: str) -> None:
    """Raise ConfigError naming ``what`` and ``path`` unless it is a file this process can
    read: ``serve`` checks the keys it will need at startup, so a missing or unreadable one
    stops it at once instead of failing the first delivery or handshake."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ConfigError(f"{what} does not exist", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"{what} cannot be read: {exc.strerror}", path=str(path)) from exc
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{what} is not a file", path=str(path))
    try:
        with open(path, "rb") as stream:
            stream.read(1)
    except OSError as exc:
        raise ConfigError(
            f"{what} cannot be read by this process (uid {os.getuid()}): {exc.strerror}",
            path=str(path),
        ) from exc


def write_private_file(path: Path, data: bytes) -> None:
    """Create (or replace) ``path`` with mode 0600 from the first byte on."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
        with os.fdopen(fd, "wb") as out:
            fd = -1
            out.write(data)
    finally:
        if fd >= 0:
            os.close(fd)
