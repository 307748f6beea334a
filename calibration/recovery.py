"""Full parameter-recovery check: can the calibration find known parameters again?

    python calibration/recovery.py [--budget 240] [--jobs 2]

Takes the fitted point estimate (calibration/fitted.yaml) as the truth, simulates every
target of calibration/targets.yaml at that truth with seeds the calibration never uses,
writes those as synthetic targets (same tolerances and weights) to
calibration/fit/recovery-full/targets.yaml, calibrates from the registry defaults, and
prints for each free parameter the truth, the estimate, the 90 % interval and whether the
interval covers the truth. (A CI-sized version is tests/test_calibration.py.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

import simulation
from simulation.calibration.spec import load_spec
from simulation.cli import main as secmig
from simulation.engine.randomness import replicate_seeds
from simulation.runs.ensemble import flatten

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=240)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    spec = load_spec(HERE / "targets.yaml")
    truth = simulation.calibrated(str(HERE / "fitted.yaml"))
    inputs = simulation.default_inputs(spec.start, spec.end)
    flats = [flatten(simulation.indicators(simulation.run(truth, s, inputs)))
             for s in replicate_seeds(spec.seed + 77_777, 8)]
    raw = yaml.safe_load((HERE / "targets.yaml").read_text(encoding="utf-8"))
    for target, moment in zip(raw["targets"], spec.moments, strict=True):
        target["value"] = float(np.nanmean([moment.simulated(f) for f in flats]))
        target["source"] = "synthetic: the model at calibration/fitted.yaml"
    raw["name"] = "recovery-full"
    out = HERE / "fit" / "recovery-full"
    out.mkdir(parents=True, exist_ok=True)
    (out / "targets.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    cmd = ["calibrate", str(out / "targets.yaml"), "--budget", str(args.budget),
           "--out", str(out), "--fitted", str(out / "fitted.yaml"), "--quiet"]
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    assert secmig(cmd) == 0
    fitted = yaml.safe_load((out / "fitted.yaml").read_text(encoding="utf-8"))
    covered = 0
    print(f"{'parameter':28s} {'truth':>9s} {'estimate':>9s} {'p5':>9s} {'p95':>9s}  covered")
    for name in spec.names:
        iv = fitted["intervals"][name]
        ok = iv["p5"] <= truth[name] <= iv["p95"]
        covered += ok
        print(f"{name:28s} {truth[name]:9.3f} {fitted['parameters'][name]:9.3f} "
              f"{iv['p5']:9.3f} {iv['p95']:9.3f}  {'yes' if ok else 'NO'}")
    print(f"{covered} of {len(spec.names)} 90 % intervals cover the truth")


if __name__ == "__main__":
    main()
