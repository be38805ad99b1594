"""The amplifier's speaker on the front panel: a switch and a volume slider. The window
feeds each block the engine sends (Vm in current clamp, Im in voltage clamp) to the
monitor (rig.files.audio_live), whose sound-card callback runs on PortAudio's own
thread: the scopes never wait for it. Without PortAudio or an output device the control
is disabled, its tooltip says what to install, and the rig runs silent."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
)

from rig.clamp import Mode
from rig.files.audio_live import AudioMonitor, open_output

DEFAULT_VOLUME = 50  # % of full scale


def _signal(chunk):
    """The signal the speaker plays for a chunk: the first Vm (or Im in VC), or None."""
    wanted = "Im" if chunk.mode is Mode.VC else "Vm"
    for name, values in chunk.signals.items():
        if name.startswith(wanted):
            return values
    return None


class SpeakerControl(QFrame):
    """SPEAKER: on/off and volume. opener: () -> (stream, why not) (tests pass one)."""

    def __init__(self, window, opener=None):
        super().__init__()
        self.setObjectName("Section")
        self.window_ = window
        self.monitor = AudioMonitor()
        self.monitor.muted = True  # off until switched on
        settings = window.settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 10)
        title = QLabel("SPEAKER")
        title.setObjectName("SectionTitle")
        layout.addWidget(title)
        row = QHBoxLayout()
        self.switch = QPushButton("Sound off")
        self.switch.setObjectName("SpeakerSwitch")
        self.switch.setCheckable(True)
        self.switch.setFocusPolicy(Qt.NoFocus)  # space stays Run/Stop
        self.switch.toggled.connect(self._switched)
        self.volume = QSlider(Qt.Horizontal)
        self.volume.setObjectName("SpeakerVolume")
        self.volume.setRange(0, 100)
        self.volume.setFocusPolicy(Qt.NoFocus)  # arrow keys stay with the holding knob
        self.volume.valueChanged.connect(self._volume_changed)
        row.addWidget(self.switch)
        row.addWidget(self.volume, 1)
        layout.addLayout(row)
        self.volume.setValue(_int(settings.value("speaker_volume"), DEFAULT_VOLUME))
        self.stream, self.why = (opener or (lambda: open_output(self.monitor)))()
        if self.stream is None:
            for widget in (self.switch, self.volume):
                widget.setEnabled(False)
                widget.setToolTip(self.why)
            self.setToolTip(self.why)
        else:
            tip = ("The amplifier's speaker: V<sub>m</sub> in CC, I<sub>m</sub> in VC; "
                   "spikes crackle, the seal test hums")
            self.switch.setToolTip(tip)
            self.volume.setToolTip("Speaker volume")
            self.switch.setChecked(settings.value("speaker_on") == "true")
            window.client.chunks.connect(self.feed)
            window.session.events.cell.connect(lambda _: self.monitor.restart())
            QApplication.instance().aboutToQuit.connect(self.close_stream)

    @property
    def available(self):
        """True when a sound-card stream is playing the monitor."""
        return self.stream is not None

    def feed(self, chunks):
        """Queue the engine's blocks for the speaker (nothing while it is off)."""
        if self.monitor.muted:
            return
        speed = self.window_.session.speed
        for chunk in chunks:
            values = _signal(chunk)
            if values is not None:
                self.monitor.feed(values, chunk.sample_interval_s, speed, chunk.mode)

    def _switched(self, on):
        self.monitor.muted = not on
        if on:
            self.monitor.restart()  # start from the present level: no thump
        self.switch.setText("Sound on" if on else "Sound off")
        self.window_.settings.setValue("speaker_on", "true" if on else "false")

    def _volume_changed(self, value):
        self.monitor.volume = value / 100.0
        self.window_.settings.setValue("speaker_volume", int(value))

    def close_stream(self):
        """Stop playing (the application quits)."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None


def _int(value, default):
    try:
        return max(0, min(100, int(value)))
    except (TypeError, ValueError):
        return default


def install(window, opener=None):
    """Put the speaker control on the window's amplifier panel (above its stretch)."""
    control = SpeakerControl(window, opener)
    layout = window.panel.layout()
    layout.insertWidget(max(layout.count() - 1, 0), control)
    return control
