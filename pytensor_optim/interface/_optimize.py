"""``optimize``: run a rule on shared variables in place, compiled once."""

import logging

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace
from pytensor.scan.utils import until

from .._stopping import Status
from .._validate import check_givens
from ._numpy import _algorithm

__all__ = ["CompiledRun", "compile_run", "optimize"]

_LOG = logging.getLogger("pytensor_optim")


def optimize(
    cost,
    params,
    opt_algo,
    givens=None,
    max_iter=1000,
    steps_per_call=1,
    callback=None,
    progress=False,
    mode=None,
    **kwargs,
):
    """Minimise ``cost`` over the shared variables ``params`` in place.

    The rule's updates are compiled once into a function that performs
    ``steps_per_call`` iterations per call (a ``scan`` that exits as soon as
    the rule sets ``stop``); the function is called until the rule stops.

    Parameters
    ----------
    cost : scalar TensorVariable
        The cost, a function of ``params`` (and of ``givens``).
    params : shared variable or list of shared variables
        Updated in place; their values are the starting point. A single
        variable (as the rules accept) makes ``x`` of the result its value
        rather than a list.
    opt_algo : callable or str
        An update rule or its name in :data:`pytensor_optim.ALGORITHMS`.
    givens : mapping, optional
        Passed to :func:`pytensor.function` (e.g. the data).
    max_iter : int or None, default 1000
        Passed to the rule (its iteration counter stops the run).
    steps_per_call : int, default 1
        Iterations per compiled call. Small problems pay no Python overhead
        per iteration with a large value; the run still stops at the exact
        iteration the rule says.
    callback : callable, optional
        ``callback(result)`` after each call, with the
        :class:`~scipy.optimize.OptimizeResult` so far; returning ``True`` or
        raising ``StopIteration`` ends the run with ``Status.CALLBACK``.
    progress : bool, default False
        Show a ``tqdm`` bar of iterations with the last cost (needs ``tqdm``).
        It reads ``compiling`` until the first call returns (which may finish
        a lazy compilation), its clock and rate start after that call, and
        at the end its total is the iterations the run took, with the
        status.
    mode : str or Mode, optional
        Compilation mode (default: PyTensor's).
    **kwargs
        Hyperparameters and stopping keywords for the rule.

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x`` (the parameters' final values, a list), ``fun`` (the cost at
        the starting point of the last iteration: at ``x`` when the run
        stopped on a criterion judged before stepping, such as ``gtol``; a
        rule with a line search reports the value it kept rather than
        evaluating the cost again), ``nit``, ``ncalls`` (compiled calls),
        ``status``, ``message``, ``success``; and ``nfev``, the
        cost/gradient evaluations, when ``max_evals`` is given (the rule
        counts them then).

    Examples
    --------
    >>> import numpy as np, pytensor
    >>> from pytensor_optim import optimize
    >>> w = pytensor.shared(np.array([3.0, -2.0]), name="w")
    >>> result = optimize(((w - 1.0) ** 2).sum(), [w], "sgd", step_size=0.25,
    ...                   gtol=1e-8, steps_per_call=50)
    >>> result.message, w.get_value()
    ('the largest gradient component is at most gtol', array([1., 1.]))
    """
    algo = _algorithm(opt_algo)
    if not isinstance(steps_per_call, int | np.integer) or steps_per_call < 1:
        raise ValueError(
            f"steps_per_call must be a positive integer, got {steps_per_call!r}"
        )
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {type(callback).__name__}")
    check_givens(givens)
    single = isinstance(params, Variable)
    compiled = compile_run(
        cost,
        [params] if single else params,
        algo,
        givens,
        max_iter,
        steps_per_call,
        mode,
        kwargs,
    )
    result = compiled.run(callback=callback, progress=progress)
    if single:
        result.x = result.x[0]
    return result


class CompiledRun:
    """``optimize``'s compiled function and what it updates, to run again.

    :meth:`run` calls the function until the rule stops; :meth:`restart`
    puts ``stop`` and the rule's state back where they started (the
    parameters are the caller's to set), so that a later run is a fresh
    one without compiling anything.
    """

    def __init__(self, step, params, updates, stop, max_iter):
        self.step, self.params, self.updates = step, params, updates
        self.stop, self.max_iter = stop, max_iter

    def restart(self):
        self.stop.set_value(np.int64(0))
        self.updates.reset()

    def run(self, callback=None, progress=False):
        params, updates, step = self.params, self.updates, self.step
        bar = _progress_bar(self.max_iter) if progress else None
        counter = updates.counter
        status, calls, value = Status.RUNNING, 0, np.nan
        try:
            while status == Status.RUNNING:
                value = float(step())
                calls += 1
                status = Status(int(updates.status.get_value()))
                iterations = int(counter.get_value()) if counter is not None else calls
                if bar is not None:
                    if calls == 1:
                        # the first call may finish the compilation (Numba
                        # compiles lazily): the bar's clock starts after it
                        bar.set_description_str("")
                        bar.reset(total=self.max_iter)
                    bar.update(iterations - bar.n)
                    bar.set_postfix(cost=f"{value:.6g}")
                result = _result(params, value, iterations, calls, status, updates)
                if callback is not None and status == Status.RUNNING:
                    try:
                        wants_stop = callback(result)
                    except StopIteration:
                        wants_stop = True
                    if wants_stop is True:
                        status = Status.CALLBACK
        finally:
            if bar is not None:
                # the run's real end: as many iterations as it took, and why
                bar.total = bar.n
                bar.set_postfix(cost=f"{value:.6g}", status=status.name)
                bar.close()
        return _result(params, value, iterations, calls, status, updates)


