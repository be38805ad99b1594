"""Starting the window for a prepared desktop: `vrig --version`, `--cell`, `--protocol`,
`--speed`, `--record`; SIGTERM closing it cleanly; the one-click stimulus."""

import contextlib
import os
import signal
import subprocess
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QTextBrowser

import rig
from rig.files.recording import load_recording
from ui import cli
from ui.app import close_on_signals
from ui.window.help import about_text
from ui.window.window_options import WindowOptions

WAIT_MS = 15_000


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == f"vrig {rig.__version__}\n"


@pytest.mark.parametrize("argv, words", [
    (["--cell", "nope"], "unknown cell"),
    (["--protocol", "nope"], "unknown protocol preset"),
    (["--speed", "3"], "invalid choice"),
    (["--record", "/no/such/folder/x.csv"], "does not exist"),
    (["screenshot", "x.png", "--holding-pa", "nan"],
     "--holding-pa nan is outside the allowed -5000 to 5000 pA"),
    (["screenshot", "x.png", "--seconds", "1e400"],
     "--seconds 1e400 is outside the allowed 0 to 600 s"),
])
def test_bad_window_options_are_one_line_before_any_window(capsys, argv, words):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vrig: error: ") and words in err


def test_an_unknown_screenshot_trace_is_one_line_and_writes_nothing(capsys, qapp, tmp_path):
    out = tmp_path / "x.png"
    assert cli.main(["screenshot", str(out), "--seconds", "0.1", "--traces", "INa,bogus"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown trace 'bogus' for --traces" in err
    assert "INa" in err and not out.exists()


def test_options_choose_the_cell_protocol_and_speed(make_window):
    window = make_window(options=WindowOptions(cell="model-cell", protocol="cc-threshold",
                                               speed=10.0))
    assert window.session.engine.cell.name == "model-cell"
    assert window.panel.cell_combo.currentText() == "model-cell"
    assert window.protocols.protocol().name == rig.load_protocol("cc-threshold").name
    assert window.session.speed == 10.0


def test_the_pulse_button_gives_its_pulse_in_the_trace(make_window, qtbot):
    window = make_window()
    chunks = []
    window.client.chunks.connect(chunks.extend)
    window.set_mode("CC")
    window.panel.stimulus.level.setValue(300.0)
    window.panel.stimulus.duration.setValue(2.0)
    qtbot.mouseClick(window.panel.stimulus.button, Qt.LeftButton)  # starts acquisition
    qtbot.waitUntil(lambda: sum(ch.n_samples for ch in chunks) > 5000, timeout=WAIT_MS)
    command = np.concatenate([ch.signals["command"] for ch in chunks])
    assert np.count_nonzero(np.isclose(command, 300e-12, rtol=1e-9, atol=0)) == 100
    assert np.concatenate([ch.signals["Vm"] for ch in chunks]).max() > 0.0  # it fired
    window.set_mode("I0")
    assert not window.panel.stimulus.isEnabled()


def test_sigterm_closes_the_window_without_asking(make_window, qtbot):
    window = make_window()
    old = {name: signal.getsignal(getattr(signal, name)) for name in ("SIGTERM", "SIGHUP",
                                                                       "SIGINT")}
    try:
        close_on_signals(window)
        signal.raise_signal(signal.SIGTERM)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=WAIT_MS)
        assert not window.client.runner._thread.is_alive()
        assert window.confirm_close is False
    finally:
        for name, handler in old.items():
            signal.signal(getattr(signal, name), handler)


def test_sigterm_to_a_recording_window_finishes_its_file(tmp_path):
    """The real `vrig --record` in a subprocess: SIGTERM while recording leaves a
    complete, loadable file."""
    target = tmp_path / "practical.csv"
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               QT_QPA_PLATFORM="offscreen")
    log = tmp_path / "stderr.txt"
    with open(log, "w") as stderr, subprocess.Popen(
            [sys.executable, "-m", "ui.cli", "--record", str(target), "--cell", "hh-squid"],
            env=env, stderr=stderr, stdout=subprocess.DEVNULL) as process:
        try:
            journal = tmp_path / "practical.csv.part"
            for _ in range(6000):  # up to a minute for the window to start recording
                if journal.exists() and journal.stat().st_size > 200_000:
                    break
                assert process.poll() is None, log.read_text()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=0.01)
            else:
                raise AssertionError("the recording did not start")
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, log.read_text()
    recording = load_recording(target)
    assert recording.sample_interval_s == pytest.approx(2e-5)
    assert recording.sweep_lengths.sum() > 1000
    # A first start is alive: 100 pA makes the squid membrane fire repetitively.
    assert np.nanmax(recording.signals["Vm"]) > 0.0
    assert recording.metadata["holding_CC_pA"] == "100"


