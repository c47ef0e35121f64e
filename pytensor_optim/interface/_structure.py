"""The structure of ``x0``: one array (or what SciPy takes for one), or a
list/tuple of arrays."""

import numbers

import numpy as np

__all__ = ["Structure"]


class Structure:
    """Shapes, dtypes and container of ``x0``, to pack and unpack values.

    ``x0`` is what :func:`scipy.optimize.minimize` accepts, converted as SciPy
    converts it (one array: a number becomes an array of shape ``(1,)``, a
    list of numbers an array, integers float64), or a list/tuple of arrays
    (several parameters, each integer array made float64). Anything else
    raises ``TypeError`` naming ``x0``.
    """

    def __init__(self, x0):
        if isinstance(x0, list | tuple) and any(
            isinstance(item, np.ndarray) for item in x0
        ):
            self.container, arrays = type(x0), list(x0)
        elif isinstance(x0, list | tuple) and not x0:
            raise ValueError("x0 must not be an empty list")
        else:
            self.container, arrays = None, [_one_array(x0)]
        for index, array in enumerate(arrays):
            where = "x0" if self.container is None else f"x0[{index}]"
            if not isinstance(array, np.ndarray):
                raise TypeError(
                    f"{where} must be an ndarray like the other entries of x0 (a "
                    f"list of arrays is several parameters), got "
                    f"{type(array).__name__}"
                )
            arrays[index] = array = _as_float(array, where)
        self.shapes = tuple(array.shape for array in arrays)
        self.dtypes = tuple(array.dtype for array in arrays)
        self.arrays = [np.array(array) for array in arrays]

    @property
    def cost_dtype(self) -> str:
        """The dtype of the cost: the widest of the parameters' dtypes."""
        return str(np.result_type(*self.dtypes))

    def pack(self, arrays):
        """``arrays`` in the structure of ``x0`` (the arrays themselves)."""
        if self.container is None:
            return arrays[0]
        return self.container(arrays)

    def unpack(self, value, name):
        """The arrays of a value shaped like ``x0`` (e.g. a gradient), checked.

        Each array is cast to its parameter's dtype; a wrong structure or shape
        raises ``ValueError`` naming ``name``.
        """
        if self.container is None:
            values = [value]
        elif isinstance(value, list | tuple) and len(value) == len(self.shapes):
            values = list(value)
        else:
            raise ValueError(
                f"{name} must return a list or tuple of {len(self.shapes)} arrays "
                f"like x0, got {type(value).__name__}"
            )
        arrays = []
        for index, (item, shape, dtype) in enumerate(
            zip(values, self.shapes, self.dtypes, strict=True)
        ):
            array = np.asarray(item)
            if array.shape != shape:
                where = "" if self.container is None else f"[{index}]"
                raise ValueError(
                    f"{name} returned an array of shape {array.shape}{where}, "
                    f"expected {shape} like x0{where}"
                )
            if array.dtype.kind not in "iuf":
                raise TypeError(f"{name} must return real arrays, got {array.dtype}")
            arrays.append(array.astype(dtype, copy=False))
        return arrays


def _one_array(x0):
    """``x0`` as one array, as SciPy's ``minimize`` takes it: an ndarray as
    it is, a number as shape ``(1,)``, a list of numbers as an array."""
    if isinstance(x0, np.ndarray):
        return x0
    if isinstance(x0, numbers.Number | np.generic) and not isinstance(x0, bool):
        return np.atleast_1d(np.asarray(x0))
    if isinstance(x0, list | tuple):
        try:
            return np.asarray(x0)
        except ValueError as error:  # ragged
            raise TypeError(
                f"x0 must be an array-like of numbers or a list/tuple of ndarrays "
                f"({error})"
            ) from None
    raise TypeError(
        f"x0 must be an ndarray, a number, a list of numbers or a list/tuple of "
        f"ndarrays, got {type(x0).__name__}"
    )


def _as_float(array, where):
    """Integer arrays become float64 (as SciPy converts them); float arrays
    keep their dtype; anything else is refused."""
    if array.dtype.kind in "iu":
        return array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(
            f"{where} must hold real numbers (a float or integer dtype), got "
            f"{array.dtype}"
        )
    return array
