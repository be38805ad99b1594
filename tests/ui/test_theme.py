"""The two looks and large text: WCAG contrast of every trace on each look's scope,
switching at run time (scope background, trace pens, cursors, stylesheet, fonts),
the saved choice (a bad one falls back to dark with a log line) and the options."""

import logging
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QImage

from rig.errors import VrigError
from ui import cli
from ui.look import (
    theme,
    theme_palettes,
)
from ui.look.theme_palettes import DARK, LARGE_TEXT_SCALE, LIGHT, THEMES
from ui.window import window_options
from ui.window.window_options import WindowOptions


def wcag(first, second):
    """The WCAG 2 contrast ratio from the definition (sRGB 8-bit channels), written out
    here independently of ui.look.theme_palettes."""
    def luminance(name):
        channels = [int(name[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                  for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def dark_again(qapp):
    """Every test leaves the application dark with normal text, as the others expect."""
    theme.apply(qapp)
    yield qapp
    theme.switch(DARK, qapp)


@pytest.fixture
def make_window(make_window, dark_again):
    """The shared windows (tests/ui/conftest.py), the application dark again after."""
    return make_window


# --- contrast -------------------------------------------------------------------------

def test_the_contrast_formula_matches_known_pairs():
    assert wcag("#000000", "#ffffff") == pytest.approx(21.0)
    assert wcag("#777777", "#ffffff") == pytest.approx(4.478, abs=1e-3)
    assert theme_palettes.contrast_ratio("#777777", "#ffffff") == pytest.approx(
        wcag("#777777", "#ffffff"), rel=1e-6)  # Qt keeps 16-bit channels


@pytest.mark.parametrize("look", list(THEMES.values()), ids=list(THEMES))
def test_every_trace_reads_as_text_on_its_scope(look):
    colors = list(look.traces.values()) + list(look.fallback_traces) + list(look.cursors)
    for color in colors:
        assert wcag(color, look.scope_background) >= 4.5, color


def test_light_trace_contrasts_are_the_documented_ones():
    """The figures in the README's table (two decimals)."""
    table = {name: round(wcag(color, LIGHT.scope_background), 2)
             for name, color in LIGHT.traces.items()}
    assert table == {"Vm": 5.43, "Im": 5.66, "command": 5.45, "INa": 5.62, "IK": 5.81,
                     "Ileak": 7.46, "gNa": 5.62, "gK": 5.81, "gleak": 7.46, "m": 5.49,
                     "h": 7.04, "n": 5.81}
    assert min(table.values()) >= 4.5


@pytest.mark.parametrize("look", list(THEMES.values()), ids=list(THEMES))
@pytest.mark.parametrize("count", [1, 2, 5, 15, 64])
def test_sweep_colours_read_as_graphics_on_the_scope(look, count):
    for color in theme.sweep_colors(count, look):
        assert wcag(color.name(), look.scope_background) >= 3.0, color.name()


def test_light_sweeps_are_darker_than_dark_ones():
    light = theme.sweep_colors(10, LIGHT)
    dark = theme.sweep_colors(10, DARK)
    assert [c.name() for c in dark] == [c.name() for c in theme.sweep_colors(10)]
    assert all(wcag(a.name(), "#ffffff") > wcag(b.name(), "#ffffff") for a, b in zip(light, dark))


def test_the_light_look_inverts_panels_and_darkens_text():
    assert theme_palettes.ink(DARK, "#14171b").name() == "#14171b"  # dark: unchanged
    for dark_panel in ("#14171b", "#1b1f24", "#0f1215", "#123456"):
        assert theme_palettes.relative_luminance(theme_palettes.ink(LIGHT, dark_panel)) > 0.5
    for dark_ink in ("#e5e9f0", "#aab4c3", "#ffd54f", "#abcdef"):
        assert wcag(theme_palettes.ink(LIGHT, dark_ink).name(), "#ffffff") >= 4.5
    half = QColor("#ffd54f")
    half.setAlpha(70)
    assert theme_palettes.ink(LIGHT, half).alpha() == 70


def test_stylesheets_are_translated_and_scaled():
    qss = "QLabel { color: #e5e9f0; background: #14171b; font-size: 14px; }"
    assert theme_palettes.restyle_qss(qss, DARK) == qss
    light = theme_palettes.restyle_qss(qss, LIGHT.with_text_scale(1.5))
    assert "#e5e9f0" not in light and "#14171b" not in light
    assert "font-size: 21px" in light


# --- switching at run time ------------------------------------------------------------

def _pen(curve):
    return curve.opts["pen"].color().name()


def test_the_welcome_card_names_the_colours_it_shows(make_window):
    window = make_window()
    assert "<b>yellow</b>" in window.help.show_welcome().intro.text()
    window.looks.actions["light"].trigger()
    text = window.help.show_welcome().intro.text()
    assert "<b>amber</b>" in text and "<b>teal</b>" in text and "yellow" not in text


def test_switching_restyles_the_open_window(make_window, qapp):
    window = make_window()
    stack = window.scopes.scope
    assert stack.backgroundBrush().color().name() == DARK.scope_background
    assert _pen(stack.continuous_curves["Vm"]) == DARK.traces["Vm"]
    window.scopes.cursors_button.setChecked(True)
    dark_sheet = qapp.styleSheet()

    window.looks.actions["light"].trigger()

    assert theme.current() == LIGHT
    assert stack.backgroundBrush().color().name() == LIGHT.scope_background
    for name in ("Vm", "Im", "command"):
        assert _pen(stack.continuous_curves[name]) == LIGHT.traces[name]
    assert stack.plots["Vm"].getAxis("left").pen().color().name() == LIGHT.foreground
    line = stack.cursors.lines("Vm")[0]
    assert line.pen.color().name() == LIGHT.cursors[0]
    sheet = qapp.styleSheet()
    assert sheet != dark_sheet
    assert "#14171b" not in sheet and LIGHT.palette["Window"] in sheet
    assert qapp.palette().window().color().name() == LIGHT.palette["Window"]
    # The analysis plots and the bath dock follow too.
    assert window.analysis.overlay_view.backgroundBrush().color().name() == "#ffffff"
    assert "#20252b" not in window.bath.perfusion.styleSheet()

    window.looks.actions["dark"].trigger()
    assert stack.backgroundBrush().color().name() == DARK.scope_background
    assert _pen(stack.continuous_curves["Vm"]) == DARK.traces["Vm"]
    assert qapp.styleSheet() == dark_sheet


def test_a_protocol_overlay_takes_the_light_sweep_colours(make_window, qtbot):
    window = make_window()
    window.looks.set_look("light")
    window.run_protocol(window.protocols.load_shipped("vc-iv-family"))
    qtbot.waitUntil(lambda: len(window.scopes.scope.overlay.sweeps()) >= 2, timeout=20_000)
    overlay = window.scopes.scope.overlay
    expected = theme.sweep_colors(overlay.count, LIGHT)
    assert [overlay.color(k).name() for k in range(overlay.count)] == [
        c.name() for c in expected]
    window.looks.set_look("dark")
    assert overlay.color(0).name() == theme.sweep_colors(overlay.count, DARK)[0].name()


def test_large_text_scales_the_application_font(make_window, qapp):
    window = make_window()
    base = qapp.font().pointSizeF()
    window.looks.large_text.trigger()
    assert theme.current().text_scale == LARGE_TEXT_SCALE
    assert qapp.font().pointSizeF() == pytest.approx(base * LARGE_TEXT_SCALE)
    assert "font-size: 48px" in qapp.styleSheet()  # the meters' 34 px digits
    assert window.scopes.side.width() == round(230 * LARGE_TEXT_SCALE)
    assert theme.current().name == "dark"  # independent of the theme
    window.looks.large_text.trigger()
    assert qapp.font().pointSizeF() == pytest.approx(base)
    assert "font-size: 34px" in qapp.styleSheet()


def test_large_text_fits_a_1280x800_window(make_window, qapp):
    window = make_window(options=WindowOptions(theme="light", large_text=True))
    window.bath.show()
    qapp.processEvents()
    assert window.minimumSizeHint().width() <= 1280
    assert window.minimumSizeHint().height() <= 800
    assert (window.width(), window.height()) == (1280, 800)


# --- settings and options -------------------------------------------------------------

def test_the_look_is_saved_and_restored(make_window, tmp_path, qapp):
    settings = QSettings(str(tmp_path / "look.ini"), QSettings.IniFormat)
    window = make_window(settings=settings)
    window.looks.set_look("light", True)
    window.close()
    assert settings.value("theme") == "light" and settings.value("large_text") == "true"
    theme.switch(DARK, qapp)
    again = make_window(settings=QSettings(str(tmp_path / "look.ini"), QSettings.IniFormat))
    assert theme.current() == LIGHT.with_text_scale(LARGE_TEXT_SCALE)
    assert again.looks.actions["light"].isChecked() and again.looks.large_text.isChecked()


@pytest.mark.parametrize("stored", ["neon", "LIGHT"])
def test_a_bad_saved_theme_falls_back_to_dark_with_a_log_line(make_window, tmp_path, caplog,
                                                             stored):
    settings = QSettings(str(tmp_path / "bad.ini"), QSettings.IniFormat)
    settings.setValue("theme", stored)
    settings.setValue("large_text", "maybe")
    settings.sync()
    theme.switch(LIGHT)  # whatever was shown before
    with caplog.at_level(logging.WARNING, logger="vrig.settings"):
        make_window(settings=settings)
    assert theme.current() == DARK
    lines = [r.getMessage() for r in caplog.records if r.name == "vrig.settings"]
    assert any(line.startswith("settings: ignoring theme=") for line in lines)
    assert any(line.startswith("settings: ignoring large_text=") for line in lines)


def test_options_win_over_the_saved_look(make_window, tmp_path):
    settings = QSettings(str(tmp_path / "o.ini"), QSettings.IniFormat)
    settings.setValue("theme", "dark")
    window = make_window(settings=settings, options=WindowOptions(theme="light",
                                                                  large_text=True))
    assert theme.current() == LIGHT.with_text_scale(LARGE_TEXT_SCALE)
    assert window.scopes.scope.backgroundBrush().color().name() == "#ffffff"


def test_the_command_line_knows_the_looks(monkeypatch):
    opened = []
    monkeypatch.setattr(cli, "check_display", lambda: None)
    monkeypatch.setattr("ui.app.main", lambda options: opened.append(options) or 0)
    cli.main(["--theme", "light", "--large-text"])
    cli.main([])
    assert opened == [WindowOptions(theme="light", large_text=True), WindowOptions()]
    assert tuple(THEMES) == window_options.THEME_NAMES
    assert window_options.LARGE_TEXT_SCALE == LARGE_TEXT_SCALE


@pytest.mark.parametrize("argv", [["--theme", "neon"], ["screenshot", "x.png", "--theme", "x"]])
def test_a_bad_theme_option_is_one_line(capsys, argv):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("vrig: error: ") and "--theme" in err
    with pytest.raises(VrigError, match="use one of dark, light"):
        window_options.check_theme("neon")


def test_screenshot_of_the_light_look(tmp_path, dark_again):
    from ui import screenshot

    out = tmp_path / "light.png"
    screenshot.render(out, seconds=0.2, size=(1280, 800), look=("light", True), bath="show")
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    pixels = [QColor(image.pixel(x, y)) for x in range(0, 1280, 16) for y in range(0, 800, 16)]
    light = sum(theme_palettes.relative_luminance(p) > 0.6 for p in pixels)
    assert light > 0.7 * len(pixels)  # near-white panels and scopes


def test_table_cells_coloured_in_code_follow_a_switch(qtbot, dark_again, qapp):
    from rig.simulation.engine import Rig
    from ui.panels.epoch_table import INAPPLICABLE_BACKGROUND
    from ui.panels.solutions_panel import SolutionsPanel
    from ui.panels.stimulus_designer import StimulusDesigner

    designer = StimulusDesigner()
    rig = Rig.from_presets("hh-squid")
    solutions = SolutionsPanel(rig.cell, rig.bath, rig.pipette, rig.temperature_c)
    for widget in (designer, solutions):
        qtbot.addWidget(widget)
    table = designer.table
    greyed = next(table.item(row, 0) for row in range(1, table.rowCount())
                  if not table.item(row, 0).flags() & Qt.ItemIsEditable)
    e_na = solutions.table.item(solutions.rows.index("Na"), 2)
    assert greyed.background().color() == theme.color(INAPPLICABLE_BACKGROUND, DARK)
    dark_e = e_na.foreground().color()

    theme.switch(LIGHT, qapp)

    assert greyed.background().color() == theme.color(INAPPLICABLE_BACKGROUND, LIGHT)
    assert e_na.foreground().color() == theme.color("#ffd54f", LIGHT) != dark_e
