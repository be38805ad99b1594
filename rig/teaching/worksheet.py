"""A student's worksheet as data: for each lesson with an answer, each question with
what was given, what was measured and whether it was right (the window prints it)."""

import re
from dataclasses import dataclass
from html import unescape

from rig.teaching.lesson import Lesson
from rig.teaching.lesson_check import Progress


@dataclass(frozen=True)
class WorksheetEntry:
    """One answered (or open) question: lesson and step titles, the prompt, the answer
    given ('' if none), the measured value (or None), its unit, and the verdict
    (True, False, or None when unanswered)."""

    lesson: str
    step: str
    prompt: str
    given: str
    measured: float | None
    unit: str
    correct: bool | None


def plain(text: str) -> str:
    """Lesson rich text as plain text (E<sub>K</sub> -> E_K, &deg; -> the sign)."""
    text = re.sub(r"<sub>(.*?)</sub>", r"_\1", text)
    text = re.sub(r"<sup>(.*?)</sup>", _superscript, text)
    return unescape(re.sub(r"<[^>]+>", "", text))


def _superscript(match: re.Match[str]) -> str:
    """K<sup>+</sup> -> K+ (a charge), 3<sup>1.22</sup> -> 3^1.22 (a power)."""
    inner = match.group(1)
    return inner if unescape(inner) in ("+", "-", "\u2212", "2+") else f"^{inner}"


def worksheet(lessons: list[Lesson], progress: Progress) -> list[WorksheetEntry]:
    """Every question of the lessons the student has started, in order."""
    entries = []
    for lesson in lessons:
        answers = progress.answers(lesson.id)
        if not answers:
            continue
        for index, step in enumerate(lesson.steps):
            question = step.question
            if question is None:
                continue
            answer = answers.get(index, {})
            value = answer.get("measured")
            entries.append(WorksheetEntry(
                plain(lesson.title), plain(step.title), plain(question.prompt),
                str(answer.get("given", "")),
                float(value) if isinstance(value, int | float) else None, question.unit,
                answer.get("correct") if answer else None))
    return entries
