"""The amplifier: electrode circuit, compensation and the output chain.

:class:`Amplifier` holds the settings in SI (ohm, F, s, Hz, fractions) and turns them
into the kernel's parameter array. :class:`OutputChain` is what happens to the two
outputs after the headstage, modelled on a MultiClamp 700B feeding a 16-bit
digitiser: instrument noise and mains hum, a 4-pole Bessel low-pass, the gain and the
digitiser's finite range (clipping lights the overload lamp) and resolution. Each stage
can be switched off for an ideal recording.
"""

import math
from dataclasses import dataclass, replace

import numpy as np

from rig import kernel, units
from rig.errors import VrigError

FILTER_CORNERS_HZ = (1_000.0, 2_000.0, 4_000.0, 10_000.0, 20_000.0)
GAINS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
VC_SCALE_V_PER_A = 0.5e9  # 0.5 mV/pA: the MultiClamp's 500 MOhm feedback resistor
CC_SCALE_V_PER_V = 10.0  # 10 mV/mV membrane-potential output
DIGITIZER_RANGE_V = 10.0  # +/-10 V input
DIGITIZER_BITS = 16
CURRENT_NOISE_A_PER_RTHZ = 1.5e-14  # 1.5 pA rms in a 10 kHz band
VOLTAGE_NOISE_V_PER_RTHZ = 5e-7  # 50 uV rms in a 10 kHz band
HUM_CURRENT_A = 1e-12
HUM_VOLTAGE_V = 50e-6
HEADSTAGE_RAIL_V = 1.0


def _fraction(value, name, high=1.0):
    value = float(value)
    if not 0.0 <= value <= high:
        raise VrigError(f"{name} must be 0 to {high * 100:g} %, got {value * 100:g} %")
    return value


def _nonnegative(value, name, unit, high):
    value = float(value)
    if not 0.0 <= value <= high:
        raise VrigError(f"{name} must be 0 to {high:g} {unit}, got {value:g} {unit}")
    return value


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
    noise, digitizer: on/off. hum_hz: 0 (off), 50 or 60.
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

    def __post_init__(self):
        _nonnegative(self.series_resistance / 1e6, "series resistance", "MOhm", 1000)
        _nonnegative(self.pipette_capacitance * 1e12, "pipette capacitance", "pF", 100)
        if not self.seal_resistance > 1e6:
            raise VrigError(f"seal resistance must be above 1 MOhm, got {self.seal_resistance:g} ohm")
        _nonnegative(self.fast_compensation * 1e12, "fast capacitance compensation", "pF", 100)
        _nonnegative(self.whole_cell_capacitance * 1e12, "whole-cell capacitance", "pF", 1000)
        _nonnegative(self.whole_cell_resistance / 1e6, "whole-cell Rs setting", "MOhm", 1000)
        _fraction(self.rs_correction, "Rs correction")
        _fraction(self.rs_prediction, "Rs prediction", high=0.98)
        _nonnegative(self.lag * 1e6, "lag", "us", 1000)
        _nonnegative(self.bridge / 1e6, "bridge balance", "MOhm", 1000)
        _nonnegative(self.neutralization * 1e12, "capacitance neutralisation", "pF", 100)
        if self.filter_hz is not None and not 100 <= self.filter_hz <= 100_000:
            raise VrigError(f"filter corner must be 100 Hz to 100 kHz or off, got {self.filter_hz:g} Hz")
        if self.gain not in GAINS:
            raise VrigError(f"gain must be one of {', '.join(map(str, GAINS))}, got {self.gain:g}")
        if self.hum_hz not in (0, 50, 60):
            raise VrigError(f"hum must be off (0), 50 or 60 Hz, got {self.hum_hz:g}")

    def changed(self, **changes):
        """A copy with some settings changed (validated)."""
        return replace(self, **changes)

    def kernel_parameters(self):
        """The kernel's amplifier array (nS, pF, MOhm, fractions, ms, mV)."""
        amp = np.zeros(kernel.N_AMP)
        amp[kernel.AMP_G_SERIES] = (units.ohm_to_ns(self.series_resistance)
                                    if self.series_resistance else 0.0)
        amp[kernel.AMP_CP] = units.f_to_pf(self.pipette_capacitance)
        amp[kernel.AMP_G_SEAL] = units.ohm_to_ns(self.seal_resistance)
        amp[kernel.AMP_CP_COMP] = units.f_to_pf(self.fast_compensation)
        amp[kernel.AMP_CM_COMP] = units.f_to_pf(self.whole_cell_capacitance)
        amp[kernel.AMP_RS_COMP] = units.ohm_to_mohm(self.whole_cell_resistance)
        amp[kernel.AMP_CORRECTION] = self.rs_correction
        amp[kernel.AMP_PREDICTION] = self.rs_prediction
        amp[kernel.AMP_LAG] = units.s_to_ms(self.lag)
        amp[kernel.AMP_BRIDGE] = units.ohm_to_mohm(self.bridge)
        amp[kernel.AMP_NEUTRALIZATION] = units.f_to_pf(self.neutralization)
        amp[kernel.AMP_RAIL] = units.v_to_mv(HEADSTAGE_RAIL_V)
        return amp

    def describe(self):
        """One line for recording metadata."""
        filt = f"{self.filter_hz / 1e3:g}kHz" if self.filter_hz else "off"
        return (f"Rs={self.series_resistance / 1e6:g}MOhm Cp={self.pipette_capacitance * 1e12:g}pF "
                f"Rseal={self.seal_resistance / 1e9:g}GOhm fast={self.fast_compensation * 1e12:g}pF "
                f"wholecell={self.whole_cell_capacitance * 1e12:g}pF/{self.whole_cell_resistance / 1e6:g}MOhm "
                f"correction={self.rs_correction * 100:g}% prediction={self.rs_prediction * 100:g}% "
                f"lag={self.lag * 1e6:g}us bridge={self.bridge / 1e6:g}MOhm "
                f"neutralization={self.neutralization * 1e12:g}pF filter={filt} gain={self.gain:g} "
                f"noise={'on' if self.noise else 'off'} hum={self.hum_hz:g}Hz "
                f"digitizer={'on' if self.digitizer else 'off'}")


