"""The parameters as one flat vector: what the dense and matrix-free
second-order rules (bfgs, sr1, lbfgs, truncated_newton, hessian_free) and
cmaes work on."""

import contextvars

import numpy as np
import pytensor.tensor as pt

from ._state import param_shape

#: Whether :class:`Flat` gives a single vector parameter's size to the graph
#: as a static shape (later nodes then skip their run-time shape checks). The
#: NumPy interface builds with it off, so that one compiled iteration of
#: ``lbfgs`` serves vectors of every size.
static_sizes = contextvars.ContextVar("static_sizes", default=True)


class Flat:
    """The parameters as one vector, in their widest dtype (for a dense matrix)."""

    def __init__(self, params, algo):
        self.dtype = str(np.result_type(*(param.dtype for param in params)))
        self.shapes = [param_shape(param, algo) for param in params]
        self.dtypes = [param.dtype for param in params]
        sizes = [int(np.prod(shape, dtype=np.int64)) for shape in self.shapes]
        self.ends = np.cumsum(sizes).tolist()
        self.size = self.ends[-1]

    def join(self, tensors):
        """One vector of ``tensors`` aligned with the parameters."""
        return pt.concatenate([pt.cast(t, self.dtype).flatten() for t in tensors])

    def join_rows(self, histories):
        """One ``(m, size)`` matrix of per-parameter histories ``(m, *shape)``."""
        return pt.concatenate(
            [pt.cast(h, self.dtype).reshape((h.shape[0], -1)) for h in histories],
            axis=1,
        )

    def _one_vector(self):
        # one vector parameter is its own flat vector: no slice, no reshape
        return len(self.shapes) == 1 and len(self.shapes[0]) == 1

    def split_rows(self, history):
        """The pieces of the ``(m, size)`` ``history``, ``(m, *shape)`` each."""
        if self._one_vector() and not static_sizes.get():
            return [pt.cast(history, self.dtypes[0])]
        if self._one_vector():
            shape = (history.type.shape[0], *self.shapes[0])
            return [pt.specify_shape(pt.cast(history, self.dtypes[0]), shape)]
        starts = [0, *self.ends[:-1]]
        m = history.shape[0]
        return [
            pt.cast(history[:, start:end].reshape((m, *shape)), dtype)
            for start, end, shape, dtype in zip(
                starts, self.ends, self.shapes, self.dtypes, strict=True
            )
        ]

    def split(self, vector):
        """The pieces of ``vector``, shaped and typed like the parameters."""
        if self._one_vector() and not static_sizes.get():
            return [pt.cast(vector, self.dtypes[0])]
        if self._one_vector():
            # its static shape spares later nodes their runtime shape checks
            return [pt.specify_shape(pt.cast(vector, self.dtypes[0]), self.shapes[0])]
        starts = [0, *self.ends[:-1]]
        return [
            pt.cast(vector[start:end].reshape(shape), dtype)
            for start, end, shape, dtype in zip(
                starts, self.ends, self.shapes, self.dtypes, strict=True
            )
        ]
