"""A partner's plain SFTP server for the push tests: a folder served as it is, with the
semantics of OpenSSH's sftp-server where ours differ (a file stays readable once written;
a plain rename never replaces an existing file). paramiko over loopback, any client key."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any

import paramiko
from paramiko import SFTPAttributes, SFTPHandle, SFTPServer, SFTPServerInterface


class _Folder(SFTPServerInterface):
    root: Path

    def __init__(self, server: Any, *args: Any, root: Path, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _path(self, path: str) -> Path:
        return self.root / self.canonicalize(path).lstrip("/")

    def _errno(self, action: Any) -> Any:
        try:
            return action()
        except OSError as exc:
            return SFTPServer.convert_errno(exc.errno or 0)

    def open(self, path: str, flags: int, attr: SFTPAttributes) -> Any:
        def run() -> SFTPHandle:
            mode = "wb" if flags & (os.O_WRONLY | os.O_RDWR) else "rb"
            handle = SFTPHandle(flags)
            f = self._path(path).open(mode)
            handle.readfile = handle.writefile = f  # type: ignore[attr-defined]
            return handle

        return self._errno(run)

    def stat(self, path: str) -> Any:
        return self._errno(lambda: SFTPAttributes.from_stat(os.stat(self._path(path))))

    lstat = stat

    def list_folder(self, path: str) -> Any:
        folder = self._path(path)
        return self._errno(
            lambda: [SFTPAttributes.from_stat(p.stat(), p.name) for p in folder.iterdir()]
        )

    def remove(self, path: str) -> Any:
        return self._errno(lambda: self._path(path).unlink() or paramiko.SFTP_OK)

    def rename(self, oldpath: str, newpath: str) -> Any:
        def run() -> int:
            os.link(self._path(oldpath), self._path(newpath))  # EEXIST when it is there
            self._path(oldpath).unlink()
            return paramiko.SFTP_OK

        return self._errno(run)


class _AnyKey(paramiko.ServerInterface):
    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        return paramiko.AUTH_SUCCESSFUL

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED


class PlainSftpServer:
    """``root`` served over SFTP on 127.0.0.1; ``port`` and ``host_key`` once started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host_key = paramiko.Ed25519Key.from_private_key_file(str(_host_key(root)))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.transports: list[paramiko.Transport] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            transport = paramiko.Transport(sock)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", SFTPServer, _Folder, root=self.root)
            transport.start_server(server=_AnyKey())
            self.transports.append(transport)

    def close(self) -> None:
        self.listener.close()
        for transport in self.transports:
            transport.close()


def _host_key(root: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = root.parent / "plain_host_key"
    path.write_bytes(
        Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    return path
