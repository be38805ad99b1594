"""Electrode, compensation and output-chain controls, laid out like MultiClamp Commander.

The panel keeps a copy of the engine's :class:`rig.amplifier.circuit.Amplifier` (SI) and shows
it in ephys units: MOhm, pF, GOhm, %, us. Each edit is validated by building the new
Amplifier first (the same validation the engine uses); a refused value is put back and
the VrigError's text is shown under the controls, otherwise ``changesRequested`` carries
the ``SetAmplifier.changes`` tuple of (field, SI value) pairs for the window to send.

Sections:

* ELECTRODE: access resistance Rs (MOhm), pipette capacitance Cp (pF), seal (GOhm,
  0 shows as infinity: a perfect seal).
* VC COMPENSATION: fast (pipette) capacitance cancellation (pF); whole-cell Cm (pF)
  and Rs (MOhm) with 'Auto', which sets them to the cell's true values; Rs prediction
  and correction (%), locked together by default; the feedback lag (us).
* CC COMPENSATION: bridge balance (MOhm) with 'Auto'; capacitance neutralisation (pF).
* OUTPUT: Bessel corner or bypass, gain, noise, hum (off/50/60 Hz), 16-bit digitiser;
  'Ideal' switches every artefact off. 'Comp off' zeroes all compensation and asks
  for the cell to be settled, which also clears the oscillation flag.

The OSC lamp shows the newest chunk's ``saturated`` flag (the headstage hit its rails:
over-compensation); the amplifier panel's OVLD lamp shows a clipped output. 'Range'
chooses the headstage feedback resistor, which sets the current range (10 V / Rf).

Every box's limits come from :data:`rig.amplifier.circuit.RANGES` (and the Cm box's from
:func:`rig.model.cell.capacitance_range_pf` for the cell shown), the same ranges the
Amplifier validates with, so a box can never offer a value the engine refuses.
"""

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rig import units
from rig.amplifier.circuit import FILTER_CORNERS_HZ, GAINS, RANGES, Amplifier
from rig.errors import VrigError
from rig.model.cell import capacitance_range_pf, specific_capacitance_for
from rig.model.limits import FEEDBACK_RESISTORS_OHM
from ui.look import theme
from ui.panels.amplifier_panel import Lamp

# field: (label, decimals, step); the unit and the limits are RANGES[field]'s.
FIELDS = {
    "series_resistance": ("Rs", 1, 1.0),
    "pipette_capacitance": ("Cp", 1, 0.5),
    "seal_resistance": ("Seal", 3, 0.5),
    "fast_compensation": ("Fast Cp", 1, 0.5),
    "whole_cell_capacitance": ("WC Cm", 1, 1.0),
    "whole_cell_resistance": ("WC Rs", 1, 0.5),
    "rs_prediction": ("Prediction", 0, 5.0),
    "rs_correction": ("Correction", 0, 5.0),
    "lag": ("Lag", 0, 5.0),
    "bridge": ("Bridge", 1, 1.0),
    "neutralization": ("Neutral.", 1, 0.5),
}
SYMBOLS = {"MOhm": "MΩ", "GOhm": "GΩ", "us": "µs"}
# A spin box cannot show infinity: the seal box runs from 0, shown as a perfect seal
# (infinite resistance), to this many GOhm.
SEAL_BOX_MAX_GOHM = 1000.0
COMPENSATION = ("fast_compensation", "whole_cell_capacitance", "whole_cell_resistance",
                "rs_prediction", "rs_correction", "bridge", "neutralization")
MAX_LOCKED_PREDICTION = 0.98  # the engine's limit for prediction (supercharging)


def _section(title):
    frame = QFrame()
    frame.setObjectName("Section")
    layout = QGridLayout(frame)
    layout.setContentsMargins(10, 6, 10, 8)
    layout.setHorizontalSpacing(6)
    layout.setVerticalSpacing(3)
    label = QLabel(title)
    label.setObjectName("SectionTitle")
    layout.addWidget(label, 0, 0, 1, 3)
    layout.setColumnStretch(1, 1)
    return frame, layout


