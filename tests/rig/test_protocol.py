"""Protocols as data: the issue's example, the shipped protocols, every epoch kind,
exact JSON round trips and a pure render."""

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.protocols.protocol import (
    Protocol,
    load_protocol,
    parse_protocol,
    protocol_from_dict,
    render,
    render_sweep,
)

RESOURCES = Path(__file__).resolve().parents[2] / "resources" / "protocols"

ISSUE_EXAMPLE = json.loads("""
{"format": "vrig-protocol", "version": 1, "name": "I-V family", "mode": "VC", "holding": -65,
 "sample_rate_khz": 50, "sweeps": 15, "sweep_interval_ms": 200,
 "epochs": [{"kind": "step", "duration_ms": 10, "level": -65},
            {"kind": "step", "duration_ms": 20, "level": -80, "level_delta": 10},
            {"kind": "step", "duration_ms": 20, "level": -65}]}
""")


def protocol(epochs, mode="VC", sweeps=1, rate_khz=10.0, holding=None, **extra):
    """A protocol dict around some epochs."""
    data = {"format": "vrig-protocol", "version": 1, "name": "test", "mode": mode,
            "sample_rate_khz": rate_khz, "sweeps": sweeps, "sweep_interval_ms": 0,
            "epochs": epochs, **extra}
    if holding is not None:
        data["holding"] = holding
    return protocol_from_dict(data)


# --- the issue's example ---------------------------------------------------------------

def test_issue_example_parses_from_text_and_dict():
    text = json.dumps(ISSUE_EXAMPLE)
    p = parse_protocol(text)
    assert isinstance(p, Protocol)
    assert p == protocol_from_dict(copy.deepcopy(ISSUE_EXAMPLE))
    assert p.name == "I-V family"
    assert p.mode == "VC"
    assert p.holding == -65
    assert p.sample_rate_khz == 50
    assert p.sweeps == 15
    assert p.sweep_interval_ms == 200
    assert len(p.epochs) == 3
    assert [e.kind for e in p.epochs] == ["step"] * 3


def test_issue_example_renders_15_sweeps_in_volts():
    p = protocol_from_dict(copy.deepcopy(ISSUE_EXAMPLE))
    sweeps = render(p)
    assert len(sweeps) == 15
    for k, command in enumerate(sweeps):
        assert command.shape == (2500,)  # 50 ms at 50 kHz
        assert p.sweep_samples(k) == 2500
        np.testing.assert_allclose(command[:500], -0.065, rtol=0, atol=1e-15)
        np.testing.assert_allclose(command[500:1500], (-80 + 10 * k) * 1e-3, rtol=0, atol=1e-15)
        np.testing.assert_allclose(command[1500:], -0.065, rtol=0, atol=1e-15)
    # SI volts, not millivolts
    assert np.max(np.abs(np.concatenate(sweeps))) < 0.5
    assert sweeps[-1][1000] == pytest.approx(0.060)
    assert render_sweep(p, 3).epoch_starts == (0, 500, 1500)


def test_issue_example_sample_interval():
    p = protocol_from_dict(copy.deepcopy(ISSUE_EXAMPLE))
    assert p.sample_interval_s == pytest.approx(20e-6)
    assert p.units == "mV"


# --- shipped protocols -----------------------------------------------------------------

SHIPPED = sorted(path.stem for path in RESOURCES.glob("*.json"))


def test_protocols_are_shipped():
    assert "vc-iv-family" in SHIPPED
    assert len(SHIPPED) >= 5


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_protocol_loads_and_renders(name):
    by_name = load_protocol(name)
    by_path = load_protocol(RESOURCES / f"{name}.json")
    assert by_name == by_path
    raw = json.loads((RESOURCES / f"{name}.json").read_text(encoding="utf-8"))
    assert by_name == protocol_from_dict(raw)
    sweeps = render(by_name)
    assert len(sweeps) == by_name.sweeps
    # V or A: the axon protocols pass tens of uA (the squid-axon's +/-1 mA headstage)
    limit = 0.5 if by_name.mode == "VC" else (1e-3 if name.startswith("axon-") else 1e-7)
    for k, command in enumerate(sweeps):
        assert command.shape == (by_name.sweep_samples(k),)
        assert command.size > 0
        assert np.isfinite(command).all()
        assert np.abs(command).max() <= limit
    assert protocol_from_dict(by_name.to_dict()) == by_name


# --- each epoch kind -------------------------------------------------------------------

