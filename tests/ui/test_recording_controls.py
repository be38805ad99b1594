"""Recording from the real window: at 10x for a simulated minute every sample reaches
the file at the chosen rate and signals; a stalled disk never freezes the window; one
file per run; settings validated; a crash's journals recovered at start."""

import json
import logging
import os
import threading

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtCore import Qt

from rig.analysis.sweep_family import SweepFamily
from rig.files import journal as jn
from rig.files.recording import load_recording
from ui.panels.recording_settings import RecordingSettings, RecordingSettingsDialog

WAIT_MS = 60_000
TEN_X = 5  # index of 10x in the speed combo


class Collector:
    """Every chunk and event the window receives, in order."""

    def __init__(self, window):
        self.chunks = []
        self.events = []
        window.client.chunks.connect(self.chunks.extend)
        window.client.event.connect(self.events.append)


def joined(chunks, name):
    return np.concatenate([c.signals[name] for c in chunks])


def abf_tolerance(values):
    """Half a count of the channel's 16-bit range plus float32 rounding (journal and header)."""
    return np.ptp(values) / 128000 + np.max(np.abs(values)) * 2.0 ** -22


def settled(window, qtbot):
    """Wait until the window has seen the recording end and its files finish."""
    qtbot.waitUntil(lambda: window.recording.recorder is None and not window.recording.finishing,
                    timeout=WAIT_MS)


# --- the proof ------------------------------------------------------------------------

def test_recording_at_10x_for_a_simulated_minute(make_window, qtbot, tmp_path):
    pyabf = pytest.importorskip("pyabf")
    window = make_window()
    signals = ("Vm", "Im", "command", "INa")
    window.recording.apply_settings(RecordingSettings(tmp_path, "tenx", ".abf", signals, 20.0))
    window.panel.speed_combo.setCurrentIndex(TEN_X)
    window.set_holding("CC", 120.0)  # firing: a signal worth recording
    got = Collector(window)
    window.start()
    qtbot.waitUntil(lambda: bool(got.chunks) and got.chunks[-1].sample_interval_s == 5e-5,
                    timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_R)
    first = len(got.chunks)
    assert window.recording.is_recording and window.panel.record_lamp.on
    qtbot.waitUntil(lambda: len(got.chunks) > first
                    and got.chunks[-1].time_s - got.chunks[first].time_s >= 60.0, timeout=120_000)
    qtbot.keyClick(window, Qt.Key_R)
    recorded = got.chunks[first:]
    assert not window.recording.is_recording and not window.panel.record_lamp.on
    settled(window, qtbot)
    assert [p.name for p in tmp_path.iterdir() if p.suffix in (".abf", ".part")] == ["tenx.abf"]
    back = load_recording(tmp_path / "tenx.abf")
    interval = recorded[0].sample_interval_s
    duration = recorded[-1].time_s - recorded[0].time_s + recorded[0].n_samples * interval
    assert duration >= 60.0
    assert back.sample_interval_s == 5e-5
    assert back.n_sweeps == 1
    assert back.sweep_lengths[0] == sum(c.n_samples for c in recorded) == round(duration * 20e3)
    assert list(back.signals) == list(signals)
    for name in signals:
        expected = joined(recorded, name)
        np.testing.assert_allclose(back.sweep(name, 0), expected, rtol=0,
                                   atol=abf_tolerance(expected), err_msg=name)
    assert back.metadata["sample_rate_kHz"] == "20" and back.metadata["mode"] == "CC"
    assert back.metadata["speed"] == "10x" and back.metadata["holding"] == "120 pA"
    abf = pyabf.ABF(str(tmp_path / "tenx.abf"))
    assert abf.dataRate == 20_000 and abf.channelCount == 4
    assert abf.sweepPointCount == back.sweep_lengths[0]


class StalledDisk:
    """Journal files whose writes block until released."""

    def __init__(self):
        self.release = threading.Event()
        self.blocked = threading.Event()

    def open(self, path):
        disk = self
        handle = open(path, "xb")  # noqa: SIM115 - the recorder closes it

        class Handle:
            def write(self, data):
                disk.blocked.set()
                assert disk.release.wait(120), "the test never released the disk"
                return handle.write(data)

            def __getattr__(self, name):
                return getattr(handle, name)

        return Handle()


