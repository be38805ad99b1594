"""Malformed and hostile protocols: whatever comes in, the only exception that comes
out is VrigError, with a message that names the field at fault."""

import contextlib
import copy
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rig.errors import VrigError
from rig.protocols.protocol import load_protocol, parse_protocol, protocol_from_dict, render

VALID = {"format": "vrig-protocol", "version": 1, "name": "I-V family", "mode": "VC",
         "holding": -65, "sample_rate_khz": 50, "sweeps": 15, "sweep_interval_ms": 200,
         "epochs": [{"kind": "step", "duration_ms": 10, "level": -65},
                    {"kind": "step", "duration_ms": 20, "level": -80, "level_delta": 10},
                    {"kind": "step", "duration_ms": 20, "level": -65}]}

KINDS = {
    "step": {"kind": "step", "duration_ms": 5, "level": 0},
    "ramp": {"kind": "ramp", "duration_ms": 5, "level": 0, "end_level": 10},
    "train": {"kind": "train", "duration_ms": 5, "level": 0, "pulse_level": 10,
              "pulse_width_ms": 1, "period_ms": 2},
    "sine": {"kind": "sine", "duration_ms": 5, "level": 0, "amplitude": 10,
             "frequency_hz": 100},
}

MAX_SAMPLES_RENDERED = 5_000_000


def valid():
    return copy.deepcopy(VALID)


def with_epoch(epoch, **top):
    data = valid()
    data["epochs"][1] = epoch
    data.update(top)
    return data


def accepted_renders(data):
    """Try a dict; if it is accepted it must render to finite arrays of bounded size."""
    try:
        p = protocol_from_dict(data)
    except VrigError as exc:
        assert str(exc).strip(), "a VrigError needs a message"
        assert "\n" not in str(exc).strip(), f"message is more than one line: {exc!s}"
        return None
    total = sum(p.sweep_samples(k) for k in range(p.sweeps))
    assert 0 < total <= MAX_SAMPLES_RENDERED
    for command in render(p):
        assert np.isfinite(command).all()
        assert np.abs(command).max() <= (0.5 if p.mode == "VC" else 1e-7)
    return p


# --- hypothesis: arbitrary JSON --------------------------------------------------------

json_leaves = (st.none() | st.booleans() | st.integers()
               | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=30)

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(json_values)
def test_arbitrary_json_value_raises_only_vrig_error(value):
    accepted_renders(value)


@SETTINGS
@given(json_values)
def test_arbitrary_json_text_raises_only_vrig_error(value):
    try:
        text = json.dumps(value)
    except ValueError:
        return
    with contextlib.suppress(VrigError):
        parse_protocol(text)


@SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_raises_only_vrig_error(text):
    with contextlib.suppress(VrigError):
        parse_protocol(text)


TOP_KEYS = sorted(VALID) + ["description", "colour"]


@SETTINGS
@given(st.dictionaries(st.sampled_from(TOP_KEYS), json_values, max_size=4),
       st.lists(st.sampled_from(TOP_KEYS), max_size=2))
def test_valid_protocol_with_hostile_top_level_fields(replacements, removed):
    data = valid()
    data.update(replacements)
    for key in removed:
        data.pop(key, None)
    accepted_renders(data)


EPOCH_KEYS = sorted({key for epoch in KINDS.values() for key in epoch}
                    | {"level_delta", "end_level_delta", "duration_delta_ms",
                       "pulse_width_delta_ms", "period_delta_ms", "frequency_delta_hz",
                       "amplitude_delta", "pulse_level_delta", "bogus"})
hostile_numbers = (st.floats(allow_nan=True, allow_infinity=True)
                   | st.integers(min_value=-10**12, max_value=10**12)
                   | st.sampled_from([0, -0.0, 1e-300, -1e-300, 5e-324, 1e308, -1e308,
                                      True, False, None, "10", [], {}, [10]]))


@SETTINGS
@given(st.sampled_from(sorted(KINDS)),
       st.dictionaries(st.sampled_from(EPOCH_KEYS), hostile_numbers | json_values,
                       max_size=4),
       st.integers(1, 10_000), st.floats(0.1, 500))
def test_valid_epoch_with_hostile_values(kind, replacements, sweeps, rate):
    epoch = dict(KINDS[kind])
    epoch.update(replacements)
    accepted_renders(with_epoch(epoch, sweeps=sweeps, sample_rate_khz=rate))


@SETTINGS
@given(json_values)
def test_hostile_epoch_kind(kind):
    epoch = dict(KINDS["step"], kind=kind)
    accepted_renders(with_epoch(epoch))


@SETTINGS
@given(json_values)
def test_hostile_epoch_list_entry(entry):
    data = valid()
    data["epochs"].append(entry)
    accepted_renders(data)


# --- specific cases: the message names what was wrong ----------------------------------

def epoch_case(**changes):
    epoch = {"kind": "step", "duration_ms": 20, "level": -80, "level_delta": 10}
    epoch.update(changes)
    return with_epoch(epoch)


