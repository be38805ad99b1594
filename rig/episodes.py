"""Running a protocol's sweeps on an engine (episodic acquisition), with optional P/N
leak subtraction, into a Recording."""

from dataclasses import replace

import numpy as np

from rig import units
from rig.errors import VrigError
from rig.protocol import LeakSubtraction, render_sweep
from rig.recording import Recording

PN_SETTLE_S = 0.01  # time at a new holding level before P/N sub-sweeps or the sweep


def run_protocol(rig, protocol, progress=None, leak_subtraction=None):
    """Run every sweep of a protocol on a Rig from its settled state.

    leak_subtraction: number of P/N sub-sweeps (overrides the protocol's setting; 0
    turns it off). With it, 'Im' is the subtracted current and 'Im_raw' the raw one.
    """
    pn = _leak_setting(protocol, leak_subtraction)
    rig.set_mode(protocol.mode)
    if protocol.mode != "I0":
        rig.set_holding(_to_si(protocol, protocol.holding))
    rig.settle()
    lengths = np.array([protocol.sweep_samples(k) for k in range(protocol.sweeps)])
    interval_s = protocol.sample_interval_s
    buffers = {}
    for k in range(protocol.sweeps):
        if k > 0:
            gap_s = protocol.sweep_interval_ms / 1e3 - lengths[k - 1] * interval_s
            if gap_s > 0:
                rig.hold(gap_s)
        command = render_sweep(protocol, k).command
        leak = _pn_leak(rig, protocol, pn, command) if pn else None
        signals = rig.advance(command, interval_s)
        if leak is not None:
            signals["Im_raw"] = signals["Im"]
            signals["Im"] = signals["Im"] + leak
        for name, values in signals.items():
            if name not in buffers:
                buffers[name] = np.full((protocol.sweeps, lengths.max()), np.nan)
            buffers[name][k, : values.size] = values
        if progress is not None:
            progress(k, protocol.sweeps)
    units_by_name = dict(rig.signal_names())
    if pn:
        units_by_name["Im_raw"] = "A"
    steps = rig._steps_per_sample(interval_s)
    metadata = rig.metadata(protocol, interval_s / steps)
    if pn:
        metadata["leak_subtraction"] = (f"P/N {pn.subsweeps} {pn.polarity} from "
                                        f"{pn.holding:g} mV")
    return Recording(buffers, units_by_name, lengths, interval_s, metadata)


def _to_si(protocol, level):
    return units.mv_to_v(level) if protocol.mode == "VC" else units.pa_to_a(level)


def _leak_setting(protocol, override):
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


def _pn_leak(rig, protocol, pn, command):
    """Run the P/N sub-sweeps for one sweep's command (V) and return the leak
    correction (A) to add to the sweep's current: minus the summed passive response,
    each sub-sweep measured from its own baseline at the P/N holding level."""
    holding = _to_si(protocol, protocol.holding)
    pn_holding = units.mv_to_v(pn.holding)
    sign = -1.0 if pn.polarity == "opposite" else 1.0
    scale = sign / pn.subsweeps
    sub_command = pn_holding + (command - holding) * scale
    # The baseline is the stretch before the command first leaves the holding level.
    departures = np.nonzero(~np.isclose(command, holding))[0]
    lead = departures[0] if departures.size else command.size
    interval = protocol.sample_interval_s
    rig.set_holding(pn_holding)
    rig.hold(PN_SETTLE_S)
    total = np.zeros(command.size)
    for _ in range(pn.subsweeps):
        current = rig.advance(sub_command, interval)["Im"]
        baseline = current[:lead].mean() if lead else current[0]
        total += current - baseline
    rig.set_holding(holding)
    rig.hold(PN_SETTLE_S)
    return -total / scale / pn.subsweeps
