"""A holding knob: a painted dial with a typed entry below it.

It works in the unit it shows (mV or pA); the amplifier panel converts to SI at the
command boundary. Ways to turn it, as on a real front panel:

* mouse wheel: one step per notch (Shift: a tenth, Ctrl: ten steps);
* drag up/down on the dial: one step per 4 px;
* arrow keys on the focused dial or entry: one step (Page Up/Down: ten steps);
* typing a value (optionally with its unit) and pressing Enter. A bad value (not a
  number, NaN, out of range) turns the entry red, keeps the old value and reports the
  reason through ``invalidInput``.
"""

import math

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter, QPen
from PySide6.QtWidgets import QLineEdit, QSizePolicy, QVBoxLayout, QWidget

from ui.look import theme

PIXELS_PER_STEP = 4
SWEEP_DEGREES = 270  # the dial's travel from minimum to maximum


class _Dial(QWidget):
    """The round part of the knob; paints the value's angle and handles the mouse."""

    def __init__(self, knob):
        super().__init__(knob)
        self._knob = knob
        self._drag_y = None
        self.setFocusPolicy(Qt.StrongFocus)
        self.setMinimumSize(84, 84)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setCursor(Qt.SizeVerCursor)

    def paintEvent(self, event):
        knob = self._knob
        side = min(self.width(), self.height()) - 8
        rect = QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        ring = theme.color("#ffd54f") if knob.isEnabled() else theme.color("#4c535c")
        # The track, then the arc from minimum to the present value.
        painter.setPen(QPen(theme.color("#2c323a"), 6, Qt.SolidLine, Qt.RoundCap))
        start = 225 * 16
        painter.drawArc(rect, start, -SWEEP_DEGREES * 16)
        painter.setPen(QPen(ring, 6, Qt.SolidLine, Qt.RoundCap))
        painter.drawArc(rect, start, int(-SWEEP_DEGREES * 16 * knob.fraction()))
        inner = rect.adjusted(10, 10, -10, -10)
        focus = theme.color("#81a1c1") if self.hasFocus() else theme.color("#414955")
        painter.setPen(QPen(focus, 2))
        painter.setBrush(theme.color("#2a3038"))
        painter.drawEllipse(inner)
        angle = math.radians(225 - SWEEP_DEGREES * knob.fraction())
        c = inner.center()
        r = inner.width() / 2 - 5
        painter.setPen(QPen(ring, 4, Qt.SolidLine, Qt.RoundCap))
        cos, sin = math.cos(angle), math.sin(angle)
        painter.drawLine(QPointF(c.x() + 0.35 * r * cos, c.y() - 0.35 * r * sin),
                         QPointF(c.x() + r * cos, c.y() - r * sin))
        painter.end()

    def wheelEvent(self, event):
        notches = event.angleDelta().y() / 120.0
        if notches:
            self._knob.nudge(notches * _modifier_factor(event.modifiers()))
        event.accept()

    def mousePressEvent(self, event):
        if event.button() == Qt.LeftButton:
            self._drag_y = event.position().y()
            self.setFocus()
        event.accept()

    def mouseMoveEvent(self, event):
        if self._drag_y is None:
            return
        steps = int((self._drag_y - event.position().y()) / PIXELS_PER_STEP)
        if steps:
            self._drag_y -= steps * PIXELS_PER_STEP
            self._knob.nudge(steps * _modifier_factor(event.modifiers()))
        event.accept()

    def mouseReleaseEvent(self, event):
        self._drag_y = None
        event.accept()

    def keyPressEvent(self, event):
        if not self._knob.handle_key(event):
            super().keyPressEvent(event)


def _modifier_factor(modifiers):
    """Shift turns finely (0.1 step), Ctrl coarsely (10 steps)."""
    if modifiers & Qt.ShiftModifier:
        return 0.1
    if modifiers & Qt.ControlModifier:
        return 10.0
    return 1.0


