"""Calibration: a posterior over the free parameters, from history matching with emulators.

1. Moments: register figures (``calibration/targets.yaml``) with tolerances; a simulated
   moment is the mean over R replicates that use the *same* seeds at every point (common random
   numbers), which makes it a smooth function of the parameters that a quadratic can emulate.
2. Waves (``history.py``): a scrambled Sobol design over the prior box; quadratic emulators
   (``emulator.py``); points whose emulated moments are implausibly far from the register
   (more than 3 sd of replicate noise + emulator error + model discrepancy) are ruled out; the
   next wave's points are drawn from what remains, and the emulators refitted there.
3. Posterior (``posterior.py``): the Gaussian likelihood with that covariance on the last
   emulators, sampled by an ensemble MCMC (emcee); the point estimate is the posterior mean.

Every model evaluation is appended to an evaluations log; a rerun replays the log instead of
simulating again, so an interrupted calibration resumes, and the same seed gives the same fit
whatever the number of workers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from simulation.calibration.evaluations import Evaluator
from simulation.calibration.history import Posterior, history_match
from simulation.calibration.spec import Spec


@dataclass
class Fit:
    """The outcome of a calibration: the posterior sample and its summaries."""

    spec: Spec
    theta: dict[str, float]  # posterior mean: the point estimate scenarios read
    draws: list[dict[str, float]]  # posterior draws
    cov: np.ndarray  # posterior covariance (of the draws)
    identification: dict[str, float]  # posterior sd / prior sd
    evaluations: int  # parameter points behind the posterior (all waves, replayed or not)
    posterior: Posterior
    history: list[dict[str, float]]
    seconds: dict[str, float] = field(default_factory=dict)  # simulating / the rest


def calibrate(spec: Spec, evaluator: Evaluator, budget: int | None = None,
              on_stage: Callable[[str], None] | None = None) -> Fit:
    """History matching, then the posterior sample; ``budget`` (parameter points in all
    waves) overrides the file's wave sizes."""
    t0, sim0 = time.perf_counter(), evaluator.seconds
    post = history_match(spec, evaluator, budget=budget, on_stage=on_stage)
    fit = summarise(spec, post, len(post.z))
    simulating = evaluator.seconds - sim0
    fit.seconds = {"simulating": simulating,
                   "emulators_and_sampler": time.perf_counter() - t0 - simulating}
    return fit


def summarise(spec: Spec, post: Posterior, evaluations: int) -> Fit:
    """Point estimate, draws and identification from a posterior on the unit cube."""
    width = spec.high - spec.low
    x = spec.values(post.chain.draws)  # the sampler keeps draws inside the unit cube
    mean = x.mean(axis=0)
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    prior_sd = width / math.sqrt(12)
    draws = [{n: float(v) for n, v in zip(spec.names, row, strict=True)} for row in x]
    ident = {n: float(math.sqrt(cov[i, i]) / prior_sd[i]) for i, n in enumerate(spec.names)}
    theta = {n: float(v) for n, v in zip(spec.names, mean, strict=True)}
    return Fit(spec, theta, draws, cov, ident, evaluations, post, post.history)
