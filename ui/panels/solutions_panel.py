"""Bath and pipette solutions and temperature, with what they set beside them.

One table holds both solutions: a row per species (the permeant ions Na, K, Cl, Ca
first, then every other species either solution holds, or one added with 'Add'), a
column each for the bath (outside) and the pipette (inside) in mM, and a read-only
column with that ion's Nernst potential (mV). An empty cell means the species is
absent. A preset combo above each column loads a shipped solution.

'Substitute' replaces an amount (mM) or a percentage of one ion by an equal charge of
another (Na by NMDG, K by Na, Cl by gluconate, ...), as a lab does. Under the table:
each solution's osmolarity and charge balance (red with the excess in mM when it is
not electroneutral); beside them the temperature (degC, 0-45), the GHK resting
potential and the rest (rig.model.physics, rig.simulation.steady_state; in I=0 the
live Vm too); under them the liquid junction potential (rig.model.junction) with
the switch that corrects it in whole-cell.

Valid edits emit ``commandRequested(SetSolutions | SetTemperature | SetAmplifier)``; a bad number or
a solution without a permeant ion marks the cell red (tooltip says why), emits
``message(str)``, and sends nothing.
"""

from types import MappingProxyType

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rig import units
from rig.acquisition import commands as c
from rig.errors import VrigError
from rig.model import physics
from rig.model.ions import CHARGE, PERMEANT_IONS, VALENCE
from rig.model.junction import junction_potential
from rig.model.solutions import (
    Solution,
    charge_problem,
    check_permeant,
    reversal_potentials,
    scan_solutions,
    substitute,
)
from rig.simulation.steady_state import resting_potential_mv
from ui.look import theme
from ui.panels.solutions_text import (
    LJP_HELP,
    OSMOLARITY_HELP,
    balance_text,
    format_mv,
    maybe_float,
    parse_mm,
)
from ui.panels.substitute_box import SubstituteBox, compact

