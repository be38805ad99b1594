"""The amplifier's front panel: mode switch, holding knob, readouts, lamps, controls.

The panel is a view of the window's Qt-free :class:`rig.session.session.Session`: the
mode buttons, the knob and the speed write the user's choice into the session, and the
panel shows whatever the session says (its events), whoever changed it. Actions that
are not settings (Run, Rec, a new cell, reset, a pulse) are requests (signals) that the
main window carries out. The knob shows mV or pA, the session's level units.

The overload lamp shows the engine's flag (rig.amplifier.circuit): the output exceeds the +/-10 V
digitiser at the present gain, i.e. +/-20 nA / gain in VC (0.5 mV/pA) and +/-1 V / gain in CC and
I=0 (10 mV/mV). The lamp stays lit for OVERLOAD_HOLD_S after the last clipped sample, so that a clip
of one capacitive transient is still visible to the eye.
"""

import time

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen, QRadialGradient
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rig import units
from rig.session.session import HOLDING_RANGES
from ui.look import theme
from ui.panels.quick_stimulus import QuickStimulus, display_unit
from ui.widgets.knob import Knob

MODES = (("VC", "VC"), ("I0", "I=0"), ("CC", "CC"))
OVERLOAD_HOLD_S = 0.5
KNOB_STEPS = {"VC": 1.0, "CC": 5.0}  # mV, pA per arrow key
SPEEDS = (("0.01x  gates", 0.01), ("0.1x  slow motion", 0.1), ("0.25x", 0.25),
          ("1x  real time", 1.0),
          ("2x", 2.0), ("10x", 10.0), ("max (protocols)", None))
# Meters change 10 times a second, like a panel meter: faster digits cannot be read.
METER_EVERY_S = 0.1


class Lamp(QWidget):
    """A round status lamp with a label beside it."""

    def __init__(self, text, color, parent=None):
        super().__init__(parent)
        self._color = QColor(color)
        self.on = False
        self._bulb = _Bulb(self)
        label = QLabel(text, self)
        label.setObjectName("LampText")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._bulb)
        layout.addWidget(label)
        layout.addStretch(1)

    def set_on(self, on):
        """Light or darken the lamp (repaints only on a change)."""
        on = bool(on)
        if on != self.on:
            self.on = on
            self._bulb.update()


class _Bulb(QWidget):
    def __init__(self, lamp):
        super().__init__(lamp)
        self._lamp = lamp
        self.setFixedSize(QSize(22, 22))

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        rect = QRectF(2, 2, 18, 18)
        color = theme.color(self._lamp._color) if self._lamp.on else theme.color("#2b3036")
        glow = QRadialGradient(rect.center(), 9)
        glow.setColorAt(0.0, color.lighter(160) if self._lamp.on else color)
        glow.setColorAt(1.0, color)
        painter.setBrush(glow)
        painter.setPen(QPen(theme.color("#0b0d0f"), 1.5))
        painter.drawEllipse(rect)
        painter.end()


def _section(title):
    frame = QFrame()
    frame.setObjectName("Section")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 6, 10, 10)
    layout.setSpacing(6)
    label = QLabel(title)
    label.setObjectName("SectionTitle")
    layout.addWidget(label)
    return frame, layout


def format_current(amperes):
    """A current for a readout: pA below 1 nA, nA below 1 uA, uA above (fixed width)."""
    pa = units.a_to_pa(amperes)
    if not np.isfinite(pa):
        return "  ---  pA"
    if abs(pa) < 1000:
        return f"{pa:8.1f} pA"
    if abs(pa) < 1e6:
        return f"{units.a_to_na(amperes):8.3f} nA"
    return f"{pa * 1e-6:8.3f} uA"


MODE_TIPS = {"VC": "Voltage clamp: hold the membrane potential",
             "I0": "I=0: no current injected (the cell rests)",
             "CC": "Current clamp: inject a holding current"}


def format_voltage(volts):
    """A voltage for a readout in mV (fixed width)."""
    mv = units.v_to_mv(volts)
    return f"{mv:8.1f} mV" if np.isfinite(mv) else "  ---  mV"


