"""The demo: a gateway on its embedded default, partners sending over real SFTP and AS2.

``edigate demo`` sets up a folder with the example partners and SQLite, starts the gateway
(SFTP server, AS2 endpoint, worker, dispatcher), logs in as each SFTP partner with a real
SFTP client and uploads the sample files; Globex sends its 850 over AS2 instead, signed and
encrypted, from an AS2 channel of its own, and receives our 999 on an AS2 server of its own.
It waits until everything is processed, collects what each partner got, and prints what
happened. The demo folder keeps everything for exploring with
``edigate --config <dir>/edigate.toml docs list`` afterwards.

The example partners' committed public keys have no private half in the repository, so the
demo makes a fresh key for each SFTP partner and puts it into its own copy of the profiles;
the AS2 keys and certificates (ours and Globex's) are made with ``certs.keygen`` likewise.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import paramiko
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from .app import Gateway
from .channels.as2 import (
    As2Channel,
    As2Partner,
    As2Server,
    StaticPartners,
    keygen,
    load_certificates,
    load_private_key,
)
from .channels.base import Inbound, Outbound
from .config import load_config
from .errors import EdigateError
from .partners.passwords import DEMO_PASSWORDS
from .secret_files import write_private_file
from .server import GatewayServer
from .store import PENDING_INBOUND, PENDING_OUTBOUND, Receipt
from .store.queries import DocumentFilter, document_detail, list_documents

#: (partner, sample file relative to the project root) uploaded in this order.
UPLOADS: tuple[tuple[str, str], ...] = (
    ("acme-retail", "samples/x12/850-004010-retailer.edi"),
    ("acme-retail", "samples/demo/acme-retail-850-errors.edi"),
    ("globex-dist", "samples/demo/globex-dist-850.edi"),
    ("initech-csv", "samples/csv/initech-orders.csv"),
    ("contoso-cxml", "samples/xml/contoso-orderrequest.xml"),
)
#: Partners that talk AS2 in the demo: (their AS2 id, ours toward them).
AS2_PARTNERS = {"globex-dist": ("GLOBEXDIST", "EDIGATEDIST")}
#: Until the demo's partner-side AS2 server runs, the profile points here.
AS2_PLACEHOLDER_URL = "http://127.0.0.1:4081/as2"

Echo = Callable[[str], None]


@dataclass
class DemoReport:
    """What the demo saw, for the printout and for the test that runs the demo."""

    uploaded: list[tuple[str, str]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    erp_orders: list[str] = field(default_factory=list)
    downloaded: dict[str, dict[str, bytes]] = field(default_factory=dict)
    #: How each partner got its files: "sftp" (downloaded from /out) or "as2" (pushed to it).
    received_by: dict[str, str] = field(default_factory=dict)
    sftp_address: tuple[str, int] = ("", 0)
    as2_url: str = ""
    #: The MDN each AS2 upload got back: (disposition, MIC verified).
    as2_receipts: dict[str, tuple[str, bool]] = field(default_factory=dict)


def project_root() -> Path:
    """Where partners/, maps/ and samples/ are: the working directory or the checkout."""
    for candidate in (Path.cwd(), Path(__file__).resolve().parents[2]):
        if all((candidate / name).is_dir() for name in ("partners", "maps", "samples")):
            return candidate
    raise EdigateError("run the demo from the edigate checkout (it needs partners/ and samples/)")


def prepare(target: Path, root: Path) -> Path:
    """Create the demo folder: config copy, partner keys, edigate.toml. Returns the toml."""
    if target.exists():
        shutil.rmtree(target)
    config_dir = target / "config"
    for name in ("partners", "maps"):
        shutil.copytree(root / name, config_dir / name)
    keys = target / "partner-keys"
    keys.mkdir(parents=True)
    ours = keygen(OUR_AS2_CN, config_dir / "as2", days=365)
    for profile_path in sorted((config_dir / "partners").glob("*.yaml")):
        profile = yaml.safe_load(profile_path.read_text())
        changed = False
        inbound = profile.setdefault("inbound", {})
        if profile["id"] in AS2_PARTNERS:
            _as2_partner(profile, config_dir, keys, ours.cert_path.name)
            changed = True
        sftp = inbound.get("sftp")
        if sftp is not None and profile["id"] not in DEMO_PASSWORDS:
            public = _new_key(keys / f"{profile['id']}.key")
            sftp["public_keys"] = [f"{public} {profile['id']}-demo"]
            changed = True
        if profile.get("outbound", {}).get("type") == "sftp_push":
            # Their own SFTP server is not part of the demo: they pick up from ours.
            profile["outbound"] = {"type": "sftp_pickup", "folder": "out"}
            changed = True
        if changed:
            profile_path.write_text(yaml.safe_dump(profile, sort_keys=False))
    toml = target / "edigate.toml"
    toml.write_text(
        'data_dir = "data"\nconfig_dir = "config"\n\n'
        "[worker]\npoll_seconds = 0.1\n\n"
        '[sftp]\nhost = "127.0.0.1"\nport = 0\n\n'
        '[as2]\nenabled = true\nhost = "127.0.0.1"\nport = 0\n'
    )
    return toml


OUR_AS2_CN = "EDIGATEDIST"


def _as2_partner(profile: dict[str, Any], config_dir: Path, keys: Path, our_cert: str) -> None:
    """Give an AS2 partner of the demo its keys (theirs in partner-keys/, their certificate
    and ours in the config) and make it send and receive over AS2."""
    their_id, our_id = AS2_PARTNERS[profile["id"]]
    theirs = keygen(their_id, keys / "as2", days=365)
    shutil.copy(theirs.cert_path, config_dir / "as2" / f"{profile['id']}.crt")
    profile["inbound"]["as2"] = {
        "partner_id": their_id,
        "our_id": our_id,
        "partner_certificate": f"as2/{profile['id']}.crt",
        "our_certificate": f"as2/{our_cert}",
        "our_private_key": f"as2/{Path(our_cert).stem}.key",
        "require_encrypted": True,
    }
    profile["outbound"] = {
        "type": "as2",
        "url": AS2_PLACEHOLDER_URL,  # their server's address, once it runs
        "sign": True,
        "encrypt": True,
        "mdn": "sync",
    }


def _new_key(path: Path) -> str:
    """Write a new ed25519 private key (OpenSSH format, 0600); return its public key line."""
    private = ed25519.Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    write_private_file(path, pem)
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return public.decode()


def run_demo(
    target: Path,
    *,
    echo: Echo = print,
    keep_running: bool = False,
    timeout: float = 120.0,
) -> DemoReport:
    root = project_root()
    toml = prepare(target, root)
    report = DemoReport()
    with contextlib.ExitStack() as stack:
        sides = {pid: stack.enter_context(_As2Side.start(target, pid)) for pid in AS2_PARTNERS}
        for pid, side in sides.items():
            _point_profile_at(target / "config" / "partners" / f"{pid}.yaml", side.server.url)
        gateway = Gateway(load_config(toml, environ={}))
        server = GatewayServer(gateway)
        stack.callback(gateway.close)
        server.start()
        stack.callback(server.stop)
        assert server.sftp is not None and server.as2 is not None
        report.sftp_address = server.sftp.address
        report.as2_url = server.as2.url
        host, port = report.sftp_address
        echo(
            f"gateway up: SFTP on {host}:{port}, AS2 at {report.as2_url}, data in {target / 'data'}"
        )
        registry = gateway.registry()
        for partner_id, sample in UPLOADS:
            name = Path(sample).name
            if partner_id in sides:
                disposition, verified = sides[partner_id].send(
                    report.as2_url, name, (root / sample).read_bytes()
                )
                report.as2_receipts[partner_id] = (disposition, verified)
                echo(
                    f"  {partner_id} sent {name} over AS2 (signed, encrypted); "
                    f"signed MDN: {disposition.rsplit(';', 1)[-1].strip()}"
                    f"{', MIC verified' if verified else ''}"
                )
            else:
                username = _sftp_user(registry.get(partner_id))
                with _sftp(host, port, username, target, partner_id) as sftp:
                    sftp.put(str(root / sample), f"/in/{name}")
                echo(f"  {partner_id} ({username}) uploaded {name} over SFTP")
            report.uploaded.append((partner_id, sample))
        _wait_until_idle(gateway, timeout)
        report.documents = _documents(gateway)
        report.erp_orders = sorted(p.name for p in (gateway.erp.outbox / "orders").glob("*.json"))
        for partner_id in sorted({p for p, _ in UPLOADS}):
            if partner_id in sides:
                report.downloaded[partner_id] = dict(sorted(sides[partner_id].received.items()))
                report.received_by[partner_id] = "as2"
                continue
            username = _sftp_user(registry.get(partner_id))
            with _sftp(host, port, username, target, partner_id) as sftp:
                report.downloaded[partner_id] = {
                    name: _read(sftp, f"/out/{name}") for name in sorted(sftp.listdir("/out"))
                }
            report.received_by[partner_id] = "sftp"
        echo(render(report))
        if keep_running:
            echo(
                f"\nThe gateway keeps running (Ctrl-C stops it). Log in as a partner with\n"
                f"  sftp -P {port} -i {target / 'partner-keys/acme-retail.key'} acme@{host}\n"
                f"AS2 partners POST to {report.as2_url}; look around with\n"
                f"  edigate --config {toml} docs list"
            )
            with contextlib.suppress(KeyboardInterrupt):
                server.wait()
    return report


def _sftp_user(partner: Any) -> str:
    assert partner is not None and partner.profile.inbound and partner.profile.inbound.sftp
    return str(partner.profile.inbound.sftp.username)


def _point_profile_at(profile_path: Path, url: str) -> None:
    profile = yaml.safe_load(profile_path.read_text())
    profile["outbound"]["url"] = url
    profile_path.write_text(yaml.safe_dump(profile, sort_keys=False))


class _As2Side:
    """The partner's end of AS2 in the demo: a channel to send with, a server to receive on."""

    def __init__(self, target: Path, partner_id: str) -> None:
        their_id, our_id = AS2_PARTNERS[partner_id]
        keys = target / "partner-keys" / "as2"
        our_cert = load_certificates(target / "config" / "as2" / f"{OUR_AS2_CN}.crt")
        self.relationship = As2Partner(
            partner_id="edigate",
            our_as2_id=their_id,
            their_as2_id=our_id,
            our_key=load_private_key(keys / f"{their_id}.key"),
            our_cert=load_certificates(keys / f"{their_id}.crt")[0],
            their_certs=tuple(our_cert),
            require_encrypted=True,
        )
        self.received: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.server = As2Server(StaticPartners([self.relationship]), self._keep, poll_interval=0.1)

    @classmethod
    @contextlib.contextmanager
    def start(cls, target: Path, partner_id: str) -> Iterator[_As2Side]:
        side = cls(target, partner_id)
        side.server.start()
        try:
            yield side
        finally:
            side.server.close()

    def _keep(self, inbound: Inbound) -> Receipt:
        with self._lock:
            name = inbound.filename or f"as2-{len(self.received) + 1}.edi"
            self.received[name] = inbound.data
            digest = hashlib.sha256(inbound.data).hexdigest()
            return Receipt(len(self.received), digest, len(inbound.data), uuid.uuid4().hex)

    def send(self, url: str, filename: str, data: bytes) -> tuple[str, bool]:
        """Send as the partner; returns the MDN's disposition and whether its MIC matched."""
        channel = As2Channel(replace(self.relationship, url=url), timeout=30)
        delivery = channel.send(Outbound(0, "edigate", filename, data))
        return str(delivery.meta.get("disposition", "")), delivery.meta.get("mdn") == "positive"


