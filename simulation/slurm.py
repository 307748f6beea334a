"""Run a sweep on a Slurm cluster: dask-jobqueue submits Dask workers as batch jobs, and the
sweep runs on them exactly as on a laptop (same seeds per run, same rows, same resume).

    pip install 'secmig[cluster]'
    python -m simulation.slurm sweeps/morris-example.yaml --jobs 4 --cores 16 \\
        --memory 32GB --walltime 02:00:00 --account myproject --dry-run   # show the job script
    python -m simulation.slurm sweeps/morris-example.yaml --jobs 4 --cores 16 \\
        --memory 32GB --walltime 02:00:00 --account myproject            # submit and run

Run it on the login node (or inside a small driver job); if it stops, run it again: the
sweep resumes from what is written. For PBS, SGE or LSF use dask-jobqueue's PBSCluster etc.
the same way (see docs/sweeps.md).
"""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m simulation.slurm",
                                description="Run a secmig sweep on Slurm through "
                                            "dask-jobqueue (Dask workers as batch jobs).")
    p.add_argument("file", metavar="FILE", help="sweep YAML")
    p.add_argument("--jobs", type=int, default=2, help="batch jobs to submit (default 2)")
    p.add_argument("--cores", type=int, default=8,
                   help="cores per job = one single-threaded worker process per core")
    p.add_argument("--memory", default="16GB", help="memory per job (about 0.5 GB per core)")
    p.add_argument("--walltime", default="02:00:00", help="per job, HH:MM:SS")
    p.add_argument("--queue", help="Slurm partition")
    p.add_argument("--account", help="Slurm account/project")
    p.add_argument("--prologue", action="append", default=[],
                   help="shell line run before the worker starts, e.g. 'module load "
                        "Python/3.11' or 'source ~/secmig/.venv/bin/activate' (repeatable)")
    p.add_argument("--out", metavar="DIR", help="output folder (default outputs/sweeps/<name>)")
    p.add_argument("--dry-run", action="store_true",
                   help="print the batch script and stop (submits nothing)")
    return p


def make_cluster(args: argparse.Namespace):  # -> dask_jobqueue.SLURMCluster
    """A SLURMCluster whose jobs each run ``cores`` single-threaded worker processes."""
    try:
        from dask_jobqueue import SLURMCluster
    except ImportError:
        sys.exit("dask-jobqueue is not installed: pip install 'secmig[cluster]'")
    return SLURMCluster(cores=args.cores, processes=args.cores, memory=args.memory,
                        walltime=args.walltime, queue=args.queue, account=args.account,
                        job_name="secmig-sweep",
                        job_script_prologue=["export OMP_NUM_THREADS=1", *args.prologue],
                        scheduler_options={"dashboard_address": None})


def main(argv: list[str] | None = None) -> int:
    from simulation.cli import main as secmig
    from simulation.cli.console import USAGE_ERROR, err_console
    from simulation.inputs.yamlsource import InputError
    from simulation.sweeps.spec import load_sweep

    args = build_parser().parse_args(argv)
    try:
        load_sweep(args.file)  # bad input stops here, before anything is submitted
    except InputError as err:
        err_console.print(f"[red]error:[/] {len(err.problems)} problem(s) in the input; "
                          "nothing was submitted")
        for problem in err.problems:
            err_console.print(f"  {problem}", markup=False, highlight=False)
        return USAGE_ERROR
    cluster = make_cluster(args)
    try:
        print(cluster.job_script())
        if args.dry_run:
            return 0
        cluster.scale(jobs=args.jobs)
        print(f"submitted {args.jobs} jobs; scheduler {cluster.scheduler_address}",
              flush=True)
        extra = ["--out", args.out] if args.out else []
        return secmig(["sweep", args.file, "--scheduler", cluster.scheduler_address, *extra])
    finally:
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
