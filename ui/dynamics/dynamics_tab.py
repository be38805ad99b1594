"""The Dynamics tab: the running cell's bifurcation diagram against injected current
with its present current marked, the phase plane (V against n) with the reduced
nullclines and the live trajectory, the f-I curve up and down, and the parameter
sweep view (ui.dynamics.sweep_view).

Every computation runs off the GUI thread (ui.dynamics.jobs.Job) with its progress
shown and a Cancel button: the diagram in a child process (its collocation would hold
the GIL for half a second at a time, rig.dynamics.background), the f-I curve on the
engine in a thread, a sweep on a process pool; the diagram is cached per cell,
temperature and solutions (for this window). The live parts read the runner's
chunks: in current clamp the command signal is the injected current (holding plus any
stimulus) and Vmem and n are the cell's own state.
"""

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from rig import units
from rig.clamp import Mode
from rig.dynamics import reduction
from rig.dynamics.background import diagram_in_process
from rig.dynamics.fi_curve import fi_hysteresis
from rig.dynamics.system import point_system
from rig.errors import VrigError
from ui.dynamics.diagram_view import DiagramPlot
from ui.dynamics.fi_view import FIPlot
from ui.dynamics.jobs import Job
from ui.dynamics.phase_view import PhasePlot
from ui.dynamics.progress_row import ProgressRow
from ui.dynamics.sweep_view import SweepView
from ui.look import theme
from ui.widgets.scrolling import scrolled

FI_DEFAULT_DENSITY = (0.0, 15.0, 1.0)  # uA/cm^2: from, to, step when no diagram is known


def diagram_key(state):
    """What a diagram depends on in a RigState: cell, temperature, the solutions'
    concentrations (not their descriptions, which the runner's states leave out)."""
    return (state.cell.name, round(state.temperature_c, 6),
            tuple(sorted(state.bath.concentrations_mm.items())),
            tuple(sorted(state.pipette.concentrations_mm.items())))