def test_a_stalled_disk_never_freezes_the_window(make_window, qtbot, tmp_path):
    disk = StalledDisk()
    window = make_window()
    window.recording.apply_settings(RecordingSettings(tmp_path, "stall", ".npz"))
    window.recording.recorder_options = {"opener": disk.open}
    window.panel.speed_combo.setCurrentIndex(TEN_X)
    got = Collector(window)
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_R)
    first = len(got.chunks)
    qtbot.waitUntil(disk.blocked.is_set, timeout=WAIT_MS)  # the writer is stuck from now on
    scope = window.scopes.scope
    chunks0, frames0 = len(got.chunks), scope.frames
    qtbot.waitUntil(lambda: len(got.chunks) > chunks0 + 100 and scope.frames > frames0 + 10,
                    timeout=WAIT_MS)  # the GUI drains and draws while the disk is stalled
    qtbot.keyClick(window, Qt.Key_R)  # R answers at once
    last = len(got.chunks)
    assert not window.recording.is_recording and not window.panel.record_lamp.on
    assert window.recording.finishing[0].status().state == "finishing"
    assert not disk.release.is_set()
    qtbot.keyClick(window, Qt.Key_Space)  # and so does Stop
    qtbot.waitUntil(lambda: not window.session.running, timeout=WAIT_MS)
    assert not window.panel.run_lamp.on
    disk.release.set()
    settled(window, qtbot)
    back = load_recording(tmp_path / "stall.npz")
    recorded = got.chunks[first:last]
    np.testing.assert_array_equal(back.sweep("Vm", 0), joined(recorded, "Vm").astype(np.float32))
    assert "saved stall.npz" in window.statusBar().currentMessage()


def test_protocol_runs_get_their_own_files_with_the_protocol(make_window, qtbot, tmp_path):
    window = make_window()
    window.recording.apply_settings(RecordingSettings(tmp_path, "cell", ".abf"))
    window.session.speed = None
    got = Collector(window)
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_R)
    qtbot.waitUntil(lambda: len(got.chunks) > 20, timeout=WAIT_MS)
    protocol = window.protocols.load_shipped("vc-iv-family")
    window.run_protocol(protocol)
    qtbot.waitUntil(lambda: "protocol_done" in [e.kind for e in got.events], timeout=WAIT_MS)
    done = len(got.chunks)
    qtbot.waitUntil(lambda: len(got.chunks) > done + 20, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_R)
    settled(window, qtbot)
    before, run, after = (load_recording(tmp_path / n)
                          for n in ("cell.abf", "cell-2.abf", "cell-3.abf"))
    assert before.metadata["acquisition"] == "continuous" and before.metadata["mode"] == "CC"
    assert before.metadata["sample_rate_kHz"] == "50"
    assert run.metadata["acquisition"] == "episodic" and run.n_sweeps == protocol.sweeps
    assert json.loads(run.metadata["protocol_json"]) == protocol.to_dict()
    assert list(run.sweep_lengths) == [protocol.sweep_samples(k) for k in range(protocol.sweeps)]
    family = SweepFamily.from_recording(run)  # the analysis finds the epochs
    assert family.epoch_span(3, 1)[0] == pytest.approx(0.010)
    sweeps = [c for c in got.chunks if c.kind == "sweep" and c.sweep == 5]
    np.testing.assert_allclose(run.sweep("command", 5), joined(sweeps, "command"), atol=2e-6)
    assert after.metadata["acquisition"] == "continuous" and after.metadata["mode"] == "VC"
    events = [e["text"] for e in json.loads(run.metadata["events"])]
    assert any(text.startswith("protocol started") for text in events)