def test_the_welcome_card_tries_each_thing_it_offers(make_window, qtbot):
    window = make_window()
    assert window.first_start
    window.set_holding("CC", 100.0)
    chunks = []
    window.client.chunks.connect(chunks.extend)
    dialog = window.help.show_welcome()
    assert "hh-squid" in dialog.findChild(QLabel).text()
    assert any("the cell rests at -65 mV" in label.text() for label in dialog.findChildren(QLabel))
    assert [b.text() for b in dialog.try_buttons] == [
        "1. Let it rest, then kick it", "2. Find the threshold", "3. Block the Na channels"]
    dialog.try_buttons[0].click()
    assert not dialog.isVisible()
    assert window.session.holding("CC") == 0.0 and window.session.mode == "CC"
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)

    window.help.show_welcome().try_buttons[2].click()
    assert window.bath.isVisible()
    qtbot.waitUntil(lambda: any(name == "TTX" and abs(target - 300e-9) < 1e-15
                                for ch in chunks[-5:] for name, _s, _now, target in ch.drugs),
                    timeout=WAIT_MS)

    window.help.show_welcome().try_buttons[1].click()
    qtbot.waitUntil(lambda: any(ch.kind == "sweep" for ch in chunks), timeout=WAIT_MS)
    assert window.session.protocol.name == rig.load_protocol("cc-threshold").name


def test_a_patch_starts_in_vc_and_its_welcome_card_offers_single_channels(make_window,
                                                                          qtbot):
    window = make_window(options=WindowOptions(cell="patch-na"))
    assert window.session.mode == "VC"  # a patch in CC would drift to E_Na
    chunks = []
    window.client.chunks.connect(chunks.extend)
    dialog = window.help.show_welcome()
    assert [b.text() for b in dialog.try_buttons] == [
        "1. See the channels open", "2. Average 200 sweeps", "3. Block with TTX"]
    assert "patch" in dialog.intro.text() and "voltage clamp" in dialog.intro.text()
    dialog.try_buttons[0].click()
    qtbot.waitUntil(lambda: any(ch.kind == "sweep" for ch in chunks), timeout=WAIT_MS)
    assert window.session.protocol.name == rig.load_protocol("vc-patch-na").name
    window.help.show_welcome().try_buttons[2].click()
    qtbot.waitUntil(lambda: any(name == "TTX" and abs(target - 10e-9) < 1e-16
                                for ch in chunks[-5:] for name, _s, _now, target in ch.drugs),
                    timeout=WAIT_MS)


def test_dont_show_again_is_remembered_and_help_has_a_guide_and_about(make_window):
    window = make_window()
    dialog = window.help.show_welcome()
    dialog.dont_show.setChecked(True)
    assert window.settings.value("welcome_at_start") == "false"
    assert window.help.show_welcome().dont_show.isChecked()
    guide = window.help.show_guide()
    assert "start or stop recording" in guide.findChild(QTextBrowser).toPlainText()
    assert f"vRig {rig.__version__}" in about_text()
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[-1] == "&Help"


def test_the_bath_dock_steps_aside_for_the_protocol_and_analysis_tabs(make_window):
    window = make_window()
    window.bath.show()
    for tab in (window.protocols, window.analysis):
        window.tabs.setCurrentWidget(tab)
        assert not window.bath.isVisible()
        assert (window.width(), window.height()) == (1280, 800)  # never past the screen
        window.tabs.setCurrentWidget(window.scopes)
        assert window.bath.isVisible()
        assert (window.width(), window.height()) == (1280, 800)
    window.bath.hide()  # closed by the user: it stays closed
    window.tabs.setCurrentWidget(window.protocols)
    window.tabs.setCurrentWidget(window.scopes)
    assert not window.bath.isVisible()
