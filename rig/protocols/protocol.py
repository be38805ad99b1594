"""Stimulus protocols as data, in the convention of Clampex's epoch table.

A protocol file (JSON, ``"format": "vrig-protocol"``, version 1) holds the clamp mode,
the holding level, the sample rate, the number of sweeps and their start-to-start
interval, and a list of epochs. Levels are absolute, in mV for VC and pA for CC;
durations are in ms. Every numeric epoch field may change from sweep to sweep by a
delta: ``level`` -> ``level_delta``, ``duration_ms`` -> ``duration_delta_ms``,
``frequency_hz`` -> ``frequency_delta_hz``.

:func:`render` is the one function that turns a protocol into command arrays; the
engine and the designer's preview both call it.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from rig import resources, units
from rig.clamp import Mode
from rig.errors import VrigError
from rig.frozen import FrozenMap
from rig.protocols.epochs import EPOCH_KINDS, delta_name, render_epoch

FORMAT = "vrig-protocol"
VERSION = 1
MAX_SWEEPS = 10_000
SAMPLE_RATE_KHZ_RANGE = (0.1, 500.0)
MAX_TOTAL_SAMPLES = 5_000_000
MAX_SWEEP_INTERVAL_MS = 60_000.0
MAX_TOTAL_TIME_S = 600.0
MAX_EPOCH_SWEEPS = 100_000  # epochs x sweeps: bounds the work of checking and rendering
TOP_LEVEL_FIELDS = ("format", "version", "name", "description", "mode", "holding",
                    "sample_rate_khz", "sweeps", "sweep_interval_ms", "epochs",
                    "leak_subtraction")
MAX_SUBSWEEPS = 16
# bounds (not unit factors) of the epoch fields: a frequency up to 1 MHz, a time up to
# 1e7 ms, and any finite size for the fields an epoch kind ignores
MAX_FREQUENCY_HZ = 1e6
MAX_FIELD_MS = 1e7
IGNORED_FIELD_RANGE = (-1e9, 1e9)
POLARITIES = ("opposite", "same")


@dataclass(frozen=True)
class Epoch:
    """One column of the epoch table: a kind and its numeric fields (file units)."""

    kind: str
    values: FrozenMap = field(default_factory=FrozenMap)

    def value(self, name: str, sweep: int) -> float:
        """A field's value in a given sweep (0-based), with its delta applied."""
        base = self.values.get(name, EPOCH_KINDS[self.kind][name])
        return base + sweep * self.values.get(delta_name(name), 0.0)

    def duration_ms(self, sweep: int) -> float:
        """The epoch's duration in ms in a given sweep."""
        return self.value("duration_ms", sweep)

    def to_dict(self) -> dict[str, Any]:
        """The epoch as written in a protocol file."""
        return {"kind": self.kind, **dict(self.values)}


@dataclass(frozen=True)
class LeakSubtraction:
    """P/N leak subtraction: before each sweep, ``subsweeps`` copies of its command
    scaled by 1/N (of opposite or the same polarity) are run from ``holding`` (mV), and
    their summed passive response is subtracted."""

    subsweeps: int
    holding: float
    polarity: str = "opposite"

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {"subsweeps": self.subsweeps, "holding": self.holding, "polarity": self.polarity}


def leak_subtraction_from_dict(data: Any, mode: str) -> LeakSubtraction:
    """Validate the optional 'leak_subtraction' object of a VC protocol."""
    what = "protocol leak_subtraction"
    if mode != "VC":
        raise VrigError(f"{what} is for voltage clamp (VC) protocols only")
    if not isinstance(data, dict):
        raise VrigError(f"{what} must be an object with subsweeps, holding and polarity")
    unknown = set(data) - {"subsweeps", "holding", "polarity"}
    if unknown:
        raise VrigError(f"{what}: unknown field {sorted(unknown)[0]!r}; "
                        "allowed: subsweeps, holding, polarity")
    n = resources.number(data, "subsweeps", what, 1, MAX_SUBSWEEPS)
    if n != int(n):
        raise VrigError(f"{what}: subsweeps must be a whole number, got {n:g}")
    polarity = data.get("polarity", "opposite")
    if polarity not in POLARITIES:
        raise VrigError(f"{what}: polarity must be one of {', '.join(POLARITIES)}")
    return LeakSubtraction(int(n), resources.number(data, "holding", what, -200, 100,
                                                    default=-120.0), polarity)


