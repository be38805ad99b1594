"""Scope buffers keep every peak and never grow; the scope draws what it is given: every
sweep of a protocol in its colour, autoscaled after each sweep to what it needs."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from rig.acquisition.commands import Chunk
from rig.protocols.protocol import load_protocol, render_sweep
from ui.look import theme
from ui.scopes.scope import MAX_OVERLAY_SWEEPS, ScopeStack
from ui.scopes.scope_buffers import PeakRing, SweepStore
from ui.scopes.scope_ranges import MIN_SPAN, fit_range

NAMES = [("Vm", "V"), ("Im", "A"), ("command", "A"), ("INa", "A"), ("IK", "A"),
         ("gNa", "S"), ("m", ""), ("h", "")]
DT = 20e-6


def test_peak_ring_keeps_a_one_sample_spike():
    ring = PeakRing(1.0, DT, "sweep", max_points=2000)
    assert ring.factor == 50 and ring.y.size == 2000
    data = np.full(50_000, -0.065)
    data[12_345] = 0.04
    for block in np.array_split(data, 173):  # chunk sizes that do not fit the bins
        ring.append(block)
    x, y = ring.data()
    assert np.nanmax(y) == 0.04
    assert x[np.nanargmax(y)] == pytest.approx(12_345 // 50 * 50 * DT)
    assert ring.y.size == 2000  # nothing grew


def test_sweeping_display_wraps_with_a_gap():
    ring = PeakRing(0.1, DT, "sweep", max_points=10_000)  # 5000 samples, raw
    assert ring.factor == 1
    ring.append(np.arange(6000.0))
    _, y = ring.data()
    assert y[0] == 5000 and y[999] == 5999  # wrapped round
    assert np.isnan(y[1000:1050]).all()  # the gap ahead of the write head
    assert y[2000] == 2000


def test_scrolling_display_follows_time():
    ring = PeakRing(0.1, DT, "scroll", max_points=10_000)
    for _ in range(30):
        ring.append(np.ones(500))
    x, y = ring.data()
    assert x.size == y.size <= 5000
    start, end = ring.time_span()
    assert end == pytest.approx(15_000 * DT) and end - start == pytest.approx(0.1)
    assert x[-1] == pytest.approx(14_999 * DT)


def test_sweep_store_keeps_the_newest_sweeps_within_its_cap():
    store = SweepStore(DT, [100] * 10, capacity=4)
    for sweep in range(6):
        assert store.write(sweep, 0, {"Vm": np.full(60, sweep * 1.0)})
        assert not store.complete(sweep)
        assert not store.write(sweep, 60, {"Vm": np.full(40, sweep * 1.0)})
        assert store.complete(sweep)
    assert store.sweeps() == [2, 3, 4, 5] and store.dropped == 2 and store.newest() == 5
    x, y = store.data(5, "Vm")
    assert x.size == 100 and (y == 5).all() and x[-1] == pytest.approx(99 * DT)
    assert store.value_at(4, "Vm", 50 * DT) == 4.0
    assert np.isnan(store.value_at(4, "Vm", 100 * DT))  # past the sweep's end
    store.clear()
    assert store.sweeps() == [] and store.newest() is None


def test_sweep_store_bounds_its_samples():
    # 64 sweeps of 1 M samples would be 256 MB per signal: the budget keeps 2
    store = SweepStore(DT, [1_000_000] * 64, capacity=64, budget=2_000_000)
    assert store.capacity == 2
    assert SweepStore(DT, [50_000_000], capacity=64).capacity == 1  # never none


def test_fit_range_keeps_a_minimum_span_and_the_command():
    flat = np.full(1000, -0.065)
    low, high = fit_range([flat], "V")
    assert high - low == pytest.approx(MIN_SPAN["V"] * 1.16)
    assert (low + high) / 2 == pytest.approx(-0.065)
    pulses = np.zeros(1000)
    pulses[100:150] = 300e-12
    low, high = fit_range([pulses], "A", include=(0.0, 300e-12))
    assert low < 0 and high > 300e-12 and high < 330e-12
    assert fit_range([np.full(5, np.nan)], "A") is None


@pytest.fixture
def scope(qtbot):
    widget = ScopeStack(NAMES, "CC")
    qtbot.addWidget(widget)
    widget.resize(800, 600)
    widget.show()
    return widget


def _chunk(kind, first, n=250, sweep=0, vm=-0.065):
    signals = {name: np.full(n, vm if name == "Vm" else 1e-12) for name, _ in NAMES}
    return Chunk(kind, sweep, first, DT, "CC", signals, first * DT)


def test_continuous_and_optional_panels(scope, qtbot):
    assert list(scope._visible_panels()) == ["Vm", "Im", "command"]
    scope.add_chunks([_chunk("continuous", k * 250) for k in range(20)])
    scope.refresh()
    _x, y = scope.continuous_curves["Vm"].getData()
    assert y is not None and np.nanmax(y) == pytest.approx(-0.065)
    scope.set_visible("INa", True)
    scope.set_visible("m", True)
    assert scope._visible_panels() == ["Vm", "Im", "command", "currents", "gates"]
    scope.set_visible("m", False)
    assert "gates" not in scope._visible_panels()
    qtbot.waitUntil(lambda: scope.frames > 0)


def _run(scope, protocol, vm_of_sweep, sweeps=None, input_mohm=None):
    """Feed the scope a protocol's sweeps in chunks of 250 samples, refreshing after
    each chunk as the window's display timer does. Vm is vm_of_sweep(k) (V), plus the
    command (A) times input_mohm if given: a passive cell's step responses."""
    for sweep in range(protocol.sweeps if sweeps is None else sweeps):
        command = render_sweep(protocol, sweep).command
        vm = vm_of_sweep(sweep) + (0 if input_mohm is None else command * input_mohm * 1e6)
        vm = np.broadcast_to(vm, command.shape)
        for first in range(0, command.size, 250):
            part = slice(first, first + 250)
            signals = {name: np.full(command[part].size, 1e-12) for name, _ in NAMES}
            signals.update(Vm=vm[part], command=command[part], Im=command[part])
            scope.add_chunks([Chunk("sweep", sweep, first, DT, protocol.mode, signals)])
            scope.refresh()


