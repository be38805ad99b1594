"""Voltage-clamp analysis of a family of sweeps: cursor measurements per sweep, the
I-V curve with its reversal, the G-V and h-infinity Boltzmann fits, and a time
constant per sweep. Nothing is fitted to noise: when the current a fit needs is not
there, a note says so in plain words and no fit is drawn.

Windows are (t0, t1) in s from the sweep start: 1 the peak (and mean, time to peak),
2 the steady state, 3 the exponential fit. The family's kind:

- 'I-V': the command in window 1 changes between sweeps and its epoch starts from
  holding: the I-V curve, its reversal and the G-V (activation) fit;
- 'tails': the command in window 1 changes but its epoch follows a conditioning step:
  the instantaneous I-V of the opened channels and its reversal (E_K for K tails);
- 'h-inf': the command in window 1 is the same in every sweep and the epoch before
  it changes (a prepulse): h-infinity and its fit;
- 'recovery': two identical pulses whose separation changes: recovery from
  inactivation (:mod:`rig.analysis.recovery`);
- 'sweeps': anything else: the per-sweep measurements only.

The peak's polarity 'auto' is inward (min) for I-V and h-infinity families and the
largest (abs) for tails, whose sign changes at the reversal. SI inside (s, V, A, S);
the rows hold ephys units with the unit in the column name.
"""

from collections.abc import Sequence

import numpy as np

from rig import units
from rig.analysis.fits import BoltzmannFit, ExponentialFit, fit_boltzmann, fit_exponential
from rig.analysis.measurements import conductance, reversal_by_interpolation, window_measure
from rig.analysis.recovery import COLUMNS as RECOVERY_COLUMNS
from rig.analysis.recovery import (
    measure_recovery,
    recovery_plots,
    recovery_pulses,
    recovery_summary,
)
from rig.analysis.result import AnalysisResult, Fact, Plot, Row, Series, Window
from rig.analysis.sweep_family import SweepFamily
from rig.errors import VrigError
from rig.files.layout import FloatArray

COLUMNS = {
    "I-V": ("sweep", "V_mV", "peak_pA", "t_peak_ms", "mean_pA", "Vss_mV", "steady_pA", "G_nS",
            "tau_ms"),
    "tails": ("sweep", "V_mV", "peak_pA", "t_peak_ms", "mean_pA", "Vss_mV", "steady_pA",
              "tau_ms"),
    "h-inf": ("sweep", "prepulse_mV", "V_mV", "peak_pA", "t_peak_ms", "mean_pA", "steady_pA",
              "h", "tau_ms"),
    "sweeps": ("sweep", "V_mV", "peak_pA", "t_peak_ms", "mean_pA", "Vss_mV", "steady_pA",
               "tau_ms"),
    "recovery": RECOVERY_COLUMNS,
}
TITLES = {"I-V": "I-V family", "tails": "Tail currents", "h-inf":
          "Steady-state inactivation (h-infinity)", "sweeps": "Sweeps",
          "recovery": "Recovery from inactivation"}
POLARITIES = ("auto", "min", "max", "abs")
MIN_FIT_POINTS = 4
NOISE_FACTOR = 5.0  # a current is there when it exceeds 5 x the baseline noise (rms)
RELATIVE_FLOOR = 0.01  # ... and 1 % of the family's largest current
MAX_FIT_RMS = 0.10  # a Boltzmann whose rms residual exceeds 10 % of its amplitude is no fit
MAX_CACHED_FITS = 4096
NAN = float("nan")
SIGN_WORDS = {-1: "inward", 1: "outward"}


def measure_vc(family: SweepFamily, windows: Sequence[Window], signal: str = "Im",
               polarity: str = "min") -> list[Row]:
    """One row per completed sweep (ephys units in the column names); polarity 'min',
    'max' or 'abs'."""
    w1, w2 = windows[0], windows[1]
    rows: list[Row] = []
    for k in sorted(family.done):
        y = family.data[signal][k]
        row: Row = {"sweep": k + 1}
        try:
            peak = window_measure(family.time, y, *w1, polarity)
            steady = window_measure(family.time, y, *w2, polarity)
        except VrigError:
            rows.append(row)
            continue
        prepulse = _prepulse(family, k, w1[0])
        row.update({"V_mV": units.v_to_mv(family.level(k, *w1)),
                    "Vss_mV": units.v_to_mv(family.level(k, *w2)),
                    "prepulse_mV": units.v_to_mv(prepulse), "peak_pA": units.a_to_pa(peak.peak),
                    "mean_pA": units.a_to_pa(peak.mean),
                    "t_peak_ms": units.s_to_ms(peak.time_to_peak),
                    "steady_pA": units.a_to_pa(steady.mean)})
        rows.append(row)
    return rows