def test_step_levels_and_deltas_per_sweep():
    p = protocol([{"kind": "step", "duration_ms": 2, "level": -70, "level_delta": -5},
                  {"kind": "step", "duration_ms": 3, "level": 10, "level_delta": 7.5}],
                 sweeps=4, rate_khz=10)
    for k, command in enumerate(render(p)):
        assert command.size == 50
        np.testing.assert_allclose(command[:20], (-70 - 5 * k) * 1e-3, atol=1e-15)
        np.testing.assert_allclose(command[20:], (10 + 7.5 * k) * 1e-3, atol=1e-15)


def test_step_in_current_clamp_is_amperes():
    p = protocol([{"kind": "step", "duration_ms": 1, "level": 0},
                  {"kind": "step", "duration_ms": 1, "level": 150, "level_delta": -50}],
                 mode="CC", sweeps=3, rate_khz=10, holding=0)
    assert p.units == "pA"
    for k, command in enumerate(render(p)):
        np.testing.assert_allclose(command[:10], 0.0, atol=0)
        np.testing.assert_allclose(command[10:], (150 - 50 * k) * 1e-12, rtol=1e-12)


def test_duration_delta_changes_sweep_length():
    p = protocol([{"kind": "step", "duration_ms": 5, "level": -65},
                  {"kind": "step", "duration_ms": 1, "level": 0, "duration_delta_ms": 3},
                  {"kind": "step", "duration_ms": 4, "level": -65}],
                 sweeps=5, rate_khz=20)
    sweeps = render(p)
    for k, command in enumerate(sweeps):
        gap = 1 + 3 * k  # ms
        n_gap = gap * 20
        assert command.size == (5 + gap + 4) * 20 == p.sweep_samples(k)
        assert render_sweep(p, k).epoch_starts == (0, 100, 100 + n_gap)
        np.testing.assert_allclose(command[:100], -0.065, atol=1e-15)
        np.testing.assert_allclose(command[100:100 + n_gap], 0.0, atol=1e-15)
        np.testing.assert_allclose(command[100 + n_gap:], -0.065, atol=1e-15)
    assert len({c.size for c in sweeps}) == 5


def test_negative_duration_delta_shortens_sweeps():
    p = protocol([{"kind": "step", "duration_ms": 10, "level": 0, "duration_delta_ms": -2.5}],
                 sweeps=4, rate_khz=10)
    assert [c.size for c in render(p)] == [100, 75, 50, 25]


def test_ramp_is_linear_between_its_end_points():
    p = protocol([{"kind": "step", "duration_ms": 1, "level": -65},
                  {"kind": "ramp", "duration_ms": 10, "level": -80, "end_level": 20,
                   "level_delta": 10, "end_level_delta": -10},
                  {"kind": "step", "duration_ms": 1, "level": -65}],
                 sweeps=3, rate_khz=10)
    for k, command in enumerate(render(p)):
        start, end = (-80 + 10 * k) * 1e-3, (20 - 10 * k) * 1e-3
        ramp = command[10:110]
        assert ramp.size == 100
        assert ramp[0] == pytest.approx(start, abs=1e-15)
        slope = (end - start) / 100  # V per sample
        np.testing.assert_allclose(np.diff(ramp), slope, rtol=1e-9, atol=1e-15)
        # the sample after the last one would sit on end_level exactly
        assert ramp[-1] + slope == pytest.approx(end, abs=1e-12)
        np.testing.assert_allclose(command[:10], -0.065, atol=1e-15)
        np.testing.assert_allclose(command[110:], -0.065, atol=1e-15)


def test_ramp_with_duration_delta_keeps_its_end_points():
    p = protocol([{"kind": "ramp", "duration_ms": 10, "duration_delta_ms": 10,
                   "level": 0, "end_level": 100}],
                 mode="CC", sweeps=3, rate_khz=10, holding=0)
    for k, command in enumerate(render(p)):
        n = (10 + 10 * k) * 10
        assert command.size == n
        assert command[0] == 0.0
        slope = 100e-12 / n
        np.testing.assert_allclose(np.diff(command), slope, rtol=1e-9)
        assert command[-1] + slope == pytest.approx(100e-12, rel=1e-9)


def test_train_pulse_timing():
    p = protocol([{"kind": "step", "duration_ms": 2, "level": 0},
                  {"kind": "train", "duration_ms": 20, "level": 0, "pulse_level": 100,
                   "pulse_width_ms": 1, "period_ms": 5}],
                 mode="CC", rate_khz=10, holding=0)
    command = render(p)[0]
    assert command.size == 220
    train = command[20:]
    high = np.flatnonzero(train > 0)
    expected = np.concatenate([np.arange(start, start + 10) for start in (0, 50, 100, 150)])
    np.testing.assert_array_equal(high, expected)
    np.testing.assert_allclose(train[high], 100e-12, rtol=1e-12)
    assert np.all(train[np.setdiff1d(np.arange(200), high)] == 0.0)
    assert np.all(command[:20] == 0.0)


