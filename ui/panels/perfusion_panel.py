"""The perfusion manifold: one valve line per shipped drug, a wash line, a timeline.

Each line has a valve lamp (lit in the drug's colour while the valve is open, i.e. the
drug's target concentration is above zero), a concentration entry with its unit (nM,
uM, mM), the side the drug is given from (bath = outside, pipette = inside), an Open
button and a Wash button, and a two-line readout: the concentration now at the
membrane with the percentage of the dose reached ("150 nM 50%"), "washing" once the
valve is closed, or "washed out" once the engine has dropped it (below 0.1 % of the
dose and of effect, see rig.model.pharmacology); and the effect at that concentration
("Na 97% blocked"). An irreversible drug's effect stays after it has washed out.

Potency depends on the preparation of the cell on the rig (set_preparation): a side
on which a drug does nothing for this preparation (external TEA on the squid axon) is
greyed, with the reason and its source in the tooltip. A shipped drug whose preset is
broken is left out (rig.model.shipped names it).

The panel never changes the cell: it validates the entry and emits
``commandRequested(ApplyDrug | WashDrug)``; the window sends it. What reaches the
membrane comes back in ``Chunk.drugs`` (name, side, present M, target M) and is shown
by :meth:`PerfusionPanel.show_chunks`. Problems are shown on the field (red border and
tooltip) and emitted as ``message(str)``; nothing is sent then.
"""

from types import MappingProxyType

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rig.acquisition import commands as c
from rig.errors import VrigError
from rig.model.pharmacology import CONCENTRATION_UNITS, parse_concentration, scan_drugs
from ui.look import theme
from ui.panels.perfusion_timeline import LANE_COLORS, TimelineStrip, Valve

UNITS = ("nM", "uM", "mM")
ORDER = ("TTX", "TEA", "4-AP", "Cs", "chloramine-T", "pronase")  # the order a class meets them
SIDE_LABELS = MappingProxyType({"outside": "bath", "inside": "pipette"})
# A sensible first concentration for each shipped drug: (value, unit).
DEFAULT_DOSES = MappingProxyType({"TTX": ("300", "nM"), "TEA": ("10", "mM"),
                                  "4-AP": ("1", "mM"), "Cs": ("20", "mM"),
                                  "chloramine-T": ("5", "mM"), "pronase": ("1", "mM")})
# Local to the panel (the shared rig.qss belongs to the window): a manifold block,
# large names, amber entries, a red border on a rejected field.
PANEL_QSS = """
QFrame#Manifold { background: #20252b; border: 1px solid #323943; border-radius: 8px; }
QLabel#DrugName { font-size: 15px; font-weight: bold; color: #e5e9f0; }
QLabel#DrugReadout { font-family: "DejaVu Sans Mono", monospace; font-size: 12px;
                     color: #6c7683; padding-left: 2px; }
QLabel#TimelineTime { font-family: "DejaVu Sans Mono", monospace; color: #aab4c3; }
QLineEdit#DoseEntry { font-family: "DejaVu Sans Mono", monospace; font-size: 15px;
                      font-weight: bold; color: #ffd54f; }
QLineEdit[invalid="true"], QComboBox[invalid="true"] { border: 2px solid #ff4b4b; }
QPushButton#ValveButton { font-weight: bold; }
QPushButton#WashAllButton { font-weight: bold; background: #24405a; border-color: #5b9cff; }
"""
EFFECT_WORDS = MappingProxyType({"block": "blocked", "remove_inactivation": "no inact."})
READOUT_WIDEST = ("888 uM washing", "Na 100% no inact.")  # what the two lines can hold
READOUT_HELP = ("concentration at the membrane and the % of the dose reached (washing once "
                "the valve is closed; washed out below 0.1 % of the dose and of effect); "
                "then the effect there: % of the target channels blocked, or left without "
                "inactivation (Hill equation with this cell's potency)")


def format_molar(value_m):
    """A concentration in M as text with a readable unit: '300 nM', '1.2 mM'."""
    if value_m <= 0:
        return "0"
    for unit in ("mM", "uM", "nM", "pM"):
        scaled = value_m / CONCENTRATION_UNITS[unit]
        if scaled >= 1 or unit == "pM":
            return f"{scaled:.3g} {unit}"
    return f"{value_m:.3g} M"


