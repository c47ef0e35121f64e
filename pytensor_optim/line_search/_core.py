"""The line-search protocol: the line, its points, and the loop that runs a search."""

import numbers
from typing import NamedTuple

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.replace import graph_replace
from pytensor.scan.utils import until

from .._scan import last_or, like, loop
from .._validate import check_max_evals, check_range
from .._vec import axpy, dot, max_abs


class Point(NamedTuple):
    r"""The cost and gradients at :math:`x + \alpha d` (one evaluation).

    Attributes
    ----------
    step : scalar tensor
        :math:`\alpha`.
    cost : scalar tensor
        :math:`\phi(\alpha) = f(x + \alpha d)`, in the line's dtype.
    gradients : tuple of tensors
        :math:`\nabla f(x + \alpha d)`, aligned with the parameters.
    slope : scalar tensor
        :math:`\phi'(\alpha) = \nabla f(x + \alpha d)^\top d`.
    finite : boolean scalar tensor
        Whether the cost and every gradient are finite.
    """

    step: object
    cost: object
    gradients: tuple
    slope: object
    finite: object


class LineSearchResult(NamedTuple):
    r"""What a line search returns.

    Attributes
    ----------
    step : scalar tensor
        The accepted step :math:`\alpha` (0 when ``success`` is false).
    cost : scalar tensor
        :math:`f(x + \alpha d)` at the accepted step (the starting cost when
        ``success`` is false).
    gradients : tuple of tensors
        The gradients there, aligned with the parameters.
    evals : int64 scalar tensor
        The number of cost-and-gradient evaluations the search made.
    success : boolean scalar tensor
        Whether the parameters should move to the accepted step.
    converged : boolean scalar tensor
        Whether the search's own conditions hold at the accepted step
        (Armijo for ``backtracking``, strong Wolfe for ``strong_wolfe``).
    non_finite : boolean scalar tensor
        Whether the search ended because of a NaN or infinite value.
    """

    step: object
    cost: object
    gradients: tuple
    evals: object
    success: object
    converged: object
    non_finite: object


