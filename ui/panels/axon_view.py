"""The Axon tab, shown while the cell is a fibre: the fibre to scale with its
electrodes to drag (:mod:`ui.panels.axon_fibre`), a live space-time map (position x
time, the membrane potential in colour), a small scope with each electrode's trace in
its colour, and the conduction velocity between two electrodes the user picks.

It reads the runner's chunks (their space-time profile and the electrodes' signals)
and writes only to the session (the electrodes' positions, the axial wire); what it
keeps is in :mod:`ui.panels.axon_history` (fixed buffers, binned to display rows),
and it redraws at most once per display tick, only while it is shown and something
new arrived.
"""

import math
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rig import units
from rig.acquisition import commands as c
from rig.clamp import Mode
from rig.errors import VrigError
from rig.session.electrodes import STIMULUS_DURATION_S, stimulus_current_a
from ui.look import theme
from ui.panels.axon_drug import LocalDrugDialog
from ui.panels.axon_fibre import ELECTRODE_COLORS, FibreStrip, electrode_names
from ui.panels.axon_history import THRESHOLD_V, Arrivals, ProfileHistory, conduction_velocity
from ui.panels.quick_stimulus import SETTINGS as QUICK_SETTINGS
from ui.widgets.flow_layout import FlowLayout

WINDOWS_MS = (2.0, 5.0, 10.0, 20.0, 50.0, 200.0, 1000.0)
DEFAULT_WINDOW_MS = 10.0
MAP_LEVELS_MV = (-80.0, 40.0)
SCOPE_RANGE_MV = (-90.0, 60.0)
VC_STIMULUS = (20.0, 0.2)  # mV, ms: a step at Stim that fires a fibre held at rest
CV_EVERY_S = 0.25  # the velocity text changes 4 times a second at most: readable


