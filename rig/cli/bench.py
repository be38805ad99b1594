"""Speed figures for ``vrig bench``: generators of (name, value, unit).

Never imports Qt. The targets are in BENCHMARKS.md; nothing here asserts them:
speed is reported, not tested.

Sections
--------
:func:`run_benchmarks` runs the functions in :data:`SECTIONS` in order, then any
``extra_sections`` (e.g. the window's benchmark, which lives in ``ui/`` and may import
Qt). Each is ``section(quick, figures)``: it yields ``(name, value, unit)`` tuples, and
``figures`` is a dict of every value yielded so far (so a later section can form
ratios).

Figures
-------
* ``us_per_step``: wall time of one kernel step (10 us, hh-squid, CC, firing), from a
  Rig.advance block with 100 steps per sample so the per-call costs vanish.
* ``cc_realtime_factor``: simulated s per wall s of a 10 s CC run on hh-squid at 10 us, firing
  repetitively at 100 pA, stepped as the runner steps it: chunks of the runner's size (10 ms) at
  50 kHz through Rig.advance. ``cc_chunk_us`` is the wall time of one such chunk;
  ``cc_realtime_factor_cpu`` the same run per CPU second.
  ``cc_realtime_factor_block``: the same 10 s as one Rig.advance call.
  ``cc_realtime_factor_10x``: the same 10 s as the runner computes it at 10x real time:
  blocks of 10 chunks per Rig.advance call, split into the 10 ms chunks it queues.
* ``iv_family_ms``: Rig.run of the shipped 'vc-iv-family' (15 sweeps, with the holding
  time between sweeps), best of several after a warm-up.
* ``neuron_cc_realtime_factor``, ``neuron_speed_ratio``: the same CC run in NEURON's
  ``hh`` (same process, same 10 us fixed step, NEURON's default rate tables, v
  recorded at 50 kHz), and vRig's chunked speed over it. Only when NEURON is installed.
* ``first_start_s``, ``second_start_s``: wall time for a fresh ``python -c`` to import
  rig, build the default rig and compute the first runner chunk (10 ms at 50 kHz), run
  twice with a fresh numba cache directory: the first compiles the kernel, the
  second loads it from the cache (what every start after the first sees).
  ``second_start_cpu_s``: the CPU time that second start used (less load-dependent).
* ``axon_realtime_factor``, ``axon_neuron_speed_ratio`` and their kin: a
  1000-compartment HH fibre at 25 us against NEURON (:mod:`rig.cli.bench_axon`).
* ``sweep_parallel_efficiency``, ``sweep_1_worker_s``, ``sweep_2_workers_s``: a small
  ``vrig sweep`` on one local worker and on two (:mod:`rig.cli.bench_sweep`).
* ``stochastic_realtime_factor``, ``patch_realtime_factor`` and the figures behind the
  exact/multinomial switch: channels counted one by one (:mod:`rig.cli.bench_channels`).
* ``cpu_count``, ``load_average_1min``: context; the machine's other work slows every
  wall-clock figure, so each is the best of several repeats, and the ``_cpu``
  variants divide by the thread's CPU time instead of the wall time (what a quiet
  machine would show; the targets are judged on the wall-clock figures).
"""

import math
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

import numpy as np
import numpy.typing as npt

import rig
from rig import units
from rig.acquisition.runner import DEFAULT_CHUNK_S as CHUNK_S  # the runner's chunk (10 ms)
from rig.acquisition.runner import DEFAULT_RATE_HZ, chunks_per_block, split_block
from rig.clamp import Mode
from rig.cli.bench_axon import axon_section
from rig.cli.bench_channels import channels_section
from rig.cli.bench_sweep import sweep_section
from rig.cli.timing import best_of, best_wall_and_cpu
from rig.simulation.engine import DEFAULT_DT_S as DT_S  # 10 us
from rig.simulation.engine import Rig

SAMPLE_INTERVAL_S = 1.0 / DEFAULT_RATE_HZ  # 50 kHz, the runner's default rate
CC_CURRENT_A = 100e-12  # 10 uA/cm^2 on hh-squid: repetitive firing (~68 Hz)
CC_SIMULATED_S = 10.0
CC_SIMULATED_S_QUICK = 2.0
# a section yields (name, value, unit), given quick and the figures yielded before it
Figures = Iterator[tuple[str, float, str]]
Section = Callable[[bool, Mapping[str, float]], Figures]


def run_benchmarks(quick: bool = False, extra_sections: Iterable[Section] = ()) -> Figures:
    """Yield (name, value, unit) for every registered section, then extra_sections.

    quick: shorter runs (2 s instead of 10 s of simulated time, fewer repeats).
    """
    figures: dict[str, float] = {}
    sections: tuple[Section, ...] = SECTIONS + tuple(extra_sections)
    for section in sections:
        for name, value, unit in section(quick, figures):
            figures[name] = value
            yield name, value, unit


# --- helpers --------------------------------------------------------------------------

