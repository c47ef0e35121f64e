"""Every rule of the registry solves its share of the problem zoo.

A share is the zoo problems a rule of its family is expected to solve from
the standard starting points, with hyperparameters suited to them: the
line-search rules every problem, the first-order rules (fixed or adaptive
steps, no line search) the smooth two-dimensional valley of Beale's
function and, for the adaptive ones, the ill-conditioned quadratic. The
line-search rules run with their default searches (``lbfgs``'s L-BFGS-B
configuration, and ``lbfgs`` with ``"strong_wolfe"``, ``gradient_descent``
with ``"more_thuente"``). A
problem is solved when the NumPy cost at the last iterate is the known
minimum (or documented local minimum) within 1e-6 (relative above 1): the
check does not rely on anything the rule reports. The runs go through the
NumPy interface (one compiled step, C VM); one problem per rule is in the
quick suite, the others are marked slow.
"""

import functools

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import pytensor_optim as po

from .problems import ZOO
from .registry import RULES

DECAYING = po.schedules.exponential(0.05, 0.999)
ADAPTIVE = ("beale", "ill_conditioned_quadratic")
# Rosenbrock's function first: the quick case of the line-search rules
EVERY = ("rosenbrock", *sorted(set(ZOO) - {"rosenbrock"}))

# registry id: (rule, hyperparameters, problems; the first is in the quick suite)
SHARES = {
    "sgd": (po.sgd, {"step_size": 2e-3}, ("beale",)),
    "sgd-momentum": (
        po.sgd,
        {"step_size": 1e-3, "momentum": 0.9},
        ("beale", "rosenbrock"),
    ),
    "sgd-nesterov-annealed": (
        po.sgd,
        {"step_size": 1e-3, "momentum": 0.9, "nesterov": True},
        ("beale",),
    ),
    "nag": (po.nag, {"step_size": 1e-3, "momentum": 0.9}, ("beale",)),
    "asgd": (po.asgd, {"step_size": 2e-3, "t0": 1e9, "lambd": 0.0}, ("beale",)),
    "adagrad": (po.adagrad, {"step_size": 0.5}, (*ADAPTIVE, "rosenbrock")),
    "adadelta": (
        po.adadelta,
        {"step_size": 1.0, "epsilon": 1e-4},
        ("ill_conditioned_quadratic",),
    ),
    "rmsprop-centered-momentum": (
        po.rmsprop,
        {
            "step_size": po.schedules.exponential(0.01, 0.999),
            "centered": True,
            "momentum": 0.5,
        },
        (*ADAPTIVE, "rosenbrock"),
    ),
    "adam-amsgrad": (po.adam, {"step_size": DECAYING, "amsgrad": True}, ADAPTIVE),
    "adamw": (po.adamw, {"step_size": DECAYING, "weight_decay": 0.0}, ADAPTIVE),
    "adamax": (po.adamax, {"step_size": DECAYING}, ADAPTIVE),
    "nadam": (po.nadam, {"step_size": DECAYING}, ADAPTIVE),
    "radam": (po.radam, {"step_size": DECAYING}, ("beale",)),
    "rprop": (po.rprop, {}, ("beale", "ill_conditioned_quadratic", "rosenbrock")),
    # PyTorch's configuration: fixed steps
    "lbfgs": (po.lbfgs, {"step_size": 0.1, "line_search": None}, ("beale",)),
    "lbfgs-strong-wolfe": (po.lbfgs, {"line_search": "strong_wolfe"}, EVERY),
    "gradient_descent": (
        po.gradient_descent,
        {"line_search": "more_thuente"},
        ("beale", "rosenbrock"),
    ),
    # two failed searches in a row end minimize.m on Brown's badly scaled
    # function (its scales differ by 1e12)
    "rasmussen_cg": (
        po.rasmussen_cg,
        {},
        tuple(name for name in EVERY if name != "brown_badly_scaled"),
    ),
    # prox=None: gradient steps with backtracking on L and extrapolation;
    # errthres=0 leaves the stop to gtol
    "fista": (po.fista, {"errthres": 0}, ("beale", "ill_conditioned_quadratic")),
    "delta_bar_delta": (
        po.delta_bar_delta,
        {"step_size": 1e-3, "kappa": 1.05, "increase": "multiply", "phi": 0.5},
        ADAPTIVE,
    ),
    "delta_bar_delta-tsne": (
        po.delta_bar_delta,
        {"step_size": 1e-3, "momentum": 0.5, "min_gain": 0.01, "phi": 0.8},
        ADAPTIVE,
    ),
    # its minimum is at 0, so the regularisation moves it nowhere and lambd
    # can set the floor of B below the smallest inverse curvature
    "sgd_qn": (
        po.sgd_qn,
        {"step_size": 1.5e4, "lambd": 100.0, "t0": 1e6, "skip": 16},
        ("ill_conditioned_quadratic",),
    ),
    "momentum_descent": (
        po.momentum_descent,
        {"step_size": 1e-3, "momentum": 0.9},
        ("beale",),
    ),
    "momentum_descent-nesterov": (
        po.momentum_descent,
        {"step_size": 1e-3, "momentum": 0.9, "nesterov": True, "restart": "fn"},
        ("beale",),
    ),
    "bfgs": (po.bfgs, {}, EVERY),
    "sr1": (po.sr1, {}, EVERY),
    # no model output and no differentiable gradient through the NumPy
    # interface: Hessian-vector products by differences of the gradient
    "hessian_free": (
        po.hessian_free,
        {"gauss_newton": False},
        ("rosenbrock", "beale", "ill_conditioned_quadratic"),
    ),
    # through the NumPy interface: Hessian-vector products by differences
    "truncated_newton": (
        po.truncated_newton,
        {},
        ("rosenbrock", "beale", "ill_conditioned_quadratic"),
    ),
    "cg": (po.cg, {}, EVERY),
    "cg-hz-restart": (po.cg, {"variant": "HZ", "restart_every": 10}, EVERY),
    # Fletcher-Reeves without restarts stalls on Brown's badly scaled function
    "cg-fr": (
        po.cg,
        {"variant": "FR"},
        tuple(name for name in EVERY if name != "brown_badly_scaled"),
    ),
    # derivative-free: the cost only (df=None); stops on purecma's criteria
    "cmaes": (po.cmaes, {"seed": 0}, ("rosenbrock", "beale")),
}

