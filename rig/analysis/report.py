"""The analysis the window's Analysis tab shows, for a family of sweeps: chosen by the clamp mode
(:mod:`rig.analysis.voltage_clamp` or :mod:`rig.analysis.current_clamp`), with default cursor
windows from the stimulus; and ``vrig analyze``, which prints the same table for a recording file.
One implementation for both, Qt-free.

Windows are (t0, t1) in s from the sweep start. VC: 1 peak, 2 steady state,
3 exponential fit. CC: 1 spikes, 2 baseline, 3 firing rate.
"""

import argparse
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig import units
from rig.analysis.current_clamp import RECOVERY_FRACTION, analyze_cc, stimulus_epochs
from rig.analysis.result import AnalysisResult, Window, result_csv
from rig.analysis.spikes import DETECT_RANGE_MV, DVDT_RANGE_MV_PER_MS, SpikeCriteria
from rig.analysis.sweep_family import SweepFamily
from rig.analysis.voltage_clamp import analyze_vc, resolve_polarity, vc_kind
from rig.errors import VrigError
from rig.files.layout import StrPath
from rig.files.output_files import atomic_output, check_target
from rig.files.recording import load_recording
from rig.resources import option_number

WINDOW_NAMES = {"VC": ("peak", "steady state", "exponential fit"),
                "CC": ("spikes", "baseline", "firing rate")}
DEFAULT_SIGNAL = {"VC": "Im", "CC": "Vm"}
COLUMN_HELP = {
    "sweep": "sweep number, from 1",
    "V_mV": "mean command in window 1", "Vss_mV": "mean command in window 2",
    "prepulse_mV": "command over the second half of the epoch before window 1",
    "peak_pA": "peak current in window 1 (polarity as chosen)",
    "t_peak_ms": "time from the start of window 1 to the peak",
    "mean_pA": "mean current in window 1", "steady_pA": "mean current in window 2",
    "G_nS": "chord conductance: peak / (V - E_rev)",
    "h": "peak current over the largest peak (h-infinity)",
    "tau_ms": "time constant of one exponential fitted in window 3",
    "stimulus_pA": "level of the stimulus epoch (a ramp: its end level)",
    "spikes": "spikes whose threshold is in window 1",
    "latency_ms": "stimulus onset to the first spike's threshold",
    "threshold_mV": "Vm where dV/dt last rises through the criterion before the upstroke",
    "peak_mV": "peak Vm of the first spike",
    "height_mV": "peak minus threshold of the first spike",
    "half_width_ms": "width of the first spike at threshold + height / 2",
    "ahp_mV": "trough (afterhyperpolarisation) after the first spike",
    "max_mV": "largest Vm in window 1", "baseline_mV": "mean Vm in window 2",
    "rate_Hz": "spikes starting in window 3 over its duration",
    "first_isi_ms": "first interspike interval (threshold to threshold)",
    "inst_rate_Hz": "1 / first interspike interval",
    "interval_ms": "onset of the first pulse to onset of the second",
    "peak1_mV": "peak of the spike the first pulse evokes",
    "amp1_mV": "first spike's peak above the baseline",
    "peak2_mV": "peak of the spike the second pulse evokes",
    "amp2_mV": "second spike's peak above the baseline",
    "ratio": "amp2 / amp1 (0 when the second pulse fails)",
    "delay2_ms": "second pulse onset to the second spike's peak",
    "ramp_ms": "duration of the ramp", "slope_pA_per_ms": "rate of rise of the ramp",
    "current_at_spike_pA": "injected current at the first spike's threshold",
}
SIGNAL_UNIT = {"VC": "A", "CC": "V"}


@dataclass(frozen=True)
class AnalysisSettings:
    """windows: three (t0, t1) in s, or None for the default of that window (or for all three);
    signal: the trace to measure (None: Im in VC, Vm in CC); polarity: 'auto', 'min', 'max' or 'abs'
    (VC peaks, see :mod:`rig.analysis.voltage_clamp`); criteria: spike detection (CC);
    recovery_fraction: paired pulses count as recovered from this fraction (CC)."""

    windows: Sequence[Sequence[float] | None] | None = None
    signal: str | None = None
    polarity: str = "auto"
    criteria: SpikeCriteria = field(default_factory=SpikeCriteria)
    recovery_fraction: float = RECOVERY_FRACTION


def default_windows(family: SweepFamily) -> tuple[Window, Window, Window]:
    """(window 1, window 2, window 3) in s from the sweep start.

    VC, around the test epoch: 1 the peak (from 0.2 ms to 5 ms into the step), 2 the
    steady state (its last quarter), 3 the exponential fit. CC: 1 where spikes are
    measured (from the first stimulus epoch to the end of the sweep), 2 the baseline
    (up to 50 ms before the stimulus), 3 the firing-rate window (the stimulus epoch).
    """
    dt = family.interval
    if family.mode == "VC":
        t0, t1 = family.epoch_span(0, family.test_epoch())
        dur = t1 - t0
        return ((t0 + min(2e-4, 0.05 * dur), t0 + min(5e-3, 0.4 * dur)),
                (t1 - 0.25 * dur, t1 - dt),
                (t0 + min(units.ms_to_s(1.0), 0.2 * dur), t0 + 0.6 * dur))
    stimulus = stimulus_epochs(family)
    end = float(family.time[-1])
    if not stimulus or family.epoch_span(0, stimulus[0])[0] <= 2 * dt:
        return (0.0, end), (0.0, min(end, 10 * dt)), (0.0, end)
    on, off = family.epoch_span(0, stimulus[0])
    return (on, end), (max(0.0, on - 0.05), on - dt), (on, off)


