"""The amplifier: electrode circuit, compensation and the output chain.

:class:`Amplifier` holds the settings in SI (ohm, F, s, Hz, fractions) and turns them
into the kernel's parameter array. :class:`OutputChain` is what happens to the two
outputs after the headstage, modelled on a MultiClamp 700B feeding a 16-bit
digitiser: instrument noise and mains hum, a 4-pole Bessel low-pass, the gain, the
output's +/-10 V swing, and the digitiser's resolution. Noise, hum, filter and
quantisation can each be switched off for an ideal recording; the output swing cannot.

What the overload lamp means. The current output is I x Rf x gain (Rf, the headstage
feedback resistor: 0.5 mV/pA at 500 MOhm) and the voltage output 10 mV/mV x gain;
both saturate at +/-OUTPUT_RANGE_V, as the amplifier's and the digitiser's do. So the
recorded trace is always clipped at the range, and ``overloaded`` is True exactly when
a sample was clipped: a lit lamp means a clipped trace, an unlit lamp an intact one.
The feedback resistor sets the range (10 V / Rf at gain 1): 50 MOhm gives +/-200 nA
for a squid axon patch whose currents are tens of nA, 500 MOhm +/-20 nA for a small
cell, 5 and 50 GOhm +/-2 nA and +/-200 pA for small currents with less noise. Each
cell preset names the range an experimenter would choose for it. In current clamp the
headstage injects at most the same 10 V / Rf.

An ideal clamp (no access resistance) moves the membrane in one step, so the
capacitive current is an impulse: one sample of Cm dV / (sample interval), carrying
exactly the charge Cm dV (10 pF x 100 mV = 1 pC: 50 nA in one 20 us sample). Its
area, not its height, is physical; with Rs it becomes the exponential Rs Cm transient.

One range per quantity: :data:`RANGES` holds every setting's limits in the unit shown
on screen, and both the validation here and the compensation panel's boxes read it.
A value is compared in that unit, rounded to 12 significant digits, so a limit typed
in exactly (1000 pF) is never refused by floating-point rounding.
"""

import math
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from rig import units
from rig.amplifier import current_noise
from rig.errors import VrigError
from rig.files.layout import FloatArray
from rig.model.cell import Cell
from rig.model.limits import FEEDBACK_RESISTORS_OHM

FILTER_CORNERS_HZ = (1_000.0, 2_000.0, 4_000.0, 10_000.0, 20_000.0)
GAINS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
CC_SCALE_V_PER_V = 10.0  # 10 mV/mV membrane-potential output
OUTPUT_RANGE_V = 10.0  # the outputs swing +/-10 V; the digitiser's input range is the same
DIGITIZER_RANGE_V = OUTPUT_RANGE_V
DIGITIZER_BITS = 16
VOLTAGE_NOISE_V_PER_RTHZ = 5e-7  # 50 uV rms in a 10 kHz band
HUM_CURRENT_A = units.pa_to_a(1.0)
HUM_VOLTAGE_V = 50e-6
HEADSTAGE_RAIL_V = 1.0
SIGNIFICANT_DIGITS = 12  # a value is compared with its range at this precision


@dataclass(frozen=True)
class Range:
    """The allowed values of one setting, in the unit shown on screen.

    low, high: limits in ``unit``; si_per_unit: SI value of one ``unit``;
    label: the setting's name in messages.
    """

    label: str
    low: float
    high: float
    unit: str
    si_per_unit: float

    def shown(self, value_si: float) -> float:
        """An SI value in the unit shown, rounded to SIGNIFICANT_DIGITS."""
        return float(f"{value_si / self.si_per_unit:.{SIGNIFICANT_DIGITS}g}")

    def check(self, value_si: Any) -> float:  # Any: whatever was given is checked here
        """Return value_si (a float) if it is within the range, else a VrigError that
        gives the range."""
        try:
            value = float(value_si)
        except (TypeError, ValueError):
            raise VrigError(f"{self.label} must be a number, got {value_si!r:.40}") from None
        shown = self.shown(value) if math.isfinite(value) else value
        if not self.low <= shown <= self.high:
            raise VrigError(f"{self.label} must be {self.low:g} to {self.high:g} {self.unit}, "
                            f"got {shown:.{SIGNIFICANT_DIGITS}g} {self.unit}")
        return value


