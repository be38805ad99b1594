"""Scrolling containers, so that a panel whose text grew (View > Large text) scrolls
inside a 1280x800 window instead of pushing the window past the screen or clipping.
"""

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy, QVBoxLayout, QWidget


def scrolled(widget, horizontal=False):
    """`widget` in a frameless scroll area that scrolls vertically when it must (and
    horizontally too, if asked)."""
    return ScrolledPanel(widget, horizontal)


def scrolling_contents(widget):
    """A new widget that fills `widget` inside a ScrolledPanel scrolling both ways: lay
    the contents out on it, and `widget` (e.g. a tab page) scrolls them when its room
    is smaller than they need (large text at 1280x800)."""
    inner = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(ScrolledPanel(inner, horizontal=True))
    return inner


class ScrolledPanel(QScrollArea):
    """A panel that scrolls vertically (and sideways if `horizontal`) when its room is
    too small. Without sideways scrolling it is never narrower than the panel."""

    def __init__(self, widget, horizontal=False, parent=None):
        super().__init__(parent)
        self.horizontal = horizontal
        self._scrolls_at = False
        self.setObjectName(f"{widget.objectName() or 'Panel'}Scroll")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded if horizontal
                                          else Qt.ScrollBarAlwaysOff)
        self.setWidget(widget)
        # A scroll area keeps its content's layout changes to itself; the window must
        # hear of them (the panel's text grew when the stylesheet reached it).
        widget.installEventFilter(self)

    def eventFilter(self, watched, event):
        """Pass the panel's layout requests on to the window's layout."""
        if watched is self.widget() and event.type() == QEvent.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)

    def _scrolls(self):
        """True if the panel is taller than the room it has (the scroll bar shows)."""
        return self.widget().minimumSizeHint().height() > self.height()

    def minimumSizeHint(self):
        """The panel's own least width, plus the scroll bar's while it scrolls, unless
        it scrolls sideways (then it needs no width of its own)."""
        hint = super().minimumSizeHint()
        if self.horizontal:
            return hint
        width = self.widget().minimumSizeHint().width()
        if self._scrolls():
            width += self.verticalScrollBar().sizeHint().width()
        return QSize(max(hint.width(), width), hint.height())

    def resizeEvent(self, event):
        scrolled_before = self._scrolls_at
        super().resizeEvent(event)
        self._scrolls_at = self._scrolls()
        if self._scrolls_at != scrolled_before:
            self.updateGeometry()  # room for the scroll bar, or no more

    def apply_theme(self, _look):
        """The panel's text changed size: ask the layout for room again."""
        self.updateGeometry()


class ScrollStrip(QScrollArea):
    """A row of controls that scrolls sideways when the window is too narrow for it
    (large text at 1280x800), and is otherwise exactly as tall as the row."""

    def __init__(self, widget, parent=None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setWidget(widget)

    def _height(self):
        widget, width = self.widget(), self.viewport().width()
        # a row that wraps (ui.widgets.flow_layout) is as tall as its lines at this width
        height = (widget.heightForWidth(width) if widget.hasHeightForWidth() and width > 0
                  else widget.sizeHint().height())
        if widget.minimumSizeHint().width() > width:
            height += self.horizontalScrollBar().sizeHint().height()
        return height

    def sizeHint(self):
        """The row's own size (its height, plus a scroll bar's when it must scroll)."""
        return QSize(self.widget().sizeHint().width(), self._height())

    def minimumSizeHint(self):
        """No width of its own: the row scrolls instead."""
        return QSize(0, self._height())

    def fit(self):
        """Take the row's height again (after its text changed size)."""
        if self.height() != self._height() or self.minimumHeight() != self._height():
            self.setFixedHeight(self._height())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self.fit()
