"""The theory engine against independent references: docs/theory.rst §10, Hastie et al., sympy,
sampling of the DC, and quadrature."""

import math

import numpy as np
import pytest
from scipy import integrate, optimize, stats

import dcprune
from dcprune import exact
from dcprune.families.spectra import DiagonalProblem
from dcprune.quantities import PREDICTED as RISK_NAMES

# Tolerances, in one place.
REL_EXACT = 1e-12  # closed forms against exact/symbolic answers: only rounding separates them
REL_QUAD = 1e-8  # closed forms against adaptive quadrature (quad's own accuracy ~1e-10)
Z_MAX = 4.0  # sampling checks: |closed form − sample mean| <= 4 standard errors


def worked_example(sigma2=0.1):
    """docs/theory.rst §10: n = 200, p = 400, 40 coordinates with λ = 5."""
    lam = np.r_[np.full(40, 5.0), np.ones(360)]
    beta = np.r_[np.full(40, 3.0), np.ones(360)] / np.sqrt(400)
    return DiagonalProblem.from_arrays(lam, beta, sigma2)


def test_worked_example_asymptotic():
    problem = worked_example()
    dc = dcprune.solve_dc(problem, 200)
    risk = dcprune.predict_problem(problem, 200, 120)
    assert dc.zeta == pytest.approx(1.1495, abs=5e-5)
    assert dc.gamma == pytest.approx(1.0762, abs=5e-5)
    assert risk.dense.mean == pytest.approx(1.0762, abs=5e-5)
    assert risk.magnitude.mean == pytest.approx(1.2264, abs=5e-5)
    assert risk.hessian.mean == pytest.approx(1.2182, abs=5e-5)
    assert risk.oracle.mean == pytest.approx(1.2499, abs=5e-5)
    assert risk.magnitude_retrain.mean == pytest.approx(2.043, abs=5e-4)


def test_worked_example_finite_size():
    risk = dcprune.predict_problem(worked_example(), 200, 120, finite=True)
    assert risk.dense.mean == pytest.approx(1.0767, abs=5e-5)
    assert risk.magnitude.mean == pytest.approx(1.2269, abs=5e-5)
    assert risk.magnitude_retrain.mean == pytest.approx(2.059, abs=5e-4)


@pytest.mark.parametrize("kappa", [1.05, 1.5, 2.0, 3.7, 10.0, 100.0])
@pytest.mark.parametrize("sigma2", [0.0, 0.1, 2.0])
def test_isotropic_dense_matches_hastie(kappa, sigma2):
    """Σ = I, ‖β‖² = r²: γ − σ² = σ²/(κ−1) + r²(1 − 1/κ) (Hastie et al. 2019)."""
    r2 = 1.3
    setup = dcprune.Diagonal(dcprune.Isotropic(signal=r2), kappa=kappa, alpha=0.5, sigma2=sigma2)
    expected = sigma2 + sigma2 / (kappa - 1) + r2 * (1 - 1 / kappa)
    assert dcprune.predict(setup).risk.dense.mean == pytest.approx(expected, rel=REL_EXACT)


@pytest.mark.parametrize("kappa", [0.1, 0.5, 0.9])
def test_underparameterized_dense_is_ols(kappa):
    setup = dcprune.Diagonal(dcprune.Isotropic(), kappa=kappa, alpha=0.5, sigma2=0.3)
    assert dcprune.predict(setup).risk.dense.mean == pytest.approx(0.3 / (1 - kappa), rel=REL_EXACT)


@pytest.mark.parametrize("kappa", [1.2, 2.0, 5.0])
def test_isotropic_symbolic_agrees(kappa):
    sym = exact.isotropic(kappa, 0.1, 1).evalf(40)
    pred = dcprune.predict(dcprune.Diagonal(dcprune.Isotropic(), kappa=kappa, alpha=0.5, sigma2=0.1))
    assert pred.zeta == pytest.approx(float(sym.zeta), rel=REL_EXACT)
    assert pred.gamma == pytest.approx(float(sym.gamma), rel=REL_EXACT)


