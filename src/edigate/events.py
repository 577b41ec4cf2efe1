"""Events as log lines, ``kind key=value ...``, plus an optional callback.

Channels emit them for what never becomes a document (a refused login, an upload cut off
mid-transfer): there is no store row to hang them on, so the log line is the record, and
the ``on_event(kind, **fields)`` callback lets ``serve`` write them wherever it keeps
audits. The store emits one per committed audit event of a document, in the same form.

Usage::

    events = Events(logging.getLogger("edigate.sftp"), on_event)
    events.emit("auth_failed", logging.WARNING, username="acme", remote="10.0.0.7:51000")
"""

from __future__ import annotations

import logging
from typing import Any, Protocol


class EventSink(Protocol):
    """``on_event(kind, **fields)``: called from channel threads, must not block for long."""

    def __call__(self, kind: str, /, **fields: Any) -> None: ...


class Events:
    """Log an event as ``kind key=value ...`` and pass it to the sink; a failing sink is logged."""

    def __init__(self, log: logging.Logger, sink: EventSink | None = None) -> None:
        self.log = log
        self.sink = sink

    def emit(self, kind: str, level: int = logging.INFO, /, **fields: Any) -> None:
        if self.log.isEnabledFor(level):
            text = " ".join(f"{key}={_show(value)}" for key, value in fields.items())
            self.log.log(
                level,
                "%s %s",
                kind,
                text,
                extra={"edigate_event": kind, "edigate_fields": fields},
            )
        if self.sink is not None:
            try:
                self.sink(kind, **fields)
            except Exception:  # an audit hook must never take a channel down
                self.log.exception("event sink failed for %s", kind)


def _show(value: Any) -> str:
    text = str(value)
    return repr(text) if not text or any(c.isspace() or c in "='\"" for c in text) else text