def vc_kind(family: SweepFamily, window1: Window) -> str:
    """'I-V', 'tails', 'h-inf', 'recovery' or 'sweeps' (see the module docstring)."""
    if recovery_pulses(family) is not None:
        return "recovery"
    sweeps = sorted(family.done) or list(range(family.n_sweeps))
    v = np.array([family.level(k, *window1) for k in sweeps])
    v = v[np.isfinite(v)]
    if v.size and np.ptp(v) > 1e-4:
        epoch = family.epoch_containing(sweeps[0], window1[0])
        if epoch == 0:
            return "I-V"
        before = family.epoch_levels(sweeps[0], epoch - 1)[1]
        return "I-V" if abs(before - family.holding) < 1e-4 else "tails"
    pre = np.array([_prepulse(family, k, window1[0]) for k in sweeps])
    if np.isfinite(pre).all() and np.ptp(pre) > 1e-4:
        return "h-inf"
    return "sweeps"


def resolve_polarity(polarity: str, kind: str) -> str:
    """The polarity to measure with: 'auto' becomes 'abs' for tails, else 'min'."""
    if polarity not in POLARITIES:
        raise VrigError(f"polarity must be one of {', '.join(POLARITIES)}, got {polarity!r}")
    if polarity != "auto":
        return polarity
    return "abs" if kind == "tails" else "min"


def _prepulse(family: SweepFamily, sweep: int, t0: float) -> float:
    """Mean command (V) over the second half of the epoch before the one t0 is in."""
    index = family.epoch_containing(sweep, t0)
    if index == 0:
        return NAN
    start, end = family.epoch_span(sweep, index - 1)
    return family.level(sweep, (start + end) / 2, end - family.interval / 2)


def baseline(family: SweepFamily, signal: str) -> tuple[float, float]:
    """(holding current, noise rms) in A: medians over sweeps of the signal's mean and
    rms in the first epoch when it is at holding; (0, 0) when there is no such stretch."""
    end = family.epoch_span(0, 0)[1]
    at_holding = abs(family.epoch_levels(0, 0)[0] - family.holding) < 1e-4
    if signal not in family.data or not at_holding or end <= 2 * family.interval \
            or family.n_epochs() < 2:
        return 0.0, 0.0
    before = family.data[signal][sorted(family.done), : int(round(end / family.interval))]
    usable = [row[np.isfinite(row)] for row in before if np.isfinite(row).sum() > 2]
    if not usable:
        return 0.0, 0.0
    return (float(np.median([np.mean(u) for u in usable])),
            float(np.median([np.std(u) for u in usable])))


def _sign_of_interest(polarity: str, peaks: FloatArray) -> int:
    """-1 (inward) or +1 (outward): the current the analysis is after."""
    if polarity == "min":
        return -1
    if polarity == "max":
        return 1
    return -1 if peaks[np.argmax(np.abs(peaks))] < 0 else 1


def _leak_line(rows: Sequence[Row], holding_mv: float, holding_pa: float) -> FloatArray:
    """Current (pA) of the passive leak at each row's voltage: a line through the holding
    current at holding and the steady currents of the steps below holding (where
    nothing voltage-gated opens); the holding current alone when no step goes below."""
    below = [r for r in rows if r["V_mV"] < holding_mv - 1.0]
    v = np.array([r["V_mV"] for r in rows])
    if not below:
        return np.full(v.size, holding_pa)
    g = np.median([(r["steady_pA"] - holding_pa) / (r["V_mV"] - holding_mv) for r in below])
    return holding_pa + g * (v - holding_mv)


def _checked_boltzmann(v: FloatArray, y: FloatArray, what: str,
                       **kwargs: float) -> tuple[BoltzmannFit | None, str]:
    """A Boltzmann fit, or (None, plain reason) when it fails or does not describe the
    points (rms residual over 10 % of the amplitude, or V1/2 outside the data)."""
    try:
        fit = fit_boltzmann(v, y, **kwargs)
    except VrigError:
        return None, f"{what}: the points do not follow a Boltzmann curve, so no fit is drawn"
    if abs(fit.rms_residual) > MAX_FIT_RMS * abs(fit.amplitude):
        return None, (f"{what}: the points scatter too much about a Boltzmann curve "
                      f"({abs(fit.rms_residual / fit.amplitude):.0%} rms), so no fit is drawn")
    if not np.nanmin(v) - 0.01 <= fit.v_half <= np.nanmax(v) + 0.01:
        return None, (f"{what}: the half-point lies outside the voltages tested, "
                      "so no fit is drawn (extend the protocol's range)")
    return fit, ""


