"""Running a protocol's sweeps on an engine (episodic acquisition), with optional P/N
leak subtraction.

:func:`protocol_pieces` is the one sweep loop: a generator that advances the engine
one piece at a time and yields what it did, so the paced runner and the headless
:func:`run_protocol` share it.
"""

from dataclasses import dataclass, replace

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.files.recording import Recording
from rig.protocols.protocol import LeakSubtraction, render_sweep

PN_SETTLE_S = 0.01  # time at a new holding level before P/N sub-sweeps or the sweep
PN_BASELINE_S = 0.002  # stretch at the P/N holding level that gives each sub-sweep's baseline
HOLD_PIECE_S = 0.005  # holding between sweeps is yielded in pieces of this length


@dataclass(frozen=True)
class Piece:
    """What one step of :func:`protocol_pieces` did.

    kind: 'sweep' (signals hold samples first_sample.. of sweep), 'sweep_done' or
    'hold' (time spent at holding between sweeps, or on P/N sub-sweeps);
    simulated_s: simulated time it took (s).
    """

    kind: str
    sweep: int
    simulated_s: float
    first_sample: int = 0
    signals: dict | None = None


def leak_setting(protocol, override=None):
    """The P/N setting in force: the protocol's, or N sub-sweeps when override is given
    (0 turns it off)."""
    if override is None:
        return protocol.leak_subtraction
    n = int(override)
    if n == 0:
        return None
    if protocol.mode != "VC":
        raise VrigError("P/N leak subtraction is for voltage clamp (VC) protocols only")
    if not 1 <= n <= 16:
        raise VrigError(f"--leak-sub must be 0 (off) to 16 sub-sweeps, got {n}")
    base = protocol.leak_subtraction or LeakSubtraction(n, -120.0)
    return replace(base, subsweeps=n)


def protocol_pieces(rig, protocol, leak_subtraction=None, samples_per_piece=None):
    """Generator running a protocol on a Rig from its settled state.

    Sweeps come in pieces of samples_per_piece samples (whole sweeps when None). With
    P/N, each sweep's sub-sweeps run first and 'Im' is the subtracted current, 'Im_raw'
    the raw one.
    """
    pn = leak_setting(protocol, leak_subtraction)
    rig.set_mode(protocol.mode)
    if protocol.mode != "I0":
        rig.set_holding(_to_si(protocol, protocol.holding))
    rig.settle()
    interval = protocol.sample_interval_s
    for k in range(protocol.sweeps):
        command = render_sweep(protocol, k).command
        step = samples_per_piece or command.size
        if pn:
            leak = yield from _pn_leak(rig, protocol, pn, command, k, step)
        rig.trigger_stimulator()  # a fibre's second stimulator fires from each sweep's start
        for first in range(0, command.size, step):
            block = command[first: first + step]
            signals = rig.advance(block, interval)
            if pn:
                signals["Im_raw"] = signals["Im"]
                signals["Im"] = signals["Im"] + leak[first: first + block.size]
            yield Piece("sweep", k, block.size * interval, first, signals)
        yield Piece("sweep_done", k, 0.0)
        if k + 1 < protocol.sweeps:
            gap = units.ms_to_s(protocol.sweep_interval_ms) - command.size * interval
            while gap > 1e-12:
                piece = min(gap, HOLD_PIECE_S) if samples_per_piece else gap
                rig.hold(piece)
                gap -= piece
                yield Piece("hold", k, piece)


def run_protocol(rig, protocol, progress=None, leak_subtraction=None):
    """Run every sweep of a protocol on a Rig; returns a Recording.

    progress: optional callable(sweep_index, n_sweeps) called after each sweep.
    """
    lengths = np.array([protocol.sweep_samples(k) for k in range(protocol.sweeps)])
    buffers = {}
    for piece in protocol_pieces(rig, protocol, leak_subtraction):
        if piece.kind == "sweep":
            for name, values in piece.signals.items():
                if values.ndim != 1:
                    continue  # a fibre's space-time profile (Rig.set_profile) is no signal
                if name not in buffers:
                    buffers[name] = np.full((protocol.sweeps, lengths.max()), np.nan)
                first = piece.first_sample
                buffers[name][piece.sweep, first: first + values.size] = values
        elif piece.kind == "sweep_done" and progress is not None:
            progress(piece.sweep, protocol.sweeps)
    units_by_name, metadata = recording_info(rig, protocol, leak_subtraction)
    return Recording(buffers, units_by_name, lengths, protocol.sample_interval_s, metadata)


def recording_info(rig, protocol, leak_subtraction=None):
    """(units {signal: SI unit}, metadata) of a recording of a protocol run on a Rig."""
    pn = leak_setting(protocol, leak_subtraction)
    units_by_name = dict(rig.signal_names())
    if pn:
        units_by_name["Im_raw"] = "A"
    interval = protocol.sample_interval_s
    metadata = rig.metadata(protocol, interval / rig.steps_per_sample(interval))
    if pn:
        metadata["leak_subtraction"] = (f"P/N {pn.subsweeps} {pn.polarity} from "
                                        f"{pn.holding:g} mV")
    return units_by_name, metadata


def _to_si(protocol, level):
    return protocol.mode.to_si(level)


def _pn_leak(rig, protocol, pn, command, sweep, step):
    """Generator running the P/N sub-sweeps for one sweep's command (V); yields a 'hold'
    Piece after each stretch of at most `step` samples (so a long sweep's sub-sweeps show
    progress and let a stop through too) and returns the leak correction (A) to add to
    the sweep's current: minus the summed passive response, each sub-sweep measured from
    the current at the P/N holding level just before it."""
    holding = _to_si(protocol, protocol.holding)
    sign = -1.0 if pn.polarity == "opposite" else 1.0
    scale = sign / pn.subsweeps
    pn_holding = units.mv_to_v(pn.holding)
    sub_command = pn_holding + (command - holding) * scale
    interval = protocol.sample_interval_s
    baseline_samples = np.full(max(1, round(PN_BASELINE_S / interval)), pn_holding)
    t0 = rig.time_s
    rig.set_holding(pn_holding)
    rig.hold(PN_SETTLE_S)
    total = np.zeros(command.size)
    for _ in range(pn.subsweeps):
        baseline = rig.advance(baseline_samples, interval)["Im"].mean()
        for first in range(0, command.size, step):
            block = sub_command[first: first + step]
            total[first: first + block.size] += rig.advance(block, interval)["Im"] - baseline
            yield Piece("hold", sweep, rig.time_s - t0)
            t0 = rig.time_s
    rig.set_holding(holding)
    rig.hold(PN_SETTLE_S)
    yield Piece("hold", sweep, rig.time_s - t0)
    return -total / scale / pn.subsweeps
