"""The `secmig` command as a user runs it (a real subprocess of the installed script)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

SECMIG = shutil.which("secmig") or str(Path(sys.executable).parent / "secmig")


def secmig(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SECMIG, *args], capture_output=True, text=True, cwd=cwd,
                          timeout=300)


def test_help_lists_commands():
    out = secmig("--help")
    assert out.returncode == 0
    assert "run" in out.stdout and "params" in out.stdout


def test_unknown_command_exits_2_without_traceback():
    out = secmig("rnu")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "invalid choice" in out.stderr


def test_params_lists_the_registry():
    out = secmig("params")
    assert out.returncode == 0
    assert "rights_years" in out.stdout and "dest_network_effect" in out.stdout
    csv = secmig("params", "--csv")
    assert csv.returncode == 0 and csv.stdout.startswith("name,group,default,low,high")


def test_run_without_arguments_writes_outputs(tmp_path):
    out = secmig("run", "--quiet", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "retention_7y" in out.stdout and "register" in out.stdout
    base = tmp_path / "outputs" / "baseline"
    for name in ("indicators.csv", "retention.csv", "municipalities.csv", "yearly.csv",
                 "moves.csv", "stocks.csv", "cohorts.csv", "municipality_yearly.csv"):
        assert (base / name).stat().st_size > 0, name
    png = (base / "figures" / "retention.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    ind = pd.read_csv(base / "indicators.csv")
    r7 = ind[ind["id"] == "retention_7y"].iloc[0]
    assert 0.4 < r7["simulated"] < 0.95 and r7["register"] == 0.667
    munis = pd.read_csv(base / "municipalities.csv", dtype={"municipality": str})
    assert len(munis) == 357 and munis["municipality"].str.len().eq(4).all()
    ret = pd.read_csv(base / "retention.csv")
    assert set(ret["dimension"]) == {"all", "cohort", "household_type", "centrality", "county",
                                     "country_group"}
    # no temporary directories are left beside the output
    assert [p.name for p in (tmp_path / "outputs").iterdir()] == ["baseline"]
