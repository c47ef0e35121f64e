"""Bridges to :func:`scipy.optimize.minimize`, in both directions.

* :class:`ScipyOptimizer` runs SciPy's minimisers on PyTensor shared
  variables (TensorFlow's ``ScipyOptimizerInterface`` for PyTensor).
* :func:`scipy_minimize` runs the library's rules behind SciPy's
  ``minimize`` signature, and :func:`as_scipy_method` turns a rule into a
  custom ``method=`` for ``scipy.optimize.minimize`` itself.
"""

import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytensor
import pytensor.tensor as pt
import scipy.optimize
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.replace import graph_replace
from pytensor.tensor.variable import TensorVariable
from scipy.optimize import Bounds, NonlinearConstraint, OptimizeResult
from scipy.sparse.linalg import LinearOperator

from .._algorithms import ALGORITHMS, derivative_free
from .._stopping import Status
from ..conjugate import cg
from ..curvature import hessian_free
from ..newton import truncated_newton
from ..quasi_newton import bfgs, lbfgs
from ._numpy import _MODE, _algorithm, minimize_iterator
from ._ops import evaluate

__all__ = ["ScipyOptimizer", "as_scipy_method", "scipy_minimize"]

# SciPy warns when these methods are given a gradient: they get the cost only.
_GRADIENT_FREE = frozenset({"nelder-mead", "powell", "cobyla", "cobyqa"})
# Methods that take ``hessp`` (a Hessian-vector product of the cost).
_HESSP = frozenset({"newton-cg", "trust-ncg", "trust-krylov", "trust-constr"})
# Methods whose native constraint form is ``NonlinearConstraint``.
_NEW_CONSTRAINTS = frozenset({"trust-constr", "cobyqa"})
# Arguments of ``scipy.optimize.minimize`` that ScipyOptimizer sets itself.
_RESERVED = frozenset(
    {
        "fun",
        "x0",
        "args",
        "jac",
        "method",
        "bounds",
        "constraints",
        "callback",
        "options",
    }
)


# ---------------------------------------------------------------------------
# argument checks
# ---------------------------------------------------------------------------
def _leaves(outputs):
    """Root variables of ``outputs``, in order of first appearance.

    The walk is depth first and visits each node's inputs left to right, so
    ``(a ** 2).sum() + (b ** 2).sum()`` gives ``a`` before ``b``.
    """
    seen, order = set(), []
    stack = list(reversed(outputs))
    while stack:
        variable = stack.pop()
        if variable in seen:
            continue
        seen.add(variable)
        if variable.owner is None:
            order.append(variable)
        else:
            stack.extend(reversed(variable.owner.inputs))
    return order


def _is_float_shared(variable) -> bool:
    return (
        isinstance(variable, SharedVariable)
        and isinstance(variable, TensorVariable)
        and variable.dtype.startswith("float")
    )


def _check_cost(cost):
    if not isinstance(cost, Variable):
        raise TypeError(
            f"cost must be a scalar symbolic expression, got {type(cost).__name__}"
        )
    if getattr(cost.type, "ndim", None) != 0:
        raise ValueError(f"cost must be a scalar expression, got {cost.type}")
    if not cost.dtype.startswith("float"):
        raise TypeError(f"cost must have a float dtype, got {cost.dtype}")
    return cost


def _check_expressions(values, name, scalar=True):
    if values is None:
        return []
    if isinstance(values, Variable):
        values = [values]
    if not isinstance(values, list | tuple):
        raise TypeError(
            f"{name} must be a list of symbolic expressions, got "
            f"{type(values).__name__}"
        )
    for index, value in enumerate(values):
        if not isinstance(value, TensorVariable):
            raise TypeError(
                f"{name}[{index}] must be a symbolic tensor expression, got "
                f"{type(value).__name__}: {value!r}"
            )
        if scalar and value.ndim != 0:
            raise ValueError(
                f"{name}[{index}] must be a scalar expression, got {value.type}"
            )
    return list(values)


def _check_inputs(inputs):
    if inputs is None:
        return []
    if isinstance(inputs, Variable):
        inputs = [inputs]
    if not isinstance(inputs, list | tuple):
        raise TypeError(
            f"inputs must be a list of symbolic variables, got {type(inputs).__name__}"
        )
    for index, variable in enumerate(inputs):
        if (
            not isinstance(variable, Variable)
            or variable.owner is not None
            or isinstance(variable, SharedVariable | Constant)
        ):
            raise TypeError(
                f"inputs[{index}] must be a symbolic input variable (such as "
                f"pt.vector('data')), not a shared variable, constant or "
                f"expression; got {variable!r}"
            )
    return list(inputs)


def _check_givens(givens):
    if givens is None:
        return {}
    if isinstance(givens, Mapping):
        pairs = list(givens.items())
    elif isinstance(givens, list | tuple):
        pairs = list(givens)
    else:
        raise TypeError(
            f"givens must be a mapping or a list of (variable, replacement) pairs, "
            f"got {type(givens).__name__}"
        )
    replace = {}
    for pair in pairs:
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError("givens must be a list of (variable, replacement) pairs")
        variable, replacement = pair
        if not isinstance(variable, Variable):
            raise TypeError(f"givens keys must be symbolic variables, got {variable!r}")
        if not isinstance(replacement, Variable):
            replacement = pt.as_tensor_variable(replacement)
        replace[variable] = variable.type.filter_variable(
            replacement, allow_convert=True
        )
    return replace


def _check_params(params, cost, replace):
    if params is None:
        # Found before the substitution: shared variables that ``givens``
        # brings in are data, those it replaces are gone.
        found = [v for v in _leaves([cost]) if _is_float_shared(v) and v not in replace]
        if not found:
            raise ValueError(
                "cost depends on no float shared variable: pass params explicitly"
            )
        return tuple(found)
    if isinstance(params, Variable):
        params = [params]
    if not isinstance(params, list | tuple) or not params:
        raise TypeError(
            f"params must be a non-empty list of float shared variables, got {params!r}"
        )
    for index, param in enumerate(params):
        if not isinstance(param, SharedVariable) or not isinstance(
            param, TensorVariable
        ):
            raise TypeError(
                f"params[{index}] must be a shared tensor variable (its value is "
                f"the starting point and receives the result), got "
                f"{type(param).__name__}: {param!r}"
            )
        if not param.dtype.startswith("float"):
            raise TypeError(
                f"params[{index}] ({param}) must have a float dtype, got {param.dtype}"
            )
        if any(param is other for other in params[:index]):
            raise ValueError(f"params[{index}] ({param}) appears more than once")
        if param in replace:
            raise ValueError(
                f"params[{index}] ({param}) is replaced by givens, so it cannot be "
                "optimised"
            )
    return tuple(params)


