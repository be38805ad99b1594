"""Current-clamp analysis of a family of sweeps: what a practical asks of each sweep
(stimulus, spikes, latency, threshold, peak, height, width, AHP, firing rate) and of
the family (rheobase, the f-I curve, refractory periods, accommodation).

The family's kind comes from its stimulus epochs (the epochs whose command leaves the
holding current):

- 'threshold': one stimulus epoch whose level changes, brief (< 20 ms) or
  hyperpolarising (anode break): the weakest stimulus that fires (rheobase within the
  protocol's step), all or none;
- 'f-I': one long depolarising step whose level changes: the f-I curve (mean rate in
  window 3 and 1/first ISI against current) and where firing becomes sustained;
- 'paired': two stimulus epochs whose separation changes: the recovery curve (second
  spike amplitude over the first's, against the interval) with the absolute and the
  relative refractory periods;
- 'ramp': a current ramp: the current at the first spike against the ramp duration
  (accommodation);
- 'spikes': anything else (a continuous recording): spikes and rate per sweep.

Windows are (t0, t1) in s from the sweep start: 1 where spikes are measured, 2 the
baseline, 3 the firing-rate window. Spike measures follow :mod:`rig.analysis.spikes`.
Latencies and intervals are from the onset of a stimulus epoch to a spike's threshold
(or, for the paired-pulse delay, its peak).
"""

from collections.abc import Callable, Sequence

import numpy as np

from rig import units
from rig.analysis.result import AnalysisResult, Fact, Plot, Row, Series, Window
from rig.analysis.spikes import Spike, SpikeCriteria, find_spikes
from rig.analysis.sweep_family import SweepFamily
from rig.files.layout import FloatArray

LONG_STEP_S = 0.020  # a depolarising step at least this long is an f-I step
SUSTAINED_FRACTION = 0.25  # firing in the last quarter of window 3 is sustained
RECOVERY_FRACTION = 0.95  # a second spike this fraction of the first is recovered

TITLES = {"threshold": "Threshold: all or none", "f-I": "Firing against current (f-I)",
          "paired": "Paired pulses: refractory periods",
          "ramp": "Current ramps: accommodation", "spikes": "Spikes per sweep"}
COLUMNS = {
    "threshold": ("sweep", "stimulus_pA", "spikes", "latency_ms", "threshold_mV", "peak_mV",
                  "height_mV", "half_width_ms", "ahp_mV", "max_mV", "baseline_mV"),
    "f-I": ("sweep", "stimulus_pA", "spikes", "rate_Hz", "inst_rate_Hz", "first_isi_ms",
            "latency_ms", "threshold_mV", "peak_mV", "height_mV", "half_width_ms", "ahp_mV",
            "baseline_mV"),
    "paired": ("sweep", "interval_ms", "ratio", "spikes", "amp1_mV", "amp2_mV", "delay2_ms",
               "peak1_mV", "peak2_mV", "stimulus_pA", "baseline_mV"),
    "ramp": ("sweep", "ramp_ms", "slope_pA_per_ms", "current_at_spike_pA", "spikes",
             "latency_ms", "threshold_mV", "peak_mV", "height_mV", "half_width_ms",
             "baseline_mV"),
    "spikes": ("sweep", "stimulus_pA", "spikes", "rate_Hz", "first_isi_ms", "latency_ms",
               "threshold_mV", "peak_mV", "height_mV", "half_width_ms", "ahp_mV",
               "baseline_mV"),
}
NAN = float("nan")
SAME_LEVEL_A = 1e-14  # command differences below 0.01 pA are the same level


def stimulus_epochs(family: SweepFamily) -> list[int]:
    """Epochs whose command leaves the holding level in some sweep, or changes
    between sweeps (a 0 pA first step of a family is still the stimulus epoch)."""
    varying = set(family.varying_epochs())
    result = []
    for e in range(family.n_epochs()):
        levels = np.array([family.epoch_levels(k, e) for k in range(family.n_sweeps)])
        if e in varying or np.max(np.abs(levels - family.holding)) > SAME_LEVEL_A:
            result.append(e)
    return result


