"""The engine keeps real time while the scopes redraw, and no chunk is dropped.

Runs the full window (three scopes, the cell firing so every frame has spikes to
draw) for 10 s of wall-clock time and compares the simulated time.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time  # noqa: E402

from PySide6.QtCore import QSettings  # noqa: E402

from ui import theme  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402

RUN_S = 10.0
WARM_UP_S = 1.0


def test_real_time_with_scopes_redrawing(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    window = MainWindow(settings=QSettings(str(tmp_path / "rt.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.set_mode("CC")
    window.set_holding("CC", 120.0)
    marks = []
    chunks = []

    started = []

    def on_chunks(batch):
        # Measure from 1 s in, when the kernel is loaded and any start-up lag is made
        # up; the newest chunk's end is the simulation's "now" when a batch arrives.
        if not marks and time.perf_counter() - started[0] >= WARM_UP_S:
            marks.append((time.perf_counter(), batch[-1].time_s))
        chunks.extend(batch)

    window.client.chunks.connect(on_chunks)
    try:
        started.append(time.perf_counter())
        window.start()
        qtbot.waitUntil(lambda: bool(marks), timeout=10_000)
        frames0 = window.scopes.scope.frames
        qtbot.waitUntil(lambda: time.perf_counter() - marks[0][0] >= RUN_S,
                        timeout=int(RUN_S * 1000) + 5_000)
        wall = time.perf_counter() - marks[0][0]
        simulated = window.client.newest.time_s - marks[0][1]
        frames = window.scopes.scope.frames - frames0
    finally:
        window.close()
    ratio = simulated / wall
    print(f"simulated {simulated:.3f} s in {wall:.3f} s wall: ratio {ratio:.4f}; "
          f"{frames} frames; dropped {window.client.dropped_chunks}")
    assert abs(ratio - 1.0) <= 0.02
    assert window.client.dropped_chunks == 0
    # Every chunk arrived, in order, with no gap in the sample numbering.
    firsts = [ch.first_sample for ch in chunks]
    sizes = [ch.n_samples for ch in chunks]
    assert all(b == a + n for a, b, n in zip(firsts, firsts[1:], sizes))
    assert frames > RUN_S * 10  # the scopes really were redrawing throughout
    assert max(ch.signals["Vm"].max() for ch in chunks) > 0  # and there were spikes
