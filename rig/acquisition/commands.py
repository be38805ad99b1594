"""Commands from the window to the runner, and the messages the runner sends back.

All are small frozen dataclasses of plain values (numbers, text, Mode, frozen
Protocol and Solution values, read-only arrays), so they pickle and could cross a
process boundary unchanged. Values are SI (V, A, s) with temperature in degC.
"""

from dataclasses import dataclass, field

import numpy as np

from rig.clamp import Mode
from rig.frozen import FrozenMap
from rig.model.solutions import Solution
from rig.protocols.protocol import Protocol


@dataclass(frozen=True)
class Start:
    """Start (or resume) acquisition."""


@dataclass(frozen=True)
class Stop:
    """Stop acquisition at once; a protocol in progress is abandoned."""


@dataclass(frozen=True)
class SetMode:
    """Switch the amplifier to 'VC', 'CC' or 'I0' (the cell's state is untouched)."""

    mode: Mode


@dataclass(frozen=True)
class SetHolding:
    """Holding level of a mode: V for 'VC', A for 'CC'."""

    mode: Mode
    value: float


@dataclass(frozen=True)
class SetSpeed:
    """Simulated seconds per wall-clock second; None runs as fast as possible."""

    factor: float | None


@dataclass(frozen=True)
class SetSampleRate:
    """Sample rate of continuous acquisition, in Hz."""

    rate_hz: float


@dataclass(frozen=True)
class RunProtocol:
    """Run a protocol's sweeps (episodic acquisition), then return to continuous.

    speed: simulated/wall factor for the episode (None = as fast as possible); the
    continuous speed comes back afterwards. leak_subtraction: P/N sub-sweeps
    (None = the protocol's own setting, 0 = off).
    """

    protocol: Protocol
    speed: float | None = 1.0
    leak_subtraction: int | None = None


@dataclass(frozen=True)
class Pulse:
    """A one-off stimulus during continuous acquisition, like the stimulus button of a
    teaching rig: in 'CC' the holding current plus ``level`` (A) for ``duration_s``; in
    'VC' a step to the absolute potential ``level`` (V) for ``duration_s``. It starts
    at the next chunk (within 10 ms) and the holding level returns afterwards."""

    mode: Mode
    level: float
    duration_s: float


@dataclass(frozen=True)
class SetAmplifier:
    """Change amplifier settings: pairs of (Amplifier field name, SI value)."""

    changes: tuple


@dataclass(frozen=True)
class FastForward:
    """Let the cell rest duration_s (s) in I=0 on its slow manifold (concentrations
    only; see rig.simulation.fast_forward), then return to the mode it was in."""

    duration_s: float


@dataclass(frozen=True)
class SetCapacitance:
    """The cell's membrane capacitance in F (its area and conductances stay)."""

    capacitance_f: float


@dataclass(frozen=True)
class StartMembraneTest:
    """Replace continuous acquisition by a repeating VC square wave (the membrane
    test): step (V) above holding, half_period (s), at rate_hz samples per second.
    Each cycle comes as one Chunk of kind 'membrane_test'."""

    step_v: float = 0.010
    half_period_s: float = 0.010
    rate_hz: float = 100_000.0


@dataclass(frozen=True)
class StopMembraneTest:
    """Return from the membrane test to continuous acquisition."""


@dataclass(frozen=True)
class ResetCell:
    """Put the cell back at rest for the present mode and holding."""


@dataclass(frozen=True)
class SetTemperature:
    """Bath temperature in degC."""

    temperature_c: float


@dataclass(frozen=True)
class SetSolutions:
    """New bath and/or pipette Solution (None keeps the present one)."""

    bath: Solution | None = None
    pipette: Solution | None = None


@dataclass(frozen=True)
class ApplyDrug:
    """Start perfusing a drug (by name) at a concentration in M on a side
    ('outside' = bath, 'inside' = pipette)."""

    name: str
    concentration_m: float
    side: str = "outside"


@dataclass(frozen=True)
class WashDrug:
    """Wash a drug (by name) out; None washes every drug."""

    name: str | None = None


@dataclass(frozen=True)
class ApplyLocalDrug:
    """On a fibre: a drug (by name) at a concentration in M outside the stretch from
    start_m to end_m (m from the first end), at steady state at once."""

    name: str
    concentration_m: float
    start_m: float
    end_m: float


@dataclass(frozen=True)
class WashLocalDrugs:
    """On a fibre: wash every drug on a stretch off, at once."""


@dataclass(frozen=True)
class MoveElectrodes:
    """On a fibre: move the amplifier's electrode to stim_at_m and/or the recording
    sites to record_at_m (m from the first end; None keeps them). It takes effect at the
    next chunk, without a settle: the fibre's state stays. The sites' signal names
    follow their positions (the next RigState carries them)."""

    stim_at_m: float | None = None
    record_at_m: tuple | None = None


@dataclass(frozen=True)
class SetAxialWire:
    """On a fibre in voltage clamp: hold the whole fibre (HH's axial wire, on) or only
    the electrode's compartment (off); takes effect at the next chunk, without a settle."""

    on: bool


@dataclass(frozen=True)
class Chunk:
    """A block of samples from the runner.

    kind: 'continuous', 'sweep' or 'membrane_test'; sweep: sweep index (0 for continuous);
    first_sample: index of the first sample within the sweep or the continuous stream;
    sample_interval_s: s; mode: the clamp mode the samples were taken in; signals: {name: SI array};
    time_s: simulated time at the chunk's end; overload: the output exceeded the digitiser's range
    in this chunk; saturated: the headstage hit its rails (e.g. over-compensation) since the last
    settle; drugs: (name, side, present M, target M) for every drug applied so far; profile: on a
    fibre, the membrane potential (V, float32) at the RigState's fibre.profile_m positions, one
    row per sample (samples, positions), or None.
    """

    kind: str
    sweep: int
    first_sample: int
    sample_interval_s: float
    mode: Mode
    signals: FrozenMap = field(default_factory=FrozenMap)
    time_s: float = 0.0
    overload: bool = False
    saturated: bool = False
    drugs: tuple = ()
    profile: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        """Number of samples in the chunk."""
        return int(np.asarray(self.signals["Vm"]).size)


@dataclass(frozen=True)
class Event:
    """Something the window should know: kind is one of 'started', 'stopped',
    'protocol_started', 'sweep_done', 'protocol_done', 'error'; text explains."""

    kind: str
    text: str = ""
    sweep: int = 0
    sweeps: int = 0
