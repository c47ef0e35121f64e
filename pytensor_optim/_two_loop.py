"""The L-BFGS two-loop recursion as one graph node.

Written with PyTensor's tensor operations, the direction of :func:`lbfgs` takes
some fifty nodes per iteration, and under Numba each node costs more than its
arithmetic on a small problem. :class:`TwoLoop` computes it in one
node: one loop over the history, compiled by Numba (a dependency of PyTensor)
for the Numba backend and for ``perform`` (the C VM and the Python linker),
and written with ``jax.numpy`` for the JAX backend.

The recursion follows ``torch.optim.LBFGS`` operation for operation:
:math:`\\rho_i = 1 / y_i^\\top s_i`, :math:`\\alpha_i = \\rho_i s_i^\\top q`,
:math:`q \\leftarrow q - \\alpha_i y_i` from the newest pair, then
:math:`r = \\gamma q` and :math:`r \\leftarrow r + (\\alpha_i - \\rho_i
y_i^\\top r) s_i` from the oldest, starting from :math:`q = -g`.
"""

import functools
import inspect
from hashlib import sha256

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

__all__ = ["TwoLoop", "two_loop"]


def _kernel(gradient, s_history, y_history, stored, gamma):
    """:math:`-H g` over the newest ``stored`` rows (the last ones) of the
    histories, in the dtype of ``gradient`` (Numba-compilable)."""
    m, n = s_history.shape
    if gradient.shape[0] != n or y_history.shape != s_history.shape:
        raise ValueError("TwoLoop: the histories must be (m, n) for a gradient of n")
    stored = max(0, min(stored, m))
    q = -gradient
    if n == 0:
        return q
    rho = np.zeros(m, dtype=gradient.dtype)
    alpha = np.zeros(m, dtype=gradient.dtype)
    for i in range(m - 1, m - 1 - stored, -1):
        ys = s_history[i, 0] * y_history[i, 0]
        sq = s_history[i, 0] * q[0]
        for j in range(1, n):
            ys += y_history[i, j] * s_history[i, j]
            sq += s_history[i, j] * q[j]
        rho[i] = 1 / ys
        alpha[i] = sq * rho[i]
        for j in range(n):
            q[j] -= alpha[i] * y_history[i, j]
    for j in range(n):
        q[j] *= gamma
    for i in range(m - stored, m):
        yr = y_history[i, 0] * q[0]
        for j in range(1, n):
            yr += y_history[i, j] * q[j]
        step = alpha[i] - yr * rho[i]
        for j in range(n):
            q[j] += step * s_history[i, j]
    return q


def _cache_key(*functions):
    """A key for PyTensor's Numba cache from the sources of ``functions``
    (None, no caching, where the sources are not installed)."""
    try:
        sources = [inspect.getsource(function) for function in functions]
    except (OSError, TypeError):
        return None
    return sha256("\n".join(["pytensor_optim.TwoLoop", *sources]).encode()).hexdigest()


@functools.cache
def _compiled_kernel():
    """The kernel compiled for calls from Python (``perform``)."""
    import numba

    try:
        return numba.njit(_kernel, fastmath=False, cache=True)
    except RuntimeError:  # no writable cache directory: compile each run
        return numba.njit(_kernel, fastmath=False)


