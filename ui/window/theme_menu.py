"""View > Theme (Dark / Light high contrast) and View > Large text: the window's look,
switched at run time (every panel follows, no restart) and kept in the settings.

The look at start is the command line's (``--theme``, ``--large-text``), else the saved
one (a bad saved value is dropped with a log line, see :mod:`ui.window.settings_store`), else
dark with normal text.
"""

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup

from ui.look import theme
from ui.window import window_settings

THEME_KEY, LARGE_TEXT_KEY = window_settings.THEME_KEY, window_settings.LARGE_TEXT_KEY


def startup_look(saved, options):
    """The look a new window starts in (a Theme): options (a WindowOptions) first,
    then the saved settings (a SavedSettings), then dark with normal text."""
    name = options.theme or saved.choice(THEME_KEY, theme.names(), "dark")
    large = options.large_text
    if large is None:
        large = saved.choice(LARGE_TEXT_KEY, ("true", "false"), "false") == "true"
    return theme.look_for(name, large)


class ThemeMenu(QObject):
    """The View menu's look entries of a window. ``actions``: {theme name: QAction};
    ``large_text``: the checkable Large text action."""

    def __init__(self, window, view_menu):
        super().__init__(window)
        self.window = window
        view_menu.addSeparator()
        submenu = view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        group.setExclusive(True)
        self.actions = {}
        for name in theme.names():
            action = QAction(theme.look_for(name).title, self)
            action.setCheckable(True)
            action.triggered.connect(lambda _=False, n=name: self.set_look(n, None))
            group.addAction(action)
            submenu.addAction(action)
            self.actions[name] = action
        self.large_text = QAction("&Large text", self)
        self.large_text.setCheckable(True)
        self.large_text.setToolTip("Every font larger, for the back of a lecture room")
        self.large_text.triggered.connect(lambda on: self.set_look(None, on))
        view_menu.addAction(self.large_text)
        self._show_checks()

    def set_look(self, name=None, large_text=None):
        """Switch to theme `name` and/or large text on or off (None: keep), at once,
        and remember it in the window's settings."""
        shown = theme.current()
        look = theme.look_for(name or shown.name,
                              shown.large_text if large_text is None else large_text)
        if look != shown:
            theme.switch(look)
            # Large text may ask for more room than the screen has: panels scroll instead.
            window_settings.fit_on_screen(self.window)
        window_settings.save_look(self.window.settings, look)
        self._show_checks()
        return look

    def _show_checks(self):
        look = theme.current()
        for name, action in self.actions.items():
            action.setChecked(name == look.name)
        self.large_text.setChecked(look.large_text)
