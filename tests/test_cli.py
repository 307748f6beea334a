"""The `secmig` command as a user runs it (a real subprocess of the installed script)."""

from __future__ import annotations

import json
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


def test_run_without_a_file_runs_the_builtin_baseline(tmp_path):
    out = secmig("run", "--quiet", "--replicates", "2", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "retention_7y" in out.stdout and "register" in out.stdout
    base = tmp_path / "outputs" / "baseline"
    for name in ("summary.json", "manifest.json", "scenario.resolved.yaml", "report.html",
                 "retention.csv", "municipalities.csv", "flows.csv", "yearly.csv"):
        assert (base / name).stat().st_size > 0, name
    for fig in ("retention", "destinations", "out_migration_shares", "concentration",
                "map_net_secondary_migration"):
        png = (base / "figures" / f"{fig}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, fig
    summary = json.loads((base / "summary.json").read_text())
    r7 = summary["indicators"]["retention_7y"]
    assert r7["p5"] <= r7["mean"] <= r7["p95"] and r7["register"] == 0.667
    assert 0.4 < r7["mean"] < 0.95
    munis = pd.read_csv(base / "municipalities.csv", dtype={"municipality": str})
    assert len(munis) == 357 and munis["municipality"].str.len().eq(4).all()
    ret = pd.read_csv(base / "retention.csv")
    assert {"all", "cohort", "household_type", "centrality", "county",
            "country_group"} <= set(ret["dimension"])
    assert {"share", "p5", "p95", "years_since_settlement", "group"} <= set(ret.columns)
    # no temporary directories are left beside the output
    assert [p.name for p in (tmp_path / "outputs").iterdir()] == ["baseline"]
    # a second run does not overwrite without --force, and leaves the first intact
    before = (base / "summary.json").read_bytes()
    again = secmig("run", "--quiet", "--replicates", "2", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert "Traceback" not in again.stderr
    assert (base / "summary.json").read_bytes() == before
