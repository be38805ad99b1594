"""Instructor exercises: the right answer passes, a wrong one fails, the file does not
contain the answer, the key comes back from the seed, and bad files give one line."""

import base64
import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rig.cli.main import main
from rig.errors import VrigError
from rig.teaching import exercise as ex
from rig.teaching.exercise_rig import exercise_rig


def _new(tmp_path, kind, seed):
    path = tmp_path / f"{kind}-{seed}.json"
    assert main(["exercise", "new", "--kind", kind, "--seed", str(seed), "-o", str(path)]) == 0
    return path


def _answer_from_key(path, seed, capsys):
    capsys.readouterr()
    assert main(["exercise", "key", str(path), "--seed", str(seed)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("answer: ") and out.count("\n") == 1
    return out.removeprefix("answer: ").strip()


@pytest.mark.parametrize("kind", ex.KINDS)
def test_key_answer_is_accepted_and_a_wrong_one_refused(kind, tmp_path, capsys):
    path = _new(tmp_path, kind, 11)
    answer = _answer_from_key(path, 11, capsys)
    assert answer == ex.make_key(kind, 11).answer
    assert main(["exercise", "check", str(path), "--answer", answer]) == 0
    assert capsys.readouterr().out == "correct\n"
    wrong = {"mystery-drug": "TTX=1uM" if "4-AP" in answer else "4-AP=100mM",
             "mystery-cell": "Na x8", "mystery-solution": "K=1000mM"}[kind]
    assert main(["exercise", "check", str(path), "--answer", wrong]) == 1
    assert capsys.readouterr().out == "incorrect\n"


@pytest.mark.parametrize("kind", ex.KINDS)
@pytest.mark.parametrize("seed", range(6))
def test_file_holds_no_readable_answer(kind, seed):
    key = ex.make_key(kind, seed)
    body = json.loads(ex.exercise_text(key))
    # the task texts name examples only, never the answer; the rest is hex, the setup is
    # scrambled: neither the answer's identity nor its value is there as a word or as bytes
    del body["task"], body["answer_format"], body["title"]
    words = [w for w in re.split(r"[=x ]+", key.answer) if w]
    scrambled = base64.b64decode(body.pop("setup"))
    plain = ex.exercise_text(key).encode()
    for word in words:
        assert not re.search(rf"\b{re.escape(word)}\b", json.dumps(body), re.IGNORECASE)
        assert len(word) < 3 or word.encode() not in scrambled  # 1-2 bytes occur by chance
    assert key.answer.encode() not in plain
    assert b'"drugs"' not in scrambled and b"out:" not in scrambled


def test_numeric_answers_have_a_tolerance():
    # 4-AP 10 mM: 8 mM and 12 mM round into the same bin, 3 mM does not
    key = ex.Key("mystery-drug", "4-AP=10mM", ex.Setup(drugs=(("4-AP", 10e-3),)))
    exercise = ex.load_exercise_text(ex.exercise_text(key), "t.json")
    assert ex.is_correct(exercise, "4-AP=8mM") and ex.is_correct(exercise, "4-ap = 12 mM")
    assert ex.is_correct(exercise, "4-AP=0.011M")
    assert not ex.is_correct(exercise, "4-AP=3mM") and not ex.is_correct(exercise, "TTX=10nM")
    assert ex.canonical_answer("mystery-cell", "k * 0.45") == "K x0.5"
    assert ex.canonical_answer("mystery-solution", "out:K=55") == "K=50mM"


def test_key_with_the_wrong_seed_is_one_error_line(tmp_path, capsys):
    path = _new(tmp_path, "mystery-drug", 3)
    wrong = next(s for s in range(100)
                 if ex.make_key("mystery-drug", s).answer != ex.make_key("mystery-drug", 3).answer)
    capsys.readouterr()
    assert main(["exercise", "key", str(path), "--seed", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vrig: error: seed") and err.count("\n") == 1


@pytest.mark.parametrize(("text", "line"), [
    ("", 1), ("[1, 2]", 1), ('{\n "format": "vrig-exercise",\n "version": 1,\n "kind": 3}', 4),
    ('{\n "format": "vrig-exercise",\n "version": 1,\n "kind": "mystery-drug",\n "title": "t",'
     '\n "task": "t",\n "answer_format": "a",\n "salt": "zz",\n "commitment": "00",'
     '\n "setup": ""}', 8),
    ('{\n "format": "other"}', 2), ('{\n "a": 1,\n "b": }', 3), ("\xff\xfe", 1),
])
def test_bad_exercise_file_names_the_file_and_line(text, line, tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_bytes(text.encode("latin-1"))
    assert main(["exercise", "check", str(path), "--answer", "TTX=1nM"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vrig: error: {path}: line {line}: ") and err.count("\n") == 1


def test_altered_setup_is_refused(tmp_path):
    data = json.loads(ex.exercise_text(ex.make_key("mystery-cell", 1)))
    data["setup"] = data["setup"][:-8] + "AAAAAAA="
    with pytest.raises(VrigError, match="line 10: the setup"):
        ex.load_exercise_text(json.dumps(data, indent=1), "x.json")


def test_missing_file_and_unreadable_answer(tmp_path, capsys):
    assert main(["exercise", "check", str(tmp_path / "none.json"), "--answer", "x"]) == 2
    assert "none.json: cannot read" in capsys.readouterr().err
    path = _new(tmp_path, "mystery-solution", 2)
    capsys.readouterr()
    assert main(["exercise", "check", str(path), "--answer", "potassium lots"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vrig: error: answer 'potassium lots'") and "ION=" in err


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(ex.KINDS), text=st.text(max_size=30))
def test_any_answer_text_is_canonical_or_one_clear_error(kind, text):
    try:
        canonical = ex.canonical_answer(kind, text)
    except VrigError as exc:
        assert "give" in str(exc) and "\n" not in str(exc)
    else:  # a canonical answer reads back as itself
        assert ex.canonical_answer(kind, canonical) == canonical


@pytest.mark.parametrize("seed", range(4))
def test_each_kind_changes_what_the_student_can_measure(seed):
    control = exercise_rig(ex.Setup())
    for kind in ex.KINDS:
        rig = exercise_rig(ex.make_key(kind, seed).setup)
        if kind == "mystery-solution":  # the resting potential moves (K) or E_Na does (Na)
            moved = (abs(rig.resting_potential() - control.resting_potential()) > 1e-3
                     or abs(rig.reversal_potentials()["Na"]
                            - control.reversal_potentials()["Na"]) > 1e-3)
            assert moved
        else:  # a conductance changed: the peak currents of a step to 0 mV differ
            assert not np.allclose(_step_currents(rig), _step_currents(control), rtol=0.05,
                                   atol=0)


def _step_currents(rig):
    rig.set_mode("VC")
    rig.set_holding(-0.065)
    rig.settle()
    trace = rig.advance(np.full(500, 0.0), 2e-5)["Im"]  # 10 ms at 0 mV
    return np.array([trace.min(), trace.max()])
