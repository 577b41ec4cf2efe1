"""edigate: an EDI and B2B document translation gateway.

The X12 codec lives in :mod:`edigate.x12`; every error the project raises derives from
:class:`edigate.errors.EdigateError`.
"""

__version__ = "0.1.0"
