"""The shipped lessons: each parses, each step is walked on the engine, and every check
accepts what the model gives and refuses a wrong value; malformed lessons give the file
and line."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig import units
from rig.errors import VrigError
from rig.simulation.engine import Rig
from rig.teaching.lesson import Question, lessons_dir, load_lesson, parse_lesson, shipped_lessons
from rig.teaching.lesson_check import Measurements, Progress, check, measured
from rig.teaching.lesson_rig import HeadlessLesson, opening_actions, state_after, walk

LESSONS, PROBLEMS = shipped_lessons()
STOCHASTIC = ("single-channels",)
TOPICS = ("resting-potential", "action-potential", "refractory", "repetitive-firing",
          "iv-curve", "ttx-tea", "inactivation", "temperature")


def test_the_practical_ships_every_topic():
    assert PROBLEMS == []
    assert [lesson.id for lesson in LESSONS][:8] == list(TOPICS)
    assert len(LESSONS) >= 8
    assert (lessons_dir() / "01-resting-potential.md").is_file()


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_lesson_names_its_cell_and_mode_in_its_first_step(lesson):
    # nothing is taken from whatever the window held before the lesson
    keys = {action.key for action in lesson.steps[0].actions if action.verb == "set"}
    assert {"cell", "mode"} <= keys, lesson.id


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_a_step_opened_directly_builds_the_state_its_steps_lead_to(lesson):
    for index in range(len(lesson.steps)):
        actions = opening_actions(lesson.steps, index)
        assert actions[0].verb == "set" and actions[0].key == "cell"
        opened = HeadlessLesson()
        opened.apply(actions)
        walked = state_after(lesson.steps, index)
        settings = {k: v for k, v in walked.settings.items() if k != "run"}
        assert opened.cell == walked.cell, (lesson.id, index)
        assert {k: v for k, v in opened.settings.items() if k != "run"} == settings
        assert opened.ions == walked.ions and opened.drugs == walked.drugs


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_measured_answer_is_what_the_model_gives(lesson):
    walked = walk(lesson.steps)
    # a random patch is checked against the model below (its openings differ each run)
    assert walked or lesson.id in STOCHASTIC, "every lesson measures something on the rig"
    for index, step, state in walked:
        question = step.question
        value = measured(question, state.measure(question))
        assert value is not None, (lesson.id, index, question.measure)
        assert check(question, value).correct, (lesson.id, index, value, question.answer)
        # a tolerance that accepts the model's value with room to spare, and a clearly
        # wrong measurement refused on either side
        assert abs(value - question.answer) <= question.tolerance / 2, (lesson.id, index)
        for wrong in (value + 3 * question.tolerance, value - 3 * question.tolerance):
            assert not check(question, wrong).correct


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson.id)
def test_each_choice_accepts_only_the_correct_key(lesson):
    for step in lesson.steps:
        question = step.question
        if question is None or question.kind != "choice":
            continue
        for key, _ in question.choices:
            assert check(question, key).correct == (key == question.correct)


def test_typed_answers_are_the_models_reversal_potentials():
    rig = Rig.from_presets("hh-squid")
    potentials = {ion: units.v_to_mv(v) for ion, v in rig.reversal_potentials().items()}
    typed = {step.title: step.question for lesson in LESSONS for step in lesson.steps
             if step.question is not None and step.question.kind == "numeric"
             and not step.question.measure}
    e_k = typed["The potassium equilibrium potential"]
    e_na = typed["Compare with E<sub>Na</sub>"]
    assert e_k.answer == pytest.approx(potentials["K"], abs=0.01)
    assert e_na.answer == pytest.approx(potentials["Na"], abs=0.01)
    assert check(e_k, "-77").correct and not check(e_k, "-65").correct
    assert not check(e_na, "abc").correct and not check(e_na, "nan").correct


def test_measurements_come_from_the_analysis_table():
    question = LESSONS[3].steps[2].question  # rate at 100 pA
    rows = [{"stimulus_pA": 90.0, "rate_Hz": 65.0}, {"stimulus_pA": 100.0, "rate_Hz": 70.0}]
    assert measured(question, Measurements(rows=rows)) == 70.0
    assert measured(question, Measurements()) is None
    assert measured(question, Measurements(rows=[{"stimulus_pA": 100.0,
                                                  "rate_Hz": math.nan}])) is None


def test_progress_is_kept_between_starts(tmp_path):
    path = tmp_path / "progress.json"
    progress = Progress(path)
    progress.student = "Ada"
    progress.set_step("refractory", 2)
    question = LESSONS[2].steps[0].question
    progress.record("refractory", 0, "6", check(question, "6"), 6.0)
    again = Progress(path)
    assert again.student == "Ada" and again.step("refractory") == 2
    assert again.answers("refractory")[0] == {"given": "6", "correct": True, "measured": 6.0}
    assert again.done("refractory", [0]) and not again.done("refractory", [0, 1])
    path.write_text("{broken")
    assert Progress(path).step("refractory") == 0  # a damaged file starts afresh


GOOD = "---\nid: x\ntitle: X\n---\nintro\n## One\n@set mode=CC\ntext\n"


@pytest.mark.parametrize(("text", "line", "words"), [
    ("no front matter", 1, "front matter"),
    ("---\nid: x\n---\n## s\n", 3, "no 'title:'"),
    ("---\nid: x\ntitle: t\n", 3, "not closed"),
    (GOOD + "@set mode=XY\n", 9, "mode"),
    (GOOD + "@set colour=red\n", 9, "key among"),
    (GOOD + "@set cell=nope\n", 9, "no shipped cell"),
    (GOOD + "@set temperature=500\n", 9, "temperature"),
    (GOOD + "@drug XYZ=1nM\n", 9, "unknown drug"),
    (GOOD + "@ion out:Q=3\n", 9, ""),
    (GOOD + "@frobnicate\n", 9, "unknown directive"),
    (GOOD + "@ask Why?\n@numeric answer=3\n", 9, "tolerance"),
    (GOOD + "@ask Why?\n@numeric answer=1 tolerance=1 measure=cursor\n", 9, "measure="),
    (GOOD + "@ask Why?\n@choice a: yes\n@choice b: no\n@correct c\n", 9, "@correct"),
    (GOOD + "@numeric answer=1 tolerance=1\n", 6, "@ask"),
    ("---\nid: x\ntitle: t\n---\n@set mode=CC\n", 5, "before the first step"),
    ("---\nid: x\ntitle: t\n---\njust text\n", 5, "no steps"),
])
def test_malformed_lesson_names_the_file_and_line(text, line, words):
    with pytest.raises(VrigError) as info:
        parse_lesson(text, "bad.md")
    assert str(info.value).startswith(f"bad.md: line {line}: ")
    assert words in str(info.value) and "\n" not in str(info.value)


def test_unreadable_lesson_files(tmp_path):
    with pytest.raises(VrigError, match="missing.md: cannot read"):
        load_lesson(tmp_path / "missing.md")
    path = tmp_path / "latin.md"
    path.write_bytes(b"---\nid: x\n\xff\n")
    with pytest.raises(VrigError, match="latin.md: line 3: not UTF-8"):
        load_lesson(path)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["---", "id: a", "title: b", "## s", "@set mode=VC",
                                 "@ask q", "@numeric answer=1 tolerance=2", "@choice a: x",
                                 "@correct a", "@drug TTX=1nM", "@wash", "text", "@x",
                                 "@set holding=zz", ""]), max_size=14))
def test_any_lesson_text_parses_or_gives_one_line(lines):
    try:
        lesson = parse_lesson("\n".join(lines), "h.md")
    except VrigError as exc:
        assert str(exc).startswith("h.md: line ") and "\n" not in str(exc)
    else:
        assert lesson.steps


def test_the_unitary_current_is_the_step_size_of_the_patch_records():
    lesson = next(lesson for lesson in LESSONS if lesson.id == "single-channels")
    unitary = next(step.question for step in lesson.steps
                   if step.question is not None and step.question.unit == "pA")
    state = state_after(lesson.steps, 0)
    seen = state.measure(Question("peak", "numeric", measure="fact:any"))
    peaks = np.array([row["peak_pA"] for row in seen.rows if row.get("peak_pA")])
    assert peaks.size > 50  # most sweeps see an opening
    channels = peaks / unitary.answer  # every peak is a whole number of open channels
    assert np.all(channels > 0.5)
    assert np.max(np.abs(channels - np.round(channels))) < 0.01


def test_new_lessons_cover_propagation_single_channels_and_the_pump():
    by_id = {lesson.id: lesson for lesson in LESSONS}
    cells = {lesson_id: {a.value for s in by_id[lesson_id].steps for a in s.actions
                         if a.key == "cell"} for lesson_id in ("propagation", "single-channels",
                                                              "pump")}
    assert cells == {"propagation": {"squid-axon", "thin-fibre"},
                     "single-channels": {"patch-na"}, "pump": {"hh-squid"}}
    measures = {s.question.measure for s in by_id["propagation"].steps if s.question}
    assert "axon:velocity" in measures
    pump = [a for s in by_id["pump"].steps for a in s.actions]
    assert ("set", "gradients", "on") in [(a.verb, a.key, a.value) for a in pump]
    assert any(a.verb == "drug" and a.value.lower().startswith("ouabain") for a in pump)


def test_the_spike_interval_comes_from_the_cursors():
    question = LESSONS[3].steps[1].question  # the interval between spikes
    assert question.measure == "cursor:dt"
    assert measured(question, Measurements()) is None  # cursors off: nothing measured
    assert measured(question, Measurements(cursor_dt_ms=14.2)) == 14.2
    assert check(question, 14.2).correct and not check(question, 20.0).correct