class Line:
    r"""The one-dimensional problem :math:`\phi(\alpha) = f(x + \alpha d)`.

    Parameters
    ----------
    params : sequence of TensorVariable
        :math:`x`, the parameters (normally shared variables).
    direction : sequence of tensors
        :math:`d`, aligned with ``params``.
    cost, gradients : tensors
        :math:`f(x)` and :math:`\nabla f(x)`; they may be values kept from an
        earlier evaluation.
    objective : tuple ``(cost, gradients)``
        The expressions of the cost and gradients *as functions of*
        ``params``: a trial point is evaluated by replacing each parameter
        :math:`p` by :math:`p + \alpha d` in them.
    initial_step : scalar tensor or number
        The first trial step :math:`\alpha_0`.
    max_evals : int, optional
        A budget of evaluations set by the rule (``max_evals_per_iter``); it
        replaces the search's own ``max_evals`` when given.
    skip : scalar bool tensor, optional
        When true, the search evaluates nothing and fails: the rule does not
        step in this call (its run has stopped, or stops at this point).

    Attributes
    ----------
    dtype : str
        The dtype of the scalar arithmetic: the widest parameter dtype, so a
        float32 problem keeps float32 scalars in its search loop.
    slope : scalar tensor
        :math:`\phi'(0) = \nabla f(x)^\top d`.
    direction_max_abs : scalar tensor
        :math:`\max_i |d_i|`.
    """

    def __init__(
        self,
        params,
        direction,
        cost,
        gradients,
        objective,
        initial_step,
        max_evals=None,
        skip=None,
    ):
        self.params = tuple(params)
        self.direction = tuple(direction)
        self.gradients = tuple(gradients)
        self.dtype = str(np.result_type(*(p.dtype for p in self.params)))
        self.cost = pt.cast(cost, self.dtype)
        objective_cost, objective_gradients = objective
        if objective_cost is None:
            raise ValueError("a line search needs the cost; none was given")
        self.objective = (objective_cost, tuple(objective_gradients))
        self.initial_step = pt.cast(initial_step, self.dtype)
        if max_evals is not None:
            max_evals = check_max_evals(max_evals, "max_evals")
        self.max_evals = max_evals
        self.skip = skip
        self.slope = dot(self.gradients, self.direction, self.dtype)
        self.direction_max_abs = max_abs(self.direction, self.dtype)

    def _invariants(self):
        """The tensors a search loop reads from outside: scan's non-sequences."""
        return [
            self.initial_step,
            self.cost,
            self.slope,
            self.direction_max_abs,
            *self.direction,
            *self.gradients,
        ]

    def _rebind(self, invariants, max_evals=None):
        """A copy of the line that reads ``invariants`` (inside the loop)."""
        inner = object.__new__(Line)
        inner.__dict__.update(self.__dict__)
        if max_evals is not None:
            inner.max_evals = max_evals
        n = len(self.params)
        inner.initial_step, inner.cost, inner.slope, inner.direction_max_abs = (
            invariants[:4]
        )
        inner.direction = tuple(invariants[4 : 4 + n])
        inner.gradients = tuple(invariants[4 + n : 4 + 2 * n])
        return inner

    def scalar(self, value):
        """``value`` as a scalar of the line's dtype."""
        return pt.cast(value, self.dtype)

    def trial_point(self, step):
        r""":math:`x + \alpha d`, one tensor per parameter."""
        return axpy(step, self.direction, self.params)

    def evaluate(self, step) -> Point:
        r"""The cost and gradients at :math:`x + \alpha d`, as a :class:`Point`.

        Call it inside the search loop: every call is one evaluation.
        """
        cost, gradients = self.objective
        replaced = graph_replace(
            [cost, *gradients],
            dict(zip(self.params, self.trial_point(step), strict=True)),
            strict=False,
        )
        new_cost = self.scalar(replaced[0])
        new_gradients = tuple(
            pt.cast(g, p.dtype) for g, p in zip(replaced[1:], self.params, strict=True)
        )
        finite = pt.isfinite(new_cost)
        for gradient in new_gradients:
            finite = pt.and_(finite, pt.all(pt.isfinite(gradient)))
        slope = dot(new_gradients, self.direction, self.dtype)
        return Point(self.scalar(step), new_cost, new_gradients, slope, finite)

    def zeros(self):
        """Zeros shaped like the parameters: the initial value of per-parameter
        state that a search sets before it reads it.

        Cheaper for ``scan`` than the gradients themselves, whose static
        shapes it would infer through their whole graph.
        """
        return tuple(pt.zeros_like(p) for p in self.params)

    def start(self) -> Point:
        """The starting point :math:`\\alpha = 0` (no evaluation)."""
        zero = self.scalar(0)
        finite = pt.isfinite(self.cost)
        return Point(zero, self.cost, self.gradients, self.slope, finite)


class LineSearch:
    r"""A line search as an ``init / step / done`` triple, run by :func:`run`.

    Subclasses keep their state in a dictionary of tensors, each a scalar,
    an array of static shape, or a tuple of tensors aligned with the
    parameters. The dictionary must hold
    ``"trial"``, the step to evaluate next. :func:`run` evaluates the cost
    and gradients at ``state["trial"]`` and calls :meth:`step` with that
    :class:`Point`, once per loop iteration, until :meth:`done` is true or
    the budget of evaluations is spent; :meth:`result` then names the
    accepted point.

    Attributes
    ----------
    max_evals : int
        The most evaluations one search makes (unless the rule gives its
        own budget, see :class:`Line`).
    mode : str, Mode or None
        The compilation mode of the loop's inner function (``scan``'s
        ``mode``). ``None``, the default, is PyTensor's choice for ``scan``:
        the C virtual machine with the ``fast_run`` rewrites, whatever the
        mode the rule's updates are compiled with, except under the Numba
        backend, which compiles the loop itself (and runs
        ``more_thuente``'s whole search as one loop of its own).
    stop_on_non_finite : bool
        True: a NaN or infinite trial value ends the search, which reports
        ``non_finite``. False: the point is passed to :meth:`step`, which
        may reject it and try another (``non_finite`` is then reported
        when the search fails and its last trial was not finite).
    """

    name = None
    max_evals = 20
    stop_on_non_finite = True
    mode = None

    def init(self, line: Line) -> dict:
        """The state before the first evaluation (must hold ``"trial"``)."""
        raise NotImplementedError

    def step(self, line: Line, state: dict, point: Point, evals) -> dict:
        """The new state after evaluating ``point`` (``evals`` so far, >= 1)."""
        raise NotImplementedError

    def done(self, line: Line, state: dict):
        """A boolean scalar: true when the search needs no more evaluations."""
        raise NotImplementedError

    def result(self, line: Line, state: dict):
        """``(step, cost, gradients, success, converged)`` of the final state."""
        raise NotImplementedError

    def __call__(self, line: Line) -> LineSearchResult:
        return run(self, line)

    def evaluation_budget(self, line: Line) -> int:
        """The most evaluations along ``line``: the rule's budget
        (``line.max_evals``) when it gives one, else the search's."""
        return line.max_evals if line.max_evals is not None else self.max_evals

    def __repr__(self):
        options = ", ".join(f"{key}={value!r}" for key, value in self._options())
        return f"{self.name or type(self).__name__}({options})"

    def _options(self):
        return ()

    def _mode_option(self):
        return () if self.mode is None else (("mode", self.mode),)


