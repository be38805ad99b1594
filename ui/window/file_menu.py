"""The rig window's File menu: open a recording, export the scopes or the analysis
table, the recording items (ui.panels.recording_controls) and Quit."""

from PySide6.QtGui import QAction, QKeySequence

from ui.panels.recording_opener import RecordingOpener


def build(window):
    """Add the File menu to a MainWindow; window.opener reads recordings for it."""
    file_menu = window.menuBar().addMenu("&File")
    window.opener = RecordingOpener(window)
    window.opener.loaded.connect(window.show_recording)
    window.opener.failed.connect(window.show_error)
    for text, key, slot in (
            ("&Open recording...", QKeySequence.Open,
             lambda: window.opener.open_dialog(window, window.recording.settings.folder)),
            (None, None, None),
            ("Export the &scopes (PNG, SVG, PDF)...", None,
             lambda: window.scopes.export_dialog()),
            ("Export the &analysis table (CSV)...", None,
             lambda: window.analysis.export_csv()),
            (None, None, None)):
        if text is None:
            file_menu.addSeparator()
            continue
        action = QAction(text, window)
        if key is not None:
            action.setShortcut(key)
        action.triggered.connect(slot)
        file_menu.addAction(action)
    window.recording.add_menu_items(file_menu)
    file_menu.addSeparator()
    quit_action = QAction("&Quit", window)
    quit_action.setShortcut(QKeySequence.Quit)
    quit_action.triggered.connect(window.close)
    file_menu.addAction(quit_action)
