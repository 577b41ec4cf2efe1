"""What every config section model shares: the strict configuration and checked text types.

Kept apart from :mod:`mapfile` so the map's sections can live in their own modules
(:mod:`layouts`) and still be fields of :class:`~edigate.partners.mapfile.PartnerMap`.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, ValidationInfo

from .fields import DEFAULT_SCHEMA, Schema, parse_path

#: The configuration of every config model: unknown keys are errors, objects are immutable.
#: Each module declares its own ``Strict(BaseModel)`` with it, so linters see pydantic models.
STRICT = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def schema_of(info: ValidationInfo) -> Schema:
    """The field schema to check paths against (``context={"schema": ...}``), or the default."""
    context = info.context if isinstance(info.context, dict) else {}
    schema = context.get("schema", DEFAULT_SCHEMA)
    assert isinstance(schema, Schema)
    return schema


def check_path(value: str, info: ValidationInfo) -> str:
    parse_path(value, schema_of(info))
    return value


#: Dates a format must write and read back unchanged: day and month told apart, two centuries.
_PROBE_DATES = (dt.date(2026, 11, 24), dt.date(1999, 2, 3))


def check_date_format(value: str) -> str:
    """A strftime format that writes a date and reads the same date back: a mistyped
    directive (``%M``, minutes, for ``%m``) would otherwise shift every date silently, and an
    unknown one (``%q``) reject every file as though the data were wrong."""
    if not any(d in value for d in ("%Y", "%y", "%m", "%d", "%j", "%b", "%B")):
        raise ValueError(f"{value!r} is not a date format (use strftime codes, e.g. %Y%m%d)")
    for probe in _PROBE_DATES:
        written = probe.strftime(value)
        try:
            back = dt.datetime.strptime(written, value).date()
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a date format Python reads: {exc}") from None
        if back != probe:
            raise ValueError(
                f"{value!r} does not read back the date it writes: {probe.isoformat()} is "
                f"written {written!r} and read as {back.isoformat()} (it needs the year, the "
                "month and the day, or %j; %m is the month, %M minutes)"
            )
    return value


CanonicalPath = Annotated[str, AfterValidator(check_path)]
Text = Annotated[str, Field(min_length=1)]
DateFormat = Annotated[str, AfterValidator(check_date_format)]
