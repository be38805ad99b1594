"""Neurodata Without Borders (NWB 2) export and import of recordings, with pynwb.

Each sweep becomes one row of the intracellular recordings table: the response
(VoltageClampSeries of Im in VC, CurrentClampSeries of Vm in CC, IZeroClampSeries of Vm
in I=0) with its stimulus (VoltageClampStimulusSeries / CurrentClampStimulusSeries of
the command), all recorded through one IntracellularElectrode. The other signals (Vm in
VC, channel currents, conductances, gates) are plain TimeSeries in acquisition. Data
are SI float64 (conversion 1), so values and sweep lengths come back exactly.

Sweeps are streamed from the sweep source (a Recording or a recording journal) into
chunked HDF5 datasets, so memory stays bounded whatever the recording's length.

Metadata: the protocol's JSON in NWBFile.protocol, the pipette solution in the electrode's
description, the bath and drugs in NWBFile.pharmacology, and every vRig metadata entry as JSON in
NWBFile.notes (read back into Recording.metadata).
"""

import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from types import ModuleType
from typing import Any

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.files.layout import FloatArray, RecordingParts, StrPath, SweepSource
from rig.version import __version__

INSTALL_HINT = "install with pip install 'vrig[nwb]'"
SI_UNITS = {"V": "volts", "A": "amperes", "S": "siemens", "": "dimensionless"}
ELECTRODE = "electrode"


def _pynwb() -> ModuleType:
    try:
        import pynwb
    except ImportError:
        raise VrigError(f"NWB files need pynwb: {INSTALL_HINT}") from None
    return pynwb


CHUNK_SAMPLES = 1 << 16
BUFFER_CHUNKS = 16


def _sweep_data(source: SweepSource, name: str, sweep: int) -> Any:
    """One sweep of one signal as an HDF5-ready iterator over the source (SI float64)."""
    from hdmf.data_utils import GenericDataChunkIterator

    class SweepData(GenericDataChunkIterator):
        def __init__(self) -> None:
            self._length = int(source.sweep_lengths[sweep])
            chunk = min(self._length, CHUNK_SAMPLES)
            super().__init__(chunk_shape=(chunk,),
                             buffer_shape=(min(self._length, chunk * BUFFER_CHUNKS),))

        def _get_data(self, selection: tuple[slice, ...]) -> FloatArray:
            part = selection[0]
            return source.read(sweep, part.start or 0, part.stop or self._length, [name])[0]

        def _get_maxshape(self) -> tuple[int]:
            return (self._length,)

        def _get_dtype(self) -> np.dtype:
            return np.dtype("float64")

    return SweepData()


def _series_name(signal: str, sweep: int) -> str:
    return f"{signal}_sweep{sweep:04d}"


def _clamp_series(icephys: ModuleType, mode: str) -> tuple[str, Any, Any]:
    """(response signal, response class, stimulus class) for a clamp mode."""
    if mode == "VC":
        return "Im", icephys.VoltageClampSeries, icephys.VoltageClampStimulusSeries
    if mode == "CC":
        return "Vm", icephys.CurrentClampSeries, icephys.CurrentClampStimulusSeries
    return "Vm", icephys.IZeroClampSeries, None


