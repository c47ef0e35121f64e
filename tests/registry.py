"""One entry per update rule: what the generic tests need to know about it.

Covering a new rule is one entry here. ``kwargs`` must make the rule converge
on the conformance problem (a convex quadratic) within ``max_calls`` calls.
"""

from dataclasses import dataclass, field

import pytest

import pytensor_optim as po


@dataclass(frozen=True)
class Rule:
    id: str
    function: object
    kwargs: dict
    needs_cost: bool = False
    derivative_free: bool = False
    # kwargs overrides that must raise ValueError naming the key
    bad_hyperparameters: tuple = field(default_factory=tuple)
    # hyperparameters that initialise state, so must be plain numbers
    initial_values: tuple = ()
    # evaluates the gradient away from the parameters (and converges there)
    look_ahead: bool = False
    max_calls: int = 500
    # evaluations per call vary (a line search), instead of one per call
    evals_vary: bool = False


# Adam-like rules oscillate at the scale of the step size around a minimum:
# a decaying step lets them reach the tolerances of the conformance tests.
DECAYING = po.schedules.exponential(0.1, 0.99)

RULES = [
    Rule(
        "sgd",
        po.sgd,
        {"step_size": 0.3},
        bad_hyperparameters=({"step_size": -0.1}, {"step_size": float("nan")}),
    ),
    Rule(
        "sgd-momentum",
        po.sgd,
        {"step_size": 0.1, "momentum": 0.5, "dampening": 0.2},
        bad_hyperparameters=(
            {"momentum": -0.5},
            {"weight_decay": -1.0},
            {"step_size_decay": -1.0},
        ),
    ),
    Rule(
        "sgd-nesterov-annealed",
        po.sgd,
        {
            "step_size": po.schedules.linear_warmup(0.2, 3),
            "momentum": 0.5,
            "nesterov": True,
            "step_size_decay": 1e-3,
        },
        bad_hyperparameters=({"nesterov": True, "momentum": 0.0},),
    ),
    Rule(
        "nag",
        po.nag,
        {"step_size": 0.2, "momentum": 0.5},
        bad_hyperparameters=({"momentum": 0.0}, {"step_size": -1.0}),
        look_ahead=True,
    ),
    Rule(
        "asgd",
        po.asgd,
        {"step_size": 0.3, "t0": 10, "lambd": 0.0},
        bad_hyperparameters=({"lambd": -1.0}, {"alpha": -0.5}),
    ),
    Rule(
        "adagrad",
        po.adagrad,
        {"step_size": 1.0, "initial_accumulator": 0.1},
        bad_hyperparameters=(
            {"epsilon": -1.0},
            {"epsilon": 0.0},  # 0/0 where a gradient component is 0
            {"initial_accumulator": -1.0},
        ),
        initial_values=("initial_accumulator",),
    ),
    Rule(
        "adadelta",
        po.adadelta,
        {"step_size": 1.0, "epsilon": 1e-2, "rho": 0.5},
        bad_hyperparameters=({"rho": 1.5}, {"epsilon": -1e-6}, {"epsilon": 0.0}),
        max_calls=2000,
    ),
    Rule(
        "rmsprop-centered-momentum",
        po.rmsprop,
        {"step_size": 0.01, "centered": True, "momentum": 0.5},
        bad_hyperparameters=(
            {"alpha": -0.1},
            {"alpha": 1.5},  # a negative mean square
            {"epsilon": 0.0},
            {"momentum": -0.1},
        ),
        max_calls=2000,
    ),
    Rule(
        "adam-amsgrad",
        po.adam,
        {"step_size": 0.05, "amsgrad": True, "beta2": 0.9},
        bad_hyperparameters=(
            {"beta1": 1.0},
            {"beta2": -0.1},
            {"epsilon": -1.0},
            {"epsilon": 0.0},
        ),
        max_calls=2000,
    ),
    Rule(
        "adamw",
        po.adamw,
        {"step_size": DECAYING, "weight_decay": 0.0, "beta2": 0.9},
        bad_hyperparameters=(
            {"weight_decay": -0.1},
            {"beta1": 1.5},
            {"epsilon": 0.0},
        ),
        max_calls=2000,
    ),
    Rule(
        "adamax",
        po.adamax,
        {"step_size": DECAYING, "beta2": 0.9},
        bad_hyperparameters=({"beta2": 1.0}, {"epsilon": 0.0}),
        max_calls=2000,
    ),
    Rule(
        "nadam",
        po.nadam,
        {"step_size": DECAYING, "beta2": 0.9},
        bad_hyperparameters=({"momentum_decay": -1.0}, {"epsilon": 0.0}),
        max_calls=2000,
    ),
    Rule(
        "radam",
        po.radam,
        {"step_size": DECAYING, "beta2": 0.9},
        bad_hyperparameters=({"beta1": -0.5}, {"epsilon": 0.0}),
        max_calls=2000,
    ),
    # PyTorch's configuration (fixed steps)
    Rule(
        "lbfgs",
        po.lbfgs,
        # tolerance_change=0: the generic tests converge to gtol and xtol,
        # which PyTorch's slope test (tests/test_quasi_newton.py) stops before
        {"step_size": 0.5, "history": 3, "line_search": None, "tolerance_change": 0},
        bad_hyperparameters=(
            {"history": 0},
            {"step_size": -1.0},
            {"tolerance_change": -1.0},
        ),
    ),
    Rule(
        "rprop",
        po.rprop,
        {"step_size": 0.1, "eta_plus": 1.1},
        bad_hyperparameters=({"eta_plus": 0.9}, {"eta_minus": 1.0}),
        initial_values=("step_size",),
        max_calls=2000,
    ),
    # The search loops are compiled like the tests' functions (scan's own
    # default, the C VM with fast_run rewrites, compiles C code per shape).
    Rule(
        "lbfgs-strong-wolfe",
        po.lbfgs,
        {
            "step_size": 0.5,
            "history": 3,
            "line_search": po.line_search.strong_wolfe(mode="FAST_COMPILE"),
            "tolerance_change": 0,
        },
        needs_cost=True,
        bad_hyperparameters=(
            {"line_search": "nonsense"},
            {"max_evals_per_iter": 0},
            {"step_size": -1.0},
        ),
        evals_vary=True,
    ),
    Rule(
        "gradient_descent",
        po.gradient_descent,
        {
            "step_size": 0.5,
            "line_search": po.line_search.backtracking(mode="FAST_COMPILE"),
        },
        needs_cost=True,
        bad_hyperparameters=(
            {"step_size": 0.0},
            {"line_search": "nonsense"},
            {"max_evals_per_iter": -2},
        ),
        evals_vary=True,
    ),
    # sig=0.9: with minimize.m's 0.5 the cubic fits solve the quadratic exactly
    # in three calls, and the max_iter test needs a fourth step that moves
    Rule(
        "rasmussen_cg",
        po.rasmussen_cg,
        {"sig": 0.9, "ext": 3.0, "ratio": 100.0, "mode": "FAST_COMPILE"},
        needs_cost=True,
        bad_hyperparameters=(
            {"sig": 0.005},  # not above rho
            {"int": 0.5},
            {"ext": 1.0},
            {"ratio": 0.0},
            {"rho": 1.0},
            {"max_evals_per_iter": 0},
        ),
        evals_vary=True,
    ),
    # Dense quasi-Newton and conjugate gradients. With a Wolfe search they
    # solve the conformance quadratic (Hessian I) exactly in a call or two, and
    # the stopping tests need steps that keep moving: inexact steps instead,
    # from SciPy's first guess 1/|g|, the slope ratio and Armijo backtracking.
    Rule(
        "bfgs",
        po.bfgs,
        {
            "line_search": po.line_search.backtracking(mode="FAST_COMPILE"),
            "step0": "scipy",
            "step_next_init": "slope_ratio",
            "try_newton_step": False,
        },
        needs_cost=True,
        bad_hyperparameters=(
            {"line_search": "nonsense"},
            {"max_evals_per_iter": 0},
            {"step0": -1.0},
            {"step_next_init": "cubic"},
        ),
        evals_vary=True,
    ),
    Rule(
        "hessian_free",
        po.hessian_free,
        # the conformance problem has no model output: exact Hessian products
        {"gauss_newton": False, "cg_max_iter": 20, "mode": "FAST_COMPILE"},
        needs_cost=True,
        bad_hyperparameters=(
            {"damping": -1.0},
            {"cg_max_iter": 0},
            {"warm_start": 1.5},
            {"cg_tolerance": 0.0},
            {"preconditioner": "martens"},
            {"gauss_newton": True},
        ),
        initial_values=("damping",),
        evals_vary=True,
    ),
    Rule(
        "truncated_newton",
        po.truncated_newton,
        {
            "line_search": po.line_search.backtracking(mode="FAST_COMPILE"),
            "step0": "scipy",
            "step_next_init": "slope_ratio",
            "try_newton_step": False,
        },
        needs_cost=True,
        bad_hyperparameters=(
            {"cg_max_iter": 0},
            {"exit": "descent"},
            {"line_search": "nonsense"},
            {"max_evals_per_iter": 0},
        ),
        evals_vary=True,
    ),
    Rule(
        "sr1",
        po.sr1,
        {
            "line_search": po.line_search.backtracking(mode="FAST_COMPILE"),
            "step0": "scipy",
            "step_next_init": "slope_ratio",
            "try_newton_step": False,
            "scale_hess": False,
        },
        needs_cost=True,
        bad_hyperparameters=({"step0": 0.0}, {"line_search": "nonsense"}),
        evals_vary=True,
    ),
    Rule(
        "cg",
        po.cg,
        {
            "line_search": po.line_search.backtracking(mode="FAST_COMPILE"),
            "step0": "scipy",
            "step_next_init": "slope_ratio",
        },
        needs_cost=True,
        bad_hyperparameters=(
            {"variant": "nonsense"},
            {"restart_every": 0},
            {"max_evals_per_iter": 0},
        ),
        evals_vary=True,
    ),
    Rule(
        "cg-hz-restart",
        po.cg,
        {
            "line_search": po.line_search.backtracking(mode="FAST_COMPILE"),
            "step0": "scipy",
            "step_next_init": "slope_ratio",
            "variant": "hz",
            "restart_every": 2,
        },
        needs_cost=True,
        bad_hyperparameters=({"restart_every": -1}, {"variant": "HZ++"}),
        initial_values=("restart_every",),
        evals_vary=True,
    ),
    Rule(
        "cg-fr",
        po.cg,
        {
            "line_search": po.line_search.backtracking(mode="FAST_COMPILE"),
            "step0": "scipy",
            "step_next_init": "slope_ratio",
            "variant": "FR",
        },
        needs_cost=True,
        bad_hyperparameters=({"step_next_init": -1.0},),
        evals_vary=True,
    ),
    # FISTA with prox=None: gradient steps 1/L with backtracking on L and
    # Nesterov's extrapolation; errthres off so that the generic criteria are
    # the ones that stop it
    Rule(
        "fista",
        po.fista,
        {"L_step": 2.0, "L": 0.3, "errthres": None, "mode": "FAST_COMPILE"},
        needs_cost=True,
        bad_hyperparameters=(
            {"L": 0.0},
            {"L_step": 1.0},
            {"max_line": 0},
            {"errthres": -1.0},
        ),
        initial_values=("L",),
        look_ahead=True,
        evals_vary=True,
    ),
    Rule(
        "delta_bar_delta",
        po.delta_bar_delta,
        {"step_size": 0.1, "kappa": 0.05, "phi": 0.5, "theta": 0.1},
        bad_hyperparameters=({"phi": 1.5}, {"kappa": 0.0}, {"theta": -0.1}),
        max_calls=2000,
    ),
    Rule(
        "delta_bar_delta-tsne",
        po.delta_bar_delta,
        {"step_size": 0.05, "momentum": 0.5, "min_gain": 0.01, "phi": 0.8},
        bad_hyperparameters=({"momentum": 1.5}, {"min_gain": -1.0}),
        max_calls=2000,
    ),
    # lambd small enough that the regularised minimum meets gtol=1e-6; the
    # first step uses B = 1/lambd, the later ones the floor 1e-2/lambd
    Rule(
        "sgd_qn",
        po.sgd_qn,
        {"step_size": 0.5, "lambd": 1e-8, "t0": 1e6, "skip": 1},
        bad_hyperparameters=({"lambd": 0.0}, {"skip": 0}, {"t0": -1.0}),
        initial_values=("lambd", "skip"),
        evals_vary=True,
    ),
    Rule(
        "momentum_descent",
        po.momentum_descent,
        {"step_size": 0.3, "momentum": 0.5},
        bad_hyperparameters=(
            {"momentum": 1.5},
            {"restart": "sometimes"},
            {"restart_wait": 0},
            {"momentum": "ramp"},
        ),
        initial_values=("restart_wait",),
    ),
    Rule(
        "momentum_descent-nesterov",
        po.momentum_descent,
        {"step_size": 0.3, "momentum": "nsconvex", "nesterov": True},
        bad_hyperparameters=({"step_size": -1.0},),
    ),
    # lambda evaluations per call (evals_vary: max_evals=4 ends the first call)
    Rule(
        "cmaes",
        po.cmaes,
        {"sigma": 0.5, "seed": 1},
        needs_cost=True,
        derivative_free=True,
        bad_hyperparameters=({"sigma": 0.0}, {"popsize": 1}, {"seed": -1}),
        initial_values=("sigma", "seed"),
        evals_vary=True,
    ),
]

