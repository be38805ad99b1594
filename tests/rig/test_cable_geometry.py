"""Fibre geometry as data: parsing the ``cable`` object of a cell preset, the cut into
compartments, and bad values refused with a message that says what to do."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rig.errors import VrigError
from rig.model.cell import cell_from_dict, load_cell
from rig.model.geometry import CableGeometry, Myelin
from rig.resources import load_preset


def cable_cell(**cable):
    data = dict(load_preset("cells", "squid-axon"))
    data["cable"] = cable
    return cell_from_dict(data, "test-fibre")


def test_the_squid_axon_preset_is_hh_1952_geometry():
    cell = load_cell("squid-axon")
    g = cell.geometry
    assert (g.length_um, g.diameter_um, g.axial_resistivity_ohm_cm) == (30000, 476, 35.4)
    assert g.n_compartments == 300
    assert cell.temperature_c == 18.5
    assert cell.area_um2 == pytest.approx(math.pi * 476 * 30000)
    assert g.compartment_lengths_um() == pytest.approx(np.full(300, 100.0))
    assert g.centres_um()[[0, -1]] == pytest.approx([50.0, 29950.0])
    # Ri dx / (pi d^2 / 4): 35.4 ohm cm x 0.01 cm / 1.7795e-3 cm^2 = 198.9 ohm
    assert 1e9 / g.axial_conductances_ns()[0] == pytest.approx(198.93, rel=1e-4)
    assert g.compartment_at(0.0) == 0 and g.compartment_at(30000.0) == 299
    assert g.compartment_at(150.0) == 1
    assert list(g.compartments_in(12000, 12300)) == [120, 121, 122]


def test_a_compartment_count_or_length_cuts_the_fibre():
    assert cable_cell(length_mm=2, diameter_um=1, axial_resistivity_ohm_cm=100,
                      compartments=40).geometry.n_compartments == 40
    assert cable_cell(length_mm=2, diameter_um=1, axial_resistivity_ohm_cm=100,
                      compartment_length_um=25).geometry.n_compartments == 80


def test_a_myelinated_fibre_has_nodes_at_both_ends_and_whole_internodes():
    g = CableGeometry(5150.0, 10.0, 70.0, myelin=Myelin(1000.0, 1.0, 0.01, 0.1, 4))
    assert g.n_internodes == 5
    assert g.n_compartments == 5 * 5 + 1
    kinds = g.myelinated()
    assert not kinds[0] and not kinds[-1] and kinds[1:5].all() and not kinds[5]
    assert g.total_length_um == pytest.approx(5 * 1001 + 1)
    assert g.compartment_lengths_um()[:2] == pytest.approx([1.0, 250.0])


def test_lambda_is_sqrt_rm_d_over_4_ri():
    g = CableGeometry(1e4, 476.0, 35.4, 10)
    # Rm 3333 ohm cm^2: sqrt(3333 x 0.0476 / 141.6) cm = 1.0586 cm
    assert g.length_constant_um(3333.33) == pytest.approx(10585.5, rel=1e-4)


@pytest.mark.parametrize(("cable", "says"), [
    ({"length_mm": 0, "diameter_um": 1, "axial_resistivity_ohm_cm": 100,
      "compartments": 10}, "length_mm = 0 is outside"),
    ({"length_mm": -5, "diameter_um": 1, "axial_resistivity_ohm_cm": 100,
      "compartments": 10}, "length_mm = -5 is outside"),
    ({"length_mm": 5, "diameter_um": 0, "axial_resistivity_ohm_cm": 100,
      "compartments": 10}, "diameter_um = 0 is outside"),
    ({"length_mm": 5, "diameter_um": 1, "axial_resistivity_ohm_cm": 100,
      "compartments": 0}, "compartments = 0 is outside"),
    ({"length_mm": 5, "diameter_um": 1, "axial_resistivity_ohm_cm": 100,
      "compartments": 2.5}, "compartments must be a whole number"),
    ({"length_mm": 5, "diameter_um": 1, "axial_resistivity_ohm_cm": 100},
     "give exactly one of compartments and compartment_length_um"),
    ({"length_mm": 500, "diameter_um": 1, "axial_resistivity_ohm_cm": 100,
      "compartment_length_um": 0.5}, "1000000 compartments is more than the 200000"),
    ({"length_mm": 5, "diameter_um": 1, "axial_resistivity_ohm_cm": "high",
      "compartments": 10}, "axial_resistivity_ohm_cm must be a number"),
    ({"length_mm": 5, "diameter_um": 1, "axial_resistivity_ohm_cm": 100, "compartments": 9,
      "myelin": {"internode_length_um": 100, "node_length_um": 1,
                 "capacitance_uF_per_cm2": 0.01, "conductance_mS_per_cm2": 0.1}},
     "a myelinated fibre is cut by its nodes"),
    ({"length_mm": 0.05, "diameter_um": 1, "axial_resistivity_ohm_cm": 100,
      "myelin": {"internode_length_um": 100, "node_length_um": 1,
                 "capacitance_uF_per_cm2": 0.01, "conductance_mS_per_cm2": 0.1}},
     "at least one internode and two nodes"),
    ({"length_mm": 1000, "diameter_um": 1, "axial_resistivity_ohm_cm": 100,
      "myelin": {"internode_length_um": 1, "node_length_um": 0.1,
                 "capacitance_uF_per_cm2": 0.01, "conductance_mS_per_cm2": 0.1}},
     "compartments is more than"),
])
def test_bad_geometry_is_refused_with_what_to_do(cable, says):
    with pytest.raises(VrigError, match=says):
        cable_cell(**cable)


def test_a_cable_preset_may_not_also_give_an_area():
    data = dict(load_preset("cells", "squid-axon"), area_um2=1000)
    with pytest.raises(VrigError, match="remove area_um2"):
        cell_from_dict(data, "both")


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                 st.none(), st.booleans(), st.lists(st.integers(), max_size=2)))
def test_any_bad_diameter_is_a_vrig_error(value):
    try:
        cell = cable_cell(length_mm=5, diameter_um=value, axial_resistivity_ohm_cm=100,
                          compartments=10)
    except VrigError as exc:
        assert "diameter_um" in str(exc)
    else:
        assert 0.05 <= cell.geometry.diameter_um <= 2000


def test_positions_off_the_fibre_and_empty_or_reversed_stretches_are_refused():
    g = load_cell("squid-axon").geometry
    with pytest.raises(VrigError, match="position 31 mm is off the fibre; give 0 to 30 mm"):
        g.compartment_at(31000.0)
    with pytest.raises(VrigError, match="must run from low to high"):
        g.compartments_in(20000.0, 10000.0)
    with pytest.raises(VrigError, match="holds no compartment centre"):
        g.compartments_in(10010.0, 10020.0)


