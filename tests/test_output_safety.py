"""No command loses a file it did not write: where output may go, what --force may replace,
two runs into one folder, a killed run (its workers and temporary folders), read-only places,
and user text printed literally."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from simulation.reports.atomic import (
    OutputExistsError,
    _rename_noreplace,
    atomic_directory,
    clean_stale,
    reserve_output,
    written_by_secmig,
)
from tests.test_cli import SECMIG, secmig

# browsers, servers and CLI subprocesses: the slow tier (pytest -m slow)
pytestmark = pytest.mark.slow


TINY = """name: tiny
description: two years, for tests
period: {start: 2010, end: 2011}
replicates: 1
seed: 5
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stderr and "internal error" not in res.stderr, res.stderr


def _secmig_folder(path: Path) -> None:
    path.mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"secmig_version": "0"}))
    (path / "summary.json").write_text("{}")


# --- where output may go --------------------------------------------------------------------

@pytest.mark.parametrize("directory", ["/tmp/secmig-elsewhere", "../../x", "outputs/../../x",
                                       "results/x", "outputs"])
def test_file_directory_only_under_outputs(tmp_path, directory):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("precious")
    scen = write(tmp_path / "s.yaml", TINY + f"outputs:\n  directory: {directory}\n")
    res = secmig("run", str(scen), "--force", "--quiet", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    _no_traceback(res)
    assert f"{scen}:7: outputs.directory" in res.stderr and "--out" in res.stderr
    assert "allowed: a folder under outputs/" in res.stderr
    assert (victim / "keep.txt").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml", "victim"]


def test_force_never_replaces_a_file_or_a_foreign_folder(tmp_path):
    scen = write(tmp_path / "s.yaml", TINY)
    notes = write(tmp_path / "notes.txt", "my notes")
    res = secmig("run", str(scen), "--out", str(notes), "--force", "--quiet")
    assert res.returncode == 2 and "is a file" in res.stderr and str(notes) in res.stderr
    _no_traceback(res)
    assert notes.read_text() == "my notes"
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("chapter 1")
    for extra in ([], ["--force"]):
        res = secmig("run", str(scen), "--out", str(foreign), "--quiet", *extra)
        assert res.returncode == 2 and "did not write" in res.stderr, res.stderr
        _no_traceback(res)
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]
    link = tmp_path / "link"
    link.symlink_to(foreign)
    res = secmig("run", str(scen), "--out", str(link), "--force", "--quiet")
    assert res.returncode == 2 and "symbolic link" in res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "mine", "notes.txt",
                                                           "s.yaml"]


