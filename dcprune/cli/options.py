"""The option registry: the options that describe a problem, and the problem they build.

:func:`problem_options` declares them once for every command that takes a problem;
:func:`problem_from` turns their values into a problem of the right family (diagonal spectrum,
``--spectrum`` file, ``--covariance`` file or random features), refusing options that the
chosen family would silently ignore.
"""

from __future__ import annotations

import click

from ..families import PROBLEMS, RF_PROBLEM, Correlated, Diagonal, RandomFeatures, load_spectrum, standard_problem
from ..families.randomfeatures import ACTIVATIONS
from .rankone import RANK_ONE, rank_one_from

__all__ = ["problem_options", "problem_from", "given"]

_SPIKED = ("spiked-covariance", "spiked-identity")
#: Old names of problems, still accepted.
_ALIASES = {"relu-features": RF_PROBLEM}
#: The label noise when --sigma2 is not given; a covariance file carries its own (or is refused).
_DEFAULT_SIGMA2 = {RF_PROBLEM: 0.0}
_SIGMA2 = 0.1
# Problem options and the problems they describe; elsewhere they would be silently ignored.
_ONLY_WITH = {
    "spike_fraction": _SPIKED,
    "spike": _SPIKED,
    "exponent": ("power-law",),
    "signal": (*_SPIKED, "isotropic", "power-law", "--spectrum"),
    "input_dim": (RF_PROBLEM,),
    "activation": (RF_PROBLEM,),
    "draws": (RF_PROBLEM,),
    "scales": (RANK_ONE,),
    "weights": (RANK_ONE,),
    "features": (RANK_ONE,),
    "coefficients": (*_SPIKED, "isotropic", "power-law", "--spectrum"),
}
_PROBLEM_KEYS = ("kappa", "alpha", "sigma2", "problem", "spike_fraction", "spike", "exponent", "signal",
                 "spectrum", "covariance", "input_dim", "activation", "draws", "n", "ridge", "scales", "weights",
                 "features", "unlabelled", "coefficients")


