"""The ERP folder connector: atomic outbox writes, inbox files never lost."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from edigate.pipeline.erp import ErpFolder


def test_outbox_writes_are_atomic_and_idempotent(tmp_path: Path) -> None:
    erp = ErpFolder(tmp_path / "erp")
    first = erp.deliver("orders", "12-0001-4500012345.json", b'{"po": 1}')
    again = erp.deliver("orders", "12-0001-4500012345.json", b'{"po": 1}')
    assert first == again
    assert [p.name for p in (tmp_path / "erp/outbox/orders").iterdir()] == [first.name]
    assert first.read_bytes() == b'{"po": 1}'


def test_outbox_names_cannot_escape_the_folder(tmp_path: Path) -> None:
    erp = ErpFolder(tmp_path / "erp")
    path = erp.deliver("orders", "../../etc/passwd", b"{}")
    assert path.parent == tmp_path / "erp/outbox/orders"


def test_inbox_skips_partial_files_and_rejects_with_a_reason(tmp_path: Path) -> None:
    erp = ErpFolder(tmp_path / "erp")
    good = tmp_path / "erp/inbox/shipments/asn-1.json"
    good.write_text("{}")
    (tmp_path / "erp/inbox/shipments/.asn-2.json.tmp").write_text("{")
    (tmp_path / "erp/inbox/invoices/inv-1.json.part").write_text("{")
    pending = list(erp.pending())
    assert [(p.kind, p.path.name) for p in pending] == [("shipments", "asn-1.json")]

    moved = erp.reject(pending[0], "line 1: expected a Shipment")
    assert not good.exists()
    assert moved.read_text() == "{}"
    assert moved.with_name(moved.name + ".error.txt").read_text().startswith("line 1:")
    assert list(erp.pending()) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_outbox_files_take_the_umasks_mode_so_the_erps_user_can_read_them(
    tmp_path: Path, umask: int, mode: int
) -> None:
    """Written through a temp file (mkstemp makes it 0600), an order would be unreadable
    to an ERP running as another user; it gets what open() would give instead."""
    from edigate.channels.base import Outbound
    from edigate.channels.folder import FolderOutbound

    old = os.umask(umask)
    try:
        order = ErpFolder(tmp_path / "erp").deliver("orders", "order-1.json", b"{}")
        FolderOutbound(tmp_path / "out", per_partner=False).send(
            Outbound(7, "acme-retail", "855-1-7.edi", b"ISA~")
        )
    finally:
        os.umask(old)
    assert stat.S_IMODE(order.stat().st_mode) == mode
    (placed,) = (tmp_path / "out").iterdir()
    assert stat.S_IMODE(placed.stat().st_mode) == mode
