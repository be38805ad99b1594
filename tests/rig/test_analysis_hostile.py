"""Any recording the analysis may be given (odd commands, NaN, a single sample, no
stimulus, random spikes) gives a result or a VrigError that says what is wrong, in both
clamp modes and with any windows; never another exception."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rig
from rig.analysis.report import AnalysisSettings, analysis_csv
from rig.analysis.sweep_family import SweepFamily
from rig.files.recording import Recording

values = st.one_of(st.floats(min_value=-0.2, max_value=0.2), st.just(float("nan")))


@st.composite
def recordings(draw):
    mode = draw(st.sampled_from(["VC", "CC"]))
    sweeps = draw(st.integers(1, 3))
    samples = draw(st.integers(1, 120))
    lengths = np.array([draw(st.integers(1, samples)) for _ in range(sweeps)])
    lengths[0] = samples
    scale = 1.0 if mode == "VC" else 1e-9
    levels = draw(st.lists(st.floats(-1.0, 1.0), min_size=1, max_size=4))
    command = np.full((sweeps, samples), np.nan)
    signal = np.full((sweeps, samples), np.nan)
    for k, n in enumerate(lengths):
        pieces = np.array_split(np.arange(n), len(levels))
        for piece, level in zip(pieces, levels):
            command[k, piece] = level * scale * (1 + k)
        signal[k, :n] = draw(st.lists(values, min_size=int(n), max_size=int(n)))
    measured = "Im" if mode == "VC" else "Vm"
    units = {"command": "V" if mode == "VC" else "A", measured: "A" if mode == "VC" else "V"}
    if mode == "VC":
        signal *= 1e-9
    return Recording({"command": command, measured: signal}, units, lengths,
                     draw(st.sampled_from([2e-5, 1e-4])), {})


@settings(max_examples=150, deadline=None)
@given(recording=recordings(), window=st.one_of(st.none(), st.tuples(
    st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))))
def test_any_recording_gives_a_table_or_a_reason(recording, window):
    try:
        family = SweepFamily.from_recording(recording)
        text = analysis_csv(family, AnalysisSettings(windows=(window, None, None)))
    except rig.VrigError as exc:
        assert str(exc)
        return
    header = next(line for line in text.splitlines() if not line.startswith("#"))
    assert header.startswith("sweep,")


def test_an_empty_recording_is_refused():
    empty = Recording({"command": np.zeros((0, 0)), "Vm": np.zeros((0, 0))},
                      {"command": "A", "Vm": "V"}, np.array([], dtype=int), 2e-5, {})
    with pytest.raises(rig.VrigError, match="no samples"):
        SweepFamily.from_recording(empty)
