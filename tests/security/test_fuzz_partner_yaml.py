"""Fuzzing the partner profile and map loader (bounded, in the regular run).

Profiles and maps are written by people (and pasted from partners' emails); a broken one must
give ``file:line: what`` errors, never a traceback, and never take the gateway's memory.
Mutated YAML text is written into a scratch config directory and checked as
``edigate partners check`` does. The longer atheris run: ``tests/fuzz/fuzz_partner_yaml.py``.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edigate.partners import ConfigErrors, parse_yaml
from edigate.partners.loader import MAX_DEPTH

from . import targets
from .mutations import mutated

SEEDS = {kind: path.read_bytes() for kind, path in targets.YAML_SEEDS.items()}
PER_INPUT_SECONDS = 5.0


@pytest.fixture(scope="module")
def config() -> Iterator[targets.ConfigDir]:
    scratch = targets.ConfigDir()
    yield scratch
    scratch.close()


@settings(
    max_examples=targets.examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=targets.DERANDOMIZE,
)
@given(st.data())
def test_mutated_profiles_and_maps_give_file_line_errors(
    config: targets.ConfigDir, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(sorted(SEEDS)))
    raw = data.draw(mutated([SEEDS[kind]], separators=b":-[]{}\n &*'\"#"))
    text = raw.decode("utf-8", "surrogateescape")
    targets.bounded(PER_INPUT_SECONDS, targets.partner_yaml, text, kind, config)


def test_the_unmutated_seeds_check_clean(config: targets.ConfigDir) -> None:
    for kind, raw in SEEDS.items():
        result = targets.partner_yaml(raw.decode(), kind, config)
        assert result.problems == [] and len(result.registry) == 1


# --------------------------------------------------------------------------- hostile YAML


def alias_bomb(levels: int) -> str:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_a_yaml_billion_laughs_is_refused_quickly_in_bounded_memory() -> None:
    """Nine levels of ten aliases: 10**9 values from 400 bytes (before the fix, seven levels
    took 18 s and 12 million line entries; nine would have exhausted memory)."""
    text = alias_bomb(9)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        with pytest.raises(ConfigErrors) as caught:
            parse_yaml(text, "maps/bomb.yaml")
        elapsed = time.perf_counter() - start
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == (
        "maps/bomb.yaml:4: aliases expand to more values than the file holds "
        "(a 'billion laughs'?): refused"
    )
    assert elapsed < 2, elapsed
    assert peak < 16 * 1024 * 1024, peak


def test_modest_aliases_still_work() -> None:
    text = "base: &base {qualifier: ZZ, id: ACME}\nproduction: *base\ntest: *base\n"
    source = parse_yaml(text, "partners/p.yaml")
    assert source.data["test"] == {"qualifier": "ZZ", "id": "ACME"}


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 100_000 + "]" * 100_000,
        "a:\n" + "".join("  " * i + "- k:\n" for i in range(1, 2000)),
    ],
    ids=["flow", "block"],
)
def test_deep_nesting_is_a_config_error_not_a_recursion_error(text: str) -> None:
    with pytest.raises(ConfigErrors, match=f"nested more than {MAX_DEPTH} levels deep"):
        parse_yaml(text, "maps/deep.yaml")


def test_yaml_tags_are_not_constructors(config: targets.ConfigDir) -> None:
    """SafeLoader: a python tag is refused at compose time or read as text, never run."""
    text = SEEDS["map"].decode() + "\nextra: !!python/object/apply:os.system ['touch /tmp/x']\n"
    result = targets.partner_yaml(text, "map", config)
    assert [p.detail for p in result.problems if "extra" in p.detail]