def _check_used(params, outputs):
    """Raise ValueError for a parameter that no output depends on.

    SciPy would see a zero gradient for it and report convergence with the
    parameter left where it was, which hides a mistake (a parameter that
    ``givens`` cut off, or a cost built from other variables).
    """
    leaves = set(_leaves(outputs))
    for index, param in enumerate(params):
        if param not in leaves:
            raise ValueError(
                f"params[{index}] ({param}) does not appear in the cost or the "
                "constraints, so minimising cannot move it: remove it from params"
            )


def _check_closed(outputs, known, name):
    """Raise ValueError when ``outputs`` need a symbolic input not in ``known``."""
    for variable in _leaves(outputs):
        if (
            variable.owner is None
            and not isinstance(variable, SharedVariable | Constant)
            and variable not in known
        ):
            raise ValueError(
                f"{name} depends on the symbolic variable {variable} "
                f"({variable.type}), which is neither in inputs nor replaced by "
                "givens"
            )


def _bound_side(value, default, shape, label, side):
    if value is None:
        return np.full(shape, default)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"bounds for {label}: the {side} bound must be a number, an array or "
            f"None, got {value!r}"
        ) from error
    if np.isnan(array).any():
        raise ValueError(f"bounds for {label}: the {side} bound contains NaN")
    try:
        return np.broadcast_to(array, shape)
    except ValueError:
        raise ValueError(
            f"bounds for {label}: the {side} bound of shape {array.shape} does not "
            f"broadcast to the parameter's shape {shape}"
        ) from None


def _check_bounds(bounds, params, shapes, labels):
    """SciPy ``Bounds`` over the packed vector, or None when nothing is bounded."""
    if bounds is None:
        return None
    if not isinstance(bounds, Mapping):
        raise TypeError(
            f"bounds must be a dict {{parameter: (low, high)}}, got "
            f"{type(bounds).__name__}"
        )
    for key in bounds:
        if not any(key is param for param in params):
            raise ValueError(f"bounds has a key that is not one of params: {key!r}")
    lower, upper = [], []
    for param, shape, label in zip(params, shapes, labels, strict=True):
        pair = bounds.get(param, (None, None))
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise ValueError(
                f"bounds for {label} must be a (low, high) pair, got {pair!r}"
            )
        low = _bound_side(pair[0], -np.inf, shape, label, "low")
        high = _bound_side(pair[1], np.inf, shape, label, "high")
        if np.any(low > high):
            where = tuple(int(i) for i in np.argwhere(low > high)[0])
            raise ValueError(
                f"bounds for {label}: low > high at index {where} "
                f"({low[where]} > {high[where]})"
            )
        lower.append(low.ravel())
        upper.append(high.ravel())
    lower, upper = np.concatenate(lower), np.concatenate(upper)
    if np.isinf(lower).all() and np.isinf(upper).all():
        return None
    return Bounds(lower, upper)


def _hessian_vector_product(scalar, params, direction, offsets):
    """The Hessian of ``scalar`` w.r.t. ``params`` times ``direction`` (packed).

    Computed as the gradient of ``gradient · direction``, so the Hessian is
    never formed.
    """
    gradients = pytensor.grad(scalar, list(params), disconnected_inputs="ignore")
    inner = sum(
        (g.astype("float64") * direction[int(start) : int(stop)].reshape(g.shape)).sum()
        for g, start, stop in zip(gradients, offsets[:-1], offsets[1:], strict=True)
    )
    products = pytensor.grad(inner, list(params), disconnected_inputs="ignore")
    return pt.concatenate([h.ravel().astype("float64") for h in products])


def _rows(expressions, params):
    """Each expression's gradient w.r.t. ``params``, flattened into a row."""
    rows = []
    for expression in expressions:
        gradients = pytensor.grad(
            expression, list(params), disconnected_inputs="ignore"
        )
        rows.append(pt.concatenate([g.ravel().astype("float64") for g in gradients]))
    return pt.stack(rows)


class _LastPoint:
    """A compiled function of ``x`` remembered at the last point.

    SciPy asks for equality and inequality values (and Jacobians) one after
    the other at the same point; one compiled call serves both.
    """

    def __init__(self, function, values):
        self.function = function
        self.values = values
        self.point = None
        self.outputs = None

    def __call__(self, x):
        if self.point is None or not np.array_equal(x, self.point):
            self.outputs = self.function(_as_point(x), *self.values)
            self.point = np.array(x, dtype=np.float64)
        return self.outputs


def _as_point(x):
    return np.ascontiguousarray(x, dtype=np.float64)