def _cc_rig() -> Rig:
    """hh-squid in CC, at rest, with the holding current then set to CC_CURRENT_A.

    (Settling *at* 100 pA would start on the unstable fixed point, from which the
    firing takes a long and step-size-dependent time to grow.)
    """

    setup = rig.Rig.from_presets(cell="hh-squid", dt=DT_S)
    setup.set_mode("CC")
    _restart(setup)
    return setup


def _restart(setup: Rig) -> None:
    setup.set_holding(0.0)
    setup.settle()
    setup.set_holding(CC_CURRENT_A)


def _spikes(vm_v: npt.ArrayLike) -> int:
    """Upward crossings of 0 mV in a membrane potential trace (V)."""
    above = np.asarray(vm_v) > 0.0
    return int(np.count_nonzero(above[1:] & ~above[:-1]))


# --- sections ---------------------------------------------------------------------------

def machine_section(quick: bool, figures: Mapping[str, float]) -> Figures:
    """cpu_count and the 1-minute load average: the figures below depend on both."""
    yield "cpu_count", os.cpu_count() or 0, ""
    if hasattr(os, "getloadavg"):
        yield "load_average_1min", os.getloadavg()[0], ""


def kernel_section(quick: bool, figures: Mapping[str, float]) -> Figures:
    """us_per_step: the kernel alone (per-call costs spread over 100 steps a sample)."""
    setup = _cc_rig()
    interval = 100 * DT_S
    command = np.full(int(round(0.5 / interval)), CC_CURRENT_A)  # 0.5 s, 50 000 steps
    setup.advance(command[:10], interval)  # compile / load the cache
    wall = best_of(lambda: setup.advance(command, interval), 3 if quick else 7)
    yield "us_per_step", units.s_to_us(wall / (command.size * 100)), "us"