SIDES = ("bath", "pipette")
COLUMN = MappingProxyType({"bath": 0, "pipette": 1})
TITLES = MappingProxyType({"bath": "Bath", "pipette": "Pipette"})
E_COLUMN = 2
EDITED = " (edited)"
ROW_PX = 24
BAD_BRUSH = "#5a1d22"  # the dark look's; theme.color() gives the one shown
PANEL_QSS = """
QLabel#PotentialName { color: #9aa5b4; font-size: 14px; font-weight: bold; }
QLabel#Potential { background: #0b0d0f; color: #ffd54f; border: 1px solid #323943;
                   border-radius: 5px; padding: 1px 8px; font-size: 18px; font-weight: bold;
                   font-family: "DejaVu Sans Mono", monospace; }
QLabel#PotentialNote { color: #7f8a99; font-size: 12px; }
QLabel#Balance { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; color: #aab4c3; }
QLabel#Balance[bad="true"] { color: #ff8080; font-weight: bold; }
QTableWidget#SolutionTable { font-family: "DejaVu Sans Mono", monospace; font-size: 14px; }
QDoubleSpinBox#Temperature { font-size: 16px; font-weight: bold; color: #ffb74d; }
"""
class SolutionsPanel(QWidget):
    """Bath/pipette table, substitution, balance, temperature and readouts; see the
    module docstring."""

    commandRequested = Signal(object)
    message = Signal(str)

    def __init__(self, cell, bath, pipette, temperature_c, parent=None):
        super().__init__(parent)
        self.setObjectName("SolutionsPanel")
        theme.set_style(self, PANEL_QSS)
        self.cell = cell
        self.solutions = {"bath": bath, "pipette": pipette}
        self.temperature_c = float(temperature_c)
        self.presets = scan_solutions()[0]  # broken presets are left out (rig.model.shipped)
        self.rows = []
        self._added = []  # species added with 'Add' that neither solution holds yet
        self._filling = False
        self.box = QBoxLayout(QBoxLayout.LeftToRight, self)
        self.box.setContentsMargins(6, 6, 6, 6)
        self.box.setSpacing(10)
        left = QVBoxLayout()
        left.setSpacing(4)
        left.addWidget(self._build_table(), 1)
        left.addLayout(self._build_balance())
        right = QVBoxLayout()
        right.setSpacing(6)
        right.addLayout(self._build_presets())
        self.substitution = SubstituteBox()
        self.substitution.substituteRequested.connect(self.substitute)
        self.substitution.addRequested.connect(self._add_row)
        right.addWidget(self.substitution)
        right.addLayout(self._build_readouts())
        right.addStretch(1)
        self.box.addLayout(left, 1)
        self.box.addLayout(right, 1)
        self.measured = None  # (V) mean Vm of the newest I=0 chunk
        self._fill()
        self.refresh()

    def set_horizontal(self, horizontal):
        """Columns side by side (a wide, low dock) or stacked (a tall one)."""
        self.box.setDirection(QBoxLayout.LeftToRight if horizontal else QBoxLayout.TopToBottom)

    # --- construction -----------------------------------------------------------------

    def _build_presets(self):
        grid = QGridLayout()
        grid.setColumnStretch(1, 1)
        self.preset_combos, self.side_labels = {}, {}
        for row, side in enumerate(SIDES):
            label = QLabel()
            label.setObjectName("PotentialName")
            self.side_labels[side] = label
            combo = compact(QComboBox(), 10)
            combo.addItems(list(self.presets))
            combo.setToolTip(f"load a shipped {side} solution")
            combo.activated.connect(lambda _i, s=side: self.select_preset(
                s, self.preset_combos[s].currentText()))
            grid.addWidget(label, row, 0)
            grid.addWidget(combo, row, 1)
            self.preset_combos[side] = combo
        return grid

    def _build_table(self):
        table = QTableWidget(0, 3)
        table.setObjectName("SolutionTable")
        table.setHorizontalHeaderLabels(["bath mM", "pipette mM", "E rev"])
        table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        table.verticalHeader().setDefaultSectionSize(ROW_PX)
        table.setSelectionMode(QAbstractItemView.SingleSelection)
        table.setVerticalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        table.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        table.setMinimumHeight(ROW_PX * 5 + table.horizontalHeader().sizeHint().height())
        table.setMinimumWidth(340)
        table.setToolTip("concentrations in mM; empty = absent. Only Na, K, Cl and Ca "
                         "permeate; the others (NMDG, gluconate, HEPES, glucose, ...) count "
                         "for charge and osmolarity. Cs blocks K channels only through the "
                         "Cs drug line")
        table.itemChanged.connect(self._item_changed)
        self.table = table
        return table

    def _build_balance(self):
        grid = QGridLayout()
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(0)
        grid.setColumnStretch(1, 1)
        self.balance_labels = {}
        for row, side in enumerate(SIDES):
            name = QLabel(side)
            name.setObjectName("Balance")
            value = QLabel()
            value.setObjectName("Balance")
            value.setToolTip(OSMOLARITY_HELP)
            grid.addWidget(name, row, 0, Qt.AlignTop)
            grid.addWidget(value, row, 1)
            self.balance_labels[side] = value
        return grid

    def _build_readouts(self):
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.temperature = QDoubleSpinBox()
        self.temperature.setObjectName("Temperature")
        self.temperature.setRange(physics.MIN_TEMPERATURE_C, physics.MAX_TEMPERATURE_C)
        self.temperature.setDecimals(1)
        self.temperature.setSingleStep(0.5)
        self.temperature.setSuffix(" \u00b0C")
        self.temperature.setKeyboardTracking(False)
        self.temperature.setValue(self.temperature_c)
        self.temperature.setToolTip("bath temperature: gating kinetics scale with Q10 = 3, "
                                    "reversal potentials with RT/F")
        self.temperature.valueChanged.connect(self.set_temperature)
        self.ghk_label, self.rest_label = QLabel(), QLabel()
        for col, (title, value) in enumerate((("Temperature", self.temperature),
                                              ("GHK rest", self.ghk_label),
                                              ("Cell rest", self.rest_label))):
            label = QLabel(title)
            label.setObjectName("PotentialName")
            if value is not self.temperature:
                value.setObjectName("Potential")
            grid.addWidget(label, 0, col)
            grid.addWidget(value, 1, col)
            grid.setColumnStretch(col, 1)
        self.ghk_note, self.rest_note = QLabel(), QLabel()
        for row, note in enumerate((self.ghk_note, self.rest_note), start=2):
            note.setObjectName("PotentialNote")
            note.setWordWrap(True)
            grid.addWidget(note, row, 0, 1, 3)
        junction = QLabel("Junction")
        junction.setObjectName("PotentialName")
        self.ljp_label = QLabel()
        self.ljp_label.setObjectName("Potential")
        self.ljp_correction = QCheckBox("correct it")
        self.ljp_correction.setObjectName("LjpCorrection")
        self.ljp_correction.setChecked(True)
        self.ljp_correction.setToolTip(LJP_HELP)
        self.ljp_correction.toggled.connect(self._send_ljp_correction)
        grid.addWidget(junction, 4, 0)
        grid.addWidget(self.ljp_label, 4, 1)
        grid.addWidget(self.ljp_correction, 4, 2)
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
        self.ljp_correction.blockSignals(True)
        self.ljp_correction.setChecked(True)  # a new engine starts corrected
        self.ljp_correction.blockSignals(False)
        self.measured = None
        self._added.clear()
        self._fill()
        self.refresh()

    def _species(self):
        held = set(self._added)
        for solution in self.solutions.values():
            held.update(solution.concentrations_mm)
        return list(PERMEANT_IONS) + [s for s in CHARGE if s in held and s not in PERMEANT_IONS]

    def _fill(self):
        """Rows for every species shown, both solutions' values, presets and titles."""
        self.rows = self._species()
        self._filling = True
        try:
            self.table.setRowCount(len(self.rows))
            self.table.setVerticalHeaderLabels(self.rows)
            for side in SIDES:
                solution = self.solutions[side]
                for row, ion in enumerate(self.rows):
                    mm = solution.concentrations_mm.get(ion)
                    item = QTableWidgetItem("" if mm is None else f"{mm:g}")
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                    self.table.setItem(row, COLUMN[side], item)
            for row in range(len(self.rows)):
                item = QTableWidgetItem("")
                item.setFlags(Qt.ItemIsEnabled)
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(row, E_COLUMN, item)
        finally:
            self._filling = False
        for side in SIDES:
            solution = self.solutions[side]
            combo = self.preset_combos[side]
            base = solution.name.split(" (")[0]
            if combo.findText(base) >= 0:
                combo.setCurrentText(base)
            combo.setToolTip(f"{solution.description}\n\nSource: {solution.source}".strip())
            edited = solution.name != base
            self.side_labels[side].setText(TITLES[side] + (" (edited)" if edited else ""))
            self.side_labels[side].setToolTip(
                "outside the cell" if side == "bath" else "inside the cell (the pipette fills it)")
        self.substitution.show_solutions(self.solutions)

    def row_of(self, ion):
        """The table row of a species (added as a row if it is not shown yet)."""
        if ion not in self.rows:
            if ion not in CHARGE:
                raise VrigError(f"unknown ion {ion!r:.40}; known: {', '.join(CHARGE)}")
            self._added.append(ion)
            self._fill()
            self.refresh()
        return self.rows.index(ion)

    def select_preset(self, side, name):
        """Load a shipped solution into a side and send it. Returns the Solution or None."""
        try:
            if name not in self.presets:
                raise VrigError(f"unknown solution {name!r}; available: "
                                f"{', '.join(self.presets)}")
            solution = check_permeant(self.presets[name], side)
        except VrigError as exc:
            self.message.emit(str(exc))
            return None
        self._set(side, solution)
        return solution

    def set_ion(self, side, ion, mm):
        """Type a concentration (mM, or None to remove the species) into the table, as a
        user would; returns True if it was accepted and sent."""
        try:
            row = self.row_of(ion)
        except VrigError as exc:
            self.message.emit(str(exc))
            return False
        text = "" if mm is None else (mm if isinstance(mm, str) else f"{mm:g}")
        self.table.item(row, COLUMN[side]).setText(text)  # -> _item_changed
        return self.solutions[side].concentrations_mm.get(ion) == (
            None if mm is None or text == "" else maybe_float(text))

    def substitute(self, side, ion, replacement, amount, unit="%"):
        """Replace amount (in unit '%' or 'mM') of an ion in a side's solution by an equal
        charge of another species, and send it. Returns the new Solution or None."""
        try:
            kwargs = {"percent": amount} if unit == "%" else {"amount_mm": amount}
            solution = check_permeant(substitute(self.solutions[side], ion, replacement,
                                                 **kwargs), side)
        except VrigError as exc:
            self.substitution.amount.setToolTip(str(exc))
            self.message.emit(str(exc))
            return None
        self.substitution.amount.setToolTip("")
        self._set(side, solution)
        return solution

    def _add_row(self, species):
        try:
            self.row_of(species)
        except VrigError as exc:
            self.message.emit(str(exc))

    def _item_changed(self, item):
        if self._filling or item.column() == E_COLUMN:
            return
        side = SIDES[item.column()]
        ion = self.rows[item.row()]
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
            solution = check_permeant(Solution(base + EDITED, changed, description,
                                               old.source), side)
        except VrigError as exc:
            self._mark(item, str(exc))
            self.message.emit(str(exc))
            return
        self._mark(item, "")
        self._set(side, solution)

    def _mark(self, item, error):
        self._filling = True
        try:
            item.setBackground(QBrush(theme.color(BAD_BRUSH)) if error else QBrush())
            item.setToolTip(error)
        finally:
            self._filling = False

    def _set(self, side, solution):
        """Show a new solution on a side and send it."""
        self.solutions[side] = solution
        self._fill()
        self.commandRequested.emit(c.SetSolutions(**{side: solution}))
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

    def _send_ljp_correction(self, on):
        self.commandRequested.emit(c.SetAmplifier((("junction_correction", bool(on)),)))

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
            result["rest"] = units.mv_to_v(resting_potential_mv(self.cell, bath, pipette, t))
        except VrigError:
            result["rest"] = None
        return result

    def refresh(self):
        """Recompute and show every readout."""
        values = self.potentials()
        self._filling = True
        try:
            for row, ion in enumerate(self.rows):
                item = self.table.item(row, E_COLUMN)
                e = values.get(f"E_{ion}")
                item.setText(format_mv(e) if ion in PERMEANT_IONS else "")
                item.setForeground(QBrush(theme.color("#ffd54f")))
                item.setToolTip(f"Nernst potential of {ion} (z = {VALENCE[ion]:+d})"
                                if e is not None else
                                f"{ion} needs to be on both sides for a Nernst potential"
                                if ion in PERMEANT_IONS else
                                f"{ion} (charge {CHARGE[ion]:+g} at pH 7.3) does not permeate")
        finally:
            self._filling = False
        for side in SIDES:
            label = self.balance_labels[side]
            problem = charge_problem(self.solutions[side])
            label.setText(balance_text(self.solutions[side]))
            label.setToolTip(f"{problem}\n\n{OSMOLARITY_HELP}".strip())
            label.setProperty("bad", bool(problem))
            label.style().unpolish(label)
            label.style().polish(label)
        p = self.cell.ghk_permeability or {"K": 1.0}
        ratios = ", ".join(f"{ion} {v:g}" for ion, v in p.items())
        self.ghk_label.setText(format_mv(values["GHK"]))
        self.ghk_note.setText(f"Goldman-Hodgkin-Katz with P = {ratios}")
        self.rest_label.setText(format_mv(values["rest"]))
        self._show_rest_note()
        bath, pipette = self.solutions["bath"], self.solutions["pipette"]
        try:
            ljp = junction_potential(pipette.concentrations_mm, bath.concentrations_mm,
                                     self.temperature_c)
        except VrigError as exc:
            self.ljp_label.setText("\u2014")
            self.ljp_label.setToolTip(str(exc))
        else:
            self.ljp_label.setText(format_mv(ljp))
            self.ljp_label.setToolTip(f"liquid junction potential of the pipette solution "
                                      f"in this bath (bath with respect to pipette; "
                                      f"Henderson equation).\n\n{LJP_HELP}")

    def apply_theme(self, _look):
        """Recolour the table's cells for the look shown."""
        self.refresh()
        for side in SIDES:
            for row in range(len(self.rows)):
                item = self.table.item(row, COLUMN[side])
                if item is not None and item.toolTip():
                    self._mark(item, item.toolTip())

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

