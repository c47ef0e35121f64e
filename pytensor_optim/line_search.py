r"""Line searches: the step size along a direction, found inside the graph.

A rule with a line search builds a :class:`Line` (the parameters :math:`x`,
a direction :math:`d`, and the cost and gradients at :math:`x`) and calls
its search with it; the search returns a :class:`LineSearchResult`. The
built-in searches are :class:`LineSearch` objects: an ``init / step /
done`` triple over a dictionary of scalar (and per-parameter) tensors that
:func:`run` drives inside one ``scan`` with an ``until`` condition. Every
iteration of that loop evaluates the cost and gradients once, at
:math:`x + \alpha d` by graph substitution, so one compiled call performs
the whole search and the number of evaluations is exact.

Rules take a search through their ``line_search=`` argument: a name
(``"strong_wolfe"``, ``"backtracking"``, ``"constant"``), a configured
search (``strong_wolfe(c2=0.1)``), or any callable ``search(line) ->
LineSearchResult``.
"""

import numbers
from typing import NamedTuple

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.replace import graph_replace
from pytensor.scan.utils import until

from ._interpolate import cubic_minimizer, python_max, python_min
from ._validate import check_range
from ._vec import axpy, dot, max_abs

__all__ = [
    "Line",
    "LineSearch",
    "LineSearchResult",
    "Point",
    "backtracking",
    "constant",
    "get_line_search",
    "run",
    "strong_wolfe",
]


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

    Subclasses keep their state in a dictionary of tensors, each a scalar or
    a tuple of tensors aligned with the parameters. The dictionary must hold
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
        mode the rule's updates are compiled with.
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
    budget = line.max_evals if line.max_evals is not None else search.max_evals
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
        # The loop starts from cheap zeros (scan infers the static shape of
        # an initial value through its whole graph, slow for a rule's
        # direction): the first iteration takes init's values instead,
        # computed here from the line's tensors.
        started = packing.pack(
            {
                **search.init(inner),
                "_evals": np.int64(0),
                "_finite": np.bool_(True),
            },
            carried,
        )
        first = pt.eq(packing.unpack(carried)["_evals"], 0)
        state = packing.unpack(
            [
                pt.switch(first, value, old)
                for value, old in zip(started, carried, strict=True)
            ]
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

    # Not a descent direction: no iteration at all. (A lazy ifelse around
    # the loop would not guarantee that: the C VM runs every reader of a
    # parameter before an in-place update of it, and Numba evaluates both
    # branches.)
    descent = pt.lt(line.slope, 0)
    placeholders = packing.placeholders()
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
    chosen = [
        pt.switch(success, line.scalar(step), line.scalar(0)),
        pt.switch(success, line.scalar(cost), line.cost),
        *(
            like(pt.switch(success, g, g0), g0)
            for g, g0 in zip(gradients, line.gradients, strict=True)
        ),
        pt.cast(evals, "int64"),
        success,
        converged,
        non_finite,
    ]
    n = len(line.params)
    return LineSearchResult(
        step=chosen[0],
        cost=chosen[1],
        gradients=tuple(chosen[2 : 2 + n]),
        evals=chosen[2 + n],
        success=chosen[3 + n],
        converged=chosen[4 + n],
        non_finite=chosen[5 + n],
    )


_DRIVER_KEYS = ("_evals", "_finite")


class _Packing:
    """How a search's state dictionary travels through ``scan``.

    The scalars of each dtype go stacked in one vector (scan adds a dozen
    nodes to the graph per loop state), the tuples entry by entry.
    """

    def __init__(self, initial, params):
        self.params = params
        self.scalars = {}  # dtype -> keys
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
                dtype = pt.as_tensor_variable(value).dtype
                self.scalars.setdefault(dtype, []).append(key)
        self.size = len(self.scalars) + len(params) * len(self.tuples)

    def placeholders(self):
        """Zeros of the loop states' types."""
        states = [
            pt.constant(np.zeros(len(keys), dtype=dtype))
            for dtype, keys in self.scalars.items()
        ]
        for _, dtypes in self.tuples:
            states.extend(
                pt.zeros_like(param, dtype=dtype)
                for param, dtype in zip(self.params, dtypes, strict=True)
            )
        return states

    def pack(self, state, templates):
        """The loop states of ``state``, typed like ``templates``."""
        states = [
            pt.stack([pt.cast(state[key], dtype) for key in keys])
            for dtype, keys in self.scalars.items()
        ]
        for key, _ in self.tuples:
            states.extend(state[key])
        return [
            like(value, template)
            for value, template in zip(states, templates, strict=True)
        ]

    def unpack(self, states):
        """The state dictionary of the loop states ``states``."""
        state, position = {}, 0
        for keys in self.scalars.values():
            vector = states[position]
            position += 1
            state.update({key: vector[index] for index, key in enumerate(keys)})
        for key, _ in self.tuples:
            state[key] = tuple(states[position : position + len(self.params)])
            position += len(self.params)
        return state


def loop(body, initial, invariants, n_steps, mode):
    """``scan(body, ...)`` for a symbolic number of steps; the list of outputs.

    ``scan`` infers the static shape of its buffers from ``n_steps`` through
    the whole graph of ``n_steps`` (for a line search, the rule's direction:
    slow to build). The loop is built with a stand-in for ``n_steps``,
    which then replaces it.
    """
    stand_in = pt.lscalar("n_steps")
    outputs = pytensor.scan(
        body,
        outputs_info=list(initial),
        non_sequences=list(invariants),
        n_steps=stand_in,
        return_updates=False,
        mode=mode,
    )
    if not isinstance(outputs, list | tuple):
        outputs = [outputs]
    return graph_replace(list(outputs), {stand_in: pt.cast(n_steps, "int64")})


def last_or(initial, output):
    """The last entry of a ``scan`` output, or ``initial`` after no iteration.

    ``output[-1]`` of an empty output fails even where a ``switch`` would not
    use it; prepending the initial value is always valid. (The index is the
    number of iterations, not -1: PyTensor 3.0 rewrites a negative index into
    a join of inputs of unknown length to the wrong input.)
    """
    return pt.concatenate([pt.shape_padleft(initial), output])[output.shape[0]]


def like(value, template):
    """``value`` with exactly ``template``'s type (scan needs matching types)."""
    value = pt.as_tensor_variable(value)
    if value.dtype != template.dtype:
        value = pt.cast(value, template.dtype)
    if value.type != template.type:
        value = template.type.filter_variable(value, allow_convert=True)
    return value


def check_max_evals(value, name):
    """A positive integer budget of evaluations, or ``ValueError`` naming it."""
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool | np.bool_)
        or value < 1
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_mode(mode):
    """``mode`` for ``scan``: None, a mode's name, or a Mode."""
    if mode is None or isinstance(mode, Mode):
        return mode
    if not isinstance(mode, str):
        raise TypeError(f"mode must be None, a mode's name or a Mode, got {mode!r}")
    try:
        get_mode(mode)
    except Exception as error:
        raise ValueError(f"mode={mode!r} is not a compilation mode") from error
    return mode