def family_kind(family: SweepFamily) -> tuple[str, list[int]]:
    """(kind, stimulus epochs): see the module docstring for the kinds."""
    stimulus = stimulus_epochs(family)
    if not stimulus:
        return "spikes", stimulus
    first = stimulus[0]
    levels = np.array([family.epoch_levels(k, first) for k in range(family.n_sweeps)])
    if np.any(np.abs(levels[:, 1] - levels[:, 0]) > SAME_LEVEL_A):
        return "ramp", stimulus
    if len(stimulus) >= 2:
        gaps = [family.epoch_span(k, stimulus[1])[0] - family.epoch_span(k, first)[0]
                for k in range(family.n_sweeps)]
        if np.ptp(gaps) > family.interval / 2:
            return "paired", stimulus
    if np.ptp(levels[:, 0]) > SAME_LEVEL_A:
        durations = [np.diff(family.epoch_span(k, first))[0] for k in range(family.n_sweeps)]
        depolarising = np.all(levels[:, 0] >= family.holding - SAME_LEVEL_A)
        if depolarising and max(durations) >= LONG_STEP_S:
            return "f-I", stimulus
        return "threshold", stimulus
    return "spikes", stimulus


def _mean_in(t: FloatArray, y: FloatArray, window: Window) -> float:
    inside = (t >= window[0]) & (t <= window[1]) & np.isfinite(y)
    return float(np.mean(y[inside])) if inside.any() else NAN


def _max_in(t: FloatArray, y: FloatArray, window: Window) -> float:
    inside = (t >= window[0]) & (t <= window[1]) & np.isfinite(y)
    return float(np.max(y[inside])) if inside.any() else NAN


def _spike_columns(row: Row, spike: Spike, onset: float) -> None:
    """Latency, threshold, peak, height, width and AHP of a spike (ms, mV)."""
    row.update({"latency_ms": units.s_to_ms(spike.threshold_t - onset),
                "threshold_mV": units.v_to_mv(spike.threshold_v),
                "peak_mV": units.v_to_mv(spike.peak_v),
                "height_mV": units.v_to_mv(spike.height),
                "half_width_ms": units.s_to_ms(spike.half_width),
                "ahp_mV": units.v_to_mv(spike.trough_v)})


def measure_sweep(family: SweepFamily, sweep: int, kind: str, stimulus: Sequence[int],
                  windows: Sequence[Window], criteria: SpikeCriteria,
                  signal: str = "Vm") -> tuple[Row, list[Spike]]:
    """The row of one sweep (ephys units) and its spikes (for drawing)."""
    w1, w2, w3 = windows
    t, v = family.time, family.data[signal][sweep]
    spikes = find_spikes(t, v, criteria, min(w1[0], w3[0]), max(w1[1], w3[1]))
    measured = [s for s in spikes if w1[0] <= s.threshold_t <= w1[1]]
    row: Row = {"sweep": sweep + 1, "spikes": len(measured),
           "baseline_mV": units.v_to_mv(_mean_in(t, v, w2)),
           "max_mV": units.v_to_mv(_max_in(t, v, w1))}
    test = stimulus[0] if stimulus else None
    onset = family.epoch_span(sweep, test)[0] if test is not None else w1[0]
    if test is not None:
        first, last = family.epoch_levels(sweep, test)
        row["stimulus_pA"] = units.a_to_pa(last if kind == "ramp" else first)
    if measured:
        _spike_columns(row, measured[0], onset)
    if len(measured) >= 2:
        isi = measured[1].threshold_t - measured[0].threshold_t
        row.update({"first_isi_ms": units.s_to_ms(isi), "inst_rate_Hz": 1.0 / isi})
    onsets = np.array([s.threshold_t for s in spikes])
    row["rate_Hz"] = float(np.count_nonzero((onsets >= w3[0]) & (onsets < w3[1]))
                           / (w3[1] - w3[0]))
    row["late_spikes"] = int(np.count_nonzero(
        (onsets >= w3[1] - SUSTAINED_FRACTION * (w3[1] - w3[0])) & (onsets < w3[1])))
    if kind == "ramp" and test is not None:  # a ramp is a stimulus epoch: test is set
        start, end = family.epoch_span(sweep, test)
        first, last = family.epoch_levels(sweep, test)
        row.update({"ramp_ms": round(units.s_to_ms(end - start), 9),
                    "slope_pA_per_ms": units.a_to_pa(last - first) / units.s_to_ms(end - start)})
        if measured:
            command = family.commands[sweep]
            row["current_at_spike_pA"] = units.a_to_pa(float(np.interp(
                measured[0].threshold_t, t[: command.size], command)))
    if kind == "paired":
        _paired_columns(row, family, sweep, stimulus, measured)
    return row, measured


