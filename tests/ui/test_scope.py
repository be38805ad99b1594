"""Scope buffers keep every peak and never grow; the scope draws what it is given."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rig.commands import Chunk  # noqa: E402
from rig.protocol import load_protocol  # noqa: E402
from ui.scope import OVERLAY_SLOTS, ScopeStack  # noqa: E402
from ui.scope_buffers import PeakRing, SweepSlots  # noqa: E402

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


def test_sweep_slots_round_robin():
    slots = SweepSlots(3, 100, DT)
    for sweep in range(5):
        slot, started = slots.write(sweep, 0, np.full(60, sweep))
        assert started
        slots.write(sweep, 60, np.full(40, sweep))
    assert slots.ages() == {1: 0, 0: 1, 2: 2}  # sweep 4 in slot 1 is newest
    x, y = slots.data(1)
    assert x.size == 100 and (y == 4).all()
    slots.clear()
    assert slots.ages() == {}


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
    x, y = scope.continuous_curves["Vm"].getData()
    assert y is not None and np.nanmax(y) == pytest.approx(-0.065)
    scope.set_visible("INa", True)
    scope.set_visible("m", True)
    assert scope._visible_panels() == ["Vm", "Im", "command", "currents", "gates"]
    scope.set_visible("m", False)
    assert "gates" not in scope._visible_panels()
    qtbot.waitUntil(lambda: scope.frames > 0)


def test_episodic_overlay_fades_and_clears(scope):
    protocol = load_protocol("cc-threshold")
    scope.begin_protocol(protocol)
    length = protocol.sweep_samples(0)
    for sweep in range(3):
        scope.add_chunks([_chunk("sweep", 0, length, sweep, vm=-0.06 + sweep * 0.01)])
        scope.refresh()
    curves = scope.sweep_curves["Vm"]
    shown = [c for c in curves if c.isVisible()]
    assert len(shown) == 3 and len(curves) == OVERLAY_SLOTS
    alphas = [curves[s].opts["pen"].color().alpha() for s in range(3)]
    assert alphas[2] == 255 and alphas[1] < 255 and alphas[0] < alphas[1]
    scope.autoscale()
    low, high = scope.plots["Vm"].getViewBox().viewRange()[1]
    assert low < -0.06 and high > -0.04
    scope.clear_sweeps()
    assert not any(c.isVisible() for c in curves)