@pytest.mark.parametrize(
    "kappa,weight,lam1,lam2,b1,b2,sigma2",
    [
        (2.0, 0.1, 10.0, 1.0, 1.0, 1.0, 0.1),  # spiked covariance (unnormalized)
        (1.3, 0.4, 0.2, 3.0, -0.7, 1.9, 0.0),
        (6.0, 0.7, 50.0, 0.01, 0.3, 2.0, 1.0),
        (0.6, 0.5, 2.0, 1.0, 1.0, 0.5, 0.2),  # underparameterized
    ],
)
def test_two_atom_symbolic_agrees(kappa, weight, lam1, lam2, b1, b2, sigma2):
    sym = exact.two_atom(kappa, weight, lam1, lam2, b1, b2, sigma2).evalf(40)
    n = 1000.0
    d = kappa * n
    problem = DiagonalProblem(
        np.array([lam1, lam2]), np.array([b1, b2]) / math.sqrt(d), np.array([weight, 1 - weight]) * d, sigma2
    )
    dc = dcprune.solve_dc(problem, n)
    assert dc.converged
    if float(sym.zeta) == 0:
        assert dc.zeta == 0
    else:
        assert dc.zeta == pytest.approx(float(sym.zeta), rel=REL_EXACT)
    assert dc.gamma == pytest.approx(float(sym.gamma), rel=REL_EXACT)


@pytest.mark.parametrize("n,p", [(50, 20), (100, 97), (40, 80), (200, 1000)])
def test_isotropic_finite_size_is_exact(n, p):
    sym = exact.isotropic_finite(n, p, 0.2, 1.0).floats()
    problem = DiagonalProblem(np.ones(1), np.full(1, 1 / math.sqrt(p)), np.array([float(p)]), 0.2)
    assert dcprune.solve_dc(problem, n, finite=True).gamma == pytest.approx(sym.risk, rel=REL_EXACT)


def test_asymptotic_predictions_do_not_depend_on_scale():
    """The normalized form (§2) is scale free: Setup at n = 1 equals an explicit n = 10⁴."""
    spec = dcprune.SpikedCovariance()
    pred = dcprune.predict(dcprune.Diagonal(spec, kappa=2.5, alpha=0.2, sigma2=0.3))
    n = 1e4
    d = 2.5 * n
    problem = DiagonalProblem(
        np.array([10.0, 1.0]), np.array([1.0, 1.0]) / math.sqrt(d * 1.9) * 1.0, np.array([0.1, 0.9]) * d, 0.3
    )
    risk = dcprune.predict_problem(problem, n, 0.2 * d)
    for name in RISK_NAMES:
        assert risk[name].mean == pytest.approx(pred.risk[name].mean, rel=1e-10), name


# --- pruned risks: closed forms against quadrature and against sampling the DC ----------


def _quad_risk(problem, dc, s, rule, n):
    """Pruned risk by adaptive quadrature over each atom's Gaussian, threshold by brentq."""
    lam, beta, mult = problem.lam, problem.beta, problem.mult
    mean, sd = dc.mean, dc.sd
    w = np.ones_like(lam) if rule == "magnitude" else 1 / np.sqrt(lam)

    def keep_prob(a, t):
        inner = integrate.quad(stats.norm(mean[a], sd[a]).pdf, -t * w[a], t * w[a], epsabs=1e-14, epsrel=1e-13)[0]
        return 1 - inner

    t = optimize.brentq(lambda t: sum(mult[a] * keep_prob(a, t) for a in range(lam.size)) - s, 0, 50, xtol=1e-15)
    total = problem.sigma2
    for a in range(lam.size):
        dens = stats.norm(mean[a], sd[a]).pdf
        lo, hi = mean[a] - 12 * sd[a], mean[a] + 12 * sd[a]
        kept = 0.0
        for x0, x1 in ((lo, -t * w[a]), (t * w[a], hi)):
            if x1 > x0:
                kept += integrate.quad(lambda x: (x - beta[a]) ** 2 * dens(x), x0, x1, epsabs=1e-15, epsrel=1e-13)[0]
        total += mult[a] * lam[a] * (kept + beta[a] ** 2 * (1 - keep_prob(a, t)))
    return total


