"""What the rig window keeps between starts: its layout, the mode, holdings, speed,
cell, traces and display, the recording's choices and the bath. Every value read back
is validated by :class:`ui.window.settings_store.SavedSettings`: a bad one is dropped and the
window starts with its default."""

import json

from rig.acquisition import commands as c
from rig.errors import VrigError
from rig.model.physics import check_temperature
from rig.model.solutions import check_permeant, solution_from_dict
from ui.look import theme
from ui.panels.amplifier_panel import KNOB_RANGES, SPEEDS

BATH_DOCK_MIN_WINDOW_HEIGHT = 900  # px: below this the bath dock starts hidden
DEFAULT_SIZE = (1280, 800)  # px: the smallest screen a practical room has

THEME_KEY = "theme"
LARGE_TEXT_KEY = "large_text"


def save_look(settings, look=None):
    """Write the look shown (or look, a Theme) to a QSettings."""
    look = look or theme.current()
    settings.setValue(THEME_KEY, look.name)
    settings.setValue(LARGE_TEXT_KEY, "true" if look.large_text else "false")


def restore(window):
    """Put the saved layout and settings into a new window and its engine."""
    s = window.saved
    geometry = s.blob("geometry")
    if geometry is None or not window.restoreGeometry(geometry):
        window.resize(*DEFAULT_SIZE)
    fit_on_screen(window)
    state = s.blob("window_state")
    if ((state is None or not window.restoreState(state))
            and window.height() < BATH_DOCK_MIN_WINDOW_HEIGHT):
        # On a small screen the scopes need the height; the button brings the dock.
        window.bath.hide()
    panel = window.panel
    for mode, key in (("VC", "holding_VC_mV"), ("CC", "holding_CC_pA")):
        low, high = KNOB_RANGES[mode][1:3]
        value = s.number(key, low, high)
        if value is not None:
            panel.set_holding(mode, value)
    if window.settings.value("speed") == "max":
        panel.set_speed(None)
    else:
        speed = s.number("speed", 0.1, 10.0)
        if speed is not None and speed in [factor for _, factor in SPEEDS]:
            panel.set_speed(speed)
    panel.set_mode(s.choice("mode", ("VC", "CC", "I0"), "CC"))
    window.scopes.scope.set_mode(panel.mode)
    window.scopes.set_visible_traces(s.names("traces"))
    window.scopes.set_view_settings(s.choice("display", ("sweep", "scroll"), "sweep"),
                                    s.number("window_s", 0.1, 60.0, 1.0))
    window.recording.restore()
    _restore_bath(window)
    window.send_settings()


def _restore_bath(window):
    """The last solutions and temperature, if they were saved for this same cell
    (a different cell starts in its own solutions). A bad saved value is ignored."""
    data = window.saved.json_object("bath_settings")
    state = window.client.state
    try:
        if data is None or data.get("cell") != state.cell.name:
            return
        bath = solution_from_dict(data["bath"], data["bath"].get("name", "bath"))
        pipette = solution_from_dict(data["pipette"], data["pipette"].get("name", "pipette"))
        temperature = check_temperature(data["temperature_C"])
        check_permeant(bath, "bath")
        check_permeant(pipette, "pipette")
    except (VrigError, ValueError, KeyError, TypeError, AttributeError) as exc:
        # logged like every other dropped value, so a hand edit that did nothing is explained
        window.saved.drop("bath_settings", data, f"not usable solutions: {exc}")
        return
    window.client.send(c.SetSolutions(bath, pipette))
    window.client.send(c.SetTemperature(temperature))
    window.bath.solutions.set_state(state.cell, bath, pipette, temperature)


def fit_on_screen(window):
    """Keep the window inside the screen's free area (a saved geometry may come from
    a larger screen, or from a window that grew past the screen)."""
    screen = window.screen()
    if screen is None:
        return
    area = screen.availableGeometry()
    frame = window.frameGeometry()
    width = min(window.width(), area.width() - (frame.width() - window.width()))
    height = min(window.height(), area.height() - (frame.height() - window.height()))
    if (width, height) != (window.width(), window.height()):
        window.resize(max(width, 320), max(height, 240))


def save(window):
    """Write the window's layout and last settings to its QSettings."""
    s = window.settings
    panel = window.panel
    s.setValue("geometry", window.saveGeometry())
    s.setValue("window_state", window.saveState())
    s.setValue("mode", panel.mode)
    s.setValue("holding_VC_mV", panel.holdings["VC"])
    s.setValue("holding_CC_pA", panel.holdings["CC"])
    speed = panel.speed()
    s.setValue("speed", "max" if speed is None else speed)
    s.setValue("cell", panel.cell_combo.currentText())
    s.setValue("traces", ",".join(window.scopes.visible_traces()))
    display, window_s = window.scopes.view_settings()
    s.setValue("display", display)
    s.setValue("window_s", window_s)
    window.recording.save_settings()
    save_look(s)
    shown = window.bath.solutions
    s.setValue("bath_settings", json.dumps({
        "cell": window.client.state.cell.name, "temperature_C": shown.temperature_c,
        **{side: {"name": shown.solutions[side].name,
                  "concentrations_mM": dict(shown.solutions[side].concentrations_mm)}
           for side in ("bath", "pipette")}}))
    s.sync()
