"""The two looks of the window as values: :data:`DARK` (the instrument's front panel) and
:data:`LIGHT` (high contrast for projectors), and the colour arithmetic behind them.

A :class:`Theme` is frozen: switching the look means applying another value, never
changing one (see :mod:`ui.look.theme`). The dark look is the reference: every colour the
code and the stylesheets name is a dark-look colour, and :func:`ink` translates it into
the theme shown. The light look translates the colours it knows by :data:`LIGHT_INKS`;
any other dark surface has its lightness inverted and any other ink is darkened until
it reaches :data:`LIGHT_INK_CONTRAST` on white.

Contrast figures are WCAG 2 contrast ratios (1 to 21): text and traces need 4.5:1,
graphics such as overlaid sweeps 3:1.
"""

import math
import re
from dataclasses import dataclass, replace
from types import MappingProxyType

from PySide6.QtGui import QColor

TEXT_CONTRAST = 4.5  # WCAG AA for text: every trace is read like text
GRAPHIC_CONTRAST = 3.0  # WCAG for graphics: the overlaid sweeps
LIGHT_INK_CONTRAST = 6.0  # on white; on the light panels (about #e4e7eb) still > 4.5
SURFACE_LUMINANCE = 0.12  # below this a dark-look colour is a surface (background)
LARGE_TEXT_SCALE = 1.4  # "large text": every font this many times larger
TEXT_SCALES = (1.0, LARGE_TEXT_SCALE)

_DARK_TRACES = MappingProxyType({
    "Vm": "#ffd54f", "Im": "#4dd0e1", "command": "#7ee081",
    "INa": "#ff6b6b", "IK": "#5b9cff", "Ileak": "#b0b0b0",
    "gNa": "#ff6b6b", "gK": "#5b9cff", "gleak": "#b0b0b0",
    "m": "#ff9f43", "h": "#c56cf0", "n": "#5b9cff",
})
# Same hue families as the dark traces (Vm amber, Im teal, command green, Na red, K
# blue), dark enough for at least 5:1 on the white scope: see tests/ui/test_theme.py.
_LIGHT_TRACES = MappingProxyType({
    "Vm": "#8a6300", "Im": "#00727f", "command": "#1b7a1f",
    "INa": "#c62828", "IK": "#1f5fd1", "Ileak": "#555555",
    "gNa": "#c62828", "gK": "#1f5fd1", "gleak": "#555555",
    "m": "#b04a00", "h": "#8e24aa", "n": "#1f5fd1",
})

# Dark-look colours with a chosen light-look twin: the text, the panels, the accents.
LIGHT_INKS = MappingProxyType({
    **{dark: _LIGHT_TRACES[name] for name, dark in _DARK_TRACES.items()},
    # text, from the strongest to the faintest
    "#ffffff": "#000000", "#f2f4f8": "#101317", "#e5e9f0": "#0d1014",
    "#e8ffe0": "#0b2a0d", "#d8dee9": "#12161b", "#c8d0dc": "#15191f",
    "#aab4c3": "#2b323c", "#9aa5b4": "#353d48", "#8a95a5": "#3f4854",
    "#8a94a3": "#3f4854", "#7f8a99": "#444d59", "#6c7683": "#4f5863",
    "#6b6e75": "#5a5e66", "#5c6570": "#70777f",
    # panels and fields
    "#0b0d0f": "#ffffff", "#0f1215": "#ffffff", "#101215": "#f1f3f5",
    "#14171b": "#eceff2", "#15181c": "#e2e5e9", "#161a1f": "#f3f5f7",
    "#1b1f24": "#e6e9ed", "#1e1f22": "#ffffff", "#20252b": "#f7f8fa",
    "#20262d": "#d5dae0", "#22272e": "#c9d0d8", "#262c33": "#dde1e6",
    "#2a3038": "#dfe3e8", "#2b3036": "#c4c9cf", "#2c323a": "#b9c0c8",
    "#2f3640": "#c8d6e6", "#323943": "#aeb6c0", "#343b45": "#d0d6dd",
    "#3a414a": "#9aa3ad", "#414955": "#8d96a1", "#4c535c": "#a3aab2",
    "#4c566a": "#8d96a1", "#55606e": "#7b8490", "#4c6a8a": "#a9c4e2",
    # accents on buttons, lamps and warnings
    "#81a1c1": "#1f4f86", "#a3c1e0": "#1f4f86", "#ffa726": "#a84300",
    "#ffb74d": "#a84300", "#ffc94d": "#8a6300", "#ff4b4b": "#c40000",
    "#ff8080": "#b00020", "#ff8a80": "#b00020",
    "#3d5a2a": "#bfe3b0", "#2f5a31": "#bfe3b0", "#6a2327": "#f4b9bd",
    "#384b66": "#bcd0ea", "#24405a": "#cfe0f5", "#2f4a66": "#b7cff0",
    "#7a2323": "#ffd0d0", "#a01c22": "#b00020", "#5a1d22": "#ffd6d9",
    "#2a2f1a": "#fff6cc", "#8a7a2a": "#8a6300",
})


