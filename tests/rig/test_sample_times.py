"""When the kernel's samples are taken: sample k is what a digitiser reads at t0 + k x the
sample interval. Vm, Vmem, the gates and the channel currents are the state before that
interval is stepped (so a command written at sample k shows first at sample k + 1); Im
and the gating current are the means over the interval ending there, the previous one
carried between blocks, so a run cut into chunks (the live runner) gives the same bits
as one block (episodes, files).
"""

import numpy as np
import pytest

import rig
from rig.simulation import layout
from rig.simulation.episodes import protocol_pieces

INTERVAL_S = 20e-6
CHUNKS = (1, 7, 250, 333)  # samples per chunk: odd sizes, a single sample, a whole step


def configured(clamp):
    """hh-squid (or the model cell with its 4 pF pipette) in one clamp configuration
    (layout.CLAMP_*), settled; with its command: three steps that make it fire or carry
    a large transient."""
    if clamp == layout.CLAMP_CC_PIPETTE:
        setup = rig.Rig.from_presets("model-cell")
        setup.set_amplifier(neutralization=2e-12, bridge=5e6)
    else:
        setup = rig.Rig.from_presets("hh-squid")
    if clamp == layout.CLAMP_VC:
        setup.set_amplifier(series_resistance=5e6, whole_cell_capacitance=10e-12,
                            whole_cell_resistance=5e6, rs_correction=0.5, rs_prediction=0.5)
    vc = clamp in (layout.CLAMP_VC, layout.CLAMP_VC_IDEAL)
    setup.set_mode("VC" if vc else "CC")
    setup.settle()
    assert setup.kernel_inputs(setup.membrane()).advance.py_func.__name__ == f"advance_{clamp}"
    hold, level = (-0.065, 0.0) if vc else (0.0, 200e-12)
    command = np.full(2000, hold)
    command[300:900] = level
    command[1200:1260] = level
    return setup, command


CLAMPS = (layout.CLAMP_VC_IDEAL, layout.CLAMP_VC, layout.CLAMP_CC, layout.CLAMP_CC_PIPETTE)


@pytest.mark.parametrize("clamp", CLAMPS)
@pytest.mark.parametrize("chunk", CHUNKS)
def test_chunks_give_the_same_bits_as_one_block(clamp, chunk):
    setup, command = configured(clamp)
    whole = {name: values.copy() for name, values in setup.advance(command, INTERVAL_S).items()}
    setup, command = configured(clamp)
    pieces = [setup.advance(command[i: i + chunk], INTERVAL_S)
              for i in range(0, command.size, chunk)]
    for name, values in whole.items():
        joined = np.concatenate([p[name] for p in pieces])
        np.testing.assert_array_equal(joined, values, err_msg=name)


@pytest.mark.parametrize("clamp", CLAMPS)
def test_sample_zero_is_the_settled_state_and_a_step_shows_one_sample_later(clamp):
    setup, command = configured(clamp)
    v0 = setup.membrane_potential
    gates0 = setup.sim.gates[:, 0].copy()
    im0 = setup.sim.electrode[layout.EL_IM] * 1e-12
    sig = setup.advance(command, INTERVAL_S)
    assert sig["Vmem"][0] == pytest.approx(v0, rel=1e-15)
    names = setup.membrane().gate_names
    assert [sig[name][0] for name in names] == list(gates0)
    assert sig["Im"][0] == im0
    # settled (within 0.1 uV, 1 fA, 1e-7 of a gate: the tables' interpolation drifts a
    # little off the exact steady state): nothing moves until the sample after the step
    # written at sample 300, which moves by far more
    for name, tolerance in (("Vmem", 1e-7), ("Im", 1e-15), *((n, 1e-7) for n in names)):
        x = sig[name]
        np.testing.assert_allclose(x[:301], x[0], rtol=0, atol=tolerance, err_msg=name)
        assert abs(x[301] - x[300]) > 10 * tolerance, name
    if clamp in (layout.CLAMP_CC, layout.CLAMP_CC_PIPETTE):
        # in CC the current output is the command of the interval ending at each sample
        np.testing.assert_array_equal(sig["Im"][1:], command[:-1])


def test_the_settled_current_is_the_holding_current_in_vc():
    setup = rig.Rig.from_presets("hh-squid")
    setup.set_mode("VC")
    setup.set_holding(-0.040)
    setup.settle()
    sig = setup.advance(np.full(500, -0.040), INTERVAL_S)
    # sample 0 (the steady current at the settled state) continues into the samples
    # stepped at the holding level without a jump
    assert sig["Im"][0] == pytest.approx(sig["Im"][1], rel=1e-9)
    assert sig["Im"][0] == pytest.approx(sig["Im"][-1], rel=1e-9)


@pytest.mark.parametrize(("protocol_name", "sweeps"), [("vc-iv-family", 1), ("cc-threshold", 12)])
def test_the_runner_pieces_give_the_bits_of_the_recording(protocol_name, sweeps):
    """The paced runner's pieces of 499 samples against the one-block recording. In the
    ideal clamp the gap between sweeps is not stepped but relaxed in closed form, once
    (recording) or in 5 ms pieces (runner), which differ by rounding (1e-12): there only
    the first sweep is compared bit for bit."""
    protocol = rig.load_protocol(protocol_name)
    recording = rig.Rig.from_presets("hh-squid").run(protocol)
    joined = {}
    for piece in protocol_pieces(rig.Rig.from_presets("hh-squid"), protocol,
                                 samples_per_piece=499):
        if piece.kind == "sweep" and piece.sweep < sweeps:
            for name, values in piece.signals.items():
                joined.setdefault((name, piece.sweep), []).append(values)
    assert len(joined) == sweeps * len(recording.signals)
    for (name, k), parts in joined.items():
        np.testing.assert_array_equal(np.concatenate(parts), recording.sweep(name, k),
                                      err_msg=f"{name}, sweep {k}")