def run(search: LineSearch, line: Line) -> LineSearchResult:
    r"""Run ``search`` along ``line`` inside one ``scan``.

    Every loop iteration evaluates the cost and gradients once, at
    ``state["trial"]``; the loop ends when ``search.done`` holds, when a
    trial value is not finite (if ``search.stop_on_non_finite``) or after
    ``line.max_evals`` (else ``search.max_evals``) evaluations. When
    :math:`\phi'(0) \ge 0` (not a descent direction) the loop makes no
    iteration: the search fails without evaluating anything.

    Returns
    -------
    LineSearchResult
        On failure the step is 0 and the cost and gradients are those at
        the start, so a rule may use them unconditionally.
    """
    budget = search.evaluation_budget(line)
    # the search sees its effective budget as line.max_evals
    line = line._rebind(line._invariants(), check_max_evals(budget, "max_evals"))
    initial = search.init(line)
    if "trial" not in initial:
        raise ValueError(f"{search!r}.init() must return a state with a 'trial' step")
    for key in _DRIVER_KEYS:
        if key in initial:
            raise ValueError(f"{search!r}.init(): the state key {key!r} is reserved")
    initial = {**initial, "_evals": np.int64(0), "_finite": np.bool_(True)}
    packing = _Packing(initial, line.params)

    def body(*arguments):
        carried = arguments[: packing.size]
        # the loop reads the line's tensors as non-sequences: given implicitly,
        # scan would recompute their whole graph (the direction, the start's
        # evaluation) in every iteration
        inner = line._rebind(arguments[packing.size :])
        state = packing.unpack(carried)
        if packing.tuples:
            # The entries per parameter start from the parameters, cheap
            # placeholders (scan infers the static shape of an initial value
            # through its whole graph, slow for a rule's direction): the
            # first iteration takes init's values instead, computed here
            # from the line's tensors.
            first = pt.eq(state["_evals"], 0)
            started = search.init(inner)
            for key, _ in packing.tuples:
                state[key] = tuple(
                    pt.switch(first, like(value, old), old)
                    for value, old in zip(started[key], state[key], strict=True)
                )
        evals = state.pop("_evals") + 1
        state.pop("_finite")
        point = inner.evaluate(state["trial"])
        new_state = search.step(inner, state, point, evals)
        if set(new_state) != set(state):
            raise ValueError(
                f"{search!r}.step() must return the entries of init(), "
                f"{sorted(state)}, got {sorted(new_state)}"
            )
        finished = search.done(inner, new_state)
        if search.stop_on_non_finite:
            finished = pt.or_(finished, pt.invert(point.finite))
        new_state = {**new_state, "_evals": evals, "_finite": point.finite}
        return packing.pack(new_state, carried), until(finished)

    # Not a descent direction (or told to skip): no iteration at all. (A
    # lazy ifelse around the loop would not guarantee that: the C VM runs
    # every reader of a parameter before an in-place update of it, and Numba
    # evaluates both branches.)
    descent = pt.lt(line.slope, 0)
    if line.skip is not None:
        descent = pt.and_(descent, pt.invert(line.skip))
    placeholders = packing.initial(initial)
    outputs = loop(
        body,
        placeholders,
        line._invariants(),
        pt.switch(descent, budget, 0),
        search.mode,
    )
    state = packing.unpack(
        [last_or(p, output) for p, output in zip(placeholders, outputs, strict=True)]
    )
    evals, last_finite = state.pop("_evals"), state.pop("_finite")
    step, cost, gradients, success, converged = search.result(line, state)
    if search.stop_on_non_finite:
        success = pt.and_(success, last_finite)
        non_finite = pt.invert(last_finite)
    else:
        non_finite = pt.and_(pt.invert(success), pt.invert(last_finite))
    # no iteration (not a descent direction) is a failure like any other
    success = pt.and_(descent, success)
    converged = pt.and_(converged, success)
    non_finite = pt.and_(descent, non_finite)
    return LineSearchResult(
        step=pt.switch(success, line.scalar(step), line.scalar(0)),
        cost=pt.switch(success, line.scalar(cost), line.cost),
        gradients=tuple(
            like(pt.switch(success, g, g0), g0)
            for g, g0 in zip(gradients, line.gradients, strict=True)
        ),
        evals=pt.cast(evals, "int64"),
        success=success,
        converged=converged,
        non_finite=non_finite,
    )