@pytest.mark.parametrize("finite", [False, True])
@pytest.mark.parametrize("rule", ["magnitude", "hessian"])
def test_threshold_rules_match_quadrature(rule, finite):
    problem = worked_example()
    dc = dcprune.solve_dc(problem, 200, finite=finite)
    risk = dcprune.predict_problem(problem, 200, 120, finite=finite)
    assert risk[rule].mean == pytest.approx(_quad_risk(problem, dc, 120, rule, 200), rel=REL_QUAD)


def _sample_dc_risks(problem, dc, s, rng, draws=1_000_000, batches=20):
    """Sample coordinates from the DC, prune them empirically, and average the risk.

    Each batch holds ``draws/batches`` coordinates in the atoms' proportions; the empirical
    top-``s`` share by |β̂| (MP) or λβ̂² (HP) replaces the threshold, so this also checks the
    count equation. Returns ``{rule: (mean, standard error)}`` over batches.
    """
    p = problem.p
    per = draws // batches
    counts = np.round(problem.mult / p * per).astype(int)
    lam = np.repeat(problem.lam, counts)
    beta = np.repeat(problem.beta, counts)
    mean = np.repeat(dc.mean, counts)
    sd = np.repeat(dc.sd, counts)
    keep_n = int(round(s / p * lam.size))
    out = {"magnitude": [], "hessian": [], "random": []}
    for _ in range(batches):
        x = mean + sd * rng.standard_normal(lam.size)
        scores = {"magnitude": np.abs(x), "hessian": lam * x**2, "random": rng.random(lam.size)}
        for rule, score in scores.items():
            kept = np.zeros(lam.size, bool)
            kept[np.argpartition(-score, keep_n)[:keep_n]] = True
            err = np.where(kept, x, 0.0) - beta
            out[rule].append(problem.sigma2 + p / lam.size * np.sum(lam * err**2))
    return {k: (np.mean(v), np.std(v, ddof=1) / np.sqrt(batches)) for k, v in out.items()}


@pytest.mark.parametrize(
    "spec,kappa,alpha,sigma2",
    [
        (dcprune.SpikedCovariance(), 2.0, 0.3, 0.1),
        (dcprune.SpikedIdentity(), 3.0, 0.1, 0.5),
        (dcprune.SpikedCovariance(spike_fraction=0.3, spike=4), 0.7, 0.5, 0.2),
    ],
)
def test_pruned_risks_match_sampling_the_dc(spec, kappa, alpha, sigma2):
    d = 1000.0
    lam, big_b, counts = spec.atoms(d, False)
    problem = DiagonalProblem(lam, big_b / math.sqrt(d), counts, sigma2)
    n = d / kappa
    s = alpha * d
    dc = dcprune.solve_dc(problem, n)
    risk = dcprune.predict_problem(problem, n, s)
    sampled = _sample_dc_risks(problem, dc, s, np.random.default_rng(7))
    for rule, (mean, se) in sampled.items():
        assert abs(risk[rule].mean - mean) <= Z_MAX * se, (rule, risk[rule].mean, mean, se)


def test_retraining_below_n_is_the_ols_formula():
    """s < n − 1: fresh retraining risk is σ_S² (n−1)/(n−s−1) with σ_S² the dropped energy."""
    problem = worked_example()
    risk = dcprune.predict_problem(problem, 200, 120, finite=True)
    # oracle keeps the 40 spikes (energy 40·5·9/400 = 4.5) and 80 bulk (80/400)
    dropped = 280 / 400
    assert risk.oracle_retrain.mean == pytest.approx((0.1 + dropped) * 199 / (200 - 120 - 1), rel=REL_EXACT)