def _build(recording: SweepSource, names: Sequence[str]) -> Any:
    """The NWBFile of a sweep source's signals `names` (data still to be streamed)."""
    pynwb = _pynwb()
    from pynwb import icephys

    meta = recording.metadata
    mode = meta.get("mode", "VC" if recording.units.get("command") == "V" else "CC")
    nwb = pynwb.NWBFile(
        session_description=f"vRig {meta.get('protocol', 'recording')} on {meta.get('cell', '?')}",
        identifier=str(uuid.uuid4()),
        session_start_time=datetime.now(timezone.utc),
        protocol=meta.get("protocol_json", ""),
        pharmacology=(f"bath {meta.get('bath', '?')}: {meta.get('bath_mM', '')}; "
                      f"drugs: {meta.get('drugs', 'none')}"),
        notes=json.dumps(meta),
        source_script=f"vRig {__version__} (virtual rig: simulated data)",
        source_script_file_name="rig/simulation/engine.py",
    )
    device = nwb.create_device(name="vRig amplifier", description="simulated patch-clamp amplifier")
    electrode = nwb.create_icephys_electrode(
        name=ELECTRODE, device=device,
        description=(f"simulated pipette filled with {meta.get('pipette', '?')} "
                     f"({meta.get('pipette_mM', '')})"),
        initial_access_resistance=f"{meta.get('series_resistance_MOhm', '?')} MOhm")
    response_name, response_cls, stimulus_cls = _clamp_series(icephys, mode)
    rate = 1.0 / recording.sample_interval_s
    interval_s = units.ms_to_s(float(meta.get("sweep_interval_ms", 0) or 0))
    common = {"rate": rate, "gain": 1.0, "stimulus_description": meta.get("protocol", "N/A")}
    stored = {response_name} | ({"command"} if stimulus_cls else set())
    rows: list[Any] = []
    for k in range(recording.n_sweeps):
        start = k * interval_s
        stimulus = response = None
        if stimulus_cls is not None and "command" in names:
            stimulus = stimulus_cls(name=_series_name("command", k), electrode=electrode,
                                    data=_sweep_data(recording, "command", k),
                                    sweep_number=np.uint32(k), starting_time=start, **common)
            nwb.add_stimulus(stimulus)
        if response_name in names:
            response = response_cls(name=_series_name(response_name, k), electrode=electrode,
                                    data=_sweep_data(recording, response_name, k),
                                    sweep_number=np.uint32(k), starting_time=start, **common)
            nwb.add_acquisition(response)
        if stimulus is not None or response is not None:
            rows.append(nwb.add_intracellular_recording(electrode=electrode, stimulus=stimulus,
                                                        response=response))
        for name in names:
            if name in stored:
                continue
            nwb.add_acquisition(pynwb.TimeSeries(
                name=_series_name(name, k), data=_sweep_data(recording, name, k),
                unit=SI_UNITS[recording.units[name]], rate=rate, starting_time=start))
    if rows:
        nwb.add_icephys_simultaneous_recording(recordings=rows)
    return nwb


def write_nwb(source: SweepSource, names: Sequence[str], path: StrPath) -> None:
    """Write the signals `names` of a sweep source to an NWB (HDF5) file at path."""
    pynwb = _pynwb()
    import h5py

    if source.n_sweeps == 0 or not int(np.min(source.sweep_lengths)) > 0:
        raise VrigError("cannot write an empty recording (or an empty sweep) as NWB")
    nwb = _build(source, names)
    with h5py.File(path, "w") as h5, pynwb.NWBHDF5IO(file=h5, mode="w") as writer:
        writer.write(nwb)


def _signal_series(nwb: Any) -> dict[str, dict[int, Any]]:
    """{signal: {sweep: series}} from the acquisition and stimulus groups."""
    found: dict[str, dict[int, Any]] = {}
    for group in (nwb.acquisition, nwb.stimulus):
        for key, series in group.items():
            signal, _, sweep = key.rpartition("_sweep")
            if signal and sweep.isdigit():
                found.setdefault(signal, {})[int(sweep)] = series
    return found


def read_nwb(path: StrPath) -> RecordingParts:
    """The parts of a recording from an NWB file written by :func:`write_nwb` (vRig's layout)."""
    pynwb = _pynwb()

    units_si = {v: k for k, v in SI_UNITS.items()}
    try:
        with pynwb.NWBHDF5IO(str(path), mode="r") as reader:
            nwb = reader.read()
            metadata = json.loads(nwb.notes) if nwb.notes else {}
            series = _signal_series(nwb)
            if not series:
                raise VrigError(f"{path} holds no vRig sweeps (series named <signal>_sweepNNNN)")
            n_sweeps = 1 + max(max(by_sweep) for by_sweep in series.values())
            lengths = np.zeros(n_sweeps, dtype=int)
            arrays: dict[tuple[str, int], FloatArray] = {}
            rates: set[float] = set()
            for signal, by_sweep in series.items():
                for k, s in by_sweep.items():
                    arrays[(signal, k)] = np.asarray(s.data[:], dtype=float)
                    lengths[k] = max(lengths[k], arrays[(signal, k)].size)
                    rates.add(float(s.rate))
            signal_units = {signal: units_si.get(next(iter(by.values())).unit, "")
                     for signal, by in series.items()}
    except VrigError:
        raise
    except Exception as exc:
        raise VrigError(f"{path} is not a readable NWB file: "
                        f"{type(exc).__name__}: {exc}") from None
    signals: dict[str, FloatArray] = {}
    for signal in series:
        values = np.full((n_sweeps, lengths.max()), np.nan)
        for k in range(n_sweeps):
            data = arrays.get((signal, k))
            if data is not None:
                values[k, : data.size] = data
        signals[signal] = values
    return RecordingParts(signals, signal_units, lengths, 1.0 / rates.pop(), metadata)
