"""The README's main job (the demo) and ``edigate serve`` as a real process."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import paramiko

from edigate.demo import prepare, project_root, run_demo
from edigate.x12.acks import parse_acks


def test_the_demo_receives_partner_files_and_they_get_their_acks(tmp_path: Path) -> None:
    lines: list[str] = []
    report = run_demo(tmp_path / "demo", echo=lines.append, timeout=60)

    statuses = {(d["partner"], d["filename"]): d["status"] for d in report.documents}
    assert statuses == {
        ("acme-retail", "850-004010-retailer.edi"): "translated",
        ("acme-retail", "acme-retail-850-errors.edi"): "rejected",
        ("globex-dist", "globex-dist-850.edi"): "translated",
        ("initech-csv", "initech-orders.csv"): "translated",
        ("contoso-cxml", "contoso-orderrequest.xml"): "translated",
    }
    assert len(report.erp_orders) == 5
    acme = report.downloaded["acme-retail"]
    assert sorted(name.split("-")[0] for name in acme) == ["855", "997", "997", "ta1", "ta1"]
    verdicts = sorted(
        parse_acks(data).groups[0].status for name, data in acme.items() if name.startswith("997")
    )
    assert verdicts == ["A", "R"]
    (globex,) = report.downloaded["globex-dist"].values()
    assert b"ST*999*" in globex and b"IK5*A" in globex
    assert [n.endswith(".csv") for n in report.downloaded["initech-csv"]] == [True, True]
    (confirmation,) = report.downloaded["contoso-cxml"].values()
    assert b"<ConfirmationRequest>" in confirmation
    text = "\n".join(lines)
    assert "REF with REF01=DP is required" in text  # the rejection says why
    assert "Canonical orders in the ERP outbox (5)" in text


def test_the_demo_command_runs_end_to_end(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "edigate", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=project_root(),
    )
    assert done.returncode == 0, done.stderr
    assert "Canonical orders in the ERP outbox (5)" in done.stdout
    assert "ERROR" not in done.stderr


def test_serve_takes_an_sftp_upload_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    toml = prepare(tmp_path / "gw", project_root())
    proc = subprocess.Popen(
        [sys.executable, "-m", "edigate", "--config", str(toml), "serve"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        port = _listening_port(proc)
        transport = paramiko.Transport(("127.0.0.1", port))
        key = paramiko.Ed25519Key(filename=str(tmp_path / "gw/partner-keys/acme-retail.key"))
        transport.connect(username="acme", pkey=key)
        sftp = paramiko.SFTPClient.from_transport(transport)
        assert sftp is not None
        sftp.put(str(project_root() / "samples/x12/850-004010-retailer.edi"), "/in/po.edi")
        deadline = time.monotonic() + 60
        names: list[str] = []
        while time.monotonic() < deadline:
            names = sftp.listdir("/out")
            if any(n.startswith("997") for n in names) and any(n.startswith("855") for n in names):
                break
            time.sleep(0.2)
        assert any(n.startswith("997") for n in names), names
        sftp.close()
        transport.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stopped" in err
    orders = list((tmp_path / "gw/data/erp/outbox/orders").glob("*.json"))
    assert len(orders) == 1


def _listening_port(proc: subprocess.Popen[str]) -> int:
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        match = re.search(r"sftp listening on 127\.0\.0\.1:(\d+)", line)
        if match:
            return int(match.group(1))
        if not line and proc.poll() is not None:
            break
    raise AssertionError("edigate serve did not report its SFTP port")