def _paired_columns(row: Row, family: SweepFamily, sweep: int, stimulus: Sequence[int],
                    spikes: Sequence[Spike]) -> None:
    """Which spike each pulse evoked, by the time of its peak, and their amplitudes
    above the baseline (window 2)."""
    on1 = family.epoch_span(sweep, stimulus[0])[0]
    on2 = family.epoch_span(sweep, stimulus[1])[0]
    # rounded to whole samples: 6, not 6.000000000000001
    row["interval_ms"] = round(units.s_to_ms(on2 - on1), 9)
    first = next((s for s in spikes if on1 <= s.peak_t < on2), None)
    second = next((s for s in spikes if s.peak_t >= on2), None)
    base = row["baseline_mV"]
    if first is not None:
        row.update({"peak1_mV": units.v_to_mv(first.peak_v),
                    "amp1_mV": units.v_to_mv(first.peak_v) - base})
    if second is not None:
        row.update({"peak2_mV": units.v_to_mv(second.peak_v),
                    "amp2_mV": units.v_to_mv(second.peak_v) - base,
                    "delay2_ms": units.s_to_ms(second.peak_t - on2)})
    if first is not None:
        row["ratio"] = row["amp2_mV"] / row["amp1_mV"] if second is not None else 0.0


# --- the family ---------------------------------------------------------------------------

def _threshold_facts(rows: Sequence[Row], holding_pa: float) -> tuple[list[Fact], list[str]]:
    """The weakest stimulus that fires, and the strongest weaker one that does not."""
    facts: list[Fact] = []
    notes: list[str] = []
    usable = [r for r in rows if np.isfinite(r.get("stimulus_pA", NAN))]
    if not usable:
        return facts, notes
    ordered = sorted(usable, key=lambda r: abs(r["stimulus_pA"] - holding_pa))
    firing = [r for r in ordered if r["spikes"] > 0]
    hyper = ordered[-1]["stimulus_pA"] < holding_pa
    name, label = ("break_threshold", "Anode-break threshold") if hyper else \
        ("rheobase", "Rheobase")
    if not firing:
        notes.append(f"no sweep fired: the threshold is beyond "
                     f"{ordered[-1]['stimulus_pA']:.4g} pA, the strongest stimulus")
        return facts, notes
    weakest = firing[0]
    silent = [r for r in ordered if r["spikes"] == 0
              and abs(r["stimulus_pA"] - holding_pa) < abs(weakest["stimulus_pA"] - holding_pa)]
    facts += [Fact(name, weakest["stimulus_pA"], "pA", label),
              Fact("first_firing_sweep", weakest["sweep"], "", "first firing sweep")]
    if silent:
        facts.append(Fact("last_silent", silent[-1]["stimulus_pA"], "pA", "last silent"))
    else:
        notes.append(f"every sweep fired: the threshold is at or below "
                     f"{weakest['stimulus_pA']:.4g} pA")
    for key, unit, label_text in (("latency_ms", "ms", "latency"),
                                  ("threshold_mV", "mV", "threshold Vm"),
                                  ("half_width_ms", "ms", "half width")):
        value = weakest.get(key, NAN)
        if np.isfinite(value):
            facts.append(Fact(f"first_spike_{key.rsplit('_', 1)[0]}", value, unit,
                              f"{label_text} at {name}"))
    return facts, notes


def _fi_facts(rows: Sequence[Row]) -> tuple[list[Fact], list[str]]:
    facts: list[Fact] = []
    notes: list[str] = []
    sustained = [r for r in sorted(rows, key=lambda r: r.get("stimulus_pA", NAN))
                 if r["late_spikes"] > 0]
    if sustained:
        facts.append(Fact("sustained_firing_from", sustained[0]["stimulus_pA"], "pA",
                          "sustained firing from"))
    else:
        notes.append("no sweep fires through the end of window 3 (no sustained firing)")
    rates = [r["rate_Hz"] for r in rows]
    if rates and max(rates) > 0:
        facts.append(Fact("max_rate", max(rates), "Hz", "max rate"))
    return facts, notes


