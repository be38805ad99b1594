"""What the rig window keeps between starts: its layout, the mode, holdings, speed,
cell, traces and display, the recording's choices and the bath. Every value read back
is validated by :class:`ui.window.settings_store.SavedSettings`: a bad one is dropped and the
window starts with its default."""

import json

from rig.acquisition import commands as c
from rig.clamp import Mode
from rig.errors import VrigError
from rig.model.physics import check_temperature
from rig.model.solutions import check_permeant, solution_from_dict
from rig.session.session import HOLDING_RANGES
from ui.look import theme
from ui.panels.amplifier_panel import SPEEDS
from ui.panels.patch_mode import is_patch

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
    session = window.session
    for mode, key in ((Mode.VC, "holding_VC_mV"), (Mode.CC, "holding_CC_pA")):
        low, high = HOLDING_RANGES[mode]
        value = s.number(key, low, high)
        if value is not None:
            session.set_holding(mode, value)
    if window.settings.value("speed") == "max":
        session.speed = None
    else:
        speed = s.number("speed", 0.01, 10.0)
        if speed is not None and speed in [factor for _, factor in SPEEDS]:
            session.speed = speed
    session.mode = s.choice("mode", ("VC", "CC", "I0"), "CC")
    if is_patch(session.engine.cell):
        session.mode = "VC"  # a patch is recorded in voltage clamp, whatever came before
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
    state = window.session.engine
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
    session = window.session
    s.setValue("geometry", window.saveGeometry())
    s.setValue("window_state", window.saveState())
    s.setValue("mode", str(session.mode))
    s.setValue("holding_VC_mV", session.holding(Mode.VC))
    s.setValue("holding_CC_pA", session.holding(Mode.CC))
    s.setValue("speed", "max" if session.speed is None else session.speed)
    s.setValue("cell", session.cell)
    s.setValue("traces", ",".join(window.scopes.visible_traces()))
    display, window_s = window.scopes.view_settings()
    s.setValue("display", display)
    s.setValue("window_s", window_s)
    window.recording.save_settings()
    save_look(s)
    shown = window.bath.solutions
    s.setValue("bath_settings", json.dumps({
        "cell": window.session.cell, "temperature_C": shown.temperature_c,
        **{side: {"name": shown.solutions[side].name,
                  "concentrations_mM": dict(shown.solutions[side].concentrations_mm)}
           for side in ("bath", "pipette")}}))
    s.sync()
