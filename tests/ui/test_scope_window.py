"""The scopes inside the real window at 1280x800: the value under the mouse never
widens the window, the episodic controls follow a protocol run, and a loaded recording
can be shown and exported."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QPoint

from tests.ui.test_scope_area import synthetic_recording


@pytest.fixture
def window(make_window, qtbot):
    win = make_window()
    qtbot.waitExposed(win)
    return win


def _hover_every_plot(qtbot, scope):
    for plot in scope.plots.values():
        if plot.scene() is None:
            continue
        rect = plot.sceneBoundingRect()
        for fx, fy in ((0.1, 0.1), (0.5, 0.5), (0.95, 0.9)):
            scene = rect.topLeft() + QPoint(int(rect.width() * fx), int(rect.height() * fy))
            qtbot.mouseMove(scope.viewport(), scope.mapFromScene(scene))


def test_the_mouse_readout_cannot_widen_the_window(window, qtbot, qapp):
    scopes = window.scopes
    scopes.set_visible_traces(["INa", "IK", "gNa", "m", "h", "n"])
    for plot in scopes.scope.plots.values():  # long values under the mouse
        plot.setYRange(-123456.789e-3, 987654.321e-3, padding=0)
    _hover_every_plot(qtbot, scopes.scope)
    qapp.processEvents()
    assert scopes.cursor_label.text().startswith("t = ")
    scopes.cursor_label.setText("t = 123.456789 ms   " + "Im = -123.456 nA   " * 20)
    qapp.processEvents()
    assert window.width() == 1280
    assert window.minimumSizeHint().width() <= 1280
    # and with the sweep legend, the cursors and their readout shown
    window.scopes.show_recording(synthetic_recording("cc-paired-pulse"))
    scopes.cursors_button.click()
    _hover_every_plot(qtbot, scopes.scope)
    qapp.processEvents()
    assert window.width() == 1280 and window.minimumSizeHint().width() <= 1280


def test_a_recording_shown_in_the_window_exports(window, tmp_path):
    window.scopes.show_recording(synthetic_recording("vc-iv-family"))
    assert window.scopes.side.legend.labels()[5] == " 5  -40 mV"
    assert not window.scopes.display_combo.isEnabled()
    assert window.scopes.scope.plots["command"].getAxis("left").labelUnits == "V"
    path = window.scopes.export(tmp_path / "iv.pdf")
    assert path.read_bytes().startswith(b"%PDF-")