class AxonView(QWidget):
    """The axon view of a session (rig.session.session.Session). message(text) reports
    a problem (an electrode that cannot move). Feed it add_chunks(list of Chunk) and
    call refresh() once per display frame."""

    message = Signal(str)
    commandRequested = Signal(object)  # a rig.acquisition.commands object for the engine

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.setObjectName("AxonView")
        self.session = session
        self.history = None
        self.arrivals = Arrivals(1)
        self.velocity_text = ""
        self.velocity = None  # m/s, the value shown (None: '—')
        self.why_no_velocity = ""
        self.frames = 0  # map redraws (the window benchmark counts them)
        self._map_mv = np.empty((0, 0), np.float32)  # the map in mV, reused
        self._frame = None  # (start ms, window ms, length mm, rows, row s) drawn
        self._t_ms = np.zeros(0)
        self._local = ()  # the drugs on stretches drawn
        self._columns = np.zeros(0, np.int64)  # profile column shown in each map column
        self._cv_shown_at = -np.inf
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        layout.addLayout(self._build_controls())
        self.strip = FibreStrip()
        self.strip.moved.connect(self._electrode_dropped)
        layout.addWidget(self.strip)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(self._build_map())
        split.addWidget(self._build_scope())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        session.events.electrodes.connect(lambda _: self.show_electrodes())
        session.events.engine.connect(self._engine_changed)
        if session.electrodes is not None:
            self.show_fibre()

    # --- construction ------------------------------------------------------------------

    def _build_controls(self):
        rows = QVBoxLayout()
        rows.setSpacing(2)
        row = FlowLayout(spacing=8)  # wraps beside the lesson dock at 1280x800
        row.addWidget(QLabel("Map"))
        self.window_combo = QComboBox()
        for ms in WINDOWS_MS:
            self.window_combo.addItem(f"{ms:g} ms", ms)
        self.window_combo.setCurrentIndex(WINDOWS_MS.index(DEFAULT_WINDOW_MS))
        self.window_combo.setToolTip("How much time the map and the scope show")
        self.window_combo.currentIndexChanged.connect(lambda _: self._restart())
        row.addWidget(self.window_combo)
        self.trigger_box = QCheckBox("Hold each stimulus")
        self.trigger_box.setChecked(True)
        self.trigger_box.setToolTip("On: the map and scope show the window that starts at "
                                    "each stimulus (Pulse, P) and hold it.\nOff: they "
                                    "scroll with the newest sample.")
        self.trigger_box.toggled.connect(lambda _: self._restart())
        row.addWidget(self.trigger_box)
        self.wire_box = QCheckBox("Axial wire (VC)")
        self.wire_box.setToolTip("In voltage clamp: hold the whole fibre (Hodgkin and "
                                 "Huxley's axial wire) or only the compartment under Stim")
        self.wire_box.toggled.connect(self._wire_toggled)
        row.addWidget(self.wire_box)
        self.drug_button = QPushButton("Drug on a stretch...")
        self.drug_button.setToolTip("Apply a drug (e.g. TTX) outside a stretch of the fibre "
                                    "only; the stretch is shaded on the fibre")
        self.drug_button.clicked.connect(self._ask_local_drug)
        row.addWidget(self.drug_button)
        self.wash_button = QPushButton("Wash stretches")
        self.wash_button.setToolTip("Wash every drug on a stretch off")
        self.wash_button.clicked.connect(lambda: self.commandRequested.emit(c.WashLocalDrugs()))
        row.addWidget(self.wash_button)
        rows.addLayout(row)
        self.hint = QLabel("")  # how to stimulate this fibre; never asks for width
        self.hint.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.hint.setMinimumWidth(0)
        row = QHBoxLayout()
        row.setSpacing(8)
        row.addWidget(QLabel("Conduction velocity from"))
        self.cv_from, self.cv_to = QComboBox(), QComboBox()
        for box in (self.cv_from, self.cv_to):
            box.setToolTip(f"Two electrodes: the velocity is their distance over the delay "
                           f"between the action potential crossing {THRESHOLD_V * 1e3:g} mV "
                           "upward at each")
            box.currentIndexChanged.connect(lambda _: self._show_velocity(force=True))
        row.addWidget(self.cv_from)
        row.addWidget(QLabel("to"))
        row.addWidget(self.cv_to)
        self.cv_label = QLabel("—")
        self.cv_label.setObjectName("VelocityReadout")
        self.cv_label.setMinimumWidth(80)
        theme.set_style(self.cv_label, "font-weight: bold;")
        row.addWidget(self.cv_label)
        self.cv_why = QLabel("")  # how it was measured, or why there is none
        self.cv_why.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.cv_why.setMinimumWidth(0)
        row.addWidget(self.cv_why, 1)
        rows.addLayout(row)
        rows.addWidget(self.hint)
        return rows

    def _build_map(self):
        self.map_plot = pg.PlotWidget()
        self.map_plot.setMenuEnabled(False)
        plot = self.map_plot.getPlotItem()
        plot.setLabel("bottom", "position (mm)")
        plot.setLabel("left", "time (ms)")
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=MAP_LEVELS_MV, colorMap=pg.colormap.get("viridis"),
                                        label="membrane potential (mV)", interactive=False)
        self.colorbar.setImageItem(self.image, insert_in=plot)
        self.map_marks = []  # the electrodes' positions on the map
        theme.style_plot(plot)
        _steady_axes(plot)
        return self.map_plot

    def _build_scope(self):
        self.scope = pg.PlotWidget()
        self.scope.setMenuEnabled(False)
        plot = self.scope.getPlotItem()
        plot.setLabel("bottom", "time (ms)")
        plot.setLabel("left", "membrane potential (mV)")
        plot.setYRange(*SCOPE_RANGE_MV, padding=0)
        plot.showGrid(x=True, y=True)
        plot.addLegend(offset=(-5, 5))
        self.curves = []
        theme.style_plot(plot)
        _steady_axes(plot)
        return self.scope

    # --- the fibre and its electrodes ---------------------------------------------------

    def show_fibre(self):
        """Draw the session's fibre and electrodes afresh (a new fibre took over)."""
        engine = self.session.engine
        fibre = engine.fibre
        self.strip.set_fibre(engine.cell.geometry, fibre.local)
        self._local = fibre.local
        positions = np.asarray(fibre.profile_m)
        length_m = engine.cell.geometry.total_length_um * 1e-6
        grid = np.linspace(0.0, length_m, max(2, positions.size))
        self._columns = (np.abs(grid[:, None] - positions[None, :]).argmin(axis=1)
                         if positions.size else np.zeros(0, np.int64))
        self.history = None
        self._frame = None
        # the map's position axis is the strip's (set, not linked: their widths differ)
        self.map_plot.getPlotItem().setXRange(*self.strip.getPlotItem().viewRange()[0],
                                              padding=0)
        self.show_electrodes()

    def strip_positions(self):
        """The electrodes' positions (m), the stimulating one first ( () on a point cell)."""
        where = self.session.electrodes
        return () if where is None else (where.stim_m,) + tuple(where.sites_m)

    def show_electrodes(self):
        """Follow the session's electrodes: the strip's lines, the map's marks, the
        scope's curves, the velocity's choices, the axial wire's box."""
        where = self.session.electrodes
        if where is None:
            return
        positions = (where.stim_m,) + tuple(where.sites_m)
        self.strip.set_electrodes(positions)
        self._make_marks(positions)
        self._make_curves(len(positions))
        self.wire_box.blockSignals(True)
        self.wire_box.setChecked(where.axial_wire)
        self.wire_box.blockSignals(False)
        self.arrivals = Arrivals(len(positions))
        self._fill_velocity_choices(len(positions))
        self._show_velocity(force=True)

    def _make_marks(self, positions):
        plot = self.map_plot.getPlotItem()
        for mark in self.map_marks:
            plot.removeItem(mark)
        self.map_marks = []
        for index, x in enumerate(positions):
            color = ELECTRODE_COLORS[index % len(ELECTRODE_COLORS)]
            mark = pg.InfiniteLine(x * 1e3, angle=90, movable=False,
                                   pen=pg.mkPen(color, width=1, style=Qt.DashLine))
            plot.addItem(mark)
            self.map_marks.append(mark)

    def _make_curves(self, count):
        plot = self.scope.getPlotItem()
        if len(self.curves) == count:
            return
        for curve in self.curves:
            plot.removeItem(curve)
        if plot.legend is not None:
            plot.legend.clear()
        names = electrode_names(count - 1)
        self.curves = [plot.plot(pen=pg.mkPen(ELECTRODE_COLORS[k % len(ELECTRODE_COLORS)],
                                              width=2), name=names[k])
                       for k in range(count)]

    def _fill_velocity_choices(self, count):
        names = electrode_names(count - 1)
        for box, default in ((self.cv_from, 1), (self.cv_to, min(2, count - 1))):
            keep = box.currentIndex()
            box.blockSignals(True)
            box.clear()
            box.addItems(list(names))
            box.setCurrentIndex(keep if 0 <= keep < count else default)
            box.blockSignals(False)

    def _electrode_dropped(self, index, position_m):
        where = self.session.electrodes
        try:
            if index == 0:
                self.session.set_electrodes(stim_m=position_m)
            else:
                sites = list(where.sites_m)
                sites[index - 1] = position_m
                self.session.set_electrodes(sites_m=sites)
        except VrigError as exc:
            self.message.emit(str(exc))
            self.show_electrodes()  # back where the session has it

    def _ask_local_drug(self):
        geometry = self.session.engine.cell.geometry
        if geometry is None:
            return
        dialog = LocalDrugDialog(geometry.total_length_um * 1e-3, self)
        self.drug_dialog = dialog  # (tests reach it)
        dialog.accepted.connect(lambda: self.commandRequested.emit(dialog.command()))
        dialog.open()

    def _wire_toggled(self, on):
        try:
            self.session.set_electrodes(axial_wire=on)
        except VrigError as exc:
            self.message.emit(str(exc))

    def _engine_changed(self, engine):
        fibre = engine.fibre
        if fibre is not None and fibre.local != self._local:
            self._local = fibre.local
            self.strip.set_fibre(engine.cell.geometry, fibre.local)
            self.strip.set_electrodes(self.strip_positions())

    # --- data ----------------------------------------------------------------------------

    @property
    def window_s(self):
        """The time the map and the scope show (s)."""
        return self.window_combo.currentData() * 1e-3

    def _restart(self):
        self.history = None
        self._frame = None
        self.image.clear()
        for curve in self.curves:
            curve.setData([], [])

    def add_chunks(self, chunks):
        """Take the runner's chunks (those without a profile are skipped)."""
        fibre = self.session.engine.fibre
        if fibre is None:
            return
        names = ("Vmem",) + tuple(fibre.names)
        for chunk in chunks:
            if chunk.profile is None or chunk.kind == "membrane_test":
                continue
            signals = chunk.signals
            if not all(name in signals for name in names):
                continue  # from before the sites moved: their names were others
            traces = [signals[name] for name in names]
            history = self.history
            if history is None or not history.matches(self.window_s, chunk.sample_interval_s,
                                                      chunk.profile.shape[1], len(names)):
                history = self.history = ProfileHistory(
                    self.window_s, chunk.sample_interval_s, chunk.profile.shape[1],
                    len(names), self.trigger_box.isChecked())
            history.add(chunk.time_s, chunk.profile, np.asarray(traces), signals["command"])
            if len(self.arrivals.times) == len(names):
                self.arrivals.add(chunk.time_s, chunk.sample_interval_s, traces)

    def refresh(self, now=None):
        """Redraw what changed (call once per display frame); skipped while hidden."""
        if not self.isVisible() or self.history is None:
            return
        self._show_velocity()
        if not self.history.changed:
            return
        history = self.history
        rows, traces, first = history.shown()
        window_ms = self.window_s * 1e3
        start_ms = (-0.1 * window_ms) if history.triggered else -window_ms
        geometry = self.session.engine.cell.geometry
        length_mm = geometry.total_length_um * 1e-3
        if self._columns.size and self._columns.max() < rows.shape[1]:
            rows = rows[:, self._columns]  # evenly spaced columns, as the image draws them
        np.multiply(rows, 1e3, out=self._map_mv if self._map_mv.shape == rows.shape
                    else self._new_map_buffer(rows.shape))
        self.image.setImage(self._map_mv, autoLevels=False, levels=MAP_LEVELS_MV)
        frame = (start_ms, window_ms, length_mm, history.rows, history.row_s)
        if frame != self._frame:  # axes and rectangle only when they change: redrawing
            self._frame = frame   # the axes every frame would cost more than the map
            self.image.setRect(QRectF(0.0, start_ms, length_mm, window_ms))
            self.map_plot.getPlotItem().setRange(xRange=(0.0, length_mm),
                                                 yRange=(start_ms, start_ms + window_ms),
                                                 padding=0)
            self.scope.getPlotItem().setXRange(start_ms, start_ms + window_ms, padding=0)
            self._t_ms = start_ms + (np.arange(history.rows) + 0.5) * history.row_s * 1e3
        # only rows with data: no NaN, so the curves need no gap handling
        t_ms = self._t_ms[first:]
        for k, curve in enumerate(self.curves[:traces.shape[1]]):
            curve.setData(t_ms, traces[first:, k] * 1e3)
        self.frames += 1

    def _new_map_buffer(self, shape):
        self._map_mv = np.empty(shape, np.float32)
        return self._map_mv

    def _show_velocity(self, force=False, now=None):
        now = time.perf_counter() if now is None else now
        if not force and now - self._cv_shown_at < CV_EVERY_S:
            return
        self._cv_shown_at = now
        where = self.session.electrodes
        if where is None:
            return
        positions = (where.stim_m,) + tuple(where.sites_m)
        a, b = self.cv_from.currentIndex(), self.cv_to.currentIndex()
        if not (0 <= a < len(positions) and 0 <= b < len(positions)
                and len(self.arrivals.times) == len(positions)):
            return
        names = electrode_names(len(positions) - 1)
        velocity, why = conduction_velocity(self.arrivals, a, b, positions[a], positions[b],
                                            (names[a], names[b]))
        self.velocity = velocity
        self.velocity_text = "—" if velocity is None else f"{velocity:.3g} m/s"
        self.cv_label.setText(self.velocity_text)
        text = why or (f"{abs(positions[b] - positions[a]) * 1e3:.3g} mm over the delay "
                       f"between the crossings of {self.arrivals.threshold_v * 1e3:g} mV")
        self.cv_why.setText(text)
        self.cv_why.setToolTip(text)
        self.why_no_velocity = why

    def prepare_stimulus(self, window):
        """Make the window's one-click stimulus fire this fibre: CC when the headstage can
        give the pulse it needs, else a VC step at Stim with the axial wire off."""
        needed_pa = units.a_to_pa(stimulus_current_a(self.session.engine.cell))
        if needed_pa <= self.session.holding_range(Mode.CC)[1]:
            window.set_mode("CC")
        else:
            window.set_mode("VC")
            self.session.set_electrodes(axial_wire=False)

    def set_stimulus_hint(self, needed_a, limit_pa):
        """Say how to stimulate: the CC pulse that fires this fibre (needed_a, A, for
        STIMULUS_DURATION_S) or, when the headstage cannot give it (limit_pa), VC."""
        ms = units.s_to_ms(STIMULUS_DURATION_S)
        if units.a_to_pa(needed_a) <= limit_pa:
            text = (f"Pulse (P): about {_format_current(needed_a)} for {ms:g} ms at Stim "
                    "fires it; drag the electrodes")
            tip = text
        else:
            level_mv, step_ms = VC_STIMULUS
            text = (f"Stimulate in VC: Step to {level_mv:g} mV for {step_ms:g} ms, axial "
                    f"wire off (CC needs {_format_current(needed_a)})")
            tip = (f"A CC pulse at Stim would need about {_format_current(needed_a)} for "
                   f"{ms:g} ms, beyond the headstage's "
                   f"{_format_current(units.pa_to_a(limit_pa))}. " + text)
        self.hint.setText(text)
        self.hint.setToolTip(tip)

    def apply_theme(self, look):
        """Follow a new look."""
        self.strip.apply_theme(look)
        for widget in (self.map_plot, self.scope):
            theme.style_plot(widget.getPlotItem(), look)


