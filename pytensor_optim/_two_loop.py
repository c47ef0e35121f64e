"""L-BFGS's history update and two-loop recursion as one graph node.

Written with PyTensor's tensor operations, the direction of :func:`lbfgs` takes
some fifty nodes per iteration, and its history update (drop the oldest
pair, append the newest when it passes the curvature test) a few more on
each history; under Numba each node costs more than its arithmetic on a
small problem. :class:`TwoLoop` computes both in one node: one kernel,
compiled by Numba (a dependency of PyTensor) for the Numba backend and for
``perform`` (the C VM and the Python linker), and written with
``jax.numpy`` for the JAX backend.

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


def _kernel(gradient, s_history, y_history, s, y, accept, stored, gamma):
    """The histories with the newest pair pushed (if ``accept``), and
    :math:`-H g` over their newest ``stored`` rows (the last ones), in the
    dtype of ``gradient`` (Numba-compilable)."""
    m, n = s_history.shape
    if (
        gradient.shape[0] != n
        or y_history.shape != s_history.shape
        or s.shape[0] != n
        or y.shape[0] != n
    ):
        raise ValueError(
            "TwoLoop: the histories must be (m, n) and the pair of size n "
            "for a gradient of n"
        )

    def pushed(history, newest):
        # a new array either way: the node's outputs are not views
        if not accept:
            return history.copy()
        result = np.empty_like(history)
        result[:-1] = history[1:]
        result[-1] = newest
        return result

    s_history = pushed(s_history, s)
    y_history = pushed(y_history, y)
    stored = max(0, min(stored, m))
    q = -gradient
    if n == 0:
        return q, s_history, y_history
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
    return q, s_history, y_history


def _cache_key(*functions):
    """A key for PyTensor's Numba cache from the sources of ``functions``
    (None, no caching, where the sources are not installed)."""
    try:
        sources = [inspect.getsource(function) for function in functions]
    except (OSError, TypeError):
        return None
    return sha256("\n".join(["pytensor_optim.TwoLoop", *sources]).encode()).hexdigest()


def _jit(function, **options):
    import numba

    # IEEE arithmetic, and NumPy's division (1 / 0 is inf, not an error)
    return numba.njit(function, fastmath=False, error_model="numpy", **options)


@functools.cache
def _compiled_kernel():
    """The kernel compiled for calls from Python (``perform``)."""
    try:
        return _jit(_kernel, cache=True)
    except RuntimeError:  # no writable cache directory: compile each run
        return _jit(_kernel)


class TwoLoop(Op):
    """``TwoLoop()(g, S, Y, s, y, accept, stored, gamma)``: L-BFGS's
    ``(direction, S', Y')``.

    ``g`` is a vector of size :math:`n`; ``S`` and ``Y`` are ``(m, n)``
    histories of that dtype, oldest pair first; ``s`` and ``y`` the newest
    pair, pushed when the boolean ``accept`` is true (the oldest row is
    dropped): ``S'`` and ``Y'`` are the histories after the push. The
    direction :math:`-Hg` uses the last ``stored`` rows of ``S'`` and
    ``Y'``; ``gamma`` (:math:`H_0 = \\gamma I`) is a scalar of that dtype.
    """

    __props__ = ()

    def make_node(self, gradient, s_history, y_history, s, y, accept, stored, gamma):
        gradient, s_history, y_history, s, y, accept, stored, gamma = (
            pt.as_tensor_variable(value)
            for value in (gradient, s_history, y_history, s, y, accept, stored, gamma)
        )
        if (
            gradient.ndim != 1
            or s_history.ndim != 2
            or y_history.ndim != 2
            or s.ndim != 1
            or y.ndim != 1
        ):
            raise TypeError(
                "TwoLoop takes a vector, two matrices and two vectors, got "
                "gradient, s_history, y_history, s and y of "
                f"{gradient.ndim}, {s_history.ndim}, {y_history.ndim}, "
                f"{s.ndim} and {y.ndim} dimensions"
            )
        dtype = gradient.dtype
        if dtype not in ("float32", "float64"):
            raise TypeError(
                f"TwoLoop's gradient must be float32 or float64, got {dtype}"
            )
        for name, variable in (
            ("s_history", s_history),
            ("y_history", y_history),
            ("s", s),
            ("y", y),
            ("gamma", gamma),
        ):
            if variable.dtype != dtype:
                raise TypeError(
                    f"TwoLoop's {name} must be {dtype} like its gradient, "
                    f"got {variable.dtype}"
                )
        if accept.ndim != 0 or accept.dtype != "bool":
            raise TypeError(
                f"TwoLoop's accept must be a boolean scalar, got {accept.type}"
            )
        if stored.ndim != 0 or not stored.dtype.startswith(("int", "uint")):
            raise TypeError(
                f"TwoLoop's stored must be an integer scalar, got {stored.type}"
            )
        inputs = [gradient, s_history, y_history, s, y, accept, stored, gamma]
        history = pt.matrix(dtype=dtype, shape=s_history.type.shape)
        return Apply(self, inputs, [gradient.type(), history.type(), history.type()])

    def perform(self, node, inputs, output_storage):
        gradient, s_history, y_history, s, y, accept, stored, gamma = inputs
        outputs = _compiled_kernel()(
            gradient, s_history, y_history, s, y, bool(accept), int(stored), gamma[()]
        )
        for storage, output in zip(output_storage, outputs, strict=True):
            storage[0] = output

    def infer_shape(self, fgraph, node, shapes):
        return [shapes[0], shapes[1], shapes[1]]


def two_loop(gradient, s_history, y_history, s, y, accept, stored, gamma):
    """:class:`TwoLoop` on the vector ``gradient`` (``gamma`` cast to its
    dtype): ``(direction, s_history, y_history)``."""
    return TwoLoop()(
        gradient,
        s_history,
        y_history,
        s,
        y,
        accept,
        stored,
        pt.cast(gamma, gradient.dtype),
    )


def register_numba():
    """Register :class:`TwoLoop` with PyTensor's Numba dispatch (idempotent)."""
    from pytensor.link.numba.dispatch import basic as numba_basic

    registry = numba_basic.numba_funcify_and_cache_key
    if TwoLoop in registry.registry:
        return
    kernel = numba_basic.numba_njit(_kernel, fastmath=False, error_model="numpy")

    def two_loop_node(gradient, s_history, y_history, s, y, accept, stored, gamma):
        return kernel(
            gradient,
            s_history,
            y_history,
            s,
            y,
            accept.item(),
            stored.item(),
            gamma.item(),
        )

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
        def push(history, newest, accept):
            pushed = jnp.concatenate([history[1:], newest[None]])
            return jnp.where(accept, pushed, history)

        def two_loop_node(gradient, s_history, y_history, s, y, accept, stored, gamma):
            s_history = push(s_history, s, accept)
            y_history = push(y_history, y, accept)
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
            return q, s_history, y_history

        return two_loop_node

    jax_funcify.register(TwoLoop, funcify)