def _paired_facts(rows: Sequence[Row], fraction: float) -> tuple[list[Fact], list[str]]:
    facts: list[Fact] = []
    notes: list[str] = []
    evoked = [r for r in rows if "peak1_mV" in r]
    if len(evoked) < len(rows):
        notes.append(f"the first pulse did not fire in {len(rows) - len(evoked)} sweep(s): "
                     "those are left out of the recovery curve")
    if not evoked:
        return facts, notes
    intervals = np.array(sorted(r["interval_ms"] for r in evoked))
    failed = [r["interval_ms"] for r in evoked if "peak2_mV" not in r]
    reduced = [r["interval_ms"] for r in evoked if "peak2_mV" in r and r["ratio"] < fraction]
    step = float(np.median(np.diff(intervals))) if intervals.size > 1 else NAN
    if failed:
        facts.append(Fact("absolute_refractory", max(failed), "ms",
                          "absolute refractory (longest failing interval)"))
    else:
        notes.append(f"the second pulse fired at every interval: the absolute refractory "
                     f"period is shorter than {intervals[0]:.4g} ms")
    if reduced:
        facts.append(Fact("relative_refractory", max(reduced), "ms",
                          f"relative refractory (longest interval under {fraction:.0%})"))
    elif len(failed) < len(evoked):
        notes.append(f"every second spike is at least {fraction:.0%} of the first: the "
                     "relative refractory period ends before the shortest interval that fires")
    if np.isfinite(step):
        facts.append(Fact("interval_step", step, "ms", "interval step"))
    facts.append(Fact("recovery_criterion", fraction, "", ""))
    return facts, notes


def _ramp_facts(rows: Sequence[Row]) -> tuple[list[Fact], list[str]]:
    facts: list[Fact] = []
    notes: list[str] = []
    firing = [r for r in rows if r["spikes"] > 0]
    silent = [r for r in rows if r["spikes"] == 0]
    if firing:
        slowest = min(firing, key=lambda r: r["slope_pA_per_ms"])
        facts.append(Fact("slowest_firing_slope", slowest["slope_pA_per_ms"], "pA/ms",
                          "slowest ramp that fires"))
        if len(firing) >= 2:
            fastest = max(firing, key=lambda r: r["slope_pA_per_ms"])
            facts += [Fact("current_at_spike_fastest", fastest["current_at_spike_pA"], "pA",
                           "current at spike (fastest ramp)"),
                      Fact("current_at_spike_slowest", slowest["current_at_spike_pA"], "pA",
                           "(slowest firing ramp)")]
    else:
        notes.append("no ramp fired")
    if silent:
        facts.append(Fact("fastest_silent_slope",
                          max(r["slope_pA_per_ms"] for r in silent), "pA/ms",
                          "fastest ramp that does not fire"))
    return facts, notes


def _column(rows: Sequence[Row], key: str,
            to_si: Callable[[FloatArray], FloatArray] | None = None) -> FloatArray:
    """The rows' values of key (NaN where missing), through to_si (a rig.units function,
    e.g. pa_to_a) when given."""
    column = np.array([r.get(key, NAN) for r in rows], dtype=float)
    return column if to_si is None else to_si(column)


