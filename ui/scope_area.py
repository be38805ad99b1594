"""The scopes with their control bar: acquisition style, display, window, autoscale,
clear sweeps, the optional traces to tick, and the value under the mouse."""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QComboBox, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWidget)

from ui import theme
from ui.scope import ScopeStack

WINDOWS_S = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)


class ScopeArea(QWidget):
    """Bar + :class:`ScopeStack`. ``scope`` is replaced when the cell changes (its
    signals may differ); settingsChanged() fires when the user changes a view option."""

    settingsChanged = Signal()

    def __init__(self, names_units, mode, parent=None):
        super().__init__(parent)
        self.scope = None
        self._checks = {}
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
        layout.addWidget(bar)
        self._layout = layout
        self.set_signals(names_units, mode)

    def _build_controls(self):
        row = QHBoxLayout()
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
        row.addSpacing(12)
        row.addWidget(QLabel("Display"))
        self.display_combo = QComboBox()
        self.display_combo.addItem("sweep", "sweep")
        self.display_combo.addItem("scroll", "scroll")
        self.display_combo.setToolTip("Continuous display: sweep like an oscilloscope, "
                                      "or scroll like a chart recorder")
        row.addWidget(self.display_combo)
        self.window_combo = QComboBox()
        for seconds in WINDOWS_S:
            self.window_combo.addItem(f"{seconds:g} s", seconds)
        self.window_combo.setCurrentIndex(WINDOWS_S.index(1.0))
        self.window_combo.setToolTip("Time shown in continuous display")
        row.addWidget(self.window_combo)
        self.display_combo.currentIndexChanged.connect(self._display_changed)
        self.window_combo.currentIndexChanged.connect(self._display_changed)
        row.addSpacing(12)
        self.autoscale_button = QPushButton(theme.icon("autoscale"), " Autoscale")
        self.clear_button = QPushButton(theme.icon("clear"), " Clear sweeps")
        for button in (self.autoscale_button, self.clear_button):
            button.setFocusPolicy(Qt.NoFocus)
            row.addWidget(button)
        self.autoscale_button.setToolTip("Fit the traces; the time axis follows the data "
                                         "again (mouse: drag to pan, wheel to zoom)")
        self.clear_button.setToolTip("Remove the overlaid sweeps")
        self.autoscale_button.clicked.connect(lambda: self.scope.autoscale())
        self.clear_button.clicked.connect(lambda: self.scope.clear_sweeps())
        row.addStretch(1)
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
        if old is not None:
            self.scope.set_display(old.display, old.window_s)
            self._layout.replaceWidget(old, self.scope)
            old.deleteLater()
        else:
            self._layout.addWidget(self.scope, 1)
            self._display_changed()
        while self._trace_row.count():
            item = self._trace_row.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._checks = {}
        label = QLabel("Show:")
        self._trace_row.addWidget(label)
        for name in self.scope.optional_signals():
            box = QCheckBox(name)
            box.setFocusPolicy(Qt.NoFocus)
            box.setStyleSheet(f"QCheckBox {{ color: {theme.trace_color(name).name()}; "
                              "font-weight: bold; }")
            box.setToolTip(f"Show {name} (a channel current I, conductance g or gate)")
            box.toggled.connect(lambda on, n=name: self._trace_toggled(n, on))
            self._checks[name] = box
            self._trace_row.addWidget(box)
        self._trace_row.addStretch(1)
        self.cursor_label = QLabel("")
        self.cursor_label.setObjectName("CursorReadout")
        self.cursor_label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.scope.cursorMoved.connect(self.cursor_label.setText)
        self._trace_row.addWidget(self.cursor_label)
        self.set_visible_traces(visible)

    def _trace_toggled(self, name, on):
        self.scope.set_visible(name, on)
        self.settingsChanged.emit()

    def _display_changed(self, *_):
        self.scope.set_display(self.display_combo.currentData(), self.window_combo.currentData())
        self.settingsChanged.emit()

    def set_style(self, style):
        """Show 'continuous' or 'episodic' acquisition."""
        self.style_buttons[style].setChecked(True)
        self.scope.set_style(style)

    def visible_traces(self):
        """Names of the ticked optional traces."""
        return [name for name, box in self._checks.items() if box.isChecked()]

    def set_visible_traces(self, names):
        """Tick exactly these optional traces (unknown names are ignored)."""
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
