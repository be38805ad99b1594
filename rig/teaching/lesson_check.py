"""Checking a lesson's answers, from what the student measured or typed, and keeping the
student's progress between starts (a small JSON file)."""

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rig.errors import VrigError
from rig.teaching.lesson import Question


@dataclass(frozen=True)
class Measurements:
    """What the student has measured: vm_mv, the membrane potential now (mV, or None);
    facts, the analysis table's results {name: value}; rows, its rows ({column: value});
    velocity_m_s, the Axon tab's conduction velocity (m/s, or None); cursor_dt_ms, the
    time from the scope's cursor 1 to cursor 2 (ms, or None while they are off)."""

    vm_mv: float | None = None
    velocity_m_s: float | None = None
    cursor_dt_ms: float | None = None
    facts: Mapping[str, Any] = field(default_factory=dict)
    rows: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class Feedback:
    """The verdict on an answer and the text to show."""

    correct: bool
    text: str


def measured(question: Question, seen: Measurements) -> float | None:
    """The number the question's ``measure`` reads from the measurements, or None
    (nothing measured yet, or the question is typed)."""
    spec = question.measure
    value: Any = None
    if spec == "vm":
        value = seen.vm_mv
    elif spec == "axon:velocity":
        value = seen.velocity_m_s
    elif spec == "cursor:dt":
        value = seen.cursor_dt_ms
    elif spec.startswith("fact:"):
        value = seen.facts.get(spec[5:])
    elif spec.startswith("row:"):
        match = re.fullmatch(r"row:(\w+)@(\w+)=(-?[0-9.]+)", spec)
        if match:
            column, key, wanted = match.group(1), match.group(2), float(match.group(3))
            value = next((row.get(column) for row in seen.rows
                          if _close(row.get(key), wanted)), None)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _close(value: Any, wanted: float) -> bool:
    try:
        return abs(float(value) - wanted) < 1e-6 * max(1.0, abs(wanted))
    except (TypeError, ValueError):
        return False


def check_number(question: Question, value: Any) -> Feedback:
    """Feedback on a number (in the question's unit) for a numeric question."""
    try:
        number = float(str(value).strip().replace("\u2212", "-"))
    except ValueError:
        return Feedback(False, f"Give a number in {question.unit or 'the unit asked'}.")
    if not math.isfinite(number):
        return Feedback(False, "Give a finite number.")
    unit = f" {question.unit}" if question.unit else ""
    if abs(number - question.answer) <= question.tolerance:
        return Feedback(True, f"Correct: {question.answer:g}{unit} (within "
                              f"{question.tolerance:g}{unit}). {question.explain}".strip())
    hint = "too high" if number > question.answer else "too low"
    return Feedback(False, f"Not quite: {number:g}{unit} is {hint}. Check your measurement "
                           "and try again.")


def check_choice(question: Question, key: str) -> Feedback:
    """Feedback on a multiple-choice answer (a choice's key)."""
    if key == question.correct:
        return Feedback(True, f"Correct. {question.explain}".strip())
    return Feedback(False, "Not this one; think again about what the rig showed.")


def check(question: Question, given: Any) -> Feedback:
    """Feedback on an answer of either kind (a number or a choice's key)."""
    if question.kind == "choice":
        return check_choice(question, str(given))
    return check_number(question, given)


class Progress:
    """The student's place and answers in each lesson, saved to a JSON file at once on
    every change (a missing or damaged file starts afresh)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = None if path is None else Path(path)
        self.data: dict[str, Any] = {"student": "", "lessons": {}}
        if self.path is not None and self.path.exists():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict) and isinstance(loaded.get("lessons"), dict):
                    self.data = loaded
            except (OSError, ValueError):
                pass  # progress is a convenience: a damaged file starts afresh

    def _lesson(self, lesson_id: str) -> dict[str, Any]:
        entry = self.data["lessons"].setdefault(lesson_id, {})
        if not isinstance(entry, dict):
            entry = self.data["lessons"][lesson_id] = {}
        entry.setdefault("step", 0)
        entry.setdefault("answers", {})
        return entry

    @property
    def student(self) -> str:
        """The student's name (for the worksheet)."""
        return str(self.data.get("student", ""))

    @student.setter
    def student(self, name: str) -> None:
        self.data["student"] = str(name)
        self.save()

    def _read(self, lesson_id: str) -> dict[str, Any]:
        entry = self.data["lessons"].get(lesson_id)
        return entry if isinstance(entry, dict) else {}

    def step(self, lesson_id: str) -> int:
        """The step the student was on (0 at first)."""
        step = self._read(lesson_id).get("step", 0)
        return step if isinstance(step, int) and step >= 0 else 0

    def set_step(self, lesson_id: str, index: int) -> None:
        self._lesson(lesson_id)["step"] = int(index)
        self.save()

    def record(self, lesson_id: str, step: int, given: Any, feedback: Feedback,
               measured_value: float | None = None) -> None:
        """Keep an answer: what was given, whether it was right, the measurement."""
        self._lesson(lesson_id)["answers"][str(step)] = {
            "given": str(given), "correct": feedback.correct, "measured": measured_value}
        self.save()

    def answers(self, lesson_id: str) -> dict[int, dict[str, Any]]:
        """{step index: {'given', 'correct', 'measured'}}."""
        raw = self._read(lesson_id).get("answers")
        if not isinstance(raw, dict):
            return {}
        return {int(k): v for k, v in raw.items() if str(k).isdigit() and isinstance(v, dict)}

    def done(self, lesson_id: str, question_steps: Sequence[int]) -> bool:
        """True when every question of the lesson was answered correctly."""
        answers = self.answers(lesson_id)
        return all(answers.get(i, {}).get("correct") for i in question_steps)

    def save(self) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
            temporary.replace(self.path)
        except OSError as exc:
            raise VrigError(f"cannot save lesson progress to {self.path}: "
                            f"{exc.strerror or exc}") from None
