"""What the fault tests share: a gateway folder, ``edigate serve`` as a real process that can
be killed with SIGKILL, a partner's SFTP client and server, and the checks after a restart."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko
import yaml
from sqlalchemy import select

from edigate.channels.base import store_handler
from edigate.channels.host_key import load_or_create_host_key, public_key_line
from edigate.channels.sftp_auth import Account, StaticAccounts
from edigate.channels.sftp_server import SftpServer
from edigate.demo import prepare, project_root
from edigate.store import Document, Store

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def purchase_orders(file_no: int, count: int) -> bytes:
    """One interchange (ISA13 = ``file_no``) of ``count`` retailer POs, each its own number."""
    text = RETAILER.read_text()
    head, rest = text[: text.index("ST*850")], text[text.index("ST*850") :]
    body = rest[: rest.index("GE*")]
    txs = [
        body.replace("ST*850*0001", f"ST*850*{i:04d}")
        .replace("SE*32*0001", f"SE*32*{i:04d}")
        .replace("4500012345", po_number(file_no, i))
        for i in range(1, count + 1)
    ]
    control = f"{file_no:09d}"
    head = head.replace("000004211", control)
    return (head + "".join(txs) + f"GE*{count}*4211~\nIEA*1*{control}~\n").encode()


def po_number(file_no: int, index: int) -> str:
    return f"7{file_no:04d}{index:05d}"


@dataclass
class Site:
    """A gateway folder made like the demo's (example partners, keys, AS2), for serve."""

    root: Path
    toml: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def orders(self) -> Path:
        return self.data / "erp/outbox/orders"

    @property
    def acme_key(self) -> Path:
        return self.root / "partner-keys/acme-retail.key"

    def profile(self, partner: str) -> Path:
        return self.root / f"config/partners/{partner}.yaml"

    def edit_profile(self, partner: str, change: Callable[[dict[str, Any]], None]) -> None:
        path = self.profile(partner)
        profile = yaml.safe_load(path.read_text())
        change(profile)
        path.write_text(yaml.safe_dump(profile, sort_keys=False))

    def po_numbers(self) -> list[str]:
        """The PO number of every canonical order in the ERP outbox (repeats kept)."""
        import json

        return [json.loads(p.read_text())["po_number"] for p in self.orders.glob("*.json")]

    def open_store(self, database_url: str | None = None) -> Store:
        return Store.open(self.data, database_url)


def make_site(
    root: Path,
    *,
    database_url: str | None = None,
    worker: str = "poll_seconds = 0.05\nlease_seconds = 3\nbackoff_seconds = 0.2\n"
    "max_attempts = 30\ndelivery_backoff_seconds = 0.2\ndelivery_max_attempts = 30\n",
) -> Site:
    toml = prepare(root, project_root())
    text = toml.read_text()
    text = re.sub(r"\[worker\]\n[^\[]*", f"[worker]\n{worker}\n", text)
    if database_url:
        text = text.replace(
            'config_dir = "config"\n', f'config_dir = "config"\ndatabase_url = "{database_url}"\n'
        )
    toml.write_text(text)
    return Site(root, toml)


class Serve:
    """``edigate serve`` in its own process, its log in a file (read, never a full pipe)."""

    def __init__(self, site: Site, name: str = "serve") -> None:
        self.site = site
        self.log_path = site.root / f"{name}.log"
        self._log = self.log_path.open("ab")
        self._offset = self.log_path.stat().st_size
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edigate", "--config", str(site.toml), "serve"],
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            cwd=project_root(),
            start_new_session=True,
        )

    def log(self) -> str:
        """What this process has logged so far."""
        with self.log_path.open("rb") as fh:
            fh.seek(self._offset)
            return fh.read().decode(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 60) -> tuple[str, ...]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.log())
            if match:
                return match.groups()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"edigate serve did not log {pattern!r}:\n{self.log()[-3000:]}")

    def sftp_port(self) -> int:
        (port,) = self.wait_for(r"sftp listening on 127\.0\.0\.1:(\d+)")
        return int(port)

    def as2_url(self) -> str:
        (url,) = self.wait_for(r"as2 listening on (http://127\.0\.0\.1:\d+/as2)")
        return url

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill9(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self) -> int:
        """SIGTERM and wait: the clean way out. Returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._log.close()
        return self.proc.returncode


@contextlib.contextmanager
def serving(site: Site, name: str = "serve") -> Iterator[Serve]:
    """Serve for the block; killed (never left running) whatever happens."""
    serve = Serve(site, name)
    try:
        yield serve
    finally:
        if serve.alive():
            serve.kill9()


@contextlib.contextmanager
def sftp_session(
    port: int, key_path: Path, username: str = "acme"
) -> Iterator[paramiko.SFTPClient]:
    transport = paramiko.Transport(("127.0.0.1", port))
    try:
        transport.connect(username=username, pkey=paramiko.PKey.from_path(key_path))
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        yield sftp
    finally:
        transport.close()


@dataclass
class PartnerSftp:
    """The partner's own SFTP server, where ``sftp_push`` delivers; it keeps what it gets."""

    root: Path
    store: Store
    client_key: Path
    port: int
    server: SftpServer | None = None

    def start(self) -> None:
        key = paramiko.PKey.from_path(self.client_key)
        line = f"{key.get_name()} {key.get_base64()} edigate"
        self.server = SftpServer(
            root=self.root / "sftp",
            host_key_path=self.root / "host_key",
            accounts=StaticAccounts([Account("edigate", "hub", authorized_keys=(line,))]),
            handler=store_handler(self.store),
            host="127.0.0.1",
            port=self.port,
        )
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def host_key_line(self) -> str:
        return public_key_line(load_or_create_host_key(self.root / "host_key"))

    def received(self) -> list[tuple[str, bytes]]:
        with self.store.session() as session:
            docs = list(session.scalars(select(Document).order_by(Document.id)))
            return [(d.filename or "", self.store.content(d)) for d in docs]


def controls_by_partner(store: Store) -> dict[str, list[str]]:
    """ISA13 of every outbound X12 document, per partner (repeats kept)."""
    found: dict[str, list[str]] = {}
    with store.session() as session:
        rows = session.execute(
            select(Document.partner_id, Document.interchange_control).where(
                Document.direction == "out", Document.format == "x12"
            )
        )
        for partner, control in rows:
            found.setdefault(partner or "", []).append(control or "")
    return found


def push_to_partner(site: Site, partner_id: str, partner: PartnerSftp) -> None:
    """Make ``partner_id`` get its documents by ``sftp_push`` to ``partner``'s server."""
    from edigate.channels.host_key import key_fingerprint

    fingerprint = key_fingerprint(load_or_create_host_key(partner.root / "host_key"))
    site.edit_profile(
        partner_id,
        lambda p: p.update(
            outbound={
                "type": "sftp_push",
                "host": "127.0.0.1",
                "port": partner.port,
                "username": "edigate",
                "key_path": str(partner.client_key),
                "host_key_fingerprint": fingerprint,
                "folder": "/in",
            }
        ),
    )
