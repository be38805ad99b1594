"""A pyqtgraph canvas that counts the frames it paints (the benchmark's fps and
latency figures come from it)."""

import pyqtgraph as pg


class FrameView(pg.GraphicsLayoutWidget):
    """The plots' canvas; counts painted frames and calls ``frame_hook`` after each
    (used by the benchmark to measure frames per second and latency)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.frames = 0
        self.frame_hook = None

    def paintEvent(self, event):
        super().paintEvent(event)
        self.frames += 1
        if self.frame_hook is not None:
            self.frame_hook()