def resolve_windows(family: SweepFamily,
                    windows: Sequence[Sequence[float] | None] | None) -> tuple[Window, ...]:
    """The three windows with None replaced by the defaults, checked (each must end
    after it starts and overlap the sweeps), their edges moved to the nearest sample
    (so that 9 ms typed and 9 ms dragged select the same samples)."""
    defaults = default_windows(family)
    given = tuple(windows) if windows is not None else (None, None, None)
    if len(given) != 3:
        raise VrigError(f"give three windows (or None for a default), got {len(given)}")
    result: list[Window] = []
    names = WINDOW_NAMES[family.mode]
    end = float(family.time[-1])
    for n, (window, default) in enumerate(zip(given, defaults)):
        edges = [float(x) for x in (default if window is None else window)]
        if len(edges) != 2 or not all(math.isfinite(x) for x in edges):
            raise VrigError(f"window {n + 1} ({names[n]}) must be two finite times")
        far = [x for x in edges if not math.isfinite(x / family.interval)]
        if far:  # so many samples away that the count overflows: 1e308 ms
            raise VrigError(f"window {n + 1} ({names[n]}) reaches {units.s_to_ms(far[0]):g} ms, "
                            f"far outside the sweeps (0 to {units.s_to_ms(end):g} ms)")
        t0, t1 = (round(x / family.interval) * family.interval for x in edges)
        if window is None:  # a default on an epoch shorter than a sample: one sample
            result.append((t0, max(t1, t0 + family.interval)))
            continue
        span_ms = f"{units.s_to_ms(t0):g} to {units.s_to_ms(t1):g} ms"
        if not t1 > t0:
            raise VrigError(f"window {n + 1} ({names[n]}) must end after it starts, got "
                            f"{span_ms}")
        if t1 < 0 or t0 > end:
            raise VrigError(f"window {n + 1} ({names[n]}), {span_ms}, "
                            f"is outside the sweeps (0 to {units.s_to_ms(end):g} ms)")
        result.append((t0, t1))
    return tuple(result)


def default_signal(family: SweepFamily) -> str:
    """The signal measured when none is named: Im in VC; Vm in CC, or on a fibre's
    recording with sites the first site's ('Vm@<mm>mm': the propagated potential, away
    from the stimulating electrode)."""
    if family.mode == "CC":
        sites = [s for s in family.signals if s.startswith("Vm@")]
        if sites:
            return sites[0]
    return DEFAULT_SIGNAL[family.mode]


def check_signal(family: SweepFamily, signal: str | None) -> str:
    """The signal to measure (default_signal for None; a file's column name, as
    'Vm_mV@30mm', stands for its signal 'Vm@30mm'), or a VrigError that says which
    signals the family has."""
    name = signal or default_signal(family)
    column = re.fullmatch(r"(\w+?)_[A-Za-z]+(@.+)", name)
    if name not in family.signals and column and column[1] + column[2] in family.signals:
        name = column[1] + column[2]
    unit = SIGNAL_UNIT[family.mode]
    known = family.units or {}
    fitting = [s for s in family.signals if known.get(s, unit) == unit and s != "command"]
    if name not in family.signals or name == "command" or known.get(name, unit) != unit:
        what = "a current" if family.mode == "VC" else "a voltage"
        raise VrigError(f"cannot measure {name!r} in this {family.mode} recording: give "
                        f"{what}, one of {', '.join(fitting) or 'none'}")
    return name


def analyze(family: SweepFamily, settings: AnalysisSettings | None = None) -> AnalysisResult:
    """The analysis of a family's completed sweeps: an
    :class:`rig.analysis.result.AnalysisResult` (VC or CC by the family's mode)."""
    settings = settings or AnalysisSettings()
    windows = resolve_windows(family, settings.windows)
    signal = check_signal(family, settings.signal)
    if family.mode == "VC":
        return analyze_vc(family, windows, signal, settings.polarity)
    return analyze_cc(family, windows, settings.criteria, signal, settings.recovery_fraction)


