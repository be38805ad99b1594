"""The stimulus designer: table <-> protocol, live preview, invalid entries, files, Run."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from rig import units
from rig.protocols.epochs import EPOCH_KINDS
from rig.protocols.protocol import load_protocol, protocol_from_dict, render_sweep
from rig.resources import preset_names
from ui.panels.epoch_table import column_letter, format_number, parse_cell
from ui.panels.stimulus_designer import StimulusDesigner

SHIPPED = preset_names("protocols")


@pytest.fixture
def designer(qtbot):
    widget = StimulusDesigner()
    qtbot.addWidget(widget)
    widget.resize(1100, 760)
    return widget


@pytest.fixture
def emitted(designer):
    """Every protocol the designer emits with protocolChanged."""
    seen = []
    designer.protocolChanged.connect(seen.append)
    return seen


def cell(designer, key, epoch):
    return designer.table.item(designer.table.row_of(key), epoch)


def type_into(qtbot, edit, text):
    """Replace a line edit's text the way a user does (textEdited fires)."""
    edit.selectAll()
    qtbot.keyClicks(edit, text) if text else qtbot.keyClick(edit, Qt.Key.Key_Delete)


def display(protocol, sweep):
    """A sweep's command in the preview's units (mV or pA)."""
    command = render_sweep(protocol, sweep).command
    return units.v_to_mv(command) if protocol.mode == "VC" else units.a_to_pa(command)


def wait_for_preview(qtbot, designer, protocol):
    """Wait until the preview shows every sweep of a protocol, last sweep highlighted."""
    preview = designer.preview

    def drawn():
        # the unit too: a mode switch keeps the numbers, so the curves alone can match
        # the preview of the protocol before it
        curves = preview.sweep_curves
        return (f"({protocol.units})" in preview.plot.getAxis("left").labelText
                and len(curves) == protocol.sweeps
                and np.array_equal(curves[-1].yData, display(protocol, protocol.sweeps - 1))
                and np.array_equal(preview.highlight_curve.yData,
                                   display(protocol, preview.highlighted_sweep())))

    qtbot.waitUntil(drawn, timeout=3000)


# -- loading ----------------------------------------------------------------------------


def test_default_is_vc_iv_family(designer):
    assert designer.protocol() == load_protocol("vc-iv-family")
    assert designer.run_button.isEnabled()


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_protocol_fills_the_table_and_the_preview(qtbot, designer, name):
    expected = load_protocol(name)
    assert designer.load_shipped(name)
    assert designer.protocol() == expected
    table = designer.table
    assert table.columnCount() == len(expected.epochs)
    for i, epoch in enumerate(expected.epochs):
        assert table.kind(i) == epoch.kind
        for key, value in epoch.values.items():
            assert float(cell(designer, key, i).text()) == value
    assert designer.holding_edit.text() == format_number(expected.holding)
    assert designer.holding_unit.text() == expected.units
    wait_for_preview(qtbot, designer, expected)
    assert designer.preview.highlighted_sweep() == expected.sweeps - 1
    for k, curve in enumerate(designer.preview.sweep_curves):
        assert np.array_equal(curve.yData, display(expected, k))
        assert curve.xData[1] == pytest.approx(1 / expected.sample_rate_khz)  # ms


def test_unknown_shipped_name_is_reported_and_changes_nothing(designer):
    before = designer.protocol()
    assert not designer.load_shipped("no-such-protocol")
    assert "unknown protocol preset" in designer.message_box.text()
    assert designer.protocol() == before


def test_set_protocol_refuses_a_dict(designer):
    with pytest.raises(TypeError, match="rig.protocols.protocol.Protocol"):
        designer.set_protocol(load_protocol("cc-ramp").to_dict())


# -- editing ----------------------------------------------------------------------------


def test_editing_a_level_updates_the_preview_and_emits(qtbot, designer):
    with qtbot.waitSignal(designer.protocolChanged, timeout=1000) as blocker:
        cell(designer, "level", 1).setText("-90")
    protocol = blocker.args[0]
    assert protocol.epochs[1].values["level"] == -90.0
    assert designer.protocol() == protocol
    wait_for_preview(qtbot, designer, protocol)
    assert designer.preview.sweep_curves[0].yData.min() == pytest.approx(-90.0)
    assert designer.preview.highlight_curve.yData.max() == pytest.approx(-90.0 + 14 * 10)