def test_train_deltas_change_width_and_period_per_sweep():
    p = protocol([{"kind": "train", "duration_ms": 12, "level": -65, "pulse_level": 0,
                   "pulse_width_ms": 1, "pulse_width_delta_ms": 1,
                   "period_ms": 4, "period_delta_ms": 2, "pulse_level_delta": 10}],
                 rate_khz=10, sweeps=2)
    first, second = render(p)
    # sweep 1: 1 ms pulses every 4 ms at 0 mV
    starts = np.flatnonzero(np.diff((first > -0.0649).astype(int)) == 1) + 1
    assert list(np.flatnonzero(first > -0.0649)[:10]) == list(range(10))
    assert list(starts) == [40, 80]
    assert np.count_nonzero(first > -0.0649) == 30
    np.testing.assert_allclose(first[first > -0.0649], 0.0, atol=1e-15)
    # sweep 2: 2 ms pulses every 6 ms at +10 mV
    assert np.count_nonzero(second > -0.0649) == 40
    np.testing.assert_allclose(second[:20], 0.010, atol=1e-15)
    np.testing.assert_allclose(second[20:60], -0.065, atol=1e-15)
    np.testing.assert_allclose(second[60:80], 0.010, atol=1e-15)


def test_sine_amplitude_and_frequency():
    p = protocol([{"kind": "sine", "duration_ms": 40, "level": -65, "amplitude": 10,
                   "frequency_hz": 100, "frequency_delta_hz": 100, "amplitude_delta": 5}],
                 rate_khz=50, sweeps=2)
    for k, command in enumerate(render(p)):
        amplitude_mv = 10 + 5 * k
        frequency_hz = 100 * (k + 1)
        t_s = np.arange(command.size) / 50e3
        expected = (-65 + amplitude_mv * np.sin(2 * np.pi * frequency_hz * t_s)) * 1e-3
        np.testing.assert_allclose(command, expected, rtol=0, atol=1e-12)
        assert command.max() == pytest.approx((-65 + amplitude_mv) * 1e-3, abs=5e-6)
        assert command.min() == pytest.approx((-65 - amplitude_mv) * 1e-3, abs=5e-6)
        # upward crossings of the level: one per period in 40 ms
        centred = command - (-0.065)
        ups = np.count_nonzero((centred[:-1] < 0) & (centred[1:] >= 0))
        assert ups == pytest.approx(frequency_hz * 0.040, abs=1)
        spectrum = np.abs(np.fft.rfft(centred))
        peak_hz = np.fft.rfftfreq(command.size, 1 / 50e3)[np.argmax(spectrum)]
        assert peak_hz == pytest.approx(frequency_hz, abs=25)


def test_epoch_boundaries_do_not_drift():
    # 0.03 ms at 50 kHz is 1.5 samples; boundaries come from cumulative time
    epochs = [{"kind": "step", "duration_ms": 0.03, "level": float(i % 2)} for i in range(100)]
    p = protocol(epochs, rate_khz=50)
    sweep = render_sweep(p, 0)
    assert sweep.command.size == p.sweep_samples(0) == 150
    starts = np.array(sweep.epoch_starts + (sweep.command.size,))
    assert starts[0] == 0
    assert set(np.diff(starts)) <= {1, 2}  # every epoch gets 1 or 2 samples
    np.testing.assert_allclose(starts, np.arange(101) * 1.5, atol=0.51)  # no drift
    for i in range(100):
        assert np.all(sweep.command[starts[i]:starts[i + 1]] == (i % 2) * 1e-3)


# --- JSON round trip -------------------------------------------------------------------

def test_round_trip_of_the_issue_example_is_exact():
    p = protocol_from_dict(copy.deepcopy(ISSUE_EXAMPLE))
    assert protocol_from_dict(p.to_dict()) == p
    assert parse_protocol(p.to_json()) == p
    assert parse_protocol(p.to_json()).to_json() == p.to_json()
    assert json.loads(p.to_json()) == p.to_dict()
    again = p.to_dict()
    assert again["format"] == "vrig-protocol" and again["version"] == 1
    assert again["epochs"][1]["level_delta"] == 10