@dataclass(frozen=True)
class Protocol:
    """A validated stimulus protocol. Build it with :func:`protocol_from_dict`."""

    name: str
    mode: Mode
    holding: float
    sample_rate_khz: float
    sweeps: int
    sweep_interval_ms: float
    epochs: tuple[Epoch, ...]
    description: str = ""
    leak_subtraction: LeakSubtraction | None = None

    def __post_init__(self) -> None:
        # a mode given as text ('VC') becomes the Mode it names
        object.__setattr__(self, "mode", Mode.parse(self.mode, "protocol: mode"))

    @property
    def units(self) -> str:
        """Unit of the levels: 'mV' in VC, 'pA' in CC and I0."""
        return self.mode.level_unit

    @property
    def sample_interval_s(self) -> float:
        """Time between samples in s."""
        return 1.0 / units.khz_to_hz(self.sample_rate_khz)

    def sweep_samples(self, sweep: int) -> int:
        """Number of samples in a sweep (0-based index)."""
        return _sample_count(sum(e.duration_ms(sweep) for e in self.epochs), self.sample_rate_khz)

    def to_dict(self) -> dict[str, Any]:
        """The protocol as a JSON-ready dict in the version-1 file format."""
        data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "name": self.name}
        if self.description:
            data["description"] = self.description
        data.update({"mode": self.mode, "holding": self.holding,
                     "sample_rate_khz": self.sample_rate_khz, "sweeps": self.sweeps,
                     "sweep_interval_ms": self.sweep_interval_ms,
                     "epochs": [e.to_dict() for e in self.epochs]})
        if self.leak_subtraction is not None:
            data["leak_subtraction"] = self.leak_subtraction.to_dict()
        return data

    def to_json(self) -> str:
        """The protocol file's text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"


def _sample_count(duration_ms: float, rate_khz: float) -> int:
    return int(round(duration_ms * rate_khz))


def _require(data: dict[str, Any], key: str, what: str) -> Any:
    if key not in data:
        raise VrigError(f"{what}: missing field {key!r}", field=key)
    return data[key]


def _check_epoch(raw: Any, index: int, mode: Mode) -> Epoch:
    what = f"epoch {index + 1}"
    if not isinstance(raw, dict):
        raise VrigError(f"{what} must be an object with a 'kind', got {type(raw).__name__}",
                        epoch=index)
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in EPOCH_KINDS:
        raise VrigError(f"{what}: unknown kind {kind!r}; allowed: {', '.join(EPOCH_KINDS)}",
                        epoch=index, field="kind")
    what = f"epoch {index + 1} ({kind})"
    spec = EPOCH_KINDS[kind]
    allowed = {"kind"} | set(spec) | {delta_name(name) for name in spec}
    for key in raw:
        if key not in allowed:
            raise VrigError(f"{what}: unknown field {key!r}; allowed: {', '.join(sorted(allowed))}",
                            epoch=index, field=key)
    limit = mode.level_limit
    values: dict[str, float] = {}
    for key in sorted(allowed - {"kind"}):
        if key in spec:
            low, high = _field_range(key, limit)
        else:
            low, high = IGNORED_FIELD_RANGE
        if key not in raw:
            if key in spec:
                raise VrigError(f"{what}: missing field {key!r}", epoch=index, field=key)
            continue
        try:
            values[key] = resources.number(raw, key, what, low, high)
        except VrigError as exc:
            raise VrigError(str(exc), epoch=index, field=key) from None
    if kind == "train" and values["period_ms"] <= 0:
        raise VrigError(f"{what}: period_ms must be > 0", epoch=index, field="period_ms")
    return Epoch(kind, FrozenMap(values))


def _field_range(key: str, level_limit: float) -> tuple[float, float]:
    """Allowed range of an epoch field: times and frequencies >= 0, levels within the limit."""
    if key == "frequency_hz":
        return 0.0, MAX_FREQUENCY_HZ
    if key.endswith("_ms"):
        return 0.0, MAX_FIELD_MS
    return -level_limit, level_limit


def _check_resolved(protocol: Protocol) -> None:
    """Every sweep's values must stay in range once the deltas are applied."""
    limit = protocol.mode.level_limit
    for sweep in range(protocol.sweeps):
        for i, epoch in enumerate(protocol.epochs):
            what = f"epoch {i + 1} ({epoch.kind}) in sweep {sweep + 1}"
            for key in EPOCH_KINDS[epoch.kind]:
                v = epoch.value(key, sweep)
                low, high = _field_range(key, limit)
                if not low <= v <= high:
                    raise VrigError(f"{what}: {key} becomes {v:g}, outside {low:g} to {high:g}; "
                                    f"change {delta_name(key)}", epoch=i, field=delta_name(key))
            if epoch.kind == "sine":
                reach = abs(epoch.value("level", sweep)) + abs(epoch.value("amplitude", sweep))
                if reach > limit:
                    raise VrigError(f"{what}: level + amplitude reaches {reach:g} "
                                    f"{protocol.units}, beyond +/-{limit:g}",
                                    epoch=i, field="amplitude")
            if epoch.kind == "train" and epoch.value("period_ms", sweep) <= 0:
                raise VrigError(f"{what}: period_ms becomes <= 0; change period_delta_ms",
                                epoch=i, field="period_delta_ms")
        if protocol.sweep_samples(sweep) < 1:
            raise VrigError(f"sweep {sweep + 1} has no samples; give the epochs a duration")


