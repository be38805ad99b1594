"""Painted parts of the perfusion manifold: the valve lamp and the timeline strip.

The timeline has one lane per drug. Along simulated time (s, the engine's clock) it
draws the concentration at the membrane as a filled trace, scaled to the largest
concentration that drug has reached, with a tick and label where a valve was opened
("300 nM") or the drug washed ("wash"). It keeps a bounded history. Axis ticks are
spaced by the width of their labels, and a valve label that would run into the next
one in its lane is left out (the tick stays), so no text overlaps at any width.
"""

import math
from collections import deque

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QRadialGradient
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.look import theme

LANE_COLORS = ("#ff6b6b", "#5b9cff", "#7ee081", "#ffb74d", "#c56cf0", "#4dd0e1")
MIN_SPAN_S = 30.0  # the strip shows at least this much simulated time
MAX_SPAN_S = 1800.0  # and at most the last half hour
SAMPLE_EVERY_S = 0.1  # concentration history resolution (simulated s)
HISTORY = 20000  # samples kept per drug (bounded)
MARKS = 400  # valve events kept
LABEL_PAD = 10  # px around lane names
AXIS_H = 20  # px for the time axis
TICK_GAP_PX = 14  # px of clear space between two axis labels


class Valve(QWidget):
    """A valve lamp: a ring with a bar across (closed) or along (open) the flow, lit in
    the drug's colour when open."""

    def __init__(self, color, parent=None):
        super().__init__(parent)
        self.color = QColor(color)
        self.open = False
        self.setFixedSize(QSize(30, 30))
        self.setToolTip("valve closed")

    def set_open(self, is_open):
        """Light (open) or darken (closed) the valve; repaints only on a change."""
        is_open = bool(is_open)
        if is_open != self.open:
            self.open = is_open
            self.setToolTip("valve open: drug flowing" if is_open else "valve closed")
            self.update()

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        rect = QRectF(3, 3, 24, 24)
        body = theme.color(self.color) if self.open else theme.color("#2b3036")
        glow = QRadialGradient(rect.center(), 12)
        glow.setColorAt(0.0, body.lighter(150) if self.open else body)
        glow.setColorAt(1.0, body.darker(130) if self.open else body)
        painter.setBrush(glow)
        painter.setPen(QPen(theme.color("#8a95a5") if self.open else theme.color("#4a525c"), 2))
        painter.drawEllipse(rect)
        painter.setPen(QPen(theme.color("#0b0d0f") if self.open else theme.color("#8a95a5"), 3,
                            Qt.SolidLine, Qt.RoundCap))
        c = rect.center()
        if self.open:  # handle along the pipe
            painter.drawLine(QPointF(c.x() - 8, c.y()), QPointF(c.x() + 8, c.y()))
        else:  # handle across the pipe
            painter.drawLine(QPointF(c.x(), c.y() - 8), QPointF(c.x(), c.y() + 8))
        painter.end()


def _round_steps(span_s):
    """Round tick spacings (s), 1-2-5 times a power of ten, from about a fifth of
    span_s upwards."""
    power = 10 ** math.floor(math.log10(span_s / 5.0))
    while True:
        for m in (1, 2, 5):
            if m * power >= span_s / 5.0 * (1 - 1e-9):
                yield m * power
        power *= 10


def tick_times(t0, t1, step):
    """Multiples of step (s) from t0 to t1, rounded so that '20 s' never reads
    '20.000000000000004 s'."""
    first = math.ceil(t0 / step - 1e-9)
    return [round(k * step, 9) for k in range(first, int(math.floor(t1 / step + 1e-9)) + 1)]


def tick_step_for(t0, t1, width_px, label_px):
    """The smallest round tick spacing (s) whose labels fit: label_px(text) is a label's
    width (px), and neighbours must be TICK_GAP_PX apart on a strip width_px wide."""
    previous = None
    for step in _round_steps(t1 - t0):
        labels = [label_px(f"{t:g} s") for t in tick_times(t0, t1, step)]
        if not labels and previous is not None:
            return previous  # coarser would show no tick at all
        if len(labels) < 2 or step / (t1 - t0) * width_px >= max(labels) + TICK_GAP_PX:
            return step
        previous = step
    return previous