class OutputChain:
    """Noise, hum, Bessel filter, gain and digitiser on the two outputs, with the
    filter state carried from one block to the next so that chunks join seamlessly."""

    def __init__(self, rng):
        self.rng = rng
        self._filters = {}

    def reset(self):
        """Forget the filter state (after a discontinuity such as a new protocol)."""
        self._filters.clear()

    def process(self, amplifier, mode, voltage_v, current_a, sample_interval_s, t0_s):
        """Return (voltage, current, overloaded) as the digitiser would record them;
        overloaded is True when either output exceeds the digitiser's range.

        voltage_v, current_a: the headstage outputs (SI arrays); t0_s: time of the
        first sample (s), which sets the hum's phase.
        """
        fs = 1.0 / sample_interval_s
        voltage = voltage_v
        current = current_a
        if amplifier.noise:
            half_band = math.sqrt(fs / 2.0)
            voltage = voltage + self.rng.normal(0.0, VOLTAGE_NOISE_V_PER_RTHZ * half_band,
                                                voltage.size)
            current = current + self.rng.normal(0.0, CURRENT_NOISE_A_PER_RTHZ * half_band,
                                                current.size)
        if amplifier.hum_hz:
            t = t0_s + np.arange(voltage.size) * sample_interval_s
            wave = (np.sin(2 * np.pi * amplifier.hum_hz * t)
                    + 0.3 * np.sin(2 * np.pi * 3 * amplifier.hum_hz * t + 0.5))
            voltage = voltage + HUM_VOLTAGE_V * wave
            current = current + HUM_CURRENT_A * wave
        if amplifier.filter_hz and amplifier.filter_hz < 0.45 * fs:
            voltage = self._filter("V", voltage, amplifier.filter_hz, fs)
            current = self._filter("I", current, amplifier.filter_hz, fs)
        # The overload lamp lights whenever the output would clip at this gain, whether
        # or not the digitiser's quantisation and clipping are simulated.
        v_range, i_range = input_range(amplifier, mode)
        overloaded = bool(voltage.size) and bool(
            max(voltage.max(), -voltage.min()) > v_range
            or max(current.max(), -current.min()) > i_range)
        if amplifier.digitizer:
            v_gain = amplifier.gain if mode != "VC" else 1.0
            i_gain = amplifier.gain if mode == "VC" else 1.0
            voltage, _ = _digitize(voltage, CC_SCALE_V_PER_V * v_gain)
            current, _ = _digitize(current, VC_SCALE_V_PER_A * i_gain)
        return voltage, current, overloaded

    def _filter(self, key, values, corner_hz, fs):
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


def filter_delay_s(amplifier, sample_interval_s):
    """Low-frequency group delay (s) of the Bessel filter in use (0 when bypassed)."""
    from scipy import signal

    fs = 1.0 / sample_interval_s
    if not amplifier.filter_hz or amplifier.filter_hz >= 0.45 * fs:
        return 0.0
    b, a = signal.bessel(4, amplifier.filter_hz, btype="low", norm="mag", fs=fs)
    _, delay = signal.group_delay((b, a), w=[1e-3 * amplifier.filter_hz], fs=fs)
    return float(delay[0]) / fs


def _digitize(values, volts_per_unit):
    """Quantise to the digitiser's 16 bits over +/-10 V; returns (values, clipped)."""
    lsb = 2 * DIGITIZER_RANGE_V / 2 ** DIGITIZER_BITS
    counts = np.round(values * volts_per_unit / lsb)
    low, high = -(2 ** (DIGITIZER_BITS - 1)), 2 ** (DIGITIZER_BITS - 1) - 1
    clipped = bool(np.any(counts < low) or np.any(counts > high))
    return np.clip(counts, low, high) * lsb / volts_per_unit, clipped


def input_range(amplifier, mode):
    """(voltage range in V, current range in A) before the digitiser clips, +/-."""
    v_gain = amplifier.gain if mode != "VC" else 1.0
    i_gain = amplifier.gain if mode == "VC" else 1.0
    return (DIGITIZER_RANGE_V / (CC_SCALE_V_PER_V * v_gain),
            DIGITIZER_RANGE_V / (VC_SCALE_V_PER_A * i_gain))