def top_case(**changes):
    data = valid()
    data.update(changes)
    return data


def removed(key):
    data = valid()
    del data[key]
    return data


CASES = {
    "string duration": (epoch_case(duration_ms="10"), "duration_ms"),
    "bool level": (epoch_case(level=True), "level"),
    "null level": (epoch_case(level=None), "level"),
    "list level": (epoch_case(level=[1]), "level"),
    "negative duration": (epoch_case(duration_ms=-1), "duration_ms"),
    "NaN duration": (epoch_case(duration_ms=math.nan), "duration_ms"),
    "Infinity duration": (epoch_case(duration_ms=math.inf), "duration_ms"),
    "-Infinity level": (epoch_case(level=-math.inf), "level"),
    "NaN delta": (epoch_case(level_delta=math.nan), "level_delta"),
    "unknown epoch kind": (epoch_case(kind="pulse"), "pulse"),
    "missing kind": (with_epoch({"duration_ms": 20, "level": 0}), "kind"),
    "list kind": (epoch_case(kind=["step"]), "kind"),
    "object kind": (epoch_case(kind={"step": 1}), "kind"),
    "number kind": (epoch_case(kind=1), "kind"),
    "unknown epoch field": (epoch_case(colour="red"), "colour"),
    "unknown top-level field": (top_case(colour="red"), "colour"),
    "missing level": (with_epoch({"kind": "step", "duration_ms": 20}), "level"),
    "missing duration": (with_epoch({"kind": "step", "level": 0}), "duration_ms"),
    "missing ramp end": (with_epoch({"kind": "ramp", "duration_ms": 5, "level": 0}),
                         "end_level"),
    "train period zero": (with_epoch(dict(KINDS["train"], period_ms=0)), "period_ms"),
    "train negative width": (with_epoch(dict(KINDS["train"], pulse_width_ms=-1)),
                             "pulse_width_ms"),
    "sine negative frequency": (with_epoch(dict(KINDS["sine"], frequency_hz=-5)),
                                "frequency_hz"),
    "a billion sweeps": (top_case(sweeps=1_000_000_000), "sweeps"),
    "zero sweeps": (top_case(sweeps=0), "sweeps"),
    "fractional sweeps": (top_case(sweeps=2.5), "sweeps"),
    "string sweeps": (top_case(sweeps="15"), "sweeps"),
    "sweeps as a 400-digit integer": (top_case(sweeps=10**400), "sweeps"),
    "sample rate 1e9 kHz": (top_case(sample_rate_khz=1e9), "sample_rate_khz"),
    "sample rate zero": (top_case(sample_rate_khz=0), "sample_rate_khz"),
    "sample rate NaN": (top_case(sample_rate_khz=math.nan), "sample_rate_khz"),
    "negative sweep interval": (top_case(sweep_interval_ms=-1), "sweep_interval_ms"),
    "holding beyond 500 mV": (top_case(holding=1000), "holding"),
    "holding NaN": (top_case(holding=math.nan), "holding"),
    "level beyond 500 mV": (epoch_case(level=-501), "level"),
    "gigabyte durations": (epoch_case(duration_ms=1e7), "sample"),
    "gigabyte durations by delta": (epoch_case(duration_ms=10, duration_delta_ms=1e6),
                                    "sample"),
    "gigabytes at top sample rate": (top_case(sample_rate_khz=500, sweeps=10_000), "sample"),
    "hours of sweep intervals": (top_case(sweeps=10_000, sweep_interval_ms=60_000), "s"),
    "delta pushes level out of range later": (epoch_case(level_delta=100), "level"),
    "delta pushes duration negative later": (epoch_case(duration_delta_ms=-2), "duration"),
    "delta pushes period to zero later": (
        with_epoch(dict(KINDS["train"], period_delta_ms=-1), sweeps=3), "period"),
    "version 2": (top_case(version=2), "version"),
    "version as text": (top_case(version="1"), "version"),
    "version true": (top_case(version=True), "version"),
    "missing version": (removed("version"), "version"),
    "missing format": (removed("format"), "format"),
    "wrong format": (top_case(format="vrig-cell"), "format"),
    "missing mode": (removed("mode"), "mode"),
    "unknown mode": (top_case(mode="XC"), "mode"),
    "list mode": (top_case(mode=["VC"]), "mode"),
    "missing epochs": (removed("epochs"), "epochs"),
    "no epochs": (top_case(epochs=[]), "epochs"),
    "a thousand epochs": (top_case(epochs=[KINDS["step"]] * 1000), "epochs"),
    "epochs as an object": (top_case(epochs={"kind": "step"}), "epochs"),
    "epoch as a list": (top_case(epochs=[["step", 10, 0]]), "epoch"),
    "name as a number": (top_case(name=5), "name"),
    "a very long name": (top_case(name="x" * 100_000), "name"),
    "zero-length sweeps": (top_case(epochs=[dict(KINDS["step"], duration_ms=0)]), "sample"),
    "top-level list": ([valid()], "object"),
    "top-level string": ("vrig-protocol", "object"),
    "top-level null": (None, "object"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_protocol_message_names_the_field(case):
    data, field = CASES[case]
    with pytest.raises(VrigError) as info:
        protocol_from_dict(data)
    message = str(info.value)
    assert field.lower() in message.lower(), message
    assert "\n" not in message
    assert len(message) < 1000
    # the same through the text of a file, where the value can be written in JSON
    try:
        text = json.dumps(data)
    except (ValueError, TypeError):
        return
    with pytest.raises(VrigError):
        parse_protocol(text)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_json_non_finite_literals_are_refused(literal, tmp_path):
    text = json.dumps(valid()).replace('"duration_ms": 10', f'"duration_ms": {literal}', 1)
    assert literal in text
    with pytest.raises(VrigError, match=literal):
        parse_protocol(text)
    path = tmp_path / "nan.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VrigError, match=literal):
        load_protocol(path)


def test_overflowing_number_literal_is_refused():
    text = json.dumps(valid()).replace('"duration_ms": 10', '"duration_ms": 1e400', 1)
    with pytest.raises(VrigError, match="duration_ms"):
        parse_protocol(text)


@pytest.mark.parametrize("digits", [400, 5000])
def test_huge_integer_literal_is_refused(digits, tmp_path):
    # a 400-digit int does not fit a float; beyond 4300 digits Python refuses to parse it
    text = json.dumps(valid()).replace('"sweeps": 15', '"sweeps": 1' + "0" * digits, 1)
    with pytest.raises(VrigError):
        parse_protocol(text)
    path = tmp_path / "huge.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VrigError):
        load_protocol(path)


@pytest.mark.parametrize("depth", [2_000, 100_000])
def test_deeply_nested_json_is_refused(depth, tmp_path):
    text = "[" * depth + "]" * depth
    with pytest.raises(VrigError):
        parse_protocol(text)
    nested = json.dumps(valid()).replace('"I-V family"', "[" * depth + "]" * depth, 1)
    with pytest.raises(VrigError):
        parse_protocol(nested)
    path = tmp_path / "deep.json"
    path.write_text(nested, encoding="utf-8")
    with pytest.raises(VrigError):
        load_protocol(path)


def test_moderately_nested_value_is_refused_by_type():
    data = valid()
    data["name"] = json.loads("[" * 500 + "]" * 500)
    with pytest.raises(VrigError, match="name"):
        protocol_from_dict(data)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.json"
    path.write_bytes(b"")
    with pytest.raises(VrigError, match="empty.json"):
        load_protocol(path)
    with pytest.raises(VrigError):
        parse_protocol("")


def test_whitespace_only_text():
    with pytest.raises(VrigError):
        parse_protocol(" \n\t ")


@pytest.mark.parametrize("content", [b"\xff\xfe\xfa{}", b"\x80abc",
                                     json.dumps(VALID).encode("utf-16")])
def test_non_utf8_file(content, tmp_path):
    path = tmp_path / "latin.json"
    path.write_bytes(content)
    with pytest.raises(VrigError, match="latin.json"):
        load_protocol(path)


def test_binary_garbage_file(tmp_path):
    path = tmp_path / "garbage.json"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(VrigError):
        load_protocol(path)


def test_missing_file_and_folder_named_json(tmp_path):
    with pytest.raises(VrigError, match="nothere.json"):
        load_protocol(tmp_path / "nothere.json")
    (tmp_path / "dir.json").mkdir()
    with pytest.raises(VrigError):
        load_protocol(tmp_path / "dir.json")


def test_huge_file_is_refused_without_reading_it_all(tmp_path):
    path = tmp_path / "big.json"
    data = valid()
    data["description"] = "x" * 5_000_000
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(VrigError):
        load_protocol(path)


def test_unknown_preset_name():
    with pytest.raises(VrigError, match="no-such-protocol"):
        load_protocol("no-such-protocol")


def test_trailing_garbage_after_json():
    with pytest.raises(VrigError):
        parse_protocol(json.dumps(VALID) + " {}")


def test_duplicate_keys_take_no_hostile_shortcut():
    # the later value wins in JSON; the result is validated like any other
    text = json.dumps(VALID)[:-1] + ', "sweeps": 1000000000}'
    with pytest.raises(VrigError, match="sweeps"):
        parse_protocol(text)


def test_valid_protocol_still_accepted_after_hostile_ones():
    p = protocol_from_dict(valid())
    assert p.sweeps == 15
    assert len(render(p)) == 15


def test_a_sine_may_not_swing_beyond_the_level_limit():
    data = {"format": "vrig-protocol", "version": 1, "mode": "VC", "holding": -65,
            "epochs": [{"kind": "sine", "duration_ms": 10, "level": 400, "amplitude": 500,
                        "frequency_hz": 100}]}
    with pytest.raises(VrigError, match="level \\+ amplitude reaches 900") as caught:
        protocol_from_dict(data)
    assert (caught.value.epoch, caught.value.field) == (0, "amplitude")