def compile_run(cost, params, algo, givens, max_iter, steps_per_call, mode, kwargs):
    """The :class:`CompiledRun` of ``optimize``'s arguments (checked)."""
    stop = pytensor.shared(np.int64(0), name="stop")
    updates = algo(params, cost, stop=stop, max_iter=max_iter, **kwargs)
    if steps_per_call == 1:
        # the cost at the parameters: the rule's own value when it keeps one
        point = _current_point(updates)
        output = cost if point is None else point.cost
        compiled_updates = updates
    else:
        output, compiled_updates = _scanned(cost, updates, stop, steps_per_call)
    name = getattr(algo, "__name__", repr(algo))
    _LOG.info(
        "compiling %s (PyTensor caches the compiled code on disk; under Numba "
        "the first call finishes the compilation)",
        name,
    )
    step = pytensor.function(
        [], output, updates=compiled_updates, givens=givens, mode=mode
    )
    return CompiledRun(step, params, updates, stop, max_iter)


def _scanned(cost, updates, stop, steps):
    """``steps`` iterations in one ``scan`` that exits once ``stop`` is set.

    Every updated shared variable becomes a recurrent state of the scan (its
    update expression with the shared variables replaced by the states), so
    the loop needs no shared-variable updates inside it.

    A rule with a line search keeps the cost and gradients at its
    parameters (``updates.current_point``), which each of its calls either
    reads or, on the first call, evaluates in a loop of 0 or 1 iterations.
    Here that evaluation runs once, before the iterations: the first
    iteration starts from the evaluated point, known from then on, and
    every iteration reads the kept values, with no nested evaluation loop in
    its body. The cost returned for each iteration, the cost at its starting
    point, is then the kept one rather than a new evaluation.
    """
    keys = list(updates)
    where_stop = keys.index(stop)
    initial = {key: key for key in keys}
    reported = cost
    point = _current_point(updates)
    if point is not None:
        # evaluated before the loop: the values, and the evaluation counted
        initial[point.kept_cost] = point.cost
        initial.update(zip(point.kept_gradients, point.gradients, strict=True))
        initial[point.known] = pt.ones_like(point.known)
        evaluations = updates.evaluations
        if evaluations in initial:
            # counted as the rule counts it: only while running
            initial[evaluations] = evaluations + pt.switch(
                pt.eq(stop, 0), pt.cast(point.evals, evaluations.dtype), 0
            )
        reported = point.kept_cost

    def one_step(*current):
        states = dict(zip(keys, current, strict=True))
        replacements = dict(states)
        if point is not None:
            # inside the loop the point is known: the kept values, no evaluation
            replacements[point.cost] = states[point.kept_cost]
            replacements.update(
                (value, states[kept])
                for value, kept in zip(
                    point.gradients, point.kept_gradients, strict=True
                )
            )
            replacements[point.evals] = pt.constant(
                np.zeros((), dtype=point.evals.dtype)
            )
        replaced = graph_replace(
            [updates[key] for key in keys] + [reported], replacements, strict=False
        )
        new_values = [
            key.type.filter_variable(value, allow_convert=True)
            for key, value in zip(keys, replaced[:-1], strict=True)
        ]
        return [*new_values, replaced[-1]], until(pt.neq(new_values[where_stop], 0))

    outputs = pytensor.scan(
        one_step,
        outputs_info=[
            *(
                key.type.filter_variable(initial[key], allow_convert=True)
                for key in keys
            ),
            None,
        ],
        n_steps=steps,
        return_updates=False,
    )
    last = {key: states[-1] for key, states in zip(keys, outputs[:-1], strict=True)}
    return outputs[-1][-1], last


def _current_point(updates):
    """``updates.current_point`` when all its state is updated by ``updates``."""
    point = getattr(updates, "current_point", None)
    if point is None:
        return None
    kept = [point.kept_cost, point.known, *point.kept_gradients]
    if not all(variable in updates for variable in kept):
        return None
    return point


def _result(params, value, iterations, calls, status, updates):
    from scipy.optimize import OptimizeResult  # not at import: 0.25 s

    extra = {}
    if updates.evaluations is not None:
        extra["nfev"] = int(updates.evaluations.get_value())
    return OptimizeResult(
        x=[p.get_value() for p in params],
        fun=value,
        nit=iterations,
        ncalls=calls,
        status=int(status),
        message=status.message,
        success=status.success,
        **extra,
    )


def _progress_bar(total):
    try:
        from tqdm.auto import tqdm
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "progress=True needs tqdm: pip install tqdm (or pytensor-optim[progress])"
        ) from error
    bar = tqdm(total=total, unit="it", desc="compiling")
    bar.refresh()
    return bar
