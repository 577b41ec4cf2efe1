"""GS02/GS03 against the partner's profile: warnings on a file its ISA identified.

Shared by the pipeline, which records them on the file, and ``map test``, which must show
what the pipeline would record.
"""

from __future__ import annotations

from typing import Any, Literal

from ..x12.events import GroupHeader, InterchangeHeader
from .registry import Partner


def group_party_warnings(
    partner: Partner, header: InterchangeHeader, group: GroupHeader
) -> list[dict[str, Any]]:
    """GS02/GS03 other than the profile's application IDs: the interchange was identified
    by its ISA, so the group is read, but a GS02 of another division or a GS03 naming
    someone else may mean a misrouted file: said on the file, as warnings."""
    usage: Literal["test", "production"] = "test" if header.usage == "T" else "production"
    profile = partner.profile
    found = []
    for element, value, ids, whose in (
        (2, group.sender, profile.identity, f"{partner.id}'s application sender code"),
        (3, group.receiver, profile.us, f"our application receiver code toward {partner.id}"),
    ):
        expected = ids.for_usage(usage).gs if ids is not None else None
        if expected is not None and value.strip() != expected:
            found.append(
                {
                    "code": "group_party",
                    "message": f"GS0{element} {value.strip()!r} is not {whose} {expected!r} "
                    f"(its profile's {usage} identity); the ISA identified the partner",
                    "segment": group.position,
                    "element": element,
                    "severity": "warning",
                }
            )
    return found
