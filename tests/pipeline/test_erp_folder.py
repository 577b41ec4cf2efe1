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


def test_a_claim_carries_its_takers_name_and_that_name_takes_it_back_at_once(
    tmp_path: Path,
) -> None:
    """A worker killed while taking a file hid it until the claim timeout (5 minutes),
    though it restarted under the same ``--name`` (review finding): the hidden name now
    carries the taker's name, and that name's files come back at once; others' do not."""
    erp = ErpFolder(tmp_path / "erp")
    for name in ("a.json", "b.json", "c.json", "d.json"):
        (erp.inbox / "invoices" / name).write_text("{}")
    a, b, c, d = erp.pending()
    takers = {"a.json": "wk", "b.json": "gw.1/2", "c.json": "wk-2", "d.json": None}
    claimed = {i.name: erp.claim(i, takers[i.name]) for i in (a, b, c, d)}
    assert list(erp.pending()) == []
    assert erp.takers() == {"wk", "gw.1/2", "wk-2"}
    hidden_b = claimed["b.json"]
    assert hidden_b is not None and "/" not in hidden_b.path.name[len(".b.json.") :]

    assert erp.release_taken_by(["wk"]) == 1
    assert [p.name for p in erp.pending()] == ["a.json"]
    assert erp.release_taken_by(["gw.1/2"]) == 1
    assert erp.release_taken_by(["nobody"]) == 0
    assert [p.name for p in erp.pending()] == ["a.json", "b.json"]
    # The rest, the unnamed one too, are left to the timeout, as before.
    assert erp.release_stale(300) == 0
    assert erp.release_stale(300, now=10**10) == 2
    assert [p.name for p in erp.pending()] == ["a.json", "b.json", "c.json", "d.json"]


def test_a_name_too_long_for_the_claim_is_left_to_the_timeout(tmp_path: Path) -> None:
    erp = ErpFolder(tmp_path / "erp")
    (erp.inbox / "acks" / "a.json").write_text("{}")
    (item,) = erp.pending()
    claimed = erp.claim(item, "w" * 250)
    assert claimed is not None and claimed.path.exists() and erp.takers() == set()
    assert erp.release_stale(300, now=10**10) == 1
