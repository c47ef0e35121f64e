"""The PyMC recipes and ``compat.pymc`` against the installed pymc, live.

Skipped where pymc is not installed (``pip install -e ".[test,pymc]"``; PyMC
6.4 needs Python 3.12 or newer). ``test_compat_pymc.py`` compares with stored
pymc trajectories instead and runs everywhere.
"""

import inspect
import re
import warnings

import numpy as np
import pytensor
import pytest

pm = pytest.importorskip("pymc")

from pymc.variational import updates as pymc_updates  # noqa: E402

import pytensor_optim as po  # noqa: E402
from pytensor_optim.compat import pymc as compat  # noqa: E402
from pytensor_optim.pymc import as_pymc_optimizer, find_map  # noqa: E402

from .pymc_models import MODELS, hierarchical_regression, logistic_regression  # noqa: E402
from .reference.pymc_problem import CONFIGS, run  # noqa: E402

# ---- compat.pymc against pymc.variational.updates ---------------------------


def public_functions(module):
    """The public functions a module defines (not what it imports)."""
    return {
        name: value
        for name, value in vars(module).items()
        if not name.startswith("_")
        and inspect.isfunction(value)
        and value.__module__ == module.__name__
    }


PYMC_FUNCTIONS = public_functions(pymc_updates)


def test_every_public_name():
    """Every function pymc's module defines, ``__all__`` or not (such as
    ``get_or_compute_grads``), and the same ``__all__``."""
    assert "get_or_compute_grads" in PYMC_FUNCTIONS
    missing = set(PYMC_FUNCTIONS) - set(public_functions(compat))
    assert not missing
    assert sorted(compat.__all__) == sorted(pymc_updates.__all__)


@pytest.mark.parametrize("name", sorted(PYMC_FUNCTIONS))
def test_signature_is_pymcs(name):
    theirs = inspect.signature(PYMC_FUNCTIONS[name]).parameters.values()
    ours = list(inspect.signature(getattr(compat, name)).parameters.values())
    shared = ours[: len(theirs)]
    assert [(p.name, p.kind, p.default) for p in shared] == [
        (p.name, p.kind, p.default) for p in theirs
    ]
    # anything more is keyword-only with a default (adagrad_window's opt-in)
    assert all(
        p.kind is p.KEYWORD_ONLY and p.default is not p.empty
        for p in ours[len(theirs) :]
    )


@pytest.mark.parametrize(
    ("mode", "dtype"),
    [
        ("FAST_COMPILE", "float64"),
        ("FAST_COMPILE", "float32"),
        ("CVM", "float64"),
        pytest.param("CVM", "float32", marks=pytest.mark.slow),
        pytest.param(None, "float64", marks=pytest.mark.slow),
        pytest.param(None, "float32", marks=pytest.mark.slow),
    ],
)
def test_numbers_bit_for_bit(mode, dtype):
    """Every configuration, pymc's and ours, in the same mode and process."""
    # pymc's float32 graphs need floatX=float32 (its Python floats would
    # make a float32 update float64); ours are float32 either way
    float_x = "float32" if dtype == "float32" else None
    for name in CONFIGS:
        theirs = run(pymc_updates, name, dtype, mode, float_x=float_x)
        ours = run(compat, name, dtype, mode)
        for mine, reference in zip(ours, theirs, strict=True):
            assert mine.dtype == reference.dtype, name
            np.testing.assert_array_equal(mine, reference, strict=True, err_msg=name)


def test_get_or_compute_grads_as_pymc():
    w = pytensor.shared(np.array([1.0, -2.0]), name="w")
    loss = (w**3).sum()
    for function in (pymc_updates.get_or_compute_grads, compat.get_or_compute_grads):
        [gradient] = function(loss, [w])
        np.testing.assert_array_equal(gradient.eval(), [3.0, 12.0])
        given = [2 * w]
        assert function(given, [w]) is given
    for arguments in (([w, w], [w]), (loss, [w + 1])):
        with pytest.raises(ValueError) as theirs:
            pymc_updates.get_or_compute_grads(*arguments)
        with pytest.raises(ValueError, match=re.escape(str(theirs.value))):
            compat.get_or_compute_grads(*arguments)


# ---- find_map against pm.find_MAP -------------------------------------------


def pymc_map(model, **kwargs):
    with warnings.catch_warnings():
        # find_MAP's announcements of its future defaults
        warnings.simplefilter("ignore", FutureWarning)
        return pm.find_MAP(
            model=model, progressbar=False, jitter=False, return_raw=True, **kwargs
        )


