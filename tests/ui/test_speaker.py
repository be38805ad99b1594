"""The speaker on the amplifier panel: disabled with a tooltip saying what to install
when this machine has no PortAudio or output device (as here), and, with a stream, fed
from the engine's blocks only while it is switched on, at the slider's volume."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from rig.files.audio import AUDIO_RATE_HZ
from rig.files.audio_live import open_output
from ui.teaching.speaker import SpeakerControl

WAIT_MS = 20_000


def test_without_a_sound_output_the_control_is_disabled_and_says_why(window, qtbot):
    control = window.teaching.speaker
    assert control.parent() is not None and control.isVisible()
    if open_output(control.monitor)[0] is None:  # no PortAudio or device here
        assert not control.available
        assert not control.switch.isEnabled() and not control.volume.isEnabled()
        assert control.switch.toolTip().startswith("No audio:")
    window.start()  # and the rig runs on, silent
    qtbot.waitUntil(lambda: window.client.received_chunks > 3, timeout=WAIT_MS)


class _Stream:
    closed = False

    def close(self):
        self.closed = True


def test_blocks_reach_the_speaker_only_while_it_is_on(window, qtbot):
    stream = _Stream()
    control = SpeakerControl(window, opener=lambda: (stream, ""))
    assert control.available and control.switch.isEnabled()
    assert control.switch.text() == "Sound off" and control.monitor.muted
    window.start()
    qtbot.waitUntil(lambda: window.client.received_chunks > 3, timeout=WAIT_MS)
    assert control.monitor.ring.queued() == 0  # off: nothing queued
    control.switch.click()
    assert not control.monitor.muted and control.switch.text() == "Sound on"
    qtbot.waitUntil(lambda: control.monitor.ring.queued() > AUDIO_RATE_HZ // 100,
                    timeout=WAIT_MS)
    control.volume.setValue(20)
    assert control.monitor.volume == pytest.approx(0.2)
    assert window.settings.value("speaker_on") == "true"
    out = np.zeros(512, dtype=np.float32)
    control.monitor.fill(out)
    assert np.all(np.isfinite(out)) and np.max(np.abs(out)) <= 0.2 + 1e-6
    control.close_stream()
    assert stream.closed and not control.available


def test_the_speed_list_reaches_a_hundredth_of_real_time(window):
    combo = window.panel.speed_combo
    combo.setCurrentIndex(combo.findData(0.01))
    assert window.session.speed == pytest.approx(0.01)


def test_the_gates_dock_follows_the_model_at_a_hundredth_of_real_time(window, qtbot):
    dock = window.teaching.gates
    assert not dock.isVisible()
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    assert dock.toggleViewAction() in view_menu.actions()
    dock.show()
    view = dock.widget()
    window.set_holding("CC", 100.0)  # firing
    window.panel.speed_combo.setCurrentIndex(window.panel.speed_combo.findData(0.01))
    window.start()
    qtbot.waitUntil(lambda: view.frame is not None, timeout=WAIT_MS)
    first = view.frame.time_s
    qtbot.waitUntil(lambda: view.frame.time_s > first + 0.002, timeout=WAIT_MS)
    engine_values = view.frame.values
    assert set(engine_values) == {"m", "h", "n"}
    assert all(0.0 <= v <= 1.0 for v in engine_values.values())
    assert view.grab().width() > 0  # paints without error