IDS = [rule.id for rule in RULES]

#: Entries that configure a rule an earlier entry already covers (sgd with
#: momentum after sgd, cg with the FR formula after cg): checks of code that
#: every configuration runs the same way take them with ``-m slow`` only.
VARIANT_IDS = frozenset(
    rule.id
    for index, rule in enumerate(RULES)
    if any(other.function is rule.function for other in RULES[:index])
)


#: Rules whose functions take seconds to compile even in FAST_COMPILE
#: (hessian_free: three loops). The checks that ``every_rule(variants=False)``
#: marks (the tolerances gtol, ftol, xtol, shapes with 1s and 0s, state names)
#: test code that every rule shares; max_iter, max_evals, float32, the
#: non-finite guard, checkpoints and convergence stay in the default run.
SLOW_TO_COMPILE = frozenset({"hessian_free"})


def every_rule(variants=True):
    """``rule`` parametrised over the registry; with ``variants=False``, the
    entries of ``VARIANT_IDS`` and ``SLOW_TO_COMPILE`` are marked slow."""
    slow = set() if variants else VARIANT_IDS | SLOW_TO_COMPILE
    return pytest.mark.parametrize(
        "rule",
        [
            pytest.param(
                rule, id=rule.id, marks=pytest.mark.slow if rule.id in slow else ()
            )
            for rule in RULES
        ],
    )


def quick_first(cases, quick=1):
    """Parameters of a check's cases: the first ``quick`` in the default run,
    the others with ``-m slow`` (``cases`` maps ids to values)."""
    return [
        pytest.param(value, id=name, marks=pytest.mark.slow if index >= quick else ())
        for index, (name, value) in enumerate(cases.items())
    ]
