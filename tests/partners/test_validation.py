"""Validation overlays: parsed from the map into neutral typed data, then an X12 Overlay."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from edigate.partners import check_config
from edigate.partners.loader import parse_yaml, validate
from edigate.partners.mapfile import PartnerMap
from edigate.partners.validation import (
    AllowedCodes,
    ElementRef,
    MaxLength,
    MaxOccurs,
    RequiredSegment,
    ValidationSpec,
    parse_element_ref,
    to_overlay,
)
from edigate.x12 import TransactionSet, X12Reader
from edigate.x12 import overlay as x12_overlay
from edigate.x12.validator import validate_transaction

Edit = Callable[[Path, str, str], int]

OVERLAY = """\
format: x12
validation:
  "850":
    require:
      - {segment: REF, when: {REF01: DP}}
      - {segment: N1, when: {N101: ST}}
      - {segment: PID, loop: PO1, min: 1}
    elements: [PER02]
    codes: {PO103: [EA, CA], PO1/REF01: [ZZ]}
    max_length: {N102: 35}
    max: {PO1: 200}
    max_segments: {/REF: 10}
"""

SPEC = ValidationSpec(
    set_id="850",
    require=(
        RequiredSegment("REF", ((ElementRef("REF", 1), "DP"),)),
        RequiredSegment("N1", ((ElementRef("N1", 1), "ST"),)),
        RequiredSegment("PID", (), "PO1", 1),
    ),
    elements=(ElementRef("PER", 2),),
    codes=(
        AllowedCodes(ElementRef("PO1", 3), frozenset({"EA", "CA"})),
        AllowedCodes(ElementRef("REF", 1, scope=("PO1",)), frozenset({"ZZ"})),
    ),
    max_lengths=(MaxLength(ElementRef("N1", 2), 35),),
    max=(MaxOccurs("PO1", 200),),
    max_segments=(MaxOccurs("/REF", 10),),
)


def test_overlay_becomes_a_validation_spec() -> None:
    pmap, errors = validate(PartnerMap, parse_yaml(OVERLAY, "maps/m.yaml"))
    assert errors == [] and pmap is not None
    assert pmap.validation_specs() == {"850": SPEC}


def test_element_refs() -> None:
    assert parse_element_ref("PO103") == ElementRef("PO1", 3)
    assert parse_element_ref("N102") == ElementRef("N1", 2)
    assert str(parse_element_ref("REF01")) == "REF01"
    assert str(parse_element_ref("SLN05-01")) == "SLN05-01"
    assert parse_element_ref("/REF02") == ElementRef("REF", 2, scope=())
    assert str(parse_element_ref("/REF02")) == "/REF02"
    assert parse_element_ref("PO1/N1/REF02").scope == ("PO1", "N1")
    for bad in ("PO1", "po103", "PO1003", "PO100", "X01", "PO1-3"):
        with pytest.raises(ValueError):
            parse_element_ref(bad)


def test_to_overlay() -> None:
    overlay = to_overlay(SPEC, "acme-retail")
    assert overlay.name == "acme-retail"
    assert overlay.required_segments == (
        x12_overlay.RequiredSegment("REF", None, {"REF01": "DP"}, 1),
        x12_overlay.RequiredSegment("N1", None, {"N101": "ST"}, 1),
        x12_overlay.RequiredSegment("PID", "PO1", {}, 1),
    )
    assert overlay.required_elements == ("PER02",)
    assert overlay.codes == {"PO103": ("CA", "EA"), "PO1/REF01": ("ZZ",)}
    assert overlay.max_lengths == {"N102": 35}
    assert overlay.loop_max == {"PO1": 200}
    assert overlay.segment_max == {"/REF": 10}


def _sample_850(samples_dir: Path, old: str = "", new: str = "") -> TransactionSet:
    data = (samples_dir / "x12/850-004010-retailer.edi").read_bytes()
    if old:
        assert data.count(old.encode()) == 1
        data = data.replace(old.encode(), new.encode())
    return next(e for e in X12Reader(data).events() if isinstance(e, TransactionSet))


def test_acme_overlay_drives_the_validator(example_dir: Path, samples_dir: Path) -> None:
    """The example map's overlay, built by the registry, accepts the sample and catches a
    missing REF*DP and a PO103 outside EA/CA."""
    acme = check_config(example_dir).registry.get("acme-retail")
    assert acme is not None
    overlay = acme.overlays["850"]
    assert validate_transaction(_sample_850(samples_dir), overlay) == []
    no_dp = validate_transaction(_sample_850(samples_dir, "REF*DP*042~", "REF*IA*042~"), overlay)
    assert [(f.code.name, f.location.tag) for f in no_dp] == [("MANDATORY_SEGMENT_MISSING", "REF")]
    assert "REF01=DP" in no_dp[0].message
    bad_unit = validate_transaction(
        _sample_850(samples_dir, "PO1*3*24*EA*", "PO1*3*24*BX*"), overlay
    )
    assert [(f.location.tag, f.location.element, f.value) for f in bad_unit] == [("PO1", 3, "BX")]
    # without the overlay, BX is a valid unit code
    assert validate_transaction(_sample_850(samples_dir, "PO1*3*24*EA*", "PO1*3*24*BX*")) == []


def test_overlay_errors_point_at_lines() -> None:
    text = """\
