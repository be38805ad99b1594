"""A layout that lays its widgets out left to right and wraps them onto further lines
when the width runs out (a row of controls on a narrow window or with large text)."""

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QSizePolicy, QSpacerItem


class FlowLayout(QLayout):
    """Items in reading order, each line as tall as its tallest item and its items
    centred on it; spacing: px between items and between lines."""

    def __init__(self, parent=None, spacing=6):
        super().__init__(parent)
        self._items = []
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item):
        self._items.append(item)

    def addSpacing(self, size):
        """A fixed gap (px) before the next item on the same line."""
        self.addItem(QSpacerItem(size, 0, QSizePolicy.Fixed, QSizePolicy.Minimum))

    def count(self):
        return len(self._items)

    def itemAt(self, index):
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index):
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self):
        return Qt.Orientation(0)

    def hasHeightForWidth(self):
        return True

    def heightForWidth(self, width):
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect):
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self):
        """Everything on one line."""
        width = height = 0
        for item in self._visible():
            hint = item.sizeHint()
            width += hint.width() + self.spacing()
            height = max(height, hint.height())
        m = self.contentsMargins()
        return QSize(max(0, width - self.spacing()) + m.left() + m.right(),
                     height + m.top() + m.bottom())

    def minimumSize(self):
        """As wide as the widest item: the others wrap below it."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    def _visible(self):
        return [item for item in self._items
                if item.widget() is None or not item.widget().isHidden()]

    def _lines(self, width):
        """The visible items split into lines that fit width (px)."""
        lines, line, used = [], [], 0
        for item in self._visible():
            w = item.sizeHint().width()
            gap = self.spacing() if line else 0
            if line and used + gap + w > width:
                lines.append(line)
                line, used, gap = [], 0, 0
            line.append(item)
            used += gap + w
        if line:
            lines.append(line)
        # a gap that ends up at the start of a line would only indent it
        return [line[1:] if len(line) > 1 and isinstance(line[0], QSpacerItem) else line
                for line in lines]

    def _place(self, rect, move):
        """Lay the items out in rect (if move) and return the height they take (px)."""
        m = self.contentsMargins()
        inner = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        y = inner.y()
        for line in self._lines(inner.width()):
            height = max(item.sizeHint().height() for item in line)
            x = inner.x()
            for item in line:
                hint = item.sizeHint()
                if move:
                    item.setGeometry(QRect(QPoint(x, y + (height - hint.height()) // 2), hint))
                x += hint.width() + self.spacing()
            y += height + self.spacing()
        used = max(0, y - self.spacing() - inner.y()) if y > inner.y() else 0
        return used + m.top() + m.bottom()
