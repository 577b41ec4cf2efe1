"""kill -9 of a worker mid-run: after a restart every order reaches the ERP exactly once."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from edigate.app import Gateway
from edigate.config import load_config
from edigate.store import Document

ROOT = Path(__file__).resolve().parents[2]
RETAILER = ROOT / "samples/x12/850-004010-retailer.edi"


def many_orders(count: int, batch: int) -> bytes:
    """One interchange holding ``count`` copies of the retailer PO, numbered apart."""
    text = RETAILER.read_text()
    head, rest = text[: text.index("ST*850")], text[text.index("ST*850") :]
    body = rest[: rest.index("GE*")]
    txs = [
        body.replace("ST*850*0001", f"ST*850*{i:04d}")
        .replace("SE*32*0001", f"SE*32*{i:04d}")
        .replace("4500012345", f"4{batch}{i:08d}")
        for i in range(1, count + 1)
    ]
    return (head + "".join(txs) + f"GE*{count}*4211~\nIEA*1*000004211~\n").encode()


def edigate(tmp: Path, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "edigate.cli.main",
        "--data-dir",
        str(tmp / "data"),
        "--config-dir",
        str(tmp / "config"),
        *args,
    ]


def test_kill_9_during_processing_then_restart_delivers_each_order_once(tmp_path: Path) -> None:
    for name in ("partners", "maps"):
        shutil.copytree(ROOT / name, tmp_path / "config" / name)
    files = [tmp_path / f"po-{n}.edi" for n in range(3)]
    for n, path in enumerate(files):
        path.write_bytes(many_orders(40, n).replace(b"000004211", f"00000421{n}".encode()))
    subprocess.run(
        edigate(tmp_path, "receive", "--no-process", *map(str, files)), check=True, timeout=120
    )
    rng = random.Random(7)
    for _ in range(3):  # kill it at a few random moments
        proc = subprocess.Popen(edigate(tmp_path, "worker"), stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 2.0))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    done = subprocess.run(
        edigate(tmp_path, "worker", "--until-idle"), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr

    orders = sorted((tmp_path / "data/erp/outbox/orders").glob("*.json"))
    assert len(orders) == 120
    po_numbers = [json.loads(p.read_text())["po_number"] for p in orders]
    assert len(set(po_numbers)) == 120  # 120 distinct POs, each exactly once
    gw = Gateway(load_config(None, environ={}, data_dir=tmp_path / "data"))
    with gw.store.session() as session:
        children = session.scalar(
            select(func.count()).select_from(Document).where(Document.doc_type == "850")
        )
        controls = session.scalars(
            select(Document.interchange_control).where(
                Document.direction == "out", Document.format == "x12"
            )
        ).all()
    gw.close()
    assert children == 120
    assert len(controls) == len(set(controls))  # no control number reused
