"""The Help menu of the rig window: the welcome card with its three things to try,
the quick guide (F1), About, and the problems met at start. F5 (run the protocol) is
bound here too, with the other keys a newcomer reads about in the guide."""

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox

from rig.acquisition import commands as c
from rig.errors import VrigError
from rig.simulation.steady_state import resting_potential_mv
from ui.panels.patch_mode import is_patch
from ui.window import help as help_dialogs

FIRE_AFTER_MS = 300  # a fibre's stimulus waits for the settings sent before it
LOCAL_TTX_HALF = 0.1  # of the fibre's length each side: several nodes of a myelinated one


class HelpMenu(QObject):
    """Builds the Help menu on a MainWindow and opens its dialogs. The dialogs' "try
    this" buttons act through the window's own actions (mode, holding, protocols,
    perfusion), never on the engine."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.welcome = None
        self.guide = None
        self.problems = []
        menu = window.menuBar().addMenu("&Help")
        for text, key, slot in (("&Welcome...", None, self.show_welcome),
                                ("&Quick guide", QKeySequence.HelpContents, self.show_guide),
                                ("&About vRig", None, self.show_about)):
            action = QAction(text, window)
            if key is not None:
                action.setShortcut(key)
            action.triggered.connect(slot)
            menu.addAction(action)
        self.problems_action = QAction("&Problems at start...", window)
        self.problems_action.triggered.connect(self.show_problems)
        self.problems_action.setVisible(False)
        menu.addAction(self.problems_action)
        QShortcut(QKeySequence(Qt.Key_F5), window, window.protocols.run_current)

    def show_welcome(self):
        """The welcome card with three things to try; returns the dialog."""
        window = self.window
        holding = window.session.holding("CC")
        if window.session.mode == "CC" and holding > 0:
            text = (f"{holding:g} pA is injected through the electrode (the holding knob), "
                    "so it fires action potentials over and over.")
        else:
            text = "It is at rest; the holding knob sets the injected current."
        engine = window.session.engine
        rest_mv = resting_potential_mv(engine.cell, engine.bath, engine.pipette,
                                       engine.temperature_c)
        fibre = window.session.electrodes is not None
        patch = is_patch(engine.cell)
        tries = ((self._try_fire, self._try_velocity, self._try_local_ttx) if fibre
                 else (self._try_openings, self._try_noise, self._try_patch_ttx) if patch
                 else (self._try_rest, self._try_threshold, self._try_ttx))
        if fibre:
            text = "It is at rest. " + window.axon.hint.text()
        elif patch:
            text = ("It is held in voltage clamp; a step protocol opens its channels."
                    if window.session.mode == "VC" else
                    "It is in current clamp, where a patch drifts to a reversal potential: "
                    "patches are recorded in voltage clamp (VC).")
        dialog = help_dialogs.WelcomeDialog(engine.cell, text, tries, rest_mv, window, fibre,
                                            patch)
        dialog.dont_show.setChecked(window.settings.value("welcome_at_start") == "false")
        dialog.dontShowAgain.connect(
            lambda off: window.settings.setValue("welcome_at_start", "false" if off else "true"))
        dialog.show()
        # Bottom right, over the current and command scopes: the Vm trace stays in view.
        corner = window.geometry().bottomRight()
        dialog.move(max(window.x(), corner.x() - dialog.width() - 24),
                    max(window.y(), corner.y() - dialog.height() - 48))
        self.welcome = dialog
        return dialog

    def _try_rest(self):
        self.window.set_mode("CC")
        self.window.set_holding("CC", 0.0)
        self.window.start()

    def _try_fire(self):
        """A fibre: the stimulus that fires it (VC when CC cannot), on the Axon tab."""
        window = self.window
        window.tabs.setCurrentWidget(window.axon)
        window.axon.prepare_stimulus(window)
        window.start()
        QTimer.singleShot(FIRE_AFTER_MS, window.panel.stimulus.fire)

    def _try_velocity(self):
        window = self.window
        length_m = window.session.engine.cell.geometry.total_length_um * 1e-6
        sites = list(window.session.electrodes.sites_m)
        sites[:2] = (length_m / 3, 2 * length_m / 3)
        try:
            window.session.set_electrodes(sites_m=sites)
        except VrigError as exc:
            window.show_error(str(exc))
        window.axon.cv_from.setCurrentIndex(1)
        window.axon.cv_to.setCurrentIndex(2)
        self._try_fire()

    def _try_local_ttx(self):
        window = self.window
        where = window.session.electrodes
        middle = (where.sites_m[0] + where.sites_m[1]) / 2
        length_m = window.session.engine.cell.geometry.total_length_um * 1e-6
        half = LOCAL_TTX_HALF * length_m
        window.client.send(c.ApplyLocalDrug("TTX", 1e-6, middle - half, middle + half))
        self._try_fire()

    def _run_shipped(self, name):
        protocol = self.window.protocols.load_shipped(name)
        if protocol is not None:
            self.window.run_protocol(protocol)

    def _try_threshold(self):
        self._run_shipped("cc-threshold")

    def _try_openings(self):
        ions = {scheme.ion for scheme, _count in self.window.session.engine.cell.schemes}
        self._run_shipped("vc-patch-na" if "Na" in ions else "vc-patch-k")

    def _try_noise(self):
        self._run_shipped("vc-patch-na-noise")

    def _try_patch_ttx(self):
        window = self.window
        window.set_mode("VC")
        self._try_ttx("10nM")

    def _try_ttx(self, concentration="300nM"):
        window = self.window
        window.bath.show()
        window.bath.tabs.setCurrentIndex(0)  # Drugs
        window.tabs.setCurrentWidget(window.scopes)
        window.start()
        window.bath.perfusion.apply("TTX", concentration, "outside")

    def show_guide(self):
        """The quick guide (F1); returns the dialog."""
        self.guide = help_dialogs.guide_dialog(self.window)
        self.guide.show()
        return self.guide

    def show_about(self):
        """Version, libraries, licence and sources."""
        QMessageBox.about(self.window, "About vRig", help_dialogs.about_text())

    def set_problems(self, problems):
        """Offer Help > Problems at start when there are any."""
        self.problems = list(problems)
        self.problems_action.setVisible(bool(self.problems))

    def show_problems(self):
        """The problems met at start, one per line, in a message box."""
        QMessageBox.warning(self.window, "Problems at start",
                            "\n\n".join(self.problems) or "none")