def test_retraining_above_n_uses_min_norm_dc():
    """s > n: oracle + retraining is the dense DC of the top-s sub-problem."""
    problem = worked_example()
    s = 300
    risk = dcprune.predict_problem(problem, 200, s)
    sub = DiagonalProblem(problem.lam, problem.beta, np.array([40.0, 260.0]), 0.1 + 100 / 400)
    assert risk.oracle_retrain.mean == pytest.approx(dcprune.solve_dc(sub, 200).gamma, rel=REL_EXACT)


def test_random_pruning_closed_form():
    problem = worked_example()
    dc = dcprune.solve_dc(problem, 200)
    q = 120 / 400
    per_atom = q * ((dc.mean - problem.beta) ** 2 + dc.sd**2) + (1 - q) * problem.beta**2
    expected = 0.1 + np.sum(problem.mult * problem.lam * per_atom)
    assert dcprune.predict_problem(problem, 200, 120).random.mean == pytest.approx(expected, rel=REL_EXACT)


# --- edge cases ------------------------------------------------------------------------


def test_alpha_one_prunes_nothing():
    pred = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=1.0))
    for name in RISK_NAMES:
        assert pred.risk[name].mean == pytest.approx(pred.risk.dense.mean, rel=REL_EXACT), name


def test_widths_below_s_are_unpruned():
    setup = dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3)
    pred = dcprune.predict(setup, width=0.5)  # p = 0.5 n < s = 0.6 n
    for name in RISK_NAMES:
        assert pred.risk[name].mean == pytest.approx(pred.risk.dense.mean, rel=REL_EXACT), name


def test_noiseless_underparameterized_prunes_deterministically():
    """σ = 0, p < n: β̂ = β exactly, so MP keeps the largest |β| (the spikes) like the oracle."""
    setup = dcprune.Diagonal(dcprune.SpikedIdentity(), kappa=0.5, alpha=0.3, sigma2=0.0)
    pred = dcprune.predict(setup)
    assert pred.risk.dense.mean == 0.0
    assert pred.risk.magnitude.mean == pytest.approx(pred.risk.oracle.mean, rel=REL_EXACT)
    # keeps all spikes (energy 10·0.1/1.9) and 2/9 of the bulk: dropped = (0.9 − 0.2)/1.9
    assert pred.risk.magnitude.mean == pytest.approx(0.7 / 1.9, rel=REL_EXACT)
    assert all(math.isfinite(pred.risk[k].mean) for k in RISK_NAMES)


def test_interpolation_peak_is_infinite_with_reason():
    pred = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=1.0, alpha=0.3))
    assert math.isinf(pred.risk.dense.mean) and math.isinf(pred.risk.magnitude.mean)
    assert any("interpolation peak" in w for w in pred.warnings)
    # The keep rule has a limit at the peak, so retraining stays finite and continuous.
    near = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=1.0, alpha=0.3), width=1 - 1e-9)
    assert pred.risk.hessian_retrain.mean == pytest.approx(near.risk.hessian_retrain.mean, rel=1e-4)
    assert pred.to_dict()["risk"]["dense"] is None


@pytest.mark.parametrize("p", [199, 200, 201])
def test_finite_size_peak_band(p):
    problem = DiagonalProblem(np.ones(1), np.full(1, 0.05), np.array([float(p)]), 0.1)
    dc = dcprune.solve_dc(problem, 200, finite=True)
    assert math.isinf(dc.gamma) and "interpolation peak" in dc.message


@pytest.mark.parametrize("kappa", [1e3, 1e6, 1e9])
def test_far_above_the_peak_is_finite_and_matches_the_limit(kappa):
    # The peak band is |p − n| <= 1 in counts, whatever p is; p = 10¹² at n = 1000 is no peak.
    spec = dcprune.SpikedCovariance()
    finite = dcprune.predict(dcprune.Diagonal(spec, kappa=kappa, alpha=0.3, n=1000))
    limit = dcprune.predict(dcprune.Diagonal(spec, kappa=kappa, alpha=0.3))
    # s > n: same-data retraining is outside the heuristic's scope (docs/theory.rst §14), and says so.
    assert [w for w in finite.warnings if not w.startswith("risk.magnitude_retrain_same is NaN")] == []
    assert math.isnan(finite.risk.magnitude_retrain_same.mean)
    # The finite-n correction of the variance term is O(1/n) of it; the variance is O(n/p).
    assert finite.risk.dense.mean == pytest.approx(limit.risk.dense.mean, rel=1e-6)


