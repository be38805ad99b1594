"""A soak benchmark of the demo station (not a test): the kiosk runs its attract loop
for a wall-clock duration with demos switched every few seconds (a fresh engine each
time, as in service) and touches now and then, and prints its resident memory, so a
leak shows as growth. Usage: python -m ui.kiosk_soak MINUTES [DEMO_S] [--no-fix]."""

import collections
import gc
import resource
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QGraphicsView

from ui.app import make_app
from ui.kiosk import KioskWindow, fix_mmap_threshold


def rss_mb():
    """Resident memory now (MB), from /proc (Linux), else the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def live_counts(window):
    """What a leak would make grow, as counts: Qt widgets in the application, QObjects
    under the window, items in its graphics scenes, Python objects the collector tracks
    (after a collection and the pending deleteLater calls) and the most numerous types."""
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)
    scenes = {view.scene() for view in window.findChildren(QGraphicsView)} - {None}
    counts = {"widgets": len(QApplication.allWidgets()),
              "qobjects": len(window.findChildren(QObject)),
              "scene_items": sum(len(scene.items()) for scene in scenes)}
    # after the Qt walks: their Python wrappers (kept by the parents) are counted every time
    gc.collect()
    objects = gc.get_objects()
    counts["gc_objects"] = len(objects)
    counts["types"] = collections.Counter(type(o).__name__ for o in objects)
    return counts


def soak(minutes, demo_s=3.0, fix_malloc=True):
    """Run the kiosk for minutes of wall time; print 'name: value unit' lines.
    fix_malloc: as run_kiosk does (False shows the heap growth it prevents)."""
    fixed = fix_mmap_threshold() if fix_malloc else False
    app = make_app(["vrig"])
    folder = tempfile.mkdtemp(prefix="vrig-soak-")
    window = KioskWindow(Path(folder) / "kiosk.log",
                         settings=QSettings(str(Path(folder) / "k.ini"), QSettings.IniFormat),
                         autostart=True)
    window.loop.demo_s = demo_s
    window.loop.idle_s = 4 * demo_s
    window.resize(1280, 800)
    window.show()
    window.start_loop()
    start, samples = time.monotonic(), []
    counts = {}

    def sample():
        elapsed = time.monotonic() - start
        samples.append((elapsed, rss_mb()))
        if "start" not in counts and elapsed > 30:
            counts["start"] = live_counts(window)
        if int(elapsed) % 97 < 2:
            window.touched()  # a visitor now and then: pause, then idle back to the loop
        if elapsed >= minutes * 60:
            counts["end"] = live_counts(window)
            window.close()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(2000)
    app.exec()
    first = next(m for t, m in samples if t > 30) if len(samples) > 20 else samples[0][1]
    print(f"kiosk_soak_minutes: {minutes:g} min")
    print(f"kiosk_mmap_threshold_fixed: {fixed}")
    print(f"kiosk_demos_run: {window.loop.demos_started}")
    print(f"kiosk_rss_after_30s: {first:.1f} MB")
    print(f"kiosk_rss_end: {samples[-1][1]:.1f} MB")
    print(f"kiosk_rss_max: {max(m for _, m in samples):.1f} MB")
    if "start" in counts:  # growth of a count after warm-up is a leak, unlike RSS noise
        for key in ("widgets", "qobjects", "scene_items", "gc_objects"):
            print(f"kiosk_{key}_after_30s_end: {counts['start'][key]} {counts['end'][key]}")
    # the curve, every 5 minutes: growth that levels off is warm-up, a steady slope a leak
    for mark in range(5, int(minutes) + 1, 5):
        near = min(samples, key=lambda sample, mark=mark: abs(sample[0] - 60 * mark))
        print(f"kiosk_rss_at_{mark}min: {near[1]:.1f} MB")


if __name__ == "__main__":
    soak(float(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 3.0,
         fix_malloc="--no-fix" not in sys.argv)
