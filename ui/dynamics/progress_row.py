"""A row for a job: a start button, Cancel, a progress bar and a status line."""

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget


class ProgressRow(QWidget):
    """A button that starts a job, a Cancel button, a progress bar and a status line."""

    def __init__(self, text, parent=None):
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.start_button = QPushButton(text)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setMaximumWidth(220)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        for widget in (self.start_button, self.cancel_button, self.bar):
            layout.addWidget(widget)
        layout.addWidget(self.status, 1)

    def running(self, on):
        """Buttons for a job that runs (on) or not."""
        self.start_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)

    def show_progress(self, fraction, text):
        """Show a fraction (0-1) and what runs."""
        self.bar.setValue(round(1000 * fraction))
        self.status.setText(text)