def test_header_edits_are_validated_after_typing(qtbot, designer):
    with qtbot.waitSignal(designer.protocolChanged, timeout=1000) as blocker:
        type_into(qtbot, designer.holding_edit, "-70")
    assert blocker.args[0].holding == -70.0


def test_changing_the_sweep_count_redraws_one_curve_per_sweep(qtbot, designer):
    with qtbot.waitSignal(designer.protocolChanged, timeout=1000) as blocker:
        designer.sweeps_spin.setValue(5)
    wait_for_preview(qtbot, designer, blocker.args[0])


def test_mode_switch_changes_units(qtbot, designer):
    with qtbot.waitSignal(designer.protocolChanged, timeout=1000) as blocker:
        designer.mode_combo.setCurrentIndex(designer.mode_combo.findData("CC"))
    assert blocker.args[0].mode == "CC"
    assert designer.holding_unit.text() == "pA"
    row = designer.table.row_of("level")
    assert designer.table.verticalHeaderItem(row).text() == "First level (pA)"
    wait_for_preview(qtbot, designer, blocker.args[0])
    assert "pA" in designer.preview.plot.getAxis("left").labelText


def test_kind_combo_offers_only_registered_kinds_and_shows_their_rows(qtbot, designer):
    table = designer.table
    combo = table.cellWidget(0, 2)
    assert isinstance(combo, QComboBox)
    assert [combo.itemText(i) for i in range(combo.count())] == list(EPOCH_KINDS)
    assert table.isRowHidden(table.row_of("frequency_hz"))
    with qtbot.waitSignal(designer.protocolChanged, timeout=1000) as blocker:
        combo.setCurrentText("sine")
    epoch = blocker.args[0].epochs[2]
    assert epoch.kind == "sine" and set(EPOCH_KINDS["sine"]) <= set(epoch.values)
    assert not table.isRowHidden(table.row_of("frequency_hz"))
    assert not cell(designer, "frequency_hz", 1).flags() & Qt.ItemFlag.ItemIsEditable
    assert cell(designer, "frequency_hz", 2).flags() & Qt.ItemFlag.ItemIsEditable
    # text in a cell that does not apply is kept, and ignored
    cell(designer, "amplitude", 2).setText("25")
    combo.setCurrentText("step")
    assert designer.protocol().epochs[2].kind == "step"
    assert cell(designer, "amplitude", 2).text() == "25"
    combo.setCurrentText("sine")
    assert designer.protocol().epochs[2].values["amplitude"] == 25.0


# -- invalid entries ----------------------------------------------------------------------

BAD_CELLS = [
    ("level", 1, "abc", "must be a number"),
    ("level", 1, "1,5", "must be a number"),
    ("duration_ms", 1, "-5", "outside the allowed"),
    ("level", 0, "nan", "outside the allowed"),
    ("level", 2, "inf", "outside the allowed"),
    ("level", 1, "-800", "outside the allowed"),
    ("duration_ms", 0, "", "missing field 'duration_ms'"),
    ("level_delta", 1, "50", "sweep 13: level becomes 520"),  # -80 + 12 * 50 mV
    ("duration_delta_ms", 1, "-2", "duration_ms becomes"),
]


@pytest.mark.parametrize("key, epoch, text, reason", BAD_CELLS)
def test_bad_cell_is_marked_in_place_and_blocks_run(qtbot, designer, emitted, key, epoch,
                                                    text, reason):
    original = designer.protocol()
    wait_for_preview(qtbot, designer, original)
    shown = designer.preview.highlight_curve.yData.copy()
    before = cell(designer, key, epoch).text()
    validity = []
    designer.validityChanged.connect(validity.append)

    cell(designer, key, epoch).setText(text)

    assert designer.protocol() is None
    assert not designer.run_button.isEnabled()
    assert validity == [False]
    assert emitted == []
    marks = designer.table.errors()
    assert [(m[0], m[1]) for m in marks] == [(epoch, key)]
    assert reason in marks[0][2]
    assert reason in cell(designer, key, epoch).toolTip()
    assert f"epoch {epoch + 1}" in cell(designer, key, epoch).toolTip()
    assert reason in designer.status_label.text()
    assert cell(designer, key, epoch).text() == text  # the typing is kept
    assert not designer.table.isRowHidden(designer.table.row_of(key))
    qtbot.mouseClick(designer.run_button, Qt.MouseButton.LeftButton)  # disabled: nothing
    assert np.array_equal(designer.preview.highlight_curve.yData, shown)  # last valid kept

    cell(designer, key, epoch).setText(before)
    assert designer.protocol() == original
    assert designer.run_button.isEnabled()
    assert validity == [False, True]
    assert designer.table.errors() == []
    assert cell(designer, key, epoch).toolTip() == ""


