"""The hot-reloaded registry takes a change only once the files have stood still: a SKU
CSV caught half copied parses, and would reject the lines of every SKU past the cut."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from edigate.partners import Registry, load_registry
from edigate.partners import cache as cache_module
from edigate.partners.cache import RegistryCache


def skus(cache: RegistryCache) -> int:
    xref = cache.get().partners["acme-retail"].xref
    assert xref is not None
    return len(xref)


def test_a_file_still_being_written_is_not_loaded(config_copy: Path) -> None:
    cache = RegistryCache(config_copy, check_every=0, settle=0.5)
    assert skus(cache) == 3
    table = config_copy / "maps/acme-retail-skus.csv"
    full = table.read_text()
    table.write_text(full[: full.index("CLP-050-ST")])  # the copy is two rows in
    assert skus(cache) == 3  # the last good table, not the two rows
    table.write_text(full + "NEW-1,NEW-1V,099999999999,new\n")  # the copy is complete
    assert skus(cache) == 3
    time.sleep(0.6)
    assert skus(cache) == 4


def test_without_settling_a_change_is_taken_at_once(config_copy: Path) -> None:
    cache = RegistryCache(config_copy, check_every=0)
    assert skus(cache) == 3
    table = config_copy / "maps/acme-retail-skus.csv"
    table.write_text(table.read_text() + "NEW-1,NEW-1V,099999999999,new\n")
    assert skus(cache) == 4


def test_an_edit_made_while_idle_is_taken_by_the_first_document_after_it(
    config_copy: Path,
) -> None:
    """The settling time runs from the file's own last write, not from when the gateway
    first looks: the first document after a quiet spell gets the new map."""
    cache = RegistryCache(config_copy, check_every=0, settle=0.5)
    assert skus(cache) == 3
    table = config_copy / "maps/acme-retail-skus.csv"
    table.write_text(table.read_text() + "NEW-1,NEW-1V,099999999999,new\n")
    time.sleep(0.6)  # nobody asked meanwhile
    assert skus(cache) == 4


@pytest.mark.parametrize("absolute", [True, False], ids=["absolute", "relative"])
def test_a_sku_table_kept_outside_maps_is_followed_too(
    config_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    absolute: bool,
) -> None:
    """``sku.file`` may name a table the ERP exports elsewhere (``/srv/...`` or
    ``../erp/...``): its change is a change of the map, as one under maps/ is; it is loaded
    once per change, not again on the next look; and one that disappears is reported."""
    elsewhere = config_copy / "erp-export" / "acme-skus.csv"
    elsewhere.parent.mkdir()
    (config_copy / "maps/acme-retail-skus.csv").rename(elsewhere)
    named = str(elsewhere) if absolute else "../erp-export/acme-skus.csv"
    mapfile = config_copy / "maps/acme-retail.yaml"
    text = mapfile.read_text()
    assert "file: acme-retail-skus.csv" in text
    mapfile.write_text(text.replace("file: acme-retail-skus.csv", f"file: {named}"))
    loads: list[Path] = []

    def counted(config_dir: Path) -> Registry:
        loads.append(config_dir)
        return load_registry(config_dir)

    monkeypatch.setattr(cache_module, "load_registry", counted)
    cache = RegistryCache(config_copy, check_every=0)
    assert skus(cache) == 3
    assert skus(cache) == 3
    assert len(loads) == 1  # the table it found is not taken for a change on the next look
    elsewhere.write_text(elsewhere.read_text() + "NEW-1,NEW-1V,099999999999,new\n")
    assert skus(cache) == 4
    assert skus(cache) == 4
    assert len(loads) == 2
    elsewhere.unlink()  # a broken reload keeps the table in service, and says why
    with caplog.at_level(logging.ERROR, logger="edigate.partners"):
        assert skus(cache) == 4
    assert len(loads) == 3
    assert "partner configuration not reloaded" in caplog.text
    assert "acme-skus.csv not found" in caplog.text
