"""Lessons as data: a Markdown file with a small front matter, read into a Lesson.

The format (resources/lessons/*.md)::

    ---
    id: resting-potential
    title: The resting potential
    order: 1
    summary: one line for the list of lessons
    ---
    Text before the first step is the lesson's introduction.

    ## A cell at rest
    @set cell=hh-squid mode=CC holding=0 speed=1 temperature=6.3 run=on
    @drug in:TEA=40mM
    Markdown text of the step (inline HTML such as E<sub>K</sub> is kept).
    @ask What is the resting potential?
    @numeric answer=-65.0 unit=mV tolerance=1 measure=vm

A step is a ``## title`` and the lines up to the next one. Lines starting with ``@`` set
the rig (``@set key=value ...``, ``@drug [in:]NAME=CONC``, ``@wash [NAME|all]``,
``@ion out:ION=MM``), all applied in order when the step opens, or pose its question
(``@ask`` then ``@numeric`` or ``@choice KEY: text`` lines with ``@correct KEY``;
``@explain`` is shown after an answer). ``gradients=on`` rebuilds the cell with ion
accumulation and the Na/K pump (the Gradients tab's switches); ``view=gates`` shows
the Gates view (``scopes``, ``axon``: those). ``measure`` says where
the window reads the student's measurement (see :mod:`rig.teaching.lesson_check`).
Every error names the file and the line.
"""

import math
import re
from dataclasses import dataclass
from pathlib import Path

from rig import resources
from rig.clamp import Mode
from rig.errors import VrigError
from rig.model import physics
from rig.model.pharmacology import parse_drug_option
from rig.model.solutions import parse_ion_override
from rig.resources import printable
from rig.teaching.jsonfile import read_text

SET_KEYS = ("cell", "gradients", "mode", "holding", "speed", "temperature", "bath",
            "pipette", "protocol", "run", "scopes", "view")
VIEWS = ("scopes", "gates", "axon")  # what @set view= brings to the front
MEASURE_RE = re.compile(r"vm|axon:velocity|cursor:dt|fact:\w+|row:\w+@\w+=-?[0-9.]+")
MAX_BYTES = 200_000


@dataclass(frozen=True)
class Action:
    """One thing a step does to the rig: verb ('set', 'drug', 'wash', 'ion'), the key
    for 'set' ('' otherwise) and the value as written."""

    verb: str
    key: str
    value: str


@dataclass(frozen=True)
class Question:
    """A step's question. kind 'numeric': answer in unit, accepted within +/- tolerance,
    measure: where the measurement comes from ('vm', 'fact:NAME', 'row:COL@KEY=VALUE')
    or '' (typed); kind 'choice': choices ((key, text), ...) and the correct key."""

    prompt: str
    kind: str
    answer: float = math.nan
    unit: str = ""
    tolerance: float = 0.0
    measure: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    correct: str = ""
    explain: str = ""


@dataclass(frozen=True)
class Step:
    """A step: title, Markdown text, actions in order, an optional question, its line."""

    title: str
    text: str
    actions: tuple[Action, ...]
    question: Question | None
    line: int


@dataclass(frozen=True)
class Lesson:
    """A lesson: id, title, order (its place in the practical), summary, intro
    (Markdown), steps and the file it came from."""

    id: str
    title: str
    order: int
    summary: str
    intro: str
    steps: tuple[Step, ...]
    source: str


class _Reader:
    """Parses one file, keeping the name and line for messages."""

    def __init__(self, text: str, name: str) -> None:
        self.lines = text.splitlines()
        self.name = printable(name)

    def fail(self, line: int, message: str) -> VrigError:
        return VrigError(f"{self.name}: line {line}: {message}")

    def front_matter(self) -> tuple[dict[str, str], int]:
        if not self.lines or self.lines[0].strip() != "---":
            raise self.fail(1, "a lesson starts with a front matter: a line '---', "
                               "'id: ...', 'title: ...', then '---'")
        meta: dict[str, str] = {}
        for number, line in enumerate(self.lines[1:], start=2):
            if line.strip() == "---":
                for key in ("id", "title"):
                    if key not in meta:
                        raise self.fail(number, f"the front matter has no '{key}:'")
                return meta, number
            key, colon, value = line.partition(":")
            if not colon or not key.strip().isidentifier():
                raise self.fail(number, f"expected 'key: value' in the front matter, got "
                                        f"{printable(line)[:40]!r}")
            meta[key.strip()] = value.strip()
        raise self.fail(len(self.lines), "the front matter is not closed by a line '---'")


