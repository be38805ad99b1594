"""The 'Substitute' controls of the solutions panel: replace part of one ion of the
bath or the pipette by an equal charge of another, as a lab makes up a solution.

The box offers, for the side chosen, the charged species that solution holds, and
for the ion chosen the usual replacements first (rig.model.solutions.SUBSTITUTES: Na by
NMDG or choline, K by Na, Cl by gluconate, ...) then any other ion of the same sign.
It does no chemistry: Apply emits ``substituteRequested(side, ion, replacement,
amount, unit)`` with unit '%' or 'mM', and 'Add…' emits ``addRequested(species)``
for a new table row; the panel makes the change with rig.model.solutions.substitute.
"""

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from rig.model.solutions import CHARGE, SUBSTITUTES

SIDES = ("bath", "pipette")


def compact(combo, characters=7):
    """A combo box that does not widen its column to fit its longest item."""
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    return combo


class SubstituteBox(QWidget):
    """Side, ion, replacement, amount and unit, Apply and Add; see the module docstring."""

    substituteRequested = Signal(str, str, str, float, str)
    addRequested = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.solutions = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(4)
        grid.setVerticalSpacing(4)
        title = QLabel("Substitute")
        title.setObjectName("PotentialName")
        title.setToolTip("replace part of one ion by an equal charge of another, as a lab "
                         "makes up a solution: the charge balance is kept")
        self.side = compact(QComboBox(), 6)
        for side in SIDES:
            self.side.addItem(side, side)
        self.ion = compact(QComboBox(), 5)
        self.replacement = compact(QComboBox(), 7)
        self.amount = QDoubleSpinBox()
        self.amount.setRange(0.0, 2000.0)
        self.amount.setDecimals(2)
        self.amount.setValue(50.0)
        self.amount.setKeyboardTracking(False)
        self.unit = compact(QComboBox(), 3)
        self.unit.addItems(["%", "mM"])
        self.button = QPushButton("Apply")
        self.button.setToolTip("make the substitution and send the new solution")
        self.add_combo = compact(QComboBox(), 5)
        self.add_combo.setToolTip("add a row for another species (then type its mM)")
        self.add_combo.addItem("Add…")
        self.add_combo.addItems(list(CHARGE))
        grid.addWidget(title, 0, 0)
        grid.addWidget(self.side, 0, 1)
        grid.addWidget(self.ion, 0, 2)
        grid.addWidget(QLabel("→"), 0, 3)
        grid.addWidget(self.replacement, 0, 4)
        row = QHBoxLayout()
        row.addWidget(self.amount, 1)
        row.addWidget(self.unit)
        row.addWidget(self.button)
        row.addWidget(self.add_combo)
        grid.addLayout(row, 1, 1, 1, 4)
        for col in (1, 2, 4):
            grid.setColumnStretch(col, 1)
        self.side.currentIndexChanged.connect(lambda _i: self.offer_ions())
        self.ion.currentIndexChanged.connect(lambda _i: self._offer_replacements())
        self.button.clicked.connect(self._apply_clicked)
        self.add_combo.activated.connect(self._add_clicked)

    def show_solutions(self, solutions):
        """Offer the ions of {side: Solution} (the panel's solutions as shown)."""
        self.solutions = dict(solutions)
        self.offer_ions()

    def _apply_clicked(self):
        self.substituteRequested.emit(self.side.currentData(), self.ion.currentText(),
                                      self.replacement.currentText(), self.amount.value(),
                                      self.unit.currentText())

    def _add_clicked(self, index):
        if index > 0:
            self.addRequested.emit(self.add_combo.itemText(index))
        self.add_combo.setCurrentIndex(0)

    def offer_ions(self):
        """The ions of the chosen side that can be substituted."""
        side = self.side.currentData()
        if side not in self.solutions:
            return
        keep = self.ion.currentText()
        self.ion.blockSignals(True)
        self.ion.clear()
        self.ion.addItems([ion for ion, mm in self.solutions[side].concentrations_mm.items()
                           if mm > 0 and CHARGE[ion]])
        if self.ion.findText(keep) >= 0:
            self.ion.setCurrentText(keep)
        self.ion.blockSignals(False)
        self._offer_replacements()

    def _offer_replacements(self):
        """Replacements for the chosen ion: the usual ones first, then any other ion of
        the same sign."""
        ion = self.ion.currentText()
        keep = self.replacement.currentText()
        sign = math.copysign(1, CHARGE.get(ion, 1))
        usual = list(SUBSTITUTES.get(ion, ()))
        others = [s for s, z in CHARGE.items() if z and math.copysign(1, z) == sign
                  and s != ion and s not in usual]
        self.replacement.clear()
        self.replacement.addItems(usual + others)
        if self.replacement.findText(keep) >= 0:
            self.replacement.setCurrentText(keep)