RANGES = MappingProxyType({
    "series_resistance": Range("series resistance", 0.0, 1000.0, "MOhm", units.OHM_PER_MOHM),
    "pipette_capacitance": Range("pipette capacitance", 0.0, 100.0, "pF", units.F_PER_PF),
    "seal_resistance": Range("seal resistance", 0.01, math.inf, "GOhm", units.OHM_PER_GOHM),
    "fast_compensation": Range("fast capacitance compensation", 0.0, 100.0, "pF", units.F_PER_PF),
    "whole_cell_capacitance": Range("whole-cell capacitance", 0.0, 1000.0, "pF", units.F_PER_PF),
    "whole_cell_resistance": Range("whole-cell Rs setting", 0.0, 1000.0, "MOhm",
                                   units.OHM_PER_MOHM),
    "rs_correction": Range("Rs correction", 0.0, 100.0, "%", 0.01),
    "rs_prediction": Range("Rs prediction", 0.0, 98.0, "%", 0.01),
    "lag": Range("lag", 0.0, 1000.0, "us", units.S_PER_US),
    "bridge": Range("bridge balance", 0.0, 1000.0, "MOhm", units.OHM_PER_MOHM),
    "neutralization": Range("capacitance neutralisation", 0.0, 100.0, "pF", units.F_PER_PF),
    "filter_hz": Range("filter corner", 0.1, 100.0, "kHz", units.HZ_PER_KHZ),
})


# Far beyond any pair of physiological solutions (a few tens of mV at most).
MAX_JUNCTION_POTENTIAL_V = 0.2


@dataclass(frozen=True)
class Amplifier:
    """Electrode and amplifier settings (SI). The defaults are an ideal recording.

    series_resistance: access resistance Rs (ohm; 0 = ideal clamp).
    pipette_capacitance: Cp (F). seal_resistance: ohm (inf = perfect seal).
    fast_compensation: pipette capacitance cancelled (F).
    whole_cell_capacitance, whole_cell_resistance: the whole-cell compensation
    circuit's Cm (F; 0 = off) and Rs (ohm) settings.
    rs_correction, rs_prediction: fractions (0-1) of the set Rs compensated.
    lag: feedback lag of correction and neutralisation (s).
    bridge: bridge balance (ohm, CC). neutralization: capacitance neutralisation (F, CC).
    filter_hz: Bessel corner (Hz) or None for bypass. gain: output gain.
    noise, digitizer: on/off (digitizer: 16-bit quantisation; the +/-10 V output
    swing always applies). hum_hz: 0 (off), 50 or 60.
    feedback_resistance: the headstage feedback resistor Rf (ohm), one of
    FEEDBACK_RESISTORS_OHM; it sets the current range, 10 V / (Rf x gain).
    junction_potential: the liquid junction potential (V, bath with respect to pipette)
    that the pipette offset nulled in the bath; once whole-cell it is gone, and the
    offset left behind makes the reading that much above the membrane potential,
    unless junction_correction subtracts it (the default, so a recording shows the
    true potential as with no junction at all).
    """

    series_resistance: float = 0.0
    pipette_capacitance: float = 0.0
    seal_resistance: float = math.inf
    fast_compensation: float = 0.0
    whole_cell_capacitance: float = 0.0
    whole_cell_resistance: float = 0.0
    rs_correction: float = 0.0
    rs_prediction: float = 0.0
    lag: float = 10e-6
    bridge: float = 0.0
    neutralization: float = 0.0
    filter_hz: float | None = None
    gain: float = 1.0
    noise: bool = False
    hum_hz: float = 0.0
    digitizer: bool = False
    feedback_resistance: float = 500e6
    junction_potential: float = 0.0
    junction_correction: bool = True

    def __post_init__(self) -> None:
        for name, setting in RANGES.items():
            value = getattr(self, name)
            if name == "filter_hz" and value is None:
                continue
            setting.check(value)
        if self.gain not in GAINS:
            raise VrigError(f"gain must be one of {', '.join(map(str, GAINS))}, "
                            f"got {self.gain!r:.20}")
        if self.hum_hz not in (0, 50, 60):
            raise VrigError(f"hum must be off (0), 50 or 60 Hz, got {self.hum_hz!r:.20}")
        if not isinstance(self.junction_correction, bool):
            raise VrigError("junction correction must be on (True) or off (False)")
        if not abs(self.junction_potential) <= MAX_JUNCTION_POTENTIAL_V:
            raise VrigError(f"junction potential {self.junction_potential!r:.20} V is not "
                            f"within +/-{units.v_to_mv(MAX_JUNCTION_POTENTIAL_V):g} mV")
        if self.feedback_resistance not in FEEDBACK_RESISTORS_OHM:
            allowed = ", ".join(f"{units.ohm_to_mohm(r):g} MOhm" for r in FEEDBACK_RESISTORS_OHM)
            raise VrigError(f"feedback resistor must be one of {allowed}"
                            + f", got {self.feedback_resistance!r:.20} ohm")

    @property
    def junction_error(self) -> float:
        """What the reading is above the membrane potential (V) from the junction
        potential left uncorrected (0 when corrected)."""
        return 0.0 if self.junction_correction else self.junction_potential

    @property
    def current_range(self) -> float:
        """Largest current (A, +/-) the headstage passes and its output shows at gain 1."""
        return OUTPUT_RANGE_V / self.feedback_resistance

    @classmethod
    def for_cell(cls, cell: Cell) -> "Amplifier":
        """The amplifier (SI) of a :class:`rig.model.cell.Cell`'s electrode: its series
        resistance, pipette capacitance, seal and headstage feedback resistor; no
        compensation or artefacts."""
        return cls(series_resistance=units.mohm_to_ohm(cell.series_resistance_mohm),
                   pipette_capacitance=units.pf_to_f(cell.pipette_capacitance_pf),
                   seal_resistance=units.gohm_to_ohm(cell.seal_resistance_gohm),
                   feedback_resistance=units.mohm_to_ohm(cell.feedback_resistor_mohm))

    def changed(self, **changes: Any) -> "Amplifier":
        """A copy with some settings changed (validated)."""
        return replace(self, **changes)

    def describe(self) -> str:
        """One line for recording metadata."""
        filt = f"{units.hz_to_khz(self.filter_hz):g}kHz" if self.filter_hz else "off"
        return (f"Rs={units.ohm_to_mohm(self.series_resistance):g}MOhm "
                f"Cp={units.f_to_pf(self.pipette_capacitance):g}pF "
                f"Rseal={units.ohm_to_gohm(self.seal_resistance):g}GOhm "
                f"fast={units.f_to_pf(self.fast_compensation):g}pF "
                f"wholecell={units.f_to_pf(self.whole_cell_capacitance):g}pF/"
                f"{units.ohm_to_mohm(self.whole_cell_resistance):g}MOhm "
                f"correction={self.rs_correction * 100:g}% "
                f"prediction={self.rs_prediction * 100:g}% "
                f"lag={units.s_to_us(self.lag):g}us bridge={units.ohm_to_mohm(self.bridge):g}MOhm "
                f"neutralization={units.f_to_pf(self.neutralization):g}pF "
                f"filter={filt} gain={self.gain:g} "
                f"noise={'on' if self.noise else 'off'} hum={self.hum_hz:g}Hz "
                f"digitizer={'on' if self.digitizer else 'off'} "
                f"Rf={units.ohm_to_mohm(self.feedback_resistance):g}MOhm "
                f"range=+/-{_current_text(self.current_range / self.gain)} "
                f"ljp={units.v_to_mv(self.junction_potential):.2f}mV "
                f"ljp_correction={'on' if self.junction_correction else 'off'}")