# ---------------------------------------------------------------------------
# ScipyOptimizer
# ---------------------------------------------------------------------------
class ScipyOptimizer:
    r"""Minimise a PyTensor cost over shared variables with SciPy.

    The PyTensor counterpart of TensorFlow's ``ScipyOptimizerInterface``:
    the parameters are packed into one float64 vector, SciPy's
    :func:`scipy.optimize.minimize` runs on functions compiled from the cost,
    its gradient and the constraints, and the shared variables receive the
    solution when the run ends.

    Parameters
    ----------
    cost : scalar TensorVariable
        The expression to minimise (float32 or float64).
    params : list of shared variables, optional
        The float shared variables to optimise; their current values are the
        starting point. Default: every float shared variable the cost depends
        on (before ``givens`` are applied, so that shared variables brought in
        by ``givens`` are data, not parameters), in order of first appearance
        in the cost's graph: a depth-first walk from the cost that visits each
        operation's inputs left to right, so ``(a ** 2).sum() + (b ** 2).sum()``
        gives ``(a, b)``. This order is the order of the packed vector.
        Variables that only appear in the constraints must be listed
        explicitly.
    equalities : list of scalar expressions, optional
        Constraints held equal to zero.
    inequalities : list of scalar expressions, optional
        Constraints held non-negative (:math:`c(x) \ge 0`).
    bounds : dict, optional
        ``{param: (low, high)}`` (TensorFlow's ``var_to_bounds``). Each side
        is a number, an array that :func:`numpy.broadcast_to` broadcasts to
        the parameter's shape, or ``None`` (or ``-inf``/``inf``) for no bound.
        Parameters without an entry are unbounded.
    method : str or callable, default "L-BFGS-B"
        Passed to :func:`scipy.optimize.minimize`. Use ``"SLSQP"`` or
        ``"trust-constr"`` with constraints.
    options : dict, optional
        SciPy's ``options`` for the method (``{"maxiter": 100}``).
    inputs : list of symbolic variables, optional
        Non-shared inputs of the cost or the constraints (data); their values
        are given to :meth:`minimize` as ``input_values``.
    givens : dict or list of pairs, optional
        Substitutions ``{variable: replacement}`` applied to the cost, the
        constraints and the fetches before differentiation, like the
        ``givens`` of :func:`pytensor.function` (e.g. a symbolic data variable
        replaced by a shared one). A parameter cannot be replaced.

    Attributes
    ----------
    params : tuple of shared variables
        The optimised variables, in the order of the packed vector.
    bounds : scipy.optimize.Bounds or None
        The bounds over the packed vector (``None`` when nothing is bounded).
    method, options
        As given.

    Raises
    ------
    TypeError
        For a cost that is not a float expression, params that are not float
        shared variables, constraints that are not expressions.
    ValueError
        For a non-scalar cost or constraint, duplicate params, a parameter
        that neither the cost nor the constraints depend on (SciPy would
        report convergence without moving it), bounds that do not broadcast
        to their parameter's shape or have ``low > high``, and symbolic
        inputs that are neither in ``inputs`` nor in ``givens``.

    Notes
    -----
    **How SciPy's point reaches PyTensor.** The compiled functions take the
    packed float64 vector ``x`` as their input: each parameter is replaced
    (``givens``) by its slice of ``x``, reshaped and cast to the parameter's
    dtype, so a float32 parameter is evaluated in float32. The shared
    variables are not touched while SciPy runs; they are set once, from the
    result's ``x`` (cast back to their dtypes), when SciPy returns — also when
    SciPy reports a failure, as TensorFlow does. If an exception interrupts
    the run, they keep their values.

    **What is compiled.** The cost and its gradient are compiled into one
    function returning both (SciPy's ``jac=True``), together with the
    ``fetches`` when there are some; for Nelder-Mead, Powell, COBYLA and
    COBYQA, which use no gradient, the function returns the cost only. The
    equality and inequality values are one compiled function, their
    Jacobians another (rows from :func:`pytensor.grad`). All are compiled
    with the C VM on the first :meth:`minimize` and reused by later calls
    (one function per distinct ``fetches`` list).

    **Constraints.** For SLSQP (and other methods) they are passed as
    SciPy's dicts, ``{"type": "eq" | "ineq", "fun": ..., "jac": ...}``, one
    per kind, returning the stacked values and Jacobian. For
    ``"trust-constr"`` and ``"COBYQA"`` they are
    :class:`scipy.optimize.NonlinearConstraint` objects,
    ``NonlinearConstraint(eq, 0, 0, jac=..., hess=...)`` and
    ``NonlinearConstraint(ineq, 0, inf, jac=..., hess=...)``, where ``hess``
    returns the exact Hessian of the multiplier-weighted constraints as a
    :class:`~scipy.sparse.linalg.LinearOperator` (Hessian-vector products
    compiled by PyTensor, one more function).

    **Hessians.** Newton-CG, trust-ncg, trust-krylov and trust-constr get
    ``hessp``, the cost's Hessian-vector product compiled by PyTensor,
    unless ``hess`` or ``hessp`` is passed to :meth:`minimize`. Methods that
    need the Hessian matrix (dogleg, trust-exact) need ``hess=``, a function
    of the packed vector.

    Examples
    --------
    The first example of TensorFlow's documentation:

    >>> import numpy as np
    >>> import pytensor
    >>> from pytensor_optim import ScipyOptimizer
    >>> vector = pytensor.shared(np.array([7.0, 7.0]), name="vector")
    >>> loss = (vector ** 2).sum()
    >>> optimizer = ScipyOptimizer(loss, options={"maxiter": 100})
    >>> result = optimizer.minimize()
    >>> bool(result.success), vector.get_value().round(6) + 0.0
    (True, array([0., 0.]))
    """

    def __init__(
        self,
        cost,
        params=None,
        equalities=None,
        inequalities=None,
        bounds=None,
        method: str | Callable = "L-BFGS-B",
        options: Mapping | None = None,
        inputs=None,
        givens=None,
    ):
        cost = _check_cost(cost)
        equalities = _check_expressions(equalities, "equalities")
        inequalities = _check_expressions(inequalities, "inequalities")
        self.inputs = _check_inputs(inputs)
        self._replace = _check_givens(givens)
        self.params = _check_params(params, cost, self._replace)
        if self._replace:
            count = len(equalities)
            cost, *constraints = graph_replace(
                [cost, *equalities, *inequalities], self._replace, strict=False
            )
            equalities, inequalities = constraints[:count], constraints[count:]
        _check_closed([cost], self.inputs, "cost")
        _check_closed(equalities, self.inputs, "equalities")
        _check_closed(inequalities, self.inputs, "inequalities")
        _check_used(self.params, [cost, *equalities, *inequalities])

        values = [param.get_value(borrow=True) for param in self.params]
        self._shapes = tuple(value.shape for value in values)
        self._dtypes = tuple(np.dtype(param.dtype) for param in self.params)
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self._shapes]
        self._offsets = np.cumsum([0, *sizes])
        labels = [
            param.name if param.name else f"params[{index}]"
            for index, param in enumerate(self.params)
        ]
        self.bounds = _check_bounds(bounds, self.params, self._shapes, labels)
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict, got {type(options).__name__}")
        self.method = method
        self.options = None if options is None else dict(options)

        # The packed point SciPy works on, and each parameter as a piece of it.
        self._x = pt.vector("x", dtype="float64")
        self._givens = {}
        for param, shape, start, stop in zip(
            self.params,
            self._shapes,
            self._offsets[:-1],
            self._offsets[1:],
            strict=True,
        ):
            piece = self._x[int(start) : int(stop)].reshape(shape)
            self._givens[param] = param.type.filter_variable(
                piece.astype(param.dtype), allow_convert=True
            )
        self._cost = cost
        gradients = pytensor.grad(cost, list(self.params), disconnected_inputs="ignore")
        self._gradient = pt.concatenate(
            [g.ravel().astype("float64") for g in gradients]
        )
        self._equalities = equalities
        self._inequalities = inequalities
        self._functions = {}

    # ---- compilation -----------------------------------------------------
    def _compile(self, outputs, extra_inputs=()):
        function = pytensor.function(
            [self._x, *extra_inputs, *self.inputs],
            outputs,
            givens=self._givens,
            mode=_MODE,
            on_unused_input="ignore",
        )
        # Inputs are converted once per run (``_input_values``), so the many
        # calls SciPy makes skip PyTensor's per-call input checks.
        function.trust_input = True
        return function

    def _loss_function(self, fetches, gradient):
        # Keyed by the fetches as given: ``givens`` makes new variables.
        key = ("loss", gradient, *fetches)
        if key not in self._functions:
            if fetches and self._replace:
                fetches = graph_replace(fetches, self._replace, strict=False)
            _check_closed(fetches, self.inputs, "fetches")
            outputs = [self._cost.astype("float64")]
            if gradient:
                outputs.append(self._gradient)
            self._functions[key] = self._compile([*outputs, *fetches])
        return self._functions[key]

    def _constraint_functions(self):
        if "constraints" not in self._functions:
            kinds = [c for c in (self._equalities, self._inequalities) if c]
            values = [pt.stack([c.astype("float64") for c in kind]) for kind in kinds]
            jacobians = [_rows(kind, self.params) for kind in kinds]
            self._functions["constraints"] = (
                self._compile(values),
                self._compile(jacobians),
            )
        return self._functions["constraints"]

    def _cost_hessp(self):
        """``hessp(x, p, *inputs)``: the cost's Hessian times ``p``."""
        if "hessp" not in self._functions:
            direction = pt.vector("direction", dtype="float64")
            product = _hessian_vector_product(
                self._cost, self.params, direction, self._offsets
            )
            self._functions["hessp"] = self._compile(product, [direction])
        return self._functions["hessp"]

    def _constraint_hessp(self):
        """``(x, v, p, *inputs)``: the Hessian of ``v · c(x)`` times ``p``.

        ``c`` stacks the equalities, then the inequalities; one function
        serves both kinds (the other kind's multipliers are zero).
        """
        if "constraint hessp" not in self._functions:
            constraints = [*self._equalities, *self._inequalities]
            multipliers = pt.vector("multipliers", dtype="float64")
            direction = pt.vector("direction", dtype="float64")
            lagrangian = (
                multipliers * pt.stack([c.astype("float64") for c in constraints])
            ).sum()
            product = _hessian_vector_product(
                lagrangian, self.params, direction, self._offsets
            )
            self._functions["constraint hessp"] = self._compile(
                product, [multipliers, direction]
            )
        return self._functions["constraint hessp"]

    # ---- values in and out -----------------------------------------------
    def _input_values(self, input_values):
        if not self.inputs:
            if input_values is not None and len(input_values):
                raise ValueError("input_values given, but the optimizer has no inputs")
            return []
        if input_values is None:
            raise ValueError(
                f"input_values must give a value for each of inputs {self.inputs}"
            )
        if isinstance(input_values, Mapping):
            unknown = [key for key in input_values if key not in self.inputs]
            if unknown:
                raise ValueError(f"input_values has keys not in inputs: {unknown}")
            missing = [v for v in self.inputs if v not in input_values]
            if missing:
                raise ValueError(f"input_values lacks values for inputs {missing}")
            values = [input_values[variable] for variable in self.inputs]
        elif isinstance(input_values, Sequence):
            if len(input_values) != len(self.inputs):
                raise ValueError(
                    f"input_values has {len(input_values)} values but inputs has "
                    f"{len(self.inputs)} variables"
                )
            values = list(input_values)
        else:
            raise TypeError(
                f"input_values must be a list aligned with inputs or a dict, got "
                f"{type(input_values).__name__}"
            )
        converted = []
        for index, (variable, value) in enumerate(
            zip(self.inputs, values, strict=True)
        ):
            try:
                converted.append(variable.type.filter(value, allow_downcast=True))
            except (TypeError, ValueError) as error:
                raise type(error)(
                    f"input_values[{index}] does not fit inputs[{index}] "
                    f"({variable.type}): {error}"
                ) from error
        return converted

    def _pack(self):
        pieces = []
        for index, (param, shape) in enumerate(
            zip(self.params, self._shapes, strict=True)
        ):
            value = param.get_value(borrow=True)
            if value.shape != shape:
                raise ValueError(
                    f"params[{index}] ({param}) changed shape from {shape} to "
                    f"{value.shape}; build a new ScipyOptimizer"
                )
            pieces.append(np.asarray(value, dtype=np.float64).ravel())
        return np.concatenate(pieces)

    def _unpack(self, x):
        x = np.asarray(x, dtype=np.float64)
        return [
            x[start:stop].reshape(shape).astype(dtype)
            for start, stop, shape, dtype in zip(
                self._offsets[:-1],
                self._offsets[1:],
                self._shapes,
                self._dtypes,
                strict=True,
            )
        ]

    def _constraints(self, values):
        if not (self._equalities or self._inequalities):
            return ()
        value_function, jacobian_function = self._constraint_functions()
        value_at = _LastPoint(value_function, values)
        jacobian_at = _LastPoint(jacobian_function, values)
        new_form = isinstance(self.method, str) and self.method.lower() in (
            _NEW_CONSTRAINTS
        )
        constraints = []
        kinds = [
            (kind, upper)
            for kind, upper, present in (
                ("eq", 0.0, self._equalities),
                ("ineq", np.inf, self._inequalities),
            )
            if present
        ]
        sizes = [len(self._equalities), len(self._inequalities)]
        for position, (kind, upper) in enumerate(kinds):

            def fun(x, position=position):
                return value_at(x)[position]

            def jac(x, position=position):
                return jacobian_at(x)[position]

            if new_form:
                start = 0 if kind == "eq" else sizes[0]
                hess = self._constraint_hessian(values, start, sizes)
                constraints.append(
                    NonlinearConstraint(fun, 0.0, upper, jac=jac, hess=hess)
                )
            else:
                constraints.append({"type": kind, "fun": fun, "jac": jac})
        return constraints

    def _constraint_hessian(self, values, start, sizes):
        """``hess(x, v)`` of one kind of constraint, as a LinearOperator."""
        function = self._constraint_hessp()
        size = int(self._offsets[-1])
        total = sum(sizes)

        def hess(x, v):
            x = _as_point(x)
            multipliers = np.zeros(total)
            multipliers[start : start + len(v)] = v

            def matvec(p):
                p = np.ascontiguousarray(np.ravel(p), dtype=np.float64)
                return function(x, multipliers, p, *values)

            return LinearOperator((size, size), matvec=matvec, dtype=np.float64)

        return hess

    # ---- the run ---------------------------------------------------------
    def minimize(
        self,
        step_callback: Callable | None = None,
        loss_callback: Callable | None = None,
        fetches=None,
        input_values=None,
        **kwargs: Any,
    ) -> OptimizeResult:
        """Run :func:`scipy.optimize.minimize` and store the solution in ``params``.

        Parameters
        ----------
        step_callback : callable, optional
            ``step_callback(x)`` after each iteration of the method (SciPy's
            ``callback``), with ``x`` the current values of all parameters
            flattened into one float64 vector, in the order of ``params``
            (TensorFlow's ``step_callback``).
        loss_callback : callable, optional
            ``loss_callback(*fetch_values)`` each time the cost (and its
            gradient) is evaluated, with the values of ``fetches`` at the same
            point, exactly as TensorFlow: to see the loss, fetch the cost.
        fetches : list of expressions, optional
            Expressions evaluated with the cost, for ``loss_callback``.
        input_values : list or dict, optional
            Values of the constructor's ``inputs``: a list aligned with them,
            or a dict keyed by them (TensorFlow's ``feed_dict``).
        **kwargs
            Passed to :func:`scipy.optimize.minimize` (``tol``, ``hess``,
            ``hessp``). The arguments this class sets (``fun``, ``x0``,
            ``args``, ``jac``, ``method``, ``bounds``, ``constraints``,
            ``callback``, ``options``) raise ``TypeError``.

        Returns
        -------
        scipy.optimize.OptimizeResult
            SciPy's result; ``x`` is the packed float64 solution, which has
            also been written into ``params``.
        """
        for key in kwargs:
            if key in _RESERVED:
                raise TypeError(
                    f"minimize() got {key}=, which ScipyOptimizer sets itself "
                    "(give bounds, constraints, method and options to the "
                    "constructor)"
                )
        for name, function in (
            ("step_callback", step_callback),
            ("loss_callback", loss_callback),
        ):
            if function is not None and not callable(function):
                raise TypeError(f"{name} must be callable, got {function!r}")
        fetches = _check_expressions(fetches, "fetches", scalar=False)
        values = self._input_values(input_values)
        x0 = self._pack()

        uses_gradient = not (
            isinstance(self.method, str) and self.method.lower() in _GRADIENT_FREE
        )
        loss_function = self._loss_function(fetches, uses_gradient)
        first_fetch = 2 if uses_gradient else 1

        def fun(x):
            outputs = loss_function(_as_point(x), *values)
            loss = float(outputs[0])
            if loss_callback is not None:
                loss_callback(*outputs[first_fetch:])
            return (loss, outputs[1]) if uses_gradient else loss

        callback = None
        if step_callback is not None:
            # SciPy calls ``callback(xk)``, or ``callback(xk, state)`` for
            # trust-constr; TensorFlow's step_callback gets the vector only.
            def callback(xk, *_):
                step_callback(np.array(xk, dtype=np.float64))

        method = self.method.lower() if isinstance(self.method, str) else None
        if method in _HESSP and "hess" not in kwargs and "hessp" not in kwargs:
            hessp_function = self._cost_hessp()

            def hessp(x, p):
                p = np.ascontiguousarray(p, dtype=np.float64)
                return hessp_function(_as_point(x), p, *values)

            kwargs["hessp"] = hessp

        result = scipy.optimize.minimize(
            fun,
            x0,
            jac=True if uses_gradient else None,
            method=self.method,
            bounds=self.bounds,
            constraints=self._constraints(values),
            callback=callback,
            options=self.options,
            **kwargs,
        )
        for param, value in zip(self.params, self._unpack(result.x), strict=True):
            param.set_value(value)
        return result


