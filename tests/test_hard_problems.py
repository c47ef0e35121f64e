"""Problems that SciPy's own tests pose, solved with the rules' defaults.

Huge but finite costs (``1.797e308`` outside a domain, SciPy's
``test_bfgs_gh_2169``) and costs scaled by 1e-50 or 1e50 (SciPy's
``test_initial_step_scaling``): ours with their defaults through the NumPy
interface, SciPy's methods run beside them as the reference.
"""

import itertools

import numpy as np
import pytest
from scipy import optimize

import pytensor_optim as po

# ours: SciPy's counterpart
COUNTERPARTS = {
    "bfgs": "BFGS",
    "cg": "CG",
    "truncated_newton": "Newton-CG",
    "lbfgs": "L-BFGS-B",
}


def outside_the_domain(x):
    """SciPy's gh-2169: the float64 maximum stands for 'not defined' at x < 0."""
    return 1.79769313e308 if x[0] < 0 else x[0] + 1.0 / x[0]


@pytest.mark.parametrize("rule", sorted(COUNTERPARTS))
def test_huge_trial_values_are_too_far(rule):
    theirs = optimize.fmin_bfgs(outside_the_domain, [10.0], disp=False)
    np.testing.assert_allclose(theirs, 1.0, rtol=1e-4, atol=1e-4)
    it = po.minimize_iterator(np.array([10.0]), outside_the_domain, "2-point", rule)
    for _ in it:
        pass
    assert it.status.success, it.status
    np.testing.assert_allclose(it.x, 1.0, rtol=1e-4, atol=1e-4)


def scaled(scale, seen):
    """SciPy's test problem: ``scale (x - 1)^2`` with the gradient SciPy's
    test gives (half the true one), recording the first step taken."""

    def f(x):
        if not seen and x[0] != -1.0:
            seen.append(abs(x[0] + 1.0))
        assert abs(x).max() <= 1e4, "stepped far away"
        return scale * (x[0] - 1.0) ** 2

    def g(x):
        return np.array([scale * (x[0] - 1.0)])

    return f, g


@pytest.mark.parametrize(
    ("scale", "rule"),
    list(itertools.product([1e-50, 1.0, 1e50], ["bfgs", "cg", "truncated_newton"])),
)
def test_first_steps_are_scale_invariant(scale, rule):
    options = {"gtol": scale * 1e-8} if rule in ("bfgs", "cg") else {}
    method = COUNTERPARTS[rule]
    their_first, our_first = [], []
    f, g = scaled(scale, their_first)
    theirs = optimize.minimize(f, [-1.0], jac=g, method=method, options=options)
    f, g = scaled(scale, our_first)
    it = po.minimize_iterator(np.array([-1.0]), f, g, rule, **options)
    for _ in it:
        pass
    if scale < 1e-10 and rule == "truncated_newton":
        # the gradient is below gtol at the start: both return x0
        assert theirs.nit == 0 or np.allclose(theirs.x, -1.0)
        np.testing.assert_array_equal(it.x, [-1.0])
        return
    assert theirs.success and it.status.success, (theirs, it.status)
    np.testing.assert_allclose(it.x, [1.0])
    assert it.n_iter <= 3
    if scale > 1e-10 and rule != "truncated_newton":
        # SciPy's first move: 1.01
        np.testing.assert_allclose(our_first, their_first, rtol=1e-7)
    elif scale > 1e-10:
        # Newton-CG starts with its Newton step; SciPy's test asks a first
        # move between 0.5 and 3 of both
        assert 0.5 < their_first[0] < 3 and 0.5 < our_first[0] < 3
    else:
        # SciPy's first trial is capped at a step of 1 (a move of 2e-50):
        # ours moves as it does at every other scale
        np.testing.assert_allclose(our_first, [1.01], rtol=1e-12)
