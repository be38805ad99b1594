"""vRig's window (PySide6 + pyqtgraph). Importing this package loads no Qt: the
modules below do, when they are imported."""
