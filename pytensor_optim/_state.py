"""Shared state of the rules: slots, scalar state and the iteration counter."""

import numpy as np
import pytensor
from pytensor.compile.sharedvalue import SharedVariable

__all__ = ["new_scalar", "new_slot", "param_labels", "param_shape"]


def param_labels(params) -> tuple[str, ...]:
    """The label of each parameter in state names: its name, or its index.

    The index is used when a parameter has no name or shares it with another,
    so that every state variable of a rule gets its own name.
    """
    names = [getattr(param, "name", None) for param in params]
    return tuple(
        name if name and names.count(name) == 1 else str(index)
        for index, name in enumerate(names)
    )


def param_shape(param, algo) -> tuple[int, ...]:
    """The current shape of a parameter (from its value, or its static shape)."""
    if isinstance(param, SharedVariable):
        return np.shape(param.get_value(borrow=True, return_internal_type=False))
    if all(length is not None for length in param.type.shape):
        return tuple(param.type.shape)
    raise TypeError(
        f"{algo} keeps state shaped like each parameter; parameter {param} is "
        "neither a shared variable nor of fully known static shape"
    )


def new_slot(param, name, algo, init=0.0, leading=(), trailing=()):
    """A shared variable shaped and typed like ``param``, filled with ``init``.

    ``leading`` and ``trailing`` dimensions go before and after the
    parameter's (a history of ``m`` copies has ``leading=(m,)``). Returns the
    variable and its initial value (kept for ``Updates.reset``): the fill
    value when ``init`` is a number, else a copy of ``init``.
    """
    own = param_shape(param, algo)
    shape = tuple(leading) + own + tuple(trailing)
    if np.ndim(init) == 0:
        value = np.full(shape, init, dtype=param.dtype)
        initial = np.asarray(init, dtype=param.dtype)
    else:
        value = np.array(init, dtype=param.dtype)
        if value.shape != shape:
            raise ValueError(
                f"initial value for {name} has shape {value.shape}, expected {shape}"
            )
        initial = value.copy()
    static = tuple(leading) + _static(param, own) + tuple(trailing)
    variable = pytensor.shared(value, name=name, shape=static)
    return variable, initial


def new_scalar(name, init, dtype, shape=()):
    """A shared variable not tied to a parameter (a scalar by default)."""
    initial = np.asarray(init, dtype=dtype)
    value = np.full(shape, initial, dtype=dtype)
    return pytensor.shared(value, name=name), initial


def _static(param, shape):
    # Keep only the static lengths the parameter itself declares, so slot
    # updates (built from the parameter) have exactly the slot's type.
    return tuple(
        length if static is not None else None
        for static, length in zip(param.type.shape, shape, strict=True)
    )
