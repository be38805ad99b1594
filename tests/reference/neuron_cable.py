"""NEURON's built-in ``hh`` in an unbranched cable set up as a vRig fibre: a reference.

Used by ``tests/rig/test_cable_vs_neuron.py`` and the speed comparison; NEURON
(``pip install neuron``) is a test dependency only. NEURON's units at its boundary
(um, ohm*cm, uF/cm^2, mV, ms, nA), vRig's file units on the way out (ms, mV).

The model: one section of the fibre's length and diameter, nseg = vRig's compartment
count (NEURON's segment centres are vRig's compartment centres and its sealed ends
are vRig's), Ra and cm the fibre's, ``hh`` with gnabar/gkbar/gl 0.12/0.036/0.0003
S/cm^2, ena, ek and el set to vRig's reversal potentials at the temperature, v_init at
vRig's rest; an IClamp on the first segment's centre; fixed step (CVode off,
``secondorder`` 0: backward Euler for V, ``cnexp`` for the gates), stepped by
``ParallelContext.psolve``.
"""

import time

import numpy as np

PA_PER_NA = 1e3

_h = None


def neuron_h():
    """NEURON's ``h`` (imported on first use, with the standard library loaded)."""
    global _h
    if _h is None:
        from neuron import h

        h.load_file("stdrun.hoc")
        _h = h
    return _h


class HHCable:
    """A NEURON hh cable of a vRig :class:`rig.simulation.fibre.Fibre`'s geometry and
    reversal potentials; call :meth:`close` (or use ``with``)."""

    def __init__(self, fibre, use_table=False):
        h = neuron_h()
        self.h = h
        geometry = fibre.geometry
        self.n = geometry.n_compartments
        self.length_um = geometry.total_length_um
        self.celsius = fibre.temperature_c
        self.dt_ms = fibre.membrane.dt_ms
        self.use_table = bool(use_table)
        self.v_init = fibre.resting_potential_mv()
        e = _reversals_mv(fibre)
        self.sec = h.Section(name="hh_cable")
        self.sec.L = self.length_um
        self.sec.diam = geometry.diameter_um
        self.sec.nseg = self.n
        self.sec.Ra = geometry.axial_resistivity_ohm_cm
        self.sec.cm = fibre.cell.specific_capacitance_uf_per_cm2
        self.sec.insert("hh")
        for seg in self.sec:
            seg.hh.gnabar, seg.hh.gkbar, seg.hh.gl = 0.12, 0.036, 0.0003
            seg.hh.el = e["leak"]
        self.sec.ena = e["Na"]
        self.sec.ek = e["K"]
        self._pc = h.ParallelContext()

    def x(self, position_um):
        """NEURON's normalised position of the segment centre nearest position_um."""
        index = min(int(position_um / self.length_um * self.n), self.n - 1)
        return (index + 0.5) / self.n

    def run(self, stimulus_pa, duration_ms, tstop_ms, sites_um, stim_at_um=0.0):
        """A pulse of stimulus_pa (pA) for duration_ms from t = 0 at stim_at_um; returns
        (t_ms, {site_um: v_mV}, wall-clock seconds of the solve alone)."""
        h = self.h
        h.CVode().active(0)
        h.secondorder = 0
        h.celsius = self.celsius
        h.usetable_hh = 1 if self.use_table else 0
        h.dt = self.dt_ms
        stim = h.IClamp(self.sec(self.x(stim_at_um)))
        stim.delay, stim.dur, stim.amp = 0.0, duration_ms, stimulus_pa / PA_PER_NA
        t = h.Vector()
        t.record(h._ref_t, sec=self.sec)
        traces = {}
        for site in sites_um:
            traces[site] = h.Vector()
            traces[site].record(self.sec(self.x(site))._ref_v, sec=self.sec)
        try:
            h.finitialize(self.v_init)
            h.dt = self.dt_ms
            self._pc.set_maxstep(10)
            start = time.perf_counter()
            self._pc.psolve(tstop_ms)
            wall = time.perf_counter() - start
            return np.array(t), {s: np.array(v) for s, v in traces.items()}, wall
        finally:
            del stim

    def close(self):
        """Delete the section."""
        if self.sec is not None:
            self.h.delete_section(sec=self.sec)
            self.sec = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _reversals_mv(fibre):
    """{'Na', 'K', 'leak'} reversal potentials (mV) of a vRig fibre's membrane."""
    from rig.simulation.membrane import leak_reversal_mv, reversal_potentials_mv

    e = reversal_potentials_mv(fibre.bath, fibre.pipette, fibre.temperature_c)
    return {"Na": e["Na"], "K": e["K"],
            "leak": leak_reversal_mv(fibre.cell, fibre.bath, fibre.pipette,
                                     fibre.temperature_c)}