@contextlib.contextmanager
def _sftp(
    host: str, port: int, username: str, target: Path, partner_id: str
) -> Iterator[paramiko.SFTPClient]:
    """A real SFTP session as the partner (key from the demo folder, or the demo password)."""
    transport = paramiko.Transport((host, port))
    try:
        if partner_id in DEMO_PASSWORDS:
            transport.connect(username=username, password=DEMO_PASSWORDS[partner_id])
        else:
            key = paramiko.Ed25519Key(filename=str(target / "partner-keys" / f"{partner_id}.key"))
            transport.connect(username=username, pkey=key)
        client = paramiko.SFTPClient.from_transport(transport)
        if client is None:
            raise EdigateError(f"no SFTP session for {username}@{host}:{port}")
        with client:
            yield client
    finally:
        transport.close()


def _read(sftp: paramiko.SFTPClient, path: str) -> bytes:
    with sftp.open(path, "rb") as handle:
        return handle.read()


def _wait_until_idle(gateway: Gateway, timeout: float) -> None:
    pending = {s.value for s in (*PENDING_INBOUND, *PENDING_OUTBOUND)}
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        counts = gateway.store.count_by_status()
        if not any(counts.get(status, 0) for status in pending):
            quiet += 1
            if quiet >= 3:  # idle for a few polls: nothing more is coming
                return
        else:
            quiet = 0
        time.sleep(0.2)
    raise EdigateError(f"the demo did not finish processing within {timeout:.0f} s")