class TimelineStrip(QWidget):
    """What was applied when: one lane per drug along simulated time (s)."""

    def __init__(self, names, colors, parent=None):
        super().__init__(parent)
        self.setObjectName("TimelineStrip")
        self.names = list(names)
        self.colors = {n: QColor(col) for n, col in zip(self.names, colors)}
        self.history = {n: deque(maxlen=HISTORY) for n in self.names}
        self.peak = dict.fromkeys(self.names, 0.0)
        self.marks = deque(maxlen=MARKS)  # (name, t_s, label, opened)
        self.now_s = 0.0
        self._last_sample_s = -math.inf
        self.setMinimumHeight(AXIS_H + 16 * max(1, len(self.names)) + 8)
        self.setMinimumWidth(200)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setToolTip("perfusion timeline: concentration at the membrane (filled, scaled "
                        "to each drug's peak), valve opened (label) and wash; simulated s")

    def clear(self):
        """Forget the history (a new cell)."""
        for name in self.names:
            self.history[name].clear()
            self.peak[name] = 0.0
        self.marks.clear()
        self._last_sample_s = -math.inf
        self.update()

    def mark(self, name, t_s, label, opened):
        """Note a valve event at simulated time t_s (s)."""
        self.marks.append((name, float(t_s), str(label), bool(opened)))
        self.update()

    def record(self, t_s, present_m):
        """Note the concentrations (M) at the membrane at simulated time t_s (s)."""
        self.now_s = float(t_s)
        if t_s < self._last_sample_s:  # the clock went back (a new engine)
            self.clear()
        if t_s - self._last_sample_s < SAMPLE_EVERY_S:
            return
        self._last_sample_s = t_s
        for name in self.names:
            value = float(present_m.get(name, 0.0))
            if value > 0 or self.history[name]:
                self.history[name].append((t_s, value))
                self.peak[name] = max(self.peak[name], value)
        self.update()

    def span(self):
        """(t0, t1) in simulated s of the visible stretch."""
        starts = [m[1] for m in self.marks] + [h[0][0] for h in self.history.values() if h]
        first = min(starts) if starts else self.now_s
        span = min(MAX_SPAN_S, max(MIN_SPAN_S, (self.now_s - first) * 1.05))
        return self.now_s - span, self.now_s

    def paintEvent(self, event):
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        painter.fillRect(self.rect(), theme.color("#0b0d0f"))
        t0, t1 = self.span()
        font = QFont(painter.font())
        font.setPixelSize(theme.current().px(13))
        font.setBold(True)
        painter.setFont(font)
        label_w = LABEL_PAD + max((painter.fontMetrics().horizontalAdvance(n)
                                   for n in self.names), default=0)
        plot = QRectF(label_w + LABEL_PAD, 4, max(10.0, self.width() - label_w - LABEL_PAD - 8),
                      max(10.0, self.height() - AXIS_H - 6))
        lane_h = plot.height() / max(1, len(self.names))

        def x_of(t):
            return plot.left() + (t - t0) / (t1 - t0) * plot.width()

        self._paint_axis(painter, plot, t0, t1, x_of)
        painter.setFont(font)
        for i, name in enumerate(self.names):
            lane = QRectF(plot.left(), plot.top() + i * lane_h, plot.width(), lane_h)
            color = theme.color(self.colors[name])
            painter.setPen(QPen(theme.color("#262c33"), 1))
            painter.drawLine(lane.bottomLeft(), lane.bottomRight())
            painter.setPen(color)
            painter.drawText(QRectF(LABEL_PAD / 2, lane.top(), label_w, lane_h),
                             Qt.AlignVCenter | Qt.AlignLeft, name)
            self._paint_trace(painter, lane, name, color, t0, x_of)
        font.setBold(False)
        font.setPixelSize(theme.current().px(12))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        text_end = {}  # lane -> x where the last label drawn in it ends
        for name, t, label, opened in self.marks:
            if t < t0 or name not in self.colors:
                continue
            i = self.names.index(name)
            top = plot.top() + i * lane_h
            x = x_of(t)
            color = theme.color(self.colors[name]) if opened else theme.color("#e5e9f0")
            painter.setPen(QPen(color, 2))
            painter.drawLine(QPointF(x, top + 1), QPointF(x, top + lane_h - 1))
            width = metrics.horizontalAdvance(label)
            if x + 3 < text_end.get(i, -math.inf) or x + 3 + width > plot.right():
                continue  # the tick says it; the label would overlap
            painter.setPen(theme.color("#e5e9f0"))
            painter.drawText(QRectF(x + 3, top, width + 2, lane_h),
                             Qt.AlignVCenter | Qt.AlignLeft, label)
            text_end[i] = x + 3 + width + 4
        painter.end()

    def _paint_trace(self, painter, lane, name, color, t0, x_of):
        points = [(t, v) for t, v in self.history[name] if t >= t0]
        peak = self.peak[name]
        if len(points) < 2 or peak <= 0:
            return
        path = QPainterPath(QPointF(x_of(points[0][0]), lane.bottom()))
        for t, v in points:
            path.lineTo(QPointF(x_of(t), lane.bottom() - 0.85 * lane.height() * v / peak))
        path.lineTo(QPointF(x_of(points[-1][0]), lane.bottom()))
        fill = QColor(color)
        fill.setAlpha(110)
        painter.setPen(QPen(color, 1.5))
        painter.setBrush(fill)
        painter.drawPath(path)
        painter.setBrush(Qt.NoBrush)

    def _paint_axis(self, painter, plot, t0, t1, x_of):
        font = QFont(painter.font())
        font.setPixelSize(theme.current().px(12))
        painter.setFont(font)
        for x, left, width, label in self.axis_labels(painter.fontMetrics(), plot.left(),
                                                      plot.width(), t0, t1):
            painter.setPen(QPen(theme.color("#20262d"), 1))
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            painter.setPen(theme.color("#8a95a5"))
            painter.drawText(QRectF(left, plot.bottom() + 2, width + 2, AXIS_H - 2),
                             Qt.AlignLeft | Qt.AlignTop, label)

    def axis_labels(self, metrics, plot_left, plot_width, t0, t1):
        """(tick x, label left, label width, text) in px for the time axis of a plot
        plot_width px wide from plot_left, labels measured with QFontMetrics metrics."""
        step = tick_step_for(t0, t1, plot_width, metrics.horizontalAdvance)
        labels, free_from = [], -math.inf
        for t in tick_times(t0, t1, step):
            x = plot_left + (t - t0) / (t1 - t0) * plot_width
            text = f"{t:g} s"
            width = metrics.horizontalAdvance(text)
            # Kept inside the strip; a label pushed onto its neighbour is left out.
            left = min(max(x - width / 2, plot_left - LABEL_PAD), self.width() - width - 2)
            if left >= free_from:
                labels.append((x, left, width, text))
                free_from = left + width + TICK_GAP_PX / 2
        return labels