def _current_text(amperes: float) -> str:
    """'200nA' or '1000uA': a current range for the metadata line."""
    if amperes >= 1e-6:
        return f"{amperes * 1e6:g}uA"
    return f"{units.a_to_na(amperes):g}nA"


class OutputChain:
    """Noise, hum, Bessel filter, gain and digitiser on the two outputs, with the
    filter state carried from one block to the next so that chunks join seamlessly."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        # output ('V' or 'I') -> ((corner Hz, sampling Hz), Bessel sections, filter state)
        self._filters: dict[str, tuple[tuple[float, float], FloatArray, FloatArray]] = {}

    def reset(self) -> None:
        """Forget the filter state (after a discontinuity such as a new protocol)."""
        self._filters.clear()

    def process(self, amplifier: Amplifier, mode: str, voltage_v: FloatArray,
                current_a: FloatArray, sample_interval_s: float, t0_s: float,
                peaks: tuple[float, float] | None = None, cell_capacitance_f: float = 0.0
                ) -> tuple[FloatArray, FloatArray, bool]:
        """Return (voltage, current, overloaded) as the digitiser records them, each
        clipped at the output's range; overloaded is True when a sample was clipped.

        voltage_v, current_a: the headstage outputs (SI arrays); t0_s: time of the
        first sample (s), which sets the hum's phase; peaks: (largest |voltage_v|,
        largest |current_a|) when the caller knows them (nan if any is nan), which
        spares searching the arrays when nothing else changes them; cell_capacitance_f:
        the cell's capacitance (F), which the current noise of the access path needs
        (rig.amplifier.current_noise).
        """
        fs = 1.0 / sample_interval_s
        voltage = voltage_v
        current = current_a
        if amplifier.noise or amplifier.hum_hz or amplifier.filter_hz:
            peaks = None  # the outputs change before they reach the range
        if amplifier.noise:
            half_band = math.sqrt(fs / 2.0)
            voltage = voltage + self.rng.normal(0.0, VOLTAGE_NOISE_V_PER_RTHZ * half_band,
                                                voltage.size)
            current = current + current_noise.draw(
                current.size, fs, self.rng, feedback_ohm=amplifier.feedback_resistance,
                seal_ohm=amplifier.seal_resistance,
                pipette_capacitance_f=amplifier.pipette_capacitance,
                series_ohm=amplifier.series_resistance, cell_capacitance_f=cell_capacitance_f)
        if amplifier.hum_hz:
            t = t0_s + np.arange(voltage.size) * sample_interval_s
            wave = (np.sin(2 * np.pi * amplifier.hum_hz * t)
                    + 0.3 * np.sin(2 * np.pi * 3 * amplifier.hum_hz * t + 0.5))
            voltage = voltage + HUM_VOLTAGE_V * wave
            current = current + HUM_CURRENT_A * wave
        if amplifier.filter_hz and amplifier.filter_hz < 0.45 * fs:
            voltage = self._filter("V", voltage, amplifier.filter_hz, fs)
            current = self._filter("I", current, amplifier.filter_hz, fs)
        v_range, i_range = input_range(amplifier, mode)
        if amplifier.digitizer:
            voltage, v_clipped = _digitize(voltage, DIGITIZER_RANGE_V / v_range)
            current, i_clipped = _digitize(current, DIGITIZER_RANGE_V / i_range)
        else:
            v_peak, i_peak = (None, None) if peaks is None else peaks
            voltage, v_clipped = _saturate(voltage, v_range, v_peak)
            current, i_clipped = _saturate(current, i_range, i_peak)
        return voltage, current, v_clipped or i_clipped

    def _filter(self, key: str, values: FloatArray, corner_hz: float,
                fs: float) -> FloatArray:
        from scipy import signal  # imported on first use: it costs ~0.8 s at start-up

        design = (corner_hz, fs)
        entry = self._filters.get(key)
        if entry is None or entry[0] != design:
            sos = signal.bessel(4, corner_hz, btype="low", norm="mag", fs=fs, output="sos")
            zi = signal.sosfilt_zi(sos) * (values[0] if values.size else 0.0)
            entry = (design, sos, zi)
        _, sos, zi = entry
        filtered, zi = signal.sosfilt(sos, values, zi=zi)
        self._filters[key] = (design, sos, zi)
        return filtered


def filter_delay_s(amplifier: Amplifier, sample_interval_s: float) -> float:
    """Low-frequency group delay (s) of the Bessel filter in use (0 when bypassed)."""
    from scipy import signal

    fs = 1.0 / sample_interval_s
    if not amplifier.filter_hz or amplifier.filter_hz >= 0.45 * fs:
        return 0.0
    b, a = signal.bessel(4, amplifier.filter_hz, btype="low", norm="mag", fs=fs)
    _, delay = signal.group_delay((b, a), w=[1e-3 * amplifier.filter_hz], fs=fs)
    return float(delay[0]) / fs


def _saturate(values: FloatArray, limit: float,
              peak: float | None = None) -> tuple[FloatArray, bool]:
    """The output's swing: values clipped to +/-limit; returns (values, clipped).
    peak: the largest |value| if known (nan if any value is nan)."""
    if not values.size:
        return values, False
    if peak is None:
        peak = max(values.max(), -values.min())
    if peak <= limit:
        return values, False
    return np.clip(values, -limit, limit), True


def _digitize(values: FloatArray, volts_per_unit: float) -> tuple[FloatArray, bool]:
    """Quantise to the digitiser's 16 bits over +/-10 V; returns (values, clipped)."""
    lsb = 2 * DIGITIZER_RANGE_V / 2 ** DIGITIZER_BITS
    counts = np.round(values * volts_per_unit / lsb)
    low, high = -(2 ** (DIGITIZER_BITS - 1)), 2 ** (DIGITIZER_BITS - 1) - 1
    clipped = bool(np.any(counts < low) or np.any(counts > high))
    return np.clip(counts, low, high) * lsb / volts_per_unit, clipped


def input_range(amplifier: Amplifier, mode: str) -> tuple[float, float]:
    """(voltage range in V, current range in A) the outputs show before they clip, +/-.
    The gain applies to the current in VC and to the voltage in CC and I=0."""
    v_gain = amplifier.gain if mode != "VC" else 1.0
    i_gain = amplifier.gain if mode == "VC" else 1.0
    return (OUTPUT_RANGE_V / (CC_SCALE_V_PER_V * v_gain),
            OUTPUT_RANGE_V / (amplifier.feedback_resistance * i_gain))
