"""The structure of ``x0``: one array, or a list/tuple of arrays."""

import numpy as np

__all__ = ["Structure"]


class Structure:
    """Shapes, dtypes and container of ``x0``, to pack and unpack values.

    ``x0`` is an ndarray or a list/tuple of ndarrays, each of a float dtype;
    anything else raises ``TypeError`` naming ``x0``.
    """

    def __init__(self, x0):
        if isinstance(x0, np.ndarray):
            self.container, arrays = None, [x0]
        elif isinstance(x0, list | tuple):
            self.container, arrays = type(x0), list(x0)
            if not arrays:
                raise ValueError("x0 must not be an empty list")
        else:
            raise TypeError(
                f"x0 must be an ndarray or a list/tuple of ndarrays, got "
                f"{type(x0).__name__}"
            )
        for index, array in enumerate(arrays):
            where = "x0" if self.container is None else f"x0[{index}]"
            if not isinstance(array, np.ndarray):
                raise TypeError(
                    f"{where} must be an ndarray, got {type(array).__name__}"
                )
            if array.dtype.kind != "f":
                raise TypeError(
                    f"{where} must have a float dtype (float32 or float64), got "
                    f"{array.dtype}"
                )
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
