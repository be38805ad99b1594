"""Channel-noise speed figures for ``vrig bench`` (a section of :mod:`rig.cli.bench`).

* ``stochastic_realtime_factor``: simulated s per wall s of the whole hh-squid cell
  with every channel a random molecule (60 000 Na and 18 000 K channels, the
  multinomial update) at dt = 10 us, in CC firing at 100 pA, one Rig.advance block
  at 50 kHz; ``stochastic_realtime_factor_cpu`` per CPU second of the thread.
* ``patch_realtime_factor``: a 1-channel patch-na (the exact algorithm) at 10 us in
  ideal VC at -40 mV, sampled at 50 kHz, as the live window would run it.
* ``exact_us_per_step_N``, ``multinomial_us_per_step_N``: one 10 us step of a Na
  patch of N channels at -40 mV by each algorithm: the figures behind the switch
  rule (rig.simulation.stochastic.EXACT_MAX_CHANNELS).
"""

from collections.abc import Iterator, Mapping

import numpy as np

from rig import units
from rig.cli.timing import best_of, best_wall_and_cpu
from rig.simulation import stochastic
from rig.simulation.engine import Rig

DT_S = 10e-6
SAMPLE_S = 20e-6  # 50 kHz
CC_CURRENT_A = 100e-12
SIMULATED_S = 1.0
SIMULATED_S_QUICK = 0.2
SWITCH_COUNTS = (50, 200, 1000)


def _patch(count: int, exact_max: int) -> Rig:
    """patch-na with count channels held at -40 mV, EXACT_MAX_CHANNELS set to exact_max
    while it is built (which picks its algorithm)."""
    saved = stochastic.EXACT_MAX_CHANNELS
    stochastic.EXACT_MAX_CHANNELS = exact_max
    try:
        setup = Rig.from_presets("patch-na", channel_counts={"Na": count}, dt=DT_S)
        setup.set_mode("VC")
        setup.set_holding(units.mv_to_v(-40.0))
        setup.settle()
        setup.membrane()  # compiled now, with the algorithm chosen above
    finally:
        stochastic.EXACT_MAX_CHANNELS = saved
    return setup


def channels_section(quick: bool, figures: Mapping[str, float]
                     ) -> Iterator[tuple[str, float, str]]:
    """The figures of the module docstring."""
    simulated = SIMULATED_S_QUICK if quick else SIMULATED_S
    repeats = 2 if quick else 3
    cell = Rig.from_presets("hh-squid", stochastic=True, dt=DT_S, seed=1)
    cell.set_mode("CC")
    cell.set_holding(CC_CURRENT_A)
    command = np.full(round(simulated / SAMPLE_S), CC_CURRENT_A)
    cell.advance(command[:10], SAMPLE_S)  # compile / load the cache
    wall, cpu = best_wall_and_cpu(lambda: cell.advance(command, SAMPLE_S), repeats)
    yield "stochastic_realtime_factor", simulated / wall, "x"
    yield "stochastic_realtime_factor_cpu", simulated / cpu, "x"
    patch = _patch(1, stochastic.EXACT_MAX_CHANNELS)
    hold = np.full(round(simulated / SAMPLE_S), units.mv_to_v(-40.0))
    patch.advance(hold[:10], SAMPLE_S)
    yield "patch_realtime_factor", simulated / best_of(
        lambda: patch.advance(hold, SAMPLE_S), repeats), "x"
    steps = round(0.1 / DT_S)
    block = np.full(steps, units.mv_to_v(-40.0))
    for count in SWITCH_COUNTS:
        for name, exact_max in (("exact", count), ("multinomial", 0)):
            setup = _patch(count, exact_max)
            setup.advance(block[:10], DT_S)

            def stepped(s: Rig = setup) -> None:
                s.advance(block, DT_S)

            wall = best_of(stepped, repeats)
            yield f"{name}_us_per_step_{count}", units.s_to_us(wall / steps), "us"
