"""The "Bath & drugs" dock: the perfusion manifold and the solutions panel as tabs.

Below the scopes by default, each tab lays out side by side; dragged to the right or
left, it stacks its parts (``dockLocationChanged``).

The dock only forwards: ``commandRequested(command)`` for the window to send through
its RigClient, ``message(str)`` for the status bar, ``show_chunks(chunks)`` from the
window's chunk handler, and ``set_engine_state(state)`` when a new engine (cell) replaces the
old one (the panels then show its solutions and temperature, and no drugs).
"""

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDockWidget, QTabWidget

from ui.panels.gradients_panel import GradientsPanel
from ui.panels.perfusion_panel import PerfusionPanel
from ui.panels.solutions_panel import SolutionsPanel
from ui.widgets.scrolling import scrolled


class BathDock(QDockWidget):
    """A dock (bottom by default: at 1280x800 the side areas have no room left) with
    tabs 'Drugs' (PerfusionPanel, with the potencies of the cell's preparation),
    'Solutions' (SolutionsPanel) and 'Gradients' (GradientsPanel), built from a Rig's
    settings (read before its runner starts)."""

    commandRequested = Signal(object)
    message = Signal(str)
    gradientsRequested = Signal(bool, bool)  # accumulation, pump: the window makes a new engine

    def __init__(self, state, parent=None):
        super().__init__("Bath && drugs", parent)
        self.setObjectName("BathDock")
        self.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable
                         | QDockWidget.DockWidgetClosable)
        self.perfusion = PerfusionPanel(preparation=state.cell.preparation)
        self.solutions = SolutionsPanel(state.cell, state.bath, state.pipette, state.temperature_c)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("BathTabs")
        # At 1280x800 with large text the panels are larger than the dock: they scroll.
        self.tabs.addTab(scrolled(self.perfusion, horizontal=True), "Drugs")
        self.tabs.addTab(scrolled(self.solutions, horizontal=True), "Solutions")
        self.gradients = GradientsPanel(state)
        self.tabs.addTab(scrolled(self.gradients, horizontal=True), "Gradients")
        self.gradients.commandRequested.connect(self.commandRequested)
        self.gradients.gradientsRequested.connect(self.gradientsRequested)
        self.gradients.message.connect(self.message)
        self.setWidget(self.tabs)
        for panel in (self.perfusion, self.solutions):
            panel.commandRequested.connect(self.commandRequested)
            panel.message.connect(self.message)
        self.dockLocationChanged.connect(self._located)

    def _located(self, area):
        horizontal = area in (Qt.BottomDockWidgetArea, Qt.TopDockWidgetArea)
        self.perfusion.set_horizontal(horizontal)
        self.solutions.set_horizontal(horizontal)

    def show_chunks(self, chunks):
        """Pass the chunks of one GUI tick to both panels."""
        self.perfusion.show_chunks(chunks)
        self.solutions.show_chunks(chunks)
        self.gradients.show_chunks(chunks)

    def set_engine_state(self, state):
        """Show a new engine's cell, solutions and temperature (a RigState); forget the
        drugs."""
        self.perfusion.reset()
        self.perfusion.set_preparation(state.cell.preparation)
        self.solutions.set_state(state.cell, state.bath, state.pipette, state.temperature_c)
        self.gradients.set_state(state)
