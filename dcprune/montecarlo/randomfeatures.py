r"""Monte Carlo of the real random-feature regression (docs/theory.rst §7), the check of its theory.

The theory (:func:`dcprune.families.randomfeatures.sweep_random_features`) replaces ReLU random features
by the equivalent linear Gaussian problem and averages its predictions over ``draws`` feature
matrices ``W``. This module runs the real thing on the *same* feature matrices: draw ``k`` uses
exactly the ``W`` and θ of :func:`dcprune.families.randomfeatures.equivalent_problem`\ ``(input_dim,
max(widths), activation, seed=(seed, k))``, and the width-``p`` model uses its first ``p`` rows
(nested widths, as in the theory's sweep). Each trial draws inputs :math:`g \sim N(0, I_D)`,
features :math:`x = \max(Wg, 0)` and labels :math:`y = (\theta^\top g)^2 + \sigma_e e`, fits
min-norm least squares (or ridge) at every width, prunes to ``s`` by magnitude, empirical
Hessian, oracle and random, retrains on fresh and on the same data, and evaluates every model's
population risk exactly,

.. math:: R(b) = c_0 - 2 b^\top q + b^\top\Sigma b,\qquad c_0 = E y^2,\ q = E[xy],\ \Sigma = E[xx^\top],

with the closed-form moments of the largest width (the width-``p`` model needs only their
leading blocks). The kernels are those of :mod:`dcprune.montecarlo.kernels` (``KIND_RELU``).

Oracle. The theory's oracle keeps the top ``s`` of :math:`\Sigma_{ii}\beta_i^2` with
:math:`\beta = \Sigma_p^{+} q_p` of the *width-p* equivalent problem, which is not the first
``p`` entries of the largest width's β. So each width is run with its own oracle score (one
kernel call per width and draw, on the leading ``p`` rows of ``W``). The samples do not depend
on the width: trial ``t`` draws the same inputs ``g`` (shape ``n × D``) in every call, so the
nested models of one trial are fitted on the same data, exactly as in one call over all widths.

Trials and seeds. ``trials`` are split evenly over the ``draws`` feature matrices (so each
``W`` carries the weight it has in the theory's average): trials ``k·m .. (k+1)·m − 1`` with
``m = trials/draws`` use draw ``k``, and trial ``t`` is seeded by ``(seed, t)`` as in
:func:`dcprune.montecarlo.kernels.run`. The reported mean is over all trials, that is the
equal-weight average over draws of each draw's mean, the Monte Carlo counterpart of the
theory's line. Its standard error is computed from the spread across *all* trials, so the
variation between draws of ``W`` is part of that spread (as it is in the theory's average over
draws). Given the ``draws`` fixed matrices that both sides share, that SE is conservative: it
includes a between-draw term that does not enter the difference between theory and Monte Carlo.
:meth:`RandomFeaturesSimulation.draw_means` gives the per-draw means for a stratified analysis.

What the comparison with the theory shows (``tests/test_rf_montecarlo.py``; D = 100, n = 200
and D = 50, n = 400, 600–1000 trials): dense and fresh-retrained risks agree to about 1–2%
(a Gaussian-equivalence bias that shrinks with n: dense OLS at p = n/4, D = n/2 is +1.95%,
+1.11%, +0.41%, +0.19% at n = 100, 200, 400, 800); magnitude pruning agrees up to p ≈ 1.5 n
for s = n/4 and n/2 but departs by 3–10% beyond (−7.1% at D = 100, n = 200, p = 3n, s = 50,
z = −13; from p ≈ 1.2 n already at s = n/8), a gap that does not shrink with size. Gaussian
features with the same Σ, β, σ² reproduce the theory there, and so do the real ReLU features
with a linear label plus independent noise: the
departure comes from the residual of y = (θᵀx)², uncorrelated with the features but not
independent of them. Same-data retraining is not what the theory predicts: mostly far above
the fresh prediction (+23% to +41% at D = 100, n = 200, s = 50; up to +120% near the peak at
s = 100), but 5% below it at D = 50, n = 400, s = 200, p = 3n.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..checks import finite_number, whole_number
from ..families import randomfeatures as rf_theory
from ..families.covariance import CovarianceProblem
from ..quantities import MEASURED as QUANTITIES
from . import kernels
from .batches import run_batches
from .runtime import memory_rows
from .sampler import Sampler
from .simulate import Trials
from .students import unlabelled_count

__all__ = ["random_feature_trials", "MC_ACTIVATIONS"]

#: Activations the Monte Carlo sampler implements (the kernels' ``KIND_RELU``).
MC_ACTIVATIONS = ("relu",)


def _check_widths(widths) -> np.ndarray:
    arr = np.asarray(widths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iuf":
        raise ValueError(f"widths must be a non-empty 1-D array of feature counts, got widths={widths!r}")
    counts = np.array([whole_number("width", w, 1) for w in arr], dtype=np.int64)
    if np.any(np.diff(counts) <= 0):
        raise ValueError(f"widths must be strictly increasing, got widths={counts.tolist()}")
    return counts


def random_feature_trials(
    input_dim: int,
    n: int,
    widths,
    s: int,
    *,
    activation: str = "relu",
    draws: int = 5,
    trials: int = 100,
    seed: int = 0,
    label_noise: float = 0.0,
    ridge: float = 0.0,
    threads: int | None = None,
    progress: Callable[[int], None] | None = None,
    feature_seed: int | None = None,
    unlabelled: float | None = None,
) -> Trials:
    r"""Per-trial values of ReLU random-feature regression over nested ``widths`` (docs/theory.rst §7).

    ``input_dim`` = D, ``n`` samples, ``widths`` strictly increasing feature counts ``p``,
    ``s`` kept nonzeros, ``label_noise`` = :math:`\sigma_e^2`, ``ridge`` = λ of
    :math:`\tfrac1n\|y - Xb\|^2 + \lambda\|b\|^2`. ``trials`` (a multiple of ``draws``) are
    split evenly over ``draws`` feature matrices, draw ``k`` being that of
    :func:`dcprune.families.randomfeatures.equivalent_problem`\ ``(input_dim, max(widths), activation,
    seed=(feature_seed, k))`` (``feature_seed`` defaults to ``seed``), the same as
    :func:`dcprune.families.randomfeatures.sweep_random_features` with the same ``draws`` and
    ``seed``. Means and standard errors are over all trials, so the
    spread includes the variation across draws (module docstring). ``progress(k)`` is called
    after each batch of ``k`` trials; ``unlabelled`` is distillation's ``M`` (``None``: the
    population projection). Only ``activation="relu"`` has a sampler. The sampler of
    :class:`dcprune.RandomFeatures` problems (run them with :func:`dcprune.montecarlo.simulate`).

    Example::

        >>> run = random_feature_trials(20, 40, [20, 60], 10, draws=2, trials=4, seed=1)
        >>> run.values.shape, run.draw.tolist()
        ((4, 2, 13), [0, 0, 1, 1])
    """
    if activation not in MC_ACTIVATIONS:
        raise ValueError(
            f"the Monte Carlo sampler supports activation='relu' only (features max(Wg, 0)), got "
            f"activation={activation!r}; the theory for other activations is "
            f"dcprune.families.randomfeatures.sweep_random_features"
        )
    input_dim = whole_number("input_dim", input_dim, 1)
    n = whole_number("n", n, 2)
    counts = _check_widths(widths)
    s = whole_number("s", s, 1)
    draws = whole_number("draws", draws, 1)
    trials = whole_number("trials", trials, 2)
    seed = whole_number("seed", seed, 0)
    feature_seed = seed if feature_seed is None else whole_number("feature_seed", feature_seed, 0)
    if trials % draws:
        raise ValueError(f"trials must be a multiple of draws, so that every feature draw has the weight "
                         f"it has in the theory's average, got trials={trials}, draws={draws}")
    label_noise = finite_number("label_noise", label_noise, nonnegative=True)
    ridge = finite_number("ridge", ridge, nonnegative=True)
    unlabelled = unlabelled_count(unlabelled)
    pmax = int(counts[-1])
    per_draw = trials // draws
    sigma = math.sqrt(label_noise)

    def parts():  # one per feature draw, built when reached (after run_batches' checks)
        for k in range(draws):
            rf = rf_theory.equivalent_problem(input_dim, pmax, activation, seed=(feature_seed, k),
                                              label_noise=label_noise)
            jobs = []
            for p in counts:
                # Each width's own oracle score, as in the theory: top s of Σ_ii β_i² of its
                # equivalent problem. The sampler uses the first p features of W; its moments
                # are the leading blocks of the draw's (rf.q, rf.Sigma).
                sub = rf.problem if p == pmax else CovarianceProblem.from_moments(rf.Sigma[:p, :p], rf.q[:p], rf.c0)
                sampler = Sampler.relu(rf.W[:p], rf.theta, c0=rf.c0, q=rf.q, Sigma=rf.Sigma, sigma=sigma)
                jobs.append(kernels.prepare(sampler, n=n, widths=[int(p)], s=s, seed=seed, ridge=ridge,
                                            oracle_score=np.diag(sub.Sigma) * sub.beta**2,
                                            unlabelled=unlabelled))

            def batch(first, count, jobs=jobs):  # every width on the same trials
                values = np.empty((count, len(jobs), len(QUANTITIES)))
                flags = np.empty((count, len(jobs)), np.int8)
                for j, job in enumerate(jobs):
                    values[:, j], flags[:, j] = (a[:, 0] for a in job.trials(first, count))
                return values, flags

            yield k * per_draw, (k + 1) * per_draw, batch

    # The latent inputs have D columns, the features pmax: bound the kernels' estimate by both.
    values, flags = run_batches(parts(), trials=trials, n_widths=len(counts), n=memory_rows(n, unlabelled),
                                d=max(pmax, input_dim), threads=threads, progress=progress)
    return Trials(values, flags, np.repeat(np.arange(draws), per_draw))