format: x12
validation:
  "850":
    require:
      - {segment: REF, when: {N101: DP}}
      - {segment: ref}
    codes: {PO1-3: [EA]}
    max: {PO1: 0}
  "85":
    max: {PO1: 1}
"""
    _, errors = validate(PartnerMap, parse_yaml(text, "maps/m.yaml"))
    assert [str(e) for e in errors] == [
        "maps/m.yaml:5: validation.850.require[0]: condition N101 is not an element of REF",
        "maps/m.yaml:6: validation.850.require[1].segment: 'ref' is not a segment tag "
        "(2-3 characters, uppercase, e.g. REF)",
        "maps/m.yaml:7: validation.850.codes.PO1-3: 'PO1-3' is not an element reference like "
        "PO103 (segment tag, then the element position in two digits, optionally -NN for a "
        "component, optionally a loop path before it: PO1/REF02)",
        "maps/m.yaml:8: validation.850.max.PO1: input should be greater than 0 (got '0')",
        "maps/m.yaml:9: validation.85: string should match pattern '^\\d{3}$' (got '85')",
    ]


def test_check_applies_each_restriction_to_the_spec(config_copy: Path, edit: Edit) -> None:
    path = config_copy / "maps/acme-retail.yaml"
    codes = edit(path, "codes: {PO103: [EA, CA]}", "codes: {PO103: [EA, CA], ZZZ01: [X]}")
    loop = edit(path, "max: {PO1: 200}", "max: {PO1: 200, PO9: 1}")
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert len(problems) == 2
    assert problems[0].startswith(f"maps/acme-retail.yaml:{codes}: validation.850.codes.ZZZ01: ")
    assert "ZZZ" in problems[0]
    assert problems[1].startswith(f"maps/acme-retail.yaml:{loop}: validation.850.max.PO9: ")
    assert "PO9" in problems[1]


def test_a_condition_on_an_element_the_segment_lacks_is_reported(
    config_copy: Path, edit: Edit
) -> None:
    """when: {REF11: DP} (for REF01) passed partners check, and then every file was rejected
    for a REF no segment could ever be (review finding)."""
    path = config_copy / "maps/acme-retail.yaml"
    line = edit(path, "when: {REF01: DP}", "when: {REF11: DP}")
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert problems == [
        f"maps/acme-retail.yaml:{line}: validation.850.require[0]: condition 'REF11': REF has "
        "4 elements"
    ]


def test_a_max_segments_key_that_matches_no_segment_is_reported(
    config_copy: Path, edit: Edit
) -> None:
    """A typo in max_segments used to pass partners check and limit nothing."""
    path = config_copy / "maps/acme-retail.yaml"
    line = edit(
        path, "max: {PO1: 200}", "max: {PO1: 200}\n    max_segments: {/REF: 10, PO1/ZZZ: 2}"
    )
    problems = [str(p).replace(f"{config_copy}/", "") for p in check_config(config_copy).problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"maps/acme-retail.yaml:{line + 1}: validation.850"), problems
    assert "max_segments PO1/ZZZ matches no segment of 850" in problems[0]
