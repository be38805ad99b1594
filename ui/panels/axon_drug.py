"""The Axon tab's dialog for a drug on a stretch of the fibre (a local application):
which drug, how much, from where to where along the fibre. It only makes the command
(:class:`rig.acquisition.commands.ApplyLocalDrug`); the window sends it."""

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
)

from rig.acquisition import commands as c
from rig.model.pharmacology import drug_names

DEFAULT_DRUG = "TTX"
DEFAULT_UM = 1.0  # uM: blocks the Na channels of the stretch fully
DEFAULT_STRETCH = (0.4, 0.5)  # of the fibre's length


class LocalDrugDialog(QDialog):
    """Asks for a drug on a stretch of a fibre length_mm long; command() is the
    ApplyLocalDrug to send once accepted."""

    def __init__(self, length_mm, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Drug on a stretch of the fibre")
        form = QFormLayout(self)
        self.drug = QComboBox()
        names = drug_names()
        self.drug.addItems(names)
        if DEFAULT_DRUG in names:
            self.drug.setCurrentText(DEFAULT_DRUG)
        form.addRow("Drug", self.drug)
        self.concentration = QDoubleSpinBox()
        self.concentration.setRange(0.001, 100_000.0)
        self.concentration.setDecimals(3)
        self.concentration.setSuffix(" uM")
        self.concentration.setValue(DEFAULT_UM)
        form.addRow("Concentration", self.concentration)
        self.start, self.end = QDoubleSpinBox(), QDoubleSpinBox()
        for box, fraction in zip((self.start, self.end), DEFAULT_STRETCH):
            box.setRange(0.0, length_mm)
            box.setDecimals(2)
            box.setSuffix(" mm")
            box.setValue(round(fraction * length_mm, 2))
        form.addRow("From", self.start)
        form.addRow("To", self.end)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def command(self):
        """The ApplyLocalDrug of the values shown (SI: M and m); the engine checks the
        stretch (reversed, empty or off the fibre is reported, and nothing changes)."""
        return c.ApplyLocalDrug(self.drug.currentText(), self.concentration.value() * 1e-6,
                                self.start.value() * 1e-3, self.end.value() * 1e-3)
