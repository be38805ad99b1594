"""Bath and pipette solutions and temperature, with the potentials they set beside them.

One table holds both solutions: a row per ion the rig knows (Na, K, Cl, Ca and the
substitutes NMDG, choline, Cs, Mg, gluconate), a column each for the bath (outside)
and the pipette (inside) in mM, and a read-only column with that ion's Nernst
potential (mV). An empty cell means the ion is absent. A preset combo above each
column loads a shipped solution. Below: the temperature (degC, 0-45), the GHK resting
potential for the cell's resting permeabilities, and the cell's actual rest.

Numbers are not computed here: reversal potentials come from
:func:`rig.solutions.reversal_potentials`, the GHK voltage from
:func:`rig.physics.ghk_voltage`, and the rest from a throwaway :class:`rig.engine.Rig`
built with the same cell, solutions and temperature (its ``resting_potential()``, a
few ms). In I=0 the measured Vm of the live cell is shown too.

Valid edits emit ``commandRequested(SetSolutions | SetTemperature)``; a bad number or
a solution without a permeant ion marks the cell red (tooltip says why), emits
``message(str)``, and sends nothing.
"""

import math
from types import MappingProxyType

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (QAbstractItemView, QBoxLayout, QComboBox, QDoubleSpinBox, QGridLayout,
                               QHeaderView, QLabel, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from rig import commands as c
from rig import physics, resources
from rig.engine import Rig
from rig.errors import VrigError
from rig.solutions import (PERMEANT_IONS, VALENCE, Solution, check_concentration,
                           check_permeant, load_solution, reversal_potentials)

SIDES = ("bath", "pipette")
COLUMN = MappingProxyType({"bath": 0, "pipette": 1})
E_COLUMN = 2
IONS = ("Na", "K", "Cl", "Ca", "Mg", "NMDG", "choline", "Cs", "gluconate")
EDITED = " (edited)"
ROW_PX = 25
BAD_BRUSH = QColor("#5a1d22")
PANEL_QSS = """
QLabel#PotentialName { color: #9aa5b4; font-size: 14px; font-weight: bold; }
QLabel#Potential { background: #0b0d0f; color: #ffd54f; border: 1px solid #323943;
                   border-radius: 5px; padding: 1px 8px; font-size: 20px; font-weight: bold;
                   font-family: "DejaVu Sans Mono", monospace; }
QLabel#PotentialNote { color: #7f8a99; font-size: 12px; }
QTableWidget#SolutionTable { font-family: "DejaVu Sans Mono", monospace; font-size: 15px; }
QDoubleSpinBox#Temperature { font-size: 17px; font-weight: bold; color: #ffb74d; }
"""


def format_mv(volts):
    """A potential (V) as '+50.1 mV' ('---' when unknown)."""
    return f"{volts * 1e3:+6.1f} mV" if volts is not None and math.isfinite(volts) else "  ---"


def parse_mm(ion, text):
    """Table text -> mM (None for an empty cell = ion absent); VrigError if invalid."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise VrigError(f"{ion}: {text!r} is not a number of mM (leave empty to remove "
                        f"{ion})") from None
    if not math.isfinite(value):
        raise VrigError(f"{ion}: {text!r} is not a finite number of mM")
    check_concentration(ion, value)
    return value


class SolutionsPanel(QWidget):
    """Bath/pipette table, temperature and readouts; see the module docstring."""

    commandRequested = Signal(object)
    message = Signal(str)

    def __init__(self, cell, bath, pipette, temperature_c, parent=None):
        super().__init__(parent)
        self.setObjectName("SolutionsPanel")
        self.setStyleSheet(PANEL_QSS)
        self.cell = cell
        self.solutions = {"bath": bath, "pipette": pipette}
        self.temperature_c = float(temperature_c)
        self._filling = False
        self.box = QBoxLayout(QBoxLayout.LeftToRight, self)
        self.box.setContentsMargins(6, 6, 6, 6)
        self.box.setSpacing(10)
        self.box.addWidget(self._build_table(), 3)
        side = QVBoxLayout()
        side.setSpacing(6)
        side.addLayout(self._build_presets())
        side.addLayout(self._build_readouts())
        side.addStretch(1)
        self.box.addLayout(side, 2)
        for side in SIDES:
            self._fill(side)
        self.refresh()

    def set_horizontal(self, horizontal):
        """Readouts beside the table (a wide, low dock) or below it (a tall one)."""
        self.box.setDirection(QBoxLayout.LeftToRight if horizontal else QBoxLayout.TopToBottom)

    # --- construction -----------------------------------------------------------------

    def _build_presets(self):
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.preset_combos, self.side_labels = {}, {}
        for col, side in enumerate(SIDES):
            label = QLabel()
            label.setObjectName("PotentialName")
            self.side_labels[side] = label
            combo = QComboBox()
            combo.addItems(resources.preset_names("solutions"))
            combo.setToolTip(f"load a shipped {side} solution")
            combo.activated.connect(lambda _i, s=side: self.select_preset(
                s, self.preset_combos[s].currentText()))
            grid.addWidget(label, col, 0)
            grid.addWidget(combo, col, 1)
            self.preset_combos[side] = combo
        return grid

    def _build_table(self):
        table = QTableWidget(len(IONS), 3)
        table.setObjectName("SolutionTable")
        table.setHorizontalHeaderLabels(["bath mM", "pipette mM", "E rev"])
        table.setVerticalHeaderLabels(list(IONS))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        table.verticalHeader().setDefaultSectionSize(ROW_PX)
        table.setSelectionMode(QAbstractItemView.SingleSelection)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        table.setFixedHeight(ROW_PX * len(IONS) + table.horizontalHeader().sizeHint().height() + 4)
        table.setToolTip("concentrations in mM; empty = absent. Substitutes (NMDG, choline, "
                         "gluconate...) do not permeate; Cs acts as a K-channel blocker "
                         "only through the Cs drug line")
        for row, ion in enumerate(IONS):
            item = QTableWidgetItem("")
            item.setFlags(Qt.ItemIsEnabled)
            item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
            table.setItem(row, E_COLUMN, item)
        table.itemChanged.connect(self._item_changed)
        self.table = table
        return table

    def _build_readouts(self):
        grid = QGridLayout()
        grid.setVerticalSpacing(4)
        grid.setColumnStretch(1, 1)
        name = QLabel("Temperature")
        name.setObjectName("PotentialName")
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("Temperature")
        self.temperature.setRange(physics.MIN_TEMPERATURE_C, physics.MAX_TEMPERATURE_C)
        self.temperature.setDecimals(1)
        self.temperature.setSingleStep(0.5)
        self.temperature.setSuffix(" \u00b0C")
        self.temperature.setKeyboardTracking(False)
        self.temperature.setValue(self.temperature_c)
        self.temperature.setMinimumHeight(32)
        self.temperature.setToolTip("bath temperature: gating kinetics scale with Q10 = 3, "
                                    "reversal potentials with RT/F")
        self.temperature.valueChanged.connect(self.set_temperature)
        grid.addWidget(name, 0, 0)
        grid.addWidget(self.temperature, 0, 1)
        self.ghk_label, self.rest_label = QLabel(), QLabel()
        self.ghk_note, self.rest_note = QLabel(), QLabel()
        for row, (title, value, note) in enumerate(
                (("GHK rest", self.ghk_label, self.ghk_note),
                 ("Cell rest", self.rest_label, self.rest_note)), start=1):
            label = QLabel(title)
            label.setObjectName("PotentialName")
            value.setObjectName("Potential")
            note.setObjectName("PotentialNote")
            note.setWordWrap(True)
            grid.addWidget(label, 2 * row - 1, 0)
            grid.addWidget(value, 2 * row - 1, 1)
            grid.addWidget(note, 2 * row, 0, 1, 2)
        self.measured = None  # (V) mean Vm of the newest I=0 chunk
        return grid

    # --- state in and out -------------------------------------------------------------

    def set_state(self, cell, bath, pipette, temperature_c):
        """Show a (new) engine's settings without sending anything."""
        self.cell = cell
        self.solutions = {"bath": bath, "pipette": pipette}
        self.temperature_c = float(temperature_c)
        self.temperature.blockSignals(True)
        self.temperature.setValue(self.temperature_c)
        self.temperature.blockSignals(False)
        self.measured = None
        for side in SIDES:
            self._fill(side)
        self.refresh()

    def _fill(self, side):
        solution = self.solutions[side]
        combo = self.preset_combos[side]
        base = solution.name.split(" (")[0]
        if combo.findText(base) >= 0:
            combo.setCurrentText(base)
        combo.setToolTip(f"{solution.description}\n\nSource: {solution.source}".strip())
        title = "Bath (out)" if side == "bath" else "Pipette (in)"
        self.side_labels[side].setText(title + (" \u2013 edited" if EDITED in solution.name
                                                else ""))
        self._filling = True
        try:
            for row, ion in enumerate(IONS):
                mm = solution.concentrations_mm.get(ion)
                item = QTableWidgetItem("" if mm is None else f"{mm:g}")
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, COLUMN[side], item)
        finally:
            self._filling = False

    def select_preset(self, side, name):
        """Load a shipped solution into a side and send it. Returns the Solution or None."""
        try:
            solution = load_solution(name)
            check_permeant(solution, side)
        except VrigError as exc:
            self.message.emit(str(exc))
            return None
        self.solutions[side] = solution
        self._fill(side)
        self._send(side)
        return solution

    def set_ion(self, side, ion, mm):
        """Type a concentration (mM, or None to remove the ion) into the table, as a user
        would; returns True if it was accepted and sent."""
        row = IONS.index(ion)
        text = "" if mm is None else (mm if isinstance(mm, str) else f"{mm:g}")
        self.table.item(row, COLUMN[side]).setText(text)  # -> _item_changed
        return self.solutions[side].concentrations_mm.get(ion) == (
            None if mm is None or text == "" else _maybe_float(text))

    def _item_changed(self, item):
        if self._filling or item.column() == E_COLUMN:
            return
        side = SIDES[item.column()]
        ion = IONS[item.row()]
        try:
            mm = parse_mm(ion, item.text())
            changed = dict(self.solutions[side].concentrations_mm)
            if mm is None:
                changed.pop(ion, None)
            else:
                changed[ion] = mm
            old = self.solutions[side]
            base = old.name.split(" (")[0]
            note = "; edited in the panel"
            description = old.description if old.description.endswith(note) else (
                old.description + note)
            solution = Solution(base + EDITED, changed, description, old.source)
            check_permeant(solution, side)
        except VrigError as exc:
            self._mark(item, str(exc))
            self.message.emit(str(exc))
            return
        self._mark(item, "")
        self.solutions[side] = solution
        self.side_labels[side].setText(("Bath (out)" if side == "bath" else "Pipette (in)")
                                       + " \u2013 edited")
        self._send(side)

    def _mark(self, item, error):
        self._filling = True
        try:
            item.setBackground(QBrush(BAD_BRUSH) if error else QBrush())
            item.setToolTip(error)
        finally:
            self._filling = False

    def _send(self, side):
        for row in range(len(IONS)):  # a whole new solution is valid: clear old marks
            item = self.table.item(row, COLUMN[side])
            if item is not None and item.toolTip():
                self._mark(item, "")
        self.commandRequested.emit(c.SetSolutions(**{side: self.solutions[side]}))
        self.refresh()

    def set_temperature(self, temperature_c):
        """Set the bath temperature (degC) and send it; returns True if accepted."""
        try:
            value = physics.check_temperature(temperature_c)
        except VrigError as exc:
            self.message.emit(str(exc))
            return False
        if self.temperature.value() != value:
            self.temperature.blockSignals(True)
            self.temperature.setValue(value)
            self.temperature.blockSignals(False)
        self.temperature_c = value
        self.commandRequested.emit(c.SetTemperature(value))
        self.refresh()
        return True

    # --- readouts ---------------------------------------------------------------------

    def potentials(self):
        """{'E_Na': V, ..., 'GHK': V or None, 'rest': V or None} for the shown settings."""
        bath, pipette, t = self.solutions["bath"], self.solutions["pipette"], self.temperature_c
        result = {f"E_{ion}": v for ion, v in reversal_potentials(bath, pipette, t).items()}
        try:
            result["GHK"] = physics.ghk_voltage(self.cell.ghk_permeability or {"K": 1.0},
                                                bath.concentrations_mm,
                                                pipette.concentrations_mm, t)
        except VrigError:
            result["GHK"] = None
        try:
            result["rest"] = Rig(self.cell, bath, pipette, t).resting_potential()
        except VrigError:
            result["rest"] = None
        return result

    def refresh(self):
        """Recompute and show every readout."""
        values = self.potentials()
        self._filling = True
        try:
            for row, ion in enumerate(IONS):
                item = self.table.item(row, E_COLUMN)
                e = values.get(f"E_{ion}")
                item.setText(format_mv(e) if ion in PERMEANT_IONS else "")
                item.setForeground(QBrush(QColor("#ffd54f")))
                item.setToolTip(f"Nernst potential of {ion} (z = {VALENCE[ion]:+d})"
                                if e is not None else
                                f"{ion} needs to be on both sides for a Nernst potential"
                                if ion in PERMEANT_IONS else f"{ion} does not permeate")
        finally:
            self._filling = False
        p = self.cell.ghk_permeability or {"K": 1.0}
        ratios = ", ".join(f"{ion} {v:g}" for ion, v in p.items())
        self.ghk_label.setText(format_mv(values["GHK"]))
        self.ghk_note.setText(f"Goldman-Hodgkin-Katz with P = {ratios}")
        self.rest_label.setText(format_mv(values["rest"]))
        self._show_rest_note()

    def _show_rest_note(self):
        note = f"{self.cell.name}'s steady state with no current (leak included)"
        if self.measured is not None:
            note += f"; measured now in I=0: {format_mv(self.measured).strip()}"
        else:
            note += "; switch to I=0 to measure it live"
        self.rest_note.setText(note)

    def show_chunks(self, chunks):
        """Take the live Vm (V) of the newest chunk while the amplifier is in I=0."""
        if not chunks:
            return
        newest = chunks[-1]
        measured = (float(np.mean(newest.signals["Vm"])) if newest.mode == "I0"
                    and "Vm" in newest.signals else None)
        if (measured is None) != (self.measured is None) or (
                measured is not None and abs(measured - self.measured) > 2e-4):
            self.measured = measured
            self._show_rest_note()


def _maybe_float(text):
    try:
        return float(text)
    except ValueError:
        return None