def test_ridge_solves_its_equation_and_tends_to_min_norm():
    problem = worked_example()
    for ridge in (1e-3, 0.1, 2.0):
        dc = dcprune.solve_dc(problem, 200, ridge=ridge)
        c = problem.lam / (problem.lam + dc.zeta)
        assert ridge == pytest.approx(dc.zeta * (1 - np.sum(problem.mult * c) / 200), rel=1e-12)
    tiny = dcprune.solve_dc(problem, 200, ridge=1e-10)
    assert tiny.gamma == pytest.approx(dcprune.solve_dc(problem, 200).gamma, rel=1e-6)
    # Underparameterized ridge: ζ > 0 even though p < n.
    small = DiagonalProblem(problem.lam, problem.beta, problem.mult / 4, 0.1)
    assert dcprune.solve_dc(small, 200, ridge=0.1).zeta > 0


@pytest.mark.parametrize("ridge", [1e-300, 1e-100, 1e-20, 1e-6, 0.5])
def test_tiny_ridge_at_the_peak_is_resolved(ridge):
    """Σ = I, p = n, ‖β‖ = 1: ζ·ζ/(1+ζ) = λ, so ζ = (λ + sqrt(λ² + 4λ))/2 and
    γ = (σ² + (1−c)²)/(1 − c²) with c = 1/(1+ζ); the solver must track this down to
    λ = 1e-300, where 1 − c no longer survives as a difference of rounded numbers."""
    n, sigma2 = 200.0, 0.3
    problem = DiagonalProblem(np.array([1.0]), np.array([1.0 / math.sqrt(n)]), np.array([n]), sigma2)
    dc = dcprune.solve_dc(problem, n, ridge=ridge)
    zeta = (ridge + math.sqrt(ridge * ridge + 4.0 * ridge)) / 2.0
    comp = zeta / (1.0 + zeta)  # 1 − c
    gamma = (sigma2 + comp**2) / (comp * (2.0 - comp))  # (σ² + b₀)/(1 − c²), b₀ = ‖β‖²(1−c)² = (1−c)²
    assert dc.converged and dc.residual < 1e-12
    assert dc.zeta == pytest.approx(zeta, rel=REL_EXACT)
    assert dc.gamma == pytest.approx(gamma, rel=REL_EXACT)


@pytest.mark.parametrize("width", [0.6, 1.6, 2.0])
def test_tiny_ridge_away_from_the_peak_is_min_norm(width):
    setup = dict(spectrum=dcprune.SpikedCovariance(), kappa=2, alpha=0.3)
    tiny = dcprune.predict(dcprune.Diagonal(**setup, ridge=1e-300), width=width)
    plain = dcprune.predict(dcprune.Diagonal(**setup), width=width)
    # Same-data retraining's heuristic is for min-norm fits only (docs/theory.rst §14): with any
    # ridge it is NaN and says so, where the model is pruned.
    same = "magnitude_retrain_same"
    assert tiny.converged and [w for w in tiny.warnings if not w.startswith(f"risk.{same} is NaN")] == []
    for name in RISK_NAMES:
        if name == same and math.isnan(tiny.risk[name].mean):
            assert any("ridge > 0" in w for w in tiny.warnings)
            continue
        assert tiny.risk[name].mean == pytest.approx(plain.risk[name].mean, rel=1e-12), name


@pytest.mark.parametrize("exponent,kappa,alpha", [(0.8, 2.0, 0.2), (0.8, 0.5, 0.02), (0.7, 0.5, 0.05),
                                                   (0.3, 5.0, 0.3)])