# ---------------------------------------------------------------------------
# our rules behind SciPy's signature
# ---------------------------------------------------------------------------
# SciPy option names that have a counterpart among the stopping keywords.
_OPTION_NAMES = {"maxiter": "max_iter", "maxfun": "max_evals", "maxfev": "max_evals"}

# What ``scipy.optimize.minimize(tol=...)`` sets for the SciPy method that a
# rule corresponds to (scipy/optimize/_minimize.py): BFGS and CG ``gtol``,
# L-BFGS-B ``ftol`` and ``gtol``, Newton-CG ``xtol``. The other rules read
# ``tol`` as ``gtol``, as BFGS, SciPy's method for unconstrained problems.
_TOLERANCES = {
    bfgs: ("gtol",),
    cg: ("gtol",),
    lbfgs: ("ftol", "gtol"),
    truncated_newton: ("xtol",),
}
# Newton-CG stops on the length of the step alone: given ``tol``, this rule
# does not get the interface's default ``gtol`` either.
_STEP_TOLERANCE_ONLY = frozenset({truncated_newton})
# The rules that use Hessian-vector products of the cost (``hess``/``hessp``).
_SECOND_ORDER = frozenset({truncated_newton, hessian_free})
# SciPy's methods that are not rule names in any case, with the closest rule.
_COUNTERPARTS = {"l-bfgs-b": "lbfgs", "newton-cg": "truncated_newton"}