def protocol_from_dict(data: Any) -> Protocol:
    """Validate a parsed protocol file and return a Protocol.

    Raises VrigError naming the field and the allowed range on the first problem.
    """
    if not isinstance(data, dict):
        raise VrigError("a protocol must be a JSON object")
    if data.get("format") != FORMAT:
        raise VrigError(f"not a vRig protocol: 'format' must be {FORMAT!r}")
    version = data.get("version")
    if version != VERSION or isinstance(version, bool):
        raise VrigError(f"protocol version {version!r} is not supported; this vRig reads {VERSION}")
    for key in data:
        if key not in TOP_LEVEL_FIELDS:
            raise VrigError(f"unknown protocol field {key!r:.40}; allowed: "
                            f"{', '.join(TOP_LEVEL_FIELDS)}", field=key)
    try:
        mode = Mode.parse(_require(data, "mode", "protocol"), "protocol: mode")
    except VrigError as exc:
        raise VrigError(str(exc), field="mode") from None
    name = data.get("name", "untitled")
    description = data.get("description", "")
    if not isinstance(name, str) or len(name) > 200 or not isinstance(description, str):
        raise VrigError("protocol: name and description must be text (name up to 200 characters)",
                        field="name" if not isinstance(name, str) or len(name) > 200
                        else "description")
    for key, text in (("name", name), ("description", description)):
        if not resources.valid_text(text):
            raise VrigError(f"protocol: {key} is not valid Unicode text (it holds a lone "
                            f"surrogate: {resources.printable(text)[:60]})", field=key)
    sweeps = resources.number(data, "sweeps", "protocol", 1, MAX_SWEEPS, default=1)
    if sweeps != int(sweeps):
        raise VrigError(f"protocol: sweeps must be a whole number, got {sweeps:g}", field="sweeps")
    epochs_raw = _require(data, "epochs", "protocol")
    if not isinstance(epochs_raw, list) or not 1 <= len(epochs_raw) <= 100:
        raise VrigError("protocol: epochs must be a list of 1 to 100 epochs", field="epochs")
    limit = mode.level_limit
    protocol = Protocol(
        name=name, description=description, mode=mode,
        holding=resources.number(data, "holding", "protocol", -limit, limit,
                                 default=-65.0 if mode is Mode.VC else 0.0),
        sample_rate_khz=resources.number(data, "sample_rate_khz", "protocol",
                                         *SAMPLE_RATE_KHZ_RANGE, default=50.0),
        sweeps=int(sweeps),
        sweep_interval_ms=resources.number(data, "sweep_interval_ms", "protocol", 0,
                                           MAX_SWEEP_INTERVAL_MS, default=0.0),
        epochs=tuple(_check_epoch(raw, i, mode) for i, raw in enumerate(epochs_raw)),
        leak_subtraction=(leak_subtraction_from_dict(data["leak_subtraction"], mode)
                          if data.get("leak_subtraction") is not None else None),
    )
    _check_size(protocol)
    _check_resolved(protocol)
    return protocol