class AmplifierPanel(QWidget):
    """Front panel of a Session. Requests: runClicked(), recordClicked(),
    cellRequested(str), resetRequested(), pulseRequested(rig.acquisition.commands.Pulse);
    message(str) reports rejected input."""

    runClicked = Signal()
    recordClicked = Signal()
    cellRequested = Signal(str)
    resetRequested = Signal()
    pulseRequested = Signal(object)
    message = Signal(str)

    def __init__(self, session, cells=("hh-squid",), parent=None):
        super().__init__(parent)
        self.setObjectName("AmplifierPanel")
        self.setAttribute(Qt.WA_StyledBackground, True)
        self.session = session
        self._overload_at = -1e9
        self._meters_at = -1e9
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 10, 10, 10)
        layout.setSpacing(10)
        layout.addWidget(self._build_mode())
        layout.addWidget(self._build_holding())
        layout.addWidget(self._build_readouts())
        layout.addWidget(self._build_controls(cells))
        layout.addStretch(1)
        events = session.events
        events.mode.connect(self._show_mode)
        events.holding.connect(self._show_holding)
        events.speed.connect(self._show_speed)
        events.running.connect(self._show_running)
        events.recording.connect(self._show_recording)
        events.protocol_running.connect(self._show_protocol_running)
        events.cell.connect(self.cell_combo.setCurrentText)
        # a new cell brings its amplifier, whose range the knob and the pulse follow
        events.cell.connect(lambda _: self._show_mode(self.session.mode))
        self._show_mode(session.mode)
        self._show_speed(session.speed)
        self.cell_combo.setCurrentText(session.cell)

    # --- construction -----------------------------------------------------------------

    def _build_mode(self):
        frame, layout = _section("MODE")
        row = QHBoxLayout()
        self.mode_group = QButtonGroup(self)
        self.mode_buttons = {}
        for mode, text in MODES:
            button = QPushButton(text)
            button.setObjectName("ModeButton")
            button.setCheckable(True)
            # No focus: space must reach the window's start/stop shortcut, and the
            # arrows the knob, whatever was clicked last.
            button.setFocusPolicy(Qt.NoFocus)
            button.setToolTip(MODE_TIPS[mode])
            button.clicked.connect(lambda _=False, m=mode: self._mode_clicked(m))
            self.mode_group.addButton(button)
            self.mode_buttons[mode] = button
            row.addWidget(button)
        layout.addLayout(row)
        return frame

    def _build_holding(self):
        frame, layout = _section("HOLDING")
        self.holding_title = frame.findChild(QLabel)
        self.knob = Knob()
        self._knob_factor = 1.0  # level units (mV, pA) per unit the knob shows
        self.knob.valueChanged.connect(self._knob_turned)
        self.knob.invalidInput.connect(self.message)
        layout.addWidget(self.knob)
        self.stimulus = QuickStimulus()
        self.stimulus.pulseRequested.connect(self.pulseRequested)
        layout.addWidget(self.stimulus)
        return frame

    def _build_readouts(self):
        frame, layout = _section("METERS")
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        self.vm_readout = QLabel(format_voltage(np.nan))
        self.im_readout = QLabel(format_current(np.nan))
        for row, (name, label) in enumerate((("Vm", self.vm_readout), ("Im", self.im_readout))):
            label.setObjectName("Readout")
            label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            if name == "Im":
                label.setProperty("kind", "current")
            title = QLabel(name)
            title.setObjectName("ReadoutName")
            grid.addWidget(title, row, 0)
            grid.addWidget(label, row, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        lamps = QHBoxLayout()
        self.run_lamp = Lamp("RUN", "#7ee081")
        self.record_lamp = Lamp("REC", "#ff4b4b")
        self.overload_lamp = Lamp("OVLD", "#ffa726")
        self.overload_lamp.setToolTip("Overload: the output exceeds the digitiser's range "
                                      "at this gain (+/-20 nA / gain in VC, +/-1 V / gain "
                                      "in CC); lower the gain")
        for lamp in (self.run_lamp, self.record_lamp, self.overload_lamp):
            lamps.addWidget(lamp)
        layout.addLayout(lamps)
        return frame

    def _build_controls(self, cells):
        frame, layout = _section("ACQUISITION")
        row = QHBoxLayout()
        self.run_button = QPushButton(" Run  [space]")
        theme.set_icon(self.run_button, "play")
        self.run_button.setObjectName("RunButton")
        self.record_button = QPushButton(" Rec  [R]")
        theme.set_icon(self.record_button, "record")
        self.record_button.setObjectName("RecordButton")
        for button, signal in ((self.run_button, self.runClicked),
                               (self.record_button, self.recordClicked)):
            button.setCheckable(True)
            button.setFocusPolicy(Qt.NoFocus)
            # The window decides whether the state changes; the button mirrors it.
            button.clicked.connect(lambda _=False, b=button, s=signal: (b.toggle(), s.emit()))
            row.addWidget(button)
        layout.addLayout(row)
        grid = QGridLayout()
        self.speed_combo = QComboBox()
        for text, factor in SPEEDS:
            self.speed_combo.addItem(text, factor)
        self.speed_combo.currentIndexChanged.connect(self._speed_chosen)
        self.cell_combo = QComboBox()
        self.cell_combo.addItems(list(cells))
        self.cell_combo.activated.connect(
            lambda i: self.cellRequested.emit(self.cell_combo.itemText(i)))
        self.reset_button = QPushButton(" Reset cell")
        theme.set_icon(self.reset_button, "reset")
        self.reset_button.setFocusPolicy(Qt.NoFocus)
        self.reset_button.setToolTip("Put the cell back at rest for this mode and holding")
        self.reset_button.clicked.connect(self.resetRequested)
        grid.addWidget(QLabel("Speed"), 0, 0)
        grid.addWidget(self.speed_combo, 0, 1)
        grid.addWidget(QLabel("Cell"), 1, 0)
        grid.addWidget(self.cell_combo, 1, 1)
        grid.addWidget(self.reset_button, 2, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        self._acquisition_layout = layout
        return frame

    def add_acquisition_widget(self, widget):
        """Put a widget at the bottom of the ACQUISITION section (e.g. the recording
        status beside Rec)."""
        self._acquisition_layout.addWidget(widget)

    # --- user actions: into the session --------------------------------------------

    def _mode_clicked(self, mode):
        self.session.mode = mode

    def _knob_turned(self, value):
        if self.session.mode in HOLDING_RANGES:
            self.session.set_holding(self.session.mode, value * self._knob_factor)

    def _speed_chosen(self, index):
        self.session.speed = self.speed_combo.itemData(index)

    # --- the session shown ------------------------------------------------------------

    def _show_mode(self, mode):
        """Light the mode's button and put its holding on the knob."""
        self.mode_buttons[mode].setChecked(True)
        self.stimulus.set_mode(mode)
        if mode in HOLDING_RANGES:
            low, high = self.session.holding_range(mode)
            self.stimulus.set_limit(mode, high)
            self.knob.setEnabled(not self.session.protocol_running)
            # an arrow key moves the same share of a wide range (a fibre's) as of a patch's
            step = KNOB_STEPS[mode] * max(1.0, high / HOLDING_RANGES[mode][1])
            # a giant axon's range is shown in uA, a thin fibre's in nA (as the pulse box)
            unit, self._knob_factor, decimals = display_unit(mode, high)
            f = self._knob_factor
            self.knob.set_range(unit, low / f, high / f, step / f, decimals)
            self.knob.set_value(self.session.holding(mode) / f)
            self.holding_title.setText(f"HOLDING  ({'Vhold' if mode == 'VC' else 'Ihold'}, "
                                       f"{unit})")
        else:
            self.knob.setEnabled(False)
            self.holding_title.setText("HOLDING  (none in I=0)")

    def _show_holding(self, change):
        if change.mode == self.session.mode:
            self.knob.set_value(change.level / self._knob_factor)

    def _show_speed(self, factor):
        """Select a speed in the list without sending it back to the session."""
        for i in range(self.speed_combo.count()):
            if self.speed_combo.itemData(i) == factor:
                self.speed_combo.blockSignals(True)
                self.speed_combo.setCurrentIndex(i)
                self.speed_combo.blockSignals(False)
                return

    def _show_protocol_running(self, running):
        """While a protocol runs its mode and holding are fixed: lock those controls."""
        holds = self.session.mode in HOLDING_RANGES
        for button in self.mode_buttons.values():
            button.setEnabled(not running)
        self.knob.setEnabled(not running and holds)
        self.stimulus.setEnabled(not running and holds)
        locked = " (fixed while a protocol runs)" if running else ""
        for mode, button in self.mode_buttons.items():
            button.setToolTip(MODE_TIPS[mode] + locked)

    def _show_running(self, running):
        """Acquisition state on the lamp and the Run button."""
        self.run_lamp.set_on(running)
        self.run_button.setChecked(running)
        theme.set_icon(self.run_button, "stop" if running else "play")
        self.run_button.setText(" Stop  [space]" if running else " Run  [space]")

    def _show_recording(self, recording):
        """Recording state on the lamp and the Rec button."""
        self.record_lamp.set_on(recording)
        self.record_button.setChecked(recording)

    def show_chunks(self, chunks, now=None):
        """Update meters from the newest chunk and the overload lamp from all of them.

        The meters show the mean of the newest chunk (a few ms), which reads steadily
        the way an amplifier's filtered meter does, refreshed every METER_EVERY_S.
        """
        now = time.monotonic() if now is None else now
        if not chunks:
            return
        newest = chunks[-1]
        if now - self._meters_at >= METER_EVERY_S:
            self._meters_at = now
            self.vm_readout.setText(format_voltage(float(np.mean(newest.signals["Vm"]))))
            self.im_readout.setText(format_current(float(np.mean(newest.signals["Im"]))))
        if any(chunk.overload for chunk in chunks):
            self._overload_at = now
        self.overload_lamp.set_on(now - self._overload_at < OVERLOAD_HOLD_S)
