"""A fibre's electrodes in the Qt-free session: snapped to compartments, kept on the
fibre, an event per change, the commands engine_link sends for them, and the CC
holding range that follows the cell's amplifier."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.acquisition import commands as c
from rig.acquisition.snapshot import RigState
from rig.clamp import Mode
from rig.errors import VrigError
from rig.session import engine_link
from rig.session.electrodes import Electrodes, centres_m, default_electrodes
from rig.session.session import HOLDING_RANGES, ElectrodesChange, Session
from rig.simulation.engine import Rig


@pytest.fixture(scope="module")
def thin():
    cell = Rig.from_presets("thin-fibre").cell
    where = default_electrodes(cell.geometry)
    return RigState.of(Rig.from_presets("thin-fibre", stim_at=where.stim_m,
                                        record_at=where.sites_m))


@pytest.fixture(scope="module")
def patch():
    return RigState.of(Rig.from_presets("hh-squid"))


def test_a_fibre_session_starts_with_the_engines_electrodes(thin):
    session = Session(thin)
    assert session.electrodes == Electrodes(thin.fibre.stim_m, thin.fibre.sites_m, True)
    assert len(session.electrodes.sites_m) == 3
    centres = set(centres_m(thin.cell.geometry))
    assert session.electrodes.stim_m in centres and set(session.electrodes.sites_m) <= centres


def test_moves_snap_to_compartment_centres_emit_once_and_send_only_what_changed(thin):
    session = Session(thin)
    sent, seen = [], []
    engine_link.follow(session, sent.append)
    session.events.electrodes.connect(seen.append)
    before = session.electrodes
    after = session.set_electrodes(stim_m=0.002501)  # m; thin-fibre: 10 um compartments
    assert after.stim_m == pytest.approx(0.002505, abs=1e-12)
    session.set_electrodes(stim_m=0.002503)  # the same compartment: no change
    assert seen == [ElectrodesChange(before, after)]
    assert sent == [c.MoveElectrodes(after.stim_m, None)]
    sites = session.set_electrodes(sites_m=(0.001, 0.02, -1.0)).sites_m  # kept on the fibre
    assert sites[1] == pytest.approx(0.004995) and sites[2] == pytest.approx(5e-6)
    assert sent[-1] == c.MoveElectrodes(after.stim_m, sites)
    session.set_electrodes(axial_wire=False)
    assert sent[-1] == c.SetAxialWire(False) and len(sent) == 3


def test_recording_electrodes_stay_put_while_recording_or_in_a_protocol(thin):
    session = Session(thin)
    session.recording = True
    with pytest.raises(VrigError, match="cannot move while recording"):
        session.set_electrodes(sites_m=(0.001,))
    assert session.set_electrodes(stim_m=0.004002).stim_m == pytest.approx(0.004005)
    session.recording = False
    with pytest.raises(VrigError, match="same compartment"):
        session.set_electrodes(sites_m=(0.001001, 0.001003))


def test_a_point_cell_has_no_electrodes(patch):
    session = Session(patch)
    assert session.electrodes is None
    with pytest.raises(VrigError, match="single compartment"):
        session.set_electrodes(stim_m=0.0)


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                 st.none()))
def test_any_stimulating_position_is_kept_on_the_fibre_or_refused(thin, x):
    session = Session(thin)
    before = session.electrodes
    try:
        after = session.set_electrodes(stim_m=x)
    except VrigError as exc:
        assert "finite number" in str(exc) and session.electrodes == before
    else:
        assert 0.0 < after.stim_m < 0.005


def test_the_cc_range_follows_the_cells_amplifier(thin, patch):
    fibre_limit = thin.amplifier.current_range * 1e12  # pA
    session = Session(thin)
    assert session.holding_range(Mode.CC) == (-fibre_limit, fibre_limit)
    assert session.set_holding("CC", 1e9) == fibre_limit
    session.take_engine(patch)  # a patch keeps the classroom range, within its amplifier
    assert session.holding_range(Mode.CC) == HOLDING_RANGES[Mode.CC]
    assert session.holding("CC") == HOLDING_RANGES[Mode.CC][1]
    assert session.electrodes is None
    assert session.holding_range("VC") == HOLDING_RANGES[Mode.VC]


@pytest.mark.parametrize("name", ["squid-axon", "thin-fibre", "myelinated-axon"])
def test_the_fibre_stimulus_is_the_engines_pulse_current(name):
    """From the geometry alone, the same current as rig.simulation.fibre's (which reads
    the compiled model); a point cell has none."""
    from rig.model.cell import load_cell
    from rig.session.electrodes import stimulus_current_a
    from rig.simulation.fibre import Fibre, pulse_current_a

    cell = load_cell(name)
    assert stimulus_current_a(cell) == pytest.approx(pulse_current_a(Fibre(cell), 60.0, 1e-4),
                                                     rel=1e-9)
    with pytest.raises(VrigError, match="single compartment"):
        stimulus_current_a(load_cell("hh-squid"))
