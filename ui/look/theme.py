"""The instrument look: stylesheet, icons and trace colours, in one place.

Colours follow bench habits: membrane potential yellow, membrane current cyan, the
command green; channel currents and gates have their own fixed colours so a class can
name them ("the blue one is the potassium current").

Two looks (:mod:`ui.look.theme_palettes`): the dark front panel and a light, high-contrast
one for projectors, each with or without large text. The look shown is kept on the
QApplication (properties, so no module state), read with :func:`current`, and changed
with :func:`apply` followed by :func:`restyle`, which walks every widget: stylesheets
set through :func:`set_style`, plot canvases, axes and grids, and every object with an
``apply_theme(look)`` method (the scopes' traces, cursors, legend, analysis plots).

Overlaid sweeps take their colours from :func:`sweep_colors`: hues in order from blue
through green, orange and red to magenta, all of one luminance chosen so that every
colour keeps a WCAG contrast of at least 3:1 on the scopes and on white paper
(:data:`PRINT_BACKGROUND`), where a sequential map's dark or light end would vanish.
"""

import logging
import math

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from rig.errors import VrigError
from rig.resources import resources_dir

# contrast_ratio, readable_on and relative_luminance are part of this module's interface.
from ui.look.theme_palettes import (  # noqa: F401
    DARK,
    THEMES,
    contrast_ratio,
    ink,
    readable_on,
    relative_luminance,
    restyle_qss,
    theme_named,
)

log = logging.getLogger("vrig.theme")
MAX_STYLESHEET_BYTES = 1_000_000
PROBLEMS_PROPERTY = "vrigThemeProblems"
THEME_PROPERTY = "vrigTheme"  # on the QApplication: the look's name
SCALE_PROPERTY = "vrigTextScale"  # on the QApplication: the text scale
BASE_FONT_PROPERTY = "vrigBaseFontPt"  # the application font's size before scaling
STYLE_PROPERTY = "vrigDarkStyle"  # on a widget: its own stylesheet, in dark colours
ICON_PROPERTY = "vrigIcon"  # on a button: the name of its icon
ICON_PX = 64  # a light-look icon is drawn at this size (Qt scales it down)

# The dark look's figures, as they always were (exports and older code use them).
BACKGROUND = DARK.scope_background
FOREGROUND = DARK.foreground
GRID_ALPHA = DARK.grid_alpha
TRACE_COLORS = DARK.traces
FALLBACK_COLORS = DARK.fallback_traces
CURSOR_COLORS = DARK.cursors
DIMMED_ALPHA = DARK.dimmed_alpha  # opacity (of 255) of the sweeps behind a highlighted one

# Exported figures are printed dark on white.
PRINT_BACKGROUND = "#ffffff"
PRINT_FOREGROUND = "#1c1f24"
SWEEP_LUMINANCE = DARK.sweep_luminance  # WCAG luminance: 5.7:1 on BACKGROUND, 3.5:1 on white
SWEEP_HUES = (265.0, -15.0)  # OKLCH hue of the first and the last sweep, degrees
SWEEP_CHROMA = 0.14  # OKLCH chroma, lowered where a hue leaves the sRGB gamut
TICK_FONT_PX = 13  # axis numbers: pyqtgraph's default size, scaled for large text
TITLE_PT = 9  # a plot title's size with large text, before scaling (pt)


def current(app=None):
    """The look shown (a :class:`ui.look.theme_palettes.Theme`); dark before any apply()."""
    app = app or QApplication.instance()
    if app is None:
        return DARK
    name = app.property(THEME_PROPERTY)
    scale = app.property(SCALE_PROPERTY)
    look = THEMES.get(name, DARK) if isinstance(name, str) else DARK
    return look.with_text_scale(scale if isinstance(scale, float) else 1.0)


def color(dark_color, look=None):
    """A colour named for the dark look (e.g. a lamp's '#7ee081') as the look shown
    paints it (a QColor)."""
    return ink(look or current(), dark_color)