BAD_HEADERS = [
    ("holding_edit", "holding", "-65x", "must be a number"),
    ("holding_edit", "holding", "", "must be a number"),
    ("holding_edit", "holding", "900", "outside the allowed"),
    ("rate_edit", "sample_rate_khz", "0.01", "outside the allowed"),
    ("interval_edit", "sweep_interval_ms", "-1", "outside the allowed"),
]


@pytest.mark.parametrize("attribute, key, text, reason", BAD_HEADERS)
def test_bad_header_field_is_marked(qtbot, designer, emitted, attribute, key, text, reason):
    original = designer.protocol()
    edit = getattr(designer, attribute)
    before = edit.text()
    type_into(qtbot, edit, text)
    assert designer.protocol() is None
    assert not designer.run_button.isEnabled()
    errors = designer.header_errors()
    assert list(errors) == [key] and reason in errors[key]
    assert edit.property("invalid") is True
    assert edit.text() == text
    assert emitted == []
    type_into(qtbot, edit, before)
    assert designer.protocol() == original
    assert designer.header_errors() == {}
    assert designer.run_button.isEnabled()


def test_too_many_samples_is_reported_without_a_cell(qtbot, designer, emitted):
    type_into(qtbot, designer.rate_edit, "500")
    designer.sweeps_spin.setValue(5000)
    assert designer.protocol() is None
    assert "samples" in designer.status_label.text()
    assert not designer.run_button.isEnabled()
    assert emitted == []


# -- epochs -------------------------------------------------------------------------------


def test_add_remove_and_move_epochs(qtbot, designer):
    table = designer.table
    table.setCurrentCell(1, 1)
    with qtbot.waitSignal(designer.protocolChanged, timeout=1000) as blocker:
        qtbot.mouseClick(designer.add_button, Qt.MouseButton.LeftButton)
    epochs = blocker.args[0].epochs
    assert len(epochs) == 4 and table.columnCount() == 4
    assert epochs[2].kind == "step" and epochs[2].values["level"] == -80.0  # copied from B
    assert table.horizontalHeaderItem(3).text() == "D"

    cell(designer, "level", 2).setText("-20")
    table.setCurrentCell(1, 2)
    qtbot.mouseClick(designer.left_button, Qt.MouseButton.LeftButton)
    assert [e.values["level"] for e in designer.protocol().epochs] == [-65, -20, -80, -65]
    qtbot.mouseClick(designer.right_button, Qt.MouseButton.LeftButton)
    assert [e.values["level"] for e in designer.protocol().epochs] == [-65, -80, -20, -65]

    for count in (3, 2, 1):
        qtbot.mouseClick(designer.remove_button, Qt.MouseButton.LeftButton)
        assert len(designer.protocol().epochs) == count
    assert not designer.remove_button.isEnabled()
    qtbot.mouseClick(designer.remove_button, Qt.MouseButton.LeftButton)
    assert table.columnCount() == 1


def test_run_emits_the_protocol(qtbot, designer):
    cell(designer, "level", 1).setText("-100")
    with qtbot.waitSignal(designer.runRequested, timeout=1000) as blocker:
        qtbot.mouseClick(designer.run_button, Qt.MouseButton.LeftButton)
    assert blocker.args[0] == designer.protocol()
    assert blocker.args[0].epochs[1].values["level"] == -100.0


# -- files ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_save_then_open_round_trips_exactly(tmp_path, designer, name):
    designer.load_shipped(name)
    designer.table.cellWidget(0, 0).setCurrentText("train")  # exercise every field kind
    cell(designer, "level_delta", 0).setText("0.1")
    saved = designer.protocol()
    assert saved is not None
    path = tmp_path / "p.json"
    assert designer.save_file(path)
    assert path.read_text(encoding="utf-8") == saved.to_json()
    designer.load_shipped("vc-inactivation" if name != "vc-inactivation" else "cc-ramp")
    assert designer.open_file(path)
    assert designer.protocol() == saved
    assert protocol_from_dict(json.loads(path.read_text())) == saved


