"""What and where the window records: the settings (folder, file name, format, signals,
rate), read from QSettings with every value validated, and the dialog that edits them
(File > Recording settings...).

A value read from the settings file that is not valid (a list where a folder was
expected, an unknown format, a rate not offered, ...) is dropped with a log line and
the default is used: the window always starts.
"""

import logging
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rig.acquisition.live_recorder import DEFAULT_SIGNALS, check_base_name, default_base_name
from rig.errors import VrigError
from rig.files.formats import FORMATS
from rig.files.journal_writer import format_bytes
from rig.files.layout import FILE_UNITS
from rig.units import khz_to_hz
from ui.look import theme

log = logging.getLogger("vrig.settings")

RATES_KHZ = (5.0, 10.0, 20.0, 50.0, 100.0)
DEFAULT_RATE_KHZ = 50.0
FORMAT_NAMES = {".abf": "ABF (Axon, pyABF, Clampfit, neo)",
                ".nwb": "NWB (Neurodata Without Borders)",
                ".npz": "NPZ (numpy arrays)", ".csv": "CSV (text; large)"}
BYTES_PER_VALUE = {".abf": 2, ".nwb": 8, ".npz": 8, ".csv": 11}  # about, in the final file
UNCHECKED_STYLE = ("QListWidget::indicator:unchecked { border: 1px solid #8a94a3; "
                   "background: #0f1215; width: 11px; height: 11px; }")
KEYS = ("record_folder", "record_base_name", "record_format", "record_signals",
        "record_rate_khz")


def default_folder():
    """Documents/vrig (or ~/vrig without a Documents folder)."""
    docs = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    return Path(docs or Path.home()) / "vrig"


@dataclass(frozen=True)
class RecordingSettings:
    """folder: Path; base_name: the file name without extension ('' = vrig-<date>);
    extension: '.abf', '.nwb', '.npz' or '.csv'; signals: names to record; rate_khz:
    the continuous acquisition's sample rate (kHz)."""

    folder: Path
    base_name: str = ""
    extension: str = ".abf"
    signals: tuple = DEFAULT_SIGNALS
    rate_khz: float = DEFAULT_RATE_KHZ

    def file_base(self):
        """The base name files get now (today's date when none was given)."""
        return self.base_name or default_base_name()

    @classmethod
    def load(cls, qsettings):
        """The settings saved in a QSettings, each value validated (bad ones dropped
        with a log line)."""
        result = cls(default_folder())
        for key, check in (("record_folder", _folder), ("record_base_name", _base_name),
                           ("record_format", _format), ("record_signals", _signals),
                           ("record_rate_khz", _rate)):
            raw = qsettings.value(key)
            if raw is None:
                continue
            try:
                result = replace(result, **{_FIELD[key]: check(raw)})
            except (VrigError, TypeError, ValueError) as exc:
                log.warning("settings: %s=%.80r dropped (%s)", key, raw, exc)
        return result

    def save(self, qsettings):
        """Write to a QSettings (the keys in KEYS)."""
        qsettings.setValue("record_folder", str(self.folder))
        qsettings.setValue("record_base_name", self.base_name)
        qsettings.setValue("record_format", self.extension)
        qsettings.setValue("record_signals", ",".join(self.signals))
        qsettings.setValue("record_rate_khz", f"{self.rate_khz:g}")


_FIELD = {"record_folder": "folder", "record_base_name": "base_name",
          "record_format": "extension", "record_signals": "signals",
          "record_rate_khz": "rate_khz"}


def _text(raw):
    if not isinstance(raw, str):
        raise TypeError(f"expected text, got {type(raw).__name__}")
    raw.encode("utf-8")  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return raw


def _folder(raw):
    text = _text(raw).strip()
    if not text or "\0" in text:
        raise ValueError("not a folder")
    return Path(text).expanduser()


def _base_name(raw):
    text = _text(raw).strip()
    return check_base_name(text) if text else ""


def _format(raw):
    text = _text(raw).strip().lower()
    if text not in FORMATS:
        raise ValueError(f"not one of {', '.join(FORMATS)}")
    return text


def _signals(raw):
    names = [n.strip() for n in _text(raw).split(",") if n.strip()]
    if not names or len(names) > 64 or not all(n.isidentifier() for n in names):
        raise ValueError("not a list of signal names")
    return tuple(dict.fromkeys(names))


def _rate(raw):
    value = float(_text(raw) if not isinstance(raw, (int, float)) else raw)
    if value not in RATES_KHZ:
        raise ValueError(f"not one of {', '.join(f'{r:g}' for r in RATES_KHZ)} kHz")
    return value


