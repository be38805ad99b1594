"""Axon Binary Format (ABF 1.83, episodic) export and import of recordings.

The header follows the documented ABF1 layout (6144 bytes, see pyABF's "Unofficial
Guide to the ABF1 File Format", built from Axon's abfheadr.h); pyABF reads what we
write. Samples are 16-bit integers, multiplexed channel by channel, each channel with
its own scale factor and offset chosen from its range: one count is 1/64000 of the
channel's span, so a value comes back within half a count (plus float32 rounding in
the reader). Channels carry ephys units (mV, pA, nS; gates without a unit). A synch
array after the data gives each sweep's start and length, as Clampex writes it, so
episodic readers that follow Axon's spec (Clampfit, neo) find the sweeps.

What ABF cannot hold: sweeps of different lengths (shorter sweeps are padded with
their last sample and all come back with the longest length), and most metadata (the
protocol name goes in the file comment, the clamp mode in nExperimentType).

pyABF is needed only to read files back (:func:`read_abf`); writing needs numpy only.
"""

import struct
import time

import numpy as np

from rig import __version__
from rig.errors import VrigError
from rig.recording import FILE_UNITS

BLOCK = 512
HEADER_BYTES = 6144
ADC_COUNT = 16
ADC_RESOLUTION = 32768
ADC_RANGE_V = 10.0
MAX_COUNTS = 32000  # headroom below the int16 limit
FILE_VERSION = 1.83
INSTALL_HINT = "install with pip install 'vrig[abf]'"


def _pack(header, offset, fmt, *values):
    struct.pack_into("<" + fmt, header, offset, *values)


def _text(value, size):
    """ASCII, space padded to size bytes (the ABF convention for names and units)."""
    raw = value.encode("ascii", errors="replace")[:size]
    return raw + b" " * (size - len(raw))


def _channel_scaling(values):
    """(instrument scale factor, offset) for one channel's values in file units.

    One count is the channel's half span / MAX_COUNTS, centred on the middle of its
    range; both numbers are rounded to float32 as the header stores them.
    """
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    offset = float(np.float32((low + high) / 2))
    half_span = max(high - offset, offset - low)
    if half_span <= 0:
        half_span = max(abs(offset), 1.0)
    lsb = half_span / MAX_COUNTS
    scale = float(np.float32(ADC_RANGE_V / (ADC_RESOLUTION * lsb)))
    return scale, offset


def _counts(values, scale, offset):
    lsb = ADC_RANGE_V / (ADC_RESOLUTION * scale)
    counts = np.rint((values - offset) / lsb)
    return np.clip(counts, -ADC_RESOLUTION, ADC_RESOLUTION - 1).astype("<i2")


def _padded(recording, name, scale_to_file):
    """(n_sweeps, longest) array in file units; short sweeps padded with their last value."""
    data = np.array(recording.signals[name], dtype=float) * scale_to_file
    for k, n in enumerate(recording.sweep_lengths):
        data[k, n:] = data[k, n - 1] if n > 0 else 0.0
    return np.nan_to_num(data, nan=0.0)


