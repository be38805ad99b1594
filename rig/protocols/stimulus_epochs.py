"""Where the epochs of each sweep start, from a protocol or from a recorded command.

A recording made by a protocol run carries the protocol (metadata ``protocol_json``);
a recording without it (an imported file, a continuous run) still has its command
channel, and the epochs are found there: a new epoch starts wherever the command jumps
or changes slope. Samples and SI throughout (V for a voltage command, A for a current
command).
"""

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from rig.protocols.protocol import Protocol, render_sweep

MAX_EPOCHS = 64  # more pieces than this is a waveform (a sine, noise), not an epoch table
RELATIVE_TOLERANCE = 1e-4  # of the command's largest magnitude: file rounding is ~1e-7


def epochs_from_protocol(protocol: Protocol
                         ) -> tuple[list[npt.NDArray[np.float64]], list[tuple[int, ...]]]:
    """(commands, epoch starts) of every sweep of a protocol: SI arrays and tuples of
    first-sample indices, as :func:`rig.protocols.protocol.render_sweep` gives them."""
    renders = [render_sweep(protocol, k) for k in range(protocol.sweeps)]
    return [r.command for r in renders], [tuple(r.epoch_starts) for r in renders]


def epoch_starts(command: npt.ArrayLike, tolerance: float) -> tuple[int, ...]:
    """First-sample indices of the linear pieces (steps and ramps) of one command.

    command: SI array (V or A), finite; tolerance: the largest change of the per-sample
    slope that is still the same piece (same unit as command). A step starts at the
    first sample of its new level; a ramp that leaves a level without a jump starts at
    its own first value (the last sample of that level). Returns (0,) for a command
    that is not piecewise linear (more than MAX_EPOCHS pieces: a sine, a long train).
    """
    c = np.asarray(command, dtype=float)
    if c.size < 3:
        return (0,)
    slope = np.diff(c)
    changes = np.nonzero(np.abs(np.diff(slope)) > tolerance)[0] + 1  # slope[i] != slope[i-1]
    starts = [0]
    skip_to = 0
    for i in changes:
        if i < skip_to:
            continue
        jump = i + 1 >= slope.size or abs(slope[i + 1] - slope[i]) > tolerance
        start = i + 1 if jump else i
        if start > starts[-1]:
            starts.append(int(start))
        skip_to = start + 1
        if len(starts) > MAX_EPOCHS:
            return (0,)
    return tuple(starts)


def epochs_from_command(commands: npt.ArrayLike, lengths: Sequence[int]
                        ) -> list[tuple[int, ...]]:
    """Epoch starts of every sweep of a recorded command.

    commands: (sweeps, samples) SI array padded with NaN; lengths: samples per sweep.
    Sweeps where a level equals its neighbour's (a 0 pA step from 0 pA holding) show
    fewer boundaries than the others; they take the boundaries of the nearest sweep
    that has the most, when those include their own.
    """
    commands = np.asarray(commands, dtype=float)
    finite = commands[np.isfinite(commands)]
    scale = float(np.max(np.abs(finite))) if finite.size else 0.0
    tolerance = max(scale * RELATIVE_TOLERANCE, np.finfo(float).tiny)
    starts = [epoch_starts(commands[k, : lengths[k]], tolerance) for k in range(len(lengths))]
    most = max(len(s) for s in starts)
    full = [k for k, s in enumerate(starts) if len(s) == most]
    aligned: list[tuple[int, ...]] = []
    for k, own in enumerate(starts):
        if len(own) < most:
            donor = min(full, key=lambda j: abs(j - k))
            if set(own) <= set(starts[donor]) and starts[donor][-1] < lengths[k]:
                own = starts[donor]
        aligned.append(own)
    return aligned