def _reverses(v: FloatArray, peak: FloatArray, reversal: float, sign: int, floor: float) -> bool:
    """True when the current really reverses at `reversal` (V): beyond it the current
    has the opposite sign and exceeds the floor (A). A sign change where the current of
    interest merely switches on (outward K current taking over from the leak) is not a
    reversal."""
    if not np.isfinite(reversal):
        return False
    beyond = peak[v > reversal] if sign < 0 else peak[v < reversal]
    return bool(beyond.size) and float(np.max(-sign * beyond)) > floor


def _iv_summary(family: SweepFamily, full: list[Row], sign: int, floor: float,
                holding_current: float, notes: list[str],
                facts: list[Fact]) -> BoltzmannFit | None:
    """Reversal and G-V of an I-V family; adds G_nS to the rows; returns the fit."""
    word = SIGN_WORDS[sign]
    v = units.mv_to_v(np.array([r["V_mV"] for r in full]))
    peak = units.pa_to_a(np.array([r["peak_pA"] for r in full]))
    holding_mv = units.v_to_mv(family.holding)
    active = peak - units.pa_to_a(_leak_line(full, holding_mv, units.a_to_pa(holding_current)))
    depolarised = v > family.holding + units.mv_to_v(1.0)
    present = depolarised & (sign * active > floor)
    if not present.any():
        hint = " (are the Na channels blocked?)" if sign < 0 else ""
        notes.append(f"no {word} current to fit: the peak current of every step above "
                     f"holding is within the leak and the noise{hint}")
        return None
    reversal = reversal_by_interpolation(v, peak)
    if not _reverses(v, peak, reversal, sign, floor):
        notes.append(f"the peak {word} current does not reverse between "
                     f"{units.v_to_mv(v.min()):.0f} and {units.v_to_mv(v.max()):.0f} mV, "
                     "so there is no reversal potential or G-V")
        return None
    facts.append(Fact("E_rev", units.v_to_mv(reversal), "mV", "E_rev"))
    g = conductance(peak, v, reversal)
    for r, gk in zip(full, g):
        r["G_nS"] = units.siemens_to_ns(gk)
    side = (v < reversal) if sign < 0 else (v > reversal)
    usable = side & np.isfinite(g) & (g > 0)
    if np.count_nonzero(usable & present) < MIN_FIT_POINTS - 1 or \
            np.count_nonzero(usable) < MIN_FIT_POINTS:
        notes.append(f"G-V: too few steps carry {word} current on that side of the reversal "
                     f"for a fit (need {MIN_FIT_POINTS})")
        return None
    fit, why = _checked_boltzmann(v[usable], g[usable], "G-V", slope_sign=1)
    if fit is None:
        notes.append(why)
        return None
    facts += [Fact("GV_V_half", units.v_to_mv(fit.v_half), "mV", "G-V V1/2"),
              Fact("GV_slope", units.v_to_mv(fit.slope), "mV", "k"),
              Fact("GV_Gmax", units.siemens_to_ns(fit.amplitude), "nS", "Gmax")]
    return fit


def _tails_summary(full: list[Row], floor: float, notes: list[str], facts: list[Fact]) -> None:
    """Reversal of the tail currents (instantaneous I-V of the opened channels)."""
    v = units.mv_to_v(np.array([r["V_mV"] for r in full]))
    peak = units.pa_to_a(np.array([r["peak_pA"] for r in full]))
    if not np.max(np.abs(peak)) > floor:
        notes.append("no tail current above the noise")
        return
    reversal = reversal_by_interpolation(v, peak)
    if np.isfinite(reversal):
        facts.append(Fact("E_rev", units.v_to_mv(reversal), "mV", "tail E_rev"))
    else:
        notes.append(f"the tail currents do not reverse between {units.v_to_mv(v.min()):.0f} and "
                     f"{units.v_to_mv(v.max()):.0f} mV")


