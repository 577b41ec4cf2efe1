"""The one exception tree of edigate.

Exceptions are for the unrecoverable. Problems found *in documents* are data
(:class:`edigate.x12.findings.Finding`) and are reported, not raised.

::

    EdigateError                      base of everything edigate raises on purpose
    ├── ConfigError                   a profile, map or config file is wrong (file:line)
    ├── X12Error                      the X12 codec was used wrongly
    │   └── X12WriteError             a value cannot be written (separator inside, bad envelope)
    ├── InputError                    an input file cannot be opened or read at all
    ├── PartnerError                  (edigate.partners) a document's partner cannot be decided
    │   └── UnknownPartnerError       no partner claims the sender ID that was seen
    └── StoreError                    the document store cannot do what was asked
        ├── StoreUnavailableError     the database or blob store cannot be reached or written
        └── StoreConflictError        a concurrent transaction won (deadlock): try again now

Errors from libraries (paramiko, SQLAlchemy, lxml, ...) are wrapped at the boundary with
``raise SomeEdigateError(...) from exc`` so callers only catch this tree.
"""

from __future__ import annotations


class EdigateError(Exception):
    """Base class: the CLI turns any of these into a clean message and exit status."""


class ConfigError(EdigateError):
    """A configuration, partner profile or map is invalid.

    ``path`` and ``line`` point at the source so the message reads ``file:line: message``.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        self.detail = message
        #: ``file:line`` (or ``file``, or nothing): where the message points.
        self.where = f"{path}:{line}" if path and line else (path or "")
        super().__init__(f"{self.where}: {message}" if self.where else message)

    def as_warning(self) -> str:
        """The same line, said as a warning: ``file:line: warning: message``."""
        return f"{self.where}: warning: {self.detail}" if self.where else f"warning: {self.detail}"


class X12Error(EdigateError):
    """The X12 codec was asked to do something impossible."""


class X12WriteError(X12Error):
    """A segment cannot be serialised, e.g. a value contains a separator (X12 has no escape).

    ``segment`` is the tag, ``element`` the 1-based element position, where known.
    """

    def __init__(self, message: str, *, segment: str | None = None, element: int | None = None):
        self.segment = segment
        self.element = element
        super().__init__(message)


class InputError(EdigateError):
    """An input could not be read at all (missing file, permission, I/O error)."""


class StoreError(EdigateError):
    """The document store failed; nothing was half-written (see ``edigate.store``)."""


class StoreConflictError(StoreError):
    """PostgreSQL gave up this transaction for a concurrent one (a deadlock, a serialization
    failure): nothing of it was kept, and trying again at once is expected to work."""


class StoreUnavailableError(StoreError):
    """The database or the blob volume is unavailable: channels must refuse input, not lose it."""