def _header(recording, names, units, scales, offsets, n_samples):
    n_channels = len(names)
    n_sweeps = recording.n_sweeps
    per_episode = n_samples * n_channels
    h = bytearray(HEADER_BYTES)
    now = time.localtime()
    _pack(h, 0, "4s", b"ABF ")
    _pack(h, 4, "f", FILE_VERSION)
    _pack(h, 8, "h", 5)  # episodic stimulation
    _pack(h, 10, "i", per_episode * n_sweeps)  # lActualAcqLength
    _pack(h, 16, "i", n_sweeps)  # lActualEpisodes
    _pack(h, 20, "i", now.tm_year * 10000 + now.tm_mon * 100 + now.tm_mday)
    _pack(h, 24, "i", now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec)
    _pack(h, 32, "f", FILE_VERSION)  # fHeaderVersionNumber
    _pack(h, 36, "h", 1)  # nFileType: ABF
    _pack(h, 40, "i", HEADER_BYTES // BLOCK)  # lDataSectionPtr (blocks)
    _pack(h, 100, "h", 0)  # nDataFormat: int16
    _pack(h, 120, "h", n_channels)
    # fADCSampleInterval: the per-channel interval divided by the channel count (us)
    _pack(h, 122, "f", recording.sample_interval_s * 1e6 / n_channels)
    _pack(h, 138, "i", per_episode)  # lNumSamplesPerEpisode (all channels)
    _pack(h, 146, "i", n_sweeps)  # lEpisodesPerRun
    _pack(h, 150, "i", 1)  # lRunsPerTrial
    _pack(h, 154, "i", 1)  # lNumberOfTrials
    interval_ms = float(recording.metadata.get("sweep_interval_ms", 0) or 0)
    _pack(h, 178, "f", interval_ms / 1e3)  # fEpisodeStartToStart (s)
    _pack(h, 244, "f", ADC_RANGE_V)
    _pack(h, 248, "f", ADC_RANGE_V)  # fDACRange
    _pack(h, 252, "i", ADC_RESOLUTION)
    _pack(h, 256, "i", ADC_RESOLUTION)  # lDACResolution
    _pack(h, 260, "h", 1 if recording.metadata.get("mode") in ("CC", "I0") else 0)
    _pack(h, 294, "16s", _text(f"vRig {__version__}", 16))
    _pack(h, 378, "16h", *range(ADC_COUNT))  # physical-to-logical map: identity
    _pack(h, 410, "16h", *(list(range(n_channels)) + [-1] * (ADC_COUNT - n_channels)))
    for c in range(ADC_COUNT):
        name, unit = (names[c], units[c]) if c < n_channels else ("", "")
        _pack(h, 442 + 10 * c, "10s", _text(name, 10))
        _pack(h, 602 + 8 * c, "8s", _text(unit, 8))
        _pack(h, 730 + 4 * c, "f", 1.0)  # fADCProgrammableGain
        _pack(h, 794 + 4 * c, "f", 1.0)  # fADCDisplayAmplification
        _pack(h, 922 + 4 * c, "f", scales[c] if c < n_channels else 1.0)
        _pack(h, 986 + 4 * c, "f", offsets[c] if c < n_channels else 0.0)
        _pack(h, 1050 + 4 * c, "f", 1.0)  # fSignalGain
        _pack(h, 1178 + 4 * c, "f", 100000.0)  # fSignalLowpassFilter: bypassed
        _pack(h, 4576 + 4 * c, "f", 1.0)  # fTelegraphAdditGain
        _pack(h, 4640 + 4 * c, "f", 100000.0)  # fTelegraphFilter
    command_unit = "mV" if recording.units.get("command", "V") == "V" else "pA"
    for d in range(4):
        _pack(h, 1306 + 10 * d, "10s", _text(f"Cmd {d}", 10))
        _pack(h, 1346 + 8 * d, "8s", _text(command_unit, 8))
        _pack(h, 1378 + 4 * d, "f", 1.0)  # fDACScaleFactor
        _pack(h, 2074 + 4 * d, "f", 1.0)  # fDACCalibrationFactor
    _pack(h, 2034, "i", HEADER_BYTES)  # lHeaderSize
    comment = f"vRig: {recording.metadata.get('protocol', '')}"
    _pack(h, 5154, "128s", _text(comment, 128))
    _pack(h, 5798, "4h", *(int(p) for p in __version__.split(".")[:3]), 0)
    return h


def abf_bytes(recording, names):
    """The ABF file (bytes) of a Recording's signals `names` (e.g. Vm, Im, command)."""
    if not 1 <= len(names) <= ADC_COUNT:
        raise VrigError(f"an ABF file holds 1 to {ADC_COUNT} channels, got {len(names)}")
    n_samples = int(max(recording.sweep_lengths, default=0))
    if recording.n_sweeps == 0 or n_samples == 0 or recording.sample_interval_s <= 0:
        raise VrigError("cannot write an empty recording as ABF")
    units, scales, offsets, columns = [], [], [], []
    for name in names:
        unit, factor = FILE_UNITS[recording.units[name]]
        values = _padded(recording, name, factor)
        scale, offset = _channel_scaling(values)
        units.append(unit)
        scales.append(scale)
        offsets.append(offset)
        columns.append(_counts(values, scale, offset))
    samples = np.stack(columns, axis=-1)  # (sweeps, samples, channels): multiplexed order
    header = _header(recording, names, units, scales, offsets, n_samples)
    data = _blocks(samples.tobytes())
    synch = _synch_array(recording, n_samples * len(names))
    _pack(header, 92, "i", (HEADER_BYTES + len(data)) // BLOCK)  # lSynchArrayPtr
    _pack(header, 96, "i", recording.n_sweeps)  # lSynchArraySize
    _pack(header, 130, "f", recording.sample_interval_s * 1e6)  # fSynchTimeUnit (us)
    return bytes(header) + data + _blocks(synch)


def _blocks(data):
    """data padded with zeros to whole 512-byte blocks."""
    return data + b"\0" * (-len(data) % BLOCK)


def _synch_array(recording, per_episode):
    """The synch section: each sweep's start (in sample intervals) and length (all channels).

    Episodic readers (Clampfit, neo) find the sweeps here; the start counts the sweep
    interval, or the sweep length when the recording has none.
    """
    interval_ms = float(recording.metadata.get("sweep_interval_ms", 0) or 0)
    step = max(int(round(interval_ms / 1e3 / recording.sample_interval_s)),
               int(max(recording.sweep_lengths)))
    starts = np.arange(recording.n_sweeps) * step
    table = np.column_stack([starts, np.full(recording.n_sweeps, per_episode)])
    return table.astype("<i4").tobytes()


def _read_channels(abf):
    """({name: (sweeps, samples) SI array}, {name: SI unit}) from an open pyabf.ABF."""
    to_si = {unit: (si, factor) for si, (unit, factor) in FILE_UNITS.items()}
    signals, units = {}, {}
    for channel in abf.channelList:
        name = abf.adcNames[channel].strip() or f"channel{channel}"
        si_unit, factor = to_si.get(abf.adcUnits[channel].strip(), ("", 1.0))
        sweeps = []
        for k in abf.sweepList:
            abf.setSweep(k, channel=channel)
            sweeps.append(np.asarray(abf.sweepY, dtype=float) / factor)
        signals[name] = np.array(sweeps)
        units[name] = si_unit
    return signals, units


def read_abf(path):
    """A Recording from an ABF file (any ABF pyABF reads), channels named as in the file.

    Values come back in SI where the unit is known (mV, pA, nS), else as stored.
    """
    try:
        import pyabf
    except ImportError:
        raise VrigError(f"reading ABF files needs pyABF: {INSTALL_HINT}") from None
    from rig.recording import Recording

    try:
        abf = pyabf.ABF(str(path))
        signals, units = _read_channels(abf)
    except Exception as exc:  # noqa: BLE001 - a hostile file can break pyABF in any way
        raise VrigError(f"{path} is not a readable ABF file: "
                        f"{type(exc).__name__}: {exc}") from None
    n = abf.sweepPointCount
    interval = round(1.0 / abf.dataRate, 9) if abf.dataRate else 0.0
    metadata = {"source": str(path), "comment": abf.abfFileComment.strip()}
    return Recording(signals, units, np.full(abf.sweepCount, n), interval, metadata)