def test_power_law_quadrature_is_converged(monkeypatch, exponent, kappa, alpha):
    """The asymptotic power law's quadrature agrees with 4x the nodes to 1e-6 relative."""
    from dcprune.families import powerlaw

    setup = dcprune.Diagonal(dcprune.PowerLaw(exponent=exponent), kappa=kappa, alpha=alpha)
    base = dcprune.sweep(setup, points=60)
    monkeypatch.setattr(powerlaw, "QUADRATURE_NODES", 4 * powerlaw.QUADRATURE_NODES)
    monkeypatch.setattr(powerlaw, "QUADRATURE_PANELS", 2 * powerlaw.QUADRATURE_PANELS)
    fine = dcprune.sweep(setup, points=60)
    # Near p = n the risk divides by 1 − p/n and any quadrature error is amplified by it,
    # so the 1e-6 claim is made away from the peak.
    far = np.abs(base.widths - 1) > 0.05
    for name in RISK_NAMES:
        a, b = base.mean(name)[far], fine.mean(name)[far]
        assert np.array_equal(np.isfinite(a), np.isfinite(b)), name
        ok = np.isfinite(b)
        assert np.allclose(a[ok], b[ok], rtol=1e-6, atol=0), name


def test_power_law_warns_beyond_tested_exponent():
    warned = dcprune.predict(dcprune.Diagonal(dcprune.PowerLaw(exponent=0.9), kappa=2, alpha=0.3))
    assert any("exponent" in w for w in warned.warnings)
    assert not dcprune.predict(dcprune.Diagonal(dcprune.PowerLaw(exponent=0.5), kappa=2, alpha=0.3)).warnings


def test_power_law_zeta_against_direct_integral():
    """κ ∫_0^1 Λ/(Λ+ζ) du = 1 with Λ = u^(−a), integrated directly by quad."""
    a, kappa = 0.5, 3.0
    pred = dcprune.predict(dcprune.Diagonal(dcprune.PowerLaw(exponent=a), kappa=kappa, alpha=0.5, sigma2=0.1))
    lhs = kappa * integrate.quad(lambda u: 1 / (1 + pred.zeta * u**a), 0, 1, epsabs=1e-14, epsrel=1e-13)[0]
    assert lhs == pytest.approx(1.0, rel=1e-10)


def test_finite_power_law_uses_exact_atoms():
    setup = dcprune.Diagonal(dcprune.PowerLaw(exponent=1.5), kappa=2, alpha=0.3, n=50)
    pred = dcprune.predict(setup)
    lam = (np.arange(1, 101) / 100.0) ** -1.5
    beta = np.full(100, 1 / np.sqrt(lam.sum()))
    direct = dcprune.predict_problem(DiagonalProblem.from_arrays(lam, beta, 0.1), 50, 30, finite=True)
    for name in RISK_NAMES:
        assert pred.risk[name].mean == pytest.approx(direct[name].mean, rel=1e-10), name


def test_user_spectrum_equals_standard_problem(tmp_path):
    d = 600
    lam = np.r_[np.full(60, 10.0), np.ones(540)]
    beta = np.ones(d) / np.sqrt(lam.sum())
    path = tmp_path / "spec.csv"
    np.savetxt(path, np.c_[lam, beta], delimiter=",", header="lambda,beta", comments="")
    npy = tmp_path / "spec.npy"
    np.save(npy, np.c_[lam, beta])
    for spec in (dcprune.load_spectrum(path), dcprune.load_spectrum(npy)):
        for n in (None, 300):
            ours = dcprune.predict(dcprune.Diagonal(spec, kappa=2, alpha=0.2, n=n))
            std = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.2, n=n))
            for name in RISK_NAMES:
                assert ours.risk[name].mean == pytest.approx(std.risk[name].mean, rel=1e-12)


def test_curve_rows_match_single_predictions():
    setup = dcprune.Diagonal(dcprune.SpikedIdentity(), kappa=2, alpha=0.3, n=100)
    c = dcprune.sweep(setup, points=30)
    for row in c.rows[::7]:
        single = dcprune.predict(setup, width=row.width)
        for name in RISK_NAMES:  # a NaN (not predicted) equals no number, its repr does
            assert repr(row.risk[name].mean) == repr(single.risk[name].mean)


