"""The sweep view: run a shipped protocol on the window's cell over a range of one
parameter (a curve) or two (a heat map), on the local cores, with progress and
Cancel. The parameter names are `vrig sweep`'s (rig.dynamics.sweep_spec); the work is
rig.dynamics.sweep_grid on a worker thread (ui.dynamics.jobs.Job)."""

import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rig import resources
from rig.dynamics import sweep_grid
from rig.dynamics.sweep_spec import MEASURE_ALIASES, parse_vary
from rig.errors import VrigError
from ui.dynamics.jobs import Job
from ui.dynamics.progress_row import ProgressRow
from ui.look import theme

DEFAULT_PROTOCOL = "cc-step-family"
DEFAULT_VARY = ("protocol.epoch2.level", 0.0, 150.0, 16)
SECOND_VARY = ("temperature", 6.3, 18.3, 4)
MAX_VIEW_POINTS = 2500  # a window sweep larger than this belongs to `vrig sweep`


def shipped_protocols():
    """Names of the shipped protocols."""
    return sorted(p.stem for p in (resources.resources_dir() / "protocols").glob("*.json"))


def parameter_names(state):
    """The sweepable names for a RigState's cell (vrig sweep's naming)."""
    names = ["protocol.epoch2.level", "protocol.holding", "temperature", "cell.cm"]
    names += [f"channel.{ch.name}" for ch, _ in state.cell.channels]
    names += [f"leak.{ion}" for ion in state.cell.leak_ms_per_cm2]
    names += [f"bath.{ion}" for ion in ("K", "Na", "Cl", "Ca")]
    return names


class VaryRow:
    """Name (editable combo), from, to and N widgets for one parameter."""

    def __init__(self, layout, row, title, defaults):
        name, low, high, count = defaults
        self.name = QComboBox()
        self.name.setEditable(True)
        self.name.setMinimumContentsLength(20)
        self.low, self.high = QDoubleSpinBox(), QDoubleSpinBox()
        for box, value in ((self.low, low), (self.high, high)):
            box.setRange(-1e6, 1e6)
            box.setDecimals(3)
            box.setValue(value)
        self.count = QSpinBox()
        self.count.setRange(1, 500)
        self.count.setValue(count)
        self.name.setCurrentText(name)
        for column, widget in enumerate((QLabel(title), self.name, QLabel("from"), self.low,
                                         QLabel("to"), self.high, QLabel("N"), self.count)):
            layout.addWidget(widget, row, column)

    def set_names(self, names):
        """Offer names (the typed text stays)."""
        text = self.name.currentText()
        self.name.clear()
        self.name.addItems(names)
        self.name.setCurrentText(text)

    def vary(self):
        """The rig.dynamics.sweep_spec.Vary, or a VrigError saying what is wrong."""
        return parse_vary(f"{self.name.currentText().strip()}={self.low.value()!r}:"
                          f"{self.high.value()!r}:{self.count.value()}")


