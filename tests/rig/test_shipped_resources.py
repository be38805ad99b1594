"""One corrupt shipped preset never stops the others (issue 9 item 9).

The resources folder is copied to a temporary place and one file is broken there:
bad JSON, a field of the wrong kind, an oversized file. The scan of that kind leaves
the preset out and names its file and the problem; cells that use a broken channel
or solution are left out too; `vrig list` prints the others and warns once on stderr;
everything else still loads. A hypothesis suite puts arbitrary JSON values into every
field of every shipped preset: a builder returns or raises VrigError, nothing else.
"""

import copy
import json
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rig
from rig import resources
from rig.errors import VrigError
from rig.model import catalogue
from rig.model.cell import cell_from_dict, scan_cells
from rig.model.channels import channel_from_dict, scan_channels
from rig.model.pharmacology import drug_from_dict, drug_names, load_drug, scan_drugs
from rig.model.solutions import scan_solutions, solution_from_dict
from ui import cli as ui_cli

REAL = resources.resources_dir()


@pytest.fixture
def copied(tmp_path, monkeypatch):
    """A copy of resources/ that the rig reads instead of the real one."""
    target = tmp_path / "resources"
    shutil.copytree(REAL, target, ignore=shutil.ignore_patterns("screenshots", "style"))
    monkeypatch.setattr(resources, "resources_dir", lambda: target)
    return target


BREAKAGES = {
    "bad JSON": lambda text: text[: len(text) // 2],
    "a wrong field": lambda text: json.dumps({**json.loads(text), "format": "vrig",
                                              "sides": "both", "gates": 3,
                                              "concentrations_mM": {"Na": "lots"},
                                              "area_um2": -5}),
    "an oversized file": lambda text: text + " " * (resources.MAX_PRESET_BYTES + 1),
    "not an object": lambda text: "[1, 2, 3]",
}


@pytest.mark.parametrize("kind, name, scan", [
    ("drugs", "tea", scan_drugs), ("drugs", "ttx", scan_drugs),
    ("solutions", "squid-seawater", scan_solutions), ("channels", "hh-k", scan_channels),
    ("cells", "hh-squid", scan_cells)])
@pytest.mark.parametrize("breakage", BREAKAGES)
def test_a_broken_preset_is_named_and_the_others_load(copied, kind, name, scan, breakage):
    path = copied / kind / f"{name}.json"
    path.write_text(BREAKAGES[breakage](path.read_text(encoding="utf-8")), encoding="utf-8")
    good, problems = scan()
    print(f"{kind}/{name}.json with {breakage}: good {sorted(good)}; problems "
          f"{[(p.split('/')[-1], m[:90]) for p, m in problems]}")
    assert name not in good
    assert sorted(good) == sorted(n for n in resources.preset_names(kind) if n != name)
    assert [p for p, _ in problems] == [str(path)]
    assert problems[0][1]  # says what is wrong
    assert dict(catalogue.problems())[str(path)] == problems[0][1]
    # every other kind is untouched, and a rig on another cell still runs
    for other, other_scan in catalogue.scanners().items():
        if other not in (kind, "cells"):
            assert not other_scan()[1]
    assert "cortical-neuron" in scan_cells()[0]
    setup = rig.Rig.from_presets("model-cell")
    assert setup.run(rig.load_protocol("vc-recovery")).n_sweeps == 12


def test_cells_whose_channel_or_solution_is_broken_are_left_out_with_the_reason(copied):
    (copied / "channels" / "hh-na.json").write_text("{", encoding="utf-8")
    (copied / "solutions" / "acsf.json").write_text("{}", encoding="utf-8")
    good, problems = scan_cells()
    reasons = dict(problems)
    print(sorted(good), {p.split("/")[-1]: m for p, m in problems})
    # hh-squid, hh-small and the fibres need hh-na; the others bathe in ACSF, except the
    # squid patches, whose Markov schemes do not need the hh-na channel file
    assert sorted(good) == ["patch-k", "patch-na"]
    assert "channel 'hh-na' cannot be used" in reasons[str(copied / "cells" / "hh-squid.json")]
    assert "bath solution 'acsf'" in reasons[str(copied / "cells" / "model-cell.json")]
    everything = catalogue.problems()
    assert str(copied / "channels" / "hh-na.json") in dict(everything)
    assert str(copied / "solutions" / "acsf.json") in dict(everything)
    # the broken files, hh-squid, hh-small, model-cell, cortical-neuron,
    # patch-na-allosteric and the three fibres
    assert "channel 'hh-na' cannot be used" in reasons[str(copied / "cells" / "squid-axon.json")]
    assert len(everything) == len(set(everything)) == 10


def test_drug_lookup_and_listing_skip_a_broken_drug(copied):
    (copied / "drugs" / "tea.json").write_text("{not json", encoding="utf-8")
    assert drug_names() == ["4-AP", "chloramine-T", "Cs", "ouabain", "pronase", "TTX"]
    assert load_drug("ttx").name == "TTX"
    with pytest.raises(VrigError, match="tea.json is not valid JSON"):
        load_drug("TEA")
    with pytest.raises(VrigError, match=r"unknown drug 'LSD'; available: 4-AP, .*TTX"):
        load_drug("LSD")


def test_vrig_list_prints_the_good_ones_and_warns_once(copied, capsys):
    (copied / "drugs" / "tea.json").write_text('{"format": "vrig-drug"', encoding="utf-8")
    status = ui_cli.main(["list", "drugs"])
    out, err = capsys.readouterr()
    print(out, err)
    assert status == 0
    assert [line.split()[0] for line in out.splitlines()] == [
        "4-ap", "chloramine-t", "cs", "ouabain", "pronase", "ttx"]
    assert len(err.splitlines()) == 1 and err.startswith("vrig: warning: 1 drugs preset(s)")
    assert "tea.json" in err and "Traceback" not in err
    (copied / "protocols" / "vc-recovery.json").write_text("[", encoding="utf-8")
    assert ui_cli.main(["list", "protocols"]) == 0
    out, err = capsys.readouterr()
    assert "vc-iv-family" in out and "vc-recovery" not in out
    assert len(err.splitlines()) == 1 and "vc-recovery.json" in err


def test_every_shipped_preset_loads():
    assert catalogue.problems() == []
    for kind, scan in catalogue.scanners().items():
        good, problems = scan()
        assert sorted(good) == resources.preset_names(kind) and problems == []


# --- hypothesis: any JSON value in any field --------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-10 ** 30, max_value=10 ** 30)
    | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8)

BUILDERS = {"drugs": drug_from_dict, "channels": channel_from_dict, "cells": cell_from_dict,
            "solutions": solution_from_dict}
PRESETS = [(kind, name) for kind in BUILDERS for name in resources.preset_names(kind)]


def _paths(value, prefix=()):
    """Every key path into nested dicts and lists."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i,))


def _replace(data, path, value):
    data = copy.deepcopy(data)
    if not path:
        return value
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(preset=st.sampled_from(PRESETS), choice=st.integers(min_value=0), value=JSON_VALUES)
def test_any_value_in_any_field_is_accepted_or_refused_with_a_vrig_error(preset, choice, value):
    kind, name = preset
    data = resources.load_preset(kind, name)
    paths = list(_paths(data))
    mutated = _replace(data, paths[choice % len(paths)], value)
    try:
        BUILDERS[kind](mutated, name)
    except VrigError as exc:
        assert str(exc)
