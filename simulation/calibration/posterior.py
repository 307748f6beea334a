"""The likelihood of the register figures given the parameters, and samples from the posterior.

What separates a register figure t from the emulated model mean mu(theta) (``emulator.py``):

- replicate noise: the register is one realisation of the world, as one replicate is one of the
  model; covariance Sigma_rep of the moments, estimated from fresh replicates at a central
  point (``noise.py``);
- the noise of the simulations the emulator was fitted to: R replicates with common seeds at
  every design point, so their average carries Sigma_rep / R that no design can remove;
- the emulator's own error: its 5-fold cross-validated mean squared error per moment (diagonal);
- model discrepancy: what the model cannot represent (definitions that do not match, a
  mechanism left out). ASSUMPTION, stated in ``calibration/targets.yaml``
  (``posterior.discrepancy``): a standard deviation of that share of the target's tolerance,
  divided by sqrt(weight), independent across targets.

    t - mu(theta) ~ Normal(0, Sigma_rep (1 + 1/R) + diag(V_emulator) + diag(D))

The prior is uniform on the box of the free parameters (the unit cube here). The posterior is
sampled with emcee's ensemble sampler using differential-evolution moves, which follow the
ridges of equally good fits that a Gaussian approximation cuts off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import emcee
import numpy as np

from simulation.calibration.emulator import Emulator

CUT = 3.0  # implausibility cut-off (Pukelsheim's three-sigma rule, as in history matching)
WALL = 50.0  # log-density penalty per squared sd beyond the cut-off


@dataclass
class Likelihood:
    """A Gaussian likelihood of the targets around the emulated moments."""

    emulator: Emulator
    targets: np.ndarray  # register figures, one per moment
    cov: np.ndarray  # total covariance over the moments used
    used: np.ndarray  # indices of the moments with an emulator

    def __post_init__(self) -> None:
        # the inverse Cholesky factor, so each evaluation is one matrix product (LAPACK's
        # triangular solve cost milliseconds per call on small systems on a busy machine)
        self._whiten = np.linalg.inv(np.linalg.cholesky(self.cov))
        self._sd = np.sqrt(np.diag(self.cov))

    def residuals(self, z: np.ndarray) -> np.ndarray:
        return self.targets[self.used] - self.emulator.predict(z)[:, self.used]

    def both(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(chi2, implausibility) of each point, from one emulator evaluation: the Mahalanobis
        distance squared of the residuals, and the largest standardised residual over the
        moments (history matching's I)."""
        r = self.residuals(np.atleast_2d(z))
        w = self._whiten @ r.T
        return np.sum(w * w, axis=0), np.max(np.abs(r) / self._sd, axis=1)

    def chi2(self, z: np.ndarray) -> np.ndarray:
        return self.both(z)[0]

    def implausibility(self, z: np.ndarray) -> np.ndarray:
        return self.both(z)[1]


def likelihood(emulator: Emulator, targets: np.ndarray, rep_cov: np.ndarray,
               replicates: int, discrepancy_sd: np.ndarray) -> Likelihood:
    """Assemble the covariance described in the module docstring, over the emulated moments."""
    used = np.flatnonzero(emulator.defined)
    sub = np.ix_(used, used)
    cov = rep_cov[sub] * (1.0 + 1.0 / replicates)
    cov = cov + np.diag(emulator.variance[used] + discrepancy_sd[used] ** 2)
    return Likelihood(emulator, np.asarray(targets, float), cov, used)


def distinct(points: np.ndarray) -> np.ndarray:
    """The rows of ``points`` without repeats, in their first order. Walkers must start apart:
    two at the same place make the snooker move divide by zero."""
    _, first = np.unique(points, axis=0, return_index=True)
    return points[np.sort(first)]


@dataclass
class Chain:
    """Posterior (or tempered) draws on the unit cube, with the sampler's diagnostics."""

    draws: np.ndarray  # n x dim
    acceptance: float
    autocorr_steps: float  # integrated autocorrelation time (max over parameters), in steps
    walkers: int
    steps: int

    @property
    def effective_draws(self) -> float:
        return self.walkers * self.steps / max(self.autocorr_steps, 1.0)


def sample(like: Likelihood, n_draws: int, seed: int | np.random.SeedSequence,
           temperature: float = 1.0, nroy: bool = False, steps: int = 3000,
           start: np.ndarray | None = None,
           on_progress: Callable[[str], None] | None = None) -> Chain:
    """Draws from prior x likelihood^(1/temperature) on the unit cube, optionally held inside
    the not-ruled-out region (implausibility below CUT) by a steep wall. Reproducible for a
    seed.

    Walkers start at the best of ``start`` plus a space-filling set of candidates, so no
    starting point outside the region of good fits has to be guessed."""
    dim = like.emulator.dim
    walkers = max(4 * dim, 48)
    walkers += walkers % 2
    rng = np.random.default_rng(seed)

    def log_prob(z: np.ndarray) -> np.ndarray:
        z = np.atleast_2d(z)
        out = np.full(len(z), -np.inf)
        inside = np.all((z >= 0.0) & (z <= 1.0), axis=1)
        if inside.any():
            zi = z[inside]
            chi2, imp = like.both(zi)
            lp = -0.5 * chi2 / temperature
            if nroy:  # a steep wall at the cut-off, not a cliff: walkers that start outside
                # a small region are led into it instead of stalling at minus infinity
                excess = np.maximum(imp - CUT, 0.0)
                lp = lp - WALL * excess ** 2
            out[inside] = lp
        return out

    pool = rng.random((max(50 * walkers, 20_000), dim))
    if start is not None and len(start):
        pool = distinct(np.vstack([np.asarray(start, float), pool]))
    lp = log_prob(pool)
    order = np.argsort(-lp, kind="stable")
    init = pool[order[:walkers]]
    sampler = emcee.EnsembleSampler(walkers, dim, log_prob, vectorize=True,
                                    moves=[(emcee.moves.DEMove(), 0.8),
                                           (emcee.moves.DESnookerMove(), 0.2)])
    sampler.random_state = np.random.RandomState(int(rng.integers(2**31))).get_state()
    burn = steps // 2
    quiet = logging.getLogger("emcee.autocorr")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # a short chain's autocorrelation warning: we report tau
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            state = sampler.run_mcmc(init, burn, progress=False)
            if on_progress:
                on_progress(f"posterior sampler: burn-in of {burn} steps done")
            sampler.reset()
            sampler.run_mcmc(state, steps - burn, progress=False)
            tau = float(np.nanmax(sampler.get_autocorr_time(quiet=True)))
    finally:
        quiet.setLevel(level)
    chain = sampler.get_chain(flat=True)  # (steps x walkers) flattened step-major
    idx = np.linspace(0, len(chain) - 1, n_draws).round().astype(int)
    return Chain(chain[idx], float(np.mean(sampler.acceptance_fraction)), tau, walkers,
                 steps - burn)