def _mark_invalid(widget, message):
    """Red border and tooltip on a field ('' clears both)."""
    widget.setProperty("invalid", bool(message))
    widget.setToolTip(message or widget.property("help") or "")
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class DrugLine(QWidget):
    """One valve line of the manifold for a pharmacology.Drug, in a preparation."""

    def __init__(self, drug, color, preparation=None, parent=None):
        super().__init__(parent)
        self.drug = drug
        self.preparation = preparation
        self.valve = Valve(color)
        self.name_label = QLabel(drug.name)
        self.name_label.setObjectName("DrugName")
        self.name_label.setToolTip(f"{drug.description}\n\nSource: {drug.source}")
        value, unit = DEFAULT_DOSES.get(drug.name, ("1", "mM"))
        self.entry = QLineEdit(value)
        self.entry.setObjectName("DoseEntry")
        self.entry.setProperty("help", f"concentration of {drug.name} (> 0, at most 1 M)")
        self.entry.setToolTip(self.entry.property("help"))
        self.entry.setFixedWidth(60)
        self.unit = QComboBox()
        self.unit.addItems(UNITS)
        self.unit.setCurrentText(unit)
        self.side = QComboBox()
        for side, label in SIDE_LABELS.items():
            self.side.addItem(label, side)
        self.open_button = QPushButton("Open")
        self.open_button.setObjectName("ValveButton")
        self.open_button.setToolTip(f"open the {drug.name} valve: perfuse at this concentration")
        self.wash_button = QPushButton("Wash")
        self.wash_button.setToolTip(f"close the {drug.name} valve and wash it out")
        self.readout = QLabel("closed")
        self.readout.setToolTip(READOUT_HELP)
        self.readout.setObjectName("DrugReadout")

        self.set_preparation(preparation)

    def set_preparation(self, preparation):
        """Grey the sides on which the drug does nothing for this preparation, and put
        the potency in force, with its source, in the side's tooltip."""
        self.preparation = preparation
        model = self.side.model()
        for i in range(self.side.count()):
            side = self.side.itemData(i)
            acts = self.drug.acts_from(side, preparation)
            # Shown but greyed: the student sees the side exists and why it is no use.
            model.item(i).setEnabled(acts)
            model.item(i).setToolTip("" if acts else self.inert_reason(side))
        if not self.drug.acts_from(self.side.currentData(), preparation):
            acting = [i for i in range(self.side.count())
                      if self.drug.acts_from(self.side.itemData(i), preparation)]
            if acting:
                self.side.setCurrentIndex(acting[0])
        self.side.setToolTip(self._side_help())

    def inert_reason(self, side):
        """Why a drug cannot be given from a side here (e.g. TTX from inside), with
        the source that says so."""
        where = f" on the {self.preparation}" if self.preparation else ""
        return (f"{self.drug.name} has no effect from the {side} (the {SIDE_LABELS[side]})"
                f"{where}: {self.drug.site(side, self.preparation).source}")

    def _side_help(self):
        return "\n\n".join(f"{SIDE_LABELS[side]}: {self.drug.describe_site(side, self.preparation)}"
                            for side in SIDE_LABELS)

    def text(self):
        """The entry as parse_concentration reads it: '300nM'."""
        return f"{self.entry.text().strip()}{self.unit.currentText()}"