def test_reference_line():
    """Best dense p <= n for the spiked problem is OLS on the spikes: σ_eff²/(1 − 0.2)."""
    pred = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, sigma2=0.1))
    # spikes carry 10·0.1/1.9 of the signal; width 0.2 = the 0.1·d = 0.2·n spikes
    assert pred.reference.best_width == pytest.approx(0.2)
    assert pred.reference.best_small_dense == pytest.approx((0.1 + 0.9 / 1.9) / 0.8, rel=REL_EXACT)
    assert pred.reference.oracle_retrain == pytest.approx(pred.risk.oracle_retrain.mean, rel=REL_EXACT)


def _brute_force_best_small_dense(setup):
    """min over every integer p <= min(d, n-2) of (σ² + omitted energy)·(n−1)/(n−p−1), p = 0
    (the null model, risk σ² + βᵀΣβ) included; ties go to the smaller p."""
    lam, beta = setup.spectrum.coordinates(setup.d)
    energy = lam * beta**2
    n = setup.n
    p = np.arange(0, min(setup.d, n - 2) + 1)
    omitted = energy.sum() - np.r_[0.0, np.cumsum(energy)][p]
    risks = (setup.sigma2 + omitted) * (n - 1) / (n - p - 1)
    return risks.min(), p[np.argmin(risks)] / n


@pytest.mark.parametrize("n", [20, 60, 200])
@pytest.mark.parametrize(
    "spectrum",
    [
        dcprune.SpikedCovariance(),
        dcprune.SpikedIdentity(spike_fraction=0.3),
        dcprune.PowerLaw(exponent=0.7),
        dcprune.ArraySpectrum(lam=np.repeat([5.0, 3.0, 2.0, 1.0, 0.5], [1, 2, 3, 4, 10]),
                              beta=np.repeat([0.2, 0.5, 0.1, 0.3, 0.05], [1, 2, 3, 4, 10])),
    ],
    ids=["spiked-covariance", "spiked-identity", "power-law", "file"],
)
def test_finite_reference_is_the_minimum_over_every_width(spectrum, n):
    """The reference searches atom edges only; every integer width must agree."""
    setup = dcprune.Diagonal(spectrum, kappa=2, alpha=0.3, n=n, sigma2=0.05)
    ref = dcprune.predict(setup).reference
    best, width = _brute_force_best_small_dense(setup)
    assert ref.best_small_dense == pytest.approx(best, rel=REL_EXACT)
    assert ref.best_width == pytest.approx(width, rel=REL_EXACT)


def test_reference_at_huge_n_is_instant():
    """Only atom edges are searched, so n = 10^9 costs what n = 100 does."""
    import time

    start = time.perf_counter()
    pred = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=10**9))
    assert time.perf_counter() - start < 5.0  # the old every-width sweep needed tens of GiB here
    asymptotic = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3))
    assert pred.reference.best_small_dense == pytest.approx(asymptotic.reference.best_small_dense, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(kappa=0), "kappa"),
        (dict(kappa=float("nan")), "kappa"),
        (dict(alpha=0), "alpha"),
        (dict(alpha=1.5), "alpha"),
        (dict(sigma2=-0.1), "sigma2"),
        (dict(n=0), "n"),
        (dict(n=10.5), "n"),
        (dict(ridge=-1), "ridge"),
    ],
)
def test_bad_setup_raises_value_error_naming_argument(kwargs, name):
    base = dict(spectrum=dcprune.SpikedCovariance(), kappa=2, alpha=0.3)
    with pytest.raises(ValueError, match=name):
        dcprune.Diagonal(**{**base, **kwargs})