def test_rec_while_stopped_starts_acquisition_and_closing_finishes(make_window, qtbot, tmp_path):
    window = make_window()
    window.recording.apply_settings(RecordingSettings(tmp_path, "closing", ".npz"))
    assert not window.session.running
    qtbot.mouseClick(window.panel.record_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.recording.recorder.status().simulated_s > 0.2, timeout=WAIT_MS)
    window.close()  # while recording, the user is asked first; the window stays
    assert window.isVisible() and window.recording.is_recording
    question = window.quit_question
    keep = next(b for b in question.buttons() if b.text() == "Keep recording")
    keep.click()
    assert window.isVisible() and window.recording.is_recording
    window.close()
    finish = next(b for b in window.quit_question.buttons()
                  if b.text() == "Finish recording and quit")
    finish.click()  # closing waits until the files are final
    assert not window.isVisible()
    assert not list(tmp_path.glob("*.part"))
    assert load_recording(tmp_path / "closing.npz").sweep_lengths[0] >= 0.2 * 50_000


@pytest.mark.parametrize("below", ["", "sub/folder"])
def test_a_recording_folder_that_is_a_file_says_so(make_window, tmp_path, below):
    """Rec with the folder set to a file (or under one) says which file is in the way,
    not 'File exists' or 'Not a directory'; nothing starts and the file is untouched."""
    window = make_window()
    (tmp_path / "notes.txt").write_text("keep")
    folder = tmp_path / "notes.txt" / below if below else tmp_path / "notes.txt"
    window.recording.apply_settings(RecordingSettings(folder, "x", ".npz"))
    errors = []
    window.recording.error.connect(errors.append)
    assert window.recording.start() is None
    assert errors == [f"cannot record: cannot create the recording folder {folder}: "
                      f"{tmp_path / 'notes.txt'} is a file, not a folder; choose another "
                      "folder in Recording settings"]
    assert not window.recording.is_recording
    assert (tmp_path / "notes.txt").read_text() == "keep"


def test_stopping_acquisition_ends_the_recording(make_window, qtbot, tmp_path):
    window = make_window()
    window.recording.apply_settings(RecordingSettings(tmp_path, "stop", ".csv"))
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    assert window.recording.start() == tmp_path
    qtbot.waitUntil(lambda: window.recording.recorder.status().simulated_s > 0.1, timeout=WAIT_MS)
    window.stop()
    qtbot.waitUntil(lambda: not window.recording.is_recording, timeout=WAIT_MS)
    settled(window, qtbot)
    back = load_recording(tmp_path / "stop.csv")
    assert set(back.signals) == {"Vm", "Im", "command"}
    assert np.all(np.abs(back.sweep("Vm", 0) + 0.065) < 0.005)  # resting near -65 mV


def test_a_full_disk_is_reported_and_the_data_kept(make_window, qtbot, tmp_path):
    window = make_window()
    window.recording.apply_settings(RecordingSettings(tmp_path, "full", ".abf"))
    room = {"bytes": 200_000}

    def opener(path):
        handle = open(path, "xb")  # noqa: SIM115 - the recorder closes it

        class Handle:
            def write(self, data):
                if len(data) > room["bytes"]:
                    handle.write(bytes(data)[: room["bytes"]])
                    room["bytes"] = 0
                    raise OSError(28, "No space left on device")
                room["bytes"] -= len(data)
                return handle.write(data)

            def __getattr__(self, name):
                return getattr(handle, name)

        return Handle()

    window.recording.recorder_options = {"opener": opener}
    window.start()
    qtbot.waitUntil(lambda: window.session.running, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key_R)
    assert window.recording.is_recording, window.last_error
    settled(window, qtbot)  # the recorder stopped by itself; the window saw it
    assert not window.panel.record_lamp.on
    assert "No space left" in window.last_error and "full.abf" in window.last_error
    back = load_recording(tmp_path / "full.abf")
    assert 0 < back.sweep_lengths[0] <= 200_000 // 12


# --- settings and recovery ------------------------------------------------------------------