def cc_section(quick: bool, figures: Mapping[str, float]) -> Figures:
    """cc_realtime_factor (runner-sized chunks), cc_realtime_factor_block and
    cc_realtime_factor_10x (the runner's blocks above real time)."""
    simulated = CC_SIMULATED_S_QUICK if quick else CC_SIMULATED_S
    repeats = 3 if quick else 5
    per_chunk = int(round(CHUNK_S / SAMPLE_INTERVAL_S))
    n_chunks = int(round(simulated / CHUNK_S))
    setup = _cc_rig()
    traces: dict[str, list[np.ndarray]] = {}

    def chunked() -> None:
        _restart(setup)
        chunks = [np.array([setup.membrane_potential])]
        for _ in range(n_chunks):
            # as the runner does: the command is the holding level, built per chunk,
            # and the chunk's arrays are kept (the runner queues them)
            signals = setup.advance(np.full(per_chunk, setup.holding[Mode.CC]),
                                    SAMPLE_INTERVAL_S)
            chunks.append(signals["Vm"])
        traces["chunked"] = chunks

    def blocks_at_10x() -> None:
        _restart(setup)
        chunks = [np.array([setup.membrane_potential])]
        per_block = chunks_per_block(10.0)
        for _ in range(n_chunks // per_block):
            signals = setup.advance(np.full(per_chunk * per_block, setup.holding[Mode.CC]),
                                    SAMPLE_INTERVAL_S)
            chunks.extend(piece["Vm"] for _, piece in split_block(signals, per_chunk))
        traces["blocks_at_10x"] = chunks

    def block() -> None:
        _restart(setup)
        v0 = setup.membrane_potential
        signals = setup.advance(np.full(per_chunk * n_chunks, CC_CURRENT_A), SAMPLE_INTERVAL_S)
        traces["block"] = [np.array([v0]), signals["Vm"]]

    setup.advance(np.full(per_chunk, CC_CURRENT_A), SAMPLE_INTERVAL_S)  # warm up
    wall_chunked, cpu_chunked = best_wall_and_cpu(chunked, repeats)
    wall_block = best_of(block, repeats)
    wall_10x = best_of(blocks_at_10x, repeats)
    spikes = {key: _spikes(np.concatenate(value)) for key, value in traces.items()}
    if not spikes["chunked"] == spikes["block"] == spikes["blocks_at_10x"]:
        raise RuntimeError(f"chunked and block runs differ: {spikes} spikes")
    yield "cc_realtime_factor", simulated / wall_chunked, "x"
    yield "cc_chunk_us", units.s_to_us(wall_chunked / n_chunks), "us"
    yield "cc_realtime_factor_cpu", simulated / cpu_chunked, "x"
    yield "cc_realtime_factor_block", simulated / wall_block, "x"
    yield "cc_realtime_factor_10x", simulated / wall_10x, "x"
    yield "cc_firing_rate_hz", spikes["chunked"] / simulated, "Hz"


def iv_section(quick: bool, figures: Mapping[str, float]) -> Figures:
    """iv_family_ms: the shipped VC I-V family through Rig.run."""

    protocol = rig.load_protocol("vc-iv-family")
    setup = rig.Rig.from_presets(cell="hh-squid", dt=DT_S)
    setup.run(protocol)  # warm-up
    wall = best_of(lambda: setup.run(protocol), 5 if quick else 15)
    yield "iv_family_ms", units.s_to_ms(wall), "ms"


def neuron_section(quick: bool, figures: Mapping[str, float]) -> Figures:
    """The CC run in NEURON's hh, same process and step; skipped without NEURON."""
    try:
        from neuron import h
    except ImportError:
        return

    setup = _cc_rig()  # for vRig's own rest and reversal potentials
    e_rev = setup.reversal_potentials()
    v_init = units.v_to_mv(setup.resting_potential())
    simulated = CC_SIMULATED_S_QUICK if quick else CC_SIMULATED_S
    area_um2 = setup.cell.area_um2
    sec = h.Section(name="vrig_bench_hh")
    try:
        sec.L = sec.diam = math.sqrt(area_um2 / math.pi)
        sec.nseg = 1
        sec.cm = units.specific_capacitance_uf_per_cm2(setup.cell.capacitance_pf, area_um2)
        sec.insert("hh")  # its default gnabar, gkbar, gl are hh-squid's 120, 36, 0.3 mS/cm^2
        sec.ena, sec.ek = units.v_to_mv(e_rev["Na"]), units.v_to_mv(e_rev["K"])
        sec(0.5).hh.el = units.v_to_mv(e_rev["leak"])
        stim = h.IClamp(sec(0.5))
        stim.delay, stim.dur, stim.amp = 0.0, 1e9, units.a_to_na(CC_CURRENT_A)  # dur: ms, for ever
        h.celsius = setup.temperature_c
        h.CVode().active(0)
        h.secondorder = 0
        h.usetable_hh = 1  # NEURON's default (1 mV rate tables): its fast path
        h.dt = units.s_to_ms(DT_S)
        pc = h.ParallelContext()
        pc.set_maxstep(10)
        counts: list[int] = []

        def run() -> None:
            vec = h.Vector()
            vec.record(sec(0.5)._ref_v, units.s_to_ms(SAMPLE_INTERVAL_S))  # v at 50 kHz
            h.finitialize(v_init)
            pc.psolve(units.s_to_ms(simulated))
            counts.append(_spikes(units.mv_to_v(vec.as_numpy())))

        wall, cpu = best_wall_and_cpu(run, 2 if quick else 3)
    finally:
        h.delete_section(sec=sec)
    neuron_factor = simulated / wall
    yield "neuron_cc_realtime_factor", neuron_factor, "x"
    yield "neuron_cc_firing_rate_hz", counts[0] / simulated, "Hz"
    if "cc_realtime_factor" in figures:
        yield "neuron_speed_ratio", figures["cc_realtime_factor"] / neuron_factor, "x"
    if "cc_realtime_factor_cpu" in figures:
        yield ("neuron_speed_ratio_cpu", figures["cc_realtime_factor_cpu"] / (simulated / cpu),
               "x")
    if "cc_realtime_factor_block" in figures:
        yield ("neuron_speed_ratio_block", figures["cc_realtime_factor_block"] / neuron_factor,
               "x")


STARTUP_SCRIPT = """
import sys, time
start = time.perf_counter()
import numpy as np
import rig
bench = rig.Rig.from_presets()
signals = bench.advance(np.full({n}, bench.holding[bench.mode]), {interval!r})
assert np.isfinite(signals["Vm"]).all()
qt = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")
loaded = sorted(m for m in sys.modules if m.split(".")[0] in qt)
assert not loaded, loaded
print(time.perf_counter() - start)
"""


def startup_section(quick: bool, figures: Mapping[str, float]) -> Figures:
    """first_start_s / second_start_s: a fresh interpreter to the first chunk.

    Both runs share a new, empty numba cache directory, so the first compiles the
    kernel and writes the cache, and the second loads it, whatever state the
    package's own __pycache__ is in.
    """
    import tempfile


    script = STARTUP_SCRIPT.format(n=int(round(CHUNK_S / SAMPLE_INTERVAL_S)),
                                   interval=SAMPLE_INTERVAL_S)
    root = os.path.dirname(os.path.dirname(os.path.abspath(rig.__file__)))
    walls: list[float] = []
    cpus: list[float] = []
    with tempfile.TemporaryDirectory(prefix="vrig-bench-numba-") as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        for _ in range(2):
            cpu = _children_cpu_s()
            start = time.perf_counter()
            done = subprocess.run([sys.executable, "-c", script], env=env,
                                  capture_output=True, text=True, check=False)
            walls.append(time.perf_counter() - start)
            cpus.append(_children_cpu_s() - cpu)
            if done.returncode != 0:
                raise RuntimeError("the start-up benchmark's subprocess failed:\n"
                                   + done.stderr[-2000:])
    yield "first_start_s", walls[0], "s"
    yield "second_start_s", walls[1], "s"
    if not math.isnan(cpus[1]):
        yield "second_start_cpu_s", cpus[1], "s"


def _children_cpu_s() -> float:
    """User + system CPU time (s) of finished child processes; nan where unknown."""
    try:
        import resource
    except ImportError:
        return float("nan")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


SECTIONS = (machine_section, kernel_section, cc_section, iv_section, neuron_section,
            axon_section, channels_section, startup_section, sweep_section)