def test_file_directory_under_outputs_and_force_replaces_own_output(tmp_path):
    scen = write(tmp_path / "s.yaml", TINY + "outputs: {directory: outputs/sub/tiny}\n")
    first = secmig("run", str(scen), "--quiet", "--jobs", "1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "outputs" / "sub" / "tiny"
    assert written_by_secmig(out)
    again = secmig("run", str(scen), "--quiet", "--jobs", "1", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    forced = secmig("run", str(scen), "--quiet", "--jobs", "1", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert written_by_secmig(out)
    assert [p.name for p in out.parent.iterdir()] == ["tiny"]  # no lock, partial, old


# --- two runs into one folder -----------------------------------------------------------------

@pytest.mark.parametrize("force", [False, True])
def test_two_runs_into_one_folder(tmp_path, force):
    scen = write(tmp_path / "s.yaml", TINY.replace("replicates: 1", "replicates: 2"))
    out = tmp_path / "o"
    if force:
        _secmig_folder(out)
    extra = ["--force"] if force else []
    cmd = [SECMIG, "run", str(scen), "--out", str(out), "--quiet", "--jobs", "1", *extra]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.communicate()[1]) for p in procs]
    codes = sorted(rc for rc, _ in results)
    errors = "".join(err for _, err in results)
    assert codes == [0, 2], errors
    assert "another secmig process" in errors or "exists" in errors, errors
    assert "Traceback" not in errors
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 2 and written_by_secmig(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o", "s.yaml"]


def test_the_lock_refuses_a_second_writer(tmp_path):
    out = tmp_path / "o"
    with reserve_output(out) as tmp:
        assert tmp is not None and tmp.is_dir() and f".o.partial.{os.getpid()}." in tmp.name
        other = subprocess.run([sys.executable, "-c",
                                "from simulation.reports.atomic import reserve_output\n"
                                f"with reserve_output({str(out)!r}): pass"],
                               capture_output=True, text=True, timeout=60)
        assert other.returncode != 0 and "OutputBusyError" in other.stderr
        assert "another secmig process" in other.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_final_move_never_lands_on_something_new(tmp_path):
    out = tmp_path / "o"
    dst = tmp_path / "empty"
    src = tmp_path / "src"
    src.mkdir()
    dst.mkdir()
    with pytest.raises(FileExistsError):
        _rename_noreplace(src, dst)  # a plain rename would replace the empty folder
    assert src.is_dir()
    with pytest.raises(OutputExistsError), atomic_directory(out, force=True) as tmp:
        (tmp / "a.txt").write_text("new")
        out.mkdir()
        (out / "theirs.txt").write_text("theirs")  # someone else's folder appears
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "o", "src"]


# --- after a kill -----------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_clean_stale_removes_only_dead_processes_folders(tmp_path):
    out = tmp_path / "o"
    dead, alive = _dead_pid(), os.getpid()
    stale = tmp_path / f".o.partial.{dead}.abc"
    live = tmp_path / f".o.partial.{alive}.def"
    unknown = tmp_path / ".o.partial.xyz"
    other = tmp_path / f".p.partial.{dead}.abc"
    for p in (stale, live, unknown, other):
        p.mkdir()
    old = tmp_path / f".o.old.{dead}.123"
    old.mkdir()
    (old / "summary.json").write_text("{}")
    removed = clean_stale(out)
    assert sorted(removed) == sorted([stale, old])
    assert live.is_dir() and unknown.is_dir() and other.is_dir() and not stale.exists()
    # killed between the two moves: the old output is put back, not deleted
    assert (out / "summary.json").read_text() == "{}"


def test_sigkill_stops_workers_and_next_run_cleans_up(tmp_path):
    scen = write(tmp_path / "long.yaml", TINY.replace("replicates: 1", "replicates: 300"))
    out = tmp_path / "o"
    proc = subprocess.Popen([SECMIG, "run", str(scen), "--out", str(out), "--jobs", "2",
                             "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 60
    workers: list[psutil.Process] = []
    while time.time() < deadline and proc.poll() is None:
        workers = [c for c in parent.children(recursive=True)
                   if "spawn_main" in " ".join(c.cmdline())]
        if len(workers) >= 2:
            break
        time.sleep(0.2)
    assert len(workers) >= 2, proc.communicate()
    time.sleep(1)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    _gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not alive, f"workers still running after the parent was killed: {alive}"
    partials = [p for p in tmp_path.iterdir() if p.name.startswith(".o.partial.")]
    assert len(partials) == 1 and str(proc.pid) in partials[0].name
    # the next run into the same place removes the dead run's temporary folder
    write(scen, TINY)
    res = secmig("run", str(scen), "--out", str(out), "--quiet", "--jobs", "1")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml", "o"]


# --- read-only places -------------------------------------------------------------------------

def _read_only_place(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro / "out"
    if Path("/sys").is_dir() and not os.access("/sys", os.W_OK):
        return Path("/sys/secmig-out")
    probe = Path("/sys/secmig-probe")
    try:
        probe.mkdir()
    except OSError:
        return Path("/sys/secmig-out")
    probe.rmdir()
    pytest.skip("no read-only place to test as root")


def test_read_only_place_is_found_before_the_simulation(tmp_path):
    scen = write(tmp_path / "long.yaml", TINY.replace("replicates: 1", "replicates: 5000"))
    out = _read_only_place(tmp_path)
    t0 = time.time()
    res = secmig("run", str(scen), "--out", str(out), "--quiet", "--jobs", "1")
    assert res.returncode == 2, res.stderr
    _no_traceback(res)
    assert "cannot write" in res.stderr and str(out.parent) in res.stderr
    assert time.time() - t0 < 60  # 5000 replicates would take far longer
    assert not out.exists()


# --- literal messages -------------------------------------------------------------------------

def test_user_text_is_printed_literally(tmp_path):
    weird = tmp_path / "[bold]d:x:"
    weird.mkdir()
    bad = write(weird / "[red]s:x:.yaml", TINY + "bogus: 1\n")
    res = secmig("validate", str(bad))
    assert res.returncode == 2
    assert f"{bad}: 1 problem(s)" in res.stderr and f"{bad}:6: bogus" in res.stderr
    out = tmp_path / ":x: [bold]out[i]"
    out.mkdir()
    (out / "x").write_text("")
    res = secmig("run", str(write(tmp_path / "s.yaml", TINY)), "--out", str(out), "--quiet")
    assert res.returncode == 2 and str(out) in res.stderr and "❌" not in res.stderr
