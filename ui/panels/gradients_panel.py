"""The "Gradients" tab of the Bath & drugs dock: the live concentrations, the Na/K
pump's current and rate, and the energy of a pump cycle against ATP's.

It only reads: the newest chunk's signals (Na_in, K_in, K_out, Ipump, Vmem; plain
data from the runner) and the engine's settings (a RigState). The energies come from
the Qt-free :mod:`rig.model.gradients`. Switching accumulation or the pump asks the
window for a new engine (``gradientsRequested(accumulation, pump)``), as a new cell
does; the fast-forward is a command (``commandRequested``).
"""

import math

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rig import units
from rig.acquisition import commands as c
from rig.model import gradients, physics

# (signal, label, unit, factor from SI to the unit shown)
READOUTS = (("Na_in", "Na inside", "mM", 1.0), ("K_in", "K inside", "mM", 1.0),
            ("K_out", "K outside (at the membrane)", "mM", 1.0),
            ("E_Na", "E_Na", "mV", units.MV_PER_V), ("E_K", "E_K", "mV", units.MV_PER_V),
            ("Ipump", "Pump current", "pA", units.PA_PER_A))
PMOL_PER_MOL = 1e12


class GradientsPanel(QWidget):
    """Live gradients, pump and energetics of the engine's cell."""

    commandRequested = Signal(object)
    gradientsRequested = Signal(bool, bool)  # accumulation, pump
    message = Signal(str)

    def __init__(self, state, parent=None):
        super().__init__(parent)
        self.setObjectName("GradientsPanel")
        self.accumulation = QCheckBox("Ion accumulation")
        self.accumulation.setToolTip("Internal Na, K, Cl (and K in a restricted space outside) "
                                     "change with the currents; a new cell is put in place")
        self.pump = QCheckBox("Na/K pump")
        self.pump.setToolTip("3 Na out, 2 K in per cycle: an outward current; a new cell is "
                             "put in place")
        self.minutes = QDoubleSpinBox()
        self.minutes.setRange(0.1, 6000.0)
        self.minutes.setValue(10.0)
        self.minutes.setSuffix(" min")
        self.fast_forward = QPushButton("Fast-forward")
        self.fast_forward.setToolTip("Let the cell rest that long in I=0 in a few seconds: "
                                     "exact while it rests, refused if it would fire")
        switches = QHBoxLayout()
        for widget in (self.accumulation, self.pump, self.minutes, self.fast_forward):
            switches.addWidget(widget)
        switches.addStretch(1)
        grid = QGridLayout()
        self.values = {}
        rows = [(name, label, unit) for name, label, unit, _ in READOUTS] + [
            ("rate", "Pump rate", "pmol/cm^2/s"), ("work", "Work per cycle", "kJ/mol"),
            ("atp", "ATP hydrolysis gives", "kJ/mol")]
        for row, (name, label, unit) in enumerate(rows):
            value = QLabel("-")
            value.setObjectName(f"gradient_{name}")
            grid.addWidget(QLabel(label), row, 0)
            grid.addWidget(value, row, 1)
            grid.addWidget(QLabel(unit), row, 2)
            self.values[name] = value
        grid.setColumnStretch(3, 1)  # the readouts stay together at the left
        layout = QVBoxLayout(self)
        layout.addLayout(switches)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.accumulation.toggled.connect(self._switched)
        self.pump.toggled.connect(self._switched)
        self.fast_forward.clicked.connect(self._fast_forward)
        self.set_state(state)

    def set_state(self, state):
        """Show a (new) engine's settings (a RigState): its switches and the fixed
        concentrations until chunks bring live ones."""
        self.state = state
        meta = state.metadata
        for box, key in ((self.accumulation, "accumulation"), (self.pump, "pump")):
            box.blockSignals(True)
            box.setChecked(meta.get(key) == "on")
            box.blockSignals(False)
        self.fast_forward.setEnabled(self.accumulation.isChecked())
        self.live = {"Na_in": state.pipette.mm("Na"), "K_in": state.pipette.mm("K"),
                     "K_out": state.bath.mm("K"), "Ipump": 0.0, "Vmem": math.nan}
        self._show()

    def _switched(self, _checked=False):
        self.gradientsRequested.emit(self.accumulation.isChecked(), self.pump.isChecked())

    def _fast_forward(self):
        self.commandRequested.emit(c.FastForward(self.minutes.value() * 60.0))

    def show_chunks(self, chunks):
        """Take the newest values of the chunks' gradient signals."""
        if not chunks:
            return
        signals = chunks[-1].signals
        for name in ("Na_in", "K_in", "K_out", "Ipump", "Vmem"):
            if name in signals and np.size(signals[name]):
                self.live[name] = float(np.asarray(signals[name])[-1])
        self._show()

    def _show(self):
        t = self.state.temperature_c
        live = self.live
        inside = {"Na": live["Na_in"], "K": live["K_in"]}
        outside = {"Na": self.state.bath.mm("Na"), "K": live["K_out"]}
        shown = dict(live)
        for ion, key in (("Na", "E_Na"), ("K", "E_K")):
            shown[key] = (physics.nernst(1, outside[ion], inside[ion], t)
                          if min(outside[ion], inside[ion]) > 0 else math.nan)
        for name, _, _, factor in READOUTS:
            self.values[name].setText(_format(shown.get(name, math.nan) * factor))
        area_cm2 = self.state.cell.area_um2 * units.CM2_PER_UM2
        rate = live["Ipump"] / physics.FARADAY / area_cm2 * PMOL_PER_MOL
        self.values["rate"].setText(_format(rate) if self.pump.isChecked() else "off")
        v_mv = units.v_to_mv(live["Vmem"])
        work = (gradients.cycle_work_kj_per_mol(inside, outside, v_mv, t)
                if math.isfinite(v_mv) and min(*inside.values(), *outside.values()) > 0
                else math.nan)
        self.values["work"].setText(_format(work))
        self.values["atp"].setText(_format(gradients.atp_free_energy_kj_per_mol(t)))


def _format(value):
    return "-" if not math.isfinite(value) else f"{value:.4g}"