def _documents(gateway: Gateway) -> list[dict[str, Any]]:
    with gateway.store.session() as session:
        rows = list_documents(session, DocumentFilter(direction="in", limit=1000))
        details = []
        for row in reversed([r for r in rows if r["parent_id"] is None]):
            detail = document_detail(session, gateway.store.get(session, row["id"]))
            detail["child_errors"] = [
                [e for e in gateway.store.get(session, c["id"]).errors or [] if _is_error(e)]
                for c in detail["children"]
                if c["status"] == "rejected"
            ]
            details.append(detail)
        return details


def _is_error(err: dict[str, Any]) -> bool:
    return bool(err.get("severity", "error") == "error")


def render(report: DemoReport) -> str:
    lines = ["", "What happened:"]
    for doc in report.documents:
        lines.append(
            f"  document {doc['id']} from {doc['partner'] or '?'} ({doc['filename']}): "
            f"{doc['status']}"
        )
        for child in doc["children"]:
            lines.append(
                f"    {child['direction']:3} {child['type'] or '-':5} {child['status']:10} "
                f"{child['po_number'] or ''}"
            )
        # The file's summary lines repeat its children's first reasons: show the children's.
        problems = [
            e for e in doc["errors"] if _is_error(e) and e.get("code") != "transaction_rejected"
        ]
        for child_detail in doc.get("child_errors", []):
            problems.extend(child_detail)
        for err in problems[:5]:
            lines.append(f"    rejected: {err.get('message', '')}")
    lines.append("")
    lines.append(f"Canonical orders in the ERP outbox ({len(report.erp_orders)}):")
    lines += [f"  {name}" for name in report.erp_orders]
    for partner, files in report.downloaded.items():
        lines.append("")
        if report.received_by.get(partner) == "as2":
            how = "received over AS2 (its signed MDN confirmed each)"
        else:
            how = "downloaded from its /out over SFTP"
        lines.append(f"{partner} {how} ({len(files)} file(s)):")
        for name, data in files.items():
            # utf-8-sig: a CSV written with a byte-order mark (initech) shows without it.
            first = data.decode("utf-8-sig", "replace").replace("\r", "").split("\n")
            head = [ln for ln in first if ln.startswith(("AK", "IK", "BAK", "TA1", "ACK"))][:6]
            if not head:  # the partner's own format (CSV, cXML): its first lines
                head = [_shortened(ln.strip()) for ln in first if ln.strip()][:2]
            lines.append(f"  {name}: {' | '.join(head)}")
    return "\n".join(lines)


def _shortened(line: str, width: int = 70) -> str:
    """``line`` cut to ``width`` characters, the cut shown by ``...``."""
    return line if len(line) <= width else line[: width - 3] + "..."
