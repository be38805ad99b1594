"""The one-click stimulus of the amplifier panel, as on a teaching rig: "pulse X pA for
Y ms" in current clamp and "step to X mV for Y ms" in voltage clamp, without the epoch
table. Each mode remembers its own values. The widget only validates and emits a
:class:`rig.acquisition.commands.Pulse`; the window sends it (the runner applies it to the next
chunk of continuous acquisition).
"""

from types import MappingProxyType

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from rig import units
from rig.acquisition import commands as c
from rig.clamp import Mode

# Per mode: the label, the level's unit, its range and default, and the default duration
# (ms). 300 pA for 1 ms is about four times the hh-squid patch's threshold; a 20 ms step
# to 0 mV shows the Na and K currents of a voltage-clamp step.
SETTINGS = MappingProxyType({
    "CC": ("Pulse", "pA", (-5000.0, 5000.0), 300.0, 1.0),
    "VC": ("Step to", "mV", (-200.0, 200.0), 0.0, 20.0),
})
DURATION_RANGE_MS = (0.01, 1000.0)
# Current levels are shown in the unit that suits the range: a patch's in pA, a thin
# fibre's in nA, a giant axon's (tens of uA) in uA. (largest limit in pA, unit, pA per unit)
CURRENT_UNITS = ((2e4, "pA", 1.0), (2e7, "nA", 1e3), (float("inf"), "uA", 1e6))


def display_unit(mode, limit):
    """(unit, level units per shown unit, decimals) for a mode's levels whose largest
    |level| is limit (in the level unit: pA in CC, mV in VC)."""
    if mode != "CC":
        return "mV", 1.0, 1
    unit, factor = next((u, f) for top, u, f in CURRENT_UNITS if abs(limit) <= top)
    return unit, factor, 1 if factor == 1.0 else 2


class QuickStimulus(QWidget):
    """pulseRequested(Pulse) when the button is pressed (or :meth:`fire` is called)."""

    pulseRequested = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.mode = None  # set_mode below shows the first mode
        self._factor = 1.0  # level units per unit shown in the level box
        self.values = {mode: (s[3], s[4]) for mode, s in SETTINGS.items()}
        # the largest |level| per mode (level unit): the amplifier's, which follows the cell
        self.limits = {mode: s[2][1] for mode, s in SETTINGS.items()}
        self.button = QPushButton("Pulse")
        self.button.setObjectName("PulseButton")
        self.button.setFocusPolicy(Qt.NoFocus)
        self.button.clicked.connect(self.fire)
        self.level = QDoubleSpinBox()
        self.level.setDecimals(1)
        self.level.setKeyboardTracking(False)
        self.duration = QDoubleSpinBox()
        self.duration.setRange(*DURATION_RANGE_MS)
        self.duration.setDecimals(2)
        self.duration.setSuffix(" ms")
        self.duration.setKeyboardTracking(False)
        self.duration.setToolTip("how long the pulse lasts")
        for spin in (self.level, self.duration):
            spin.setFocusPolicy(Qt.ClickFocus)
            # The panel is narrow: the boxes share what width there is.
            spin.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Fixed)
            spin.setMinimumWidth(60)
            spin.setAlignment(Qt.AlignRight)
            spin.editingFinished.connect(self._remember)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.button)
        layout.addWidget(self.level, 1)
        self.for_label = QLabel("for")
        layout.addWidget(self.for_label)
        layout.addWidget(self.duration, 1)
        self.set_mode("CC")

    def set_mode(self, mode):
        """Show the stimulus of a clamp mode ('VC', 'CC'; 'I0' disables it)."""
        self._remember()
        self.mode = mode
        settings = SETTINGS.get(mode)
        self.setEnabled(settings is not None)
        if settings is None:
            self.setToolTip("I=0 injects no current: switch to CC or VC for a stimulus")
            return
        text = settings[0]
        level, duration = self.values[mode]
        self.button.setText(text)
        self._show_level(level)
        self.duration.setValue(duration)
        self.setToolTip(f"{text} the level for the duration, then back to the holding "
                        f"level (key P)" if mode == "VC" else
                        "add this current to the holding current for the duration (key P)")
        self.level.setToolTip("added to the holding current" if mode == "CC"
                              else "the potential of the step (absolute)")

    def set_limit(self, mode, limit):
        """The largest |level| of a mode's stimulus (in its level unit: pA in CC, mV in
        VC); the present level is kept within it."""
        if mode not in self.limits:
            return
        self.limits[mode] = float(limit)
        level, duration = self.values[mode]
        self.values[mode] = (min(max(level, -limit), limit), duration)
        if mode == self.mode:
            self._show_level(self.values[mode][0])

    def set_default(self, mode, level, duration_ms):
        """Put a level (in the mode's unit, kept within its limit) and a duration (ms)
        in a mode's stimulus, as for a new cell."""
        limit = self.limits[mode]
        self.values[mode] = (min(max(float(level), -limit), limit), float(duration_ms))
        if mode == self.mode:
            self._show_level(self.values[mode][0])
            self.duration.setValue(self.values[mode][1])

    def _show_level(self, level):
        """Show a level (level unit) in the unit that suits the present mode's range."""
        limit = self.limits[self.mode]
        unit, factor, decimals = display_unit(self.mode, limit)
        self._factor = factor
        self.level.setDecimals(decimals)
        self.level.setRange(-limit / factor, limit / factor)
        self.level.setSuffix(f" {unit}")
        self.level.setValue(level / factor)

    def _remember(self):
        if self.mode in self.values:
            level = self.level.value() * self._factor
            self.values[self.mode] = (level, self.duration.value())

    def fire(self):
        """Emit the Pulse for the present values; returns it (None in I=0)."""
        if self.mode not in SETTINGS:
            return None
        self._remember()
        level, duration_ms = self.values[self.mode]
        pulse = c.Pulse(self.mode, Mode(self.mode).to_si(level), units.ms_to_s(duration_ms))
        self.pulseRequested.emit(pulse)
        return pulse
