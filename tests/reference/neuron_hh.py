"""NEURON's built-in ``hh`` model set up as vRig's 'hh-squid' cell: a reference.

Used by ``tests/rig/test_vs_neuron.py``; NEURON (``pip install neuron``) is a test
dependency only, never a runtime one. Everything here is in NEURON's own units at the
NEURON boundary (mV, ms, nA, mA/cm^2) and in vRig's *file* units on the way out:
times in ms, voltages in mV, currents in pA.

The model
---------
* One section, nseg = 1, a cylinder with L = diam = sqrt(1000/pi) um, so its area is
  the 1000 um^2 of hh-squid (1 uA/cm^2 = 10 pA; Cm = 1 uF/cm^2 = 10 pF). A single
  segment of a cylinder has no axial current, so this is a point membrane.
* ``hh`` with gnabar 0.12, gkbar 0.036, gl 0.0003 S/cm^2 at celsius = 6.3 degC, and
  ena, ek, el set to the caller's values (vRig's own Nernst potentials and its leak's
  chord reversal, via :func:`vrig_hh_squid_parameters`).
* Fixed step: CVode off, ``h.dt`` = ``dt_ms`` (0.01 ms by default), ``secondorder`` 0
  (implicit Euler for V, ``cnexp`` exponential update for the gates).
* Rate tables: ``usetable_hh`` is set to 0 by default, so the rates are computed
  exactly at every step. NEURON's default (``usetable_hh = 1``) interpolates 1 mV
  tables between -100 and +100 mV; pass ``use_table=True`` to get that instead.
  (vRig itself interpolates 0.025 mV tables.)

Stepping uses ``ParallelContext.psolve`` (a C loop), not ``stdrun``'s ``continuerun``,
whose ``setdt`` would silently change dt = 0.01 ms to 1/120 ms when
``steps_per_ms`` = 40.
"""

import math

import numpy as np

AREA_UM2 = 1000.0
GNABAR_S_PER_CM2 = 0.12
GKBAR_S_PER_CM2 = 0.036
GL_S_PER_CM2 = 0.0003
CELSIUS = 6.3
DT_MS = 0.01
PA_PER_NA = 1e3
PA_PER_MA_PER_CM2 = AREA_UM2 * 1e-8 * 1e9  # mA/cm^2 over 1000 um^2 -> pA (= 1e4)

_h = None


def neuron_h():
    """NEURON's ``h`` (imported on first use, with the standard library loaded)."""
    global _h
    if _h is None:
        from neuron import h

        h.load_file("stdrun.hoc")
        _h = h
    return _h


def vrig_hh_squid_parameters(dt_s=DT_MS * 1e-3):
    """{'ena', 'ek', 'el', 'v_init'} in mV, taken from vRig's hh-squid rig."""
    import rig

    setup = rig.Rig.from_presets(cell="hh-squid", dt=dt_s)
    e_rev = setup.reversal_potentials()
    return {"ena": e_rev["Na"] * 1e3, "ek": e_rev["K"] * 1e3, "el": e_rev["leak"] * 1e3,
            "v_init": setup.resting_potential() * 1e3}


