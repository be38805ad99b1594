"""The stimulus (protocol) designer: header fields, the epoch table, a live preview of
every sweep's command, shipped protocols, open/save, and Run.

Every edit is validated by :func:`rig.protocols.protocol.protocol_from_dict` -- the same code that
checks a protocol file -- and previewed with :func:`rig.protocols.protocol.render_sweep`, the
function the engine uses, so what the preview shows is what the rig will apply. An
invalid entry is marked where it is (red cell or field, the reason as its tooltip and in
the status line), Run is disabled, nothing is emitted and the preview keeps the last
valid protocol. The user's text is never replaced on error.

Units: header and table in file units (levels in mV for VC, pA for CC and I0; times in
ms; sample rate in kHz); the preview in ms and mV or pA.
"""

import re
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rig import resources
from rig.clamp import Mode
from rig.errors import VrigError
from rig.files.output_files import atomic_output, check_target
from rig.protocols.protocol import (
    FORMAT,
    MAX_SWEEPS,
    VERSION,
    Protocol,
    protocol_from_dict,
)
from ui.look import theme
from ui.panels.epoch_table import MAX_EPOCHS, EpochTable, format_number, parse_cell
from ui.panels.sweep_preview import SweepPreview

DEFAULT_PROTOCOL = "vc-iv-family"
VALIDATE_DELAY_MS = 120  # debounce of typing in the header fields
PREVIEW_DELAY_MS = 40  # debounce of redrawing the preview
DESCRIPTION_LINES = 3
DESIGNER_STYLE = """
*[invalid="true"] { background-color: #7a2323; color: #ffffff; }
QLabel#designerStatus[error="true"] { color: #ff8a80; }
QTableWidget#epochTable { background: #1b1f24; color: #e5e9f0; gridline-color: #323943;
                          selection-background-color: #2f4a66; }
QTableWidget#epochTable QHeaderView { background: #20252b; }
QTableWidget#epochTable QHeaderView::section { background: #20252b; color: #aab4c3;
                                               border: 1px solid #2c323a; padding: 2px 6px; }
QTableWidget#epochTable QTableCornerButton::section { background: #20252b; border: 0; }
"""  # only what the app-wide stylesheet has no rule for: error marks and the table


