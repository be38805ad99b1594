"""What an analysis gives, as plain data: the per-sweep table, the family's results,
plain-language notes, and the plots to draw (so the window draws what the command
line prints, from one computation).

Rows hold ephys units with the unit in the column name (``peak_mV``, ``rate_Hz``);
plots hold SI with the base unit (V, A, S, s, Hz) so that a plotting library can put
its own prefixes on them.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from rig.files.layout import FloatArray

Row = dict[str, float]  # one sweep's row: column name (ephys unit in it) -> value
Window = tuple[float, float]  # a cursor window (t0, t1), s from the sweep start


@dataclass(frozen=True)
class Fact:
    """One result of the family: name (no spaces, for scripts), value (a number in the
    unit, or text), unit (ephys: mV, pA, ms, nS, Hz; '' when none), label (for people)."""

    name: str
    value: Any  # a number in the unit, or text
    unit: str = ""
    label: str = ""

    def text(self) -> str:
        """'label = value unit' for a summary line."""
        value = _number(self.value, 4) if isinstance(self.value, (float, int)) else self.value
        return f"{self.label or self.name} = {value} {self.unit}".rstrip()


@dataclass(frozen=True)
class Series:
    """A curve: name (legend), x and y (SI arrays), style 'points', 'line' or 'both'."""

    name: str
    x: FloatArray
    y: FloatArray
    style: str = "both"


@dataclass(frozen=True)
class Plot:
    """A plot of the family: axis quantities and their SI base units ('' for a ratio),
    the series, vertical markers ((x, text), SI), and what to say when it is empty."""

    title: str
    x_label: str
    x_unit: str
    y_label: str
    y_unit: str
    series: tuple[Series, ...] = ()
    markers: tuple[tuple[float, str], ...] = ()
    empty_text: str = ""

    @property
    def has_data(self) -> bool:
        """True when some series has a finite point."""
        return any(np.isfinite(s.x).any() and np.isfinite(s.y).any() for s in self.series
                   if len(s.x))


@dataclass(frozen=True)
class AnalysisResult:
    """mode: 'VC' or 'CC'; kind: what the family is ('I-V', 'h-inf', 'threshold', 'f-I', 'paired',
    'ramp', 'spikes'); title: the kind for people; columns and rows: the per-sweep table; facts: the
    family's results; notes: what could not be measured and why, in plain words; plots: up to two
    Plot; marks: points to draw on the sweeps ((name, sweep indices, t array, y array), SI);
    fit_curve: (t, y) to draw on the sweeps or None; windows_used: the cursor windows (1, 2, 3) this
    kind measures with; extra: details for the caller (e.g. the polarity used)."""

    mode: str
    kind: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[Row, ...]
    facts: tuple[Fact, ...] = ()
    notes: tuple[str, ...] = ()
    plots: tuple[Plot, ...] = ()
    marks: tuple[tuple[str, npt.NDArray[np.int_], FloatArray, FloatArray], ...] = ()
    fit_curve: tuple[FloatArray, FloatArray] | None = None
    windows_used: tuple[int, ...] = (1, 2, 3)
    extra: dict[str, Any] = field(default_factory=dict)

    def fact(self, name: str) -> Any:
        """The value of a fact, or None."""
        return next((f.value for f in self.facts if f.name == name), None)

    def summary(self) -> str:
        """One line for people: the facts, then the notes."""
        return "    ".join([f.text() for f in self.facts if f.label] + list(self.notes))


def _number(value: object, digits: int = 6) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "NaN" if math.isnan(value) else f"{value:.{digits}g}"
    return str(value)


def cell_text(value: object) -> str:
    """A table cell as text: 6 significant digits, integers as they are, NaN as NaN."""
    text = _number(value)
    return text.replace("\t", " ").replace("\n", " ").replace(",", ";")


def result_lines(result: AnalysisResult, separator: str = ",",
                 header: Iterable[tuple[str, object]] = ()) -> list[str]:
    """The result as text lines: '# name: value unit' for the header items (pairs of
    name and text) and the facts, '# note: ...' for the notes, then the table."""
    lines = [f"# {name}: {' '.join(str(text).split())}" for name, text in header]
    for fact in result.facts:
        lines.append(f"# {fact.name}: {cell_text(fact.value)} {fact.unit}".rstrip())
    lines += [f"# note: {' '.join(note.split())}" for note in result.notes]
    lines.append(separator.join(result.columns))
    for row in result.rows:
        lines.append(separator.join(cell_text(row.get(c, float("nan"))) for c in result.columns))
    return lines


def result_csv(result: AnalysisResult, header: Iterable[tuple[str, object]] = ()) -> str:
    """The CSV text `vrig analyze` prints and the tab exports."""
    return "\n".join(result_lines(result, ",", header)) + "\n"


def result_tsv(result: AnalysisResult) -> str:
    """Tab-separated text for the clipboard (pastes into a spreadsheet): the table,
    a blank line, then the facts as name, value, unit."""
    lines = ["\t".join(result.columns)]
    for row in result.rows:
        lines.append("\t".join(cell_text(row.get(c, float("nan"))) for c in result.columns))
    lines.append("")
    lines += [f"{f.name}\t{cell_text(f.value)}\t{f.unit}" for f in result.facts]
    lines += [f"note\t{n}" for n in result.notes]
    return "\n".join(lines) + "\n"
