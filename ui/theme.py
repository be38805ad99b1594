"""The instrument look: stylesheet, icons and trace colours, in one place.

Colours follow bench habits: membrane potential yellow, membrane current cyan, the
command green; channel currents and gates have their own fixed colours so a class can
name them ("the blue one is the potassium current").
"""

import logging

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from rig.errors import VrigError
from rig.resources import resources_dir

log = logging.getLogger("vrig.theme")
MAX_STYLESHEET_BYTES = 1_000_000
PROBLEMS_PROPERTY = "vrigThemeProblems"

BACKGROUND = "#0b0d0f"
FOREGROUND = "#aab4c3"
GRID_ALPHA = 0.18

TRACE_COLORS = {
    "Vm": "#ffd54f",
    "Im": "#4dd0e1",
    "command": "#7ee081",
    "INa": "#ff6b6b",
    "IK": "#5b9cff",
    "Ileak": "#b0b0b0",
    "gNa": "#ff6b6b",
    "gK": "#5b9cff",
    "gleak": "#b0b0b0",
    "m": "#ff9f43",
    "h": "#c56cf0",
    "n": "#5b9cff",
}
FALLBACK_COLORS = ("#f78fb3", "#63cdda", "#e77f67", "#cf6a87", "#786fa6", "#f8a5c2")


def style_dir():
    """resources/style, where the stylesheet and icons live."""
    return resources_dir() / "style"


def icon(name):
    """A QIcon from resources/style/icons/<name>.svg."""
    return QIcon(str(style_dir() / "icons" / f"{name}.svg"))


def trace_color(name, index=0):
    """The colour of a signal's trace (a QColor); unknown names get a stable fallback."""
    if name in TRACE_COLORS:
        return QColor(TRACE_COLORS[name])
    return QColor(FALLBACK_COLORS[index % len(FALLBACK_COLORS)])


def dark_palette():
    """Fusion's palette in the instrument's colours."""
    palette = QPalette()
    roles = {QPalette.Window: "#14171b", QPalette.WindowText: "#d8dee9",
             QPalette.Base: "#0f1215", QPalette.AlternateBase: "#1b1f24",
             QPalette.Text: "#e5e9f0", QPalette.Button: "#2a3038",
             QPalette.ButtonText: "#e5e9f0", QPalette.Highlight: "#4c6a8a",
             QPalette.HighlightedText: "#ffffff", QPalette.ToolTipBase: "#2a3038",
             QPalette.ToolTipText: "#e5e9f0", QPalette.PlaceholderText: "#6c7683",
             QPalette.Link: "#81a1c1"}
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        palette.setColor(QPalette.Disabled, role, QColor("#5c6570"))
    return palette


def apply(app=None):
    """Apply the stylesheet and pyqtgraph's colours; call once after QApplication.
    Returns the problems met (a broken stylesheet is skipped, not fatal)."""
    import pyqtgraph as pg

    app = app or QApplication.instance()
    # antialias off: antialiased 1 px lines cost several times more to draw and the
    # scopes redraw tens of thousands of points at 60 Hz.
    pg.setConfigOptions(background=BACKGROUND, foreground=FOREGROUND, antialias=False)
    app.setStyle("Fusion")
    # A dark palette underneath the stylesheet, so widgets the stylesheet does not
    # name (tables, headers, other panels' editors) are dark with light text too.
    app.setPalette(dark_palette())
    problems = []
    try:
        app.setStyleSheet(read_stylesheet(style_dir() / "rig.qss"))
    except VrigError as exc:
        problems.append(str(exc))
        log.warning("%s", exc)
    app.setWindowIcon(icon("vrig"))
    app.setProperty(PROBLEMS_PROPERTY, problems)
    return problems


def problems(app=None):
    """What the last apply() could not use (e.g. a broken stylesheet), as messages."""
    app = app or QApplication.instance()
    return list(app.property(PROBLEMS_PROPERTY) or []) if app is not None else []


def read_stylesheet(path):
    """A Qt stylesheet's text, or a VrigError naming the file and what is wrong with
    it (missing, unreadable, not UTF-8 text, larger than MAX_STYLESHEET_BYTES)."""
    try:
        if not path.is_file():
            raise VrigError(f"stylesheet {path} is missing; the window uses plain colours")
        if path.stat().st_size > MAX_STYLESHEET_BYTES:
            raise VrigError(f"stylesheet {path} is larger than {MAX_STYLESHEET_BYTES} bytes; "
                            "the window uses plain colours")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise VrigError(f"cannot read stylesheet {path} ({exc}); the window uses plain "
                        "colours") from None
    if "\0" in text:
        raise VrigError(f"stylesheet {path} is not text; the window uses plain colours")
    return text
