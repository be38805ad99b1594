"""Silly numbers for the command line's numeric options: whatever number is typed
outside an option's range (1e308, 1e400, nan, inf, a tiny or negative value), vrig
prints one ``vrig: error:`` line that names the option, repeats the value as typed
(never 'inf' for a value that overflowed on its way to SI) and gives the allowed
range, and exits 2 before building a rig or reading a file."""

import math

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from rig.cli import main as rig_cli

# option -> (subcommand, low, high, unit, bypass value or None), in the option's unit
RANGES = {
    "--filter-khz": ("run", 0.1, 100.0, "kHz", 0.0),
    "--rs": ("run", 0.0, 1000.0, "MOhm", None),
    "--rs-comp": ("run", 0.0, 98.0, "%", None),
    "--dt-us": ("run", 0.1, 100.0, "us", None),
    "--temperature": ("run", 0.0, 45.0, "degC", None),
    "--holding": ("membrane-test", -500.0, 500.0, "mV", None),
    "--recovery": ("analyze", 1.0, 100.0, "%", None),
    "--detect": ("analyze", -200.0, 100.0, "mV", None),
    "--dvdt": ("analyze", 0.1, 1000.0, "mV/ms", None),
}
SILLY = ["1e308", "-1e308", "1e400", "-1e400", "nan", "NaN", "inf", "-inf", "Infinity",
         "1e-320", "-0.0", "5e-324", "179769313486231570000000000000000000000000000000000"]


def outside(text, low, high, bypass):
    value = float(text)
    return value != bypass and not (math.isfinite(value) and low <= value <= high)


def typed(option, text):
    """argv for one option: '--opt=value' so that a leading minus is not an option."""
    command, *_ = RANGES[option]
    where = {"run": ["cc-threshold", "-o", "never-written.csv"], "membrane-test": [],
             "analyze": ["never-read.csv"]}[command]
    return [command, *where, f"{option}={text}"]


def refused(argv, capsys):
    capsys.readouterr()
    status = rig_cli.main(argv)
    out, err = capsys.readouterr()
    assert status == 2 and out == "", (argv, out, err)
    assert err.count("\n") == 1 and err.startswith("vrig: error: "), err
    return err.strip()


# capsys is emptied by refused() before each example
@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(option=st.sampled_from(sorted(RANGES)),
       text=st.one_of(st.sampled_from(SILLY),
                      st.floats().map(repr),
                      st.floats(allow_nan=False).map(lambda x: f"{x:g}")))
def test_a_number_outside_an_option_range_is_refused_as_typed(option, text, capsys):
    _, low, high, unit, bypass = RANGES[option]
    assume(outside(text, low, high, bypass))  # in range: valid, run by the other CLI tests
    message = refused(typed(option, text), capsys)
    also = f" (or {bypass:g} for none)" if bypass is not None else ""
    assert message == (f"vrig: error: {option} {text} is outside the allowed "
                       f"{low:g} to {high:g} {unit}{also}")


def test_the_filter_corner_of_the_issue(capsys):
    message = refused(["run", "cc-threshold", "--filter-khz", "1e308", "-o", "x.csv"], capsys)
    assert message == ("vrig: error: --filter-khz 1e308 is outside the allowed "
                       "0.1 to 100 kHz (or 0 for none)")


@pytest.mark.parametrize("window", ["0,1e400", "nan,5", "-inf,inf"])
def test_a_window_edge_that_is_not_finite_is_refused(window, capsys):
    message = refused(["analyze", "never-read.csv", f"--window1={window}"], capsys)
    bad = next(p for p in window.split(",") if not math.isfinite(float(p)))
    assert message == f"vrig: error: --window1 {bad} is not a finite number"
