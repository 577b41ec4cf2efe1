"""Scenario ``sftp``: ACME uploads single-PO files over SFTP to a running gateway
(``GatewayServer``: the SFTP server, the worker thread and the dispatcher in one process, as
``edigate serve`` runs them; then again with the worker as two processes, as ``edigate
serve --workers 2``), from a client in another process with several concurrent sessions,
until every order is in the ERP outbox and every 997 stored.

ACME's committed public key has no private half in the repository, so the workspace gets a
fresh key for it (as ``edigate demo`` does). The client process uses paramiko's
``putfo``: each put returns once the gateway stored the file (the SFTP close is answered
only after ``Store.receive``), so the upload time is what the partner waits for.
"""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from .common import (
    Progress,
    Workspace,
    inbound_done,
    last_created,
    no_progress,
    order_deliveries,
    utcnow,
    wait_for,
)
from .generate import single_po_files
from .measure import percentile, run_child
from .results import ScenarioResult
from .sizes import Size

PARTNER = "acme-retail"


def run(
    size: Size,
    work: Path,
    config_dir: Path,
    *,
    progress: Progress = no_progress,
    profile_dir: Path | None = None,
) -> ScenarioResult:
    n, sessions = size.sftp_files, size.sftp_sessions
    result = ScenarioResult(
        "sftp",
        f"Over SFTP: {n:,} files from {sessions} concurrent sessions to a running gateway",
        params={"files": n, "sessions": sessions},
    )
    for label, processes in SETUPS:
        prefix = f"{label}: " if processes else ""
        folder = "sftp" if not processes else f"sftp-workers{processes}"
        figures, counts, finished = _one_run(
            Workspace(work / folder, config_dir, sftp_port=0), n, sessions, processes, progress
        )
        result.figures.update({prefix + k: v for k, v in figures.items()})
        result.counts.update({prefix + k: v for k, v in counts.items()})
        if not finished:
            result.notes.append(f"{label}: timed out before every file was processed")
        if not processes:
            result.seconds = figures["seconds"]
    result.notes.append(
        "edigate serve: the SFTP sessions and the worker thread share one process (the "
        "GIL); serve --workers 2: the worker as two processes beside the SFTP server"
    )
    return result


#: (label, worker processes): ``edigate serve`` as installed (the worker a thread), and
#: with the worker as two processes (the README's configuration for a 2-core machine).
SETUPS = (("edigate serve", 0), ("serve --workers 2", 2))


def _one_run(
    ws: Workspace, n: int, sessions: int, processes: int, progress: Progress
) -> tuple[dict[str, Any], dict[str, int], bool]:
    """ACME's ``n`` files uploaded to a gateway on ``ws`` until processed: (figures, counts,
    finished)."""
    from ..server import GatewayServer

    tag = "sftp" if not processes else f"sftp, {processes} worker processes"
    key = ws.root / "acme.key"
    username = _give_key(ws.config_dir / "partners" / f"{PARTNER}.yaml", key)
    files = ws.root / "upload"
    files.mkdir()
    for name, data in single_po_files(n):
        (files / name).write_bytes(data)
    gateway = ws.gateway()
    # The worker processes log at WARNING: the bench's output is its table.
    server = GatewayServer(gateway, worker_processes=processes, log_level="WARNING")
    server.start()
    try:
        assert server.sftp is not None
        host, port = server.sftp.address
        progress(f"{tag}: uploading", 0, n)
        t0 = utcnow()
        client: dict[str, Any] = {}
        uploader = threading.Thread(
            target=lambda: client.update(
                run_child(
                    "sftp-client",
                    host=host,
                    port=port,
                    username=username,
                    key=str(key),
                    folder=str(files),
                    sessions=sessions,
                )
            ),
            daemon=True,
        )
        uploader.start()
        finished = wait_for(
            lambda: (min(inbound_done(gateway.store)), n),
            n,
            label=f"{tag}: processed",
            progress=progress,
            timeout=max(300.0, n * 1.0),
        )
        uploader.join(timeout=300)
        store = gateway.store
        rows = order_deliveries(store, "sftp")
        orders, acks = inbound_done(store)
        end = max(max((d for _, _, d in rows), default=t0), last_created(store, "997") or t0)
    finally:
        server.stop()
        gateway.close()
    if "uploaded" not in client:
        raise RuntimeError("the SFTP client process did not report")
    elapsed = (end - t0).total_seconds()
    latencies = [(d - r).total_seconds() for _, r, d in rows]
    figures = {
        "files/s end to end": n / elapsed if elapsed > 0 else None,
        "seconds": elapsed,
        "upload files/s (client)": client["uploaded"] / client["seconds"],
        "upload p50 ms (put until stored)": client["put_p50_ms"],
        "upload p99 ms": client["put_p99_ms"],
        "latency p50 s (receipt -> outbox)": percentile(latencies, 50),
        "latency p99 s (receipt -> outbox)": percentile(latencies, 99),
    }
    counts = {"uploaded": client["uploaded"], "orders in outbox": orders, "997s stored": acks}
    return figures, counts, finished


def _give_key(profile_path: Path, key_path: Path) -> str:
    """A fresh ed25519 key for the partner's SFTP account; returns its username."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    private = ed25519.Ed25519PrivateKey.generate()
    key_path.touch(mode=0o600)
    key_path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.NoEncryption(),
        )
    )
    public = private.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    profile = yaml.safe_load(profile_path.read_text(encoding="utf-8"))
    sftp = profile["inbound"]["sftp"]
    sftp["public_keys"] = [f"{public.decode()} bench"]
    profile_path.write_text(yaml.safe_dump(profile, sort_keys=False), encoding="utf-8")
    return str(sftp["username"])


def client(
    host: str, port: int, username: str, key: str, folder: str, sessions: int
) -> dict[str, Any]:
    """Runs in the child: upload every file of ``folder`` over ``sessions`` connections."""
    import paramiko

    names = sorted(p.name for p in Path(folder).iterdir())
    shares = [names[i::sessions] for i in range(sessions)]
    puts: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    pkey = paramiko.Ed25519Key(filename=key)

    def session(share: list[str]) -> None:
        transport = paramiko.Transport((host, port))
        try:
            transport.connect(username=username, pkey=pkey)
            sftp = paramiko.SFTPClient.from_transport(transport)
            assert sftp is not None
            for name in share:
                data = (Path(folder) / name).read_bytes()
                start = time.perf_counter()
                sftp.putfo(io.BytesIO(data), f"/in/{name}", confirm=False)
                spent = time.perf_counter() - start
                with lock:
                    puts.append(spent)
            sftp.close()
        except Exception as exc:  # reported to the harness, which fails the run
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            transport.close()

    start = time.perf_counter()
    threads = [threading.Thread(target=session, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    if errors:
        raise RuntimeError(f"{len(errors)} session(s) failed: {errors[0]}")
    return {
        "uploaded": len(puts),
        "seconds": seconds,
        "put_p50_ms": percentile(puts, 50) * 1e3,
        "put_p99_ms": percentile(puts, 99) * 1e3,
    }
