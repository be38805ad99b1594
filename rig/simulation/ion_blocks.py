"""Stepping a Rig whose concentrations are state (see :mod:`rig.simulation.accumulation`):
the kernel in blocks, the reversal potentials and the pump's tangent set before each
block, the charge each ion carried moved after it. Kernel units (mV, ms, pA, fC) inside.
"""

from collections.abc import Callable
from typing import Any

import numpy as np

from rig import units
from rig.clamp import Mode
from rig.model import gradients, limits
from rig.simulation import layout
from rig.simulation.accumulation import BLOCK_S, PUMP, SIGNALS, channel_ions

PA_PER_A = units.PA_PER_A


def set_reversals(rig: Any, m: Any) -> None:
    """Set m's reversal potentials (in place: the kernel record shares them) from rig's
    live concentrations."""
    store = rig.ions
    if store.setup.accumulation:
        e = store.reversals_mv(rig.temperature_c)
        for ch, ion in enumerate(channel_ions(rig.cell, m.channel_labels)):
            if ion in e and m.chan_g_ns[ch] > 0:
                m.chan_e_mv[ch] = e[ion]


def _plan(rig: Any, m: Any) -> tuple[dict[str, list[int]], list[tuple[int, str]], int]:
    """How to split m's output into ions: ({ion: its gated labels' indices}, [(leak
    channel, ion)], the pump label's index or -1); each gated label must carry one ion."""
    ions = channel_ions(rig.cell, m.channel_labels)
    rows: dict[str, list[int]] = {ion: [] for ion in gradients.TRACKED}
    leak = [(ch, ion) for ch, ion in enumerate(ions)
            if m.channel_labels[ch] == "leak" and ion in rows]
    pump = -1
    for index, label in enumerate(m.labels):
        if label == PUMP:
            pump = index
        elif label != "leak":
            carried = {ions[ch] for ch, lab in enumerate(m.channel_labels) if lab == label}
            if len(carried) != 1:
                raise limits.VrigError(f"channel label {label!r} carries several ions "
                                       f"({', '.join(sorted(carried))}); it cannot be split")
            ion = carried.pop()
            if ion in rows:
                rows[ion].append(index)
    return rows, leak, pump


def prepare(rig: Any, m: Any) -> None:
    """Set m's reversal potentials and the pump's tangent at the present voltage (in
    m and in the kernel record, with the drugs in force)."""
    set_reversals(rig, m)
    store = rig.ions
    t = rig.temperature_c
    labels = m.channel_labels
    if PUMP in labels:
        p = labels.index(PUMP)
        g, e_pump = store.pump_tangent(rig.sim.soma_v_mv, t)
        m.chan_g_ns[p] = g
        m.chan_e_mv[p] = e_pump
        inputs = rig.kernel_inputs(m)
        inputs.model.chan_g_ns[p] = g * rig.perfusion.effects().conductance_scale.get(PUMP, 1.0)


def block_charges(rig: Any, m: Any, out: np.ndarray,
                  sample_ms: float) -> tuple[dict[str, float], float]:
    """({ion: fC carried outward}, pump fC) in a block of kernel output out (SI rows),
    each sample's current times sample_ms (ms): a gated label's current row (one ion
    per label), a leak component's g (V - E) from Vmem, the pump's row."""
    store = rig.ions
    plan = store.plans.get(m.channel_labels)
    if plan is None:
        plan = store.plans[m.channel_labels] = _plan(rig, m)
    rows, leak, pump = plan
    first = layout.FIRST_LABEL_ROW
    sums = out[first: first + len(m.labels)].sum(axis=1) * (PA_PER_A * sample_ms)
    charge = {ion: float(sum(sums[i] for i in indices)) for ion, indices in rows.items()}
    v_sum = float(out[layout.OUT_VMEM].sum()) * units.MV_PER_V
    n = out.shape[1]
    chan_g = rig.kernel_inputs(m).model.chan_g_ns
    for ch, ion in leak:
        charge[ion] += chan_g[ch] * (v_sum - n * m.chan_e_mv[ch]) * sample_ms
    return charge, float(sums[pump]) if pump >= 0 else 0.0


def run(rig: Any, m: Any, command: np.ndarray, steps: int, sample_interval_s: float,
        run_kernel: Callable[..., Any]) -> tuple[np.ndarray, None]:
    """run_kernel over command in blocks of BLOCK_S (at least one sample), moving the
    ions after each; returns (out, None) as stepping.run_blocks."""
    if rig.mode != Mode.I0:
        limits.check_command(rig.mode, rig.mode.from_si(command), rig.amplifier)
    block = max(1, round(BLOCK_S / sample_interval_s))
    rig.ions.trace = []
    return np.concatenate([step_block(rig, m, command[i: i + block], steps, sample_interval_s,
                                      run_kernel) for i in range(0, command.size, block)],
                          axis=1), None


def step_block(rig: Any, m: Any, command: np.ndarray, steps: int, sample_interval_s: float,
               run_kernel: Callable[..., Any]) -> np.ndarray:
    """One block: prepare, step, move the charge carried; returns the kernel output."""
    prepare(rig, m)
    out, _ = run_kernel(rig, m, command, steps)
    sample_ms = units.s_to_ms(sample_interval_s)
    charge, pump_fc = block_charges(rig, m, out, sample_ms)
    store = rig.ions
    store.move(charge, pump_fc, command.size * sample_ms)
    if store.setup.accumulation:
        e = store.reversals_mv(rig.temperature_c)
        inside = store.inside_mm()
        store.trace.append((command.size, (inside["Na"], inside["K"], store.k_out_mm(),
                                           units.mv_to_v(e["Na"]), units.mv_to_v(e["K"]))))
    return out


def hold(rig: Any, duration_s: float, run_kernel: Callable[..., Any]) -> None:
    """Advance rig at its holding level for duration_s (s), one kernel step a sample
    (so the charge each ion carries is summed at the kernel's resolution)."""
    m = rig.membrane()
    sample_s = units.ms_to_s(m.dt_ms)
    n = round(duration_s / sample_s)
    level = 0.0 if rig.mode == Mode.I0 else rig.holding[rig.mode]
    block = max(1, round(BLOCK_S / sample_s))
    command = np.full(block, level)
    for start in range(0, n, block):
        step_block(rig, m, command[: min(block, n - start)], 1, sample_s, run_kernel)
    rig.ions.trace = []  # nothing recorded
    rig.time_s += n * sample_s
    rig.output_chain.reset()


def signals(rig: Any) -> dict[str, np.ndarray]:
    """The concentration signals of the last advance (SI: mol/m^3 = mM, V), each
    block's sample holding the values after that block."""
    store = rig.ions
    if store is None or not store.setup.accumulation or not store.trace:
        return {}
    sizes = [n for n, _ in store.trace]
    values = np.array([v for _, v in store.trace])
    return {name: np.repeat(values[:, k], sizes)
            for k, (name, _) in enumerate(SIGNALS)}
