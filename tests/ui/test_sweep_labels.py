"""Each sweep's legend label is the value of the epoch field that changes from sweep to
sweep, computed from the protocol (no Qt needed)."""

import pytest

from rig.protocols.protocol import load_protocol, protocol_from_dict
from ui.scopes.sweep_labels import sweep_labels


def test_iv_family_labels_are_the_step_potentials():
    labels = sweep_labels(load_protocol("vc-iv-family"))
    # -80 mV + 10 mV per sweep, 15 sweeps (resources/protocols/vc-iv-family.json)
    assert labels == [f"{v:+d} mV".replace("+0", "0") for v in range(-80, 61, 10)]
    assert labels[4] == "-40 mV" and labels[8] == "0 mV" and labels[9] == "+10 mV"


def test_threshold_labels_are_the_pulse_currents():
    labels = sweep_labels(load_protocol("cc-threshold"))
    assert labels == [f"+{20 + 10 * k} pA" for k in range(12)]


def test_paired_pulse_labels_are_the_intervals():
    labels = sweep_labels(load_protocol("cc-paired-pulse"))
    # the gap between the two 300 pA pulses: 2 ms + 3 ms per sweep
    assert labels == [f"interval {2 + 3 * k} ms" for k in range(10)]
    assert labels[2] == "interval 8 ms"


@pytest.mark.parametrize("name, sweep, label", [
    ("vc-recovery", 3, "interval 10 ms"), ("cc-ramp", 1, "ramp 40 ms"),
    ("vc-tail-currents", 0, "-110 mV"), ("cc-anode-break", 3, "-55 pA"),
    ("vc-inactivation", 18, "-30 mV"), ("cc-step-family", 15, "+150 pA")])
def test_every_shipped_family_has_its_label(name, sweep, label):
    assert sweep_labels(load_protocol(name))[sweep] == label


def test_a_protocol_without_deltas_numbers_its_sweeps_and_several_fields_join():
    base = {"format": "vrig-protocol", "version": 1, "mode": "CC", "sweeps": 3,
            "epochs": [{"kind": "step", "duration_ms": 5, "level": 0}]}
    assert sweep_labels(protocol_from_dict(base)) == ["sweep 1", "sweep 2", "sweep 3"]
    base["epochs"] = [{"kind": "sine", "duration_ms": 50, "level": 0, "amplitude": 10,
                       "frequency_hz": 20, "frequency_delta_hz": 10, "amplitude_delta": -5}]
    assert sweep_labels(protocol_from_dict(base))[2] == "amplitude 0 pA, 40 Hz"