MAX_ITER = 25_000


@functools.cache
def value_and_gradient(name):
    x = pt.vector("x")
    cost = ZOO[name].cost(x, pt)
    function = pytensor.function([x], [cost, pytensor.grad(cost, x)], mode="CVM")

    def both(v):
        value, gradient = function(v)
        return float(value), gradient

    return both


# the rules' defaults as a SciPy user calls them, beyond the registry's
# configurations (lbfgs: SciPy's L-BFGS-B; bfgs and cg are in SHARES with {})
DEFAULTS = {"lbfgs-default": (po.lbfgs, {}, EVERY)}


def test_every_rule_has_a_share():
    assert sorted(SHARES) == sorted(rule.id for rule in RULES)


CASES = [
    pytest.param(
        rule_id,
        problem,
        id=f"{rule_id}-{problem}",
        marks=() if index == 0 else pytest.mark.slow,
    )
    for rule_id, (_, _, problems) in {**SHARES, **DEFAULTS}.items()
    for index, problem in enumerate(problems)
]


@pytest.mark.parametrize(("rule_id", "problem"), CASES)
def test_solves_its_share(rule_id, problem):
    rule, hyperparameters, _ = {**SHARES, **DEFAULTS}[rule_id]
    zoo = ZOO[problem]
    if getattr(rule, "derivative_free", False):
        both = value_and_gradient(problem)
        f, df, tolerance = (lambda x: both(x)[0]), None, {}
    else:
        f, df, tolerance = value_and_gradient(problem), True, {"gtol": 1e-6}
    iterator = po.minimize_iterator(
        zoo.x0, f, df, rule, max_iter=MAX_ITER, **tolerance, **hyperparameters
    )
    for _ in iterator:
        pass
    value = zoo.cost(np.asarray(iterator.x_last), np)
    assert zoo.solved(value), (iterator.status, iterator.n_iter, value)