def test_episodic_overlay_shows_every_sweep_in_its_colour(scope):
    protocol = load_protocol("vc-iv-family")  # 15 sweeps
    scope.begin_protocol(protocol)
    _run(scope, protocol, lambda k: -0.08 + 0.01 * k)
    curves = scope.sweep_curves["Vm"]
    shown = [c for c in curves if c.isVisible()]
    assert len(shown) == 15
    colors = {c.opts["pen"].color().name() for c in shown}
    assert colors == {c.name() for c in theme.sweep_colors(15)}
    assert all(c.opts["pen"].widthF() <= 1 for c in shown)  # the protocol is done
    scope.clear_sweeps()
    assert not any(c.isVisible() for c in curves)


def test_the_newest_sweep_is_wider_while_the_protocol_runs(scope):
    protocol = load_protocol("cc-threshold")
    scope.begin_protocol(protocol)
    _run(scope, protocol, lambda k: -0.065, sweeps=3)
    overlay = scope.overlay
    newest = scope.sweep_curves["Vm"][overlay._slot[2]]
    older = scope.sweep_curves["Vm"][overlay._slot[0]]
    assert newest.opts["pen"].widthF() == 2 and older.opts["pen"].widthF() == 1
    assert newest.zValue() > older.zValue()


def test_overlay_keeps_a_bounded_number_of_sweeps(scope):
    protocol = load_protocol("vc-iv-family").__class__(
        **{**load_protocol("vc-iv-family").__dict__, "sweeps": 70})
    scope.begin_protocol(protocol)
    _run(scope, protocol, lambda k: -0.065)
    assert scope.overlay.sweeps() == list(range(70 - MAX_OVERLAY_SWEEPS, 70))
    assert scope.overlay.store.dropped == 70 - MAX_OVERLAY_SWEEPS
    assert len(scope.sweep_curves["Vm"]) == MAX_OVERLAY_SWEEPS  # curves were reused


def _vm_fraction(scope, low_v, high_v):
    """The fraction of the Vm plot's height that the range low..high (V) fills."""
    low, high = scope.plots["Vm"].getViewBox().viewRange()[1]
    assert low <= low_v and high >= high_v  # nothing clipped
    return (high_v - low_v) / (high - low)


def test_autoscale_shows_the_300_pA_pulses_and_small_responses(scope):
    protocol = load_protocol("cc-paired-pulse")  # two 300 pA pulses per sweep
    scope.begin_protocol(protocol)
    for panel in ("command", "Im"):  # before any data: the protocol's command range
        low, high = scope.plots[panel].getViewBox().viewRange()[1]
        assert low < 0 and 300e-12 < high < 360e-12
    # A small family: 2 mV and 5 mV responses (hh-squid to 10 and 20 pA steps) fill
    # the Vm plot after each sweep's refit...
    family = load_protocol("cc-step-family")  # 0, 10, 20 pA steps
    scope.begin_protocol(family)
    _run(scope, family, lambda k: -0.065, sweeps=3, input_mohm=250)
    assert _vm_fraction(scope, -0.065, -0.060) > 0.75
    # ...and a highlighted 2.5 mV response fills the plot on Autoscale.
    scope.set_highlight(1)
    scope.autoscale()
    assert _vm_fraction(scope, -0.065, -0.0625) > 0.6
    low, high = scope.plots["command"].getViewBox().viewRange()[1]
    assert high - low < 40e-12  # the highlighted sweep's 10 pA step, not the family's


def test_continuous_autoscale_keeps_its_minimum_span(scope):
    scope.add_chunks([_chunk("continuous", k * 250) for k in range(20)])
    scope.refresh()
    scope.autoscale()
    low, high = scope.plots["Vm"].getViewBox().viewRange()[1]
    assert high - low == pytest.approx(MIN_SPAN["V"] * 1.16)


def test_the_true_membrane_potential_shares_the_vm_plot(qtbot):
    # Vmem (V) used to fall into the 0-1 gates plot
    scope = ScopeStack(NAMES + [("Vmem", "V")], "CC")
    qtbot.addWidget(scope)
    scope.set_visible("Vmem", True)
    assert scope._visible_panels() == ["Vm", "Im", "command"]
    assert scope.plot_of("Vmem") is scope.plots["Vm"]
    assert scope.shared_panels() == {"Vm", "Vmem"}  # coloured by signal in episodic