def header_items(family: SweepFamily, settings: AnalysisSettings,
                 source: str = "") -> list[tuple[str, str]]:
    """(name, text) pairs that say what was analysed and how, for the CSV header."""
    windows = resolve_windows(family, settings.windows)
    items = [("recording", source)] if source else []
    signal = check_signal(family, settings.signal)
    if settings.signal is None and signal != DEFAULT_SIGNAL[family.mode]:
        signal += (" (by default the first recording site; the electrode's is "
                   f"{DEFAULT_SIGNAL[family.mode]})")
    items += [("protocol", family.name), ("mode", family.mode), ("signal", signal)]
    for n, (name, (t0, t1)) in enumerate(zip(WINDOW_NAMES[family.mode], windows)):
        items.append((f"window{n + 1}",
                      f"{units.s_to_ms(t0):.6g} to {units.s_to_ms(t1):.6g} ms ({name})"))
    if family.mode == "VC":
        kind = vc_kind(family, windows[0])
        polarity = resolve_polarity(settings.polarity, kind)
        auto = " (auto)" if settings.polarity == "auto" else ""
        items.append(("polarity", f"{polarity}{auto}"))
    else:
        items += [("spike_detection", f"{units.v_to_mv(settings.criteria.detect_level):g} mV"),
                  ("threshold_criterion", f"dV/dt = {settings.criteria.dvdt:g} mV/ms")]
    return items


def analysis_csv(family: SweepFamily, settings: AnalysisSettings, source: str = "") -> str:
    """The CSV text of a family's analysis: what `vrig analyze` prints and the tab's
    Export CSV writes."""
    result = analyze(family, settings)
    header = header_items(family, settings, source) + [("analysis", result.title)]
    return result_csv(result, header)


def write_analysis_csv(path: StrPath, family: SweepFamily, settings: AnalysisSettings,
                       source: str = "") -> None:
    """Write :func:`analysis_csv` to a .csv file, completely or not at all."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        raise VrigError(f"cannot write {path.name}: the analysis table is a .csv file")
    check_target(path)
    text = analysis_csv(family, settings, source)
    with atomic_output(path) as temp:
        temp.write_text(text, encoding="utf-8")


# --- vrig analyze -------------------------------------------------------------------------

def add_parser(sub: "argparse._SubParsersAction[Any]") -> None:
    """Register `vrig analyze` on the argparse subparsers."""
    p = sub.add_parser(
        "analyze", help="print the Analysis tab's table of a recording as CSV",
        description="Analyse a recording (.csv, .npz, .abf, .nwb) as the Analysis tab does: "
                    "one row per sweep as CSV, after '# name: value unit' lines with the "
                    "family's results. Windows are in ms from the sweep start; "
                    "VC: 1 peak, 2 steady state, 3 exponential fit; "
                    "CC: 1 spikes, 2 baseline, 3 firing rate.")
    p.add_argument("recording", help="a recording written by vrig run or the window")
    p.add_argument("-o", "--output", help="write the CSV here instead of printing it")
    p.add_argument("--signal", help="the trace to measure (default Im in VC, Vm in CC; "
                                    "on a fibre with recording sites the first site, "
                                    "e.g. Vm@30mm or its column name Vm_mV@30mm)")
    for n in (1, 2, 3):
        p.add_argument(f"--window{n}", metavar="T0,T1", help=f"window {n} in ms")
    p.add_argument("--polarity", choices=["auto", "min", "max", "abs"], default="auto",
                   help="VC peak: inward (min), outward (max), largest (abs), or auto "
                        "(default: abs for tail currents, else min)")
    p.add_argument("--dvdt", default="20", metavar="MV_PER_MS",
                   help="CC threshold criterion: dV/dt in mV/ms (default 20)")
    p.add_argument("--detect", default="-20", metavar="MV",
                   help="CC spike detection level in mV (default -20)")
    p.add_argument("--recovery", default="95", metavar="PCT",
                   help="CC paired pulses: recovered from this %% of the first spike (default 95)")


def parse_window(text: str, option: str) -> tuple[float, ...]:
    """'T0,T1' in ms -> (t0, t1) in s."""
    parts = text.split(",")
    if len(parts) != 2:
        raise VrigError(f"{option} must be two times in ms like 5,25, got {text!r}")
    return tuple(units.ms_to_s(option_number(p.strip(), option)) for p in parts)


def settings_from_args(args: argparse.Namespace) -> AnalysisSettings:
    """AnalysisSettings from the `vrig analyze` options."""
    windows = tuple(parse_window(w, f"--window{n}") if w else None
                    for n, w in enumerate((args.window1, args.window2, args.window3), start=1))
    recovery = option_number(args.recovery, "--recovery", 1.0, 100.0, "%")
    detect_mv = option_number(args.detect, "--detect", *DETECT_RANGE_MV, "mV")
    dvdt = option_number(args.dvdt, "--dvdt", *DVDT_RANGE_MV_PER_MS, "mV/ms")
    return AnalysisSettings(
        windows=windows, signal=args.signal, polarity=args.polarity,
        criteria=SpikeCriteria(units.mv_to_v(detect_mv), dvdt),
        recovery_fraction=recovery / 100)


def cmd_analyze(args: argparse.Namespace) -> None:
    """`vrig analyze`: print (or write) the analysis table of a recording."""
    settings = settings_from_args(args)
    if args.output and Path(args.output).resolve() == Path(args.recording).resolve():
        raise VrigError(f"{args.output} is the recording itself; choose another file")
    family = SweepFamily.from_recording(load_recording(args.recording))
    source = Path(args.recording).name
    if args.output:
        write_analysis_csv(args.output, family, settings, source)
    else:
        print(analysis_csv(family, settings, source), end="")