def test_bad_problems_raise():
    with pytest.raises(ValueError, match="spike_fraction"):
        dcprune.SpikedCovariance(spike_fraction=2)
    with pytest.raises(ValueError, match="lambda"):
        DiagonalProblem.from_arrays([1.0, -1.0], [1.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        DiagonalProblem.from_arrays([1.0, np.nan], [1.0, 1.0], 0.1)
    with pytest.raises(ValueError, match="equal length"):
        DiagonalProblem.from_arrays([1.0, 2.0], [1.0], 0.1)
    with pytest.raises(ValueError, match="width"):
        dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3), width=3)
    with pytest.raises(ValueError, match="multiple"):
        spec = dcprune.ArraySpectrum(lam=np.ones(7), beta=np.ones(7))
        dcprune.Diagonal(spec, kappa=2, alpha=0.3, n=10)


@pytest.mark.parametrize("n", [None, 50, 2])
def test_reference_includes_the_null_model(n):
    """A weak signal spread thin (isotropic, κ = 3): no fitted model with p <= n beats b = 0,
    whose risk is exactly σ² + βᵀΣβ; at n = 2 no fitted model even has a finite risk."""
    pred = dcprune.predict(dcprune.Diagonal(dcprune.Isotropic(), kappa=3, alpha=0.1, sigma2=0.1, n=n))
    assert pred.reference.best_width == 0.0
    assert pred.reference.best_small_dense == 0.1 + 1.0  # exactly: σ² + signal
    assert not any(w.startswith("reference.best_small_dense") for w in pred.warnings)
    strong = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.3, n=n and 200))
    assert strong.reference.best_width > 0 and strong.reference.best_small_dense < 0.1 + 1.0


def test_infinite_reference_comes_with_a_reason():
    asym = dcprune.predict(dcprune.Diagonal(dcprune.SpikedCovariance(), kappa=2, alpha=0.5), width=0.5)
    assert math.isinf(asym.reference.oracle_retrain) and math.isfinite(asym.risk.oracle_retrain.mean)
    assert any(w.startswith("reference.oracle_retrain is infinite") for w in asym.warnings)


def test_spectra_spanning_many_decades_reach_their_limit():
    """A feature with variance L → ∞ is estimated almost exactly, so risk/L has a limit; past
    L ~ 1e16 its Gaussian is narrower than the rounding of its mean and the threshold must
    split the tie rather than stall (it returned 0.5 instead of 0.1157 at L = 1e30)."""
    def scaled(L):
        spec = dcprune.ArraySpectrum(lam=np.array([L, 1.0, 2.0]), beta=np.array([1.0, 1.0, 0.5]))
        pred = dcprune.predict(dcprune.Diagonal(spec, kappa=2, alpha=0.3, n=60))
        assert pred.converged
        # the dense model estimates the huge coordinates: its risk stays O(1), not O(L)
        return np.array([pred.risk.dense.mean * L] + [pred.risk[name].mean for name in RISK_NAMES[1:]]) / L

    resolved = scaled(1e12)  # every Gaussian still resolvable: the ordinary path
    for L in (1e16, 1e20, 1e30, 1e100, 1e200):
        # The approach to the limit is O(1/sqrt(L)): ~1e-6 relative at L = 1e12.
        assert scaled(L) == pytest.approx(resolved, rel=1e-5)
    # Hessian and oracle pruning drop 4 of the 40 huge coordinates: risk/L → 4/40.
    assert scaled(1e100)[RISK_NAMES.index("hessian")] == pytest.approx(0.1, rel=1e-12)
    assert scaled(1e100)[RISK_NAMES.index("oracle")] == pytest.approx(0.1, rel=1e-12)


@pytest.mark.parametrize("lam,beta", [([1e300, 1.0], [1.0, 1.0]), ([1e-300, 1.0], [1.0, 1.0]),
                                      ([1.0, 1.0], [1e200, 1.0]), ([1.0, 2.0 + 1j], [1.0, 1.0])])
def test_spectra_beyond_double_precision_are_refused(lam, beta):
    with pytest.raises(ValueError, match="lambda|signal energy"):
        dcprune.ArraySpectrum(lam=np.array(lam), beta=np.array(beta))