def test_bad_settings_are_dropped_with_a_log_line(make_window, settings, tmp_path, caplog):
    settings.setValue("record_folder", ["/a", "/b"])  # Qt reads "/a, /b" as a list
    settings.setValue("record_format", ".txt")
    settings.setValue("record_rate_khz", "7")
    settings.setValue("record_signals", "Vm; rm -rf")
    settings.setValue("record_base_name", "../escape")
    settings.sync()
    with caplog.at_level(logging.WARNING, logger="vrig.settings"):
        window = make_window()
    loaded = window.recording.settings
    assert loaded == RecordingSettings(loaded.folder)  # every default
    dropped = " ".join(r.getMessage() for r in caplog.records)
    for key in ("record_folder", "record_format", "record_rate_khz", "record_signals",
                "record_base_name"):
        assert key in dropped


def test_settings_survive_a_restart_and_the_rate_reaches_the_runner(make_window, qtbot, tmp_path):
    first = make_window()
    chosen = RecordingSettings(tmp_path, "practical", ".npz", ("Vm", "command", "m"), 10.0)
    first.recording.apply_settings(chosen)
    first.close()
    second = make_window()
    assert second.recording.settings == chosen
    got = Collector(second)
    second.start()
    qtbot.waitUntil(lambda: len(got.chunks) > 3, timeout=WAIT_MS)
    assert all(c.sample_interval_s == 1e-4 for c in got.chunks)
    assert second.recording.status_widget.file_label.text() == "next: practical.npz"


def test_the_dialog_edits_and_validates(qtbot, tmp_path):
    start = RecordingSettings(tmp_path, "", ".abf")
    dialog = RecordingSettingsDialog(start,
                                     [("Vm", "V"), ("Im", "A"), ("INa", "A"), ("command", "")])
    qtbot.addWidget(dialog)
    dialog.name_edit.setText("cell 7")
    dialog.format_combo.setCurrentIndex(dialog.format_combo.findData(".npz"))
    dialog.rate_combo.setCurrentIndex(dialog.rate_combo.findData(100.0))
    items = {dialog.signal_list.item(i).data(Qt.UserRole): dialog.signal_list.item(i)
             for i in range(dialog.signal_list.count())}
    assert dialog.signal_list.item(0).text() == "Vm (mV)"
    assert dialog.size_label.text().startswith("about 8.64 GB per hour")  # 3 x 100 kHz x 8 B
    items["INa"].setCheckState(Qt.Checked)
    items["Im"].setCheckState(Qt.Unchecked)
    assert dialog.settings() == RecordingSettings(tmp_path, "cell 7", ".npz",
                                                  ("Vm", "INa", "command"), 100.0)
    for item in items.values():
        item.setCheckState(Qt.Unchecked)
    dialog.accept()
    assert "at least one signal" in dialog.error_label.text()
    assert dialog.result() != RecordingSettingsDialog.Accepted
    items["Vm"].setCheckState(Qt.Checked)
    dialog.name_edit.setText("a/b")
    dialog.accept()
    assert "may not" in dialog.error_label.text()
    assert dialog.result_settings() == start


def test_journals_a_crash_left_are_recovered_at_start(make_window, settings, qtbot, tmp_path):
    names, units = ("Vm", "Im"), {"Vm": "V", "Im": "A"}
    frames = np.column_stack([np.linspace(-0.07, 0.03, 400), np.zeros(400)]).astype("<f4")
    journal = tmp_path / "crash-2.abf.part"
    journal.write_bytes(jn.encode_header(names, units, 2e-5, "continuous", {"cell": "hh-squid"},
                                         "crash-2.abf") + jn.encode_data(0, 0, frames)[:-7])
    settings.setValue("record_folder", str(tmp_path))
    window = make_window()
    qtbot.waitUntil(lambda: (tmp_path / "crash-2.abf").exists() and not journal.exists(),
                    timeout=WAIT_MS)
    qtbot.waitUntil(lambda: "recovered" in window.statusBar().currentMessage(), timeout=WAIT_MS)
    assert "crash-2.abf (399 samples)" in window.statusBar().currentMessage()
    back = load_recording(tmp_path / "crash-2.abf")
    np.testing.assert_allclose(back.sweep("Vm", 0), frames[:399, 0], atol=2e-6)