class PerfusionPanel(QWidget):
    """The manifold. commandRequested(ApplyDrug | WashDrug); message(str) on bad input."""

    commandRequested = Signal(object)
    message = Signal(str)

    def __init__(self, names=None, preparation=None, parent=None):
        super().__init__(parent)
        self.setObjectName("PerfusionPanel")
        theme.set_style(self, PANEL_QSS)
        self.lines = {}
        self._last_target = {}  # (name, side) -> last non-zero target (M), for the % readout
        self._held = {}  # (name, side) -> largest effect of an irreversible drug (fraction)
        self.time_s = 0.0
        self.box = QBoxLayout(QBoxLayout.LeftToRight, self)
        self.box.setContentsMargins(6, 6, 6, 6)
        self.box.setSpacing(8)
        layout = QVBoxLayout()
        layout.setSpacing(4)
        frame = QFrame()
        frame.setObjectName("Manifold")
        grid = QGridLayout(frame)
        grid.setContentsMargins(8, 6, 8, 8)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        drugs = {drug.name: drug for drug in scan_drugs()[0].values()}
        names = [n for n in names if n in drugs] if names is not None else sorted(
            drugs, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
        for i, name in enumerate(names):
            line = DrugLine(drugs[name], LANE_COLORS[i % len(LANE_COLORS)], preparation)
            self._add_line(grid, i, line)
        layout.addWidget(frame)
        layout.addStretch(1)
        self.wash_all_button = QPushButton("Wash all")
        self.wash_all_button.setObjectName("WashAllButton")
        self.wash_all_button.setToolTip("close every valve and perfuse plain bath")
        self.wash_all_button.clicked.connect(lambda: self.wash(None))
        self.time_label = QLabel("t = 0 s")
        self.time_label.setObjectName("TimelineTime")
        self.time_label.setToolTip("simulated time (the engine's clock, s)")
        wash_row = QHBoxLayout()
        wash_row.addWidget(self.wash_all_button)
        wash_row.addStretch(1)
        wash_row.addWidget(self.time_label)
        self.timeline = TimelineStrip([line.drug.name for line in self.lines.values()],
                                      [line.valve.color for line in self.lines.values()])
        strip = QVBoxLayout()
        strip.setSpacing(4)
        strip.addLayout(wash_row)
        strip.addWidget(self.timeline, 1)
        self.box.addLayout(layout, 5)
        self.box.addLayout(strip, 3)

    def set_preparation(self, preparation):
        """Show the potencies of a (new) cell's preparation."""
        for line in self.lines.values():
            line.set_preparation(preparation)

    def set_horizontal(self, horizontal):
        """Timeline beside the manifold (a wide, low dock) or below it (a tall one)."""
        self.box.setDirection(QBoxLayout.LeftToRight if horizontal else QBoxLayout.TopToBottom)

    def _add_line(self, grid, row, line):
        # One row per valve, like taps along a manifold; the readout takes the rest.
        self.lines[line.drug.name] = line
        for col, widget in enumerate((line.valve, line.name_label, line.entry, line.unit,
                                      line.side, line.open_button, line.wash_button,
                                      line.readout)):
            grid.addWidget(widget, row, col)
        grid.setColumnStretch(7, 1)
        # Wide enough for the longest readout (measured in the font its style gives it,
        # now that it is in the panel), so the text never has to be cut.
        line.readout.ensurePolished()
        line.readout.setMinimumWidth(max(line.readout.fontMetrics().horizontalAdvance(text)
                                         for text in READOUT_WIDEST) + 8)
        name = line.drug.name
        line.open_button.clicked.connect(lambda: self.apply(name))
        line.entry.returnPressed.connect(lambda: self.apply(name))
        line.entry.textEdited.connect(lambda _text: _mark_invalid(line.entry, ""))
        line.wash_button.clicked.connect(lambda: self.wash(name))

    # --- requests ---------------------------------------------------------------------

    def apply(self, name, concentration=None, side=None):
        """Open a drug's valve. concentration: text with a unit ('300nM'), or None for the
        line's entry; side: 'outside'/'inside', or None for the line's selector.
        Returns the ApplyDrug sent, or None after showing why nothing was sent."""
        line = self.lines.get(name) or next(
            (ln for key, ln in self.lines.items() if key.lower() == str(name).lower()), None)
        if line is None:
            self.message.emit(f"unknown drug {name!r}; the manifold has "
                              f"{', '.join(self.lines)}")
            return None
        side = line.side.currentData() if side is None else side
        acts = side in SIDE_LABELS and line.drug.acts_from(side, line.preparation)
        try:
            if not acts:
                raise VrigError(line.inert_reason(side) if side in SIDE_LABELS else
                                f"side must be 'outside' or 'inside', got {side!r}")
            value = parse_concentration(line.text() if concentration is None else concentration)
            if value <= 0:
                raise VrigError(f"{line.drug.name}: give a concentration above 0 "
                                "(use Wash to remove a drug)")
        except VrigError as exc:
            _mark_invalid(line.entry if acts else line.side, str(exc))
            self.message.emit(f"{line.drug.name}: {exc}")
            return None
        _mark_invalid(line.entry, "")
        _mark_invalid(line.side, "")
        command = c.ApplyDrug(line.drug.name, value, side)
        self._last_target[(line.drug.name, side)] = value
        self._held.pop((line.drug.name, side), None)
        self.timeline.mark(line.drug.name, self.time_s, format_molar(value), True)
        self.commandRequested.emit(command)
        return command

    def wash(self, name=None):
        """Wash one drug (by name) or all of them (None) out. Returns the WashDrug sent."""
        if name is not None and name not in self.lines:
            self.message.emit(f"unknown drug {name!r}; the manifold has {', '.join(self.lines)}")
            return None
        command = c.WashDrug(name)
        for drug in ([name] if name else list(self.lines)):
            if self.lines[drug].valve.open or name is not None:
                self.timeline.mark(drug, self.time_s, "wash", False)
        self.commandRequested.emit(command)
        return command

    def reset(self):
        """Forget every drug (a new cell starts drug-free)."""
        self._last_target.clear()
        self._held.clear()
        self.timeline.clear()
        for line in self.lines.values():
            line.valve.set_open(False)
            line.readout.setText("closed")

    # --- from the engine --------------------------------------------------------------

    def show_chunks(self, chunks):
        """Update valves, readouts and the timeline from the newest Chunk.drugs."""
        if not chunks:
            return
        newest = chunks[-1]
        self.time_s = newest.time_s
        label = f"t = {newest.time_s:.1f} s"
        if self.time_label.text() != label:
            self.time_label.setText(label)
        present = {}
        for name, side, now_m, target_m in newest.drugs:
            present.setdefault(name, []).append((side, now_m, target_m))
        for name, line in self.lines.items():
            self._show_line(line, present.get(name, []))
        self.timeline.record(newest.time_s, {name: sum(p for _s, p, _t in entries)
                                             for name, entries in present.items()})

    def _show_line(self, line, entries):
        is_open = any(target > 0 for _side, _now, target in entries)
        line.valve.set_open(is_open)
        text = self.readout_text(line, entries)
        if line.readout.text() == text:
            return  # restyling a label every frame costs more than drawing the scopes
        line.readout.setText(text)
        theme.set_style(line.readout, f"color: {QColor(line.valve.color).name()};"
                                   if text != "closed" else "")

    def readout_text(self, line, entries):
        """The two-line readout for a line from its Chunk.drugs entries (side, present
        M, target M): 'closed', '150 nM 50%' or '30 nM washing' or 'washed out', then
        the effect ('Na 97% blocked'); two sides are prefixed 'in'/'out'."""
        drug, name = line.drug, line.drug.name
        shown = {side: (now, target) for side, now, target in entries if now > 0 or target > 0}
        gone = [side for (n, side) in self._last_target if n == name and side not in shown]
        if not shown and not gone:
            return "closed"
        parts, unaffected = [], 1.0
        for side in SIDE_LABELS:
            if side in shown:
                now, target = shown[side]
                dose = target if target > 0 else self._last_target.get((name, side), now)
                state = f"{100.0 * now / dose:.0f}%" if target > 0 else "washing"
                text = f"{format_molar(now)} {state}"
                fraction = drug.fraction(now, side, line.preparation)
            elif side in gone:
                text, fraction = "washed out", 0.0
            else:
                continue
            if drug.irreversible:  # the channels it modified stay modified
                fraction = max(fraction, self._held.get((name, side), 0.0))
                self._held[(name, side)] = fraction
            unaffected *= 1.0 - fraction
            prefix = "" if len(shown) + len(gone) == 1 else ("out " if side == "outside" else "in ")
            parts.append(prefix + text)
        effect = 1.0 - unaffected
        words = EFFECT_WORDS.get(drug.effect, drug.effect)
        second = f"{drug.target} {100.0 * effect:.0f}% {words}" if effect > 0 or shown else ""
        return "\n".join(filter(None, (" ".join(parts), second)))