class TwoLoop(Op):
    """``TwoLoop()(g, S, Y, stored, gamma)``: the L-BFGS direction :math:`-Hg`.

    ``g`` is a vector of size :math:`n`; ``S`` and ``Y`` are ``(m, n)``
    histories of that dtype, oldest pair first, of which the last ``stored``
    rows are used; ``gamma`` (:math:`H_0 = \\gamma I`) is a scalar of that
    dtype.
    """

    __props__ = ()

    def make_node(self, gradient, s_history, y_history, stored, gamma):
        gradient = pt.as_tensor_variable(gradient)
        s_history = pt.as_tensor_variable(s_history)
        y_history = pt.as_tensor_variable(y_history)
        stored = pt.as_tensor_variable(stored)
        gamma = pt.as_tensor_variable(gamma)
        if gradient.ndim != 1 or s_history.ndim != 2 or y_history.ndim != 2:
            raise TypeError(
                "TwoLoop takes a vector and two matrices, got gradient, "
                "s_history and y_history of "
                f"{gradient.ndim}, {s_history.ndim} and {y_history.ndim} dimensions"
            )
        dtype = gradient.dtype
        if dtype not in ("float32", "float64"):
            raise TypeError(
                f"TwoLoop's gradient must be float32 or float64, got {dtype}"
            )
        for name, variable in (
            ("s_history", s_history),
            ("y_history", y_history),
            ("gamma", gamma),
        ):
            if variable.dtype != dtype:
                raise TypeError(
                    f"TwoLoop's {name} must be {dtype} like its gradient, "
                    f"got {variable.dtype}"
                )
        if stored.ndim != 0 or not stored.dtype.startswith(("int", "uint")):
            raise TypeError(
                f"TwoLoop's stored must be an integer scalar, got {stored.type}"
            )
        inputs = [gradient, s_history, y_history, stored, gamma]
        return Apply(self, inputs, [gradient.type()])

    def perform(self, node, inputs, output_storage):
        gradient, s_history, y_history, stored, gamma = inputs
        output_storage[0][0] = _compiled_kernel()(
            gradient, s_history, y_history, int(stored), gamma[()]
        )

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0]]


def two_loop(gradient, s_history, y_history, stored, gamma):
    """:class:`TwoLoop` on the vector ``gradient`` (``gamma`` cast to its dtype)."""
    return TwoLoop()(
        gradient, s_history, y_history, stored, pt.cast(gamma, gradient.dtype)
    )


def register_numba():
    """Register :class:`TwoLoop` with PyTensor's Numba dispatch (idempotent)."""
    from pytensor.link.numba.dispatch import basic as numba_basic

    registry = numba_basic.numba_funcify_and_cache_key
    if TwoLoop in registry.registry:
        return
    kernel = numba_basic.numba_njit(_kernel, fastmath=False)

    def two_loop_node(gradient, s_history, y_history, stored, gamma):
        return kernel(gradient, s_history, y_history, stored.item(), gamma.item())

    compiled = numba_basic.numba_njit(two_loop_node)
    key = _cache_key(_kernel, two_loop_node)

    registry.register(TwoLoop, lambda *args, **kwargs: (compiled, key))
    numba_basic.numba_funcify.register(TwoLoop, lambda *args, **kwargs: compiled)


def register_jax():
    """Register :class:`TwoLoop` with PyTensor's JAX dispatch (idempotent).

    The loops run over the whole history, so the shapes stay static; the
    rows not stored are left out by selection (not multiplied by zero, so
    that an infinite gradient or a NaN in such a row gives what the kernel
    gives).
    """
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    if TwoLoop in jax_funcify.registry:
        return

    def funcify(op, node=None, **kwargs):
        def two_loop_node(gradient, s_history, y_history, stored, gamma):
            m = s_history.shape[0]
            rows = jnp.arange(m) >= m - jnp.clip(stored, 0, m)
            rho, alpha = [None] * m, [None] * m
            q = -gradient
            for i in reversed(range(m)):
                rho[i] = 1 / jnp.dot(y_history[i], s_history[i])
                alpha[i] = jnp.dot(s_history[i], q) * rho[i]
                q = jnp.where(rows[i], q - alpha[i] * y_history[i], q)
            q = q * gamma
            for i in range(m):
                step = alpha[i] - jnp.dot(y_history[i], q) * rho[i]
                q = jnp.where(rows[i], q + step * s_history[i], q)
            return q

        return two_loop_node

    jax_funcify.register(TwoLoop, funcify)
