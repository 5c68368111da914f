r"""Monte Carlo kernels: real regressions, pruned and retrained, with exact population risk.

One *trial* draws a training sample :math:`(X, y)` with :math:`X \in \mathbb{R}^{n\times d}`,
a fresh independent sample :math:`(X', y')` of the same size, and then, for every model width
:math:`p` in a strictly increasing array ``widths`` (the width-:math:`p` model uses the columns
:math:`0..p-1`, so models are nested), it

1. fits :math:`\hat b = \arg\min_b \tfrac1n\|y - X_p b\|^2 + \lambda\|b\|^2`; for
   :math:`\lambda = 0` this is the minimum-norm least-squares solution :math:`X_p^+ y`
   (OLS for :math:`p < n`, the min-norm interpolator for :math:`p > n`);
2. prunes :math:`\hat b` to ``s`` nonzeros by magnitude (largest :math:`|\hat b_i|`), Hessian
   (largest :math:`\hat H_{ii}\hat b_i^2` with :math:`\hat H_{ii} = (X^\top X)_{ii}/n`),
   oracle (largest given ``oracle_score[i]``, ties to the lower index) and random (a
   uniformly random ``s``-subset);
3. retrains on the kept columns of magnitude, Hessian and oracle pruning, on :math:`(X', y')`
   ("fresh") and on :math:`(X, y)` ("same"), with the same :math:`\lambda`, and distills into
   the kept columns of magnitude and oracle pruning: least squares (min-norm, no ridge) on the
   dense model's labels :math:`X''_p\hat b` at ``M`` further unlabelled inputs :math:`X''`
   (``M = 0``: the population projection :math:`\Sigma_{SS}^{-1}\Sigma_{SP}\hat b`,
   docs/theory.rst §12);
4. evaluates every model exactly: for coefficients :math:`b` padded with zeros to length
   :math:`d`,

   .. math:: R(b) = c_0 - 2 b^\top q + b^\top \Sigma b,

   which for the linear Gaussian problem :math:`y = x^\top\beta + \sigma z`, :math:`x\sim
   N(0,\Sigma)` is :math:`E(y - x^\top b)^2` with :math:`c_0 = \sigma^2 + \beta^\top\Sigma\beta`
   and :math:`q = \Sigma\beta` (omitted features count automatically).

If :math:`p \le s` nothing is pruned: every pruned model and every same-data retrained model
is the dense model, the fresh retrained model is the dense fit on :math:`(X', y')`, and the
students are fitted on all ``p`` columns.

Samplers (``kind``), all driven by latent standard normals :math:`Z` and label noise :math:`e`
(validated descriptions: :class:`~dcprune.montecarlo.sampler.Sampler`):

- ``KIND_DIAGONAL``: :math:`x_j = \sqrt{\lambda_j} z_j`, :math:`y = x^\top\beta + \sigma e`
  (``scale`` :math:`= \sqrt\lambda`, ``label_vec`` :math:`=\beta`);
- ``KIND_FACTOR``: :math:`x = L z`, :math:`\Sigma = LL^\top`, :math:`y = x^\top\beta+\sigma e`
  (``mixing`` :math:`= L`, ``label_vec`` :math:`=\beta`);
- ``KIND_RELU``: random features :math:`x = \mathrm{ReLU}(W g)`, :math:`g\sim N(0, I_D)`,
  :math:`y = (\theta^\top g)^2 + \sigma e` (``mixing`` :math:`= W`, ``label_vec``
  :math:`=\theta`); the caller supplies :math:`c_0, q, \Sigma` of the equivalent problem
  (docs/theory.rst §7).

Two options of diagonal runs (docs/theory.rst §11): Gaussian coefficients, a new
:math:`\beta_j \sim N(0, v_j)` per trial (then :math:`c_0`, :math:`q` and the oracle's
saliency are that trial's), and quantization: each trial also quantizes its dense fit and its
magnitude-kept weights with the real quantizer and clip rule
(:mod:`~dcprune.montecarlo.quantized`), four more columns per width.

Layers. Numba kernels cannot validate their inputs or raise inside ``prange``, and a Python
wrapper per kernel call would cost a check per batch, so the code has three layers: ``@njit``
kernels on plain, already valid arrays (the draws of :mod:`~dcprune.montecarlo.draws`,
:func:`sample_trial`; the stages :func:`transpose_gram`, :func:`fit_widths`,
:func:`prune_sets`, :func:`retrain`, :func:`~dcprune.montecarlo.students.fit_students`,
built on :func:`fit_subset`, :func:`top_s`, :func:`risk`, the fits and dense algebra coming
from :mod:`~dcprune.montecarlo.linalg`; :func:`trial_models` composing them, and
:func:`quantized_models`), the ``parallel=True`` driver :func:`simulate_trials` (``prange``
over trials, one output slot per trial), and the Python layer, which validates once
(:func:`prepare`, returning a :class:`Job` that runs any range of trials) and runs with BLAS
pinned to one thread while the trials run in parallel (:func:`run`,
:func:`~dcprune.montecarlo.runtime.trial_threads`).

Reproducibility: each trial reseeds Numba's generator with :func:`trial_seed`\ ``(seed,
trial)`` before drawing anything (:mod:`~dcprune.montecarlo.draws`), so a trial's numbers
depend only on ``(seed, trial)`` and not on which thread runs it or how many threads there are.

Numerics: fits solve normal or dual equations by Cholesky on a Gram matrix, check its
condition, refine, and fall back to SVD, flagging the width (:mod:`~dcprune.montecarlo.linalg`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit, prange

from ..quantities import MEASURED
from .draws import (
    draw_latent,
    draw_samples,
    features,
    fmix32,
    inputs,
    random_subsets,
    sample_gaussian_trial,
    sample_trial,
    trial_seed,
)
from .linalg import COND_LIMIT, dot, fit_subset, fit_widths, risk
from .quantized import QUANTIZED_COLUMNS, quantization_spec, quantized_models, quantized_risk
from .runtime import check_threads, trial_threads
from .sampler import KIND_DIAGONAL, KIND_FACTOR, KIND_RELU, Sampler, real_array
from .students import fit_students, unlabelled_count

__all__ = [
    "QUANTITIES",
    "KIND_DIAGONAL",
    "KIND_FACTOR",
    "KIND_RELU",
    "COND_LIMIT",
    "trial_seed",
    "fmix32",
    "draw_latent",
    "inputs",
    "features",
    "random_subsets",
    "sample_trial",
    "fit_widths",
    "fit_subset",
    "top_s",
    "risk",
    "prune_sets",
    "retrain",
    "transpose_gram",
    "trial_models",
    "trial_kernel",
    "quantized_risk",
    "quantized_models",
    "QUANTIZED_COLUMNS",
    "sample_gaussian_trial",
    "draw_samples",
    "simulate_trials",
    "quantization_spec",
    "Job",
    "prepare",
    "run",
]

QUANTITIES = MEASURED  # the column order of every kernel's output
# Column offsets in the output: pruned, fresh-retrained and same-data-retrained blocks are each
# ordered (magnitude, hessian, oracle), the distilled block (magnitude, oracle). Literals, not
# looked up, because compiled kernels are cached by this file alone; the check below fails at
# import if dcprune.quantities changes the order without this file following.
_DENSE, _PRUNED, _RANDOM, _FRESH, _DISTILL, _SAME = 0, 1, 4, 5, 8, 10
_RULES3 = ("magnitude", "hessian", "oracle")
if MEASURED != ("dense", *_RULES3, "random", *(f"{r}_retrain" for r in _RULES3), "magnitude_distill",
                "oracle_distill", *(f"{r}_retrain_same" for r in _RULES3)):  # pragma: no cover
    raise ImportError("dcprune.quantities.MEASURED changed: update the kernels' column offsets")
# The kept sets of prune_sets that distillation uses: magnitude's and the oracle's.
_DISTILLED_SETS = (0, 2)
_QCOLUMNS = len(QUANTIZED_COLUMNS)

# --------------------------------------------------------------------------------------------
# Pruning and risk
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def top_s(score, s):
    """Indices (ascending) of the ``s`` largest entries of ``score``; ties go to the lower index."""
    order = np.argsort(-score, kind="mergesort")  # stable: equal scores keep index order
    return np.sort(order[:s])


# --------------------------------------------------------------------------------------------
# One trial, and the parallel driver
# --------------------------------------------------------------------------------------------


@njit(cache=True)
def prune_sets(B, widths, s, hdiag, oracle_score):
    """Kept sets of magnitude, Hessian and oracle pruning of the dense fits ``B`` (rows as in
    :func:`fit_widths`): ``kept[wi, k, :]`` for strategy ``k`` in that order, ascending.

    Scores are ``|b_i|``, ``hdiag[i]·b_i²`` and ``oracle_score[i]`` over ``i < p``. For widths
    ``p ≤ s`` nothing is pruned and every strategy keeps ``0..p-1`` (padded with -1). Shape
    ``(len(widths), 3, min(s, widths[-1]))``.
    """
    nw = widths.shape[0]
    kept = np.full((nw, 3, min(s, widths[-1])), -1, np.int64)
    score = np.empty(widths[-1])
    for wi in range(nw):
        p = widths[wi]
        if p <= s:
            for k in range(3):
                kept[wi, k, :p] = np.arange(p)
            continue
        b = B[wi, :p]
        for k in range(3):
            for j in range(p):
                if k == 0:
                    score[j] = abs(b[j])
                elif k == 1:
                    score[j] = hdiag[j] * b[j] * b[j]
                else:
                    score[j] = oracle_score[j]
            kept[wi, k] = top_s(score[:p], s)
    return kept


@njit(cache=True)
def retrain(Xt, y, G, ridge, kept, sizes, c0, q, cov_diag, cov, flags, fits):
    """Risks ``(len(sizes), 3)`` of the least-squares refits on ``kept[wi, k, :sizes[wi]]``.

    ``kept`` as from :func:`prune_sets`; rows with ``sizes[wi] == 0`` are skipped (NaN). Fits
    on the sample ``Xt = Xᵀ``, ``y`` (``G = XᵀX`` as in :func:`fit_subset`). A refit depends
    only on its kept set, so a set equal to the latest set of any strategy (at this width or
    the previous one; e.g. the oracle's, which rarely changes) reuses that fit.
    ``flags[wi] = 1`` if a fit was ill-conditioned; ``fits[wi] +=`` the number of fits done.
    """
    nw = sizes.shape[0]
    risks = np.full((nw, 3), np.nan)
    kmax = kept.shape[2]
    slot = np.empty((3, kmax), np.int64)  # latest set of each strategy ...
    slot_size = np.zeros(3, np.int64)  # ... its size (0: none yet), risk and flag
    slot_risk = np.empty(3)
    slot_flag = np.zeros(3, np.int64)
    bs = np.empty(kmax)
    for wi in range(nw):
        size = sizes[wi]
        if size == 0:
            continue
        for k in range(3):
            idx = kept[wi, k, :size]
            src = -1
            for j in range(3):
                if slot_size[j] == size and np.array_equal(slot[j, :size], idx):
                    src = j
                    break
            if src < 0:
                slot_flag[k] = fit_subset(Xt, idx, y, ridge, G, bs[:size])
                slot_risk[k] = risk(idx, bs[:size], c0, q, cov_diag, cov)
                fits[wi] += 1
            elif src != k:
                slot_risk[k], slot_flag[k] = slot_risk[src], slot_flag[src]
            slot[k, :size] = idx
            slot_size[k] = size
            risks[wi, k] = slot_risk[k]
            if slot_flag[k]:
                flags[wi] = 1
    return risks


@njit(cache=True)
def transpose_gram(X, pmax, gram):
    """``(Xt, G)``: ``Xt = X[:, :pmax]ᵀ`` (contiguous) and ``G = Xt Xtᵀ`` if ``gram``, else 0×0."""
    Xt = np.ascontiguousarray(X[:, :pmax].T)
    G = np.dot(Xt, Xt.T) if gram else np.empty((0, 0))
    return Xt, G


@njit(cache=True)
def trial_models(X, y, X2, y2, rand_keep, X3, widths, s, ridge, oracle_score, c0, q, cov_diag, cov,
                 out, flags):
    """Fit, prune, retrain, distill and evaluate one trial (deterministic given its samples):
    ``(fits, B, kept)``, with the dense fits ``B`` and the kept sets ``kept`` (rows as in
    :func:`fit_widths` and :func:`prune_sets`) that the quantizers start from
    (:func:`quantized_models`).

    ``X, y``: training sample (n×d, n); ``X2, y2``: fresh sample; ``rand_keep``: random subsets
    from :func:`random_subsets`; ``X3``: the unlabelled inputs of distillation (M×d; 0×d for
    the population projection); ``out`` (len(widths)×len(QUANTITIES)) ← risks in the order of
    ``QUANTITIES``; ``flags`` (len(widths), int8) ← 1 where any fit of that width was
    ill-conditioned (SVD fallback). ``c0, q, cov_diag, cov`` as in :func:`risk`. Returns the
    number of least-squares fits per width (dense fit included), a measure of the work done.

    Stages: :func:`transpose_gram` (every sample), :func:`fit_widths`, :func:`prune_sets`,
    :func:`retrain` (fresh sample, then same sample), :func:`~dcprune.montecarlo.students.fit_students`,
    :func:`risk` of every model.
    """
    n = X.shape[0]
    nw = widths.shape[0]
    pmax = widths[-1]
    # Every Gram block a primal fit needs is a sub-matrix of XᵀX; primal fits happen when a
    # dense width or the pruned size is at most n.
    gram = widths[0] <= n or s <= n
    Xt, G = transpose_gram(X, pmax, gram)
    Xt2, G2 = transpose_gram(X2, pmax, gram)
    hdiag = np.empty(pmax)
    for j in range(pmax):
        hdiag[j] = dot(Xt[j], Xt[j]) / n
    flags[:] = 0
    fits = np.ones(nw, np.int64)
    B = np.zeros((nw, pmax))
    fit_widths(Xt, y, widths, ridge, G, B, flags)
    kept = prune_sets(B, widths, s, hdiag, oracle_score)
    # Fresh refits for every width (for p <= s: the dense fit on the fresh sample); same-data
    # refits only where something was pruned (for p <= s they are the dense model itself).
    fresh_sizes = np.minimum(widths, s)
    same_sizes = np.where(widths > s, s, 0)
    fresh = retrain(Xt2, y2, G2, ridge, kept, fresh_sizes, c0, q, cov_diag, cov, flags, fits)
    same = retrain(Xt, y, G, ridge, kept, same_sizes, c0, q, cov_diag, cov, flags, fits)
    # The students' Gram blocks are sub-matrices of X3ᵀX3 when they have at most M columns.
    Xt3, G3 = transpose_gram(X3, pmax, X3.shape[0] > 0 and min(widths[0], s) <= X3.shape[0])
    students = fit_students(B, widths, s, kept, _DISTILLED_SETS, Xt3, G3, cov, flags, fits)
    for wi in range(nw):
        p = widths[wi]
        b = B[wi, :p]
        dense = risk(np.arange(p), b, c0, q, cov_diag, cov)
        out[wi, _DENSE] = dense
        out[wi, _FRESH : _FRESH + 3] = fresh[wi]
        size = min(p, s)
        for j in range(2):
            idx = kept[wi, _DISTILLED_SETS[j], :size]
            out[wi, _DISTILL + j] = risk(idx, students[wi, j, :size], c0, q, cov_diag, cov)
        if p <= s:
            out[wi, _PRUNED : _PRUNED + 3] = dense
            out[wi, _RANDOM] = dense
            out[wi, _SAME : _SAME + 3] = dense
            continue
        for k in range(3):
            idx = kept[wi, k, :s]
            out[wi, _PRUNED + k] = risk(idx, b[idx], c0, q, cov_diag, cov)
            out[wi, _SAME + k] = same[wi, k]
        idx = rand_keep[wi, :s]
        out[wi, _RANDOM] = risk(idx, b[idx], c0, q, cov_diag, cov)
    return fits, B, kept


@njit(cache=True)
def trial_kernel(X, y, X2, y2, rand_keep, X3, widths, s, ridge, oracle_score, c0, q, cov_diag, cov,
                 out, flags):
    """Fit, prune, retrain, distill and evaluate one trial: the number of least-squares fits per
    width of :func:`trial_models` (arguments and stages there)."""
    return trial_models(X, y, X2, y2, rand_keep, X3, widths, s, ridge, oracle_score, c0, q, cov_diag, cov,
                        out, flags)[0]


@njit(cache=True, parallel=True)
def simulate_trials(seed, first_trial, trials, kind, n, scale, mixing, label_vec, sigma, widths,
                    s, ridge, oracle_score, c0, q, cov_diag, cov, unlabelled, coef_sd, qspec, qclips):
    """Run trials ``first_trial .. first_trial + trials - 1`` in parallel: ``(values, flags)``.

    ``values[t]`` and ``flags[t]`` are :func:`trial_kernel` applied to
    :func:`sample_trial`\\ ``(seed, first_trial + t, ...)``: each iteration writes only its own
    slot, and its random stream is reseeded from the trial's number, so results depend neither
    on the threads nor on how a run is split into batches.

    ``coef_sd`` (diagonal samplers; empty: the fixed ``label_vec``): Gaussian coefficients, a
    new ``β`` per trial (:func:`sample_gaussian_trial`), with ``q = λβ``, ``c0 = σ² + βᵀq`` and
    the oracle's saliency ``λβ²`` of that β. ``qspec`` and ``qclips`` (:func:`quantized_models`;
    ``bits = 0``: none): four more columns per width, after ``QUANTITIES``, and, for stochastic
    rounding, uniforms drawn from the trial's stream after its samples.
    """
    nw = widths.shape[0]
    pmax = widths[-1]
    quantized = qspec[0] > 0
    values = np.empty((trials, nw, len(QUANTITIES) + (_QCOLUMNS if quantized else 0)))
    flags = np.zeros((trials, nw), np.int8)
    for t in prange(trials):
        # prange indices are unsigned; one integer type avoids a second compilation
        trial = first_trial + np.int64(t)
        if coef_sd.shape[0] > 0:
            X, y, X2, y2, rand_keep, X3, beta = sample_gaussian_trial(seed, trial, coef_sd, n, scale, sigma, widths,
                                                                      s, unlabelled)
            q_t = cov_diag * beta
            c0_t = sigma * sigma + dot(q_t, beta)
            oracle_t = q_t * beta
        else:
            X, y, X2, y2, rand_keep, X3 = sample_trial(seed, trial, kind, n, scale, mixing, label_vec, sigma, widths,
                                                       s, unlabelled)
            q_t, c0_t, oracle_t = q, c0, oracle_score
        _, B, kept = trial_models(X, y, X2, y2, rand_keep, X3, widths, s, ridge, oracle_t, c0_t, q_t, cov_diag,
                                  cov, values[t], flags[t])
        if quantized:
            if qspec[3] > 0:
                uniforms = np.random.random((nw, pmax + s))
            else:
                uniforms = np.zeros((nw, pmax + s))
            quantized_models(B, kept, widths, s, qspec, qclips, uniforms, c0_t, q_t, cov_diag, cov,
                             values[t][:, len(QUANTITIES):])
    return values, flags


# --------------------------------------------------------------------------------------------
# Python layer: validate once, then run any range of trials
# --------------------------------------------------------------------------------------------


def _integer(name, val, low):
    if not isinstance(val, (int, np.integer)) or isinstance(val, bool):
        raise ValueError(f"{name} must be an integer, got {val=}")
    if val < low:
        raise ValueError(f"{name} must be >= {low}, got {val=}")
    return int(val)


@dataclass(frozen=True, eq=False)
class Job:
    """A validated Monte Carlo job: a sampler and the models; :meth:`trials` runs any trials.

    Build it with :func:`prepare`. Run :meth:`trials` inside
    :func:`~dcprune.montecarlo.runtime.trial_threads` (BLAS pinned to one thread).
    """

    sampler: Sampler
    n: int
    widths: np.ndarray
    s: int
    seed: int
    ridge: float
    oracle_score: np.ndarray
    #: Unlabelled inputs of distillation per trial; 0: the population projection.
    unlabelled: int = 0
    coef_sd: np.ndarray = field(default_factory=lambda: np.empty(0))
    qspec: np.ndarray = field(default_factory=lambda: np.zeros(4))
    qclips: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    @property
    def columns(self) -> int:
        """Values per width and trial: ``QUANTITIES``, then ``QUANTIZED_COLUMNS`` if quantized."""
        return len(QUANTITIES) + (_QCOLUMNS if self.qspec[0] > 0 else 0)

    def trials(self, first: int, count: int):
        """``(values, flags)`` of trials ``first .. first + count − 1`` (:func:`simulate_trials`)."""
        sp = self.sampler
        return simulate_trials(self.seed, int(first), int(count), sp.kind, self.n, sp.scale,
                               sp.mixing, sp.label_vec, sp.sigma, self.widths, self.s, self.ridge,
                               self.oracle_score, sp.c0, sp.q, sp.cov_diag, sp.cov, self.unlabelled,
                               self.coef_sd, self.qspec, self.qclips)


def prepare(sampler: Sampler, *, n, widths, s, seed, ridge=0.0, oracle_score=None, unlabelled=None,
            coef_sd=None, quantization=None, clips=None) -> Job:
    r"""Validate a run of ``sampler`` (a :class:`~dcprune.montecarlo.sampler.Sampler`) once.

    ``widths``: strictly increasing ints in ``[1, d]``; ``s``: pruned size (``>= 1``);
    ``ridge``: :math:`\lambda` of :math:`\tfrac1n\|y - Xb\|^2 + \lambda\|b\|^2`; ``seed``:
    integer in ``[0, 2**63)``; ``oracle_score`` (d,): defaults to ``sampler.oracle``;
    ``unlabelled``: the inputs ``M`` each trial's students are fitted on (``None`` or ``inf``:
    the population projection, docs/theory.rst §12). ``coef_sd`` (d,): Gaussian coefficients
    ``β_j ~ N(0, coef_sd_j²)``, a new draw per trial (diagonal samplers); ``quantization``: a
    :class:`dcprune.quantization.Quantization` whose quantized dense and magnitude-pruned models
    are measured too (diagonal samplers), with ``clips`` ``(len(widths), 2)`` the ranges of the
    ``optimal`` rule (the theory's, :func:`~dcprune.montecarlo.quantized.quantization_spec`).
    """
    n, s, seed = _integer("n", n, 1), _integer("s", s, 1), _integer("seed", seed, 0)
    unlabelled = unlabelled_count(unlabelled)
    if not seed < 2**63:
        raise ValueError(f"seed must be in [0, 2**63), got {seed=}")
    ridge = float(ridge)
    if not (np.isfinite(ridge) and ridge >= 0):
        raise ValueError(f"ridge must be finite and >= 0, got {ridge=}")
    d = sampler.d
    if oracle_score is None:
        if sampler.oracle is None:
            raise ValueError("this sampler has no default oracle score: pass oracle_score")
        oracle_score = sampler.oracle
    oracle_score = real_array("oracle_score", oracle_score, 1, d)
    given = np.asarray(widths)
    widths = np.ascontiguousarray(given.astype(np.int64))
    if (given.dtype.kind not in "iuf" or np.any(widths != given) or widths.ndim != 1
            or widths.size == 0 or widths[0] < 1 or widths[-1] > d or np.any(np.diff(widths) <= 0)):
        raise ValueError(f"widths must be strictly increasing integers in [1, {d}], got {given=}")
    if (coef_sd is not None or quantization is not None) and sampler.kind != KIND_DIAGONAL:
        raise ValueError("Gaussian coefficients and quantization are simulated for diagonal samplers only")
    coef_sd = np.empty(0) if coef_sd is None else real_array("coef_sd", coef_sd, 1, d)
    qspec, qclips = quantization_spec(quantization, widths.size, clips)
    return Job(sampler, n, widths, s, seed, ridge, oracle_score, unlabelled, coef_sd, qspec, qclips)


def run(sampler: Sampler, *, n, widths, s, trials, seed, ridge=0.0, oracle_score=None, threads=None,
        first_trial=0, unlabelled=None):
    r"""Monte Carlo of fit → prune → retrain and distill → exact risk; returns ``(values, flags)``.

    ``sampler``: a :class:`~dcprune.montecarlo.sampler.Sampler`; ``n, widths, s, seed, ridge,
    oracle_score, unlabelled`` as in :func:`prepare`; ``threads``: Numba threads for this call (default:
    current); ``first_trial``: number of the first trial, so that a run split into batches
    (``first_trial = 0, b, 2b, ...``) gives the same trials as one run.
    Returns ``values`` float64 ``(trials, len(widths), len(QUANTITIES))`` in the order of ``QUANTITIES``
    and ``flags`` int8 ``(trials, len(widths))``, 1 where a fit was ill-conditioned.
    Results depend only on ``(seed, trial number)`` and the problem, not on ``threads``.

    Example::

        >>> from dcprune.montecarlo.sampler import Sampler
        >>> sampler = Sampler.diagonal(np.ones(80), np.full(80, 0.1), sigma=0.5)
        >>> v, f = run(sampler, n=50, widths=[10, 40, 80], s=20, trials=4, seed=1)
        >>> v.shape, f.shape
        ((4, 3, 13), (4, 3))
    """
    trials = _integer("trials", trials, 1)
    first_trial = _integer("first_trial", first_trial, 0)
    threads = check_threads(threads)
    job = prepare(sampler, n=n, widths=widths, s=s, seed=seed, ridge=ridge, oracle_score=oracle_score,
                  unlabelled=unlabelled)
    with trial_threads(threads):
        return job.trials(first_trial, trials)
