"""Hostile XML through the whole pipeline: a cXML partner's upload with external entities,
a billion laughs, or a DTD to fetch.

The parser itself is tested in ``tests/formats/test_xml_order.py``
(``test_xxe_does_not_read_local_files``, ``test_dtd_urls_are_never_fetched``,
``test_billion_laughs_is_refused_quickly``, ``test_deep_nesting_is_refused``). Here the file
arrives on the partner's SFTP account as any upload does, and the proof is what the gateway
*kept*: no byte of the secret or of the network answer in any blob, row, audit event, ERP
file or answer to the partner.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from edigate.app import Gateway
from edigate.store import Status

from .conftest import Recorder, everything_stored, receive

ROOT = Path(__file__).resolve().parents[2]
CXML = (ROOT / "samples/xml/contoso-orderrequest.xml").read_text()
DOCTYPE = '<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd">'
SECRET = "TOP-SECRET-9f3a"


def cxml(doctype: str, *, description: str = "Widget, blue") -> bytes:
    assert DOCTYPE in CXML
    text = CXML.replace(DOCTYPE, doctype)
    return text.replace(">Widget, blue<", f">{description}<").encode()


def status_and_errors(gw: Gateway, doc_id: int) -> tuple[str, list[str]]:
    with gw.store.session() as session:
        doc = gw.store.get(session, doc_id)
        return doc.status, [e["message"] for e in doc.errors or []]


def erp_orders(gw: Gateway) -> list[Path]:
    return sorted((gw.erp.outbox / "orders").glob("*.json"))


def test_an_xxe_upload_is_rejected_and_the_file_never_leaks(
    gateway: Gateway, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    doc = cxml(
        f'<!DOCTYPE cXML [<!ENTITY xxe SYSTEM "file://{secret}">]>',
        description="&xxe;",
    )
    doc_id = receive(gateway, doc, partner_id="contoso-cxml", filename="po.xml")
    status, errors = status_and_errors(gateway, doc_id)
    assert status == Status.REJECTED
    assert any("declares entities (xxe): refused" in e for e in errors), errors
    assert erp_orders(gateway) == []
    assert SECRET.encode() not in everything_stored(gateway)


def test_a_dtd_or_entity_on_the_network_is_never_fetched(
    gateway: Gateway, http_recorder: Recorder
) -> None:
    url = http_recorder.url
    parameter = cxml(f'<!DOCTYPE cXML [<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;]>')
    general = cxml(f'<!DOCTYPE cXML [<!ENTITY e SYSTEM "{url}/e.txt">]>', description="&e;")
    for n, data in enumerate((parameter, general)):
        doc_id = receive(gateway, data, partner_id="contoso-cxml", filename=f"p{n}.xml")
        assert status_and_errors(gateway, doc_id)[0] == Status.REJECTED
    # A DOCTYPE naming an external DTD (every cXML has one) is accepted: the DTD is not read.
    plain = cxml(f'<!DOCTYPE cXML SYSTEM "{url}/cXML.dtd">')
    doc_id = receive(gateway, plain, partner_id="contoso-cxml", filename="plain.xml")
    assert status_and_errors(gateway, doc_id)[0] == Status.TRANSLATED
    (order,) = erp_orders(gateway)
    assert json.loads(order.read_text())["po_number"] == "CT-2026-0417"
    assert http_recorder.hits == []
    assert b"FETCHED-FROM-THE-NETWORK" not in everything_stored(gateway)


def test_a_billion_laughs_upload_is_rejected_at_once(gateway: Gateway) -> None:
    entities = '<!ENTITY l0 "lol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    data = cxml(f"<!DOCTYPE cXML [{entities}]>", description="&l9;")
    start = time.perf_counter()
    doc_id = receive(gateway, data, partner_id="contoso-cxml", filename="lol.xml")
    elapsed = time.perf_counter() - start
    status, errors = status_and_errors(gateway, doc_id)
    # libxml2 stops it first (amplification limit) even with entity resolution off.
    assert status == Status.REJECTED
    assert any("declares entities" in e or "amplification" in e for e in errors), errors
    assert elapsed < 10, elapsed
    assert b"lollollol" not in everything_stored(gateway)
    assert erp_orders(gateway) == []