@pytest.fixture(scope="module", params=list(MODELS))
def model_and_map(request):
    model = MODELS[request.param]()
    return model, pymc_map(model)


def assert_same_point(ours, theirs, atol):
    assert list(ours) == list(theirs)
    for name, value in theirs.items():
        np.testing.assert_allclose(ours[name], value, rtol=0, atol=atol, err_msg=name)


def test_find_map_is_find_MAPs(model_and_map):
    """L-BFGS configured as L-BFGS-B (the default) takes find_MAP's
    iterations and evaluations to its optimum."""
    model, (theirs, raw) = model_and_map
    ours, result = find_map(model, return_raw=True)
    assert result.success, result.message
    assert_same_point(ours, theirs, atol=1e-6)
    assert (result.nit, result.nfev) == (raw.nit, raw.nfev)
    assert result.ncalls == 1  # the whole run in one compiled call


@pytest.mark.slow
@pytest.mark.parametrize("method", ["bfgs", "cg"])
def test_find_map_with_other_rules(model_and_map, method):
    model, (theirs, _) = model_and_map
    ours = find_map(model, method=method, gtol=1e-9, ftol=0.0)
    assert_same_point(ours, theirs, atol=1e-4)


def test_find_map_start_and_context():
    """``start`` overrides the initial point as find_MAP's ``initvals``; the
    model may come from the ``with`` block; returned values are those of
    the optimum's transformed and untransformed variables."""
    model = hierarchical_regression()
    start = {"mu_a": 3.0, "sigma": 0.7}
    theirs, raw = pymc_map(model, initvals=start)
    with model:
        ours, result = find_map(start=start, return_raw=True)
    assert_same_point(ours, theirs, atol=1e-6)
    assert (result.nit, result.nfev) == (raw.nit, raw.nfev)
    np.testing.assert_allclose(ours["sigma"], np.exp(ours["sigma_log__"]))


def test_find_map_reuses_what_it_compiled(monkeypatch):
    """A second call on the same model and options compiles nothing and is
    a fresh run: from another start, the iterates of a new compilation."""
    from pytensor_optim import pymc as recipes

    model = hierarchical_regression()
    find_map(model)
    compiled = []
    original = recipes.compile_run
    monkeypatch.setattr(
        recipes, "compile_run", lambda *a: compiled.append(a) or original(*a)
    )
    start = {"mu_a": 2.0, "b": -1.0}
    reused, reused_raw = find_map(model, start=start, return_raw=True)
    assert compiled == []
    recipes._COMPILED.clear()
    fresh, fresh_raw = find_map(model, start=start, return_raw=True)
    assert len(compiled) == 1
    for name, value in fresh.items():
        np.testing.assert_array_equal(reused[name], value, err_msg=name)
    assert (reused_raw.nit, reused_raw.nfev) == (fresh_raw.nit, fresh_raw.nfev)
    # another option compiles anew
    find_map(model, history=5)
    assert len(compiled) == 2


def test_find_map_refuses_unknown_rule():
    with pytest.raises(ValueError, match="not a known algorithm"):
        find_map(logistic_regression(), method="newton-raphson")


# ---- variational inference ---------------------------------------------------


def advi_trajectory(model, optimizer, n=50):
    with model:
        approximation = pm.fit(
            n=n,
            method="advi",
            obj_optimizer=optimizer,
            random_seed=7,
            progressbar=False,
        )
    return np.asarray(approximation.hist)


def test_advi_with_compat_adam_is_pymcs():
    """The ELBO trajectory (``hist``) with compat.pymc's adam is pymc's."""
    model = logistic_regression(n=100, features=5)
    theirs = advi_trajectory(model, pymc_updates.adam(learning_rate=0.05))
    ours = advi_trajectory(model, compat.adam(learning_rate=0.05))
    assert np.all(np.isfinite(theirs)) and theirs[-1] < theirs[0]
    np.testing.assert_array_equal(ours, theirs)


def test_advi_with_a_native_rule():
    """A native rule through ``as_pymc_optimizer``: the same trajectory as
    the compat rule it matches (torch's Adam takes the bias correction in
    the denominator, pymc's in the step: equal to rounding)."""
    model = logistic_regression(n=100, features=5)
    native = advi_trajectory(model, as_pymc_optimizer(po.adam, step_size=0.05))
    reference = advi_trajectory(model, pymc_updates.adam(learning_rate=0.05))
    assert native[-1] < native[0]
    np.testing.assert_allclose(native, reference, rtol=1e-6)