def _plots(kind: str, rows: Sequence[Row], facts: Sequence[Fact]) -> tuple[Plot, Plot]:
    """Two plots a teacher would draw for this kind of family (SI units)."""
    fact = {f.name: f.value for f in facts}
    if kind in ("threshold", "f-I"):
        current = _column(rows, "stimulus_pA", units.pa_to_a)
        marker = fact.get("rheobase", fact.get("break_threshold"))
        markers: tuple[tuple[float, str], ...] = \
            ((units.pa_to_a(marker), "threshold"),) if marker is not None else ()
        if kind == "threshold":
            largest = _column(rows, "max_mV", units.mv_to_v)
            first = Plot("All or none: largest Vm against stimulus", "stimulus", "A",
                         "largest Vm", "V", (Series("largest Vm (window 1)", current, largest),),
                         markers)
        else:
            first = Plot("f-I curve", "stimulus", "A", "firing rate", "Hz",
                         (Series("mean rate (window 3)", current, _column(rows, "rate_Hz")),
                          Series("1 / first ISI", current, _column(rows, "inst_rate_Hz"))),
                         markers, "no sweep fired")
        second = Plot("Latency of the first spike", "stimulus", "A", "latency", "s",
                      (Series("latency", current, _column(rows, "latency_ms", units.ms_to_s)),),
                      markers, "no sweep fired")
        return first, second
    if kind == "paired":
        interval = _column(rows, "interval_ms", units.ms_to_s)
        markers = tuple((units.ms_to_s(fact[name]), label) for name, label in
                        (("absolute_refractory", "absolute"), ("relative_refractory", "relative"))
                        if name in fact)
        return (Plot("Recovery: 2nd spike / 1st spike", "interval between pulses", "s",
                     "amplitude ratio", "",
                     (Series("2nd / 1st", interval, _column(rows, "ratio")),),
                     markers, "the first pulse never fired"),
                Plot("Delay of the 2nd spike's peak", "interval between pulses", "s",
                     "delay", "s",
                     (Series("delay", interval, _column(rows, "delay2_ms", units.ms_to_s)),),
                     markers, "the second pulse never fired"))
    if kind == "ramp":
        duration = _column(rows, "ramp_ms", units.ms_to_s)
        return (Plot("Accommodation: current at the first spike", "ramp duration", "s",
                     "current at first spike", "A",
                     (Series("current", duration,
                             _column(rows, "current_at_spike_pA", units.pa_to_a)),),
                     (), "no ramp fired"),
                Plot("Threshold Vm of the first spike", "ramp duration", "s", "threshold", "V",
                     (Series("threshold", duration, _column(rows, "threshold_mV", units.mv_to_v)),),
                     (), "no ramp fired"))
    sweep = _column(rows, "sweep")
    return (Plot("Spikes per sweep", "sweep", "", "spikes", "",
                 (Series("spikes", sweep, _column(rows, "spikes")),)),
            Plot("Firing rate (window 3)", "sweep", "", "rate", "Hz",
                 (Series("rate", sweep, _column(rows, "rate_Hz")),)))


def analyze_cc(family: SweepFamily, windows: Sequence[Window],
               criteria: SpikeCriteria | None = None, signal: str = "Vm",
               recovery_fraction: float = RECOVERY_FRACTION) -> AnalysisResult:
    """The current-clamp analysis of a family's completed sweeps.

    windows: three (t0, t1) in s (1 spikes, 2 baseline, 3 firing rate); criteria: a
    :class:`rig.analysis.spikes.SpikeCriteria`; signal: the voltage to analyse ('Vm',
    or 'Vmem' for the true membrane potential); recovery_fraction: the second spike's
    fraction of the first from which a paired pulse counts as recovered.
    Returns an :class:`rig.analysis.result.AnalysisResult`.
    """
    criteria = criteria or SpikeCriteria()
    kind, stimulus = family_kind(family)
    rows: list[Row] = []
    found: list[tuple[int, Spike]] = []
    for k in sorted(family.done):
        row, spikes = measure_sweep(family, k, kind, stimulus, windows, criteria, signal)
        rows.append(row)
        found += [(k, s) for s in spikes]
    holding_pa = units.a_to_pa(family.holding)
    facts: list[Fact] = []
    notes: list[str] = []
    if not rows:
        notes.append("no sweep measured yet")
    elif kind == "spikes":
        facts = [Fact("spikes_total", int(sum(r["spikes"] for r in rows)), "", "spikes"),
                 Fact("mean_rate", float(np.mean([r["rate_Hz"] for r in rows])), "Hz",
                      "mean rate")]
    elif kind in ("threshold", "f-I"):
        facts, notes = _threshold_facts(rows, holding_pa)
        if kind == "f-I":
            more = _fi_facts(rows)
            facts, notes = facts + more[0], notes + more[1]
    elif kind == "paired":
        facts, notes = _paired_facts(rows, recovery_fraction)
    else:
        facts, notes = _ramp_facts(rows)
    sweeps = np.array([k for k, _ in found], dtype=int)
    marks = (("threshold", sweeps, np.array([s.threshold_t for _, s in found]),
              np.array([s.threshold_v for _, s in found])),
             ("peak", sweeps, np.array([s.peak_t for _, s in found]),
              np.array([s.peak_v for _, s in found])))
    used = (1, 2, 3) if kind in ("f-I", "spikes") else (1, 2)
    return AnalysisResult("CC", kind, TITLES[kind], COLUMNS[kind], tuple(rows), tuple(facts),
                          tuple(notes), _plots(kind, rows, facts), marks, windows_used=used,
                          extra={"stimulus_epochs": tuple(stimulus)})
