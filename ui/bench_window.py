"""Benchmark of the live window: frames per second, GUI CPU per frame, latency.

The window runs continuous acquisition at 50 kHz with the three basic scopes visible
and the cell firing (a holding current above rheobase), offscreen. Measured:

* ``gui_fps``: scope frames painted per wall-clock second;
* ``gui_cpu_per_frame``: CPU time of the GUI thread (``time.thread_time``) per frame,
  everything included (draining, buffers, setData, painting, the meters);
* ``chunk_to_screen_latency p50/p99``: from the runner putting a chunk on its queue to
  the end of the first frame painted after that chunk reached the scope; and the p99
  in periods of a 60 Hz display frame (16.7 ms; the target is <= 1);
* ``realtime_ratio`` (simulated / wall time) and ``dropped_chunks`` of the same run;
* then at 10x: ``10x_longest_frame_gap`` (the longest time between two painted frames,
  the figure a freeze would show) without recording, and recording Vm, Im and the
  command to an ABF file (the default): ``record_10x_longest_frame_gap``, its p99, the
  realtime ratio, and the seconds the file took to be final after Stop
  (``record_finish_after_stop``).
"""

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from rig import units
from rig.acquisition.commands import Chunk
from rig.acquisition.runner import Runner

DISPLAY_FRAME_MS = 1000.0 / 60.0


class StampedRunner(Runner):
    """A Runner that notes when each chunk was queued (perf_counter s)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stamps = {}

    def _emit(self, item):
        if isinstance(item, Chunk):
            # A chunk object lives at least until the window drains it, so its id is
            # unique while its stamp is waiting here.
            self.stamps[id(item)] = time.perf_counter()
        super()._emit(item)


def run_window_bench(seconds=5.0, size=(1280, 800), holding_pa=120.0):
    """Run the window for some seconds; returns [(name, value, unit)]."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from ui.app import make_app
    from ui.window.main_window import MainWindow

    app = make_app()
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(os.path.join(folder, "bench.ini"), QSettings.IniFormat)
        window = MainWindow(settings=settings, runner_factory=StampedRunner)
        try:
            window.resize(*size)
            window.show()
            window.set_mode("CC")
            window.set_holding("CC", holding_pa)
            figures = _measure(app, window, seconds, QEventLoop, QTimer)
            return figures + _measure_recording(window, seconds, folder, QEventLoop, QTimer)
        finally:
            window.close()


def _measure(app, window, seconds, QEventLoop, QTimer):
    client, scope = window.client, window.scopes.scope
    waiting = []  # queue stamps of chunks handed to the scope, not yet painted
    latencies = []
    first = {}

    def on_chunks(chunks):
        stamps = client.runner.stamps
        waiting.extend(stamps.pop(id(chunk), np.nan) for chunk in chunks)
        if "sim" not in first:
            first["wall"], first["sim"] = time.perf_counter(), chunks[0].time_s

    def on_frame():
        now = time.perf_counter()
        latencies.extend(now - t for t in waiting)
        waiting.clear()

    client.chunks.connect(on_chunks)
    scope.frame_hook = on_frame
    window.start()
    _wait(QEventLoop, QTimer, 1.0)  # warm-up: first chunks, first layout, caches
    latencies.clear()
    frames0, cpu0, wall0 = scope.frames, time.thread_time(), time.perf_counter()
    _wait(QEventLoop, QTimer, seconds)
    frames = scope.frames - frames0
    cpu = time.thread_time() - cpu0
    wall = time.perf_counter() - wall0
    scope.frame_hook = None
    sim = client.newest.time_s - first["sim"]
    lat = units.s_to_ms(np.array(latencies))
    lat = lat[np.isfinite(lat)]
    return [
        ("gui_fps", frames / wall, "frames/s"),
        ("gui_cpu_per_frame", units.s_to_ms(cpu / max(frames, 1)), "ms"),
        ("chunk_to_screen_latency_p50", float(np.percentile(lat, 50)), "ms"),
        ("chunk_to_screen_latency_p99", float(np.percentile(lat, 99)), "ms"),
        ("chunk_to_screen_latency_p99_frames", float(np.percentile(lat, 99)) / DISPLAY_FRAME_MS,
         "frames"),
        ("realtime_ratio", sim / (time.perf_counter() - first["wall"]), ""),
        ("dropped_chunks", float(client.dropped_chunks), ""),
    ]


