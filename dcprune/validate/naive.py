"""Slow, obviously correct NumPy versions of the Monte Carlo kernels (test oracles).

Each function restates one kernel of ``dcprune.montecarlo.kernels`` in the most direct way:
``numpy.linalg.lstsq`` per fit, ``argsort`` for pruning, the padded coefficient vector for
the risk. No work is shared between widths, models or strategies. The tests compare the
kernels with these functions, and ``validation/bench_montecarlo.py`` times them as the
baseline of its speedup.

The math, for one trial:

- Samples: ``n`` rows ``x`` with labels ``y``, one of three kinds: ``x = sqrt(λ) ⊙ z`` or
  ``x = L z`` (``z ~ N(0, I)``) with ``y = xᵀβ + σe``; or random features ``x = ReLU(W g)``
  (``g ~ N(0, I_D)``) with ``y = (θᵀg)² + σe``; ``e ~ N(0, 1)``. A second, independent
  sample ``(X₂, y₂)`` of the same size serves fresh retraining.
- Fit on columns ``S``: ``b = argmin_b (1/n)‖y − X_S b‖² + ridge·‖b‖²``, the minimum-norm
  solution when ``ridge = 0`` (several minimizers when ``|S| > n``).
- Width ``p``: the dense model is the fit on the first ``p`` columns. If ``p ≤ s`` nothing is
  pruned, so every pruned and same-data value equals the dense risk and fresh retraining is
  the fit on ``X₂``'s first ``p`` columns. Otherwise each rule scores the ``p`` coordinates —
  magnitude ``|b_j|``, Hessian ``H_jj b_j²`` with ``H_jj = (1/n) Σ_i X_ij²``, oracle a given
  score — and keeps the ``s`` largest (ties to the lower index); the pruned model keeps ``b``
  on them, fresh retraining refits them on ``(X₂, y₂)``, same-data retraining on ``(X, y)``.
  Random pruning keeps ``b`` on ``s`` given coordinates, without retraining.
- Distillation into the kept columns ``S`` of magnitude and oracle pruning (all ``p`` columns
  when ``p ≤ s``): the min-norm least-squares fit on ``S`` of the dense model's labels
  ``X₃[:, :p] b`` at unlabelled inputs ``X₃``, or, without them, the population projection
  ``Σ_SS⁺ Σ_{S,:p} b`` (docs/theory.rst §12).
- Risk of a coefficient vector ``b`` (zero off its support): ``R(b) = E(y − xᵀb)² =
  c₀ − 2bᵀq + bᵀΣb`` with ``c₀ = E y²``, ``q = E[x y]``, ``Σ = E[x xᵀ]`` over a fresh
  sample; for the linear Gaussian problem (``c₀ = σ² + βᵀΣβ``, ``q = Σβ``) this is
  ``σ² + (b − β)ᵀΣ(b − β)``.
"""

import numpy as np

from dcprune.montecarlo.kernels import KIND_DIAGONAL, KIND_FACTOR, QUANTITIES


def naive_fmix32(h):
    """MurmurHash3's 32-bit finalizer with Python's unbounded integers."""
    m = 0xFFFFFFFF
    h &= m
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & m
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & m
    return h ^ (h >> 16)


def naive_features(kind, Z, e, scale, mixing, label_vec, sigma):
    """Rows ``x = sqrt(lam) ⊙ z``, ``x = L z`` or ``x = ReLU(W g)``, and their labels."""
    if kind == KIND_DIAGONAL:
        X = np.array([scale * z for z in Z])
        return X, X @ label_vec + sigma * e
    if kind == KIND_FACTOR:
        X = np.array([mixing @ z for z in Z])
        return X, X @ label_vec + sigma * e
    X = np.array([np.maximum(mixing @ g, 0.0) for g in Z])
    return X, np.array([(label_vec @ g) ** 2 for g in Z]) + sigma * e


def naive_fit(X, y, ridge):
    """``argmin (1/n)‖y − Xb‖² + ridge‖b‖²``, min-norm: lstsq (ridge as extra rows)."""
    n, p = X.shape
    if ridge == 0:
        return np.linalg.lstsq(X, y, rcond=None)[0]
    A = np.vstack([X, np.sqrt(n * ridge) * np.eye(p)])
    return np.linalg.lstsq(A, np.concatenate([y, np.zeros(p)]), rcond=None)[0]


def naive_top(score, s):
    """The ``s`` largest scores, ties to the lower index, as sorted indices."""
    return np.sort(np.argsort(-np.asarray(score), kind="stable")[:s])


def pad(idx, coef, d):
    b = np.zeros(d)
    b[idx] = coef
    return b


def naive_risk(b, c0, q, Sigma):
    """``c0 − 2 bᵀq + bᵀΣb`` for a full-length coefficient vector ``b``."""
    return c0 - 2 * b @ q + b @ Sigma @ b


def lgp_risk(b, beta, Sigma, sigma):
    """``E(y − xᵀb)² = σ² + (b − β)ᵀΣ(b − β)`` for the linear Gaussian problem."""
    r = b - beta
    return sigma**2 + r @ Sigma @ r


def naive_student(X3, Sigma, keep, p, b):
    """The distilled student on columns ``keep`` of the width-``p`` model ``b``: lstsq on the
    labels ``X3[:, :p] b``, or the population projection when ``X3`` has no rows."""
    if X3.shape[0] == 0:
        return np.linalg.pinv(Sigma[np.ix_(keep, keep)]) @ (Sigma[keep, :p] @ b)
    return naive_fit(X3[:, keep], X3[:, :p] @ b, 0.0)


def naive_trial(X, y, X2, y2, rand_keep, widths, s, ridge, oracle_score, c0, q, Sigma, X3):
    """All ``QUANTITIES`` for every width of one trial, each model fitted from scratch
    (``X3``: the unlabelled inputs of distillation, no rows for the population projection)."""
    n, d = X.shape
    col = {name: i for i, name in enumerate(QUANTITIES)}
    out = np.empty((len(widths), len(QUANTITIES)))

    def R(idx, coef):
        return naive_risk(pad(idx, coef, d), c0, q, Sigma)

    for wi, p in enumerate(widths):
        every = np.arange(p)
        b = naive_fit(X[:, :p], y, ridge)
        dense = R(every, b)
        if p <= s:
            out[wi] = dense
            fresh = R(every, naive_fit(X2[:, :p], y2, ridge))
            for name in ("magnitude", "hessian", "oracle"):
                out[wi, col[name + "_retrain"]] = fresh
            student = R(every, naive_student(X3, Sigma, every, p, b))
            for name in ("magnitude", "oracle"):
                out[wi, col[name + "_distill"]] = student
            continue
        out[wi, col["dense"]] = dense
        hdiag = (X[:, :p] ** 2).sum(axis=0) / n
        scores = {"magnitude": np.abs(b), "hessian": hdiag * b**2, "oracle": oracle_score[:p]}
        for name, score in scores.items():
            keep = naive_top(score, s)
            out[wi, col[name]] = R(keep, b[keep])
            out[wi, col[name + "_retrain"]] = R(keep, naive_fit(X2[:, keep], y2, ridge))
            out[wi, col[name + "_retrain_same"]] = R(keep, naive_fit(X[:, keep], y, ridge))
            if name != "hessian":
                out[wi, col[name + "_distill"]] = R(keep, naive_student(X3, Sigma, keep, p, b))
        keep = rand_keep[wi, :s]
        out[wi, col["random"]] = R(keep, b[keep])
    return out