# SciPy's status codes and messages (those of BFGS, CG and Newton-CG; L-BFGS-B
# uses the same codes): 0 converged (every successful Status), 1 an iteration
# or evaluation limit, 2 the line search failed (or another failure), 3 a NaN,
# 99 the callback stopped the run.
_CONVERGED = (0, "Optimization terminated successfully.")
_SCIPY_STATUS = {
    Status.MAX_ITER: (1, "Maximum number of iterations has been exceeded."),
    Status.MAX_EVALS: (1, "Maximum number of function evaluations has been exceeded."),
    Status.LINE_SEARCH_FAILED: (
        2,
        "Desired error not necessarily achieved due to precision loss.",
    ),
    Status.NON_FINITE: (3, "NaN result encountered."),
    Status.CALLBACK: (99, "`callback` raised `StopIteration`."),
}
_CALLBACK_RETURNED_TRUE = "`callback` returned True."


def _name(algo) -> str:
    return getattr(algo, "__name__", repr(algo))


def _rule(method):
    """The rule ``method`` names; ``None`` is the default, ``"lbfgs"``.

    Names are looked up as given, then in lower case (SciPy's method names
    are case-insensitive, so ``"BFGS"`` is ``bfgs``).
    """
    if method is None:
        method = "lbfgs"
    if isinstance(method, str):
        if method not in ALGORITHMS and method.lower() in ALGORITHMS:
            method = method.lower()
        elif method.lower() in _COUNTERPARTS:
            raise ValueError(
                f"method={method!r} is SciPy's method, not a rule of this library; "
                f"the closest rule is {_COUNTERPARTS[method.lower()]!r} (use "
                "scipy.optimize.minimize to run SciPy's)"
            )
    return _algorithm(method)