class DynamicsTab(QWidget):
    """The tab for a session (rig.session.session.Session). message(text) goes to the
    window's error line through install()."""

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.setObjectName("DynamicsTab")
        self.session = session
        self.cache = {}  # diagram_key -> Diagram (complete ones only)
        self.diagram = None
        self.diagram_job = None
        self.fi_job = None
        self.system = None
        self.present_pa = None
        self._present_drawn = None
        self._fresh_samples = False
        self._key = None
        layout = QVBoxLayout(self)
        self.inner = QTabWidget()
        layout.addWidget(self.inner)
        # each page scrolls when its room is smaller than it needs (large text at
        # 1280x800): the tab must never push the window past the screen
        self.inner.addTab(scrolled(self._build_diagram_page(), horizontal=True),
                          "Bifurcations && phase plane")
        self.inner.addTab(scrolled(self._build_fi_page(), horizontal=True), "f-I up && down")
        self.sweep = SweepView(session)
        self.inner.addTab(scrolled(self.sweep, horizontal=True), "Sweep")
        for plot in (self.plot, self.phase, self.fi_plot, self.sweep.plot):
            theme.style_plot(plot.getPlotItem())  # the look shown; restyle() follows
        self.cell_changed()

    def _build_diagram_page(self):
        page = QWidget()
        layout = QVBoxLayout(page)
        self.diagram_row = ProgressRow("Compute the diagram")
        self.diagram_row.start_button.clicked.connect(self.compute_diagram)
        self.diagram_row.cancel_button.clicked.connect(self.cancel_diagram)
        layout.addWidget(self.diagram_row)
        line = QHBoxLayout()
        self.present_label = QLabel("")
        self.present_label.setWordWrap(True)
        line.addWidget(self.present_label, 1)
        self.view_choice = QComboBox()
        self.view_choice.addItem("Onset of firing", "onset")
        self.view_choice.addItem("Every landmark", "all")
        self.view_choice.currentIndexChanged.connect(
            lambda _: self.plot.set_view(self.view_choice.currentData()))
        line.addWidget(QLabel("Show"))
        line.addWidget(self.view_choice)
        layout.addLayout(line)
        split = QSplitter()
        self.plot = DiagramPlot()
        self.phase = PhasePlot()
        split.addWidget(self.plot)
        split.addWidget(self.phase)
        layout.addWidget(split, 1)
        self.reduction_label = QLabel("")
        self.reduction_label.setWordWrap(True)
        layout.addWidget(self.reduction_label)
        return page

    def _build_fi_page(self):
        page = QWidget()
        layout = QVBoxLayout(page)
        controls = QHBoxLayout()
        self.fi_from, self.fi_to, self.fi_step = (QDoubleSpinBox() for _ in range(3))
        for label, box in (("from", self.fi_from), ("to", self.fi_to), ("step", self.fi_step)):
            box.setRange(-1e5, 1e5)
            box.setDecimals(1)
            box.setSuffix(" pA")
            controls.addWidget(QLabel(label))
            controls.addWidget(box)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.fi_row = ProgressRow("Measure up and down")
        self.fi_row.start_button.clicked.connect(self.measure_fi)
        self.fi_row.cancel_button.clicked.connect(lambda: self.fi_job and self.fi_job.cancel())
        layout.addWidget(self.fi_row)
        self.fi_plot = FIPlot()
        layout.addWidget(self.fi_plot, 1)
        self.fi_summary = QLabel("")
        self.fi_summary.setWordWrap(True)
        layout.addWidget(self.fi_summary)
        return page

    # --- the cell ---------------------------------------------------------------------

    def cell_changed(self, _name=None):
        """A new cell (or new settings): its system, its cached diagram if any."""
        state = self.session.engine
        self._key = diagram_key(state)
        self.cancel_diagram()
        try:
            self.system = point_system(state.cell, state.temperature_c, state.bath,
                                       state.pipette)
            why = ""
        except VrigError as exc:
            self.system, why = None, str(exc)
        self.diagram = self.cache.get(diagram_key(state))
        if self.diagram is not None:
            self.plot.show_diagram(self.diagram)
        else:
            self.plot.clear_diagram()
        self.diagram_row.start_button.setEnabled(self.system is not None)
        self.diagram_row.show_progress(1.0 if self.diagram else 0.0, why or (
            "cached" if self.diagram else "not computed yet: it takes 10-60 s"))
        names = tuple(ch.name for ch, _ in state.cell.channels)
        invalid = (why or reduction.valid_for(self.system, names)) if self.system else why
        self.phase.set_system(None if invalid else self.system)
        self.reduction_label.setText(invalid or reduction.SOURCE)
        self._fi_defaults()

    def engine_changed(self, _state=None):
        """New engine settings: a new diagram only if the temperature or a solution
        changed (the engine's settings change often: the holding, the amplifier)."""
        if diagram_key(self.session.engine) != self._key:
            self.cell_changed()

    def _fi_defaults(self):
        """f-I range: around the diagram's fold and lower Hopf, else 0-15 uA/cm^2."""
        area = self.session.engine.cell.area_um2
        low, high, step = (d * 1e-2 * area for d in FI_DEFAULT_DENSITY)  # uA/cm2 -> pA
        onset = self.diagram.hopf_of("onset") if self.diagram else None
        if onset is not None:
            fold = self.diagram.fold[0] if self.diagram.fold else onset.current_pa
            span = onset.current_pa - fold
            step = max(span / 8, onset.current_pa / 40)
            low, high = max(0.0, fold - 4 * step), onset.current_pa + 5 * step
        for box, value in ((self.fi_from, low), (self.fi_to, high), (self.fi_step, step)):
            box.setValue(round(value, 1))
        self.fi_plot.set_landmarks(self.diagram.fold[0] if self.diagram and self.diagram.fold
                                   else None, onset.current_pa if onset else None)

    # --- the diagram ------------------------------------------------------------------

    def compute_diagram(self):
        """Start the diagram's computation on a worker thread."""
        if self.system is None or (self.diagram_job and self.diagram_job.running()):
            return
        system, key = self.system, diagram_key(self.session.engine)

        def work(report, partial, cancelled):
            return diagram_in_process(system, report, partial, cancelled)

        self.diagram_job = job = Job(work, "vrig-diagram", self)
        job.progress.connect(self.diagram_row.show_progress)
        job.partial.connect(self._show_partial)
        job.done.connect(lambda d: self._diagram_done(key, d))
        job.failed.connect(lambda text: self._job_over(self.diagram_row, text))
        job.stopped.connect(lambda: self._job_over(self.diagram_row, "cancelled"))
        self.diagram_row.running(True)
        job.start()

    def cancel_diagram(self):
        """Stop a diagram computation (it stops at its next cycle)."""
        if self.diagram_job is not None:
            self.diagram_job.cancel()

    def _show_partial(self, diagram):
        if self.diagram_job is not None and not self.diagram_job.cancelled:
            self.diagram = diagram
            self.plot.show_diagram(diagram)
            self._describe_present()

    def _diagram_done(self, key, diagram):
        self.cache[key] = diagram
        self._job_over(self.diagram_row, self.summary(diagram))
        if key == diagram_key(self.session.engine):
            self.diagram = diagram
            self.plot.show_diagram(diagram)
            self._fi_defaults()
            self._describe_present()

    def _job_over(self, row, text):
        row.running(False)
        row.status.setText(text)

    def summary(self, diagram):
        """One line: the landmarks in pA and uA/cm^2, or what is missing."""
        parts = []
        for name, mark in (("Hopf (onset)", diagram.hopf_of("onset")),
                           ("Hopf (block)", diagram.hopf_of("block"))):
            if mark is not None:
                parts.append(f"{name} {mark.current_pa:.4g} pA "
                             f"({diagram.density(mark.current_pa):.4g} uA/cm2)")
        if diagram.fold is not None:
            parts.append(f"fold of cycles {diagram.fold[0]:.4g} pA "
                         f"({diagram.density(diagram.fold[0]):.4g} uA/cm2)")
        return "; ".join(parts) or "no Hopf point: rest never loses stability to a rhythm"

    # --- live -------------------------------------------------------------------------

    def add_chunks(self, chunks):
        """Take the present injected current and the trajectory from runner chunks."""
        for chunk in chunks:
            if chunk.mode != Mode.CC or chunk.n_samples == 0:
                continue
            self.present_pa = units.a_to_pa(float(np.asarray(chunk.signals["command"])[-1]))
            if self.phase.system is not None and "n" in chunk.signals:
                v = chunk.signals["Vmem"] if "Vmem" in chunk.signals else chunk.signals["Vm"]
                self.phase.add_samples(units.v_to_mv(np.asarray(v)), chunk.signals["n"])
                self._fresh_samples = True
        if chunks and chunks[-1].mode != Mode.CC:
            self.present_pa = None

    def refresh(self):
        """Once per display frame: the present-current marker, nullclines, trajectory
        (only while shown and something changed)."""
        if not self.isVisible():
            return
        if self.present_pa != self._present_drawn:
            self._present_drawn = self.present_pa
            self.plot.set_present(self.present_pa)
            self.phase.set_current(self.present_pa)
            self._describe_present()
        if self._fresh_samples:
            self._fresh_samples = False
            self.phase.redraw()

    def _describe_present(self):
        i = self.present_pa
        if i is None:
            self.present_label.setText("Present current: none (voltage clamp); switch to "
                                       "current clamp to follow it on the diagram")
            return
        area = self.session.engine.cell.area_um2
        text = f"Present current: {i:.4g} pA ({i * 100 / area:.4g} uA/cm2)"
        if self.diagram is not None:
            stable = self.diagram.rest_stable_at(i)
            if stable is not None:
                text += ": rest is " + ("stable" if stable else "unstable (the cell fires)")
            fold = self.diagram.fold
            onset = self.diagram.hopf_of("onset")
            if stable and fold and onset and fold[0] <= i < onset.current_pa:
                text += "; bistable band: firing also stable"
        self.present_label.setText(text)

    def showEvent(self, event):
        """Shown: compute the diagram if it is not known yet; draw what is pending."""
        super().showEvent(event)
        if self.diagram is None and self.system is not None and not (
                self.diagram_job and self.diagram_job.running()):
            self.compute_diagram()

    # --- f-I ---------------------------------------------------------------------------

    def fi_currents(self):
        """The f-I levels (pA) from the spin boxes, or a VrigError saying what to fix."""
        low, high, step = self.fi_from.value(), self.fi_to.value(), self.fi_step.value()
        if step <= 0 or high <= low:
            raise VrigError("give the f-I range from low to high with a step above 0")
        count = int(np.floor((high - low) / step + 1e-9)) + 1
        if count > 200:
            raise VrigError(f"{count} levels: at most 200 (a larger step)")
        return low + step * np.arange(count)

    def measure_fi(self):
        """Measure the f-I curve up and down on a fresh engine on a worker thread."""
        from rig.simulation.engine import Rig

        try:
            currents = self.fi_currents()
        except VrigError as exc:
            self.fi_row.status.setText(str(exc))
            return
        state = self.session.engine
        if state.cell.geometry is not None:
            self.fi_row.status.setText("the f-I curve takes a point cell")
            return

        def work(report, partial, cancelled):
            rig = Rig(state.cell, state.bath, state.pipette, state.temperature_c)
            return fi_hysteresis(rig, currents, on_level=lambda done, total: report(
                done / total, f"level {done} of {total}"))

        self.fi_job = job = Job(work, "vrig-fi", self)
        job.progress.connect(self.fi_row.show_progress)
        job.done.connect(self._fi_done)
        job.failed.connect(lambda text: self._job_over(self.fi_row, text))
        job.stopped.connect(lambda: self._job_over(self.fi_row, "cancelled"))
        self.fi_row.running(True)
        job.start()

    def _fi_done(self, curve):
        self.fi_plot.show_curve(curve)
        band = curve.bistable()
        text = (f"bistable (silent going up, firing coming down) from {band.min():.4g} to "
                f"{band.max():.4g} pA" if band.size else "no hysteresis at these levels")
        self._job_over(self.fi_row, text)
        self.fi_summary.setText(text)

    def shutdown(self):
        """Stop every worker (the window closes)."""
        for job in (self.diagram_job, self.fi_job):
            if job is not None:
                job.shutdown()
        self.sweep.shutdown()


def install(window):
    """Add the Dynamics tab to the rig window; returns it."""
    tab = DynamicsTab(window.session)
    window.tabs.addTab(tab, "Dynamics")
    window.client.chunks.connect(tab.add_chunks)
    window.client.tick.connect(tab.refresh)
    window.session.events.cell.connect(tab.cell_changed)
    window.session.events.engine.connect(tab.engine_changed)
    tab.sweep.message.connect(window.show_error)
    return tab