def style_dir():
    """resources/style, where the stylesheet and icons live."""
    return resources_dir() / "style"


def icon(name, look=None):
    """A QIcon from resources/style/icons/<name>.svg (drawn in dark-look colours), in
    a look (the one shown if None)."""
    path = style_dir() / "icons" / f"{name}.svg"
    look = look or current()
    if not look.light:
        return QIcon(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return QIcon()  # a missing icon leaves the button its text, as QIcon(path) does
    renderer = QSvgRenderer(QByteArray(restyle_qss(text, look).encode("utf-8")))
    pixmap = QPixmap(ICON_PX, ICON_PX)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    renderer.render(painter)
    painter.end()
    return QIcon(pixmap)


def set_icon(button, name):
    """Give a button an icon that follows every later switch of the look."""
    button.setProperty(ICON_PROPERTY, name)
    button.setIcon(icon(name))


def trace_color(name, index=0, look=None):
    """The colour of a signal's trace (a QColor) in a look (the one shown if None);
    unknown names get a stable fallback."""
    look = look or current()
    if name in look.traces:
        return QColor(look.traces[name])
    return QColor(look.fallback_traces[index % len(look.fallback_traces)])


def cursor_colors(look=None):
    """The colours of cursor 1 and cursor 2 (names) in a look (the one shown if None)."""
    return (look or current()).cursors


def sweep_colors(count, look=None):
    """``count`` QColors for sweeps 0..count-1, ordered by hue (blue first, magenta
    last), all of the look's sweep luminance (the look shown if None)."""
    luminance = (look or current()).sweep_luminance
    first, last = SWEEP_HUES
    if count <= 1:
        return [_oklch_color(first, luminance)] * count
    return [_oklch_color(first + (last - first) * k / (count - 1), luminance)
            for k in range(count)]


def _oklch_color(hue_deg, luminance=SWEEP_LUMINANCE):
    """The colour of an OKLCH hue at a WCAG luminance, with as much chroma (up to
    SWEEP_CHROMA) as sRGB allows there."""
    for step in range(15):
        chroma = SWEEP_CHROMA * (1 - step / 15)
        a, b = chroma * math.cos(math.radians(hue_deg)), chroma * math.sin(math.radians(hue_deg))
        low, high = 0.2, 1.0
        for _ in range(30):  # bisect the OKLab lightness that gives the luminance
            lightness = (low + high) / 2
            rgb = _oklab_to_linear_srgb(lightness, a, b)
            if _luminance([min(max(v, 0.0), 1.0) for v in rgb]) < luminance:
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




def palette(look=None):
    """Fusion's palette in a look's colours (the look shown if None)."""
    look = look or current()
    result = QPalette()
    for role, name in look.palette.items():
        result.setColor(getattr(QPalette, role), QColor(name))
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        result.setColor(QPalette.Disabled, role, QColor(look.disabled_text))
    return result


def dark_palette():
    """Fusion's palette in the instrument's dark colours."""
    return palette(DARK)


def apply(app=None, look=None):
    """Show a look (a Theme; None: dark with normal text): the stylesheet, the
    palette, the application font and pyqtgraph's colours for plots made from now on.
    Call once after QApplication, then again with :func:`restyle` to switch. Returns
    the problems met (a broken stylesheet is skipped, not fatal)."""
    import pyqtgraph as pg

    app = app or QApplication.instance()
    look = look or DARK
    app.setProperty(THEME_PROPERTY, look.name)
    app.setProperty(SCALE_PROPERTY, float(look.text_scale))
    # antialias off: antialiased 1 px lines cost several times more to draw and the
    # scopes redraw tens of thousands of points at 60 Hz.
    pg.setConfigOptions(background=look.scope_background, foreground=look.foreground,
                        antialias=False)
    app.setStyle("Fusion")
    # A palette underneath the stylesheet, so widgets the stylesheet does not name
    # (tables, headers, other panels' editors) follow the look too.
    app.setPalette(palette(look))
    base = app.property(BASE_FONT_PROPERTY)
    if not isinstance(base, float):
        base = float(app.font().pointSizeF())
        app.setProperty(BASE_FONT_PROPERTY, base)
    font = QFont(app.font())
    font.setPointSizeF(base * look.text_scale)
    app.setFont(font)
    problems = []
    try:
        app.setStyleSheet(restyle_qss(read_stylesheet(style_dir() / "rig.qss"), look))
    except VrigError as exc:
        problems.append(str(exc))
        log.warning("%s", exc)
    app.setWindowIcon(icon("vrig"))
    app.setProperty(PROBLEMS_PROPERTY, problems)
    return problems


def switch(look, app=None):
    """Apply a look and make every open widget follow it (no restart)."""
    app = app or QApplication.instance()
    problems = apply(app, look)
    restyle(app)
    return problems


def set_style(widget, dark_style):
    """Give a widget its own stylesheet, written in dark-look colours and px sizes:
    it is shown in the current look and follows every later switch."""
    widget.setProperty(STYLE_PROPERTY, dark_style)
    widget.setStyleSheet(restyle_qss(dark_style, current()))


def restyle(app=None):
    """Make every widget follow the look shown: own stylesheets, plot canvases, axes,
    grids and titles, then each widget's ``apply_theme(look)``, then a repaint."""
    import pyqtgraph as pg

    app = app or QApplication.instance()
    look = current(app)
    widgets = app.allWidgets()
    for widget in widgets:
        dark_style = widget.property(STYLE_PROPERTY)
        if isinstance(dark_style, str):
            widget.setStyleSheet(restyle_qss(dark_style, look))
        icon_name = widget.property(ICON_PROPERTY)
        if isinstance(icon_name, str):
            widget.setIcon(icon(icon_name, look))
        if isinstance(widget, pg.GraphicsView):
            widget.setBackground(look.scope_background)
            for item in widget.scene().items():
                if isinstance(item, pg.PlotItem):
                    style_plot(item, look)
    for widget in widgets:
        if callable(getattr(widget, "apply_theme", None)):
            widget.apply_theme(look)
        widget.update()


def tick_font(look=None):
    """The axes' numbers' font: pyqtgraph's own (None) unless text is enlarged."""
    look = look or current()
    if not look.large_text:
        return None
    font = QFont()
    font.setPixelSize(look.px(TICK_FONT_PX))
    return font


def style_plot(plot, look=None):
    """A pyqtgraph PlotItem in a look: axes and their text, the grid's opacity, the
    title and the legend's text."""
    look = look or current()
    for entry in plot.axes.values():
        axis = entry["item"]
        axis.setPen(look.foreground)
        axis.setStyle(tickFont=tick_font(look))
        if look.large_text:
            axis.labelStyle["font-size"] = f"{look.px(TICK_FONT_PX)}px"
        else:
            axis.labelStyle.pop("font-size", None)
        axis.setTextPen(look.foreground)  # also redraws the label
        if axis.grid is not False:
            axis.setGrid(int(look.grid_alpha * 255))
    title = plot.titleLabel
    title.opts.pop("size", None)  # pyqtgraph's own size, unless text is enlarged
    if look.large_text:
        title.opts["size"] = f"{TITLE_PT * look.text_scale:.0f}pt"
    if title.text:
        title.setText(title.text, color=look.foreground)
    if plot.legend is not None:
        plot.legend.setLabelTextColor(look.foreground)


def problems(app=None):
    """What the last apply() could not use (e.g. a broken stylesheet), as messages."""
    app = app or QApplication.instance()
    return list(app.property(PROBLEMS_PROPERTY) or []) if app is not None else []


def names():
    """The looks' names, dark first."""
    return tuple(THEMES)


def look_for(name, large_text=False):
    """The look called name with or without large text; VrigError for an unknown name."""
    try:
        return theme_named(name, large_text)
    except KeyError:
        raise VrigError(f"unknown theme {name!r}; use one of {', '.join(THEMES)}") from None


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