def problem_options(func):
    """The options shared by every command that describes a problem and its sizes."""
    options = [
        click.option("--kappa", type=float, default=None,
                     help="Full width d/n: latent dimension over samples (diagonal problems), features over "
                          "samples (random features); with --covariance it follows from the file."),
        click.option("--alpha", type=float, required=True,
                     help="Target nonzeros over latent dimension, s/d, in (0, 1]."),
        click.option("--sigma2", type=float, default=None,
                     help="Label noise variance σ² (the test risk includes it)  [default: 0.1; random features 0; "
                          "--covariance: the file's sigma2]."),
        click.option("--problem", type=click.Choice(sorted(PROBLEMS) + [RF_PROBLEM, RANK_ONE, *_ALIASES]),
                     default=None, metavar="NAME",
                     help=f"{', '.join(sorted(PROBLEMS))}, {RF_PROBLEM} or {RANK_ONE}  [default: spiked-covariance]."),
        click.option("--spike-fraction", type=float, default=None,
                     help="Fraction of spiked coordinates (spiked problems)  [default: 0.1]."),
        click.option("--spike", type=float, default=None, help="Spike value C (spiked problems)  [default: 10]."),
        click.option("--exponent", type=float, default=None,
                     help="Power-law exponent a, λ_j = (j/d)^(-a)  [default: 0.5]."),
        click.option("--signal", type=float, default=None,
                     help="Signal energy βᵀΣβ  [default: 1; a spectrum file's own]."),
        # A plain string: Diagonal checks the name, so the message is the library's.
        click.option("--coefficients", default=None, metavar="KIND",
                     help="fixed (the spectrum's β) or gaussian (β_j ~ N(0, β_j²) per coordinate, a new draw per "
                          "Monte Carlo trial; the honest benchmark for quantization)  [default: fixed]."),
        click.option("--spectrum", type=click.Path(dir_okay=False), default=None,
                     help="User spectrum: .csv with columns lambda,beta or .npy of shape (d, 2); replaces --problem."),
        click.option("--covariance", type=click.Path(dir_okay=False), default=None,
                     help="Correlated problem: .npz with arrays Sigma (d×d) and beta (d); needs --n; "
                          "replaces --problem."),
        click.option("--input-dim", type=int, default=None,
                     help=f"{RF_PROBLEM}: input dimension D (inputs x ~ N(0, I_D))."),
        click.option("--activation", type=click.Choice(sorted(ACTIVATIONS)), default="relu", show_default=True,
                     help=f"{RF_PROBLEM}: the features' activation (Monte Carlo supports relu)."),
        click.option("--draws", type=int, default=RandomFeatures.draws, show_default=True,
                     help=f"{RF_PROBLEM}: independent feature matrices W the theory averages over."),
        click.option("--scales", default=None, metavar="C1,C2,...",
                     help=f"{RANK_ONE}: per-feature scales c_i >= 0 (features x_i = sqrt(c_i) g)."),
        click.option("--weights", default=None, metavar="B1,B2,...", help=f"{RANK_ONE}: per-feature weights beta_i."),
        click.option("--features", type=click.Path(dir_okay=False), default=None,
                     help=f"{RANK_ONE}: .csv with columns c,beta (or .npy of shape (p, 2)) instead of the lists."),
        click.option("--n", "n", type=int, default=None,
                     help="Sample size: finite-size predictions (absent: asymptotic; simulate needs it)."),
        click.option("--ridge", type=float, default=0.0, show_default=True,
                     help="Ridge penalty λ of (1/n)‖y−Xb‖² + λ‖b‖²."),
        click.option("--unlabelled", type=float, default=None, metavar="M",
                     help="Distillation (the *_distill risks): the student is fitted to the dense model's labels "
                          "at M fresh unlabelled inputs (a multiple of n without --n)  [default: infinite, the "
                          "population projection]."),
        click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
                     show_default=True, help="Output format."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def given(name: str) -> bool:
    """Whether option ``name`` was set by the user (not left at its default)."""
    from click.core import ParameterSource

    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(name) if ctx is not None else None
    return source not in (None, ParameterSource.DEFAULT)


def is_sampled(kwargs) -> bool:
    """Whether the options describe a family whose theory samples the DC (before building it)."""
    return _ALIASES.get(kwargs["problem"], kwargs["problem"]) == RF_PROBLEM or kwargs["covariance"] is not None


def problem_from(kwargs, seed: int = 0):
    """The problem the options in ``kwargs`` describe (they are removed from ``kwargs``).

    ``seed`` seeds what the theory samples (random features: ``W``; covariance: the DC).
    """
    args = {k: kwargs.pop(k) for k in _PROBLEM_KEYS}
    args["problem"] = _ALIASES.get(args["problem"], args["problem"])
    kind = ("--covariance" if args["covariance"] is not None else "--spectrum" if args["spectrum"] is not None
            else args["problem"] or "spiked-covariance")
    for name, kinds in _ONLY_WITH.items():
        if given(name) and kind not in kinds:
            option = "--" + name.replace("_", "-")
            raise click.UsageError(f"{option} does not apply to {kind}; it goes with {' or '.join(kinds)}")
    if args["problem"] == RANK_ONE:
        return rank_one_from(args)
    if args["covariance"] is not None:
        clash = [f"--{k}" for k in ("problem", "spectrum") if args[k] is not None]
        if clash:
            raise click.UsageError(f"--covariance replaces {' and '.join(clash)}: give one")
        if args["n"] is None:
            raise click.UsageError("--covariance needs --n (the covariance theory is at finite size)")
        return Correlated.load(args["covariance"], sigma2=args["sigma2"], alpha=args["alpha"], n=args["n"],
                               ridge=args["ridge"], seed=seed, kappa=args["kappa"], unlabelled=args["unlabelled"])
    if args["sigma2"] is None:
        args["sigma2"] = _DEFAULT_SIGMA2.get(args["problem"], _SIGMA2)
    if args["kappa"] is None:
        raise click.UsageError("Missing option '--kappa' (latent dimension over samples, d/n).")
    if args["problem"] is not None and args["spectrum"] is not None:
        raise click.UsageError("give either --problem or --spectrum, not both")
    if args["problem"] == RF_PROBLEM:
        if args["n"] is None:
            raise click.UsageError("--problem relu-features needs --n (random features are a finite problem)")
        if args["input_dim"] is None or args["input_dim"] < 1:
            raise click.UsageError(f"--problem relu-features needs --input-dim >= 1, got {args['input_dim']}")
        if args["draws"] < 1:
            raise click.UsageError(f"--draws must be >= 1, got {args['draws']}")
        # The diagonal family checks kappa, alpha, sigma2, n and ridge with its bounds.
        Diagonal(standard_problem("isotropic"), kappa=args["kappa"], alpha=args["alpha"], sigma2=args["sigma2"],
                 n=args["n"], ridge=args["ridge"])
        return RandomFeatures(args["kappa"], args["alpha"], args["n"], args["input_dim"], args["activation"],
                              args["draws"], args["sigma2"], args["ridge"], seed, args["unlabelled"])
    if args["spectrum"] is not None:
        latent = load_spectrum(args["spectrum"], signal=args["signal"])
    else:
        latent = standard_problem(args["problem"] or "spiked-covariance", spike_fraction=args["spike_fraction"],
                                  spike=args["spike"], exponent=args["exponent"], signal=args["signal"])
    return Diagonal(latent, kappa=args["kappa"], alpha=args["alpha"], sigma2=args["sigma2"], n=args["n"],
                    ridge=args["ridge"], unlabelled=args["unlabelled"], coefficients=args["coefficients"] or "fixed")