def _hinf_summary(full: list[Row], sign: int, floor: float, notes: list[str],
                  facts: list[Fact]) -> BoltzmannFit | None:
    """h-infinity of a prepulse family; adds h to the rows; returns the fit."""
    word = SIGN_WORDS[sign]
    pre = units.mv_to_v(np.array([r["prepulse_mV"] for r in full]))
    peak = units.pa_to_a(np.array([r["peak_pA"] for r in full]))
    biggest = peak[np.argmax(sign * peak)]
    if not sign * biggest > floor:
        notes.append(f"no {word} current to fit: the test-pulse current is within the noise "
                     f"after every prepulse")
        return None
    h = peak / biggest
    for r, hk in zip(full, h):
        r["h"] = hk
    fit, why = _checked_boltzmann(pre, h, "h-inf", amplitude=1.0, slope_sign=-1)
    if fit is None and np.min(h) < -0.05:
        why = (f"h-inf: after the most depolarised prepulses the test current turns "
               f"{SIGN_WORDS[-sign]}, so it is not only the inactivating current: measure a "
               f"channel current (e.g. INa) or block the other channels (e.g. TEA for K) "
               f"to fit h-infinity")
    if fit is None:
        notes.append(why)
        return None
    facts += [Fact("hinf_V_half", units.v_to_mv(fit.v_half), "mV", "h-inf V1/2"),
              Fact("hinf_slope", units.v_to_mv(fit.slope), "mV", "k")]
    return fit


def _time_constants(family: SweepFamily, rows: list[Row], window: Window, signal: str, noise: float,
                    notes: list[str]) -> ExponentialFit | None:
    """tau_ms of every sweep whose window-3 current is one exponential above the noise;
    returns the newest sweep's fit (drawn) or None."""
    newest = None
    span = window[1] - window[0]
    for row in rows:
        key = (signal, window, int(row["sweep"]) - 1)  # the row holds the sweep from 1
        if len(family.fits) > MAX_CACHED_FITS:  # windows dragged many times
            family.fits.clear()
        if key not in family.fits:  # a completed sweep never changes: fit it once
            try:
                family.fits[key] = fit_exponential(family.time, family.data[signal][key[2]],
                                                   *window)
            except VrigError:
                family.fits[key] = None
        fit = family.fits[key]
        good = (fit is not None and fit.tau <= 2 * span
                and abs(fit.amplitude) > NOISE_FACTOR * noise)
        if good and fit is not None:
            row["tau_ms"] = units.s_to_ms(fit.tau)
        if row is rows[-1]:
            newest = fit if good else None
    if rows and newest is None:
        notes.append(f"tau: no single exponential in window 3 of sweep {rows[-1]['sweep']} "
                     "(put the green window on a decay or a rise)")
    return newest


def analyze_vc(family: SweepFamily, windows: Sequence[Window], signal: str = "Im",
               polarity: str = "auto") -> AnalysisResult:
    """The voltage-clamp analysis of a family's completed sweeps.

    windows: three (t0, t1) in s (1 peak, 2 steady state, 3 exponential fit);
    signal: a current ('Im' or a channel current such as 'INa'); polarity: 'auto',
    'min' (inward peaks), 'max' (outward) or 'abs' (largest). Returns an
    :class:`rig.analysis.result.AnalysisResult`.
    """
    kind = vc_kind(family, windows[0])
    polarity = resolve_polarity(polarity, kind)
    if kind == "recovery":
        return _analyze_recovery(family, windows, signal, polarity)
    rows = measure_vc(family, windows, signal, polarity) if signal in family.data else []
    full = [r for r in rows if "peak_pA" in r]
    facts: list[Fact] = []
    notes: list[str] = []
    holding_current, noise = baseline(family, signal)
    fit = None
    if len(full) >= 2 and kind != "sweeps":
        peaks = units.pa_to_a(np.array([r["peak_pA"] for r in full]))
        sign = _sign_of_interest(polarity, peaks)
        floor = max(NOISE_FACTOR * noise, RELATIVE_FLOOR * float(np.max(np.abs(peaks))))
        if kind == "I-V":
            fit = _iv_summary(family, full, sign, floor, holding_current, notes, facts)
        elif kind == "tails":
            _tails_summary(full, floor, notes, facts)
        else:
            fit = _hinf_summary(full, sign, floor, notes, facts)
    elif not family.done:
        notes.append("no sweep measured yet")
    elif not rows:
        notes.append(f"no {signal} recorded")
    tau_fit = _time_constants(family, rows, windows[2], signal, noise, notes) \
        if signal in family.data else None
    if tau_fit is not None:
        facts.append(Fact("tau_last", units.s_to_ms(tau_fit.tau), "ms",
                          f"tau (sweep {rows[-1]['sweep']})"))
        # from the first sample fitted: before it the exponential is an extrapolation
        inside = (family.time >= tau_fit.t_start) & (family.time <= windows[2][1])
        curve = (family.time[inside], tau_fit(family.time[inside]))
    else:
        curve = None
    return AnalysisResult("VC", kind, TITLES[kind], COLUMNS[kind], tuple(rows), tuple(facts),
                          tuple(notes), _plots(kind, full, facts, fit, notes), (), curve,
                          extra={"polarity": polarity})


