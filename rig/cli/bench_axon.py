"""The axon's speed figures for ``vrig bench`` (a section of :mod:`rig.cli.bench`).

* ``axon_realtime_factor``: simulated s per wall s of a 1000-compartment HH fibre (the
  squid-axon preset cut into 30 um compartments) at dt = 25 us, stimulated at one end
  every 20 ms so that an action potential is always on its way, V recorded at three
  sites every step, run through :class:`rig.simulation.fibre.Fibre` in one block;
  ``axon_realtime_factor_cpu`` per CPU second of the thread.
* ``axon_neuron_realtime_factor``, ``axon_neuron_speed_ratio``: the same fibre, step,
  stimulus and recording in NEURON's ``hh`` (nseg 1000, fixed step, its default rate
  tables), in the same process; vRig's factor over NEURON's. Only with NEURON.
"""

from dataclasses import replace

import numpy as np

from rig import units
from rig.cli.timing import best_of, best_wall_and_cpu
from rig.model.cell import load_cell, with_geometry
from rig.simulation.fibre import Fibre, pulse_current_a

AXON_COMPARTMENTS = 1000
AXON_DT_S = 25e-6
AXON_SIMULATED_S = 1.0
AXON_SIMULATED_S_QUICK = 0.2
AXON_STIMULUS_EVERY_S = 0.02
AXON_SITES_M = (0.005, 0.015, 0.025)


def _fibre():
    cell = load_cell("squid-axon")
    assert cell.geometry is not None  # the preset is a fibre
    cell = with_geometry(cell, replace(cell.geometry, compartments=AXON_COMPARTMENTS))
    return Fibre(cell, dt=AXON_DT_S, record_at=AXON_SITES_M)


def _command(fibre, simulated_s):
    """The pulse train (A per step): 0.1 ms pulses every AXON_STIMULUS_EVERY_S."""
    command = np.zeros(round(simulated_s / AXON_DT_S))
    pulse = pulse_current_a(fibre, 60.0, 1e-4)
    every = round(AXON_STIMULUS_EVERY_S / AXON_DT_S)
    for start in range(0, command.size, every):
        command[start: start + round(1e-4 / AXON_DT_S)] = pulse
    return command


def axon_section(quick, figures):
    """axon_realtime_factor (and _cpu); NEURON's figures where it is installed."""
    simulated = AXON_SIMULATED_S_QUICK if quick else AXON_SIMULATED_S
    fibre = _fibre()
    command = _command(fibre, simulated)
    fibre.run(command[:40], AXON_DT_S)  # compile or load the kernel

    def run():
        fibre.settle()
        fibre.run(command, AXON_DT_S)

    wall, cpu = best_wall_and_cpu(run, 2 if quick else 3)
    yield "axon_realtime_factor", simulated / wall, "x"
    yield "axon_realtime_factor_cpu", simulated / cpu, "x"
    neuron_wall = _neuron_wall_s(fibre, command, 2 if quick else 3)
    if neuron_wall is not None:
        yield "axon_neuron_realtime_factor", simulated / neuron_wall, "x"
        yield "axon_neuron_speed_ratio", neuron_wall / wall, "x"


def _neuron_wall_s(fibre, command, repeats):
    """Best wall time (s) of NEURON's run of the same fibre; None without NEURON."""
    try:
        from neuron import h
    except ImportError:
        return None
    from rig.simulation.membrane import leak_reversal_mv, reversal_potentials_mv

    geometry = fibre.geometry
    e = reversal_potentials_mv(fibre.bath, fibre.pipette, fibre.temperature_c)
    h.load_file("stdrun.hoc")
    sec = h.Section(name="vrig_bench_axon")
    try:
        sec.L, sec.diam = geometry.total_length_um, geometry.diameter_um
        sec.nseg = geometry.n_compartments
        sec.Ra = geometry.axial_resistivity_ohm_cm
        sec.cm = fibre.cell.specific_capacitance_uf_per_cm2
        sec.insert("hh")
        el = leak_reversal_mv(fibre.cell, fibre.bath, fibre.pipette, fibre.temperature_c)
        for seg in sec:
            seg.hh.el = el
        sec.ena, sec.ek = e["Na"], e["K"]
        stim = h.IClamp(sec(0.5 / geometry.n_compartments))
        stim.delay, stim.dur = 0.0, 1e9
        played = h.Vector(units.a_to_na(command))
        played.play(stim._ref_amp, units.s_to_ms(AXON_DT_S))
        h.celsius = fibre.temperature_c
        h.CVode().active(0)
        h.secondorder = 0
        h.usetable_hh = 1  # NEURON's default rate tables: its fast path
        h.dt = units.s_to_ms(AXON_DT_S)
        pc = h.ParallelContext()
        pc.set_maxstep(10)
        v_init = fibre.resting_potential_mv()

        def run():
            vectors = []
            for site in AXON_SITES_M:
                vec = h.Vector()
                vec.record(sec(geometry.centres_um()[geometry.compartment_at(
                    units.m_to_um(site))] / geometry.total_length_um)._ref_v)
                vectors.append(vec)
            h.finitialize(v_init)
            pc.psolve(units.s_to_ms(command.size * AXON_DT_S))

        return best_of(run, repeats)
    finally:
        h.delete_section(sec=sec)