def result_tensors(result):
    """The tensors of a :class:`LineSearchResult`, in one flat list."""
    return [
        result.step,
        result.cost,
        *result.gradients,
        result.evals,
        result.success,
        result.converged,
        result.non_finite,
    ]


def result_of(tensors, n_params):
    """The :class:`LineSearchResult` of :func:`result_tensors`' list."""
    n = n_params
    return LineSearchResult(
        step=tensors[0],
        cost=tensors[1],
        gradients=tuple(tensors[2 : 2 + n]),
        evals=tensors[2 + n],
        success=tensors[3 + n],
        converged=tensors[4 + n],
        non_finite=tensors[5 + n],
    )


_DRIVER_KEYS = ("_evals", "_finite")


class _Packing:
    """How a search's state dictionary travels through ``scan``.

    Every entry that is a tensor (a scalar, or an array of static shape) is
    a loop state of its own, and a tuple one state per parameter. A search
    with many scalars packs them itself in one vector (as ``more_thuente``
    does): under Numba each scalar state is a 0-d array made anew at every
    iteration, and past some ten of them that costs more than the
    arithmetic.
    """

    def __init__(self, initial, params):
        self.params = params
        self.arrays = []  # (key, type)
        self.tuples = []  # (key, dtypes)
        for key, value in initial.items():
            if isinstance(value, tuple | list):
                if len(value) != len(params):
                    raise ValueError(
                        f"state entry {key!r} has {len(value)} tensors, expected "
                        f"one per parameter ({len(params)})"
                    )
                dtypes = [pt.as_tensor_variable(v).dtype for v in value]
                self.tuples.append((key, dtypes))
            else:
                variable = pt.as_tensor_variable(value)
                if None in variable.type.shape:
                    raise ValueError(
                        f"state entry {key!r} must have a static shape (a scalar, "
                        f"a tuple per parameter, or an array of known shape), "
                        f"got {variable.type}"
                    )
                self.arrays.append((key, variable.type))
        self.size = len(self.arrays) + len(params) * len(self.tuples)

    def initial(self, state):
        """The loop's initial values: ``state``'s tensors, and the parameters
        for the entries per parameter (placeholders of the right shape, set
        by the first iteration).

        (Zeros would do as placeholders, but PyTensor folds them into a
        broadcast constant, and ``scan`` then keeps a buffer of two entries
        for the state instead of carrying one value.)
        """
        states = [
            like(state[key], pt.constant(np.zeros(kind.shape, dtype=kind.dtype)))
            for key, kind in self.arrays
        ]
        for _, dtypes in self.tuples:
            states.extend(
                pt.cast(param, dtype)
                for param, dtype in zip(self.params, dtypes, strict=True)
            )
        return states

    def pack(self, state, templates):
        """The loop states of ``state``, typed like ``templates``."""
        states = [state[key] for key, _ in self.arrays]
        for key, _ in self.tuples:
            states.extend(state[key])
        return [
            like(value, template)
            for value, template in zip(states, templates, strict=True)
        ]

    def unpack(self, states):
        """The state dictionary of the loop states ``states``."""
        arrays = states[: len(self.arrays)]
        state = {key: v for (key, _), v in zip(self.arrays, arrays, strict=True)}
        position = len(self.arrays)
        for key, _ in self.tuples:
            state[key] = tuple(states[position : position + len(self.params)])
            position += len(self.params)
        return state


def _check_fraction(name, value, low=0.0, high=1.0):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    check_range(name, float(value), low, high, low_open=True, high_open=True)
    return float(value)
