"""Days of demo switches must not grow the kiosk's memory: after a warm-up round of the
demos, further rounds leave the counts a leak would grow (Qt widgets, QObjects under the
window, scene items, Python objects the collector tracks) where they were. Each demo
runs until the engine has sent chunks, so the scopes, analysis and gates take data."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings

from ui.kiosk import KioskWindow
from ui.kiosk_soak import live_counts
from ui.look import theme

ROUNDS = 3
# objects: wrappers and caches made once (the first look at a widget from Python, a
# regex, an import) appear in whichever round first needs them, about 150 in all; a
# leaking chunk list, curve or connection adds tens of objects at every switch
GC_ONCE = 300


def _round(window, qtbot):
    for index in range(len(window.demos.steps)):
        window.play(index)
        seen = window.client.received_chunks
        qtbot.waitUntil(lambda seen=seen: window.client.received_chunks >= seen + 3,
                        timeout=20_000)


def test_demo_switches_keep_the_counts_flat(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    window = KioskWindow(tmp_path / "kiosk.log",
                         settings=QSettings(str(tmp_path / "k.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.start_loop()
    window.timer.stop()  # the test switches the demos itself
    _round(window, qtbot)  # warm-up: first use builds what later demos reuse
    _round(window, qtbot)
    before = live_counts(window)
    for _ in range(ROUNDS):
        _round(window, qtbot)
    after = live_counts(window)
    window.close()
    switches = ROUNDS * len(window.demos.steps)
    for key in ("widgets", "qobjects", "scene_items"):
        assert after[key] == before[key], key
    growth = after["gc_objects"] - before["gc_objects"]
    assert switches >= 20 and growth <= GC_ONCE, (
        growth, (after["types"] - before["types"]).most_common(8))


def test_the_mmap_threshold_is_fixed_on_glibc_and_harmless_elsewhere(monkeypatch):
    import ctypes.util
    import platform
    import sys

    from ui import kiosk

    expected = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
    assert kiosk.fix_mmap_threshold() is expected
    monkeypatch.setattr(ctypes.util, "find_library", lambda _name: None)
    assert kiosk.fix_mmap_threshold() is False  # no C library found: nothing done
