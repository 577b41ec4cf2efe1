"""Canonical documents to and from JSON, recognised by their ``document_type``.

The JSON the gateway writes leaves out empty values (``null``, ``[]``): a 200-line order
stays readable, and reading it back gives the same model because those are the defaults.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from .invoice import Invoice
from .order import Order
from .order_ack import OrderAck
from .shipment import Shipment

Document = Annotated[Order | OrderAck | Shipment | Invoice, Field(discriminator="document_type")]
_ADAPTER: TypeAdapter[Order | OrderAck | Shipment | Invoice] = TypeAdapter(Document)


def dump(document: Order | OrderAck | Shipment | Invoice) -> dict[str, Any]:
    """The document as JSON-ready data, without nulls and empty lists."""
    pruned: dict[str, Any] = _prune(document.model_dump(mode="json", exclude_none=True))
    return pruned


def dumps(document: Order | OrderAck | Shipment | Invoice, *, indent: int | None = 2) -> str:
    return json.dumps(dump(document), indent=indent, ensure_ascii=False)


def erp_json(order: Order) -> bytes:
    """The JSON the ERP gets for ``order``: ``order.model_dump_json(exclude_none=True,
    indent=2).encode()``, byte for byte (empty lists kept, unlike :func:`dumps`).

    Asks the serializer for bytes directly: ``model_dump_json`` decodes its bytes to a str
    that the caller encodes again, about 3 % of the render of an 11 KB order.
    """
    return type(order).__pydantic_serializer__.to_json(order, indent=2, exclude_none=True)


def load(data: Any, default_type: str | None = None) -> Order | OrderAck | Shipment | Invoice:
    """A document from parsed JSON, its class chosen by ``document_type``.

    ``default_type`` stands in when the data has no ``document_type`` (the CLI knows an
    856 is written from a shipment). Raises ``pydantic.ValidationError`` with the path of
    every problem.
    """
    if default_type is not None and isinstance(data, dict) and "document_type" not in data:
        data = {**data, "document_type": default_type}
    return _ADAPTER.validate_python(data)


def _prune(value: Any) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _prune(v)
            if v is None or v == []:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value