def test_empty_delta_and_zero_delta_both_round_trip(tmp_path, designer):
    data = load_protocol("vc-iv-family").to_dict()
    data["epochs"][0]["level_delta"] = 0
    path = tmp_path / "zero.json"
    path.write_text(json.dumps(data))
    assert designer.open_file(path)
    assert designer.protocol() == protocol_from_dict(data)
    assert cell(designer, "level_delta", 0).text() == "0"
    assert cell(designer, "level_delta", 2).text() == ""


HOSTILE = {
    "not-json.json": b"{ this is not json",
    "empty.json": b"",
    "list.json": b"[1, 2, 3]",
    "nan.json": b'{"format": "vrig-protocol", "version": 1, "holding": NaN}',
    "binary.json": b"\xff\xfe\x00garbage",
    "deep.json": b"[" * 200_000,
    "huge.json": b" " * 1_100_000 + b"{}",
    "wrong-format.json": json.dumps({"format": "something-else"}).encode(),
    "bad-kind.json": json.dumps({"format": "vrig-protocol", "version": 1, "mode": "VC",
                                 "epochs": [{"kind": "__import__('os')"}]}).encode(),
    "list-kind.json": json.dumps({"format": "vrig-protocol", "version": 1, "mode": "VC",
                                  "epochs": [{"kind": []}]}).encode(),
    "bad-value.json": json.dumps({"format": "vrig-protocol", "version": 1, "mode": "VC",
                                  "epochs": [{"kind": "step", "duration_ms": -1,
                                              "level": 0}]}).encode(),
}


@pytest.mark.parametrize("filename", sorted(HOSTILE))
def test_bad_file_shows_an_error_and_keeps_the_protocol(tmp_path, designer, emitted, filename):
    designer.load_shipped("cc-ramp")
    emitted.clear()
    before = designer.protocol()
    path = tmp_path / filename
    path.write_bytes(HOSTILE[filename])
    assert not designer.open_file(path)
    box = designer.message_box
    assert box is not None and box.isVisible()
    assert box.text() and box.text() in designer.status_label.text()
    assert designer.protocol() == before
    assert designer.table.columnCount() == len(before.epochs)
    assert emitted == []
    box.close()


def test_missing_file_and_unwritable_path_are_reported(tmp_path, designer):
    assert not designer.open_file(tmp_path / "nope.json")
    assert "does not exist" in designer.message_box.text()
    assert not designer.save_file(tmp_path / "no-dir" / "p.json")
    assert "cannot write" in designer.message_box.text()


def test_saving_to_a_fifo_or_a_read_only_file_is_refused_at_once(tmp_path, designer):
    """A FIFO used to block the window for ever; a read-only protocol is not replaced."""
    os.mkfifo(tmp_path / "pipe.json")
    assert not designer.save_file(tmp_path / "pipe.json")
    assert "not a regular file" in designer.message_box.text()
    (tmp_path / "ro.json").write_text("{}")
    (tmp_path / "ro.json").chmod(0o444)
    assert not designer.save_file(tmp_path / "ro.json")
    assert "read-only" in designer.message_box.text()
    assert (tmp_path / "ro.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.json", "ro.json"]


def test_an_invalid_protocol_is_not_saved(tmp_path, designer):
    cell(designer, "level", 0).setText("oops")
    assert not designer.save_file(tmp_path / "p.json")
    assert not (tmp_path / "p.json").exists()
    assert not designer.save_button.isEnabled()


# -- helpers and the picture ---------------------------------------------------------------


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_survive_the_table_text(value):
    assert parse_cell(format_number(value)) == value


def test_column_letters():
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 99)] == ["A", "B", "Z", "AA", "AB", "CV"]


def test_screenshot(qtbot, designer, tmp_path):
    designer.load_shipped("cc-paired-pulse")
    designer.show()
    qtbot.waitExposed(designer)
    wait_for_preview(qtbot, designer, designer.protocol())
    cell(designer, "duration_ms", 1).setText("-1")
    assert "last valid" in designer.preview.info.text()
    path = tmp_path / "designer.png"
    designer.grab().save(str(path))
    assert path.stat().st_size > 10_000
    if os.environ.get("VRIG_SCREENSHOT_DIR"):
        designer.grab().save(os.path.join(os.environ["VRIG_SCREENSHOT_DIR"], "designer.png"))