def _translate_options(options, name="options"):
    """SciPy ``options`` as keyword arguments of a rule (API.md §1).

    ``maxiter`` -> ``max_iter``, ``maxfun``/``maxfev`` -> ``max_evals``,
    ``disp`` is ignored, ``tol`` is left to :func:`_with_tol`; other keys are
    passed unchanged.
    """
    if options is None:
        return {}
    if not isinstance(options, Mapping):
        raise TypeError(f"{name} must be a dict, got {type(options).__name__}")
    translated, sources = {}, {}
    for key, value in options.items():
        if key in ("disp", "tol"):
            continue
        target = _OPTION_NAMES.get(key, key)
        if target in translated:
            raise ValueError(
                f"{name} sets {target} twice, as {sources[target]!r} and {key!r}"
            )
        translated[target], sources[target] = value, key
    return translated


def _with_tol(kwargs, tol, algo):
    """``kwargs`` with the tolerances that SciPy's ``tol`` sets for ``algo``
    (``_TOLERANCES``), where not given: as SciPy, given options win."""
    if tol is not None:
        for key in _TOLERANCES.get(algo, ("gtol",)):
            kwargs.setdefault(key, tol)
        if algo in _STEP_TOLERANCE_ONLY:
            kwargs.setdefault("gtol", None)
    return kwargs


def _bounds_nothing(bounds) -> bool:
    """Whether SciPy ``bounds`` (a ``Bounds`` or ``(low, high)`` pairs, ``None``
    for no bound) leave every variable free."""
    if isinstance(bounds, Bounds):
        low, high = bounds.lb, bounds.ub
    else:
        try:
            pairs = [tuple(pair) for pair in bounds]
            low = [-np.inf if pair[0] is None else pair[0] for pair in pairs]
            high = [np.inf if pair[1] is None else pair[1] for pair in pairs]
        except (TypeError, IndexError):
            return False
    try:
        low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    except (TypeError, ValueError):
        return False
    return bool(np.all(low == -np.inf) and np.all(high == np.inf))


def _check_unconstrained(bounds, constraints, algo, caller):
    """Refuse bounds and constraints: the rules are unconstrained."""
    name = _name(algo)
    if bounds is not None and not _bounds_nothing(bounds):
        raise ValueError(
            f"bounds are not supported by {caller}: the rule {name} is "
            "unconstrained (use scipy.optimize.minimize with method='L-BFGS-B', "
            "or ScipyOptimizer for a PyTensor cost)"
        )
    if constraints is not None and not (
        isinstance(constraints, list | tuple) and len(constraints) == 0
    ):
        raise ValueError(
            f"constraints are not supported by {caller}: the rule {name} is "
            "unconstrained (use scipy.optimize.minimize with method='SLSQP' or "
            "'trust-constr', or ScipyOptimizer for a PyTensor cost)"
        )


class _WithArgs:
    """``function(*values, *args)`` as a function of ``values`` (picklable)."""

    def __init__(self, function, args):
        self.function = function
        self.args = args

    def __call__(self, *values):
        return self.function(*values, *self.args)


class _HessianTimes:
    """``hess(x, *args) @ p`` as a Hessian-vector product ``hessp(x, p)``.

    ``hess`` may return an array, a sparse matrix or a ``LinearOperator``
    (anything with ``dot``), as SciPy's Newton-CG accepts.
    """

    def __init__(self, hess, args):
        self.hess = hess
        self.args = args

    def __call__(self, x, p):
        matrix = self.hess(x, *self.args)
        if not hasattr(matrix, "dot"):
            matrix = np.asarray(matrix)
        return np.asarray(matrix.dot(np.ravel(p))).reshape(np.shape(p))


def _hessian_product(algo, hess, hessp, args, caller, unused):
    """``hessp(x, p)`` for ``minimize_iterator`` from SciPy's ``hess``/``hessp``.

    ``None`` when neither is given, when ``hess="2-point"`` (the rules' own
    forward differences of the gradient), or when the rule takes no Hessian:
    then ``unused="error"`` raises :exc:`ValueError` and ``unused="warn"``
    warns, as SciPy does.
    """
    if hess is None and hessp is None:
        return None
    if algo not in _SECOND_ORDER:
        given = "hess" if hess is not None else "hessp"
        message = (
            f"{caller} does not use {given}: the rule {_name(algo)} takes no "
            "Hessian (truncated_newton and hessian_free take Hessian-vector "
            "products)"
        )
        if unused == "error":
            raise ValueError(message)
        warnings.warn(message, RuntimeWarning, stacklevel=4)
        return None
    # as SciPy's Newton-CG, hess is used when both are given
    if hess is not None:
        if isinstance(hess, str) and hess == "2-point":
            return None
        if not callable(hess):
            raise ValueError(
                f"hess must be a callable hess(x, *args) returning the Hessian "
                f"matrix, or '2-point', got {hess!r} (without hess, {_name(algo)} "
                "uses forward differences of the gradient)"
            )
        return _HessianTimes(hess, args)
    if not callable(hessp):
        raise TypeError(
            f"hessp must be a callable hessp(x, p, *args), got {type(hessp).__name__}"
        )
    return _WithArgs(hessp, args) if args else hessp


