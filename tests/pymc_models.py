"""Two PyMC models for the recipes' tests and ``benchmarks/bench_pymc.py``:
a hierarchical regression (10 groups) and a logistic regression (20
features), on data drawn with a fixed seed. Imports pymc."""

import numpy as np
import pymc as pm

__all__ = ["MODELS", "hierarchical_regression", "logistic_regression"]


def hierarchical_regression(n_groups=10, per_group=20, seed=1):
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(n_groups), per_group)
    x = rng.normal(size=group.size)
    intercepts = rng.normal(1.0, 1.0, size=n_groups)
    y = intercepts[group] + 0.5 * x + rng.normal(0.0, 0.5, size=group.size)
    with pm.Model() as model:
        mu_a = pm.Normal("mu_a", 0.0, 5.0)
        sigma_a = pm.HalfNormal("sigma_a", 2.0)
        a = pm.Normal("a", mu_a, sigma_a, shape=n_groups)
        b = pm.Normal("b", 0.0, 5.0)
        sigma = pm.HalfNormal("sigma", 2.0)
        pm.Normal("y", a[group] + b * x, sigma, observed=y)
    return model


def logistic_regression(n=500, features=20, seed=2):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features))
    weights = rng.normal(size=features)
    y = rng.random(n) < 1.0 / (1.0 + np.exp(-(x @ weights - 0.3)))
    with pm.Model() as model:
        w = pm.Normal("w", 0.0, 1.0, shape=features)
        c = pm.Normal("c", 0.0, 2.0)
        pm.Bernoulli("y", logit_p=x @ w + c, observed=y.astype("int64"))
    return model


MODELS = {"hierarchical": hierarchical_regression, "logistic": logistic_regression}
