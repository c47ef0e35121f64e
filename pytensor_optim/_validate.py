"""Turning hyperparameters into scalar expressions, with clear errors."""

import numbers
from collections.abc import Mapping

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Constant, Variable

__all__ = [
    "check_flag",
    "check_givens",
    "check_max_evals",
    "concrete",
    "initial_value",
    "is_zero",
    "resolve",
]


def concrete(value):
    """The Python float/int behind ``value`` if it is a plain number, else None.

    Plain numbers are Python and NumPy numbers, 0-d arrays and scalar
    constants; shared variables, symbolic expressions and schedules are not.
    """
    if isinstance(value, bool | np.bool_):
        return None
    if isinstance(value, numbers.Number):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if isinstance(value, Constant) and getattr(value.type, "ndim", None) == 0:
        return value.data.item()
    return None


def is_zero(value) -> bool:
    """True when ``value`` is a plain number equal to zero (the feature is off)."""
    number = concrete(value)
    return number is not None and number == 0


def initial_value(name, value, **bounds):
    """A plain number that initialises state (checked like a hyperparameter).

    Initial values are read when the rule is built, so they must be numbers:
    a shared variable or an expression raises ``TypeError`` naming ``name``.
    """
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    number = concrete(value)
    if number is None:
        raise TypeError(
            f"{name} initialises state when the rule is built, so it must be a "
            f"number, got {value!r}"
        )
    check_range(name, number, **bounds)
    return number


def check_flag(name, value):
    """Raise TypeError naming ``name`` unless ``value`` is True or False."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {value!r}")


def check_givens(givens):
    """Raise TypeError unless ``givens`` is what :func:`pytensor.function` takes.

    That is ``None``, a mapping ``{variable: replacement}`` or a list of
    ``(variable, replacement)`` pairs, whose keys are PyTensor variables.
    """
    if givens is None:
        return
    pairs = list(givens.items()) if isinstance(givens, Mapping) else givens
    if not isinstance(pairs, list | tuple) or not all(
        isinstance(pair, list | tuple) and len(pair) == 2 for pair in pairs
    ):
        raise TypeError(
            "givens must be a mapping {variable: replacement} or a list of "
            f"(variable, replacement) pairs, got {type(givens).__name__}: {givens!r}"
        )
    for key, _ in pairs:
        if not isinstance(key, Variable):
            raise TypeError(
                "givens must replace PyTensor variables, got a key of type "
                f"{type(key).__name__}: {key!r}"
            )


def check_range(name, number, low=None, high=None, low_open=False, high_open=False):
    """Raise ValueError naming ``name`` when ``number`` is outside the interval."""
    if isinstance(number, complex) or not np.isfinite(number):
        raise ValueError(f"{name} must be a finite real number, got {number!r}")
    too_low = low is not None and (number <= low if low_open else number < low)
    too_high = high is not None and (number >= high if high_open else number > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        low_text = "-inf" if low is None else repr(low)
        high_text = "inf" if high is None else repr(high)
        raise ValueError(
            f"{name} must be in {left}{low_text}, {high_text}{right}, got {number!r}"
        )


def resolve(
    value,
    name,
    dtype,
    counter=None,
    *,
    low=None,
    high=None,
    low_open=False,
    high_open=False,
):
    """A scalar expression of ``dtype`` for the hyperparameter ``value``.

    Parameters
    ----------
    value : number, shared variable, symbolic scalar or callable
        A callable is a schedule: it is called with the iteration counter and
        must return a scalar (see :mod:`pytensor_optim.schedules`).
    name : str
        The argument's name, used in error messages.
    dtype : str
        The dtype of the result (the parameter's dtype): a float64 number or
        variable becomes float32 for float32 parameters, never the reverse.
    counter : callable, optional
        Returns the rule's iteration counter; needed for schedules.
    low, high, low_open, high_open
        Allowed interval, checked for plain numbers at build time.
    """
    number = concrete(value)
    if number is not None:
        check_range(name, number, low, high, low_open, high_open)
        if np.dtype(dtype).kind in "iu" and number != int(number):
            raise ValueError(f"{name} must be an integer, got {number!r}")
        with np.errstate(over="ignore"):
            cast = np.asarray(number, dtype=dtype)
        if not np.isfinite(cast):
            raise ValueError(f"{name}={number!r} overflows {dtype}")
        return pt.constant(cast, dtype=dtype)
    if value is None or isinstance(value, bool | np.bool_ | str):
        raise TypeError(
            f"{name} must be a number, a scalar shared variable, a symbolic scalar "
            f"or a schedule, got {value!r}"
        )
    if callable(value) and not isinstance(value, Variable):
        if counter is None:
            raise TypeError(f"{name} does not accept a schedule")
        return as_scalar(value(counter()), f"the schedule given as {name}", dtype)
    return as_scalar(value, name, dtype)


def as_scalar(value, name, dtype):
    """Cast a symbolic or shared scalar to ``dtype``, checking it is a scalar."""
    if isinstance(value, np.ndarray | list | tuple):
        raise ValueError(
            f"{name} must be a scalar, got an array of shape {np.shape(value)}"
        )
    try:
        variable = pt.as_tensor_variable(value)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be a number, a scalar shared variable, a symbolic scalar "
            f"or a schedule, got {value!r}"
        ) from error
    if variable.ndim != 0:
        raise ValueError(
            f"{name} must be a scalar, got a variable with {variable.ndim} dimensions"
        )
    if variable.dtype == "bool" or np.dtype(variable.dtype).kind not in "iuf":
        raise TypeError(f"{name} must have a real numeric dtype, got {variable.dtype}")
    if variable.dtype != dtype:
        variable = pt.cast(variable, dtype)
    return variable


def check_max_evals(value, name):
    """A positive integer budget of evaluations, or ``ValueError`` naming it."""
    if (
        not isinstance(value, numbers.Integral)
        or isinstance(value, bool | np.bool_)
        or value < 1
    ):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
