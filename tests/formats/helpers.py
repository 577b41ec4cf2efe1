"""Layouts from YAML text, loaded the way a map is (scalars as text, file:line errors)."""

from __future__ import annotations

from pathlib import Path

from edigate.partners.layouts import CsvLayout, XmlLayout
from edigate.partners.loader import parse_yaml, validate
from edigate.partners.mapfile import PartnerMap

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def map_from(text: str) -> PartnerMap:
    pmap, errors = validate(PartnerMap, parse_yaml(text, "maps/t.yaml"))
    assert errors == [], [str(e) for e in errors]
    assert pmap is not None
    return pmap


def csv_layout(body: str) -> CsvLayout:
    """``body`` is the ``csv:`` section's content, indented by two spaces."""
    layout = map_from("format: csv\ncsv:\n" + body).csv
    assert layout is not None
    return layout


def xml_layout(body: str) -> XmlLayout:
    layout = map_from("format: xml\nxml:\n" + body).xml
    assert layout is not None
    return layout