def to_display(field, si_value):
    """An Amplifier field's SI value in the unit the panel shows (seal: inf -> 0)."""
    if field == "seal_resistance" and math.isinf(si_value):
        return 0.0
    return RANGES[field].shown(si_value)


def to_si(field, shown):
    """A shown value back to SI (seal: 0 -> inf, a perfect seal)."""
    if field == "seal_resistance" and shown == 0:
        return math.inf
    return shown * RANGES[field].si_per_unit


def spin_limits(field):
    """(min, max) of a field's box in the unit shown: its range (the seal's from 0,
    meaning a perfect seal, to SEAL_BOX_MAX_GOHM)."""
    allowed = RANGES[field]
    if field == "seal_resistance":
        return 0.0, SEAL_BOX_MAX_GOHM
    return allowed.low, allowed.high


class CompensationPanel(QWidget):
    """changesRequested(tuple of (field, SI value)); settleRequested() after 'Comp off';
    message(str) for a refused value (also shown in the panel)."""

    changesRequested = Signal(tuple)
    capacitanceRequested = Signal(float)  # the cell's Cm in F
    settleRequested = Signal()
    message = Signal(str)

    def __init__(self, amplifier=None, cell_capacitance_f=0.0, cell=None, parent=None):
        super().__init__(parent)
        self.setObjectName("AmplifierPanel")  # the front panel's background
        self.setAttribute(Qt.WA_StyledBackground, True)
        self.amplifier = amplifier if amplifier is not None else Amplifier()
        self.cell_capacitance_f = float(cell_capacitance_f)
        self.cell = cell  # the rig.model.cell.Cell shown, to check a new capacitance against
        self.spins = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(self._build_electrode())
        layout.addWidget(self._build_vc())
        layout.addWidget(self._build_cc())
        layout.addWidget(self._build_output())
        self.error_label = QLabel("")
        self.error_label.setObjectName("CompError")
        self.error_label.setWordWrap(True)
        theme.set_style(self.error_label, "color: #ff8080; font-weight: bold;")
        self.error_label.setVisible(False)
        layout.addWidget(self.error_label)
        layout.addStretch(1)
        self.set_amplifier(self.amplifier)

    # --- construction -----------------------------------------------------------------

    def _spin(self, field):
        _, decimals, step = FIELDS[field]
        unit = RANGES[field].unit
        spin = QDoubleSpinBox()
        spin.setDecimals(decimals)
        spin.setRange(*spin_limits(field))
        spin.setSingleStep(step)
        spin.setSuffix(f" {SYMBOLS.get(unit, unit)}")
        spin.setKeyboardTracking(False)  # one change per Enter, arrow or wheel notch
        spin.setFocusPolicy(Qt.StrongFocus)
        spin.setAlignment(Qt.AlignRight)
        spin.setMinimumWidth(120)
        if field == "seal_resistance":
            spin.setSpecialValueText("∞ (perfect)")
        spin.valueChanged.connect(lambda value, f=field: self._edited(f, value))
        self.spins[field] = spin
        return spin

    def _row(self, layout, row, field, col=0, button=None):
        label = QLabel(FIELDS[field][0])
        layout.addWidget(label, row, col)
        layout.addWidget(self._spin(field), row, col + 1)
        if button is not None:
            layout.addWidget(button, row, col + 2)

    def _button(self, text, tip, slot):
        button = QPushButton(text)
        button.setFocusPolicy(Qt.NoFocus)
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _build_electrode(self):
        frame, grid = _section("ELECTRODE AND CELL")
        self._row(grid, 1, "series_resistance")
        self._row(grid, 2, "pipette_capacitance")
        self._row(grid, 3, "seal_resistance")
        grid.addWidget(QLabel("Cell Cm"), 4, 0)
        self.cm_spin = QDoubleSpinBox()
        self.cm_spin.setRange(*capacitance_range_pf(self.cell) if self.cell else (0.1, 1e5))
        self.cm_spin.setDecimals(1)
        self.cm_spin.setSuffix(" pF")
        self.cm_spin.setKeyboardTracking(False)
        self.cm_spin.setAlignment(Qt.AlignRight)
        self.cm_spin.setMinimumWidth(120)
        self.cm_spin.setToolTip("The cell's membrane capacitance (its area and channels stay)")
        self.cm_spin.setValue(units.f_to_pf(self.cell_capacitance_f))
        self.cm_spin.valueChanged.connect(self._capacitance_edited)
        grid.addWidget(self.cm_spin, 4, 1)
        return frame

    def set_cell(self, cell):
        """Show a (new) cell: its Cm box spans the capacitances it can be given."""
        self.cell = cell
        self.cm_spin.blockSignals(True)
        self.cm_spin.setRange(*capacitance_range_pf(cell))
        self.cm_spin.setValue(cell.capacitance_pf)
        self.cm_spin.blockSignals(False)
        self.cell_capacitance_f = units.pf_to_f(cell.capacitance_pf)

    def _capacitance_edited(self, value_pf):
        farad = units.pf_to_f(value_pf)
        if self.cell is not None:
            try:
                specific_capacitance_for(self.cell, farad)
            except VrigError as exc:
                self.error_label.setText(str(exc))
                self.error_label.setVisible(True)
                self.message.emit(str(exc))
                self.cm_spin.blockSignals(True)
                self.cm_spin.setValue(units.f_to_pf(self.cell_capacitance_f))
                self.cm_spin.blockSignals(False)
                return
        self.cell_capacitance_f = farad
        self.capacitanceRequested.emit(farad)

    def _build_vc(self):
        frame, grid = _section("VC COMPENSATION")
        self.fast_auto = self._button("Auto", "Cancel the pipette capacitance exactly",
                                      self.auto_fast)
        self._row(grid, 1, "fast_compensation", button=self.fast_auto)
        self.whole_cell_auto = self._button(
            "Auto", "Set whole-cell Cm and Rs to the cell's true values", self.auto_whole_cell)
        self._row(grid, 2, "whole_cell_capacitance", button=self.whole_cell_auto)
        self._row(grid, 3, "whole_cell_resistance")
        self._row(grid, 4, "rs_prediction")
        self.lock_box = QCheckBox("lock")
        self.lock_box.setChecked(True)
        self.lock_box.setFocusPolicy(Qt.NoFocus)
        self.lock_box.setToolTip("Prediction and correction move together "
                                 f"(prediction at most {MAX_LOCKED_PREDICTION:.0%})")
        grid.addWidget(self.lock_box, 4, 2)
        self._row(grid, 5, "rs_correction")
        self._row(grid, 6, "lag")
        return frame

    def _build_cc(self):
        frame, grid = _section("CC COMPENSATION")
        self.bridge_auto = self._button("Auto", "Balance the bridge: subtract I x Rs exactly",
                                        self.auto_bridge)
        self._row(grid, 1, "bridge", button=self.bridge_auto)
        self._row(grid, 2, "neutralization")
        return frame

    def _build_output(self):
        frame, grid = _section("OUTPUT")
        self.filter_combo = QComboBox()
        self.filter_combo.addItem("Bypass", None)
        for corner in FILTER_CORNERS_HZ:
            self.filter_combo.addItem(f"{units.hz_to_khz(corner):g} kHz", corner)
        self.filter_combo.setToolTip("4-pole Bessel low-pass corner")
        self.gain_combo = QComboBox()
        for gain in GAINS:
            self.gain_combo.addItem(f"x{gain}", gain)
        self.hum_combo = QComboBox()
        for text, hz in (("Hum off", 0.0), ("50 Hz", 50.0), ("60 Hz", 60.0)):
            self.hum_combo.addItem(text, hz)
        self.range_combo = QComboBox()
        for rf in FEEDBACK_RESISTORS_OHM:
            self.range_combo.addItem(f"{units.ohm_to_mohm(rf):g} MΩ  ±{self._range_text(rf)}", rf)
        self.range_combo.setToolTip("headstage feedback resistor: the current range at "
                                    "gain 1 is 10 V / Rf; beyond it the output clips and "
                                    "OVLD lights")
        self.noise_box = QCheckBox("Noise")
        self.digitizer_box = QCheckBox("16-bit ADC")
        self.digitizer_box.setToolTip("A +/-10 V, 16-bit digitiser: large signals clip")
        for row, (text, combo) in enumerate((("Filter", self.filter_combo),
                                             ("Gain", self.gain_combo),
                                             ("Hum", self.hum_combo),
                                             ("Range", self.range_combo)), start=1):
            grid.addWidget(QLabel(text), row, 0)
            grid.addWidget(combo, row, 1, 1, 2)
        grid.addWidget(self.noise_box, 5, 0)
        grid.addWidget(self.digitizer_box, 5, 1, 1, 2)
        self.filter_combo.currentIndexChanged.connect(
            lambda i: self.request({"filter_hz": self.filter_combo.itemData(i)}))
        self.gain_combo.currentIndexChanged.connect(
            lambda i: self.request({"gain": self.gain_combo.itemData(i)}))
        self.hum_combo.currentIndexChanged.connect(
            lambda i: self.request({"hum_hz": self.hum_combo.itemData(i)}))
        self.range_combo.currentIndexChanged.connect(
            lambda i: self.request({"feedback_resistance": self.range_combo.itemData(i)}))
        for box, name in ((self.noise_box, "noise"), (self.digitizer_box, "digitizer")):
            box.setFocusPolicy(Qt.NoFocus)
            box.toggled.connect(lambda on, n=name: self.request({n: bool(on)}))
        lamps = QHBoxLayout()
        self.osc_lamp = Lamp("OSC", "#ff4b4b")
        self.osc_lamp.setToolTip("Oscillation: the headstage hit its rails (over-"
                                 "compensation). Turn Rs compensation down, then Comp off.")
        lamps.addWidget(self.osc_lamp)
        grid.addLayout(lamps, 6, 0, 1, 3)
        self.ideal_button = self._button("Ideal", "Switch every artefact off: filter "
                                         "bypass, no noise, no hum, no digitiser",
                                         self.ideal)
        self.comp_off_button = self._button("Comp off", "Zero every compensation setting "
                                            "and settle the cell (clears OSC)", self.comp_off)
        buttons = QHBoxLayout()
        buttons.addWidget(self.ideal_button)
        buttons.addWidget(self.comp_off_button)
        grid.addLayout(buttons, 7, 0, 1, 3)
        return frame

    @staticmethod
    def _range_text(rf):
        amps = 10.0 / rf
        if amps >= 1e-6:  # the giant-axon headstage: +/-1 mA
            return f"{amps * 1e6:g} uA"
        return f"{units.a_to_na(amps):g} nA" if amps >= 1e-9 else f"{units.a_to_pa(amps):g} pA"

    # --- edits ------------------------------------------------------------------------

    def _edited(self, field, shown):
        changes = {field: to_si(field, shown)}
        if self.lock_box.isChecked() and field in ("rs_prediction", "rs_correction"):
            fraction = changes[field]
            changes["rs_correction"] = fraction
            changes["rs_prediction"] = min(fraction, MAX_LOCKED_PREDICTION)
        self.request(changes)

    def request(self, changes):
        """Validate changes (field: SI value) and emit them, or refuse and restore."""
        try:
            amplifier = self.amplifier.changed(**changes)
        except VrigError as exc:
            self.error_label.setText(str(exc))
            self.error_label.setVisible(True)
            self.message.emit(str(exc))
            self.set_amplifier(self.amplifier)  # put the accepted values back
            return False
        self.error_label.setText("")
        self.error_label.setVisible(False)
        self.set_amplifier(amplifier)
        self.changesRequested.emit(tuple(changes.items()))
        return True

    def auto_fast(self):
        """Fast compensation = the electrode's pipette capacitance."""
        return self.request({"fast_compensation": self.amplifier.pipette_capacitance})

    def auto_whole_cell(self):
        """Whole-cell Cm and Rs = the cell's capacitance and the electrode's access
        resistance (the true values a perfect 'Auto' would find)."""
        return self.request({"whole_cell_capacitance": self.cell_capacitance_f,
                              "whole_cell_resistance": self.amplifier.series_resistance})

    def auto_bridge(self):
        """Bridge balance = the access resistance."""
        return self.request({"bridge": self.amplifier.series_resistance})

    def set_rs_compensation(self, fraction):
        """Set prediction and correction (0-1) as the locked controls do."""
        return self._edited("rs_correction", fraction * 100.0) if self.lock_box.isChecked() \
            else self.request({"rs_correction": fraction})

    def ideal(self):
        """Every artefact off: filter bypass, no noise, no hum, no digitiser."""
        return self.request({"filter_hz": None, "noise": False, "hum_hz": 0.0,
                              "digitizer": False})

    def comp_off(self):
        """Zero every compensation setting and ask for the cell to be settled."""
        done = self.request({field: 0.0 for field in COMPENSATION})
        if done:
            self.osc_lamp.set_on(False)
            self.settleRequested.emit()
        return done

    # --- state shown ------------------------------------------------------------------

    def set_amplifier(self, amplifier, cell_capacitance_f=None):
        """Show an Amplifier's settings without emitting (e.g. after a cell change)."""
        self.amplifier = amplifier
        if cell_capacitance_f is not None:
            self.cell_capacitance_f = float(cell_capacitance_f)
            self.cm_spin.blockSignals(True)
            self.cm_spin.setValue(units.f_to_pf(self.cell_capacitance_f))
            self.cm_spin.blockSignals(False)
        for field, spin in self.spins.items():
            spin.blockSignals(True)
            spin.setValue(to_display(field, getattr(amplifier, field)))
            spin.blockSignals(False)
        for combo, value in ((self.filter_combo, amplifier.filter_hz),
                             (self.gain_combo, amplifier.gain),
                             (self.hum_combo, float(amplifier.hum_hz)),
                             (self.range_combo, amplifier.feedback_resistance)):
            combo.blockSignals(True)
            index = combo.findData(value)
            combo.setCurrentIndex(index if index >= 0 else 0)
            combo.blockSignals(False)
        for box, on in ((self.noise_box, amplifier.noise),
                        (self.digitizer_box, amplifier.digitizer)):
            box.blockSignals(True)
            box.setChecked(bool(on))
            box.blockSignals(False)

    def output_changes(self):
        """The output-chain settings as (field, value) pairs, to carry to a new cell."""
        a = self.amplifier
        return (("filter_hz", a.filter_hz), ("gain", a.gain), ("noise", a.noise),
                ("hum_hz", a.hum_hz), ("digitizer", a.digitizer))

    def show_chunks(self, chunks):
        """OSC lamp from the newest chunk's saturation flag (the amplifier panel's OVLD
        lamp shows the digitiser's overload)."""
        if chunks:
            self.osc_lamp.set_on(chunks[-1].saturated)


