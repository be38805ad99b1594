"""Axon Binary Format (ABF 1.83) export and import of recordings, streamed.

The header follows the documented ABF1 layout (6144 bytes, see pyABF's "Unofficial
Guide to the ABF1 File Format", built from Axon's abfheadr.h); pyABF and neo read what
we write. A continuous recording (one gap-free sweep) is written in gap-free mode
(nOperationMode 3); a protocol's sweeps in episodic mode (5) with a synch array after
the data giving each sweep's start and length, as Clampex writes it, so readers that
follow Axon's spec (Clampfit, neo) find the sweeps.

Samples are 16-bit integers, multiplexed channel by channel, each channel with its own
scale factor and offset chosen from its range: one count is 1/64000 of the channel's
span, so a value comes back within half a count (plus float32 rounding in the reader).
Channels carry ephys units (mV, pA, nS; gates without a unit).

What the ABF header cannot hold (the full vRig metadata with the protocol's JSON and
the events, exact signal names and units, the exact sample interval, the true length
of each sweep) is stored as JSON in extra 512-byte blocks between the header and the
data section (``METADATA_MAGIC``, a u32 length, the JSON); ``lDataSectionPtr`` points
past them, so pyABF, neo and Clampfit skip them, and :func:`read_abf` reads them back.
ABF pads shorter sweeps with their last sample; read_abf trims them again.

Writing and reading back vRig's own files need numpy only; pyABF reads any other ABF
(:func:`read_abf`).
"""

import json
import struct
import time
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.files import output_files
from rig.files.layout import (
    BLOCK_SAMPLES,
    FILE_UNITS,
    FloatArray,
    RecordingParts,
    StrPath,
    SweepSource,
)
from rig.version import __version__

BLOCK = 512
HEADER_BYTES = 6144
ADC_COUNT = 16
ADC_RESOLUTION = 32768
ADC_RANGE_V = 10.0
MAX_COUNTS = 32000  # headroom below the int16 limit
FILE_VERSION = 1.83
METADATA_MAGIC = b"vRigMeta"
GAP_FREE, EPISODIC = 3, 5  # nOperationMode
GAP_FREE_EPISODE = 8192  # samples per channel in a gap-free "episode" (Clampex's buffer)
MAX_SAMPLES = 2 ** 31 - 1  # lActualAcqLength (all channels) is a signed 32-bit count
INSTALL_HINT = "install with pip install 'vrig[abf]'"


def _pack(header: bytearray, offset: int, fmt: str, *values: Any) -> None:
    struct.pack_into("<" + fmt, header, offset, *values)


def _text(value: str, size: int) -> bytes:
    """ASCII, space padded to size bytes (the ABF convention for names and units)."""
    raw = value.encode("ascii", errors="replace")[:size]
    return raw + b" " * (size - len(raw))


def _channel_scaling(value_range: tuple[float, float] | None) -> tuple[float, float]:
    """(instrument scale factor, offset) for one channel's (low, high) in file units.

    One count is the channel's half span / MAX_COUNTS, centred on the middle of its
    range; both numbers are rounded to float32 as the header stores them.
    """
    low, high = value_range or (0.0, 0.0)
    offset = float(np.float32((low + high) / 2))
    half_span = max(high - offset, offset - low)
    if half_span <= 0:
        half_span = max(abs(offset), 1.0)
    lsb = half_span / MAX_COUNTS
    scale = float(np.float32(ADC_RANGE_V / (ADC_RESOLUTION * lsb)))
    return scale, offset


def _sample_interval_field(interval_s: float, n_channels: int) -> float:
    """fADCSampleInterval (us, float32): the per-channel interval / channel count,
    rounded so that readers computing int(us per s / field / channels) (pyABF) get the
    exact rate."""
    rate = round(1.0 / interval_s)
    value = np.float32(units.s_to_us(interval_s) / n_channels)
    for _ in range(4):
        if int(units.US_PER_S / float(value) / n_channels) == rate:
            break
        value = np.nextafter(value, np.float32(0))
    return float(value)


def _counts(values: FloatArray, scale: float, offset: float) -> np.ndarray:
    lsb = ADC_RANGE_V / (ADC_RESOLUTION * scale)
    counts = np.rint((values - offset) / lsb)
    return np.clip(counts, -ADC_RESOLUTION, ADC_RESOLUTION - 1).astype("<i2")