def parse_lesson(text: str, name: str) -> Lesson:
    """A Lesson from its text (name: the file's, for messages); VrigError 'FILE: line
    N: ...' for anything malformed."""
    reader = _Reader(text, name)
    meta, end = reader.front_matter()
    try:
        order = int(meta.get("order", "0"))
    except ValueError:
        raise reader.fail(1, f"order {meta['order']!r} is not a whole number") from None
    intro: list[str] = []
    steps: list[Step] = []
    current: dict | None = None
    for number, line in enumerate(reader.lines[end:], start=end + 1):
        if line.startswith("## "):
            if current is not None:
                steps.append(_finish_step(reader, current))
            current = {"title": line[3:].strip(), "line": number, "text": [],
                       "actions": [], "question": {}}
        elif line.startswith("@"):
            if current is None:
                raise reader.fail(number, "an @ line before the first step ('## title')")
            _directive(reader, number, line, current)
        elif current is None:
            intro.append(line)
        else:
            current["text"].append(line)
    if current is not None:
        steps.append(_finish_step(reader, current))
    if not steps:
        raise reader.fail(len(reader.lines), "the lesson has no steps ('## title' lines)")
    return Lesson(meta["id"], meta["title"], order, meta.get("summary", ""),
                  "\n".join(intro).strip(), tuple(steps), name)


def _directive(reader: _Reader, number: int, line: str, step: dict) -> None:
    verb, _, rest = line[1:].partition(" ")
    rest = rest.strip()
    question = step["question"]
    if verb == "set":
        for pair in rest.split():
            key, eq, value = pair.partition("=")
            if not eq or key not in SET_KEYS:
                raise reader.fail(number, f"@set {printable(pair)[:30]!r}: use key=value "
                                          f"with a key among {', '.join(SET_KEYS)}")
            _check_setting(reader, number, key, value)
            step["actions"].append(Action("set", key, value))
    elif verb in ("drug", "ion", "wash"):
        try:
            if verb == "drug":
                parse_drug_option(rest)
            elif verb == "ion":
                parse_ion_override(rest)
        except VrigError as exc:
            raise reader.fail(number, str(exc)) from None
        step["actions"].append(Action(verb, "", rest or "all"))
    elif verb == "ask":
        question["prompt"] = rest
        question["line"] = number
    elif verb == "numeric":
        question["numeric"] = _pairs(reader, number, rest)
    elif verb == "choice":
        key, colon, text = rest.partition(":")
        if not colon or not key.strip():
            raise reader.fail(number, "@choice KEY: text, e.g. '@choice a: K+ leaks out'")
        question.setdefault("choices", []).append((key.strip(), text.strip()))
    elif verb in ("correct", "explain"):
        question[verb] = rest
    else:
        raise reader.fail(number, f"unknown directive @{printable(verb)[:20]}; use @set, "
                                  "@drug, @wash, @ion, @ask, @numeric, @choice, @correct "
                                  "or @explain")


def _pairs(reader: _Reader, number: int, text: str) -> dict[str, str]:
    pairs = {}
    for pair in text.split():
        key, eq, value = pair.partition("=")
        if not eq:
            raise reader.fail(number, f"expected key=value, got {printable(pair)[:30]!r}")
        pairs[key] = value
    return pairs