class Knob(QWidget):
    """A value between minimum and maximum (display units) turned in steps.

    valueChanged(float) is emitted for every change the user makes (not for
    set_value); invalidInput(str) explains a rejected typed value.
    """

    valueChanged = Signal(float)
    invalidInput = Signal(str)

    def __init__(self, unit="mV", minimum=-200.0, maximum=200.0, step=1.0, decimals=1,
                 parent=None):
        super().__init__(parent)
        self._value = 0.0
        self.dial = _Dial(self)
        self.entry = QLineEdit(self)
        self.entry.setObjectName("KnobEntry")
        self.entry.setAlignment(Qt.AlignCenter)
        self.entry.installEventFilter(self)
        self.entry.editingFinished.connect(self._commit_text)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.dial)
        layout.addWidget(self.entry)
        self.set_range(unit, minimum, maximum, step, decimals)

    # --- configuration ----------------------------------------------------------------

    def set_range(self, unit, minimum, maximum, step, decimals=1):
        """Change unit, limits, step (all in display units) and shown decimals."""
        self.unit = unit
        self.minimum = float(minimum)
        self.maximum = float(maximum)
        self.step = float(step)
        self.decimals = int(decimals)
        self.setToolTip(f"{self.minimum:g} to {self.maximum:g} {unit}; wheel, drag, "
                        f"arrows or type a value. Shift: fine, Ctrl: coarse")
        self.set_value(min(max(self._value, self.minimum), self.maximum))

    def value(self):
        """The present value in display units."""
        return self._value

    def fraction(self):
        """Where the value sits between minimum (0) and maximum (1); always finite,
        because painting must never raise."""
        span = self.maximum - self.minimum
        if not span > 0:
            return 0.0
        return min(max((self._value - self.minimum) / span, 0.0), 1.0)

    def set_value(self, value):
        """Show a value without emitting valueChanged (e.g. restoring settings).
        A value that is not a finite number raises ValueError; the knob keeps its own."""
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"the knob takes a finite number of {self.unit}, got {value}")
        self._value = min(max(value, self.minimum), self.maximum)
        self._show()

    # --- user actions -----------------------------------------------------------------

    def nudge(self, steps):
        """Turn by a number of steps (may be fractional or negative)."""
        if self.isEnabled():
            # Round to a tenth of a step so repeated nudges do not accumulate 0.30000004.
            grain = self.step / 10.0
            target = round((self._value + steps * self.step) / grain) * grain
            self._user_set(target)

    def handle_key(self, event):
        """Arrow/Page keys turn the knob; returns True if the key was used."""
        key = event.key()
        factor = _modifier_factor(event.modifiers())
        steps = {Qt.Key_Up: 1, Qt.Key_Right: 1, Qt.Key_Down: -1, Qt.Key_Left: -1,
                 Qt.Key_PageUp: 10, Qt.Key_PageDown: -10}.get(key)
        if steps is None:
            return False
        self.nudge(steps * factor)
        return True

    def eventFilter(self, watched, event):
        # Up/Down/Page keys in the entry turn the knob (Left/Right still move the caret).
        if (watched is self.entry and event.type() == QEvent.KeyPress
                and event.key() in (Qt.Key_Up, Qt.Key_Down, Qt.Key_PageUp, Qt.Key_PageDown)):
            return self.handle_key(event)
        return super().eventFilter(watched, event)

    def _commit_text(self):
        text = self.entry.text().strip()
        if text.endswith(self.unit):
            text = text[: -len(self.unit)].strip()
        try:
            value = float(text)
        except ValueError:
            self._reject(f"{self.entry.text()!r} is not a number of {self.unit}")
            return
        if not math.isfinite(value):
            self._reject(f"holding must be a finite number of {self.unit}")
            return
        if not self.minimum <= value <= self.maximum:
            self._reject(f"{value:g} {self.unit} is outside {self.minimum:g} to "
                         f"{self.maximum:g} {self.unit}")
            return
        self._set_invalid(False)
        self._user_set(value)

    def _reject(self, message):
        self._set_invalid(True)
        self.invalidInput.emit(message)

    def _set_invalid(self, invalid):
        self.entry.setProperty("invalid", invalid)
        # A dynamic property only restyles after an unpolish/polish cycle.
        self.entry.style().unpolish(self.entry)
        self.entry.style().polish(self.entry)

    def _user_set(self, value):
        old = self._value
        self.set_value(value)
        if self._value != old:
            self.valueChanged.emit(self._value)

    def _show(self):
        self.entry.setText(f"{self._value:.{self.decimals}f} {self.unit}")
        if self.entry.property("invalid"):
            self._set_invalid(False)
        self.dial.update()

    def changeEvent(self, event):
        if event.type() == QEvent.EnabledChange:
            self.dial.update()
        super().changeEvent(event)
