"""The scopes with their control bar (acquisition style, continuous display and window,
autoscale, clear sweeps, cursors, export), the optional traces to tick, the value under
the mouse, and the column at the right with the sweep legend and the cursor readout."""

import json

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rig.errors import VrigError
from rig.protocols.protocol import protocol_from_dict
from ui.look import theme
from ui.scopes.scope import ScopeStack
from ui.scopes.scope_cursors import format_readout
from ui.scopes.scope_export import export_scopes
from ui.scopes.sweep_labels import sweep_labels
from ui.scopes.sweep_legend import SideColumn
from ui.widgets.flow_layout import FlowLayout
from ui.widgets.scrolling import ScrollStrip

WINDOWS_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
EPISODIC_TIP = ("Episodic display shows whole sweeps on their own time axis; "
                "this applies to continuous display")
EXPORT_FILTERS = "PNG image, 300 dpi (*.png);;SVG vector (*.svg);;PDF vector (*.pdf)"


class ScopeArea(QWidget):
    """Bar + :class:`ScopeStack` + side column. ``scope`` is replaced when the cell
    changes (its signals may differ); settingsChanged() fires when the user changes a
    view option; message(text) reports a problem (e.g. an export that failed)."""

    settingsChanged = Signal()
    message = Signal(str)

    def __init__(self, names_units, mode, parent=None):
        super().__init__(parent)
        self.scope = None
        self._checks = {}
        self.export_folder = ""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QWidget()
        bar.setObjectName("ScopeBar")
        bar.setAttribute(Qt.WA_StyledBackground, True)
        rows = QVBoxLayout(bar)
        rows.setContentsMargins(8, 6, 8, 6)
        rows.setSpacing(4)
        rows.addLayout(self._build_controls())
        self._trace_row = QHBoxLayout()
        rows.addLayout(self._trace_row)
        # The controls wrap; the trace ticks of a cell with many channels may still be
        # wider than the scopes with large text: then they scroll.
        self.bar_strip = ScrollStrip(bar)
        layout.addWidget(self.bar_strip)
        self._body = QHBoxLayout()
        self._body.setSpacing(0)
        self.side = SideColumn()
        self.side.legend.sweepChosen.connect(lambda sweep: self.scope.set_highlight(sweep))
        self._body.addWidget(self.side)
        layout.addLayout(self._body, 1)
        self.cursor_label = QLabel("")
        self.cursor_label.setObjectName("CursorReadout")
        self.cursor_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        # The text changes with the mouse: it must never ask for more width.
        self.cursor_label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.cursor_label.setMinimumWidth(0)
        self.set_signals(names_units, mode)

    def _build_controls(self):
        # wraps onto a second line where the window is too narrow (large text, 1280x800)
        row = FlowLayout()
        self.style_group = QButtonGroup(self)
        self.style_buttons = {}
        for style, text in (("continuous", "Continuous"), ("episodic", "Episodic")):
            button = QPushButton(text)
            button.setObjectName("StyleButton")
            button.setCheckable(True)
            button.setFocusPolicy(Qt.NoFocus)
            button.clicked.connect(lambda _=False, s=style: self.set_style(s))
            self.style_group.addButton(button)
            self.style_buttons[style] = button
            row.addWidget(button)
        self.style_buttons["continuous"].setChecked(True)
        row.addSpacing(8)
        self.display_combo = QComboBox()
        self.display_combo.addItem("sweep", "sweep")
        self.display_combo.addItem("scroll", "scroll")
        self.window_combo = QComboBox()
        for seconds in WINDOWS_S:
            self.window_combo.addItem(f"{seconds:g} s", seconds)
        self.window_combo.setCurrentIndex(WINDOWS_S.index(1.0))
        for combo in (self.display_combo, self.window_combo):
            combo.setFocusPolicy(Qt.NoFocus)
            row.addWidget(combo)
        self.display_combo.currentIndexChanged.connect(self._display_changed)
        self.window_combo.currentIndexChanged.connect(self._display_changed)
        row.addSpacing(8)
        self.autoscale_button = QPushButton(" Autoscale")
        theme.set_icon(self.autoscale_button, "autoscale")
        self.clear_button = QPushButton(" Clear")
        theme.set_icon(self.clear_button, "clear")
        self.cursors_button = QPushButton("Cursors")
        self.cursors_button.setCheckable(True)
        self.export_button = QToolButton()
        self.export_button.setText("Export...")
        self.export_button.setPopupMode(QToolButton.MenuButtonPopup)
        menu = QMenu(self.export_button)
        menu.addAction("For print (dark on white)...", lambda: self.export_dialog("print"))
        menu.addAction("As on screen (the theme's colours)...",
                       lambda: self.export_dialog("screen"))
        self.export_button.setMenu(menu)
        for button in (self.autoscale_button, self.clear_button, self.cursors_button,
                       self.export_button):
            button.setFocusPolicy(Qt.NoFocus)
            row.addWidget(button)
        self.autoscale_button.setToolTip(
            "Fit the traces (a highlighted sweep fills its plots); the time axis follows "
            "the data again (mouse: drag to pan, wheel to zoom)")
        self.clear_button.setToolTip("Remove the overlaid sweeps")
        self.cursors_button.setToolTip("Two cursors across the scopes: drag them; the "
                                       "readout gives the times and each trace's values")
        self.export_button.setToolTip("Save the scopes as a figure: PNG (300 dpi), SVG or "
                                      "PDF, dark on white for print (arrow: as on screen)")
        self.autoscale_button.clicked.connect(lambda: self.scope.autoscale())
        self.clear_button.clicked.connect(lambda: self.scope.clear_sweeps())
        self.cursors_button.toggled.connect(self._cursors_toggled)
        self.export_button.clicked.connect(lambda: self.export_dialog("print"))
        row.addSpacing(8)
        self._control_row = row
        return row

    def add_control(self, widget):
        """Put a widget at the right end of the control row (e.g. a dock's toggle)."""
        self._control_row.addWidget(widget)

    def set_signals(self, names_units, mode):
        """(Re)build the scopes for a signal set, keeping the ticked traces and view."""
        visible = self.visible_traces()
        old = self.scope
        self.scope = ScopeStack(names_units, mode)
        self.scope.styleChanged.connect(self._style_changed)
        self.scope.sweepsChanged.connect(self._update_legend)
        self.scope.highlightChanged.connect(self.side.legend.mark)
        self.scope.cursors.moved.connect(self._update_readout)
        self.scope.cursorMoved.connect(self.cursor_label.setText)
        if old is not None:
            self.scope.set_display(old.display, old.window_s)
            self._body.replaceWidget(old, self.scope)
            old.dispose()
            old.deleteLater()
        else:
            self._body.insertWidget(0, self.scope, 1)
            self._display_changed()
        self._rebuild_trace_row()
        self.set_visible_traces(visible)
        self.scope.cursors.set_enabled(self.cursors_button.isChecked())
        self._style_changed(self.scope.style)

    def _rebuild_trace_row(self):
        while self._trace_row.count():
            item = self._trace_row.takeAt(0)
            if item.widget() is not None and item.widget() is not self.cursor_label:
                item.widget().deleteLater()
        self._checks = {}
        self._trace_row.addWidget(QLabel("Show:"))
        for name in self.scope.optional_signals():
            box = QCheckBox(name)
            box.setFocusPolicy(Qt.NoFocus)
            _color_box(box, theme.trace_color(name))
            box.setToolTip(f"Show {name} (a channel current I, conductance g or gate)")
            box.toggled.connect(lambda on, n=name: self._trace_toggled(n, on))
            self._checks[name] = box
            self._trace_row.addWidget(box)
        self._trace_row.addWidget(self.cursor_label, 1)

    def apply_theme(self, look):
        """Follow a new look: the trace ticks' colours, the side column's width."""
        for name, box in self._checks.items():
            _color_box(box, theme.trace_color(name, look=look))
        self.side.apply_theme(look)
        self.bar_strip.fit()

    def _trace_toggled(self, name, on):
        self.scope.set_visible(name, on)
        self._update_readout()
        self.settingsChanged.emit()

    def _display_changed(self, *_):
        self.scope.set_display(self.display_combo.currentData(), self.window_combo.currentData())
        self.settingsChanged.emit()

    def set_style(self, style):
        """Show 'continuous' or 'episodic' acquisition."""
        self.scope.set_style(style)
        self._style_changed(style)

    def _style_changed(self, style):
        """Follow the stack's style: the buttons, the continuous-only controls (off
        in episodic display, with a tooltip saying why) and the side column."""
        self.style_buttons[style].setChecked(True)
        continuous = style == "continuous"
        for combo, tip in ((self.display_combo, "Continuous display: sweep like an "
                            "oscilloscope, or scroll like a chart recorder"),
                           (self.window_combo, "Time shown in continuous display")):
            combo.setEnabled(continuous)
            combo.setToolTip(tip if continuous else EPISODIC_TIP)
        self.clear_button.setEnabled(not continuous)
        self._update_legend()
        self._update_side()

    def _cursors_toggled(self, on):
        self.scope.cursors.set_enabled(on)
        self._update_side()

    def _update_side(self):
        episodic = self.scope.style == "episodic"
        cursors = self.cursors_button.isChecked()
        for widget in (self.side.heading, self.side.legend):
            widget.setVisible(episodic)
        self.side.note.setVisible(episodic and bool(self.side.note.text()))
        self.side.readout.setVisible(cursors)
        self.side.setVisible(episodic or cursors)
        self._update_readout()

    def _update_legend(self):
        overlay = self.scope.overlay
        sweeps = overlay.sweeps()
        newest = sweeps[-1] if sweeps and overlay.live else None
        self.side.legend.show_sweeps(
            [(k, overlay.label(k), overlay.color(k)) for k in sweeps], overlay.highlight, newest)
        dropped = 0 if overlay.store is None else overlay.store.dropped
        self.side.set_note(f"{len(sweeps)} newest sweeps shown; {dropped} older ones were "
                           "dropped to bound memory" if dropped else "")
        self.side.note.setVisible(self.scope.style == "episodic" and bool(dropped))

    def _update_readout(self):
        if self.cursors_button.isChecked():
            self.side.readout.setText(format_readout(self.scope.cursors.readout(),
                                                     {"command": "Cmd"}))

    def legend_entries(self):
        """[(QColor, text)] of the overlay's sweeps as the legend shows them."""
        overlay = self.scope.overlay
        if self.scope.style != "episodic":
            return []
        return [(overlay.color(k), f"{k + 1}  {overlay.label(k)}") for k in overlay.sweeps()]

    def show_recording(self, recording):
        """Show a loaded :class:`rig.files.recording.Recording` in the episodic overlay, its
        sweeps labelled by the protocol in its metadata ('protocol_json') if it has one.
        Raises VrigError if the recording cannot be shown."""
        labels = [f"sweep {k + 1}" for k in range(recording.n_sweeps)]
        text = recording.metadata.get("protocol_json")
        if text:
            try:
                protocol = protocol_from_dict(json.loads(text))
            except (VrigError, ValueError):
                self.message.emit("the recording's protocol could not be read: "
                                  "its sweeps are shown by number")
            else:
                if protocol.sweeps == recording.n_sweeps:
                    labels = sweep_labels(protocol)
        self.scope.show_recording(recording, labels)
        self._style_changed("episodic")

    def export(self, path, style="print", dpi=300, width_mm=180.0):
        """Save the scopes as a figure (.png, .svg or .pdf; see
        :func:`ui.scopes.scope_export.export_scopes`). Raises VrigError if it cannot."""
        return export_scopes(self.scope, path, self.legend_entries(), style, dpi, width_mm)

    def export_dialog(self, style="print"):
        """Ask for a file name and export; a failure is reported by message()."""
        path, chosen = QFileDialog.getSaveFileName(self, "Export the scopes",
                                                   self.export_folder, EXPORT_FILTERS)
        if not path:
            return None
        if not path.lower().endswith((".png", ".svg", ".pdf")):
            path += chosen[chosen.rfind("*") + 1: -1] if "*" in chosen else ".png"
        try:
            written = self.export(path, style)
        except VrigError as exc:
            self.message.emit(str(exc))
            return None
        self.export_folder = str(written.parent)
        return written

    def visible_traces(self):
        """Names of the ticked optional traces."""
        return [name for name, box in self._checks.items() if box.isChecked()]

    def optional_traces(self):
        """The names of the traces that can be ticked (e.g. INa, IK, m, h, n)."""
        return list(self._checks)

    def set_visible_traces(self, names):
        """Tick exactly these optional traces (unknown names are ignored: a saved
        choice may name a trace another cell had)."""
        for name, box in self._checks.items():
            box.setChecked(name in names)

    def view_settings(self):
        """(display, window in s) of the continuous display."""
        return self.display_combo.currentData(), self.window_combo.currentData()

    def set_view_settings(self, display, window_s):
        """Restore the continuous display settings."""
        i = self.display_combo.findData(display)
        if i >= 0:
            self.display_combo.setCurrentIndex(i)
        for k in range(self.window_combo.count()):
            if abs(self.window_combo.itemData(k) - float(window_s)) < 1e-9:
                self.window_combo.setCurrentIndex(k)


def _color_box(box, color):
    """A trace's tick box, its text in the trace's colour."""
    box.setStyleSheet(f"QCheckBox {{ color: {color.name()}; font-weight: bold; }}")
