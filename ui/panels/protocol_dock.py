"""The protocol dock: pick a shipped protocol (or a file) and run it episodically.

When :mod:`ui.panels.stimulus_designer` is available the dock is its StimulusDesigner (which
has its own shipped-protocol list, Open, Save and Run; ``runRequested`` runs what it
shows). Without it (it is built separately) a one-row picker runs shipped protocols
and files.
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rig import resources
from rig.errors import VrigError
from rig.protocols.protocol import load_protocol, total_duration_s
from ui.look import theme
from ui.widgets.scrolling import scrolling_contents


def _designer_class():
    """StimulusDesigner if its module exists; a bug inside it is not hidden."""
    try:
        from ui.panels.stimulus_designer import StimulusDesigner
    except ModuleNotFoundError as exc:
        if exc.name != "ui.panels.stimulus_designer":
            raise
        return None
    return StimulusDesigner


class ProtocolDock(QWidget):
    """runRequested(Protocol) asks the window for an episodic run; error(str) reports
    a protocol that cannot be loaded or run."""

    runRequested = Signal(object)
    error = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self._protocol = None
        layout = QVBoxLayout(scrolling_contents(self))  # large text: the designer scrolls
        layout.setContentsMargins(8, 8, 8, 8)
        designer_class = _designer_class()
        self.designer = designer_class() if designer_class is not None else None
        if self.designer is not None:
            self.designer.runRequested.connect(self.runRequested)
            self.designer.protocolChanged.connect(self._set_current)
            layout.addWidget(self.designer, 1)
            return
        row = QHBoxLayout()
        self.combo = QComboBox()
        self.combo.addItems(resources.preset_names("protocols"))
        self.combo.setFocusPolicy(Qt.ClickFocus)
        self.combo.activated.connect(lambda i: self.load_shipped(self.combo.itemText(i)))
        self.open_button = QPushButton("Open...")
        self.open_button.setFocusPolicy(Qt.NoFocus)
        self.open_button.clicked.connect(self._open_file)
        self.run_button = QPushButton(" Run protocol")
        theme.set_icon(self.run_button, "play")
        self.run_button.setFocusPolicy(Qt.NoFocus)
        self.run_button.clicked.connect(self.run_current)
        row.addWidget(QLabel("Protocol"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.open_button)
        row.addWidget(self.run_button)
        layout.addLayout(row)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        theme.set_style(self.summary, "color: #9aa5b4;")
        layout.addWidget(self.summary)
        layout.addStretch(1)

    def protocol(self):
        """The protocol that Run would run, or None if there is none or it is invalid."""
        if self.designer is not None:
            return self.designer.protocol()
        return self._protocol

    def load_shipped(self, name):
        """Load a shipped protocol by name (into the designer when there is one)."""
        if self.designer is not None:
            # The designer shows its own message for a protocol it cannot load.
            return self.designer.protocol() if self.designer.load_shipped(name) else None
        try:
            protocol = load_protocol(name)
        except VrigError as exc:
            self.error.emit(str(exc))
            return None
        self.combo.setCurrentText(name)
        self._set_current(protocol)
        return protocol

    def _open_file(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open protocol", "", "Protocols (*.json)")
        if path:
            self.load_file(path)

    def load_file(self, path):
        """Load a protocol file; a bad file is reported through error()."""
        if self.designer is not None:
            return self.designer.protocol() if self.designer.open_file(path) else None
        try:
            protocol = load_protocol(path)
        except VrigError as exc:
            self.error.emit(f"{path}: {exc}")
            return None
        self._set_current(protocol)
        return protocol

    def _set_current(self, protocol):
        self._protocol = protocol
        if self.designer is not None:
            return  # the designer shows the protocol itself
        if protocol is None:
            self.summary.setText("")
            return
        self.summary.setText(
            f"<b>{protocol.name}</b> [{protocol.mode}] {protocol.sweeps} sweep(s), "
            f"{total_duration_s(protocol):.2f} s at {protocol.sample_rate_khz:g} kHz"
            f"<br>{protocol.description}")

    def run_current(self):
        """Ask for a run of the present protocol (an error if it is invalid)."""
        protocol = self.protocol()
        if protocol is None:
            self.error.emit("the protocol has errors; fix the marked fields before running")
            return
        self.runRequested.emit(protocol)
