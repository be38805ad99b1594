"""File > Open recording: a recording from `vrig run` (or the window) comes back into
the scopes and the Analysis tab, read off the GUI thread; a bad file is one message."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

import rig

WAIT_MS = 20_000


@pytest.fixture
def window(make_window):
    win = make_window()
    yield win
    win.opener.wait(30)  # a file still being read finishes before the window closes


@pytest.mark.parametrize("suffix", [".abf", ".npz", ".csv"])
def test_a_threshold_recording_opens_into_the_scopes_and_the_analysis(window, qtbot,
                                                                      tmp_path, suffix):
    path = tmp_path / f"threshold{suffix}"
    rig.Rig.from_presets("hh-squid").run(rig.load_protocol("cc-threshold")).save(path)
    with qtbot.waitSignal(window.opener.loaded, timeout=WAIT_MS):
        assert window.opener.open(path)
    assert window.tabs.currentWidget() is window.scopes
    assert len(window.scopes.legend_entries()) == 12
    result = window.analysis.result
    assert result.fact("rheobase") == pytest.approx(70.0, abs=0.01)  # pA: sweep 6 fires
    assert result.fact("first_firing_sweep") == 6
    assert f"opened threshold{suffix}: 12 sweep(s)" in window.statusBar().currentMessage()


@pytest.mark.parametrize("content", [b"", b"ABF \x00garbage" * 10, b"\xff" * 3000])
def test_a_bad_file_is_one_message_and_changes_nothing(window, qtbot, tmp_path, content):
    path = tmp_path / "bad.abf"
    path.write_bytes(content)
    with qtbot.waitSignal(window.opener.failed, timeout=WAIT_MS) as failed:
        window.opener.open(path)
    assert "bad.abf" in failed.args[0]
    window.opener.failed.emit(failed.args[0])  # shown like any error
    assert "bad.abf" in window.last_error
