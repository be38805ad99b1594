"""ABF and NWB export: what the reference readers (pyABF, pynwb) read back is what was
written, to the precision each format allows.

ABF stores 16-bit integers: each channel's count is 1/64000 of its span, so a value
comes back within half a count (plus float32 rounding in pyABF). NWB stores float64
SI values, so everything comes back exactly.
"""

import numpy as np
import pytest

import rig
from rig.files.recording import Recording, load_recording


@pytest.fixture(scope="module")
def vc_recording():
    return rig.Rig.from_presets("hh-squid").run(rig.load_protocol("vc-iv-family"))


@pytest.fixture(scope="module")
def cc_recording():
    return rig.Rig.from_presets("hh-squid").run(rig.load_protocol("cc-threshold"))


def _abf_tolerance(values):
    """Half a count of the channel, plus float32 rounding of the largest value."""
    finite = values[np.isfinite(values)]
    return np.ptp(finite) / 128000 + np.max(np.abs(finite)) * 2.0 ** -23


def _first_sweeps(rec, n):
    """The first n sweeps of a recording (all its signals)."""
    return Recording({k: v[:n] for k, v in rec.signals.items()}, rec.units,
                     rec.sweep_lengths[:n], rec.sample_interval_s, rec.metadata)


# --- ABF -----------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["vc_recording", "cc_recording"])
def test_abf_round_trip_through_pyabf(which, request, tmp_path):
    pyabf = pytest.importorskip("pyabf")
    rec = request.getfixturevalue(which)
    path = tmp_path / "family.abf"
    rec.save(path)
    abf = pyabf.ABF(str(path))
    names = rec.selected("basic")  # Vm, Im, command (and Im_raw where the amplifier has it)
    assert abf.adcNames == names
    file_units = {"V": "mV", "A": "pA"}
    assert abf.adcUnits == [file_units[rec.units[name]] for name in names]
    assert abf.dataRate == 50_000
    assert abf.sweepCount == rec.n_sweeps
    scale = {"mV": 1e3, "pA": 1e12}
    for channel, name in enumerate(names):
        expected = rec.signals[name] * scale[abf.adcUnits[channel]]
        tolerance = _abf_tolerance(expected)
        for k in range(rec.n_sweeps):
            abf.setSweep(k, channel=channel)
            np.testing.assert_allclose(abf.sweepY, expected[k], rtol=0, atol=tolerance)


def test_abf_sweeps_found_by_an_independent_reader(vc_recording, tmp_path):
    """neo's AxonRawIO follows Axon's spec (sweeps from the synch array, as Clampfit)."""
    pytest.importorskip("neo")
    from neo.rawio import AxonRawIO

    path = tmp_path / "iv.abf"
    vc_recording.save(path)
    reader = AxonRawIO(str(path))
    reader.parse_header()
    assert reader.segment_count(0) == vc_recording.n_sweeps
    assert reader.segment_t_start(0, 3) == pytest.approx(3 * 0.2)  # sweep_interval_ms 200
    assert reader.get_signal_sampling_rate(0) == pytest.approx(50_000, rel=1e-6)
    names = list(reader.header["signal_channels"]["name"])
    raw = reader.get_analogsignal_chunk(0, 8, None, None, stream_index=0)
    values = reader.rescale_signal_raw_to_float(raw, dtype="float64", stream_index=0)
    expected = vc_recording.sweep("Im", 8) * 1e12
    tolerance = _abf_tolerance(vc_recording.signals["Im"] * 1e12)
    np.testing.assert_allclose(values[:, names.index("Im")], expected, rtol=0,
                               atol=tolerance * 1.02)  # neo keeps the gain in float32


