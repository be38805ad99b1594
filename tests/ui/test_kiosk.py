"""The demo station under a simulated clock: the attract loop visits every demo with
its captions, a touch pauses it, a long idle returns it to the first demo, and errors
go to the log, never to a dialog."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QDialog

from rig.clamp import Mode
from rig.teaching.kiosk import DEMO_S, IDLE_S, KioskLoop, captions, load_demos
from ui.kiosk import KioskWindow
from ui.look import theme


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def kiosk(qtbot, qapp, tmp_path):
    theme.apply(qapp)
    clock = Clock()
    window = KioskWindow(tmp_path / "kiosk.log", clock=clock,
                         settings=QSettings(str(tmp_path / "k.ini"), QSettings.IniFormat))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    window.start_loop()
    window.timer.stop()  # the test drives the loop with its clock
    yield window, clock
    window.close()
    assert not window.client.runner._thread.is_alive()


def test_the_loop_visits_every_demo_with_its_captions(kiosk):
    window, clock = kiosk
    demos = load_demos().steps
    seen_titles, seen_captions, modes = [], set(), set()
    for _ in range(2 * len(demos) * int(DEMO_S)):  # two whole cycles, a tick per second
        clock.now += 1.0
        window.on_tick()
        seen_titles.append(window.title.text())
        seen_captions.add(window.caption.text())
        modes.add(window.session.mode)
    assert window.loop.visits[:len(demos) + 1] == list(range(len(demos))) + [0]
    for step in demos:
        assert any(step.title in title for title in seen_titles)
        assert len(captions(step)) >= 2
    assert len(seen_captions) >= sum(len(captions(s)) for s in demos)
    assert modes == {Mode.CC, Mode.VC}  # the voltage-clamp demo switched the mode
    assert not window.menuBar().isVisible() and not window.tabs.tabBar().isVisible()
    assert not window.panel.record_button.isEnabled()


def test_a_touch_pauses_and_idle_returns_to_the_loop(kiosk):
    window, clock = kiosk
    for _ in range(int(DEMO_S * 2.5)):
        clock.now += 1.0
        window.on_tick()
    assert window.loop.demo == 2
    window.touched()
    assert window.loop.state == "visitor" and window.title.text() == "Your turn"
    window.play(3)
    assert window.session.mode is Mode.VC
    clock.now += IDLE_S - 1
    window.on_tick()
    assert window.loop.state == "visitor"
    window.touched()  # still playing: the idle time starts again
    clock.now += IDLE_S - 1
    window.on_tick()
    assert window.loop.state == "visitor"
    clock.now += 2
    window.on_tick()
    assert window.loop.state == "attract" and window.loop.demo == 0


def test_errors_go_to_the_log_not_a_dialog(kiosk, tmp_path):
    window, _ = kiosk
    window.show_error("the pump broke")
    window.toggle_record()
    assert not window.session.recording
    for handler in window.log.handlers:
        handler.flush()
    assert "the pump broke" in (tmp_path / "kiosk.log").read_text()
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QDialog) and w.isVisible()]


def test_days_of_loop_keep_bounded_state():
    loop = KioskLoop(6, [3] * 6)
    loop.start(0.0)
    for second in range(1, 3 * 24 * 3600, 5):  # three days, a tick every 5 s
        loop.tick(float(second))
    assert len(loop.visits) == 100 and loop.state == "attract"
    assert abs(loop.demos_started - 3 * 24 * 3600 / loop.demo_s) <= 1  # one per 30 s


def test_the_slow_motion_demo_shows_the_gates_and_the_next_puts_them_away(kiosk, qtbot):
    window, _clock = kiosk
    titles = [step.title for step in window.demos.steps]
    slow = next(i for i, title in enumerate(titles) if "gates" in title)
    window.play(slow)
    assert window.session.speed == pytest.approx(0.01)
    assert window.teaching.gates.isVisible()
    gates = window.teaching.gates.widget()
    qtbot.waitUntil(lambda: gates.frame is not None, timeout=20_000)  # drawn from the model
    window.play(0)
    assert not window.teaching.gates.isVisible() and window.session.speed == 1.0