class SweepView(QWidget):
    """The sweep view of a session; message(text) reports a problem to the window."""

    message = Signal(str)

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.job = None
        self.varies = []
        self.values = None
        layout = QVBoxLayout(self)
        form = QGridLayout()
        self.protocol = QComboBox()
        self.protocol.addItems(shipped_protocols())
        self.protocol.setCurrentText(DEFAULT_PROTOCOL)
        self.measure = QComboBox()
        self.measure.addItems(list(MEASURE_ALIASES))
        self.first_only = QCheckBox("first protocol sweep only")
        self.first_only.setChecked(True)
        self.workers = QSpinBox()
        self.workers.setRange(1, 256)
        self.workers.setValue(os.cpu_count() or 1)
        for column, widget in enumerate((QLabel("protocol"), self.protocol, QLabel("measure"),
                                         self.measure, self.first_only, QLabel("workers"),
                                         self.workers)):
            form.addWidget(widget, 0, column)
        self.first = VaryRow(form, 1, "vary", DEFAULT_VARY)
        self.use_second = QCheckBox("and vary (heat map)")
        form.addWidget(self.use_second, 2, 0)
        self.second = VaryRow(form, 3, "", SECOND_VARY)
        layout.addLayout(form)
        self.row = ProgressRow("Run the sweep")
        self.row.start_button.clicked.connect(self.run)
        self.row.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.row)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("SweepPlot")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setBackground(theme.current().scope_background)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("#4fc3f7", width=2), symbol="o",
                                    symbolBrush="#4fc3f7")
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colorbar = None
        layout.addWidget(self.plot, 1)
        self.set_names()
        session.events.cell.connect(lambda _=None: self.set_names())

    def set_names(self):
        """Offer the present cell's parameter names."""
        names = parameter_names(self.session.engine)
        self.first.set_names(names)
        self.second.set_names(names)

    def run(self):
        """Start the sweep on a worker thread (the window stays responsive)."""
        if self.job is not None and self.job.running():
            return
        state = self.session.engine
        try:
            varies = [self.first.vary()] + ([self.second.vary()] if self.use_second.isChecked()
                                            else [])
            size = int(np.prod([len(v.values) for v in varies]))
            if size > MAX_VIEW_POINTS:
                raise VrigError(f"{size} points: the window runs at most {MAX_VIEW_POINTS} "
                                "(use vrig sweep for larger grids)")
            tasks = sweep_grid.make_tasks(
                self.protocol.currentText(), state.cell.name, varies,
                self.measure.currentText(), state.temperature_c, state.bath.name,
                state.pipette.name, self.first_only.isChecked())
        except VrigError as exc:
            self.row.status.setText(str(exc))
            self.message.emit(f"sweep: {exc}")
            return
        workers, measure = self.workers.value(), self.measure.currentText()

        def work(report, partial, cancelled):
            def progress(done, total, cached):
                report(done / max(1, total), f"{done} of {total} points")

            return sweep_grid.run_sweep(tasks, workers, progress)

        self.varies = varies
        self.job = job = Job(work, "vrig-sweep", self)
        job.progress.connect(self.row.show_progress)
        job.done.connect(lambda results: self._show(varies, measure, results))
        job.failed.connect(self._failed)
        job.stopped.connect(lambda: self._over("cancelled"))
        self.row.running(True)
        self.row.show_progress(0.0, f"starting {len(tasks)} points on {workers} workers")
        job.start()

    def cancel(self):
        """Stop the sweep (points already running finish first)."""
        if self.job is not None:
            self.job.cancel()

    def _over(self, text):
        self.row.running(False)
        self.row.status.setText(text)

    def _failed(self, text):
        self._over(text)
        self.message.emit(f"sweep: {text}")

    def _show(self, varies, measure, results):
        """A curve for one parameter, a heat map for two."""
        self.values = sweep_grid.result_array(varies, results, measure)
        self.plot.setLabel("bottom", varies[0].name)
        x = np.array(varies[0].values)
        if len(varies) == 1:
            self.image.clear()
            self.image.setVisible(False)
            self.curve.setData(x, self.values)
            self.plot.setLabel("left", measure)
        else:
            self.curve.setData([], [])
            y = np.array(varies[1].values)
            self.image.setVisible(True)
            self.image.setImage(np.nan_to_num(self.values), autoLevels=True)
            width = (x[-1] - x[0]) or 1.0
            height = (y[-1] - y[0]) or 1.0
            self.image.setRect(x[0], y[0], width, height)
            self.plot.setLabel("left", varies[1].name)
            if self.colorbar is None:
                self.colorbar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"),
                                                label=measure)
                self.colorbar.setImageItem(self.image, insert_in=self.plot.getPlotItem())
            finite = self.values[np.isfinite(self.values)]
            if finite.size:
                self.colorbar.setLevels((float(finite.min()), float(finite.max()) or 1.0))
        self.plot.autoRange()
        self._over(f"{measure} at {self.values.size} points")

    def shutdown(self):
        """Stop a running sweep (the window closes)."""
        if self.job is not None:
            self.job.shutdown()
