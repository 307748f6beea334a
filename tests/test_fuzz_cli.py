"""Hostile command-line values: for every numeric option of run, compare, sweep and calibrate,
negative, zero, huge and non-numeric values exit with code 2 and a message naming the option
and what is allowed; never a traceback or an "internal error"."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from simulation.cli import main
from simulation.cli.parser import MAX_JOBS, MAX_POSTERIOR, MAX_REPLICATES, MAX_SEED
from tests.test_cli import secmig

# option -> (commands that have it, lowest allowed, highest allowed)
OPTIONS = {
    "--replicates": (("run", "compare"), 1, MAX_REPLICATES),
    "--seed": (("run", "compare", "calibrate"), 0, MAX_SEED),
    "--jobs": (("run", "compare", "sweep", "calibrate"), 1, MAX_JOBS),
    "--posterior": (("run", "compare"), 1, MAX_POSTERIOR),
    "--budget": (("calibrate",), 1, 1_000_000),
    "--check-replicates": (("calibrate",), 1, MAX_REPLICATES),
    "--check-draws": (("calibrate",), 1, MAX_POSTERIOR),
    "--coverage": (("calibrate",), 1, 1000),
}
CASES = [(cmd, opt) for opt, (cmds, _, _) in OPTIONS.items() for cmd in cmds]
FILES = {"run": ["s.yaml"], "compare": ["a.yaml", "b.yaml"], "sweep": ["w.yaml"],
         "calibrate": ["c.yaml"]}


def bad_values(low: int, high: int) -> st.SearchStrategy[str]:
    """Values an option must refuse: below/above the range, fractions, words, blanks."""
    return st.one_of(
        st.integers(max_value=low - 1).map(str),
        st.integers(min_value=high + 1, max_value=10**60).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["", " ", "abc", "1e3", "0x10", "1_000", "--", "½", "١٢", "None",
                         "[red]x[/]", ":x:", "3.0", "+-1", "9" * 5000]),
        st.text(min_size=1, max_size=12).filter(
            lambda t: not (t.strip().lstrip("+").isascii() and t.strip().lstrip("+").isdigit()
                           and low <= int(t.strip()) <= high)),
    )


def _refused(cmd: str, opt: str, value: str, capsys) -> str:
    with pytest.raises(SystemExit) as exc:
        main([cmd, *FILES[cmd], f"{opt}={value}", "--quiet"])
    err = capsys.readouterr().err
    assert exc.value.code == 2, (cmd, opt, value, err)
    assert f"argument {opt}: got " in err and "allowed: a whole number >= " in err, err
    assert "Traceback" not in err and "internal error" not in err
    return err


@pytest.mark.parametrize(("cmd", "opt"), CASES)
def test_each_option_refuses_bad_values(cmd, opt, capsys):
    low, high = OPTIONS[opt][1:]

    @settings(max_examples=25, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(value=bad_values(low, high))
    @example(value=str(low - 1))
    @example(value=str(high + 1))
    @example(value="-3")
    @example(value="١٢")
    def check(value: str) -> None:
        _refused(cmd, opt, value, capsys)

    check()


def test_the_message_reads_as_documented(capsys):
    err = _refused("run", "--jobs", "-3", capsys)
    assert "--jobs: got -3; allowed: a whole number >= 1" in err
    err = _refused("compare", "--replicates", "0", capsys)
    assert "--replicates: got 0; allowed: a whole number >= 1" in err
    err = _refused("run", "--posterior", "-1", capsys)
    assert "--posterior: got -1" in err


@pytest.mark.parametrize("value", ["", ".", "..", "/", "a/.."])
@pytest.mark.parametrize("cmd", ["run", "compare", "sweep", "calibrate"])
def test_out_must_name_a_folder(cmd, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main([cmd, *FILES[cmd], f"--out={value}"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "argument --out: got " in err and "allowed" in err


@pytest.mark.slow
def test_option_errors_are_not_blamed_on_the_file(tmp_path):
    """A value from the command line is checked before the scenario file is read: the
    message names the option, not a line of the file (real subprocess, as a user runs it)."""
    scen = tmp_path / "s.yaml"
    scen.write_text("name: s\nreplicates: 2\nseed: 1\n", encoding="utf-8")
    for opt, value in (("--seed", "-1"), ("--replicates", "0"), ("--replicates", "99999"),
                       ("--seed", str(2**64)), ("--jobs", "0"), ("--posterior", "0")):
        res = secmig("run", str(scen), opt, value, "--quiet", cwd=tmp_path)
        assert res.returncode == 2, res.stderr
        assert f"{opt}: got {value}" in res.stderr and str(scen) not in res.stderr
        assert "Traceback" not in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]