def install(window):
    """Add the panel to a rig window as a 'Compensation' dock tabbed with the amplifier
    dock, wired to the window's client; returns the panel."""
    from PySide6.QtWidgets import QDockWidget, QScrollArea

    from rig.acquisition import commands as c

    state = window.session.engine
    panel = CompensationPanel(state.amplifier, units.pf_to_f(state.cell.capacitance_pf), state.cell)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    scroll.setWidget(panel)
    dock = QDockWidget("Compensation", window)
    dock.setObjectName("CompensationDock")
    dock.setWidget(scroll)
    dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable)
    amplifier_dock = window.findChild(QDockWidget, "AmplifierDock")
    window.addDockWidget(Qt.LeftDockWidgetArea, dock)
    window.tabifyDockWidget(amplifier_dock, dock)
    amplifier_dock.raise_()
    panel.changesRequested.connect(lambda changes: window.client.send(c.SetAmplifier(changes)))
    panel.settleRequested.connect(lambda: window.client.send(c.ResetCell()))
    panel.capacitanceRequested.connect(lambda farad: window.client.send(c.SetCapacitance(farad)))
    panel.message.connect(window.show_error)
    def replaced(_cell):
        # A new cell (a new engine): show its electrode and carry the output chain over.
        new = window.session.engine
        panel.set_cell(new.cell)
        keep = panel.output_changes()
        panel.set_amplifier(new.amplifier.changed(**dict(keep)),
                            units.pf_to_f(new.cell.capacitance_pf))
        window.client.send(c.SetAmplifier(keep))

    window.session.events.cell.connect(replaced)
    window.client.chunks.connect(panel.show_chunks)
    return panel
