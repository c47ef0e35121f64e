"""The part every rule with a line search shares: keep the point, search, move.

A search evaluates the cost and gradients at the point it accepts; the
rule keeps them in its state, so the next call starts from them instead of
evaluating the cost again. Only the first call (or the first after
``Updates.reset()``, or after setting the ``known`` flag to 0) evaluates
at the parameters.
"""

from typing import NamedTuple

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace

from ._scan import last_or, like, loop
from ._stopping import Status
from ._vec import axpy
from .line_search import Line, get_line_search

__all__ = ["CurrentPoint", "current_point", "line_search_step", "searched"]


def searched(problem, line_search, required=False, **defaults):
    """The rule's search from its ``line_search=`` argument (None stays None).

    ``defaults`` are the rule's preferred options of a search given by name
    (see :func:`~pytensor_optim.line_search.get_line_search`). A rule that
    cannot do without a search says ``required=True``: ``None`` then raises
    ``TypeError`` naming the rule.

    Raises ``ValueError`` naming the rule when a search is asked for without
    a cost.
    """
    if required and line_search is None:
        raise TypeError(
            f"{problem.algo}() needs a line search: line_search must be a name, "
            "a line search or a callable, got None (use 'constant' for a fixed "
            "step)"
        )
    search = get_line_search(line_search, **defaults)
    if search is not None and problem.cost is None:
        raise ValueError(
            f"{problem.algo}() needs cost for line_search={line_search!r}; "
            "a line search compares costs"
        )
    return search


class CurrentPoint(NamedTuple):
    """The cost and gradients at the parameters, and how they were obtained."""

    cost: object
    gradients: tuple
    evals: object  # 1 when evaluated by this call, else 0
    kept_cost: object
    kept_gradients: tuple
    known: object


def current_point(problem, search) -> CurrentPoint:
    """Values kept from the previous call's search, or evaluated now.

    The evaluation sits in a loop of ``1 - known`` iterations: when the
    values are known nothing is computed. (A lazy ``ifelse`` does not
    guarantee that: the C VM runs every reader of a parameter before an
    in-place update of it, and Numba evaluates both branches.) The
    parameters are the loop's recurrent state, so that the evaluation is
    not hoisted out of the loop as loop-invariant. The loop compiles in the
    search's ``mode`` (if it has one).
    """
    params, cost = problem.params, problem.cost
    kept_cost = problem.scalar("cost", np.nan, cost.dtype)
    kept_gradients = problem.slot("gradient")
    known = problem.scalar("known", 0, "int8")
    kept = [kept_cost, *kept_gradients]
    n = len(params)

    def evaluate(*states):
        point = states[:n]
        values = graph_replace(
            [cost, *problem.gradients], dict(zip(params, point, strict=True))
        )
        new = (like(value, old) for value, old in zip(values, kept, strict=True))
        return [*point, *new]

    outputs = loop(
        evaluate, [*params, *kept], (), 1 - known, getattr(search, "mode", None)
    )
    values = [
        last_or(initial, output)
        for initial, output in zip(kept, outputs[n:], strict=True)
    ]
    problem.current_point = CurrentPoint(
        cost=values[0],
        gradients=tuple(values[1:]),
        evals=pt.switch(pt.eq(known, 1), 0, 1),
        kept_cost=kept_cost,
        kept_gradients=kept_gradients,
        known=known,
    )
    return problem.current_point


def line_search_step(problem, search, current, direction, initial_step, max_evals):
    """Search along ``direction`` from the current point and move there.

    Returns ``(new_params, state_updates, evals, reasons, result)`` for
    :meth:`Problem.finish`: the parameters move only when the search
    succeeds; the kept cost and gradients become those at the new point;
    the stopping criteria of the protocol (``gtol``, ``ftol``, non-finite)
    are judged on the current point's values, which this sets as the
    problem's cost and gradients. A NaN or infinite value met by the search
    ends the run with ``Status.NON_FINITE`` (nothing changes), any other
    failure with ``Status.LINE_SEARCH_FAILED`` (the parameters stay).

    A call that will not step (the run has stopped, or a criterion holds at
    the current point) makes the search evaluate nothing.
    """
    objective = (problem.cost, problem.gradients)
    # The protocol's criteria (gtol, ftol, non-finite) are judged at the
    # current point: its values are the kept ones, not a new evaluation.
    problem.cost = current.cost
    problem.gradients = current.gradients
    line = Line(
        problem.params,
        direction,
        current.cost,
        current.gradients,
        objective=objective,
        initial_step=initial_step,
        max_evals=max_evals,
        skip=problem.stops_before_step(),
    )
    result = search(line)
    success = result.success
    moved = axpy(result.step, direction, list(problem.params))
    new_params = [
        pt.switch(success, new, param)
        for new, param in zip(moved, problem.params, strict=True)
    ]
    new_cost = pt.cast(result.cost, current.kept_cost.dtype)
    state_updates = [
        (current.kept_cost, pt.switch(success, new_cost, current.cost)),
        *(
            (kept, pt.switch(success, pt.cast(new, kept.dtype), old))
            for kept, new, old in zip(
                current.kept_gradients, result.gradients, current.gradients, strict=True
            )
        ),
        # 1, written so that it is not a constant: PyTensor's JAX backend
        # returns a constant update as a Python number, which would change
        # the flag's stored type (int8 to int64) and recompile the function
        (current.known, pt.maximum(current.known, np.int8(1))),
    ]
    evals = current.evals + result.evals
    failed = pt.and_(pt.invert(success), pt.invert(result.non_finite))
    reasons = [
        (result.non_finite, Status.NON_FINITE),
        (failed, Status.LINE_SEARCH_FAILED),
    ]
    return new_params, state_updates, evals, reasons, result