def _objective(fun, jac, args, algo):
    """``(f, df)`` for :class:`minimize_iterator` from SciPy's ``fun``/``jac``."""
    if not callable(fun):
        raise TypeError(f"fun must be callable, got {type(fun).__name__}")
    f = _WithArgs(fun, args) if args else fun
    if jac is None or jac is False:
        return f, None if derivative_free(algo) else "2-point"
    if jac is True:
        return f, True
    if isinstance(jac, str):
        if jac != "2-point":
            raise ValueError(
                f"jac must be a callable, True, False, None or '2-point', got {jac!r}"
            )
        return f, "2-point"
    if not callable(jac):
        raise TypeError(
            f"jac must be a callable, True, False, None or '2-point', got "
            f"{type(jac).__name__}"
        )
    return f, _WithArgs(jac, args) if args else jac


def _wants_intermediate_result(callback) -> bool:
    try:
        parameters = inspect.signature(callback).parameters
    except (TypeError, ValueError):
        return False
    return set(parameters) == {"intermediate_result"}


class _Callback:
    """SciPy's ``callback`` as a :class:`minimize_iterator` callback.

    It is called after each iteration that moved the parameters, with the new
    iterate; the final call of a run that stops before stepping (``gtol``)
    makes no call, so there are ``nit`` calls. ``stop_iteration`` records
    that the callback raised :exc:`StopIteration` (SciPy's attribute).
    """

    def __init__(self, callback):
        if not callable(callback):
            raise TypeError(f"callback must be callable, got {type(callback).__name__}")
        self.callback = callback
        self.intermediate = _wants_intermediate_result(callback)
        self.stop_iteration = False

    def __call__(self, iterator):
        if not iterator.status.moves_parameters:
            return None
        try:
            if self.intermediate:
                return self.callback(intermediate_result=self._state(iterator))
            return self.callback(iterator.x_last)
        except StopIteration:
            self.stop_iteration = True
            raise

    @staticmethod
    def _state(iterator):
        # x0 is one array here (_as_x0): x is the only parameter
        x = iterator.x_last
        value, gradients = evaluate(
            iterator._structure, iterator._tracker, iterator.f, iterator.df, [x]
        )
        state = OptimizeResult(x=x, fun=float(value))
        if gradients is not None:
            state["jac"] = gradients[0].copy()
        state.update(
            nit=iterator.n_iter, nfev=iterator.n_evals, njev=iterator.n_grad_evals
        )
        return state


def _as_x0(x0):
    x0 = np.atleast_1d(np.asarray(x0))
    if x0.dtype.kind in "iub":
        x0 = x0.astype(np.float64)
    return x0


def _scipy_status(reason):
    """SciPy's ``(status, message)`` for the Status ``reason``."""
    if reason.success:
        return _CONVERGED
    return _SCIPY_STATUS.get(reason, (2, reason.message.capitalize() + "."))


def _result(iterator, callback, second_order):
    """The run's result with SciPy's ``status``/``message``; ours in ``reason``."""
    result = iterator.result()
    reason = iterator.status
    status, message = _scipy_status(reason)
    if reason == Status.CALLBACK and not (callback and callback.stop_iteration):
        message = _CALLBACK_RETURNED_TRUE
    result.update(status=status, message=message, success=status == 0, reason=reason)
    tracker = iterator._tracker
    if tracker.best_x is not None and iterator.df is not None:
        known = tracker.recall(
            "f and df" if iterator.df is True else "df", tracker.best_x
        )
        if known is not None:
            gradients = known[1] if iterator.df is True else known
            result["jac"] = gradients[0].copy()
    if second_order:
        result["nhev"] = iterator.n_hess_evals
    return result


def _run(algo, fun, x0, args, jac, hess, hessp, callback, kwargs, caller, unused):
    if not isinstance(args, tuple):
        args = (args,)
    f, df = _objective(fun, jac, args, algo)
    product = _hessian_product(algo, hess, hessp, args, caller, unused)
    if algo is hessian_free:
        # a NumPy function has no model output for Gauss-Newton products
        kwargs.setdefault("gauss_newton", False)
    callback = None if callback is None else _Callback(callback)
    iterator = minimize_iterator(
        _as_x0(x0), f, df, algo, callback=callback, hessp=product, **kwargs
    )
    # the gradients at the last few points, for the callback's and the
    # result's ``jac``
    iterator._tracker.keep_gradients = True
    for _ in iterator:
        pass
    return _result(iterator, callback, algo in _SECOND_ORDER)


