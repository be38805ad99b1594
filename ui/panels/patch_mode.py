"""The amplifier panel's PATCH group: a patch's recording configuration and channel
count, and the scope's current axis set to its unitary openings.

Shown while the cell is a patch (a preset that names its configuration, e.g. patch-na).
Apply rebuilds the engine with the choice (the window's set_cell with
patch_configuration and channel_counts, as `vrig run --patch-config ... --channels N`).

The scale: the unitary current i = gamma (V - E_rev) (pA) at the membrane potential the
present holding gives the patch (V = Vp outside-out, -Vp inside-out, V_rest - Vp
cell-attached; rig.simulation.stochastic.polarity), with at least SCALE_MIN_DRIVE_MV of
driving force, so that openings of a channel held near its reversal potential still
show; the axis spans SCALE_LEVELS unitary currents (or the count, if fewer) either
side of zero, since cell-attached and inside-out readings show inward currents upward.
"""

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
)

from rig import units
from rig.model.cell import PATCH_CONFIGURATIONS
from rig.simulation.stochastic import polarity

CONFIGURATION_TIPS = {
    "cell-attached": "Cell-attached: the pipette sealed on an intact cell; the patch sits "
                     "between the pipette and the cell's interior at rest, so Vm = Vrest - "
                     "Vp, inward currents read upward, and bath drugs do not reach it",
    "inside-out": "Inside-out: the patch torn off with its cytoplasmic face to the bath; "
                  "Vm = -Vp, inward currents read upward; bath drugs reach the inner face",
    "outside-out": "Outside-out: the patch's outer face to the bath, the pipette is the "
                   "cytoplasm (as whole-cell): Vm = Vp; bath drugs (TTX) reach the outer face",
}
MAX_CHANNELS = 10_000
SCALE_LEVELS = 4  # unitary currents shown either side of zero
SCALE_MIN_DRIVE_MV = 30.0


def metadata_pairs(text):
    """{'Na': '20', ...} from metadata text 'Na=20 K=...'."""
    return dict(item.split("=", 1) for item in str(text).split() if "=" in item)


def is_patch(cell):
    """True for a membrane patch: a preset that names its configuration and counts
    its channels (patch-na, patch-k, ...)."""
    return bool(cell.configuration) and bool(cell.schemes)


def unitary_scale(state):
    """(i in pA at the holding's membrane potential, (low, high) in A for the current
    axis, membrane potential in mV) for the first kind of channel of a patch's
    RigState; None for a cell without counted channels."""
    meta = state.metadata
    gammas = metadata_pairs(meta.get("unitary_conductance_pS", ""))
    counts = metadata_pairs(meta.get("channels", ""))
    reversals = metadata_pairs(meta.get("E_rev_mV", ""))
    if not gammas:
        return None
    label = next(iter(gammas))
    scheme = next((s for s, _ in state.cell.schemes if s.label == label), None)
    e_rev = float(reversals.get(scheme.ion if scheme is not None else label, "nan"))
    if not np.isfinite(e_rev):
        return None
    v_sign, v_offset = polarity(state.cell.configuration)
    v_membrane = v_sign * units.v_to_mv(state.holding.get("VC", -0.1)) + v_offset
    drive = v_membrane - e_rev
    drive = drive if abs(drive) >= SCALE_MIN_DRIVE_MV else np.copysign(SCALE_MIN_DRIVE_MV,
                                                                       drive or -1.0)
    i_pa = float(gammas[label]) * 1e-3 * drive
    levels = min(SCALE_LEVELS, max(1, int(counts.get(label, "1"))))
    half = units.pa_to_a((levels + 0.5) * abs(i_pa))
    return i_pa, (-half, half), v_membrane


class PatchModeGroup(QFrame):
    """PATCH: configuration, channel count, Apply; applyRequested(configuration, count)."""

    applyRequested = Signal(str, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("Section")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 10)
        layout.setSpacing(6)
        title = QLabel("PATCH")
        title.setObjectName("SectionTitle")
        layout.addWidget(title)
        grid = QGridLayout()
        self.configuration = QComboBox()
        for i, name in enumerate(PATCH_CONFIGURATIONS):
            self.configuration.addItem(name)
            self.configuration.setItemData(i, CONFIGURATION_TIPS[name], 3)  # tooltip role
        self.channels = QSpinBox()
        self.channels.setRange(1, MAX_CHANNELS)
        self.channels.setToolTip("Channels in the patch (1 to 10,000), counted one by one")
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Make a new patch with this configuration and count")
        self.apply_button.clicked.connect(
            lambda: self.applyRequested.emit(self.configuration.currentText(),
                                             self.channels.value()))
        grid.addWidget(QLabel("Config"), 0, 0)
        grid.addWidget(self.configuration, 0, 1)
        grid.addWidget(QLabel("Channels"), 1, 0)
        grid.addWidget(self.channels, 1, 1)
        grid.addWidget(self.apply_button, 2, 0, 1, 2)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        self.scale_label = QLabel("")
        self.scale_label.setObjectName("LampText")
        self.scale_label.setWordWrap(True)
        layout.addWidget(self.scale_label)

    def show_state(self, state):
        """Show a RigState: hidden unless its cell is a patch; else its configuration,
        count and unitary current. Returns unitary_scale(state) (None if hidden)."""
        patch = is_patch(state.cell)
        self.setVisible(patch)
        if not patch:
            return None
        self.configuration.setCurrentText(state.cell.configuration)
        self.configuration.setToolTip(CONFIGURATION_TIPS[state.cell.configuration])
        self.channels.setValue(int(state.cell.schemes[0][1]))
        scale = unitary_scale(state)
        if scale is None:
            self.scale_label.setText("")
            return None
        i_pa, _, v_membrane = scale
        v_sign, _ = polarity(state.cell.configuration)
        self.scale_label.setText(f"i = {i_pa:.2f} pA at Vm = {v_membrane:.0f} mV; "
                                 f"read as {v_sign * i_pa:+.2f} pA"
                                 + (" (inward up)" if v_sign < 0 else ""))
        return scale


def install(window):
    """Put the PATCH group in the window's amplifier panel (after HOLDING); it follows
    the session's engine and rebuilds the patch on Apply, and a new patch starts in VC.
    Returns the group."""
    group = PatchModeGroup()
    window.panel.layout().insertWidget(2, group)

    def show(*_):
        scale = group.show_state(window.session.engine)
        plots = window.scopes.scope.plots
        if scale is not None and "Im" in plots:
            plots["Im"].setYRange(*scale[1], padding=0)

    def apply(configuration, count):
        window.set_cell(window.session.cell, patch_configuration=configuration,
                        channel_counts={"": count})
        show()

    def cell_changed(*_):
        if is_patch(window.session.engine.cell) and window.session.mode != "VC":
            window.set_mode("VC")  # a patch is recorded in voltage clamp; CC drifts to E_rev
        show()

    group.applyRequested.connect(apply)
    window.session.events.cell.connect(cell_changed)
    window.session.events.holding.connect(show)
    cell_changed()
    return group
