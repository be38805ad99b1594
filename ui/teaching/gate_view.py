"""The Gates dock (View > Gates): a Na channel drawn as its m, m, m and h subunits and a K
channel as its four n, each open or closed as the model's gates say, and beneath them
the populations (the share of subunits drawn open is the gate's value). Run at 0.01x,
a spike rises as the m gates swing open and falls as h shuts and n opens. The engine's
blocks are replayed at wall-clock pace (rig.teaching.gates.GatePlayback)."""

import time

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QDockWidget, QWidget

from rig import units
from rig.teaching.gates import CHANNELS, GATES, Flicker, GatePlayback, subunits_open

FRAME_MS = 40  # 25 frames a second
POPULATION = 20  # subunits drawn per gate in the population rows
OPEN = {"m": "#3cb371", "h": "#e0b040", "n": "#4a90e2"}
CLOSED = "#59606a"
MEMBRANE = "#a58b6f"
NAMES = {"m": "m (Na activation)", "h": "h (Na inactivation)", "n": "n (K activation)"}


class GateView(QWidget):
    """The cartoons; feed() takes the engine's chunks, a timer animates them."""

    def __init__(self, window):
        super().__init__()
        self.setObjectName("GateView")
        self.window_ = window
        self.playback = GatePlayback()
        self.flicker = Flicker()
        self.frame = None
        self._wall = time.perf_counter()
        self.setMinimumSize(300, 320)
        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self.tick)
        window.client.chunks.connect(self.feed)

    def feed(self, chunks):
        """Queue the gate values of the engine's blocks (only while the dock is shown)."""
        if not self.isVisible():
            return
        for chunk in chunks:
            signals = chunk.signals
            if not all(g in signals for g in GATES) or "Vm" not in signals:
                continue
            count = len(signals["Vm"])
            times = chunk.time_s - (count - 1 - np.arange(count)) * chunk.sample_interval_s
            self.playback.feed(times, np.asarray(signals["Vm"]),
                               {g: np.asarray(signals[g]) for g in GATES})

    def tick(self):
        now = time.perf_counter()
        frame = self.playback.advance(now - self._wall, self.window_.session.speed)
        self._wall = now
        if frame is not None:
            self.frame = frame
            self.flicker.step(frame.values)
            self.update()

    def showEvent(self, event):
        self.playback.reset()
        self._wall = time.perf_counter()
        self.timer.start()
        super().showEvent(event)

    def hideEvent(self, event):
        self.timer.stop()
        super().hideEvent(event)

    # --- drawing --------------------------------------------------------------------------

    def paintEvent(self, _event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), QColor("#15181c"))
        width, height = self.width(), self.height()
        painter.setPen(QColor("#d8dde3"))
        font = QFont(self.font())
        if font.pointSizeF() > 0:  # a font set in pixels has no point size
            font.setPointSizeF(font.pointSizeF() * 1.1)
        painter.setFont(font)
        if self.frame is None:
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap,
                             "Run the rig on a Hodgkin-Huxley cell (hh-squid) to see its "
                             "gates. Choose 0.01x speed to watch a spike in slow motion.")
            return
        frame = self.frame
        painter.drawText(QRectF(8, 4, width - 16, 22), Qt.AlignLeft,
                         f"Vm {units.v_to_mv(frame.vm_v):7.1f} mV    "
                         f"t {frame.time_s * 1000:9.2f} ms")
        top, band = 34.0, min(240.0, height * 0.45)
        self._membrane(painter, top, band - 24, width)
        half = width / 2
        for i, (kind, gates) in enumerate(CHANNELS.items()):
            self._channel(painter, QRectF(i * half + 12, top, half - 24, band), kind, gates)
        row_top = top + band + 16
        row_h = max(40.0, min(64.0, (height - row_top - 8) / 3))
        for i, gate in enumerate(GATES):
            self._population(painter, QRectF(8, row_top + i * row_h, width - 16, row_h - 6),
                             gate, frame.values.get(gate, 0.0))
        painter.end()

    def _membrane(self, painter, top, band, width):
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(MEMBRANE))
        for y in (top + band * 0.3, top + band * 0.62):
            painter.drawRect(QRectF(0, y, width, band * 0.08))
        painter.setPen(QColor("#9aa3ad"))
        painter.drawText(QRectF(4, top, 80, 16), Qt.AlignLeft, "outside")
        # below the subunits (drawn over 12-74 % of the channel box, band + 24 tall)
        painter.drawText(QRectF(4, top + (band + 24) * 0.76, 80, 16), Qt.AlignLeft, "inside")

    def _channel(self, painter, box, kind, gates):
        states = self.flicker.states[kind]
        conducting = self.flicker.conducting(kind)
        slot = box.width() / len(gates)
        body_top, body_h = box.top() + box.height() * 0.12, box.height() * 0.62
        for i, gate in enumerate(gates):
            is_open = bool(states[i])
            x = box.left() + i * slot
            color = QColor(OPEN[gate] if is_open else CLOSED)
            painter.setPen(QPen(QColor("#0b0d0f"), 1))
            painter.setBrush(color)
            # an open subunit stands aside from the pore; a closed one leans across it
            lean = 0.0 if is_open else slot * 0.22 * (1 if i < len(gates) / 2 else -1)
            painter.drawRoundedRect(QRectF(x + slot * 0.12 + lean, body_top, slot * 0.6,
                                           body_h), 6, 6)
            painter.setPen(QColor("#0b0d0f"))
            painter.drawText(QRectF(x, body_top, slot, body_h), Qt.AlignCenter, gate)
        label = f"{kind}: " + ("open" if conducting else "closed")
        painter.setPen(QColor(OPEN["m"] if conducting else "#c9ced4"))
        painter.drawText(QRectF(box.left(), box.bottom() - 14, box.width(), 16),
                         Qt.AlignCenter, label)
        if conducting:
            painter.setPen(QPen(QColor("#ffffff"), 2))
            x = box.center().x()
            inward = kind == "Na"  # Na+ flows in, K+ out during a spike
            y0, y1 = (box.top() + 4, box.bottom() - 22) if inward else (box.bottom() - 22,
                                                                     box.top() + 4)
            painter.drawLine(int(x), int(y0), int(x), int(y1))
            tip = 6 if inward else -6
            painter.drawLine(int(x), int(y1), int(x - 5), int(y1 - tip))
            painter.drawLine(int(x), int(y1), int(x + 5), int(y1 - tip))

    def _population(self, painter, box, gate, value):
        """A label line, then POPULATION subunits, the gate value's share drawn open."""
        shown = subunits_open(value, POPULATION)
        line = min(20.0, box.height() / 2)
        painter.setPen(QColor("#d8dde3"))
        painter.drawText(QRectF(box.left(), box.top(), box.width(), line),
                         Qt.AlignVCenter | Qt.AlignLeft,
                         f"{NAMES[gate]}: {value:.2f} open ({shown} of {POPULATION})")
        cell = box.width() / POPULATION
        painter.setPen(Qt.NoPen)
        for i in range(POPULATION):
            painter.setBrush(QColor(OPEN[gate] if i < shown else CLOSED))
            painter.drawRoundedRect(QRectF(box.left() + i * cell + 1, box.top() + line + 2,
                                           cell - 2, box.height() - line - 4), 3, 3)


def install(window):
    """The Gates dock on the window's right, hidden until View > Gates; returns it."""
    dock = QDockWidget("Gates", window)
    dock.setObjectName("GatesDock")
    dock.setWidget(GateView(window))
    window.addDockWidget(Qt.RightDockWidgetArea, dock)
    dock.hide()
    view = next((a.menu() for a in window.menuBar().actions() if a.text() == "&View"), None)
    if view is not None:
        toggle = dock.toggleViewAction()
        toggle.setText("&Gates (slow motion)")
        view.addAction(toggle)
    return dock