def scipy_minimize(
    fun: Callable,
    x0,
    args=(),
    method: str | Callable | None = "lbfgs",
    jac=None,
    hess=None,
    hessp=None,
    bounds=None,
    constraints=(),
    tol: float | None = None,
    callback: Callable | None = None,
    options: Mapping | None = None,
) -> OptimizeResult:
    """Minimise ``fun`` with one of the library's rules, SciPy style.

    The signature, argument order and result conventions of
    :func:`scipy.optimize.minimize`, running
    :class:`~pytensor_optim.minimize_iterator` underneath.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> float`` (a one-element array is accepted, as SciPy
        accepts it); with ``jac=True``, ``(value, gradient)``.
    x0 : array_like
        The starting point. Integer values become float64; float32 stays
        float32. ``x`` has ``x0``'s shape (SciPy requires 1-D; any shape
        works here).
    args : tuple, default ()
        Extra arguments of ``fun``, ``jac``, ``hess`` and ``hessp`` (a
        non-tuple is one argument).
    method : str, callable or None, default "lbfgs"
        An update rule or its name in :data:`pytensor_optim.ALGORITHMS`,
        looked up when the function is called, as given or in lower case
        (``"BFGS"`` is ``bfgs``); ``None`` is the default.
    jac : callable, bool, "2-point" or None
        ``jac(x, *args)`` returns the gradient; ``True``: ``fun`` returns
        ``(value, gradient)``; ``None``, ``False`` or ``"2-point"``: forward
        finite differences (no gradient at all for derivative-free rules).
    hess : callable or "2-point", optional
        ``hess(x, *args)``, the Hessian matrix (an array, a sparse matrix or
        a ``LinearOperator``), for the rules that take Hessian-vector
        products (``truncated_newton``, ``hessian_free``): they use
        ``hess(x) @ p``. ``"2-point"`` is their default, forward
        differences of the gradient. Other rules raise :exc:`ValueError`.
    hessp : callable, optional
        ``hessp(x, p, *args)``, the Hessian times ``p``, as ``hess``; when
        both are given, ``hess`` is used (as SciPy's Newton-CG does).
    bounds : sequence or scipy.optimize.Bounds, optional
        The rules are unconstrained: bounds raise :exc:`ValueError` naming
        the rule, unless they bound nothing (``None`` or infinite on every
        side).
    constraints : sequence, default ()
        Raise :exc:`ValueError` naming the rule unless empty.
    tol : float, optional
        The tolerance that ``scipy.optimize.minimize`` sets for the
        corresponding SciPy method, unless ``options`` gives it: ``gtol``
        for ``bfgs`` and ``cg`` (BFGS, CG), ``ftol`` and ``gtol`` for
        ``lbfgs`` (L-BFGS-B), ``xtol`` for ``truncated_newton`` (Newton-CG,
        which then does not get the default ``gtol``: it stops on the step,
        as Newton-CG does), ``gtol`` for every other rule.
    callback : callable, optional
        ``callback(xk)`` after each iteration, with the current iterate (a
        copy). A function whose only parameter is named
        ``intermediate_result`` (SciPy's form) gets an
        :class:`~scipy.optimize.OptimizeResult` with ``x``, ``fun`` (``f``
        at ``x``), ``jac`` (when the gradient at ``x`` was evaluated),
        ``nit``, ``nfev`` and ``njev``. Raising :exc:`StopIteration` (or
        returning ``True``) ends the run with ``status=99``.
    options : dict, optional
        The rule's hyperparameters and stopping keywords, with SciPy's names
        translated: ``maxiter`` -> ``max_iter``, ``maxfun``/``maxfev`` ->
        ``max_evals``, ``tol`` as the argument ``tol``; ``disp`` is accepted
        and ignored. ``max_iter=1000`` and ``gtol=1e-5`` apply unless given
        (as in :class:`~pytensor_optim.minimize_iterator`).

    Returns
    -------
    scipy.optimize.OptimizeResult
        ``x`` and ``fun`` (the best point seen and its cost), ``jac`` (the
        gradient at ``x``, when evaluated there), ``nit``, ``nfev``,
        ``njev``, ``nhev`` (Hessian-vector products, for the rules that take
        them), SciPy's ``status`` and ``message`` (0 converged, 1 the
        iteration or evaluation limit, 2 the line search failed, 3 a NaN or
        infinite value, 99 stopped by the callback), ``success``
        (``status == 0``), ``reason`` (the :class:`~pytensor_optim.Status`
        that ended the run, with its own ``message``), and
        ``point``/``x_last`` as in ``minimize_iterator.result()``.

    Raises
    ------
    ValueError
        For bounds or constraints, ``hess``/``hessp`` given to a rule that
        takes no Hessian, and SciPy's ``"L-BFGS-B"`` and ``"Newton-CG"`` as
        ``method`` (the message names the closest rule).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import rosen, rosen_der
    >>> from pytensor_optim import scipy_minimize
    >>> result = scipy_minimize(rosen, np.array([-1.2, 1.0]), method="adam",
    ...                         jac=rosen_der,
    ...                         options={"step_size": 0.02, "maxiter": 5000})
    >>> result.nit <= 5000, result.x.round(2)
    (True, array([1., 1.]))
    >>> result.status, result.message, result.reason.name
    (0, 'Optimization terminated successfully.', 'CONVERGED_GTOL')
    """
    algo = _rule(method)
    caller = f"scipy_minimize(method={_name(algo)!r})"
    _check_unconstrained(bounds, constraints, algo, caller)
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict, got {type(options).__name__}")
    options = {} if options is None else dict(options)
    # SciPy hands ``tol`` to a custom method as options.setdefault("tol", tol)
    options.setdefault("tol", tol)
    kwargs = _with_tol(_translate_options(options), options["tol"], algo)
    return _run(
        algo, fun, x0, args, jac, hess, hessp, callback, kwargs, caller, "error"
    )


class _ScipyMethod:
    """A rule as a custom ``method`` of :func:`scipy.optimize.minimize`."""

    def __init__(self, algo, hyperparameters):
        self.algo = algo
        self.hyperparameters = hyperparameters

    def __repr__(self):
        items = "".join(f", {k}={v!r}" for k, v in self.hyperparameters.items())
        return f"as_scipy_method({_name(self.algo)}{items})"

    def __call__(
        self,
        fun,
        x0,
        args=(),
        jac=None,
        hess=None,
        hessp=None,
        bounds=None,
        constraints=None,
        callback=None,
        **options,
    ):
        caller = repr(self)
        _check_unconstrained(bounds, constraints, self.algo, caller)
        kwargs = {**self.hyperparameters, **_translate_options(options)}
        kwargs = _with_tol(kwargs, options.get("tol"), self.algo)
        return _run(
            self.algo, fun, x0, args, jac, hess, hessp, callback, kwargs, caller,
            "warn",
        )  # fmt: skip


def as_scipy_method(rule, **hyperparameters) -> Callable:
    """A rule as a custom ``method=`` for :func:`scipy.optimize.minimize`.

    Parameters
    ----------
    rule : callable or str
        An update rule or its name in :data:`pytensor_optim.ALGORITHMS`.
    **hyperparameters
        The rule's hyperparameters and stopping keywords. ``options`` given
        to ``scipy.optimize.minimize`` are translated as in
        :func:`scipy_minimize` (``maxiter`` -> ``max_iter``, ``tol`` as there,
        …) and take precedence over these.

    Returns
    -------
    callable
        ``method(fun, x0, args, jac, hess, hessp, bounds, constraints,
        callback, **options)``, SciPy's custom-method protocol, returning an
        :class:`~scipy.optimize.OptimizeResult` as :func:`scipy_minimize`
        (SciPy's status codes, ``reason``). Bounds and constraints raise
        :exc:`ValueError` (the rules are unconstrained); ``hess``/``hessp``
        are used by ``truncated_newton`` and ``hessian_free``, and unused by
        the other rules (a :exc:`RuntimeWarning` says so, as SciPy warns).
        Without ``jac``, gradients are forward differences.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.optimize import minimize
    >>> from pytensor_optim import as_scipy_method, sgd
    >>> result = minimize(lambda x: float(x @ x), np.array([3.0, -1.0]),
    ...                   jac=lambda x: 2 * x,
    ...                   method=as_scipy_method(sgd, step_size=0.1))
    >>> result.success, result.x.round(5) + 0.0
    (True, array([0., 0.]))
    """
    return _ScipyMethod(_algorithm(rule), dict(hyperparameters))