def _check_setting(reader: _Reader, number: int, key: str, value: str) -> None:
    """Raise the file:line error if a @set value cannot be used."""
    try:
        if key == "mode":
            Mode.parse(value)
        elif key in ("holding", "speed", "temperature"):
            level = float(value)
            if not math.isfinite(level):
                raise ValueError
            if key == "temperature":
                physics.check_temperature(level)
            if key == "speed" and level <= 0:
                raise VrigError("speed must be above 0 (x real time)")
        elif key == "view" and value not in VIEWS:
            raise VrigError(f"view is one of {', '.join(VIEWS)}")
        elif key == "gradients" and value not in ("on", "off"):
            raise VrigError("gradients is on (ion accumulation and the Na/K pump) or off")
        elif key == "run" and value not in ("on", "off", "protocol"):
            raise VrigError("run is on, off or protocol (run the step's protocol)")
        elif key in ("cell", "protocol"):
            kind = {"cell": "cells", "protocol": "protocols"}[key]
            if value not in resources.preset_names(kind):
                raise VrigError(f"no shipped {key} {printable(value)!r} (see `vrig list "
                                f"{kind}`)")
        elif key in ("bath", "pipette") and value not in resources.preset_names("solutions"):
            raise VrigError(f"no shipped solution {printable(value)!r}")
    except VrigError as exc:  # before ValueError, which it derives from
        raise reader.fail(number, f"@set {key}: {exc}") from None
    except ValueError:
        raise reader.fail(number, f"@set {key}={printable(value)[:20]}: not a number") from None


def _finish_step(reader: _Reader, step: dict) -> Step:
    spec = step["question"]
    question = None
    if spec:
        line = spec.get("line", step["line"])
        if "prompt" not in spec:
            raise reader.fail(step["line"], "a question needs its @ask line")
        question = _question(reader, line, spec)
    return Step(step["title"], "\n".join(step["text"]).strip(), tuple(step["actions"]),
                question, step["line"])


def _question(reader: _Reader, line: int, spec: dict) -> Question:
    explain = spec.get("explain", "")
    if "numeric" in spec:
        values = spec["numeric"]
        try:
            answer = float(values["answer"])
            tolerance = float(values.get("tolerance", "nan"))
        except KeyError:
            raise reader.fail(line, "@numeric needs answer=NUMBER") from None
        except ValueError:
            raise reader.fail(line, "@numeric answer and tolerance must be numbers") from None
        if not (math.isfinite(answer) and math.isfinite(tolerance) and tolerance > 0):
            raise reader.fail(line, "@numeric needs a finite answer and tolerance=T above 0")
        measure = values.get("measure", "")
        if measure and not MEASURE_RE.fullmatch(measure):
            raise reader.fail(line, f"measure={printable(measure)[:30]}: use vm, "
                                    "axon:velocity, cursor:dt, fact:NAME or "
                                    "row:COLUMN@KEY=VALUE")
        return Question(spec["prompt"], "numeric", answer, values.get("unit", ""), tolerance,
                        measure, explain=explain)
    choices = tuple(spec.get("choices", ()))
    if len(choices) < 2:
        raise reader.fail(line, "a question needs @numeric ... or at least two @choice lines")
    if spec.get("correct") not in {key for key, _ in choices}:
        raise reader.fail(line, "@correct must name one of the @choice keys")
    return Question(spec["prompt"], "choice", choices=choices, correct=spec["correct"],
                    explain=explain)


def load_lesson(path: str | Path) -> Lesson:
    """Read a lesson file; VrigError naming the file (and line) when it is bad."""
    return parse_lesson(read_text(path, "lesson", MAX_BYTES), str(path))


def lessons_dir() -> Path:
    """The shipped lessons' folder."""
    return resources.resources_dir() / "lessons"


def shipped_lessons() -> tuple[list[Lesson], list[str]]:
    """(the shipped lessons in their order, one message per file that failed)."""
    lessons, problems = [], []
    for path in sorted(lessons_dir().glob("*.md")):
        try:
            lessons.append(load_lesson(path))
        except VrigError as exc:
            problems.append(str(exc))
    return sorted(lessons, key=lambda lesson: (lesson.order, lesson.id)), problems
