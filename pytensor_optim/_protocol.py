"""The update-rule protocol: argument normalisation, ``Updates`` and ``finish``.

Every rule starts with ``problem = Problem("name", params, cost, gradients,
stop, updates, stopping)`` and ends with ``return problem.finish(new_params,
state_updates)``; everything the protocol promises (errors, the minimal dict,
collisions, state names, stopping, freeze-when-stopped, non-finite safety,
types kept) lives here once.
"""

from collections.abc import Mapping
from functools import reduce

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Variable
from pytensor.raise_op import Assert
from pytensor.tensor.type import TensorType
from pytensor.tensor.variable import TensorVariable

from ._compat import ifelse
from ._state import new_scalar, new_slot, param_labels
from ._stopping import BEFORE_STEP, Status
from ._validate import as_scalar, resolve

__all__ = ["STOPPING_KEYWORDS", "Problem", "Updates", "split_updates"]

STOPPING_KEYWORDS = ("max_iter", "max_evals", "gtol", "ftol", "xtol")


class Updates(dict):
    """The result of every rule: a dict ``{shared variable: new value}``.

    Pass it to :func:`pytensor.function` as ``updates=``. Besides the items it
    describes the rule's state:

    Attributes
    ----------
    params : tuple
        The parameters the rule optimises.
    slots : dict
        ``{slot name: tuple of shared variables aligned with params}``.
    counter : shared int64 scalar or None
        The iteration counter, when a feature needs one.
    status : shared int8 scalar or None
        The :class:`~pytensor_optim.Status` code, when ``stop`` was given.
    evaluations : shared int64 scalar or None
        The number of cost/gradient evaluations so far, when ``stop`` and
        ``max_evals`` were given.
    current_point : CurrentPoint or None
        For a rule with a line search: the cost and gradients it keeps from
        its last search, and how a call obtains them (see
        :func:`~pytensor_optim._searched.current_point`). ``optimize`` uses
        it to evaluate the starting point once per call instead of testing,
        in every iteration of its loop, whether it must.

    Notes
    -----
    ``state_dict``, ``load_state_dict`` and ``reset`` cover every state
    variable the rule created, and those of an ``Updates`` it extended
    (``updates=``), so that a chain of rules is checkpointed at once.
    Parameters are not state: save them with their own ``get_value``.
    """

    def __init__(
        self,
        items=(),
        *,
        params=(),
        slots=None,
        counter=None,
        status=None,
        evaluations=None,
        state=(),
        current_point=None,
    ):
        super().__init__(items)
        self.params = tuple(params)
        self.slots = dict(slots or {})
        self.counter = counter
        self.status = status
        self.evaluations = evaluations
        self.current_point = current_point
        self._state = tuple(state)

    @property
    def state(self) -> tuple:
        """Every state variable, in creation order."""
        return tuple(variable for variable, _ in self._state)

    def state_dict(self) -> dict:
        """A NumPy snapshot ``{state name: array}`` of every state variable."""
        snapshot = {}
        for variable, _ in self._state:
            if variable.name in snapshot:
                raise ValueError(
                    f"two state variables are named {variable.name!r}; give the "
                    "parameters distinct names"
                )
            snapshot[variable.name] = _snapshot(variable.get_value(borrow=True))
        return snapshot

    def load_state_dict(self, state_dict: Mapping) -> None:
        """Restore a snapshot made by :meth:`state_dict`.

        Raises ``TypeError`` for anything but a mapping, ``KeyError`` for
        missing or unexpected names, and ``ValueError`` for a shape or dtype
        that differs from the state variable's, for a NaN or infinite value
        where the state's initial value is finite, for a negative count (an
        integer state that starts non-negative) and for an unknown status
        code. Nothing is loaded unless everything is valid.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                "state_dict must be a mapping {state name: array}, as state_dict() "
                f"returns, got {type(state_dict).__name__}"
            )
        expected = {variable.name: variable for variable, _ in self._state}
        initials = {variable.name: initial for variable, initial in self._state}
        missing = expected.keys() - state_dict.keys()
        unexpected = state_dict.keys() - expected.keys()
        if missing or unexpected:
            raise KeyError(
                f"state_dict does not match: missing {sorted(missing)}, "
                f"unexpected {sorted(unexpected)}"
            )
        for name, variable in expected.items():
            current = variable.get_value(borrow=True)
            if isinstance(current, np.random.Generator):
                _check_generator_state(name, state_dict[name])
                continue
            value = np.asarray(state_dict[name])
            if value.shape != np.shape(current) or value.dtype != current.dtype:
                raise ValueError(
                    f"state_dict[{name!r}] has shape {value.shape} and dtype "
                    f"{value.dtype}, expected {np.shape(current)} and {current.dtype}"
                )
            _check_state_value(name, value, initials[name])
        for name, variable in expected.items():
            variable.set_value(_restore(variable, state_dict[name]))

    def reset(self) -> None:
        """Set every state variable back to its initial value."""
        for variable, initial in self._state:
            if isinstance(initial, dict):  # a random generator's state
                variable.set_value(_restore(variable, initial))
                continue
            shape = np.shape(variable.get_value(borrow=True))
            variable.set_value(np.array(np.broadcast_to(initial, shape)))


def split_updates(updates, params):
    """The new values of ``params`` in ``updates``, and the other items.

    For rules that wrap another rule's updates: the other items, with the
    state chain of ``updates``, form the base the wrapper extends. Raises
    ``KeyError`` naming a parameter that has no update.
    """
    pairs = list(updates.items()) if isinstance(updates, Mapping) else list(updates)
    proposed = dict(pairs)
    missing = [param for param in params if param not in proposed]
    if missing:
        raise KeyError(f"{missing[0]} has no update in updates")
    base = Updates(
        [(key, value) for key, value in pairs if not any(key is p for p in params)],
        state=getattr(updates, "_state", ()),
    )
    return [proposed[param] for param in params], base


class Hyperparameters:
    """Resolved hyperparameters: float64 scalars, and casts to a dtype."""

    def __init__(self, values):
        self._values = values
        self._casts = {}

    def __getattr__(self, name):
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(name) from None

    def cast(self, dtype):
        """All hyperparameters as scalars of ``dtype`` (cached per dtype)."""
        if dtype not in self._casts:
            self._casts[dtype] = Hyperparameters(
                {name: pt.cast(value, dtype) for name, value in self._values.items()}
            )
        return self._casts[dtype]


class Problem:
    """The normalised protocol arguments of one rule call, and its new state.

    Parameters are checked and gathered into a tuple, gradients default to
    ``pytensor.grad(cost, params)`` and are given each parameter's dtype,
    ``updates`` is copied (never mutated), and the stopping keywords are
    validated. Raises the errors API.md §1 lists, each naming the argument.
    """

    def __init__(
        self,
        algo,
        params,
        cost,
        gradients,
        stop,
        updates,
        stopping,
        *,
        derivative_free=False,
    ):
        self.algo = algo
        self.params = _check_params(params, algo)
        self.cost = _check_cost(cost, algo)
        if derivative_free and gradients is None and self.cost is not None:
            # a derivative-free rule never differentiates the cost
            self.gradients = None
        else:
            self.gradients = _check_gradients(gradients, self.params, self.cost, algo)
        self.stop = _check_stop(stop)
        if self.stop is not None and self.gradients is not None:
            # a run-time guard, as the non-finite one: requested by stop
            self.gradients = tuple(
                _shape_checked(gradient, param, index)
                for index, (param, gradient) in enumerate(
                    zip(self.params, self.gradients, strict=True)
                )
            )
        self.base = _check_updates(updates, self.params, self.stop)
        self.labels = param_labels(self.params)
        self.slots = {}
        self._state = []
        self._counter = None
        self._status = None
        self._evaluations = None
        self._criteria = None
        self._unique_prefix = None
        # Updates of state owned by hyperparameters (stateful schedules).
        self.extra_updates = []
        # Where the gradients were evaluated, when not at the parameters
        # themselves (nag's look-ahead point); see _stopping_pairs.
        self.evaluated = None
        # A boolean expression, true on a call that deliberately takes no
        # step (an adaptive restart's roll-back): xtol does not judge it.
        self.no_step = None
        # The kept cost and gradients of a rule with a line search (a
        # CurrentPoint), for Updates.current_point.
        self.current_point = None
        self.stopping = self._check_stopping(stopping)

    # ---- state -----------------------------------------------------------
    def name(self, slot, label=None) -> str:
        """The state name ``"{algo}.{slot}[{label}]"`` (API.md §1 rule 5).

        When the extended ``updates`` already hold state of a rule of the same
        name, ``algo`` becomes ``algo#2`` (``#3``, ...), so a chain's
        ``state_dict`` keys stay unique.
        """
        prefix = self._prefix()
        return f"{prefix}.{slot}" if label is None else f"{prefix}.{slot}[{label}]"

    def _prefix(self):
        if self._unique_prefix is None:
            taken = {variable.name.split(".")[0] for variable, _ in self.base._state}
            prefix, number = self.algo, 1
            while prefix in taken:
                number += 1
                prefix = f"{self.algo}#{number}"
            self._unique_prefix = prefix
        return self._unique_prefix

    def slot(self, slot, init=0.0, leading=(), trailing=()) -> tuple:
        """One state variable per parameter, shaped and typed like it.

        ``leading`` / ``trailing`` dimensions come before / after the
        parameter's (e.g. a history of copies, a window of values).
        """
        inits = init if isinstance(init, list | tuple) else [init] * len(self.params)
        variables = []
        for param, label, value in zip(self.params, self.labels, inits, strict=True):
            variable, initial = new_slot(
                param, self.name(slot, label), self.algo, value, leading, trailing
            )
            self._state.append((variable, initial))
            variables.append(variable)
        self.slots[slot] = tuple(variables)
        return self.slots[slot]

    def scalar(self, slot, init, dtype, shape=()):
        """One state variable of the rule as a whole (a scalar by default)."""
        variable, initial = new_scalar(self.name(slot), init, dtype, shape)
        self._state.append((variable, initial))
        return variable

    def random_generator(self, slot, seed):
        """A shared NumPy ``Generator`` seeded by ``seed``, as state of the rule.

        Its update (the ``next_rng`` of a random variable) goes with the other
        state updates; ``state_dict`` holds its bit generator's state.
        """
        generator = np.random.default_rng(seed)
        variable = pytensor.shared(generator, name=self.name(slot))
        self._state.append((variable, generator.bit_generator.state))
        return variable

    @property
    def counter(self):
        """The iteration counter (int64, the number of steps taken so far).

        Created on first use, so rules that need none have none.
        """
        if self._counter is None:
            self._counter = self.scalar("counter", 0, "int64")
        return self._counter

    @property
    def evaluations(self):
        """The evaluations counted so far: the int64 state ``"evals"``.

        Created on first use, so a rule can read it before :meth:`finish` (to
        cap the budget of its line search) and :meth:`finish` updates the same
        variable.
        """
        if self._evaluations is None:
            self._evaluations = self.scalar("evals", 0, "int64")
        return self._evaluations

    def resolve(self, name, value, dtype, **bounds):
        """``value`` as a scalar of ``dtype`` (see :func:`_validate.resolve`).

        A schedule with a ``build(problem, name)`` method (a stateful one such
        as :func:`~pytensor_optim.schedules.king`) gets this problem, to read
        the cost and to add its state and ``extra_updates``.
        """
        if hasattr(value, "build") and callable(value):
            return as_scalar(
                value.build(self, name), f"the schedule given as {name}", dtype
            )
        return resolve(value, name, dtype, lambda: self.counter, **bounds)

    def hyperparameters(self, **specs):
        """Validate and resolve hyperparameters once: ``name=(value, bounds)``.

        Returns a :class:`Hyperparameters`: its attributes are float64
        scalars, for the scalar arithmetic of a rule (bias corrections and
        the like, computed in double precision as PyTorch does), and
        ``.cast(dtype)`` gives them all in a parameter's dtype for the
        elementwise part.
        """
        return Hyperparameters(
            {
                name: self.resolve(name, value, "float64", **bounds)
                for name, (value, bounds) in specs.items()
            }
        )

    @property
    def step_number(self):
        """The number of the current step, from 1 (``counter + 1``), as float64."""
        return pt.cast(self.counter + 1, "float64")

    def map(self, update, *slots, **per_parameter):
        """Apply ``update`` to every parameter; collect its new values.

        ``update(param, gradient, *slot_variables, **entries)`` returns the new
        parameter and the new value of each of its slot variables (same order);
        ``entries`` are the parameter's items of the ``per_parameter``
        sequences (``None`` sequences give ``None``). Returns
        ``(new_params, state_updates)`` for :meth:`finish`.
        """
        new_params, state_updates = [], []
        for index, (param, gradient) in enumerate(
            zip(self.params, self.gradients, strict=True)
        ):
            variables = [slot[index] for slot in slots]
            entries = {
                key: None if values is None else values[index]
                for key, values in per_parameter.items()
            }
            new_param, new_values = update(param, gradient, *variables, **entries)
            new_params.append(new_param)
            state_updates += zip(variables, new_values, strict=True)
        return new_params, state_updates

    # ---- the result ------------------------------------------------------
    def finish(self, new_params, state_updates=(), *, evals=1, reasons=()):
        """Assemble the ``Updates`` of one iteration.

        Parameters
        ----------
        new_params : list
            The new value of each parameter.
        state_updates : iterable of (shared variable, expression)
            Updates of the rule's own state; the counter is added here.
        evals : int or scalar expression
            Cost/gradient evaluations made by one call (for ``max_evals``).
        reasons : iterable of (condition, Status)
            The rule's own stopping criteria, judged after its step.
        """
        pairs = list(zip(self.params, new_params, strict=True))
        pairs += list(state_updates) + self.extra_updates
        if self._counter is not None:
            pairs.append((self._counter, self._counter + 1))
        if self.stop is not None:
            pairs = self._stopping_pairs(pairs, evals, list(reasons))
        result = Updates(
            self.base,
            params=self.params,
            slots=self.slots,
            counter=self._counter,
            status=self._status,
            evaluations=self._evaluations,
            state=self.base._state + tuple(self._state),
            current_point=self.current_point,
        )
        for variable, expression in pairs:
            result[variable] = _typed(variable, expression)
        return result

    def _check_stopping(self, stopping):
        unknown = sorted(set(stopping) - set(STOPPING_KEYWORDS))
        if unknown:
            raise TypeError(
                f"{self.algo}() got an unexpected keyword argument {unknown[0]!r}"
            )
        given = {key: value for key, value in stopping.items() if value is not None}
        if given and self.stop is None:
            key = next(iter(given))
            raise ValueError(
                f"{key}={given[key]!r} has no effect without stop: pass a shared "
                f"integer scalar as stop to {self.algo}()"
            )
        if "ftol" in given and self.cost is None:
            raise ValueError(f"{self.algo}() needs cost to stop on ftol")
        if "gtol" in given and self.gradients is None:
            raise ValueError(
                f"gtol={given['gtol']!r}: {self.algo}() is derivative-free and "
                "computes no gradient to stop on"
            )
        checked = {}
        for key in ("max_iter", "max_evals"):
            if key in given:
                checked[key] = self.resolve(key, given[key], "int64", low=1)
        for key in ("gtol", "ftol", "xtol"):
            if key in given:
                checked[key] = given[key]
                # validate now; the dtype-specific constant is built where used
                resolve(given[key], key, "float64", low=0)
        if "max_iter" in checked:
            _ = self.counter
        return checked

    def _tolerance(self, key, dtype):
        return resolve(self.stopping[key], key, dtype, low=0)

    def _criteria_at_point(self):
        """The protocol's criteria judged before a step, built once.

        ``(reasons, state_pairs)``: non-finite values, ``gtol`` and ``ftol``
        at the current point (``self.cost``, ``self.gradients``), and the
        update of the cost ``ftol`` remembers.
        """
        if self._criteria is not None:
            return self._criteria
        stopping = self.stopping
        before = [(self._non_finite(), Status.NON_FINITE)]
        if "gtol" in stopping:
            before.append(
                (
                    _all(
                        _within(g, self._tolerance("gtol", g.dtype))
                        for g in self.gradients
                    ),
                    Status.CONVERGED_GTOL,
                )
            )
        state_pairs = []
        if "ftol" in stopping:
            cost = self.cost
            previous = self.scalar("previous_cost", np.nan, cost.dtype)
            ftol = self._tolerance("ftol", cost.dtype)
            one = pt.constant(np.asarray(1, dtype=cost.dtype))
            scale = pt.maximum(pt.maximum(pt.abs(previous), pt.abs(cost)), one)
            before.append(
                (pt.le(pt.abs(previous - cost), ftol * scale), Status.CONVERGED_FTOL)
            )
            state_pairs.append((previous, cost))
        self._criteria = (tuple(before), tuple(state_pairs))
        return self._criteria

    def stops_before_step(self):
        """Whether this call will not step, judged at the current point.

        True once the run has stopped, or when a criterion of the protocol
        (non-finite values, ``gtol``, ``ftol``) holds at ``self.cost`` and
        ``self.gradients``; ``None`` without ``stop``. A rule with a line
        search passes it on, so that a stopping call evaluates nothing.
        """
        if self.stop is None:
            return None
        before, _ = self._criteria_at_point()
        return pt.or_(pt.neq(self.stop, 0), _any(c for c, _ in before))

    def _stopping_pairs(self, pairs, evals, reasons):
        stop, stopping = self.stop, self.stopping
        running = pt.eq(stop, 0)
        before, state_pairs = (list(part) for part in self._criteria_at_point())
        before += [reason for reason in reasons if reason[1] in BEFORE_STEP]
        # A step that would make a parameter non-finite (0/0 or an overflow
        # inside the rule, with a finite cost and gradients) is not written.
        new_params = [expression for _, expression in pairs[: len(self.params)]]
        before.append((_non_finite(new_params), Status.NON_FINITE))

        after = []
        if "xtol" in stopping:
            steps = (
                _within(new - param, self._tolerance("xtol", param.dtype))
                for param, new in pairs[: len(self.params)]
            )
            small = _all(steps)
            if self.no_step is not None:
                small = pt.and_(small, pt.invert(self.no_step))
            after.append((small, Status.CONVERGED_XTOL))
        after += [reason for reason in reasons if reason[1] not in BEFORE_STEP]
        if "max_iter" in stopping:
            after.append(
                (pt.ge(self.counter + 1, stopping["max_iter"]), Status.MAX_ITER)
            )
        counted = []
        if "max_evals" in stopping:
            n_evals = self.evaluations
            new_evals = n_evals + pt.cast(evals, "int64")
            after.append((pt.ge(new_evals, stopping["max_evals"]), Status.MAX_EVALS))
            counted.append((n_evals, pt.switch(running, new_evals, n_evals)))

        halt = _any(condition for condition, _ in before)
        apply = pt.and_(running, pt.invert(halt))
        # A step is applied only while running and no criterion holds at the
        # evaluated point; everything the rule updates is frozen otherwise.
        frozen = [
            (variable, _applied(apply, expression, variable))
            for variable, expression in pairs + state_pairs
        ]
        converged_before = [c for c, status in before if status.success]
        if self.evaluated is not None and converged_before:
            # Converged at the point the rule evaluated: move there.
            converged = pt.and_(running, _any(converged_before))
            frozen[: len(self.params)] = [
                (param, pt.switch(converged, point, expression))
                for (param, expression), point in zip(
                    frozen, self.evaluated, strict=False
                )
            ]
        code = pt.constant(np.int8(Status.RUNNING))
        for condition, status in reversed(before + after):
            code = pt.switch(condition, np.int8(status), code)
        self._status = self.scalar("status", Status.RUNNING, "int8")
        new_stop = pt.cast(pt.neq(code, 0), stop.dtype)
        return [
            *frozen,
            *counted,
            (self._status, pt.switch(running, code, self._status)),
            (stop, pt.switch(running, new_stop, stop)),
        ]

    def _non_finite(self):
        values = [self.cost] if self.cost is not None else []
        return _non_finite([*values, *(self.gradients or ())])


def _non_finite(tensors):
    """Whether an element of one of ``tensors`` is NaN or infinite."""
    return pt.invert(
        _all(
            pt.isfinite(tensor) if tensor.ndim == 0 else pt.all(pt.isfinite(tensor))
            for tensor in tensors
        )
    )


def _all(conditions):
    return reduce(pt.and_, conditions)


def _within(values, tolerance):
    """Whether every element of ``values`` is at most ``tolerance`` in size.

    ``max(abs(values)) <= tolerance``, written as an ``all`` so that a size-0
    parameter contributes nothing instead of failing a maximum with no
    identity; a NaN element makes it false, as it makes the maximum NaN.
    """
    return pt.all(pt.le(pt.abs(values), tolerance))


def _typed(variable, expression):
    """``expression`` as an update of ``variable``: of its type, or compatible.

    ``filter_variable`` checks the dtype and rank and accepts more specific
    static lengths, but ``pytensor.function`` also compares the broadcast
    patterns: an expression whose static shape has a 1 where the variable's
    has ``None`` (a parameter of shape ``(3, 1)``, a history built from a
    0-d parameter) is refused there. Broadcasting it to the variable's
    symbolic shape drops those 1s (a reshape would infer them again).
    """
    expression = variable.type.filter_variable(expression)
    if isinstance(variable.type, TensorType) and not variable.type.in_same_class(
        expression.type
    ):
        expression = pt.broadcast_to(expression, variable.shape)
    return expression


def _applied(apply, expression, variable):
    """``expression`` when ``apply`` holds, else ``variable`` (kept)."""
    if isinstance(variable.type, TensorType):
        return pt.switch(apply, expression, variable)
    # a random generator cannot go through an elementwise switch
    return ifelse(apply, expression, variable)


def _snapshot(value):
    if isinstance(value, np.random.Generator):
        return value.bit_generator.state
    return np.array(value)


def _check_state_value(name, value, initial):
    """Raise ValueError naming ``state_dict[name]`` for a value no run makes."""
    initial = np.broadcast_to(np.asarray(initial), value.shape)
    if value.dtype.kind == "f":
        # non-finite only where the state starts so (a cost not yet seen)
        as_initial = (value == initial) | (np.isnan(value) & np.isnan(initial))
        wrong = ~np.isfinite(value) & ~as_initial
        if wrong.any():
            raise ValueError(
                f"state_dict[{name!r}] holds the non-finite value "
                f"{value[wrong].flat[0]!r}; a state can hold only finite values "
                "(or its non-finite initial value)"
            )
    elif value.dtype.kind in "iu":
        if name.rsplit(".", 1)[-1] == "status":
            codes = {int(code) for code in Status}
            unknown = sorted(set(np.ravel(value).tolist()) - codes)
            if unknown:
                raise ValueError(
                    f"state_dict[{name!r}] must be a Status code (0 to "
                    f"{max(codes)}), got {unknown[0]}"
                )
        if value.size and (initial >= 0).all() and value.min() < 0:
            raise ValueError(
                f"state_dict[{name!r}] counts from 0 and must be non-negative, "
                f"got {value.min()}"
            )


def _check_generator_state(name, value):
    if not isinstance(value, dict) or "bit_generator" not in value:
        raise ValueError(
            f"state_dict[{name!r}] must be a bit generator's state (a dict), got "
            f"{type(value).__name__} of shape {np.shape(value)}"
        )


def _restore(variable, value):
    current = variable.get_value(borrow=True)
    if isinstance(current, np.random.Generator):
        generator = np.random.Generator(type(current.bit_generator)())
        generator.bit_generator.state = value
        return generator
    return np.array(value)


def _any(conditions):
    return reduce(pt.or_, conditions)


def _check_params(params, algo):
    if isinstance(params, Variable):
        params = [params]
    if not isinstance(params, list | tuple):
        raise TypeError(
            f"params must be a list or tuple of float tensor variables, got "
            f"{type(params).__name__}"
        )
    if not params:
        raise ValueError(f"params must not be empty ({algo})")
    for index, param in enumerate(params):
        if not isinstance(param, TensorVariable):
            raise TypeError(
                f"params[{index}] must be a tensor variable (usually a shared "
                f"variable), got {type(param).__name__}: {param!r}"
            )
        if not param.dtype.startswith("float"):
            raise TypeError(
                f"params[{index}] ({param}) must have a float dtype, got {param.dtype}"
            )
    for index, param in enumerate(params):
        if any(param is other for other in params[:index]):
            raise ValueError(f"params[{index}] ({param}) appears more than once")
    return tuple(params)


def _check_cost(cost, algo):
    if cost is None:
        return None
    if not isinstance(cost, Variable):
        raise TypeError(
            f"cost must be a scalar symbolic expression, got {type(cost).__name__}"
        )
    if getattr(cost.type, "ndim", None) != 0:
        raise ValueError(f"cost must be a scalar expression, got {cost.type} ({algo})")
    if not str(getattr(cost.type, "dtype", "")).startswith("float"):
        # an integer cost has zero gradients and rounds every comparison
        raise TypeError(
            f"cost must have a float dtype, got {cost.type} ({algo}); cast it, "
            "e.g. pt.cast(cost, 'float64')"
        )
    return cost


def _check_gradients(gradients, params, cost, algo):
    if gradients is None:
        if cost is None:
            raise ValueError(f"{algo}() needs cost or gradients; neither was given")
        return tuple(pytensor.grad(cost, list(params)))
    if isinstance(gradients, Variable):
        gradients = [gradients]
    if not isinstance(gradients, list | tuple):
        raise TypeError(
            f"gradients must be a list or tuple aligned with params, got "
            f"{type(gradients).__name__}"
        )
    if len(gradients) != len(params):
        raise ValueError(
            f"gradients has {len(gradients)} entries but params has {len(params)}"
        )
    checked = []
    for index, (param, gradient) in enumerate(zip(params, gradients, strict=True)):
        if gradient is None:
            raise TypeError(
                f"gradients[{index}] is None; give a tensor shaped like "
                f"params[{index}] ({param}), e.g. pt.zeros_like(param) where the "
                "cost does not depend on it"
            )
        try:
            gradient = pt.as_tensor_variable(gradient)
        except (TypeError, ValueError, NotImplementedError) as error:
            raise TypeError(
                f"gradients[{index}] must be a tensor, got {type(gradient).__name__}"
            ) from error
        shape = _known_shape(param)
        if gradient.ndim != param.ndim or any(
            a is not None and b is not None and a != b
            for a, b in zip(gradient.type.shape, shape, strict=True)
        ):
            raise ValueError(
                f"gradients[{index}] has shape {gradient.type.shape}, which does not "
                f"match params[{index}] of shape {shape}"
            )
        if np.dtype(gradient.dtype).kind not in "iuf":
            raise TypeError(
                f"gradients[{index}] must be real, got dtype {gradient.dtype}"
            )
        if gradient.dtype != param.dtype:
            # Updates are computed in the parameter's dtype (API.md §1 rule 3).
            gradient = pt.cast(gradient, param.dtype)
        checked.append(gradient)
    return tuple(checked)


def _shape_checked(gradient, param, index):
    """``gradient``, checked when the function runs to have ``param``'s shape.

    Used when ``stop`` is given (without it, the minimal dictionary stays
    exactly ``{p: p - lr * g}``). Only a gradient fed from outside the graph
    (an input, a shared variable) is checked, for the lengths its type
    leaves open: a value of another shape then raises an AssertionError
    naming ``gradients[index]`` instead of a broadcasting error deep in the
    rule. A computed gradient is left as it is, so that its arithmetic fuses
    with the rule's (its shape follows from the graph that computes it).
    """
    if gradient.owner is not None:
        return gradient
    conditions = [
        pt.eq(gradient.shape[axis], param.shape[axis])
        for axis, length in enumerate(gradient.type.shape)
        if length is None
    ]
    if not conditions:
        return gradient
    message = f"gradients[{index}] must have the shape of params[{index}] ({param})"
    return Assert(message)(gradient, *conditions)


def _known_shape(param):
    """The lengths of ``param`` known when the rule is built (else ``None``).

    A shared parameter's are those of its value: the rule's state is shaped
    like it, so a gradient of another static shape is an error here rather
    than a broadcasting error when the function runs.
    """
    if isinstance(param, SharedVariable):
        value = param.get_value(borrow=True, return_internal_type=False)
        if np.ndim(value) == param.ndim:
            return tuple(int(length) for length in np.shape(value))
    return param.type.shape


def _check_stop(stop):
    if stop is None:
        return None
    if not isinstance(stop, SharedVariable) or not isinstance(stop, TensorVariable):
        raise TypeError(
            f"stop must be a shared integer scalar, got {type(stop).__name__}"
        )
    if stop.ndim != 0 or np.dtype(stop.dtype).kind not in "iu":
        raise TypeError(
            f"stop must be a shared integer scalar, got {stop.type} ({stop})"
        )
    return stop


def _check_updates(updates, params, stop):
    if updates is None:
        return Updates()
    if isinstance(updates, Mapping):
        pairs = list(updates.items())
    elif isinstance(updates, list | tuple):
        pairs = list(updates)
        if not all(isinstance(pair, tuple | list) and len(pair) == 2 for pair in pairs):
            raise TypeError(
                "updates must be a mapping or a list of (variable, value) pairs"
            )
    else:
        raise TypeError(
            f"updates must be a mapping or a list of (variable, value) pairs, got "
            f"{type(updates).__name__}"
        )
    base = Updates(pairs)
    base._state = getattr(updates, "_state", ())
    for variable in (*params, *([stop] if stop is not None else [])):
        if variable in base:
            raise KeyError(
                f"{variable} is already a key of updates; a variable can have only "
                "one update"
            )
    return base