class StimulusDesigner(QWidget):
    """Edits a protocol as a Clampex-style epoch table with a live preview.

    protocolChanged(Protocol) after each edit that leaves a valid, different protocol;
    runRequested(Protocol) when Run is clicked; validityChanged(bool) when the entries
    become valid or invalid.
    """

    protocolChanged = Signal(object)
    runRequested = Signal(object)
    validityChanged = Signal(bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("stimulusDesigner")
        theme.set_style(self, DESIGNER_STYLE)
        self._protocol = None  # the last valid protocol (what the preview shows)
        self._valid = False
        self._path = None  # the file Save writes to
        self._marked = []  # header widgets showing an error
        self.message_box = None  # the last error message box (non-blocking)
        self._validate_timer = self._single_shot(VALIDATE_DELAY_MS, self._validate)
        self._preview_timer = self._single_shot(PREVIEW_DELAY_MS, self._redraw_preview)
        self._build()
        self.load_shipped(DEFAULT_PROTOCOL)

    def _single_shot(self, delay_ms, slot):
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(delay_ms)
        timer.timeout.connect(slot)
        return timer

    # -- layout ------------------------------------------------------------------------

    def _build(self):
        self.shipped_combo = QComboBox()
        self.shipped_combo.setObjectName("shippedProtocols")
        self.shipped_combo.setPlaceholderText("Shipped protocols…")
        self.shipped_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for name in resources.preset_names("protocols"):
            self.shipped_combo.addItem(name, name)
        self.shipped_combo.activated.connect(
            lambda index: self.load_shipped(self.shipped_combo.itemData(index)))
        self.open_button = self._button("Open…", "openButton", self._open_dialog)
        self.save_button = self._button("Save", "saveButton", self._save)
        self.save_as_button = self._button("Save As…", "saveAsButton", self._save_as_dialog)
        self.source_label = QLabel()
        self.source_label.setObjectName("protocolSource")
        files = QHBoxLayout()
        for widget in (self.shipped_combo, self.open_button, self.save_button,
                       self.save_as_button):
            files.addWidget(widget)
        files.addWidget(self.source_label, 1)

        self.name_edit = self._line_edit("protocolName")
        self.name_edit.setMinimumWidth(220)
        # The description is the handout: shown whole, wrapped, over a few lines.
        self.description_edit = QPlainTextEdit()
        self.description_edit.setObjectName("protocolDescription")
        self.description_edit.setPlaceholderText("What the protocol shows (optional): "
                                                 "the handout students read")
        self.description_edit.setTabChangesFocus(True)
        self.description_edit.setFixedHeight(
            self.description_edit.fontMetrics().lineSpacing() * DESCRIPTION_LINES + 14)
        self.description_edit.textChanged.connect(self._schedule_validation)
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("protocolMode")
        for mode in Mode:
            self.mode_combo.addItem(f"{mode} ({mode.level_unit})", mode.value)
        self.mode_combo.currentIndexChanged.connect(self._on_mode_changed)
        self.holding_edit = self._line_edit("holdingEdit", width=70)
        self.holding_unit = QLabel("mV")
        self.holding_unit.setObjectName("holdingUnit")
        self.rate_edit = self._line_edit("sampleRateEdit", width=60)
        self.sweeps_spin = QSpinBox()
        self.sweeps_spin.setObjectName("sweepsSpin")
        self.sweeps_spin.setRange(1, MAX_SWEEPS)
        self.sweeps_spin.valueChanged.connect(self._schedule_validation)
        self.interval_edit = self._line_edit("sweepIntervalEdit", width=70)
        self._header_fields = {"name": self.name_edit, "description": self.description_edit,
                               "mode": self.mode_combo, "holding": self.holding_edit,
                               "sample_rate_khz": self.rate_edit, "sweeps": self.sweeps_spin,
                               "sweep_interval_ms": self.interval_edit}
        files.insertSpacing(files.count() - 1, 12)
        files.insertWidget(files.count() - 1, QLabel("Name"))
        files.insertWidget(files.count() - 1, self.name_edit, 2)
        description = QHBoxLayout()
        self._add_labelled(description, "Description", self.description_edit, stretch=1)
        numbers = QHBoxLayout()
        self._add_labelled(numbers, "Mode", self.mode_combo)
        self._add_labelled(numbers, "Holding", self.holding_edit, self.holding_unit)
        self._add_labelled(numbers, "Sample rate", self.rate_edit, QLabel("kHz"))
        self._add_labelled(numbers, "Sweeps", self.sweeps_spin)
        self._add_labelled(numbers, "Interval", self.interval_edit, QLabel("ms"))
        numbers.addStretch(1)

        self.table = EpochTable()
        self.table.edited.connect(self._validate)
        self.table.rowsShown.connect(self._fit_table)
        self.add_button = self._button("Add epoch", "addEpochButton", self.table.add_epoch)
        self.remove_button = self._button("Remove epoch", "removeEpochButton",
                                          self.table.remove_epoch)
        self.left_button = self._button("◀ Move", "moveLeftButton",
                                        lambda: self.table.move_epoch(-1))
        self.right_button = self._button("Move ▶", "moveRightButton",
                                         lambda: self.table.move_epoch(+1))
        edit_row = QHBoxLayout()
        edit_row.addWidget(QLabel("Epochs"))
        edit_row.addStretch(1)
        for widget in (self.add_button, self.remove_button, self.left_button,
                       self.right_button):
            edit_row.addWidget(widget)
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addLayout(edit_row)
        table_layout.addWidget(self.table, 1)

        self.preview = SweepPreview()
        self.splitter = splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("designerSplitter")
        splitter.addWidget(table_box)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)

        self.status_label = QLabel()
        self.status_label.setObjectName("designerStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.run_button = self._button("Run", "runButton", self._on_run)
        self.run_button.setMinimumWidth(90)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.run_button)

        layout = QVBoxLayout(self)
        layout.addLayout(files)
        layout.addLayout(description)
        layout.addLayout(numbers)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

    def _button(self, text, name, slot):
        button = QPushButton(text)
        button.setObjectName(name)
        button.clicked.connect(slot)
        return button

    def _line_edit(self, name, width=None):
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.textEdited.connect(self._schedule_validation)
        if width:
            edit.setFixedWidth(width)
        return edit

    @staticmethod
    def _add_labelled(layout, text, widget, unit=None, stretch=0):
        """Add 'text [widget] unit' to a row, with a gap before the next field."""
        label = QLabel(text)
        label.setBuddy(widget)
        layout.addWidget(label)
        layout.addWidget(widget, stretch)
        if unit is not None:
            layout.addWidget(unit)
        layout.addSpacing(12)

    # -- public API ----------------------------------------------------------------------

    def protocol(self):
        """The protocol the entries describe, or None while any entry is invalid."""
        if self._validate_timer.isActive():
            self._validate()
        return self._protocol if self._valid else None

    def set_protocol(self, protocol):
        """Show a validated rig.protocols.protocol.Protocol in the header and the table."""
        if not isinstance(protocol, Protocol):
            raise TypeError("set_protocol needs a rig.protocols.protocol.Protocol, "
                            f"got {type(protocol).__name__}")
        widgets = list(self._header_fields.values())
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.name_edit.setText(protocol.name)
            self.description_edit.setPlainText(protocol.description)
            self.mode_combo.setCurrentIndex(list(Mode).index(protocol.mode))
            self.holding_edit.setText(format_number(protocol.holding))
            self.rate_edit.setText(format_number(protocol.sample_rate_khz))
            self.sweeps_spin.setValue(protocol.sweeps)
            self.interval_edit.setText(format_number(protocol.sweep_interval_ms))
        finally:
            for widget in widgets:
                widget.blockSignals(False)
        self._show_units()
        self.table.set_epochs(protocol.epochs)
        self.name_edit.setCursorPosition(0)
        self._validate()

    def load_shipped(self, name):
        """Load a protocol from resources/protocols by name; False (and a message) on error."""
        try:
            protocol = protocol_from_dict(resources.load_preset("protocols", name))
        except VrigError as exc:
            self._show_error("Cannot load shipped protocol", str(exc))
            return False
        self._path = None
        self.set_protocol(protocol)
        self.shipped_combo.setCurrentIndex(self.shipped_combo.findData(name))
        self.source_label.setText(f"shipped: {name}")
        return True

    def open_file(self, path):
        """Load a protocol file; on any problem show it and keep the current protocol."""
        try:
            protocol = protocol_from_dict(resources.read_json(path, "protocol"))
        except VrigError as exc:
            self._show_error("Cannot open protocol", str(exc))
            return False
        except TypeError as exc:  # e.g. an unhashable "kind" slips past the validator
            self._show_error("Cannot open protocol", f"protocol file {path} is malformed: {exc}")
            return False
        self._path = Path(path)
        self.set_protocol(protocol)
        self.shipped_combo.setCurrentIndex(-1)
        self.source_label.setText(str(self._path))
        return True

    def save_file(self, path):
        """Write the current protocol as JSON; False (and a message) if invalid or unwritable."""
        protocol = self.protocol()
        if protocol is None:
            self._show_error("Cannot save protocol",
                             f"The protocol is not valid: {self.status_label.text()}")
            return False
        try:
            # checked first (a FIFO would block, a read-only file is not replaced), then
            # written beside the target and renamed: a full disk never leaves half a file
            check_target(path)
            with atomic_output(path) as temp:
                temp.write_text(protocol.to_json(), encoding="utf-8")
        except VrigError as exc:
            self._show_error("Cannot save protocol", str(exc))
            return False
        self._path = Path(path)
        self.source_label.setText(str(self._path))
        return True

    # -- validation ----------------------------------------------------------------------

    def _schedule_validation(self):
        self._validate_timer.start()

    def _collect(self):
        """The protocol file dict the entries describe (numbers as floats where they parse)."""
        data = {"format": FORMAT, "version": VERSION, "name": self.name_edit.text(),
                "description": self.description_edit.toPlainText(),
                "mode": self.mode_combo.currentData(), "sweeps": self.sweeps_spin.value(),
                "epochs": self.table.epoch_dicts()}
        for key, edit in (("holding", self.holding_edit), ("sample_rate_khz", self.rate_edit),
                          ("sweep_interval_ms", self.interval_edit)):
            value = parse_cell(edit.text())
            # an empty field would silently take the file format's default; require it
            data[key] = value if value is not None else ""
        return data

    def _validate(self):
        """Check the entries; mark the first problem or emit the new valid protocol."""
        self._validate_timer.stop()
        self._clear_marks()
        try:
            protocol = protocol_from_dict(self._collect())
        except VrigError as exc:
            self._mark(exc)
            self._set_valid(False)
            self._set_status(str(exc), error=True)
            self.preview.set_stale(True)
            return
        self.preview.set_stale(False)
        self._set_valid(True)
        self._set_status(self._summary(protocol))
        if protocol != self._protocol:
            self._protocol = protocol
            self._preview_timer.start()
            self.protocolChanged.emit(protocol)

    def _set_valid(self, valid):
        self.run_button.setEnabled(valid)
        self.save_button.setEnabled(valid)
        self.save_as_button.setEnabled(valid)
        self.add_button.setEnabled(self.table.columnCount() < MAX_EPOCHS)
        self.remove_button.setEnabled(self.table.columnCount() > 1)
        if valid != self._valid:
            self._valid = valid
            self.validityChanged.emit(valid)

    def _mark(self, exc):
        if exc.epoch is not None:
            self.table.mark_error(exc.epoch, exc.field, str(exc))
            return
        field = exc.field or _header_field(str(exc))
        widget = self._header_fields.get(field)
        if widget is not None:
            widget.setProperty("invalid", True)
            widget.setToolTip(str(exc))
            widget.style().polish(widget)
            self._marked.append(widget)

    def _clear_marks(self):
        self.table.clear_errors()
        marked, self._marked = self._marked, []
        for widget in marked:
            widget.setProperty("invalid", False)
            widget.setToolTip("")
            widget.style().polish(widget)

    def header_errors(self):
        """{field: message} of the header fields marked invalid."""
        names = {widget: key for key, widget in self._header_fields.items()}
        return {names[widget]: widget.toolTip() for widget in self._marked}

    @staticmethod
    def _summary(protocol):
        longest = max(sum(e.duration_ms(k) for e in protocol.epochs)
                      for k in (0, protocol.sweeps - 1))
        return (f"Valid: {protocol.sweeps} sweep{'s' if protocol.sweeps > 1 else ''} of up to "
                f"{longest:g} ms, {len(protocol.epochs)} epochs")

    def _set_status(self, text, error=False):
        self.status_label.setText(text)
        self.status_label.setProperty("error", error)
        self.status_label.style().polish(self.status_label)

    # -- slots -----------------------------------------------------------------------------

    def _show_units(self):
        unit = Mode(self.mode_combo.currentData()).level_unit
        self.holding_unit.setText(unit)
        self.table.set_level_unit(unit)

    def _on_mode_changed(self):
        self._show_units()
        self._validate()

    def _fit_table(self):
        """Give the table the height of its visible rows, up to 60 % of the splitter."""
        sizes = self.splitter.sizes()
        total = sum(sizes)
        if total <= 0:
            return
        table_box = self.splitter.widget(0)
        want = min(table_box.sizeHint().height(), int(0.6 * total))
        self.splitter.setSizes([want, total - want])

    def _redraw_preview(self):
        if self._protocol is not None:
            self.preview.show_protocol(self._protocol)

    def _on_run(self):
        protocol = self.protocol()
        if protocol is not None:
            self.runRequested.emit(protocol)

    def _show_error(self, title, text):
        """Show a problem in the status line and in a non-blocking message box."""
        self._set_status(text, error=True)
        if self.message_box is not None:
            self.message_box.close()
        self.message_box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                                       QMessageBox.StandardButton.Ok, self)
        self.message_box.setObjectName("designerError")
        self.message_box.open()

    def _open_dialog(self):
        start = str(self._path.parent) if self._path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open protocol", start,
                                              "Protocols (*.json);;All files (*)")
        if path:
            self.open_file(path)

    def _save(self):
        if self._path is None:
            self._save_as_dialog()
        else:
            self.save_file(self._path)

    def _save_as_dialog(self):
        protocol = self.protocol()
        stem = re.sub(r"[^A-Za-z0-9]+", "-", protocol.name if protocol else "protocol")
        start = str((self._path.parent if self._path else Path.cwd()) / f"{stem.strip('-')}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save protocol as", start,
                                              "Protocols (*.json)")
        if path:
            self.save_file(path)


def _header_field(message):
    """The top-level field a protocol error is about ('protocol: holding = ...' -> 'holding')."""
    match = re.match(r"protocol: (\w+)", message)
    return match.group(1) if match else None
