"""The instrument look: stylesheet, icons and trace colours, in one place.

Colours follow bench habits: membrane potential yellow, membrane current cyan, the
command green; channel currents and gates have their own fixed colours so a class can
name them ("the blue one is the potassium current").

Overlaid sweeps take their colours from :func:`sweep_colors`: hues in order from blue
through green, orange and red to magenta, all of one luminance chosen so that every
colour keeps a WCAG contrast of at least 3:1 on the dark scopes and on white paper
(:data:`PRINT_BACKGROUND`), where a sequential map's dark or light end would vanish.
"""

import logging
import math

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

# Exported figures are printed dark on white.
PRINT_BACKGROUND = "#ffffff"
PRINT_FOREGROUND = "#1c1f24"
SWEEP_LUMINANCE = 0.25  # WCAG relative luminance: 5.7:1 on BACKGROUND, 3.5:1 on white
SWEEP_HUES = (265.0, -15.0)  # OKLCH hue of the first and the last sweep, degrees
SWEEP_CHROMA = 0.14  # OKLCH chroma, lowered where a hue leaves the sRGB gamut
CURSOR_COLORS = ("#f2f4f8", "#ffb74d")  # cursor 1 and cursor 2 (dashed lines)
DIMMED_ALPHA = 110  # opacity (of 255) of the sweeps behind a highlighted one


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


def sweep_colors(count):
    """``count`` QColors for sweeps 0..count-1, ordered by hue (blue first, magenta
    last), all of luminance SWEEP_LUMINANCE."""
    first, last = SWEEP_HUES
    if count <= 1:
        return [_oklch_color(first)] * count
    return [_oklch_color(first + (last - first) * k / (count - 1)) for k in range(count)]


def _oklch_color(hue_deg):
    """The colour of an OKLCH hue at SWEEP_LUMINANCE, with as much chroma (up to
    SWEEP_CHROMA) as sRGB allows there."""
    for step in range(15):
        chroma = SWEEP_CHROMA * (1 - step / 15)
        a, b = chroma * math.cos(math.radians(hue_deg)), chroma * math.sin(math.radians(hue_deg))
        low, high = 0.2, 1.0
        for _ in range(30):  # bisect the OKLab lightness that gives the luminance
            lightness = (low + high) / 2
            rgb = _oklab_to_linear_srgb(lightness, a, b)
            if _luminance([min(max(v, 0.0), 1.0) for v in rgb]) < SWEEP_LUMINANCE:
                low = lightness
            else:
                high = lightness
        if all(-1e-4 <= v <= 1 + 1e-4 for v in rgb):
            break
    return QColor.fromRgbF(*(_encode(v) for v in rgb))


def _oklab_to_linear_srgb(lightness, a, b):
    """Björn Ottosson's OKLab (2020) to linear sRGB."""
    l_ = (lightness + 0.3963377774 * a + 0.2158037573 * b) ** 3
    m_ = (lightness - 0.1055613458 * a - 0.0638541728 * b) ** 3
    s_ = (lightness - 0.0894841775 * a - 1.2914855480 * b) ** 3
    return (4.0767416621 * l_ - 3.3077115913 * m_ + 0.2309699292 * s_,
            -1.2684380046 * l_ + 2.6097574011 * m_ - 0.3413193965 * s_,
            -0.0041960863 * l_ - 0.7034186147 * m_ + 1.7076147010 * s_)


def _encode(linear):
    """Linear to gamma-encoded sRGB, clipped to 0..1."""
    v = min(max(linear, 0.0), 1.0)
    return 12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055


def _luminance(linear_rgb):
    r, g, b = linear_rgb
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def relative_luminance(color):
    """WCAG 2 relative luminance (0 black .. 1 white) of a QColor or colour name."""
    color = QColor(color)

    def linear(v):
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return _luminance([linear(color.redF()), linear(color.greenF()), linear(color.blueF())])


def contrast_ratio(first, second):
    """WCAG 2 contrast ratio (1 to 21) of two colours."""
    high, low = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def readable_on(color, background, floor=3.0):
    """``color`` darkened or lightened (same hue) until its contrast with
    ``background`` reaches ``floor``; e.g. the yellow Vm trace on a printed page."""
    color = QColor(color)
    lighten = relative_luminance(background) < 0.2
    hue, saturation, lightness, alpha = color.getHslF()
    while contrast_ratio(color, background) < floor and 0.0 < lightness < 1.0:
        lightness = min(1.0, lightness + 0.02) if lighten else max(0.0, lightness - 0.02)
        color = QColor.fromHslF(max(hue, 0.0), saturation, lightness, alpha)
    return color


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