def _check_size(protocol: Protocol) -> None:
    """Refuse protocols that would need too much memory or time before rendering them."""
    if protocol.sweeps * len(protocol.epochs) > MAX_EPOCH_SWEEPS:
        raise VrigError(f"protocol has {protocol.sweeps} sweeps of {len(protocol.epochs)} epochs; "
                        f"sweeps x epochs may be at most {MAX_EPOCH_SWEEPS:,}", field="sweeps")
    longest_ms = 0.0
    for epoch in protocol.epochs:
        durations = [epoch.duration_ms(0), epoch.duration_ms(protocol.sweeps - 1)]
        longest_ms += max(durations)
    total = longest_ms * protocol.sample_rate_khz * protocol.sweeps
    if total > MAX_TOTAL_SAMPLES:
        raise VrigError(
            f"protocol would record about {total:,.0f} samples; the limit is "
            f"{MAX_TOTAL_SAMPLES:,}. Lower sample_rate_khz, the durations or the sweeps")
    total_s = units.ms_to_s(protocol.sweeps * max(protocol.sweep_interval_ms, longest_ms))
    if total_s > MAX_TOTAL_TIME_S:
        raise VrigError(f"protocol would run {total_s:,.0f} s of simulated time; the limit is "
                        f"{MAX_TOTAL_TIME_S:g} s. Use fewer sweeps or a shorter interval")


def parse_protocol(text: str, source: str = "protocol") -> Protocol:
    """A Protocol from the text of a protocol file."""
    return protocol_from_dict(resources.parse_json(text, source))


def load_protocol(name_or_path: str | os.PathLike[str]) -> Protocol:
    """A Protocol from a file path or the name of a shipped protocol."""
    path = Path(name_or_path)
    try:
        is_file = path.suffix.lower() == ".json" or os.path.lexists(path)
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        is_file = True
    if is_file:
        return protocol_from_dict(resources.read_json(path, "protocol"))
    return protocol_from_dict(resources.load_preset("protocols", str(name_or_path)))


@dataclass(frozen=True)
class RenderedSweep:
    """The command of one sweep in SI (V in VC, A in CC/I0) and its epoch boundaries."""

    command: npt.NDArray[np.float64]
    epoch_starts: tuple[int, ...]  # first sample index of each epoch


def render_sweep(protocol: Protocol, sweep: int) -> RenderedSweep:
    """Render one sweep (0-based) to a command array in SI units.

    Epoch boundaries are rounded from the cumulative time so that sweeps do not drift.
    """
    rate = protocol.sample_rate_khz
    to_si = protocol.mode.to_si
    total = protocol.sweep_samples(sweep)
    command = np.empty(total)
    starts: list[int] = []
    elapsed_ms = 0.0
    for epoch in protocol.epochs:
        first = _sample_count(elapsed_ms, rate)
        elapsed_ms += epoch.duration_ms(sweep)
        last = min(_sample_count(elapsed_ms, rate), total)
        starts.append(first)
        t_ms = np.arange(last - first) / rate
        command[first:last] = render_epoch(epoch, sweep, t_ms)
    return RenderedSweep(to_si(command), tuple(starts))


def render(protocol: Protocol) -> list[npt.NDArray[np.float64]]:
    """Every sweep's command (list of SI arrays); the engine and the preview call this."""
    return [render_sweep(protocol, k).command for k in range(protocol.sweeps)]


def total_duration_s(protocol: Protocol) -> float:
    """Simulated time the whole protocol takes (s), sweep intervals included."""
    durations = [protocol.sweep_samples(k) / units.khz_to_hz(protocol.sample_rate_khz)
                 for k in range(protocol.sweeps)]
    interval = units.ms_to_s(protocol.sweep_interval_ms)
    return sum(max(d, interval) for d in durations[:-1]) + durations[-1]