def install(window):
    """Add the Axon tab to the rig window while its cell is a fibre (it comes and goes
    with the cell); returns the view."""
    view = AxonView(window.session)
    window.client.chunks.connect(view.add_chunks)
    window.client.tick.connect(view.refresh)
    view.message.connect(window.show_error)
    view.commandRequested.connect(window.client.send)

    stimulus = window.panel.stimulus

    def cell_changed(_name=None):
        shown = window.tabs.indexOf(view) >= 0
        if window.session.electrodes is not None:
            view.show_fibre()
            view.set_stimulus_hint(stimulus_current_a(window.session.engine.cell),
                                   window.session.holding_range(Mode.CC)[1])
            level_pa = _rounded(units.a_to_pa(stimulus_current_a(window.session.engine.cell)))
            stimulus.set_default("CC", level_pa, units.s_to_ms(STIMULUS_DURATION_S))
            stimulus.set_default("VC", *VC_STIMULUS)
            if not shown:
                window.tabs.insertTab(1, view, "Axon")
            window.tabs.setCurrentWidget(view)
        else:
            for mode in ("CC", "VC"):
                _, _, _, level, duration_ms = QUICK_SETTINGS[mode]
                stimulus.set_default(mode, level, duration_ms)
            if shown:
                window.tabs.removeTab(window.tabs.indexOf(view))

    window.session.events.cell.connect(cell_changed)
    cell_changed()
    return view


def _steady_axes(plot):
    """Keep a plot's axes from being redrawn with every new frame of data: no automatic
    range (the view sets its ranges when the window or the fibre changes) and each
    axis kept as a pixmap until it changes (redrawing their tick labels every frame cost
    more than the map itself)."""
    plot.disableAutoRange()
    for name in ("left", "bottom"):
        plot.getAxis(name).setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def _rounded(value):
    """value to two significant figures, upward (a stimulus a little above, not below)."""
    if value <= 0:
        return value
    scale = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / scale) * scale


def _format_current(amperes):
    """A current in the unit that reads best (nA or uA)."""
    if abs(amperes) >= 1e-6:
        return f"{amperes * 1e6:.3g} uA"
    return f"{amperes * 1e9:.3g} nA"
