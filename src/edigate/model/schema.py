"""The JSON Schema of each canonical document, published for the ERP team."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from .invoice import Invoice
from .order import Order
from .order_ack import OrderAck
from .shipment import Shipment

#: Document name (as the CLI and ``document_type`` spell it) -> model.
MODELS: dict[str, type[BaseModel]] = {
    "order": Order,
    "order-ack": OrderAck,
    "shipment": Shipment,
    "invoice": Invoice,
}


def json_schema(
    name: str, mode: Literal["validation", "serialization"] = "validation"
) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the document ``name`` (see :data:`MODELS`).

    ``validation`` describes what we accept; ``serialization`` what we emit (decimals as
    strings there, so no precision is lost in transit).
    """
    try:
        model = MODELS[name]
    except KeyError:
        raise KeyError(f"unknown document {name!r}; one of {', '.join(MODELS)}") from None
    schema = model.model_json_schema(mode=mode)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://edigate.dev/schema/{name}.json"
    return schema
