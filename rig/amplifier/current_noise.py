"""The headstage's current noise from its sources, so that a patch on the 50 GOhm
feedback resistor is quieter than a whole cell on 500 MOhm by the physics.

One-sided power spectral density (A^2/Hz) of the current noise referred to the input
(Sigworth 1995, "Electronic design of the patch clamp", in Sakmann & Neher (eds.),
Single-Channel Recording, 2nd ed., Plenum, ch. 4; Levis & Rae 1998 Methods Enzymol
293:218-266):

* the feedback resistor's thermal noise 4kT/Rf, and the seal's 4kT/Rseal (white);
* the pipette's dielectric loss, 4kT D C_d 2 pi f (D the glass's dissipation factor,
  C_d the capacitance of its immersed part): rising with f;
* the headstage's input voltage noise e_n across the input capacitance (headstage,
  holder and pipette), (2 pi f e_n C_in)^2;
* through the access resistance to the cell's capacitance (whole cell, Rs > 0), the
  thermal noise of that network, 4kT Re(1 / (Rs + 1 / (j 2 pi f Cm))).

The noise of one block of samples is white Gaussian noise shaped by the square root of
the density in the frequency domain (stationary noise: the blocks need no joining).
"""

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
FOUR_KT = 4 * 1.380649e-23 * 295.15  # J, at 22 degC
# Headstage input voltage noise and input capacitance (headstage, holder): the order
# of Sigworth 1995 ch. 4 (a few nV/rtHz; about 10 pF with the holder)
E_N_V_PER_RTHZ = 3e-9
INPUT_CAPACITANCE_F = 10e-12
# Pipette dielectric noise: dissipation factor of borosilicate glass and the
# capacitance of the immersed pipette (Levis & Rae 1998: D about 0.01-0.02 for
# borosilicate, C_d about 1-2 pF for a few mm immersed)
DISSIPATION_FACTOR = 0.015
DIELECTRIC_CAPACITANCE_F = 1.5e-12


def density(freq_hz: npt.ArrayLike, feedback_ohm: float, seal_ohm: float = math.inf,
            pipette_capacitance_f: float = 0.0, series_ohm: float = 0.0,
            cell_capacitance_f: float = 0.0) -> FloatArray:
    """One-sided current noise density (A^2/Hz) at freq_hz of the sources above."""
    f = np.asarray(freq_hz, dtype=float)
    w = 2 * math.pi * f
    white = FOUR_KT / feedback_ohm + (FOUR_KT / seal_ohm if math.isfinite(seal_ohm) else 0.0)
    dielectric = FOUR_KT * DISSIPATION_FACTOR * DIELECTRIC_CAPACITANCE_F * w
    c_in = INPUT_CAPACITANCE_F + pipette_capacitance_f
    if series_ohm <= 0.0:
        c_in += cell_capacitance_f  # the cell on the input itself (an ideal clamp)
    voltage = (w * E_N_V_PER_RTHZ * c_in) ** 2
    access = np.zeros_like(f)
    if series_ohm > 0.0 and cell_capacitance_f > 0.0:
        wc = w * cell_capacitance_f
        access = FOUR_KT * series_ohm * wc ** 2 / (1 + (wc * series_ohm) ** 2)
    return white + dielectric + voltage + access


def rms(band_hz: float, n_points: int = 20001, **sources: float) -> float:
    """The rms current (A) of density(**sources) over 0 to band_hz (a brick wall)."""
    f = np.linspace(0.0, band_hz, n_points)
    return float(math.sqrt(np.trapezoid(density(f, **sources), f)))


def draw(n: int, sample_rate_hz: float, rng: np.random.Generator,
         **sources: float) -> FloatArray:
    """n samples (A) of current noise with density(**sources) up to sample_rate_hz/2."""
    if n == 0:
        return np.zeros(0)
    white = rng.normal(0.0, 1.0, n)
    freq = np.fft.rfftfreq(n, 1.0 / sample_rate_hz)
    # a white sequence of unit variance has density 2/fs: scale each bin to the target
    gain = np.sqrt(density(freq, **sources) * sample_rate_hz / 2.0)
    return np.fft.irfft(np.fft.rfft(white) * gain, n)