def run_axon_bench(seconds=5.0, size=(1280, 800), cell="squid-axon"):
    """The Axon tab of a fibre with its space-time map scrolling (redrawn every frame)
    and the fibre firing from VC steps at Stim; returns [(name, value, unit)]:
    ``axon_map_fps`` (map redraws per wall-clock second), ``axon_gui_cpu_per_frame``
    (GUI thread CPU per map frame, everything included), ``axon_realtime_ratio``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from rig.acquisition.commands import Pulse
    from rig.clamp import Mode
    from ui.app import make_app
    from ui.window.main_window import MainWindow
    from ui.window.window_options import WindowOptions

    app = make_app()
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(os.path.join(folder, "bench.ini"), QSettings.IniFormat)
        window = MainWindow(settings=settings, options=WindowOptions(cell=cell))
        try:
            window.resize(*size)
            window.show()
            view = window.axon
            view.trigger_box.setChecked(False)  # scrolling: a new map every frame
            window.set_mode("VC")
            window.session.set_electrodes(axial_wire=False)
            stimuli = QTimer()
            stimuli.timeout.connect(lambda: window.client.send(Pulse(Mode.VC, 0.02, 2e-4)))
            stimuli.start(100)
            _start_and_warm_up(window, QEventLoop, QTimer)
            frames0, cpu0, wall0 = view.frames, time.thread_time(), time.perf_counter()
            sim0 = window.client.newest.time_s
            _wait(QEventLoop, QTimer, seconds)
            wall = time.perf_counter() - wall0
            frames = view.frames - frames0
            cpu = time.thread_time() - cpu0
            stimuli.stop()
            app.processEvents()
            return [("axon_map_fps", frames / wall, "frames/s"),
                    ("axon_gui_cpu_per_frame", units.s_to_ms(cpu / max(frames, 1)), "ms"),
                    ("axon_realtime_ratio", (window.client.newest.time_s - sim0) / wall, "")]
        finally:
            window.close()


def run_patch_bench(seconds=5.0, size=(1280, 800), holding_mv=-40.0):
    """The live window on a 1-channel patch-na (the exact algorithm) at 50 kHz in VC at
    holding_mv, at 1x as a student runs it; returns [(name, value, unit)]:
    ``patch_gui_fps``, ``patch_gui_cpu_per_frame`` (ms), ``patch_longest_frame_gap``
    and ``patch_frame_gap_p99`` (ms), ``patch_realtime_ratio`` and
    ``patch_dropped_chunks``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from ui.app import make_app
    from ui.window.main_window import MainWindow
    from ui.window.window_options import WindowOptions

    app = make_app()
    with tempfile.TemporaryDirectory() as folder:
        settings = QSettings(os.path.join(folder, "bench.ini"), QSettings.IniFormat)
        window = MainWindow(settings=settings, options=WindowOptions(cell="patch-na"))
        try:
            window.resize(*size)
            window.show()
            window.set_cell(window.session.cell, channel_counts={"": 1})
            window.set_mode("VC")
            window.set_holding("VC", holding_mv)
            window.session.speed = 1.0
            _start_and_warm_up(window, QEventLoop, QTimer)
            scope = window.scopes.scope
            frames0, cpu0 = scope.frames, time.thread_time()
            longest, p99, ratio = _frame_gaps(window, seconds, QEventLoop, QTimer)
            frames = scope.frames - frames0
            cpu = time.thread_time() - cpu0
            app.processEvents()
            return [("patch_gui_fps", frames / seconds, "frames/s"),
                    ("patch_gui_cpu_per_frame", units.s_to_ms(cpu / max(frames, 1)), "ms"),
                    ("patch_longest_frame_gap", longest, "ms"),
                    ("patch_frame_gap_p99", p99, "ms"),
                    ("patch_realtime_ratio", ratio, ""),
                    ("patch_dropped_chunks", float(window.client.dropped_chunks), "")]
        finally:
            window.close()


def _start_and_warm_up(window, QEventLoop, QTimer):
    """Start acquisition, wait for the first chunk (a loaded machine may take seconds),
    then one second more for the first layouts and caches."""
    window.start()
    for _ in range(300):
        if window.client.newest is not None:
            break
        _wait(QEventLoop, QTimer, 0.1)
    _wait(QEventLoop, QTimer, 1.0)


def _wait(QEventLoop, QTimer, seconds):
    loop = QEventLoop()
    QTimer.singleShot(int(units.s_to_ms(seconds)), loop.quit)
    loop.exec()


def _measure_recording(window, seconds, folder, QEventLoop, QTimer):
    """Frame gaps at 10x without and with recording (see the module docstring)."""
    from ui.panels.recording_settings import RecordingSettings

    window.recording.apply_settings(RecordingSettings(Path(folder), "bench", ".abf"))
    window.session.speed = 10.0
    _wait(QEventLoop, QTimer, 1.0)  # warm-up at the new speed
    plain = _frame_gaps(window, seconds, QEventLoop, QTimer)
    window.recording.start()
    _wait(QEventLoop, QTimer, 1.0)
    recording = _frame_gaps(window, seconds, QEventLoop, QTimer)
    stopped = time.perf_counter()
    window.recording.stop()
    window.recording.finish(120.0)
    finish_s = time.perf_counter() - stopped
    return [
        ("10x_longest_frame_gap", plain[0], "ms"),
        ("10x_frame_gap_p99", plain[1], "ms"),
        ("record_10x_longest_frame_gap", recording[0], "ms"),
        ("record_10x_frame_gap_p99", recording[1], "ms"),
        ("record_10x_realtime_ratio", recording[2], ""),
        ("record_finish_after_stop", finish_s, "s"),
    ]


def _frame_gaps(window, seconds, QEventLoop, QTimer):
    """(longest gap, p99 gap) between painted frames in ms, and the realtime ratio."""
    scope, client = window.scopes.scope, window.client
    frame_times = []
    scope.frame_hook = lambda: frame_times.append(time.perf_counter())
    sim0, wall0 = client.newest.time_s, time.perf_counter()
    _wait(QEventLoop, QTimer, seconds)
    ratio = (client.newest.time_s - sim0) / (time.perf_counter() - wall0)
    scope.frame_hook = None
    gaps = units.s_to_ms(np.diff(frame_times)) if len(frame_times) > 1 else np.array([np.nan])
    return float(np.max(gaps)), float(np.percentile(gaps, 99)), ratio