def _header(source: SweepSource, names: Sequence[str], signal_units: Sequence[str],
            scales: Sequence[float], offsets: Sequence[float], longest: int, gap_free: bool,
            data_block: int) -> bytearray:
    """The 6144-byte ABF1 header; data_block: lDataSectionPtr (512-byte blocks)."""
    n_channels = len(names)
    n_sweeps = source.n_sweeps
    total = longest * n_channels * n_sweeps
    per_episode = min(GAP_FREE_EPISODE, longest) * n_channels if gap_free else longest * n_channels
    episodes = -(-total // per_episode)
    h = bytearray(HEADER_BYTES)
    now = time.localtime()
    _pack(h, 0, "4s", b"ABF ")
    _pack(h, 4, "f", FILE_VERSION)
    _pack(h, 8, "h", GAP_FREE if gap_free else EPISODIC)
    _pack(h, 10, "i", total)  # lActualAcqLength
    _pack(h, 16, "i", episodes)  # lActualEpisodes
    _pack(h, 20, "i", int(time.strftime("%Y%m%d", now)))  # lFileStartDate
    _pack(h, 24, "i", now.tm_hour * 3600 + now.tm_min * 60 + now.tm_sec)
    _pack(h, 32, "f", FILE_VERSION)  # fHeaderVersionNumber
    _pack(h, 36, "h", 1)  # nFileType: ABF
    _pack(h, 40, "i", data_block)  # lDataSectionPtr (blocks)
    _pack(h, 100, "h", 0)  # nDataFormat: int16
    _pack(h, 120, "h", n_channels)
    _pack(h, 122, "f", _sample_interval_field(source.sample_interval_s, n_channels))
    _pack(h, 138, "i", per_episode)  # lNumSamplesPerEpisode (all channels)
    _pack(h, 146, "i", episodes)  # lEpisodesPerRun
    _pack(h, 150, "i", 1)  # lRunsPerTrial
    _pack(h, 154, "i", 1)  # lNumberOfTrials
    interval_ms = _number(source.metadata.get("sweep_interval_ms"))
    _pack(h, 178, "f", 0.0 if gap_free else units.ms_to_s(interval_ms))  # fEpisodeStartToStart (s)
    _pack(h, 244, "f", ADC_RANGE_V)
    _pack(h, 248, "f", ADC_RANGE_V)  # fDACRange
    _pack(h, 252, "i", ADC_RESOLUTION)
    _pack(h, 256, "i", ADC_RESOLUTION)  # lDACResolution
    _pack(h, 260, "h", 1 if source.metadata.get("mode") in ("CC", "I0") else 0)
    _pack(h, 294, "16s", _text(f"vRig {__version__}", 16))
    _pack(h, 378, "16h", *range(ADC_COUNT))  # physical-to-logical map: identity
    _pack(h, 410, "16h", *(list(range(n_channels)) + [-1] * (ADC_COUNT - n_channels)))
    for c in range(ADC_COUNT):
        name, unit = (names[c], signal_units[c]) if c < n_channels else ("", "")
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
    command_unit = "mV" if source.units.get("command", "V") == "V" else "pA"
    for d in range(4):
        _pack(h, 1306 + 10 * d, "10s", _text(f"Cmd {d}", 10))
        _pack(h, 1346 + 8 * d, "8s", _text(command_unit, 8))
        _pack(h, 1378 + 4 * d, "f", 1.0)  # fDACScaleFactor
        _pack(h, 2074 + 4 * d, "f", 1.0)  # fDACCalibrationFactor
    _pack(h, 2034, "i", HEADER_BYTES)  # lHeaderSize
    comment = f"vRig: {source.metadata.get('protocol', '')}"
    _pack(h, 5154, "128s", _text(comment, 128))
    _pack(h, 5798, "4h", *(int(p) for p in __version__.split(".")[:3]), 0)
    return h


def _number(text: Any) -> float:
    try:
        return float(text or 0)
    except (TypeError, ValueError):
        return 0.0


def _metadata_blocks(source: SweepSource, names: Sequence[str]) -> bytes:
    """The extra blocks holding what the header cannot: vRig's metadata and more."""
    info = {"metadata": dict(source.metadata), "names": list(names),
            "units": {n: source.units[n] for n in names},
            "sample_interval_s": source.sample_interval_s,
            "sweep_lengths": [int(n) for n in source.sweep_lengths]}
    text = json.dumps(info).encode("utf-8", "backslashreplace")
    return _blocks(METADATA_MAGIC + struct.pack("<I", len(text)) + text)


def _sweep_counts(source: SweepSource, name_scales: Sequence[tuple[str, float, float, float]],
                  sweep: int, longest: int) -> Iterator[np.ndarray]:
    """Blocks of one sweep as multiplexed int16 counts (samples, channels); the
    sweep is padded to `longest` with its last sample."""
    length = int(source.sweep_lengths[sweep])
    names = [n for n, _, _, _ in name_scales]
    last = None
    for start in range(0, length, BLOCK_SAMPLES):
        values = source.read(sweep, start, start + BLOCK_SAMPLES, names)
        block = np.empty((values[0].size, len(names)), dtype="<i2")
        for c, (value, (_, factor, scale, offset)) in enumerate(zip(values, name_scales)):
            block[:, c] = _counts(np.nan_to_num(value * factor, nan=0.0), scale, offset)
        last = block[-1:]
        yield block
    if last is None:
        last = np.zeros((1, len(names)), dtype="<i2")
    for start in range(length, longest, BLOCK_SAMPLES):
        yield np.repeat(last, min(BLOCK_SAMPLES, longest - start), axis=0)


def write_abf(source: SweepSource, names: Sequence[str], path: StrPath) -> None:
    """Write the signals `names` of a sweep source to an ABF file at path, streaming.

    A continuous source (metadata 'acquisition' = 'continuous', one sweep) becomes a
    gap-free file, anything else an episodic one."""
    if not 1 <= len(names) <= ADC_COUNT:
        raise VrigError(f"an ABF file holds 1 to {ADC_COUNT} channels, got {len(names)}")
    longest = int(max(source.sweep_lengths, default=0))
    if source.n_sweeps == 0 or longest == 0 or source.sample_interval_s <= 0:
        raise VrigError("cannot write an empty recording as ABF")
    if longest * len(names) * source.n_sweeps > MAX_SAMPLES:
        raise VrigError(f"an ABF file holds at most {MAX_SAMPLES:,} samples (all channels); "
                        "record fewer signals or a shorter stretch, or choose another format")
    gap_free = source.metadata.get("acquisition") == "continuous" and source.n_sweeps == 1
    signal_units: list[str] = []
    scales: list[float] = []
    offsets: list[float] = []
    name_scales: list[tuple[str, float, float, float]] = []
    for name in names:
        unit, factor = FILE_UNITS[source.units[name]]
        span = source.value_range(name)
        scale, offset = _channel_scaling(None if span is None else
                                         (span[0] * factor, span[1] * factor))
        signal_units.append(unit)
        scales.append(scale)
        offsets.append(offset)
        name_scales.append((name, factor, scale, offset))
    meta = _metadata_blocks(source, names)
    data_block = (HEADER_BYTES + len(meta)) // BLOCK
    header = _header(source, names, signal_units, scales, offsets, longest, gap_free, data_block)
    data_bytes = longest * len(names) * source.n_sweeps * 2
    if not gap_free:
        _pack(header, 92, "i", data_block + -(-data_bytes // BLOCK))  # lSynchArrayPtr
        _pack(header, 96, "i", source.n_sweeps)  # lSynchArraySize
        _pack(header, 130, "f", units.s_to_us(source.sample_interval_s))  # fSynchTimeUnit (us)
    with output_files.open_for_writing(path) as handle:
        handle.write(bytes(header))
        handle.write(meta)
        for k in range(source.n_sweeps):
            for block in _sweep_counts(source, name_scales, k, longest):
                handle.write(block.tobytes())
        handle.write(b"\0" * (-data_bytes % BLOCK))
        if not gap_free:
            handle.write(_blocks(_synch_array(source, longest * len(names))))


def _blocks(data: bytes) -> bytes:
    """data padded with zeros to whole 512-byte blocks."""
    return data + b"\0" * (-len(data) % BLOCK)


def _synch_array(source: SweepSource, per_episode: int) -> bytes:
    """The synch section: each sweep's start (in sample intervals) and length (all channels).

    Episodic readers (Clampfit, neo) find the sweeps here; the start counts the sweep
    interval, or the sweep length when the recording has none.
    """
    interval_ms = _number(source.metadata.get("sweep_interval_ms"))
    step = max(int(round(units.ms_to_s(interval_ms) / source.sample_interval_s)),
               int(max(source.sweep_lengths)))
    starts = np.arange(source.n_sweeps, dtype=np.int64) * step
    table = np.column_stack([starts, np.full(source.n_sweeps, per_episode)])
    return table.astype("<i4").tobytes()


def _read_channels(abf: Any) -> tuple[dict[str, FloatArray], dict[str, str]]:
    """({name: (sweeps, samples) SI array}, {name: SI unit}) from an open pyabf.ABF."""
    to_si = {unit: (si, factor) for si, (unit, factor) in FILE_UNITS.items()}
    signals: dict[str, FloatArray] = {}
    signal_units: dict[str, str] = {}
    for channel in abf.channelList:
        name = abf.adcNames[channel].strip() or f"channel{channel}"
        si_unit, factor = to_si.get(abf.adcUnits[channel].strip(), ("", 1.0))
        sweeps = []
        for k in abf.sweepList:
            abf.setSweep(k, channel=channel)
            sweeps.append(np.asarray(abf.sweepY, dtype=float) / factor)
        signals[name] = np.array(sweeps)
        signal_units[name] = si_unit
    return signals, signal_units


def read_vrig_blocks(path: StrPath) -> dict[str, Any] | None:
    """The JSON vRig keeps between an ABF's header and its data, or None."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEADER_BYTES + BLOCK)
            data_block = struct.unpack_from("<i", head, 40)[0] if len(head) >= 44 else 0
            if (len(head) < HEADER_BYTES + 12
                    or head[HEADER_BYTES: HEADER_BYTES + 8] != METADATA_MAGIC):
                return None
            length = struct.unpack_from("<I", head, HEADER_BYTES + 8)[0]
            if HEADER_BYTES + 12 + length > data_block * BLOCK:
                return None
            handle.seek(HEADER_BYTES + 12)
            info = json.loads(handle.read(length).decode("utf-8"))
    except (OSError, ValueError, struct.error):
        return None
    return info if isinstance(info, dict) else None


def read_abf(path: StrPath) -> RecordingParts:
    """A Recording from an ABF file (any ABF pyABF reads).

    A file vRig wrote comes back with its signal names, units, sample interval, sweep
    lengths and full metadata (protocol_json included) from its metadata blocks; any
    other ABF with its channels named as in the file, values in SI where the unit is
    known (mV, pA, nS), else as stored.
    """
    info = read_vrig_blocks(path)
    if info is not None:
        return _read_own(path, info)  # numpy alone: no pyABF needed for vRig's files
    try:
        import pyabf
    except ImportError:
        raise VrigError(f"{path} was not written by vRig; reading other ABF files needs "
                        f"pyABF: {INSTALL_HINT}") from None

    try:
        abf = pyabf.ABF(str(path))
        signals, signal_units = _read_channels(abf)
    except Exception as exc:
        raise VrigError(f"{path} is not a readable ABF file: "
                        f"{type(exc).__name__}: {exc}") from None
    n = abf.sweepPointCount
    interval = round(1.0 / abf.dataRate, 9) if abf.dataRate else 0.0
    metadata = {"source": str(path), "comment": abf.abfFileComment.strip()}
    lengths = np.full(abf.sweepCount, n)
    return RecordingParts(signals, signal_units, lengths, interval, metadata)


def _read_own(path: StrPath, info: dict[str, Any]) -> RecordingParts:
    """The parts of an ABF file vRig wrote, read with numpy from its header's scaling
    and its metadata blocks (names, units, interval, sweep lengths, metadata)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(HEADER_BYTES)
        data_block, n_channels = struct.unpack_from("<i", header, 40)[0], \
            struct.unpack_from("<h", header, 120)[0]
        scales = struct.unpack_from(f"<{n_channels}f", header, 922)
        offsets = struct.unpack_from(f"<{n_channels}f", header, 986)
        names = [str(name) for name in info["names"]]
        signal_units = {name: str(info["units"][name]) for name in names}
        lengths = np.array(info["sweep_lengths"], dtype=np.int64)
        interval = float(info["sample_interval_s"])
        metadata = {str(k): str(v) for k, v in dict(info["metadata"]).items()}
        if len(names) != n_channels or lengths.ndim != 1 or (lengths < 0).any():
            raise ValueError("the channels or sweep lengths do not match the header")
        longest = int(lengths.max(initial=0))
        expected = longest * n_channels * lengths.size
        counts = np.fromfile(path, dtype="<i2", count=expected, offset=data_block * BLOCK)
        if counts.size != expected:
            raise ValueError(f"the data holds {counts.size} of {expected} samples")
        counts = counts.reshape(lengths.size, longest, n_channels)
        signals = {}
        for c, name in enumerate(names):
            lsb = ADC_RANGE_V / (ADC_RESOLUTION * scales[c])
            values = (counts[:, :, c] * lsb + offsets[c]) / FILE_UNITS[signal_units[name]][1]
            for k, length in enumerate(lengths):
                values[k, length:] = np.nan
            signals[name] = values
    except (OSError, KeyError, TypeError, ValueError, struct.error, ZeroDivisionError) as exc:
        raise VrigError(f"{path} has damaged vRig metadata blocks or data: {exc}") from None
    return RecordingParts(signals, signal_units, lengths, interval, metadata)
