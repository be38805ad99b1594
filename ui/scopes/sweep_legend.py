"""The column beside the scopes: the sweep legend (a selector) and the cursor readout.

The legend lists every sweep of the overlay with its colour and the stimulus that sets
it apart ("-40 mV", "+150 pA", "interval 8 ms"), marks the newest while a protocol
runs, and says when old sweeps were dropped. A click on a sweep highlights it; "All
sweeps" clears the highlight. The column has a fixed width, so no text can widen the
window.
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ui.look import theme

COLUMN_WIDTH = 230  # px: room for "12  interval 26 ms (newest)" and a 5-column readout
SWATCH = (26, 12)  # px


class SweepLegend(QListWidget):
    """The sweeps, oldest first under an "All sweeps" entry. sweepChosen(sweep or
    None) fires when the user clicks an entry."""

    sweepChosen = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("SweepLegend")
        self.setFocusPolicy(Qt.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.ElideRight)
        self.itemClicked.connect(lambda item: self.sweepChosen.emit(item.data(Qt.UserRole)))

    def show_sweeps(self, entries, highlight, newest):
        """entries: [(sweep, label, QColor)] oldest first; highlight: the highlighted
        sweep or None; newest: the sweep to mark as newest, or None."""
        self.blockSignals(True)
        self.clear()
        everything = QListWidgetItem("All sweeps")
        everything.setData(Qt.UserRole, None)
        self.addItem(everything)
        for sweep, label, color in entries:
            text = f"{sweep + 1:>2}  {label}" + ("  (newest)" if sweep == newest else "")
            item = QListWidgetItem(_swatch(color), text)
            item.setData(Qt.UserRole, sweep)
            item.setToolTip(f"sweep {sweep + 1}: {label}. Click to highlight it")
            if sweep == newest:
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.addItem(item)
        self.blockSignals(False)
        self.mark(highlight)

    def mark(self, highlight):
        """Select the entry of the highlighted sweep ("All sweeps" for None)."""
        for row in range(self.count()):
            if self.item(row).data(Qt.UserRole) == highlight:
                self.blockSignals(True)
                self.setCurrentRow(row)
                self.blockSignals(False)
                self.scrollToItem(self.item(row))
                return

    def labels(self):
        """The entries' texts (for tests and screen readers)."""
        return [self.item(row).text() for row in range(self.count())]


def _swatch(color):
    pixmap = QPixmap(*SWATCH)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class SideColumn(QWidget):
    """The legend with its heading and note, and the cursor readout under it."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("ScopeSide")
        self.setAttribute(Qt.WA_StyledBackground, True)
        self.setFixedWidth(theme.current().px(COLUMN_WIDTH))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.heading = QLabel("Sweeps")
        self.heading.setObjectName("SideHeading")
        self.note = _fixed_label()
        self.note.setWordWrap(True)
        self.note.hide()
        self.legend = SweepLegend()
        self.readout = _fixed_label()
        self.readout.setObjectName("CursorTable")
        self.readout.setTextFormat(Qt.RichText)
        self.readout.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.readout.setToolTip("Cursor readout: drag the dashed lines 1 and 2 on the scopes")
        for widget in (self.heading, self.note):
            layout.addWidget(widget)
        layout.addWidget(self.legend, 1)
        layout.addWidget(self.readout)

    def apply_theme(self, look):
        """Widen the column with the text (large text)."""
        self.setFixedWidth(look.px(COLUMN_WIDTH))

    def set_note(self, text):
        """A line under the heading (e.g. that old sweeps were dropped); '' hides it."""
        self.note.setText(text)
        self.note.setVisible(bool(text))


def _fixed_label():
    """A label whose text never asks for more width than the column has."""
    label = QLabel("")
    label.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
    return label
