"""A soak benchmark of the demo station (not a test): the kiosk runs its attract loop
for a wall-clock duration with demos switched every few seconds (a fresh engine each
time, as in service) and touches now and then, and prints its resident memory, so a
leak shows as growth. Usage: python -m ui.kiosk_soak MINUTES [DEMO_S]."""

import resource
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer

from ui.app import make_app
from ui.kiosk import KioskWindow


def rss_mb():
    """Resident memory now (MB), from /proc (Linux), else the peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def soak(minutes, demo_s=3.0):
    """Run the kiosk for minutes of wall time; print 'name: value unit' lines."""
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

    def sample():
        elapsed = time.monotonic() - start
        samples.append((elapsed, rss_mb()))
        if int(elapsed) % 97 < 2:
            window.touched()  # a visitor now and then: pause, then idle back to the loop
        if elapsed >= minutes * 60:
            window.close()
            app.quit()

    timer = QTimer()
    timer.timeout.connect(sample)
    timer.start(2000)
    app.exec()
    first = next(m for t, m in samples if t > 30) if len(samples) > 20 else samples[0][1]
    print(f"kiosk_soak_minutes: {minutes:g} min")
    print(f"kiosk_demos_run: {window.loop.demos_started}")
    print(f"kiosk_rss_after_30s: {first:.1f} MB")
    print(f"kiosk_rss_end: {samples[-1][1]:.1f} MB")
    print(f"kiosk_rss_max: {max(m for _, m in samples):.1f} MB")
    # the curve, every 5 minutes: growth that levels off is warm-up, a steady slope a leak
    for mark in range(5, int(minutes) + 1, 5):
        near = min(samples, key=lambda sample, mark=mark: abs(sample[0] - 60 * mark))
        print(f"kiosk_rss_at_{mark}min: {near[1]:.1f} MB")


if __name__ == "__main__":
    soak(float(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 3.0)
