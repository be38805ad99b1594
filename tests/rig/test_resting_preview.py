"""The Solutions tab's rest preview (rig.simulation.steady_state.resting_potential_mv)
is exactly the rest a Rig with the same settings settles to, without building one."""

import pytest

import rig
from rig.model.solutions import load_solution
from rig.simulation.steady_state import resting_potential_mv


@pytest.mark.parametrize("cell", ["hh-squid", "cortical-neuron", "model-cell"])
@pytest.mark.parametrize("ions", [[], ["out:K=20"], ["out:Na=100"]])
def test_the_preview_is_the_engines_rest(cell, ions):
    setup = rig.Rig.from_presets(cell=cell, ion_overrides=ions)
    preview = resting_potential_mv(setup.cell, setup.bath, setup.pipette, setup.temperature_c)
    assert preview == pytest.approx(setup.resting_potential() * 1e3, abs=1e-9)


def test_hh_rests_at_its_published_potential():
    setup = rig.Rig.from_presets(cell="hh-squid")
    rest = resting_potential_mv(setup.cell, load_solution("squid-seawater"),
                                setup.pipette, 6.3)
    assert rest == pytest.approx(-65.0, abs=0.01)  # the HH rest on the modern scale