class RecordingSettingsDialog(QDialog):
    """Edits RecordingSettings; `available` is [(signal name, SI unit)] to offer."""

    def __init__(self, settings, available, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Recording settings")
        self.setObjectName("RecordingSettingsDialog")
        self._settings = settings
        form = QFormLayout()
        self.folder_edit = QLineEdit(str(settings.folder))
        self.folder_edit.setObjectName("RecordFolder")
        browse = QPushButton("Choose...")
        browse.clicked.connect(self._choose_folder)
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.folder_edit, 1)
        row_layout.addWidget(browse)
        form.addRow("Folder", row)
        self.name_edit = QLineEdit(settings.base_name)
        self.name_edit.setPlaceholderText(default_base_name())
        self.name_edit.setToolTip("Files are NAME.abf, NAME-2.abf, ...: one per stretch of "
                                  "continuous acquisition and one per protocol run")
        form.addRow("File name", self.name_edit)
        self.format_combo = QComboBox()
        for ext in FORMATS:
            self.format_combo.addItem(f"{ext}  {FORMAT_NAMES[ext]}", ext)
        self.format_combo.setCurrentIndex(FORMATS.index(settings.extension))
        form.addRow("Format", self.format_combo)
        self.rate_combo = QComboBox()
        for rate in RATES_KHZ:
            self.rate_combo.addItem(f"{rate:g} kHz", rate)
        self.rate_combo.setCurrentIndex(RATES_KHZ.index(settings.rate_khz))
        self.rate_combo.setToolTip("Sample rate of continuous acquisition (the scopes follow "
                                   "it); a protocol runs at its own rate")
        form.addRow("Rate (continuous)", self.rate_combo)
        self.signal_list = QListWidget()
        self.signal_list.setObjectName("RecordSignals")
        theme.set_style(self.signal_list, UNCHECKED_STYLE)
        units = dict(available)
        names = [n for n, _ in available]
        for name in [n for n in settings.signals if n not in names] + names:
            item = QListWidgetItem(_label(name, units.get(name)))
            item.setData(Qt.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if name in settings.signals else Qt.Unchecked)
            self.signal_list.addItem(item)
        self.signal_list.setMaximumHeight(170)
        form.addRow("Signals", self.signal_list)
        self.size_label = QLabel("")
        self.size_label.setObjectName("RecordSize")
        form.addRow("", self.size_label)
        self.signal_list.itemChanged.connect(self._show_size)
        self.format_combo.currentIndexChanged.connect(self._show_size)
        self.rate_combo.currentIndexChanged.connect(self._show_size)
        self._show_size()
        self.error_label = QLabel("")
        theme.set_style(self.error_label, "color: #ff8080;")
        self.error_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _checked(self):
        return tuple(self.signal_list.item(i).data(Qt.UserRole)
                     for i in range(self.signal_list.count())
                     if self.signal_list.item(i).checkState() == Qt.Checked)

    def _show_size(self, *_):
        """About how much a simulated hour of continuous recording takes on disk."""
        per_s = (len(self._checked()) * khz_to_hz(self.rate_combo.currentData())
                 * BYTES_PER_VALUE[self.format_combo.currentData()])
        self.size_label.setText(f"about {format_bytes(per_s * 3600)} per hour recorded "
                                "(continuous; at 10x that hour takes 6 minutes)")

    def _choose_folder(self):
        folder = QFileDialog.getExistingDirectory(self, "Recording folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def settings(self):
        """The settings as edited, or a VrigError saying what is wrong."""
        text = self.folder_edit.text().strip()
        if not text:
            raise VrigError("choose a folder to record to")
        name = self.name_edit.text().strip()
        signals = self._checked()
        if not signals:
            raise VrigError("tick at least one signal to record")
        extension = self.format_combo.currentData()
        if extension == ".abf" and len(signals) > 16:
            raise VrigError(f"an ABF file holds at most 16 signals ({len(signals)} ticked)")
        return RecordingSettings(Path(text).expanduser(), check_base_name(name) if name else "",
                                 extension, signals, self.rate_combo.currentData())

    def accept(self):
        """Close only with valid settings; otherwise say what is wrong."""
        try:
            self._settings = self.settings()
        except VrigError as exc:
            self.error_label.setText(str(exc))
            return
        super().accept()

    def result_settings(self):
        """The settings accepted (or the ones it was opened with)."""
        return self._settings


def _label(name, unit):
    """'Vm (mV)' for a signal and its SI unit; the name alone for gates."""
    file_unit = FILE_UNITS.get(unit, ("",))[0] if unit is not None else ""
    return f"{name} ({file_unit})" if file_unit else name
