"""A figure of the single-channel exercise (not a test): openings of a Na patch, the
ensemble average of 200 sweeps beside the mean current, the variance-mean parabola, and
a K channel's open times on a log axis.

    .venv/bin/python tests/reference/channel_noise_figure.py channel_noise.png
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from rig import units
from rig.analysis.noise import fit_noise
from rig.analysis.single_channel import (
    dwell_times,
    fit_dwell_times,
    idealise,
    log_binned_histogram,
)
from rig.simulation.engine import Rig


def sweeps(rig, before_mv, level_mv, n_before, n_step, n_sweeps, interval_s):
    rig.set_mode("VC")
    rig.set_holding(units.mv_to_v(before_mv))
    command = units.mv_to_v(np.r_[np.full(n_before, before_mv), np.full(n_step, level_mv)])
    rows = []
    for _ in range(n_sweeps):
        rig.settle()
        rows.append(units.a_to_pa(rig.advance(command, interval_s)["Im"]))
    return np.array(rows)


def main(path):
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    # A: a few sweeps of 3 Na channels through a 2 kHz Bessel filter
    rig = Rig.from_presets("patch-na", channel_counts={"Na": 3}, seed=2)
    rig.set_amplifier(filter_hz=2000.0)
    rows = sweeps(rig, -100, -20, 50, 200, 6, 100e-6)
    t = (np.arange(rows.shape[1]) - 50) * 0.1
    for k, row in enumerate(rows):
        axes[0, 0].plot(t, row - 4 * k, lw=0.7, color="k")
    axes[0, 0].set(title="3 Na channels, -100 -> -20 mV, 10 kHz, 2 kHz Bessel "
                   "(i = -1.4 pA)", xlabel="ms", ylabel="pA (sweeps offset 4 pA)",
                   ylim=(-26, 4))
    # B, C: 200 sweeps of 100 channels to 0 mV, against their mean (noise off)
    n_before, interval = 10, 50e-6
    rows = sweeps(Rig.from_presets("patch-na", channel_counts={"Na": 100}, seed=31),
                  -100, 0, n_before, 200, 200, interval)
    mean_rig = Rig.from_presets("patch-na", channel_counts={"Na": 100}, stochastic=False)
    mean = sweeps(mean_rig, -100, 0, n_before, 200, 1, interval)[0]
    t = (np.arange(rows.shape[1]) - n_before) * interval * 1e3
    axes[0, 1].plot(t, rows[0], lw=0.6, color="0.6", label="one sweep")
    axes[0, 1].plot(t, rows.mean(axis=0), color="C0", label="average of 200")
    axes[0, 1].plot(t, mean, "--", color="C3", label="mean (stochastic off)")
    axes[0, 1].set(title="100 Na channels, -100 -> 0 mV", xlabel="ms", ylabel="pA",
                   ylim=(min(rows[0].min(), mean.min()) - 5, 10))
    axes[0, 1].legend(frameon=False)
    fit = fit_noise(rows, window=slice(n_before + 2, None), baseline=slice(0, n_before))
    m = rows[:, n_before + 2:].mean(axis=0)
    v = rows[:, n_before + 2:].var(axis=0, ddof=1)
    grid = np.linspace(min(m.min(), 0), 0, 100)
    axes[1, 0].plot(m, v, ".", ms=3)
    axes[1, 0].plot(grid, fit.variance(grid), color="C3")
    axes[1, 0].set(title=f"noise analysis: i = {fit.unitary_pa:.2f} +/- "
                   f"{fit.unitary_error_pa:.2f} pA, N = {fit.n_channels:.0f} +/- "
                   f"{fit.n_channels_error:.0f} (true -1.00 pA, 100)",
                   xlabel="mean current (pA)", ylabel="variance (pA^2)")
    # D: open times of one K channel at +20 mV
    rig = Rig.from_presets("patch-k", channel_counts={"K": 1}, seed=9)
    rig.set_mode("VC")
    rig.set_holding(units.mv_to_v(20.0))
    rig.settle()
    im = units.a_to_pa(rig.advance(np.full(160000, units.mv_to_v(20.0)), 50e-6)["Im"])
    e_k = units.v_to_mv(rig.reversal_potentials()["K"])
    opened, _ = dwell_times(idealise(im, 20e-3 * (20 - e_k), max_level=1), 50e-6)
    shortest = 100e-6
    dwell = fit_dwell_times(opened, 1, shortest)
    edges, counts = log_binned_histogram(opened[opened >= shortest], 10, shortest)
    centres = np.sqrt(edges[:-1] * edges[1:]) * 1e3
    axes[1, 1].step(centres, np.sqrt(counts), where="mid", color="k")
    axes[1, 1].plot(centres, np.sqrt(dwell.expected_counts(edges)), color="C3")
    axes[1, 1].set(xscale="log", title=f"1 K channel at +20 mV: open times, tau = "
                   f"{dwell.taus_s[0] * 1e3:.2f} +/- {dwell.tau_errors_s[0] * 1e3:.2f} ms "
                   "(1/(4 beta_n) = 5.79)", xlabel="open time (ms)", ylabel="sqrt(count)")
    for ax in axes.flat:
        ax.title.set_fontsize(9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "channel_noise.png")