def test_round_trip_through_a_file(tmp_path):
    p = protocol([{"kind": "sine", "duration_ms": 7.25, "level": 0.1, "amplitude": 1 / 3,
                   "frequency_hz": 12.5}], description="a described protocol")
    path = tmp_path / "p.json"
    path.write_text(p.to_json(), encoding="utf-8")
    assert load_protocol(path) == p
    assert load_protocol(str(path)).description == "a described protocol"


def _level(limit):
    return st.floats(-limit, limit, allow_nan=False)


@st.composite
def valid_protocols(draw):
    mode = draw(st.sampled_from(["VC", "CC", "I0"]))
    limit = 200.0  # leaves room for deltas within +/-500 mV
    sweeps = draw(st.integers(1, 5))
    delta = st.floats(-limit / 5, limit / 5, allow_nan=False)
    kinds = {
        "step": {"level": _level(limit)},
        "ramp": {"level": _level(limit), "end_level": _level(limit)},
        "train": {"level": _level(limit), "pulse_level": _level(limit),
                  "pulse_width_ms": st.floats(0, 5), "period_ms": st.floats(0.1, 10)},
        "sine": {"level": _level(limit), "amplitude": _level(limit),
                 "frequency_hz": st.floats(0, 5000)},
    }
    epochs = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(sorted(kinds)))
        epoch = {"kind": kind, "duration_ms": draw(st.floats(0.5, 20))}
        for key, values in kinds[kind].items():
            epoch[key] = draw(values)
            if draw(st.booleans()):
                if key.endswith("_ms"):
                    epoch[key[:-3] + "_delta_ms"] = draw(st.floats(0, 2))
                elif key.endswith("_hz"):
                    epoch[key[:-3] + "_delta_hz"] = draw(st.floats(0, 100))
                else:
                    epoch[key + "_delta"] = draw(delta)
        if draw(st.booleans()):
            epoch["duration_delta_ms"] = draw(st.floats(0, 5))
        epochs.append(epoch)
    data = {"format": "vrig-protocol", "version": 1,
            "name": draw(st.text(max_size=30)), "mode": mode,
            "holding": draw(_level(limit)),
            "sample_rate_khz": draw(st.floats(10, 100)),
            "sweeps": sweeps, "sweep_interval_ms": draw(st.floats(0, 1000)),
            "epochs": epochs}
    if draw(st.booleans()):
        data["description"] = draw(st.text(max_size=50))
    return data


@settings(max_examples=60, deadline=None)
@given(valid_protocols())
def test_generated_protocols_round_trip_exactly(data):
    original = copy.deepcopy(data)
    p = protocol_from_dict(data)
    assert data == original  # the input is not touched
    assert protocol_from_dict(p.to_dict()) == p
    assert parse_protocol(p.to_json()) == p
    assert parse_protocol(p.to_json()).to_dict() == p.to_dict()
    sweeps = render(p)
    assert len(sweeps) == p.sweeps
    for k, command in enumerate(sweeps):
        assert command.shape == (p.sweep_samples(k),)
        assert np.isfinite(command).all()


# --- render is pure --------------------------------------------------------------------

def test_render_is_pure():
    data = {"format": "vrig-protocol", "version": 1, "name": "pure", "mode": "VC",
            "sample_rate_khz": 20, "sweeps": 3,
            "epochs": [{"kind": "step", "duration_ms": 1, "level": -65},
                       {"kind": "ramp", "duration_ms": 2, "level": -90, "end_level": 30,
                        "level_delta": 5},
                       {"kind": "train", "duration_ms": 3, "level": -65, "pulse_level": 0,
                        "pulse_width_ms": 0.5, "period_ms": 1},
                       {"kind": "sine", "duration_ms": 2, "level": -65, "amplitude": 5,
                        "frequency_hz": 1000}]}
    pristine = copy.deepcopy(data)
    p = protocol_from_dict(data)
    assert data == pristine
    before = p.to_dict()
    first = render(p)
    copies = [c.copy() for c in first]
    for c in first:  # scribbling on one result must not change the next render
        c[:] = 123.0
    second = render(p)
    assert len(second) == len(copies)
    for a, b in zip(copies, second):
        np.testing.assert_array_equal(a, b)
    assert p.to_dict() == before
    assert p == protocol_from_dict(pristine)
    third = [render_sweep(p, k).command for k in range(p.sweeps)]
    for a, b in zip(copies, third):
        np.testing.assert_array_equal(a, b)


def test_protocol_is_immutable():
    p = protocol_from_dict(copy.deepcopy(ISSUE_EXAMPLE))
    with pytest.raises(AttributeError):
        p.sweeps = 3
    with pytest.raises(TypeError):
        p.epochs[0].values["level"] = 0.0
