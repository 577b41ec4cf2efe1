"""The database goes away under a running ``edigate serve`` and comes back.

A private PostgreSQL cluster (never the shared server) is stopped mid-run: the SFTP upload
fails, the AS2 POST gets a 5xx (the partner's AS2 software retries), ``Store.receive()``
raises ``StoreUnavailableError``; nothing is accepted without being stored. The gateway
keeps running and says why in its log; when the cluster is back, work resumes and
everything accepted is processed, once.
"""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest

from edigate.channels.as2 import As2Channel, As2Partner, load_certificates, load_private_key
from edigate.channels.base import DeliveryError, Outbound
from edigate.errors import StoreUnavailableError
from edigate.store import Store

from .cluster import private_cluster, why_no_cluster
from .harness import Site, make_site, po_number, purchase_orders, serving, sftp_session, wait_until
from .test_kill9 import assert_each_once, received_names, settled

GLOBEX_850 = Path(__file__).resolve().parents[2] / "samples/demo/globex-dist-850.edi"

pytestmark = pytest.mark.skipif(why_no_cluster() is not None, reason=str(why_no_cluster()))


def globex(site: Site, url: str) -> As2Channel:
    """Globex's own AS2 software, sending to us (signed and encrypted, as in the demo)."""
    keys = site.root / "partner-keys/as2"
    partner = As2Partner(
        partner_id="edigate",
        our_as2_id="GLOBEXDIST",
        their_as2_id="EDIGATEDIST",
        our_key=load_private_key(keys / "GLOBEXDIST.key"),
        our_cert=load_certificates(keys / "GLOBEXDIST.crt")[0],
        their_certs=tuple(load_certificates(site.root / "config/as2/EDIGATEDIST.crt")),
        url=url,
    )
    return As2Channel(partner, timeout=20)


def globex_850(control: str, po: str) -> bytes:
    return (
        GLOBEX_850.read_bytes()
        .replace(b"000000731", control.encode())
        .replace(b"NW-2026-118804", po.encode())
    )


def test_a_database_outage_refuses_input_then_work_resumes(tmp_path: Path) -> None:
    with private_cluster() as cluster:
        site = make_site(tmp_path / "gw", database_url=cluster.url)
        with serving(site) as serve:
            port, url = serve.sftp_port(), serve.as2_url()
            as2 = globex(site, url)
            with sftp_session(port, site.acme_key) as sftp:
                sftp.putfo(io.BytesIO(purchase_orders(1, 2)), "/in/po-1.edi")
            wait_until(lambda: len(site.po_numbers()) == 2, 60, "the first file")

            cluster.stop()
            # SFTP: the close (the client's "put done") fails; the client knows.
            with sftp_session(port, site.acme_key) as sftp, pytest.raises(OSError):
                sftp.putfo(io.BytesIO(purchase_orders(2, 2)), "/in/po-2.edi")
            # AS2: a 5xx the partner's software retries, never a positive MDN.
            with pytest.raises(DeliveryError) as refused:
                as2.send(Outbound(1, "edigate", "gx-1.edi", globex_850("000000501", "GX-1")))
            as2_refusal = str(refused.value)  # its status is checked at the end
            assert refused.value.retryable
            # receive() itself: a clear StoreUnavailableError, nothing half-stored.
            with pytest.raises(StoreUnavailableError):
                Store.open(site.data, cluster.url)
            threading.Event().wait(1.0)  # the worker polls an absent database for a while
            assert serve.alive()
            log = serve.log()
            assert "upload_failed partner=acme-retail" in log and "filename=po-2.edi" in log
            assert "database unavailable, will retry" in log

            cluster.start()
            with sftp_session(port, site.acme_key) as sftp:
                sftp.putfo(io.BytesIO(purchase_orders(3, 2)), "/in/po-3.edi")
            delivery = as2.send(Outbound(2, "edigate", "gx-2.edi", globex_850("000000502", "GX-2")))
            assert delivery.meta["mdn"] == "positive"
            store = Store.open(site.data, cluster.url)
            try:
                expected = {po_number(n, i) for n in (1, 3) for i in (1, 2)} | {"GX-2"}
                wait_until(
                    lambda: settled(store, outbound=False) and set(site.po_numbers()) >= expected,
                    60,
                    "recovery",
                )
                assert sorted(received_names(store)) == ["gx-2.edi", "po-1.edi", "po-3.edi"]
                # (Globex's own AS2 server is not running: our 999 to it waits and retries.)
                assert_each_once(site, store, expected)
            finally:
                store.close()
            assert serve.stop() == 0, serve.log()[-3000:]
        # 503 with Retry-After, as for any store failure; not a 500 "internal error" from the
        # Message-ID lookup that runs before the store (docs/reliability.md, section 9).
        assert as2_refusal.startswith("HTTP 503"), as2_refusal