def _analyze_recovery(family: SweepFamily, windows: Sequence[Window], signal: str,
                      polarity: str) -> AnalysisResult:
    """A two-pulse recovery family: both peaks per sweep and the recovery curve."""
    pulses = recovery_pulses(family)  # not None: the family's kind is 'recovery'
    rows = measure_recovery(family, windows[0], signal, polarity, pulses) \
        if signal in family.data and pulses is not None else []
    notes = [] if family.done else ["no sweep measured yet"]
    facts: list[Fact] = []
    fit: ExponentialFit | None = None
    full = [r for r in rows if "ratio" in r]
    if len(full) >= 2:
        peaks = units.pa_to_a(np.array([r["peak1_pA"] for r in full]))
        sign = _sign_of_interest(polarity, peaks)
        noise = baseline(family, signal)[1]
        floor = max(NOISE_FACTOR * noise, 1e-15)
        facts, fit = recovery_summary(rows, sign, floor, notes)
    return AnalysisResult("VC", "recovery", TITLES["recovery"], COLUMNS["recovery"],
                          tuple(rows), tuple(facts), tuple(notes),
                          recovery_plots(rows, fit, notes), (), None, windows_used=(1,),
                          extra={"polarity": polarity})


def _plots(kind: str, full: Sequence[Row], facts: Sequence[Fact], fit: BoltzmannFit | None,
           notes: Sequence[str]) -> tuple[Plot, ...]:
    """The I-V curve and, below it, the G-V or h-infinity points with their fit."""
    col = {c: np.array([r.get(c, NAN) for r in full], dtype=float)
           for c in ("V_mV", "peak_pA", "Vss_mV", "steady_pA", "G_nS", "prepulse_mV", "h")}
    order, order_ss = np.argsort(col["V_mV"]), np.argsort(col["Vss_mV"])
    e_rev = next((f.value for f in facts if f.name == "E_rev"), None)
    iv = Plot("I-V", "command V", "V", "current", "A",
              (Series("peak (window 1)", units.mv_to_v(col["V_mV"][order]),
                      units.pa_to_a(col["peak_pA"][order])),
               Series("steady (window 2)", units.mv_to_v(col["Vss_mV"][order_ss]),
                      units.pa_to_a(col["steady_pA"][order_ss]))),
              ((units.mv_to_v(e_rev), "E_rev"),) if e_rev is not None else ())
    reason = notes[0] if notes else ""
    if kind == "h-inf":
        x, y = units.mv_to_v(col["prepulse_mV"]), col["h"]
        order = np.argsort(x)
        hinf = Plot("h-infinity: I / I_max against the prepulse", "prepulse V", "V",
                    "I / I_max", "", _with_fit(Series("I / I_max", x, y, "points"), fit), (),
                    reason)
        raw = Plot("Test-pulse current against the prepulse", "prepulse V", "V", "current", "A",
                   (Series("peak (window 1)", x[order], units.pa_to_a(col["peak_pA"][order])),
                    Series("steady (window 2)", x[order], units.pa_to_a(col["steady_pA"][order]))))
        return hinf, raw
    if kind == "I-V":
        x, y = units.mv_to_v(col["V_mV"]), units.ns_to_siemens(col["G_nS"])
        second = Plot("G-V: G = I / (V - E_rev)", "command V", "V", "conductance", "S",
                      _with_fit(Series("G", x, y, "points"), fit), (), reason)
        return iv, second
    return (iv,)


def _with_fit(points: Series, fit: BoltzmannFit | None) -> tuple[Series, ...]:
    finite = np.isfinite(points.x) & np.isfinite(points.y)
    if fit is None or not finite.any():
        return (points,)
    grid = np.linspace(points.x[finite].min(), points.x[finite].max(), 200)
    return points, Series("Boltzmann fit", grid, fit(grid), "line")