class HHSquid:
    """The NEURON section and its settings; call :meth:`close` (or use ``with``)."""

    def __init__(self, ena, ek, el, v_init, dt_ms=DT_MS, use_table=False):
        h = neuron_h()
        self.h = h
        self.v_init = float(v_init)
        self.dt_ms = float(dt_ms)
        self.use_table = bool(use_table)
        self.sec = h.Section(name="hh_squid")
        self.sec.L = self.sec.diam = math.sqrt(AREA_UM2 / math.pi)
        self.sec.nseg = 1
        self.sec.cm = 1.0
        self.sec.Ra = 35.4
        self.sec.insert("hh")
        self.seg = self.sec(0.5)
        self.seg.hh.gnabar = GNABAR_S_PER_CM2
        self.seg.hh.gkbar = GKBAR_S_PER_CM2
        self.seg.hh.gl = GL_S_PER_CM2
        self.seg.hh.el = float(el)
        self.sec.ena = float(ena)
        self.sec.ek = float(ek)
        self._pc = h.ParallelContext()
        self._keep = []

    @property
    def area_um2(self):
        """The segment's membrane area in um^2 (1000)."""
        return self.h.area(0.5, sec=self.sec)

    def _prepare(self):
        h = self.h
        h.CVode().active(0)
        h.secondorder = 0
        h.celsius = CELSIUS
        h.usetable_hh = 1 if self.use_table else 0
        h.dt = self.dt_ms

    def _record(self, ref):
        vec = self.h.Vector()
        vec.record(ref, sec=self.sec)
        self._keep.append(vec)
        return vec

    def _solve(self, tstop_ms, v_init=None):
        h = self.h
        h.finitialize(self.v_init if v_init is None else v_init)
        h.dt = self.dt_ms  # finitialize leaves dt alone, but make sure
        self._pc.set_maxstep(10)
        self._pc.psolve(tstop_ms)

    def current_clamp(self, delay_ms, duration_ms, amplitude_pa, tstop_ms):
        """An IClamp pulse; returns (t_ms, v_mV), one sample per step from t = 0.

        The IClamp's current is evaluated at the middle of each step, so it is on for
        the steps starting at delay_ms ... delay_ms + duration_ms - dt.
        """
        self._prepare()
        h = self.h
        stim = h.IClamp(self.seg)
        stim.delay = delay_ms
        stim.dur = duration_ms
        stim.amp = amplitude_pa / PA_PER_NA
        t = self._record(h._ref_t)
        v = self._record(self.seg._ref_v)
        try:
            self._solve(tstop_ms)
            return np.array(t), np.array(v)
        finally:
            del stim
            self._keep.clear()

    def voltage_clamp(self, holding_mv, before_ms, step_mv, step_ms, after_ms,
                      rs_mohm=1e-6):
        """One SEClamp sweep: holding, a step, holding again.

        The cell starts in the steady state at holding_mv (as vRig's ideal clamp does
        after ``settle``), not at rest: h relaxes with tau ~ 8.5 ms at -65 mV, so a
        start 5 uV away would still show as a 1e-4 relative error in I_Na 10 ms later.

        Returns a dict of arrays, one sample per step from t = 0: 't' (ms), 'v' (mV),
        'm', 'h', 'n'; 'ina', 'ik', 'il' (pA, outward positive as in vRig) computed
        here from v and the gates recorded at the same instant; 'ina_neuron' (pA),
        NEURON's own ina, which its fixed-step method evaluates at the start of each
        step (v and gates of the previous time point), so the recorded value lags by
        one dt; 'i_electrode' (pA, the SEClamp current, positive into the cell; it
        balances the outward membrane current, so it has the sign of vRig's Im in VC;
        it lags by one dt in the same way).
        """
        self._prepare()
        h = self.h
        clamp = h.SEClamp(self.seg)
        clamp.rs = rs_mohm
        clamp.dur1, clamp.amp1 = before_ms, holding_mv
        clamp.dur2, clamp.amp2 = step_ms, step_mv
        clamp.dur3, clamp.amp3 = after_ms, holding_mv
        mech = self.seg.hh
        rec = {"t": self._record(h._ref_t), "v": self._record(self.seg._ref_v),
               "m": self._record(mech._ref_m), "h": self._record(mech._ref_h),
               "n": self._record(mech._ref_n),
               "i_electrode": self._record(clamp._ref_i),
               "ina_neuron": self._record(self.seg._ref_ina)}
        try:
            self._solve(before_ms + step_ms + after_ms, v_init=holding_mv)
            out = {name: np.array(vec) for name, vec in rec.items()}
        finally:
            del clamp
            self._keep.clear()
        v = out["v"]
        out["ina"] = (mech.gnabar * out["m"] ** 3 * out["h"] * (v - self.sec.ena)
                      * PA_PER_MA_PER_CM2)  # S/cm^2 * mV = mA/cm^2
        out["ik"] = mech.gkbar * out["n"] ** 4 * (v - self.sec.ek) * PA_PER_MA_PER_CM2
        out["il"] = mech.gl * (v - mech.el) * PA_PER_MA_PER_CM2
        out["ina_neuron"] = out["ina_neuron"] * PA_PER_MA_PER_CM2
        out["i_electrode"] = out["i_electrode"] * PA_PER_NA
        return out

    def close(self):
        """Delete the section."""
        if self.sec is not None:
            self.h.delete_section(sec=self.sec)
            self.sec = None
            self.seg = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def hh_squid(dt_ms=DT_MS, use_table=False):
    """An :class:`HHSquid` with vRig's reversal potentials and resting potential."""
    return HHSquid(dt_ms=dt_ms, use_table=use_table,
                   **vrig_hh_squid_parameters(dt_ms * 1e-3))


def run_current_clamp(delay_ms, duration_ms, amplitude_pa, tstop_ms, dt_ms=DT_MS,
                      use_table=False):
    """(t_ms, v_mV) of an IClamp pulse on the hh-squid equivalent."""
    with hh_squid(dt_ms, use_table) as cell:
        return cell.current_clamp(delay_ms, duration_ms, amplitude_pa, tstop_ms)


def run_voltage_clamp_family(holding_mv, before_ms, steps_mv, step_ms, after_ms,
                             dt_ms=DT_MS, use_table=False, rs_mohm=1e-6):
    """One :meth:`HHSquid.voltage_clamp` dict per step level (mV)."""
    with hh_squid(dt_ms, use_table) as cell:
        return [cell.voltage_clamp(holding_mv, before_ms, level, step_ms, after_ms, rs_mohm)
                for level in steps_mv]
