"""Stepping a Rig's state through the compiled kernel: recorded blocks (the signals in
SI), unrecorded holding, and the checks after each block (breakdown, non-finite
state, drugs moving on). Functions of a :class:`rig.simulation.engine.Rig`; kernel
units inside (mV, ms, pA), SI outside (V, A, s).
"""

import math
from typing import Any, NoReturn

import numpy as np

from rig import units
from rig.clamp import Mode
from rig.errors import VrigError
from rig.model import limits
from rig.simulation import ion_blocks, layout, reference, steady_state
from rig.simulation.membrane import CompiledMembrane

PERFUSION_BLOCK_S = 0.01  # drug effects are updated at least this often while washing
GAP_SAMPLE_STEPS = 100  # steps per (unrecorded) sample while holding between sweeps


def run_kernel(rig: Any, m: CompiledMembrane, command: np.ndarray,
               steps: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Step rig's state through command (SI: V in VC, A in CC, zeros in I=0) with steps
    per sample on the compiled membrane m; returns (out, peaks): the kernel's output (SI
    rows, see rig.simulation.kernel) and the largest |Vm| and |Im| in it. Lets the drugs
    move on. A command beyond the amplifier's limits is refused before any step."""
    inputs = rig.kernel_inputs(m)
    out = np.empty((inputs.n_rows, command.size))
    sim = rig.sim
    state: tuple[Any, ...] = (sim.v_mv, sim.gates, sim.electrode)
    if m.markov is not None:
        state += (rig.channel_stream,)  # the rig's own seeded stream: reproducible
    # the amplifier holds its reading, the membrane plus any uncorrected junction error
    error = rig.amplifier.junction_error  # 0 unless the correction is off
    applied = command - error if error and rig.mode == Mode.VC else command
    ok, vm_peak, im_peak = inputs.advance(inputs.record, inputs.amp, state, applied,
                                          steps, out)
    if not ok:
        check_command(rig, command)
    if not rig.perfusion.settled:
        rig.perfusion.advance(command.size * steps * units.ms_to_s(m.dt_ms))
    broken_at = sim.electrode[layout.EL_BREAKDOWN]
    if broken_at:
        rig.lost = limits.breakdown_message(broken_at, rig.cell.breakdown_mv)
        raise VrigError(rig.lost)
    # A non-finite gate or node reaches the membrane potential within a step.
    if not (math.isfinite(sim.v_mv[0]) and math.isfinite(sim.electrode[layout.EL_VP])):
        raise VrigError("the simulation became unstable (non-finite state); "
                        "reset the cell and use a smaller time step")
    return out, (vm_peak, im_peak)


def check_command(rig: Any, command: np.ndarray) -> NoReturn:
    """Raise the VrigError that says why a command (SI) is beyond what rig's amplifier
    can apply in its mode; the kernel has found that it is."""
    limits.check_command(rig.mode, rig.mode.from_si(command), rig.amplifier)
    raise VrigError("command out of range: it must be finite and within the amplifier's "
                    "limits")


def run_blocks(rig: Any, m: CompiledMembrane, command: np.ndarray, steps: int,
               sample_interval_s: float) -> tuple[np.ndarray, tuple[float, float] | None]:
    """run_kernel over command, in blocks of PERFUSION_BLOCK_S while drugs still move
    (so their effects are refreshed), in one block otherwise; returns (out, peaks) as
    run_kernel (peaks None when the blocks were several)."""
    if getattr(rig, "ions", None) is not None:  # concentrations as state, or the pump
        return ion_blocks.run(rig, m, command, steps, sample_interval_s, run_kernel)
    if rig.perfusion.settled:
        return run_kernel(rig, m, command, steps)
    # Every block is checked before the first is stepped, so a bad command steps nothing.
    if rig.mode != Mode.I0:
        limits.check_command(rig.mode, rig.mode.from_si(command), rig.amplifier)
    block = max(1, int(PERFUSION_BLOCK_S / sample_interval_s))
    return np.concatenate([run_kernel(rig, m, command[i: i + block], steps)[0]
                           for i in range(0, command.size, block)], axis=1), None


def hold(rig: Any, duration_s: float) -> None:
    """Advance rig at its holding level for duration_s (s) without recording."""
    if getattr(rig, "ions", None) is not None:
        ion_blocks.hold(rig, duration_s, run_kernel)
        return
    m = rig.membrane()
    if (rig.kernel_mode() == layout.MODE_VC_IDEAL and rig.perfusion.settled
            and m.markov is None and (rig.cell.geometry is None or rig.placement.axial_wire)):
        # The voltage is imposed (on a fibre, everywhere, by the axial wire), so the
        # gates relax exactly; no need to step.
        holding = rig.kernel_level(Mode.VC)
        if abs(holding) > rig.cell.breakdown_mv:
            rig.lost = limits.breakdown_message(holding, rig.cell.breakdown_mv)
            raise VrigError(rig.lost)
        rig.sim.v_mv[:] = holding
        rig.sim.gates[:] = reference.relax_gates(m, rig.sim.gates, holding,
                                                 units.s_to_ms(duration_s))
        rig.sim.electrode[layout.EL_VP] = holding
        rig.sim.electrode[layout.EL_IM] = steady_state.present_current_pa(rig)
        rig.sim.electrode[layout.EL_IGATE] = 0.0
        rig.sim.electrode[layout.EL_STIM_CLOCK] += units.s_to_ms(duration_s)
        rig.time_s += duration_s
        rig.output_chain.reset()
        return
    sample_s = units.ms_to_s(m.dt_ms) * GAP_SAMPLE_STEPS
    n = round(duration_s / sample_s)
    if n == 0:
        return
    block = np.full(min(n, 10_000), 0.0 if rig.mode == Mode.I0 else rig.holding[rig.mode])
    if not rig.perfusion.settled:
        block = block[: max(1, int(PERFUSION_BLOCK_S / sample_s))]
    for start in range(0, n, block.size):
        run_kernel(rig, m, block[: min(block.size, n - start)], GAP_SAMPLE_STEPS)
    rig.time_s += n * sample_s
    rig.output_chain.reset()


def signals(rig: Any, m: CompiledMembrane, out: np.ndarray, peaks: tuple[float, float] | None,
            command_si: np.ndarray, sample_interval_s: float,
            t0_s: float) -> dict[str, np.ndarray]:
    """The kernel's output (already SI) as {signal: array}, the amplifier's two outputs
    through the output chain; the other rows are views of out, so a long run
    allocates its output once. peaks: (largest |Vm|, |Im|) in out, or None; t0_s: time
    of the first sample (s)."""
    inputs = rig.kernel_inputs(m)
    if rig.amplifier.junction_error:
        out[layout.OUT_VM] += rig.amplifier.junction_error
    voltage, current, overloaded = rig.output_chain.process(
        rig.amplifier, rig.mode, out[layout.OUT_VM], out[layout.OUT_IM],
        sample_interval_s, t0_s, peaks, units.pf_to_f(rig.cell.capacitance_pf))
    rig.overloaded = rig.overloaded or overloaded
    rig.last_overload = overloaded
    result = {"Vm": voltage, "Im": current, "command": command_si,
              "Vmem": out[layout.OUT_VMEM]}
    if inputs.model.has_charge:
        result["Igating"] = out[layout.OUT_IGATE]
    result.update(zip(inputs.names, out[layout.FIRST_LABEL_ROW:]))
    result.update(ion_blocks.signals(rig))
    return result