def test_abf_load_recording_gives_si_signals(vc_recording, tmp_path):
    pyabf = pytest.importorskip("pyabf")
    path = tmp_path / "iv.abf"
    vc_recording.save(path)
    back = load_recording(path)
    assert back.units == {name: vc_recording.units[name] for name in vc_recording.selected()}
    assert back.sample_interval_s == pytest.approx(vc_recording.sample_interval_s, rel=1e-9)
    # the full metadata comes back from the blocks between the header and the data
    assert back.metadata == vc_recording.metadata
    assert pyabf.ABF(str(path)).abfFileComment.strip() == "vRig: VC I-V family"
    # Im spans 122 nA here (the step transients), so half a count is 0.95 pA;
    # Vm spans 140 mV, half a count is 1.1 uV
    for name, scale in (("Im", 1e12), ("Vm", 1e3)):
        error = np.max(np.abs(back.signals[name] - vc_recording.signals[name]))
        assert error <= _abf_tolerance(vc_recording.signals[name] * scale) / scale


def test_abf_pads_short_sweeps_with_their_last_value(tmp_path):
    """ABF sweeps all have one length: pyABF sees the padding; vRig trims it again."""
    pyabf = pytest.importorskip("pyabf")
    values = np.full((2, 5), np.nan)
    values[0] = [0.0, 1e-3, 2e-3, 3e-3, 4e-3]
    values[1, :3] = [-1e-3, -2e-3, -3e-3]
    rec = Recording({"Vm": values}, {"Vm": "V"}, np.array([5, 3]), 1e-4, {"mode": "CC"})
    path = tmp_path / "short.abf"
    rec.save(path, signals="all")
    abf = pyabf.ABF(str(path))
    abf.setSweep(1)
    np.testing.assert_allclose(abf.sweepY, [-1, -2, -3, -3, -3], atol=1e-4)
    back = load_recording(path)
    np.testing.assert_array_equal(back.sweep_lengths, [5, 3])
    np.testing.assert_allclose(back.signals["Vm"][1, :3], [-1e-3, -2e-3, -3e-3], atol=1e-7)
    assert np.isnan(back.signals["Vm"][1, 3:]).all()


def test_abf_refuses_too_many_channels(vc_recording, tmp_path):
    from rig.files.formats import write_recording

    with pytest.raises(rig.VrigError, match="1 to 16 channels"):
        write_recording(vc_recording, tmp_path / "many.abf", list(vc_recording.signals) * 2)
    assert list(tmp_path.iterdir()) == []


def test_abf_writes_without_pyabf(vc_recording, tmp_path, monkeypatch):
    """Writing needs numpy only: the header begins with the ABF1 signature and version."""
    import sys

    from rig.files.abf import HEADER_BYTES

    monkeypatch.setitem(sys.modules, "pyabf", None)
    path = tmp_path / "plain.abf"
    vc_recording.save(path)
    data = path.read_bytes()
    assert data[:4] == b"ABF "
    assert len(data) % 512 == 0
    assert len(data) >= HEADER_BYTES + 2 * 3 * vc_recording.signals["Vm"].size


# --- NWB -----------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["vc_recording", "cc_recording"])
def test_nwb_round_trip_is_exact(which, request, tmp_path):
    pytest.importorskip("pynwb")
    rec = _first_sweeps(request.getfixturevalue(which), 3)  # pynwb builds ~13 series a sweep
    path = tmp_path / "family.nwb"
    rec.save(path, signals="all")
    back = load_recording(path)
    assert set(back.signals) == set(rec.signals)
    for name, values in rec.signals.items():
        np.testing.assert_array_equal(back.signals[name], values)
    assert back.units == rec.units
    np.testing.assert_array_equal(back.sweep_lengths, rec.sweep_lengths)
    assert back.sample_interval_s == pytest.approx(rec.sample_interval_s, rel=1e-12)
    assert back.metadata == rec.metadata


