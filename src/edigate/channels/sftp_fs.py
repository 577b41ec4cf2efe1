"""The file system a partner sees over SFTP: ``/``, ``/in`` and ``/out``, and nothing else.

Each partner is confined to ``<sftp_root>/<partner_id>/``. Client paths are resolved
lexically (``..`` is allowed only while it stays inside ``/``); the tree is flat (no
subfolders), so anything that is not ``/``, ``/in``, ``/out`` or a plain file name directly
in one of them is refused. On disk, symbolic links are never followed: files are opened with
``O_NOFOLLOW`` and a link found where a file or folder should be is refused. Nothing the
client says can name a path outside the partner's folder.

On disk: ``in/`` holds uploads in progress as hidden temp files (never shown, never served);
``out/`` holds documents waiting for pickup (written complete under a dot-name, then renamed).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ..errors import EdigateError
from ..fsutil import is_hidden_or_partial

UPLOAD_PREFIX = ".upload-"
MAX_NAME_BYTES = 255
_PARTNER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

Folder = Literal["in", "out"]


class PathRefused(EdigateError):
    """The path is outside what the partner may touch (SFTP permission denied)."""


class PathMissing(EdigateError):
    """The path is allowed but nothing is there (SFTP no such file)."""


@dataclass(frozen=True, slots=True)
class VirtualPath:
    """A resolved client path: the root, a folder, or a file directly in a folder."""

    folder: Folder | None = None
    name: str | None = None

    @property
    def text(self) -> str:
        if self.folder is None:
            return "/"
        return f"/{self.folder}" if self.name is None else f"/{self.folder}/{self.name}"


ROOT = VirtualPath()


def check_partner_id(partner_id: str) -> str:
    """A partner id is used as a folder name, so it must be one plain path component."""
    if not _PARTNER_ID.fullmatch(partner_id):
        raise ValueError(
            f"partner id {partner_id!r} cannot name a folder: use letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    return partner_id


def check_name(name: str) -> str:
    """A file name a partner may use: one component, no control characters, not too long."""
    if (
        name in ("", ".", "..")
        or "/" in name
        or "\\" in name
        or any(ord(c) < 32 or ord(c) == 127 for c in name)
        or len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES
    ):
        raise PathRefused(f"file name not allowed: {name!r}")
    return name


def normalize(path: str) -> str:
    """The absolute form of a client path, resolving ``.`` and ``..``; refuses escaping ``/``."""
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise PathRefused(f"path leaves the root: {path!r}")
            parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def resolve(path: str) -> VirtualPath:
    """Map a client path onto the partner's tree, or raise :class:`PathRefused`."""
    parts = [p for p in normalize(path).split("/") if p]
    if not parts:
        return ROOT
    folder = parts[0]
    if folder not in ("in", "out") or len(parts) > 2:
        raise PathRefused(f"no such place: {path!r} (only /in and /out exist)")
    name = check_name(parts[1]) if len(parts) == 2 else None
    return VirtualPath(folder, name)  # type: ignore[arg-type]  # folder checked just above


class PartnerTree:
    """One partner's folders on disk, with every access confined to them."""

    def __init__(self, sftp_root: Path, partner_id: str) -> None:
        self.root = Path(sftp_root) / check_partner_id(partner_id)
        self.in_dir = self.root / "in"
        self.out_dir = self.root / "out"

    def ensure(self) -> None:
        for folder in (self.in_dir, self.out_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self._check_folder(self.in_dir)
        self._check_folder(self.out_dir)

    # ------------------------------------------------------------------ uploads (in/)
    def new_upload(self) -> tuple[int, Path]:
        """A fresh hidden temp file in ``in/`` for an upload in progress."""
        self._check_folder(self.in_dir)
        fd, name = tempfile.mkstemp(dir=self.in_dir, prefix=UPLOAD_PREFIX)
        return fd, Path(name)

    def stale_uploads(self) -> list[Path]:
        """Temp files left by a crash: never received, to be discarded at start."""
        if not self.in_dir.is_dir():
            return []
        return sorted(p for p in self.in_dir.iterdir() if p.name.startswith(UPLOAD_PREFIX))

    # ------------------------------------------------------------------ pickup (out/)
    def list_pickup(self) -> list[tuple[str, os.stat_result]]:
        """Files in ``out/`` a partner may see: regular, complete (no temp names), no links."""
        self._check_folder(self.out_dir)
        found = []
        with os.scandir(self.out_dir) as entries:
            for entry in entries:
                if is_hidden_or_partial(Path(entry.name)):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    found.append((entry.name, st))
        return sorted(found)

    def stat_pickup(self, name: str) -> os.stat_result:
        return self._lstat_file(self._pickup_path(name))

    def open_pickup(self, name: str) -> int:
        """A read-only descriptor on a pickup file; links and non-regular files refused."""
        path = self._pickup_path(name)
        self._lstat_file(path)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
        except FileNotFoundError:
            raise PathMissing(f"no such file: /out/{name}") from None
        except OSError as exc:  # ELOOP: a link appeared between the check and the open
            raise PathRefused(f"cannot open /out/{name}: {exc.strerror}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise PathRefused(f"not a regular file: /out/{name}")
        return fd

    def remove_pickup(self, name: str) -> None:
        path = self._pickup_path(name)
        self._lstat_file(path)
        try:
            path.unlink()
        except FileNotFoundError:
            raise PathMissing(f"no such file: /out/{name}") from None

    # ------------------------------------------------------------------ checks
    def _pickup_path(self, name: str) -> Path:
        check_name(name)
        if is_hidden_or_partial(Path(name)):
            raise PathMissing(f"no such file: /out/{name}")  # not complete yet: not visible
        self._check_folder(self.out_dir)
        return self.out_dir / name

    def _lstat_file(self, path: Path) -> os.stat_result:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            raise PathMissing(f"no such file: /{path.parent.name}/{path.name}") from None
        if not stat.S_ISREG(st.st_mode):  # a link, a folder, a device: never served
            raise PathRefused(f"not a regular file: /{path.parent.name}/{path.name}")
        return st

    def _check_folder(self, folder: Path) -> None:
        """``in``/``out`` must be real folders inside the partner's folder, not links."""
        try:
            st = os.lstat(folder)
        except FileNotFoundError:
            raise PathMissing(f"folder missing: /{folder.name}") from None
        if not stat.S_ISDIR(st.st_mode):
            raise PathRefused(f"/{folder.name} is not a plain folder on the server")
        if Path(os.path.realpath(folder)) != Path(os.path.realpath(self.root)) / folder.name:
            raise PathRefused(f"/{folder.name} resolves outside the partner's folder")
