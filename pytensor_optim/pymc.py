"""Recipes for PyMC models: a MAP estimate and variational fits with our rules.

- :func:`find_map` is ``pm.find_MAP`` with any rule of this package, the
  whole optimisation running inside one compiled call.
- :func:`as_pymc_optimizer` turns a rule into the ``obj_optimizer`` (or
  ``test_optimizer``) that ``pm.fit`` expects. The drop-in functions of
  :mod:`pytensor_optim.compat.pymc` need no adapter.

PyMC is imported when a recipe is called, not with this module (install it
with the ``pymc`` extra: ``pip install "pytensor-optim[pymc]"``). See
:doc:`/pymc`.
"""

import weakref
from collections import OrderedDict
from typing import NamedTuple

import numpy as np
import pytensor
from pytensor.graph.replace import graph_replace

from ._keys import options_key
from .interface._numpy import _algorithm
from .interface._optimize import CompiledRun, compile_run
from .line_search import more_thuente

__all__ = ["as_pymc_optimizer", "find_map", "scipy_lbfgsb_options"]

# L-BFGS-B's default stopping rules (pgtol, factr times the machine epsilon,
# maxiter), which pm.find_MAP uses
_LBFGSB_STOPPING = {
    "gtol": 1e-5,
    "ftol": 1e7 * np.finfo(float).eps,
    "max_iter": 15000,
    "max_evals": 15000,
}


def scipy_lbfgsb_options():
    """The options that make :func:`~pytensor_optim.lbfgs` SciPy's L-BFGS-B
    without bounds (``maxcor=10``): the first step ``1/|g|_2``, MINPACK's
    search with L-BFGS-B's tolerances, the relative curvature test and
    L-BFGS-B's stopping rules (``maxiter`` and ``maxfun``, 15000 each, as
    ``max_iter`` and ``max_evals``). A new dict at each call.

    Examples
    --------
    >>> sorted(scipy_lbfgsb_options())
    ['curvature_test', 'ftol', 'gtol', 'line_search', 'max_evals', 'max_iter', 'step0']
    """
    return {
        "line_search": more_thuente(c1=1e-3, xtol=0.1),
        "step0": "scipy",
        "curvature_test": "relative",
        **_LBFGSB_STOPPING,
    }


def _default_options(name):
    if name == "lbfgs":
        return scipy_lbfgsb_options()
    return dict(_LBFGSB_STOPPING)


def find_map(
    model=None,
    start=None,
    method="lbfgs",
    progress=False,
    *,
    return_raw=False,
    **options,
):
    """The maximum a posteriori point of a PyMC model, found with one of our rules.

    What ``pm.find_MAP()`` does with SciPy's L-BFGS-B, with any rule of this
    package, the optimisation compiled once and run inside one compiled
    call (:func:`~pytensor_optim.optimize` with ``steps_per_call`` equal to
    the iteration limit): the negative log density without the Jacobian of
    the transforms, ``-model.logp(jacobian=False)``, is minimised over the
    model's continuous value variables (in their unconstrained space); the
    other value variables stay at the starting point.

    Parameters
    ----------
    model : pymc.Model, optional
        The model (default: the one of the enclosing ``with`` block).
    start : dict, optional
        Initial values, as ``pm.find_MAP``'s ``initvals``: by variable name,
        partial, overriding the model's initial point.
    method : str or callable, default "lbfgs"
        A rule or its name in :data:`pytensor_optim.ALGORITHMS`.
    progress : bool, default False
        Show a progress bar (see :func:`~pytensor_optim.optimize`); the
        run then takes ``steps_per_call`` iterations per call (default 10).
    return_raw : bool, default False
        Also return the :class:`~scipy.optimize.OptimizeResult` of the run
        (``nit``, ``nfev``, ``status``, ``message``), as ``pm.find_MAP``'s
        ``return_raw``.
    **options
        Hyperparameters and stopping keywords of the rule, and
        ``steps_per_call`` or ``mode`` for :func:`~pytensor_optim.optimize`.
        The defaults are L-BFGS-B's stopping rules (``gtol=1e-5``,
        ``ftol=factr * eps = 2.2e-9``, ``max_iter=15000``) and, for
        ``"lbfgs"``, L-BFGS-B's configuration
        (:func:`scipy_lbfgsb_options`), with which ``find_map`` takes
        ``pm.find_MAP``'s iterations to its optimum.

    Returns
    -------
    dict
        ``{name: value}`` for every unobserved variable, transformed ones
        (``sigma_log__``) and deterministics included, as ``pm.find_MAP``
        returns; with ``return_raw``, ``(point, result)``.

    Notes
    -----
    What is compiled is kept (the last 16 by model, rule and options): a
    later call on the same model with the same rule and options, from
    another ``start`` or after ``pm.set_data``, compiles nothing and makes a
    fresh run. Changing the model's variables makes a new compilation.
    """
    import pymc as pm
    from pymc.initial_point import make_initial_point_fns_per_chain
    from pymc.util import get_default_varnames

    algo = _algorithm(method)
    model = pm.modelcontext(model)
    [initial_point] = make_initial_point_fns_per_chain(
        model=model, overrides=start, jitter_rvs=set(), chains=1
    )
    point = initial_point(0)
    name = getattr(algo, "__name__", None)
    settings = {**_default_options(name), **options}
    callback = settings.pop("callback", None)
    max_iter = settings.get("max_iter") or 1000
    default_steps = min(max_iter, 10) if progress else max_iter
    settings.setdefault("steps_per_call", default_steps)

    compiled = _compiled_map(model, algo, settings, point)
    for var, shared in compiled.values.items():
        shared.set_value(np.array(point[var.name], dtype=var.dtype))
    compiled.run.restart()
    result = compiled.run.run(callback=callback, progress=progress)

    point.update((var.name, value.get_value()) for var, value in compiled.free)
    values = dict(
        zip(
            [var.name for var in model.unobserved_value_vars],
            compiled.outputs(**point),
            strict=True,
        )
    )
    names = get_default_varnames(values, include_transformed=True)
    estimate = {name: values[name] for name in names}
    return (estimate, result) if return_raw else estimate