@dataclass(frozen=True)
class Theme:
    """One look. Colours are '#rrggbb'; scope_background and foreground are the plots'
    canvas and axes; grid_alpha is the grid's opacity (0-1); sweep_luminance the WCAG
    luminance all overlaid sweeps share; palette: QPalette role name -> colour;
    text_scale multiplies every font size (1.0 or LARGE_TEXT_SCALE)."""

    name: str
    title: str
    scope_background: str
    foreground: str
    grid_alpha: float
    traces: MappingProxyType
    fallback_traces: tuple
    cursors: tuple
    sweep_luminance: float
    dimmed_alpha: int
    palette: MappingProxyType
    disabled_text: str
    light: bool = False
    text_scale: float = 1.0
    colour_words: tuple = ("yellow", "cyan", "green")  # Vm, Im, command, for people

    def with_text_scale(self, scale):
        """The same look with every font `scale` times its size."""
        return replace(self, text_scale=float(scale))

    @property
    def large_text(self):
        """True if fonts are enlarged."""
        return self.text_scale > 1.0

    def px(self, size):
        """A size in px (a font, or a box made to hold text) scaled for large text."""
        return int(round(size * self.text_scale))


DARK = Theme(
    name="dark", title="Dark", scope_background="#0b0d0f", foreground="#aab4c3",
    grid_alpha=0.18, traces=_DARK_TRACES,
    # The fifth was #786fa6 until 2026-12: 4.29:1, under the 4.5:1 every trace needs.
    fallback_traces=("#f78fb3", "#63cdda", "#e77f67", "#cf6a87", "#8179b0", "#f8a5c2"),
    cursors=("#f2f4f8", "#ffb74d"), sweep_luminance=0.25, dimmed_alpha=110,
    palette=MappingProxyType({
        "Window": "#14171b", "WindowText": "#d8dee9", "Base": "#0f1215",
        "AlternateBase": "#1b1f24", "Text": "#e5e9f0", "Button": "#2a3038",
        "ButtonText": "#e5e9f0", "Highlight": "#4c6a8a", "HighlightedText": "#ffffff",
        "ToolTipBase": "#2a3038", "ToolTipText": "#e5e9f0", "PlaceholderText": "#6c7683",
        "Link": "#81a1c1"}),
    disabled_text="#5c6570")

LIGHT = Theme(
    name="light", title="Light high contrast", scope_background="#ffffff",
    colour_words=("amber", "teal", "green"),
    foreground="#1c1f24", grid_alpha=0.30, traces=_LIGHT_TRACES,
    fallback_traces=("#ad1457", "#00707a", "#bf360c", "#880e4f", "#4527a0", "#c2185b"),
    cursors=("#101317", "#a84300"),
    # 0.15: 5.25:1 on the white scope, more than the 3:1 graphics need (a projector
    # washes colours out); the sweeps stay of one luminance as in the dark look.
    sweep_luminance=0.15, dimmed_alpha=90,
    palette=MappingProxyType({
        "Window": "#eceff2", "WindowText": "#0d1014", "Base": "#ffffff",
        "AlternateBase": "#f3f5f7", "Text": "#0d1014", "Button": "#dfe3e8",
        "ButtonText": "#0d1014", "Highlight": "#1f4f86", "HighlightedText": "#ffffff",
        "ToolTipBase": "#ffffe8", "ToolTipText": "#0d1014", "PlaceholderText": "#4f5863",
        "Link": "#1f4f86"}),
    disabled_text="#70777f", light=True)

THEMES = MappingProxyType({DARK.name: DARK, LIGHT.name: LIGHT})


def theme_named(name, large_text=False):
    """The theme called `name` ('dark' or 'light'), with large text if asked;
    KeyError for another name."""
    return THEMES[name].with_text_scale(LARGE_TEXT_SCALE if large_text else 1.0)


# --- colour arithmetic ----------------------------------------------------------------

def _linear(v):
    return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4


def relative_luminance(color):
    """WCAG 2 relative luminance (0 black .. 1 white) of a QColor or colour name."""
    color = QColor(color)
    return (0.2126 * _linear(color.redF()) + 0.7152 * _linear(color.greenF())
            + 0.0722 * _linear(color.blueF()))


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


def ink(theme, color):
    """A dark-look colour (QColor or name) as `theme` shows it, as a QColor (its alpha
    kept). The dark look shows every colour as it is."""
    color = QColor(color)
    if not theme.light:
        return color
    alpha = color.alpha()
    named = LIGHT_INKS.get(color.name())
    if named is not None:
        result = QColor(named)
    elif relative_luminance(color) < SURFACE_LUMINANCE:
        # A dark surface becomes a light one of the same hue.
        hue, saturation, lightness, _ = color.getHslF()
        result = QColor.fromHslF(max(hue, 0.0), saturation, 1.0 - lightness)
    else:
        result = readable_on(color, "#ffffff", LIGHT_INK_CONTRAST)
    result.setAlpha(alpha)
    return result


_HEX = re.compile(r"#[0-9a-fA-F]{6}\b")
_FONT_PX = re.compile(r"(font-size:\s*)(\d+(?:\.\d+)?)px")


def restyle_qss(text, theme):
    """A stylesheet written for the dark look, in `theme`: every #rrggbb colour through
    :func:`ink`, every font-size in px times the text scale."""
    if theme.light:
        text = _HEX.sub(lambda m: ink(theme, m.group(0)).name(), text)
    if theme.text_scale != 1.0:
        text = _FONT_PX.sub(lambda m: f"{m.group(1)}{_scaled(m.group(2), theme)}px", text)
    return text


def _scaled(number, theme):
    return max(1, int(math.floor(float(number) * theme.text_scale + 0.5)))