def _check_fraction(name, value, low=0.0, high=1.0):
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r}")
    check_range(name, float(value), low, high, low_open=True, high_open=True)
    return float(value)


# ---- strong Wolfe (torch.optim.LBFGS's search) ---------------------------------
_BRACKETING, _ZOOM, _FINISHED = 0, 1, 2


class _StrongWolfe(LineSearch):
    name = "strong_wolfe"

    def __init__(self, c1, c2, tolerance_change, max_evals, mode):
        self.mode = _check_mode(mode)
        self.c1 = _check_fraction("c1", c1)
        self.c2 = _check_fraction("c2", c2, low=self.c1)
        if isinstance(tolerance_change, bool) or not isinstance(
            tolerance_change, numbers.Real
        ):
            raise TypeError(
                f"tolerance_change must be a number, got {tolerance_change!r}"
            )
        check_range("tolerance_change", float(tolerance_change), low=0)
        self.tolerance_change = float(tolerance_change)
        self.max_evals = check_max_evals(max_evals, "max_evals")

    def _options(self):
        return (
            ("c1", self.c1),
            ("c2", self.c2),
            ("tolerance_change", self.tolerance_change),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def init(self, line):
        start = _start_record(line)
        return {
            "trial": line.initial_step,
            "phase": pt.constant(np.int8(_BRACKETING)),
            "done": pt.constant(np.bool_(False)),
            "insufficient": pt.constant(np.bool_(False)),
            "low_is_b": pt.constant(np.bool_(False)),
            # bracket[0] ("a"): in the bracketing phase the previous point
            **{f"a_{key}": value for key, value in start.items()},
            # bracket[1] ("b")
            **{f"b_{key}": value for key, value in start.items()},
            # The gradients of the low end (of the previous point while
            # bracketing): only the low end is ever returned, and a point
            # becomes the low end when it is evaluated. Those of the start
            # are never returned from here (the start means failure).
            "gradients": line.zeros(),
        }

    def done(self, line, state):
        return pt.eq(state["phase"], _FINISHED)

    def result(self, line, state):
        low_is_b = state["low_is_b"]
        step = pt.switch(low_is_b, state["b_step"], state["a_step"])
        cost = pt.switch(low_is_b, state["b_cost"], state["a_cost"])
        # the start (step 0) can be the lowest bracket end: then nothing moves
        return step, cost, state["gradients"], pt.neq(step, 0), state["done"]

    def step(self, line, state, point, evals):
        c1, c2 = line.scalar(self.c1), line.scalar(self.c2)
        f0, slope0 = line.cost, line.slope
        # torch's ls_iter: the evaluations after the first one
        iteration = evals - 1
        in_budget = pt.lt(iteration, line.max_evals - 1)
        bracketing = pt.eq(state["phase"], _BRACKETING)
        low_is_b = state["low_is_b"]
        trial = state["trial"]
        a = {key: state[f"a_{key}"] for key in _RECORD}
        b = {key: state[f"b_{key}"] for key in _RECORD}
        new = {"step": trial, "cost": point.cost, "slope": point.slope}
        armijo_fails = pt.gt(point.cost, f0 + c1 * trial * slope0)
        curvature = pt.le(pt.abs(point.slope), -c2 * slope0)

        # Bracketing (a is the previous trial). The first test that holds
        # decides: out of budget, the bracket is [0, new]; not lower (from
        # the third trial on) or failing Armijo, [a, new]; strong Wolfe,
        # done at new; a non-negative slope, [a, new]; else extrapolate.
        not_lower = pt.and_(pt.gt(iteration, 1), pt.ge(point.cost, a["cost"]))
        by_value = pt.or_(armijo_fails, not_lower)
        by_slope = pt.and_(pt.invert(curvature), pt.ge(point.slope, 0))
        exhausted = pt.invert(in_budget)
        found = pt.and_(in_budget, pt.and_(pt.invert(by_value), curvature))
        closed = pt.and_(in_budget, pt.or_(by_value, by_slope))
        extrapolate = pt.and_(
            in_budget, pt.invert(pt.or_(by_value, pt.or_(curvature, by_slope)))
        )
        a_bracketing = pt.switch(exhausted, _START, pt.switch(extrapolate, _NEW, _KEEP))
        b_bracketing = pt.switch(extrapolate, _KEEP, _NEW)

        # Zoom: the new point replaces the high end when it fails Armijo or
        # is not below the low end; else it becomes the low end, and the old
        # low end becomes the high end when the slope points away from it.
        low_cost = pt.switch(low_is_b, b["cost"], a["cost"])
        low_step = pt.switch(low_is_b, b["step"], a["step"])
        high_step = pt.switch(low_is_b, a["step"], b["step"])
        replace_high = pt.or_(armijo_fails, pt.ge(point.cost, low_cost))
        wolfe = pt.and_(pt.invert(replace_high), curvature)
        flip = pt.and_(
            pt.and_(pt.invert(replace_high), pt.invert(curvature)),
            pt.ge(point.slope * (high_step - low_step), 0),
        )
        new_to_a = pt.eq(replace_high, low_is_b)
        a_zoom = pt.switch(new_to_a, _NEW, pt.switch(flip, _OTHER, _KEEP))
        b_zoom = pt.switch(new_to_a, pt.switch(flip, _OTHER, _KEEP), _NEW)

        a_source = pt.switch(bracketing, a_bracketing, a_zoom)
        b_source = pt.switch(bracketing, b_bracketing, b_zoom)
        new_a = _pick(a_source, a, b, new, _start_record(line))
        new_b = _pick(b_source, b, a, new)
        new_low_is_b = pt.switch(
            bracketing,
            pt.or_(found, pt.gt(new_a["cost"], new_b["cost"])),
            pt.switch(replace_high, pt.gt(new_a["cost"], new_b["cost"]), low_is_b),
        )
        # the new point's gradients are kept when it is the low end (or,
        # extrapolating, the previous point of the next trial)
        extrapolating = pt.and_(bracketing, extrapolate)
        new_in_b = pt.switch(bracketing, pt.invert(extrapolate), pt.invert(new_to_a))
        takes_new = pt.or_(extrapolating, pt.eq(new_in_b, new_low_is_b))
        gradients = tuple(
            pt.switch(takes_new, g_new, g_low)
            for g_new, g_low in zip(point.gradients, state["gradients"], strict=True)
        )
        done = pt.switch(bracketing, found, wolfe)

        # The zoom goes on while not done, in budget, and the bracket times
        # max|d| is at least tolerance_change.
        width = pt.abs(new_b["step"] - new_a["step"])
        too_short = pt.lt(width * line.direction_max_abs, self.tolerance_change)
        zooming = pt.or_(pt.invert(bracketing), closed)
        keep_zooming = pt.and_(
            pt.and_(zooming, pt.invert(done)), pt.and_(in_budget, pt.invert(too_short))
        )
        phase = pt.switch(
            pt.and_(bracketing, extrapolate),
            _BRACKETING,
            pt.switch(keep_zooming, _ZOOM, _FINISHED),
        )

        # The next trial: the cubic through a and the new point within
        # [t + 0.01 (t - t_prev), 10 t] when extrapolating, else through the
        # bracket ends within the bracket, kept away from its ends.
        top = python_max(new_a["step"], new_b["step"])
        bottom = python_min(new_a["step"], new_b["step"])
        first, second = (
            {
                key: pt.switch(extrapolating, old[key], bracket[key])
                for key in ("step", "cost", "slope")
            }
            for old, bracket in ((a, new_a), (new, new_b))
        )
        low = pt.switch(
            extrapolating, trial + line.scalar(0.01) * (trial - a["step"]), bottom
        )
        high = pt.switch(extrapolating, trial * line.scalar(10), top)
        cubic = cubic_minimizer(
            first["step"],
            first["cost"],
            first["slope"],
            second["step"],
            second["cost"],
            second["slope"],
            low=low,
            high=high,
        )
        insufficient = pt.and_(pt.invert(bracketing), state["insufficient"])
        safeguarded, insufficient = _away_from_ends(
            line, cubic, bottom, top, insufficient
        )
        return {
            "trial": pt.switch(extrapolating, cubic, safeguarded),
            "phase": phase,
            "done": done,
            "insufficient": insufficient,
            "low_is_b": new_low_is_b,
            **{f"a_{key}": value for key, value in new_a.items()},
            **{f"b_{key}": value for key, value in new_b.items()},
            "gradients": gradients,
        }


# where a bracket end's new record comes from (see _pick)
_KEEP, _OTHER, _NEW, _START = 0, 1, 2, 3
_RECORD = ("step", "cost", "slope")


def _pick(source, keep, other, new, start=None):
    """The record (step, cost, slope) chosen by the scalar code ``source``.

    ``source`` is _KEEP, _OTHER, _NEW, or _START (only when ``start`` is
    given).
    """
    is_new, is_other = pt.eq(source, _NEW), pt.eq(source, _OTHER)
    picked = {}
    for key in _RECORD:
        kept = keep[key]
        if start is not None:
            kept = pt.switch(pt.eq(source, _START), start[key], kept)
        picked[key] = pt.switch(is_new, new[key], pt.switch(is_other, other[key], kept))
    return picked


def _start_record(line):
    """The record of the start, step 0."""
    return {"step": line.scalar(0), "cost": line.cost, "slope": line.slope}


def _away_from_ends(line, trial, bottom, top, insufficient):
    """torch's insufficient-progress safeguard of a zoom step in [bottom, top].

    A trial within 10% of the bracket's width from an end is kept the first
    time (and ``insufficient`` set); the next time, or when it is on or past
    an end, it moves to 10% of the width from the nearer end.
    """
    margin = line.scalar(0.1) * (top - bottom)
    near_end = pt.lt(python_min(top - trial, trial - bottom), margin)
    at_end = pt.or_(insufficient, pt.or_(pt.ge(trial, top), pt.le(trial, bottom)))
    moved = pt.switch(
        pt.lt(pt.abs(trial - top), pt.abs(trial - bottom)),
        top - margin,
        bottom + margin,
    )
    trial = pt.switch(pt.and_(near_end, at_end), moved, trial)
    return trial, pt.and_(near_end, pt.invert(at_end))


def strong_wolfe(c1=1e-4, c2=0.9, tolerance_change=1e-9, max_evals=26, mode=None):
    r"""The strong Wolfe search of ``torch.optim.LBFGS`` (minFunc, Lua ``lswolfe``).

    With :math:`\phi(\alpha) = f(x + \alpha d)`, a step is accepted when

    .. math::

        \phi(\alpha) \le \phi(0) + c_1 \alpha \phi'(0)
        \quad\text{and}\quad
        |\phi'(\alpha)| \le -c_2 \phi'(0).

    Bracketing from the initial step: a trial that fails the first
    condition (or, from the third trial on, is not lower than the previous
    one), or whose slope is non-negative, closes a bracket with the previous
    trial; otherwise the next trial is the minimiser of the cubic through
    the last two, within :math:`[\alpha + 0.01(\alpha - \alpha_{prev}),
    10\alpha]`. Zoom: the cubic minimiser within the bracket, moved to 10% of
    the bracket's width from its nearer end when it comes close to an end
    twice in a row (or lands on or past one); the trial replaces the high
    end when it fails the first condition or is not lower than the low end,
    else becomes the low end (the old low end becomes the high end when the
    slope points away from it). The zoom stops when the bracket times
    :math:`\max|d|` is shorter than ``tolerance_change``.

    When the budget runs out, or the bracket becomes too short, the lowest
    bracket end is returned, as in torch: ``success`` (the parameters move)
    when it is not the start, but ``converged`` is false. The start is one of
    the ends only when the first bracket starts at 0 or after ``max_evals``
    bracketing trials.

    Parameters
    ----------
    c1, c2 : float
        The sufficient decrease and curvature constants,
        :math:`0 < c_1 < c_2 < 1` (use ``c2=0.1`` for conjugate gradients).
    tolerance_change : float
        The shortest bracket, in units of :math:`\max|d|`.
    max_evals : int, default 26
        The most evaluations: torch's ``max_ls=25`` iterations after the
        first trial.
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.

    Returns
    -------
    LineSearch

    Examples
    --------
    >>> from pytensor_optim.line_search import strong_wolfe
    >>> strong_wolfe(c2=0.1)
    strong_wolfe(c1=0.0001, c2=0.1, tolerance_change=1e-09, max_evals=26)
    """
    return _StrongWolfe(c1, c2, tolerance_change, max_evals, mode)


# ---- Armijo backtracking -------------------------------------------------------
class _Backtracking(LineSearch):
    name = "backtracking"
    stop_on_non_finite = False

    def __init__(self, c1, shrink, max_evals, mode):
        self.mode = _check_mode(mode)
        self.c1 = _check_fraction("c1", c1)
        self.shrink = _check_fraction("shrink", shrink)
        self.max_evals = check_max_evals(max_evals, "max_evals")

    def _options(self):
        return (
            ("c1", self.c1),
            ("shrink", self.shrink),
            ("max_evals", self.max_evals),
            *self._mode_option(),
        )

    def init(self, line):
        start = line.start()
        return {
            "trial": line.initial_step,
            "accepted": pt.constant(np.bool_(False)),
            "step": start.step,
            "cost": start.cost,
            "gradients": line.zeros(),
        }

    def step(self, line, state, point, evals):
        bound = line.cost + line.scalar(self.c1) * point.step * line.slope
        # NaN compares false: a non-finite trial is rejected and shrunk
        accepted = pt.and_(point.finite, pt.le(point.cost, bound))
        return {
            "trial": point.step * line.scalar(self.shrink),
            "accepted": accepted,
            "step": point.step,
            "cost": point.cost,
            "gradients": point.gradients,
        }

    def done(self, line, state):
        return state["accepted"]

    def result(self, line, state):
        accepted = state["accepted"]
        return state["step"], state["cost"], state["gradients"], accepted, accepted


def backtracking(c1=1e-4, shrink=0.5, max_evals=20, mode=None):
    r"""Armijo backtracking: shrink the step until the cost decreases enough.

    Trials :math:`\alpha_k = \alpha_0 \rho^k` (``shrink`` :math:`= \rho`)
    until

    .. math:: \phi(\alpha_k) \le \phi(0) + c_1 \alpha_k \phi'(0),

    which is mize's ``backtracking`` with a fixed ``step_down`` factor
    (minFunc's ``ArmijoBacktrack`` without interpolation). A NaN or infinite
    trial is rejected like one that fails the condition. Unlike mize, the
    factor is used as given (mize caps it at 0.6) and no minimum step ends
    the search early: it fails when ``max_evals`` trials were rejected.

    Parameters
    ----------
    c1 : float
        The sufficient decrease constant, :math:`0 < c_1 < 1`.
    shrink : float
        :math:`0 < \rho < 1`.
    max_evals : int, default 20
        The most evaluations (mize's ``ls_max_fn``).
    mode : str, Mode or None
        The compilation mode of the search loop; see :class:`LineSearch`.

    Returns
    -------
    LineSearch

    Examples
    --------
    >>> from pytensor_optim.line_search import backtracking
    >>> backtracking(shrink=0.3)
    backtracking(c1=0.0001, shrink=0.3, max_evals=20)
    """
    return _Backtracking(c1, shrink, max_evals, mode)


# ---- constant step -------------------------------------------------------------
class _Constant(LineSearch):
    name = "constant"
    max_evals = 1

    def init(self, line):
        start = line.start()
        return {
            "trial": line.initial_step,
            "step": start.step,
            "cost": start.cost,
            "gradients": line.zeros(),
        }

    def step(self, line, state, point, evals):
        return {
            "trial": point.step,
            "step": point.step,
            "cost": point.cost,
            "gradients": point.gradients,
        }

    def done(self, line, state):
        return pt.constant(np.bool_(True))

    def result(self, line, state):
        yes = pt.constant(np.bool_(True))
        return state["step"], state["cost"], state["gradients"], yes, yes


def constant():
    r"""The initial step, always accepted: :math:`\alpha = \alpha_0`.

    One evaluation, at :math:`x + \alpha_0 d`: the rule keeps the cost and
    gradients found there for its next call, so a rule with this search
    evaluates once per call like a first-order rule, only at the end of the
    call instead of its start. A NaN or infinite value there ends the search
    with ``non_finite`` (the parameters do not move).

    Returns
    -------
    LineSearch

    Examples
    --------
    >>> from pytensor_optim.line_search import constant
    >>> constant()
    constant()
    """
    return _Constant()


_BY_NAME = {
    "strong_wolfe": strong_wolfe,
    "backtracking": backtracking,
    "constant": constant,
}


def get_line_search(line_search, name="line_search"):
    """The search a rule's ``line_search=`` argument names.

    Parameters
    ----------
    line_search : str, callable or None
        A name (``"strong_wolfe"``, ``"backtracking"``, ``"constant"``, with
        default options), a configured search such as
        ``strong_wolfe(c2=0.1)``, or any callable ``search(line) ->
        LineSearchResult``. ``None`` is returned as is.
    name : str
        The argument's name, for error messages.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything else that is not callable.
    """
    if line_search is None or (
        callable(line_search) and not isinstance(line_search, str)
    ):
        return line_search
    if isinstance(line_search, str):
        if line_search not in _BY_NAME:
            raise ValueError(
                f"{name}={line_search!r} is not a line search; use one of "
                f"{sorted(_BY_NAME)}, a configured search such as "
                "strong_wolfe(c2=0.1), or a callable"
            )
        return _BY_NAME[line_search]()
    raise TypeError(
        f"{name} must be a name, a line search or a callable, got {line_search!r}"
    )