class _CompiledMap(NamedTuple):
    """What ``find_map`` compiles for a model, rule and options."""

    values: dict  # value variable -> the shared variable standing for it
    free: tuple  # (value variable, shared variable) of the optimised ones
    run: CompiledRun
    outputs: object  # the unobserved values at a point
    model: object  # a weak reference to the model
    kept: list  # the options compared by identity, kept alive


# A later call with the same rule and options on the same model (its
# variables unchanged; the values of its data containers may change)
# compiles nothing: the last few compilations, by model and options
_COMPILED = OrderedDict()
_KEEP = 16


def _compiled_map(model, algo, settings, point):
    kept = []
    key = (
        algo,
        tuple(model.value_vars),
        # the rule's state is shaped like the variables
        tuple(np.shape(point[var.name]) for var in model.value_vars),
        tuple(model.observed_RVs),
        tuple(model.potentials),
        tuple(model.deterministics),
        options_key(settings, kept),
    )
    key = (id(model), *key)
    compiled = _COMPILED.get(key)
    if compiled is not None and compiled.model() is model:
        _COMPILED.move_to_end(key)
        return compiled

    free = [var for var in model.value_vars if var in set(model.continuous_value_vars)]
    if not free:
        raise ValueError("find_map: the model has no unobserved continuous variables")
    # every value variable a shared variable: the optimised ones are updated,
    # the others (discrete) held at the starting point of each call
    values = {
        var: pytensor.shared(
            np.array(point[var.name], dtype=var.dtype),
            name=var.name,
            shape=var.type.shape,
        )
        for var in model.value_vars
    }
    loss = graph_replace(-model.logp(jacobian=False), values, strict=False)
    options = dict(settings)
    steps = options.pop("steps_per_call")
    max_iter = options.pop("max_iter")
    mode = options.pop("mode", None)
    run = compile_run(
        loss, [values[var] for var in free], algo, None, max_iter, steps, mode, options
    )
    outputs = model.compile_fn(
        model.unobserved_value_vars,
        inputs=model.value_vars,
        point_fn=False,
        on_unused_input="ignore",
        mode="FAST_COMPILE",
    )
    compiled = _CompiledMap(
        values,
        tuple((var, values[var]) for var in free),
        run,
        outputs,
        weakref.ref(model),
        kept,
    )
    _COMPILED[key] = compiled
    while len(_COMPILED) > _KEEP:
        _COMPILED.popitem(last=False)
    return compiled


def as_pymc_optimizer(rule, **hyperparameters):
    """``rule`` as ``pm.fit``'s ``obj_optimizer`` (or ``test_optimizer``).

    PyMC calls its optimizers as ``optimizer(loss_or_grads, params)``, with
    a list of gradients; our rules take ``(params, cost, gradients,
    ...)``. The callable returned makes the call.

    Parameters
    ----------
    rule : callable or str
        A rule or its name in :data:`pytensor_optim.ALGORITHMS`.
    **hyperparameters
        Passed to the rule (``step_size=...``, schedules included).

    Returns
    -------
    callable
        ``optimizer(loss_or_grads, params) -> Updates``.

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim.pymc import as_pymc_optimizer
    >>> optimizer = as_pymc_optimizer("adam", step_size=0.1)
    >>> w = pytensor.shared(np.ones(2), name="w")
    >>> sorted(v.name for v in optimizer([2 * w], [w]))
    ['adam.counter', 'adam.exp_avg[w]', 'adam.exp_avg_sq[w]', 'w']

    With PyMC: ``pm.fit(method="advi", obj_optimizer=optimizer)``.
    """
    algo = _algorithm(rule)

    def optimizer(loss_or_grads, params):
        if isinstance(loss_or_grads, list | tuple):
            return algo(list(params), gradients=list(loss_or_grads), **hyperparameters)
        return algo(list(params), loss_or_grads, **hyperparameters)

    optimizer.__name__ = f"{getattr(algo, '__name__', 'rule')}_for_pymc"
    return optimizer