def test_nwb_uses_icephys_types_and_carries_the_protocol(vc_recording, tmp_path):
    pynwb = pytest.importorskip("pynwb")
    from pynwb.icephys import VoltageClampSeries, VoltageClampStimulusSeries

    path = tmp_path / "iv.nwb"
    vc_recording.save(path)
    with pynwb.NWBHDF5IO(str(path), mode="r") as reader:
        nwb = reader.read()
        assert isinstance(nwb.acquisition["Im_sweep0000"], VoltageClampSeries)
        assert isinstance(nwb.stimulus["command_sweep0000"], VoltageClampStimulusSeries)
        assert len(nwb.intracellular_recordings) == vc_recording.n_sweeps
        assert nwb.protocol == vc_recording.metadata["protocol_json"]
        electrode = nwb.icephys_electrodes["electrode"]
        assert vc_recording.metadata["pipette"] in electrode.description
        assert vc_recording.metadata["bath"] in nwb.pharmacology
        series = nwb.acquisition["Im_sweep0003"]
        assert series.sweep_number == 3
        assert series.starting_time == pytest.approx(3 * 0.2)


def test_nwb_not_a_vrig_file(tmp_path):
    pytest.importorskip("pynwb")
    path = tmp_path / "broken.nwb"
    path.write_bytes(b"not hdf5")
    with pytest.raises(rig.VrigError, match="not a readable NWB file"):
        load_recording(path)


@pytest.mark.parametrize("which", ["vc_recording", "cc_recording", "continuous"])
def test_own_abf_files_read_back_without_pyabf(which, request, tmp_path, monkeypatch):
    """A plain install (no pyABF) reopens the ABF files it records: numpy reads vRig's own
    layout, to within half a count of what pyABF reads (float32) and of the original."""
    import sys

    pyabf = pytest.importorskip("pyabf")
    if which == "continuous":
        rec = request.getfixturevalue("vc_recording")
        rec = Recording({k: v[:1] for k, v in rec.signals.items()}, rec.units,
                        rec.sweep_lengths[:1], rec.sample_interval_s,
                        {**rec.metadata, "acquisition": "continuous"})
    else:
        rec = request.getfixturevalue(which)
    path = tmp_path / "own.abf"
    rec.save(path)
    by_pyabf = pyabf.ABF(str(path))
    monkeypatch.setitem(sys.modules, "pyabf", None)
    back = load_recording(path)
    assert list(back.sweep_lengths) == list(rec.sweep_lengths)
    assert back.metadata == {k: str(v) for k, v in rec.metadata.items()}
    for c, name in enumerate(rec.selected()):
        tolerance = _abf_tolerance(rec.signals[name])
        for k in range(rec.n_sweeps):
            n = rec.sweep_lengths[k]
            np.testing.assert_allclose(back.signals[name][k, :n], rec.sweep(name, k),
                                       atol=tolerance, rtol=0)
            by_pyabf.setSweep(k, channel=c)
            scale = 1e3 if back.units[name] == "V" else 1e12
            np.testing.assert_allclose(back.signals[name][k, :n] * scale, by_pyabf.sweepY[:n],
                                       atol=tolerance * scale, rtol=0)
            assert np.isnan(back.signals[name][k, n:]).all()


def test_own_abf_with_missing_data_is_refused(vc_recording, tmp_path):
    path = tmp_path / "cut.abf"
    vc_recording.save(path)
    path.write_bytes(path.read_bytes()[:-40000])
    with pytest.raises(rig.VrigError, match="damaged vRig metadata blocks or data"):
        load_recording(path)


def test_missing_library_gives_an_install_hint(vc_recording, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pynwb", None)  # import pynwb now raises ImportError
    with pytest.raises(rig.VrigError, match=r"pip install 'vrig\[nwb\]'"):
        vc_recording.save(tmp_path / "x.nwb")
    assert not (tmp_path / "x.nwb").exists()
    monkeypatch.setitem(sys.modules, "pyabf", None)
    (tmp_path / "y.abf").write_bytes(b"ABF ")
    with pytest.raises(rig.VrigError, match=r"not written by vRig; .*pip install 'vrig\[abf\]'"):
        load_recording(tmp_path / "y.abf")
