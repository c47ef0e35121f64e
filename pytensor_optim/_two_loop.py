"""L-BFGS's curvature pair, history update and two-loop recursion as one node.

Written with PyTensor's tensor operations, the direction of :func:`lbfgs` takes
some fifty nodes per iteration, and the newest pair, its curvature test and
the history update (drop the oldest pair, append the newest when it passes
the test) a dozen more; under Numba each node costs more than its
arithmetic on a small problem. :class:`TwoLoop` computes all of it in one
node: one kernel,
compiled by Numba (a dependency of PyTensor) for the Numba backend and for
``perform`` (the C VM and the Python linker), and written with
``jax.numpy`` for the JAX backend.

The recursion follows ``torch.optim.LBFGS`` operation for operation:
:math:`\\rho_i = 1 / y_i^\\top s_i`, :math:`\\alpha_i = \\rho_i s_i^\\top q`,
:math:`q \\leftarrow q - \\alpha_i y_i` from the newest pair, then
:math:`r = \\gamma q` and :math:`r \\leftarrow r + (\\alpha_i - \\rho_i
y_i^\\top r) s_i` from the oldest, starting from :math:`q = -g`.
"""

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from ._compat import shape_inference
from ._kernels import backend_kernel, cache_key, compiled

__all__ = ["TwoLoop", "two_loop"]

# TwoLoop's inputs, in order
_INPUTS = (
    "gradient",
    "s_history",
    "y_history",
    "previous_gradient",
    "previous_direction",
    "previous_step",
    "stored",
    "gamma",
)


def _kernel(
    gradient,
    s_history,
    y_history,
    previous_gradient,
    previous_direction,
    previous_step,
    stored,
    gamma,
    relative,
    tolerance,
):
    """One update of L-BFGS's history, and its direction (Numba-compilable).

    The newest pair is :math:`s = t\\,d_{prev}`, :math:`y = g - g_{prev}`, in
    the dtype of ``gradient``, its inner products summed in float64 and
    rounded to that dtype (the recursion's are summed in the dtype). It
    passes the curvature test when :math:`y^\\top s` is finite and above
    ``tolerance`` (above ``tolerance`` :math:`\\|y\\|\\,\\|s\\|` if
    ``relative``): it is then pushed onto the histories (their oldest row
    dropped), ``stored`` grows by one up to the rows, and ``gamma`` becomes
    :math:`y^\\top s / y^\\top y`. The direction :math:`-H g` uses the newest
    ``stored`` rows (the last ones) and :math:`H_0 = \\gamma I`. Returns
    ``(direction, s_history, y_history, stored, gamma)``, new arrays.
    """
    m, n = s_history.shape
    if (
        gradient.shape[0] != n
        or y_history.shape != s_history.shape
        or previous_gradient.shape[0] != n
        or previous_direction.shape[0] != n
    ):
        raise ValueError(
            "TwoLoop: the histories must be (m, n), and the previous gradient "
            "and direction of size n, for a gradient of n"
        )
    real = gradient.dtype.type
    s = real(previous_step) * previous_direction
    y = gradient - previous_gradient
    ys, yy, ss = 0.0, 0.0, 0.0
    for j in range(n):
        ys += np.float64(y[j] * s[j])
        yy += np.float64(y[j] * y[j])
        ss += np.float64(s[j] * s[j])
    # rounded to the dtype, as a float32 sum is: a pair whose y's overflows
    # float32 is infinite, and refused
    ys, yy, ss = np.float64(real(ys)), np.float64(real(yy)), np.float64(real(ss))
    if relative:
        accept = ys > tolerance * np.sqrt(yy * ss)
    else:
        accept = ys > tolerance
    if accept and np.isfinite(ys):
        stored = min(stored + 1, m)
        gamma = ys / yy
        new_s_history = np.empty_like(s_history)
        new_y_history = np.empty_like(y_history)
        new_s_history[:-1] = s_history[1:]
        new_y_history[:-1] = y_history[1:]
        new_s_history[-1] = s
        new_y_history[-1] = y
    else:
        new_s_history = s_history.copy()
        new_y_history = y_history.copy()
    # the two-loop recursion, newest pair first, then oldest first
    used = max(0, min(stored, m))
    q = -gradient
    if n > 0:
        rho = np.zeros(m, dtype=gradient.dtype)
        alpha = np.zeros(m, dtype=gradient.dtype)
        for i in range(m - 1, m - 1 - used, -1):
            ys_i = new_s_history[i, 0] * new_y_history[i, 0]
            sq = new_s_history[i, 0] * q[0]
            for j in range(1, n):
                ys_i += new_y_history[i, j] * new_s_history[i, j]
                sq += new_s_history[i, j] * q[j]
            rho[i] = 1 / ys_i
            alpha[i] = sq * rho[i]
            for j in range(n):
                q[j] -= alpha[i] * new_y_history[i, j]
        scale = real(gamma)
        for j in range(n):
            q[j] *= scale
        for i in range(m - used, m):
            yr = new_y_history[i, 0] * q[0]
            for j in range(1, n):
                yr += new_y_history[i, j] * q[j]
            step = alpha[i] - yr * rho[i]
            for j in range(n):
                q[j] += step * new_s_history[i, j]
    return q, new_s_history, new_y_history, stored, gamma


class TwoLoop(Op):
    """``TwoLoop(relative, tolerance)(g, S, Y, g_prev, d_prev, t_prev, stored,
    gamma)``: one L-BFGS update, ``(direction, S', Y', stored', gamma')``.

    ``g``, ``g_prev`` and ``d_prev`` are vectors of size :math:`n`; ``S``
    and ``Y`` are ``(m, n)`` histories of their dtype, oldest pair first;
    ``t_prev`` (the previous step) and ``gamma`` are float64 scalars,
    ``stored`` an int64 scalar. See :func:`_kernel` for what it computes.
    """

    __props__ = ("relative", "tolerance")

    def __init__(self, relative, tolerance):
        self.relative = bool(relative)
        self.tolerance = float(tolerance)

    def make_node(self, *inputs):
        names = _INPUTS
        if len(inputs) != len(names):
            raise TypeError(
                f"TwoLoop takes {len(names)} inputs ({', '.join(names)}), "
                f"got {len(inputs)}"
            )
        inputs = [pt.as_tensor_variable(value) for value in inputs]
        variables = dict(zip(names, inputs, strict=True))
        dimensions = [variables[name].ndim for name in names]
        if dimensions != [1, 2, 2, 1, 1, 0, 0, 0]:
            raise TypeError(
                "TwoLoop takes a vector, two matrices, two vectors and three "
                f"scalars, got {dict(zip(names, dimensions, strict=True))} "
                "dimensions"
            )
        dtype = variables["gradient"].dtype
        if dtype not in ("float32", "float64"):
            raise TypeError(
                f"TwoLoop's gradient must be float32 or float64, got {dtype}"
            )
        for name in names[1:5]:
            if variables[name].dtype != dtype:
                raise TypeError(
                    f"TwoLoop's {name} must be {dtype} like its gradient, "
                    f"got {variables[name].dtype}"
                )
        for name in ("previous_step", "gamma"):
            if variables[name].dtype != "float64":
                raise TypeError(
                    f"TwoLoop's {name} must be a float64 scalar, "
                    f"got {variables[name].type}"
                )
        if variables["stored"].dtype != "int64":
            raise TypeError(
                "TwoLoop's stored must be an int64 scalar, "
                f"got {variables['stored'].type}"
            )
        history = variables["s_history"].type
        outputs = [
            variables["gradient"].type(),
            history(),
            history(),
            variables["stored"].type(),
            variables["gamma"].type(),
        ]
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, output_storage):
        *arrays, previous_step, stored, gamma = inputs
        outputs = compiled(_kernel)(
            *arrays,
            float(previous_step),
            int(stored),
            float(gamma),
            self.relative,
            self.tolerance,
        )
        for storage, output, variable in zip(
            output_storage, outputs, node.outputs, strict=True
        ):
            storage[0] = np.asarray(output, dtype=variable.dtype)

    @shape_inference
    def infer_shape(self, node, shapes):
        return [shapes[0], shapes[1], shapes[1], (), ()]


def two_loop(gradient, histories, previous, stored, gamma, *, relative, tolerance):
    """:class:`TwoLoop` applied: ``(direction, s_history, y_history, stored,
    gamma)``.

    ``histories`` is ``(s_history, y_history)``; ``previous`` is the
    previous gradient, direction and step, the step and ``gamma`` cast to
    float64.
    """
    previous_gradient, previous_direction, previous_step = previous
    return TwoLoop(relative, tolerance)(
        gradient,
        *histories,
        previous_gradient,
        previous_direction,
        pt.cast(previous_step, "float64"),
        stored,
        pt.cast(gamma, "float64"),
    )


def register_numba():
    """Register :class:`TwoLoop` with PyTensor's Numba dispatch (idempotent)."""
    from pytensor.link.numba.dispatch import basic as numba_basic

    registry = numba_basic.numba_funcify_and_cache_key
    if TwoLoop in registry.registry:
        return
    kernel = backend_kernel(_kernel)

    def funcify(op, node=None, **kwargs):
        relative, tolerance = op.relative, op.tolerance

        def two_loop_node(gradient, s_history, y_history, g_prev, d_prev, t, k, gamma):
            direction, s_new, y_new, stored, gamma = kernel(
                gradient,
                s_history,
                y_history,
                g_prev,
                d_prev,
                t.item(),
                k.item(),
                gamma.item(),
                relative,
                tolerance,
            )
            return direction, s_new, y_new, np.asarray(stored), np.asarray(gamma)

        key = cache_key(
            "pytensor_optim.TwoLoop",
            _kernel,
            two_loop_node,
            constants=(relative, tolerance),
        )
        return numba_basic.numba_njit(two_loop_node), key

    registry.register(TwoLoop, funcify)
    numba_basic.numba_funcify.register(
        TwoLoop, lambda op, node=None, **kwargs: funcify(op, node)[0]
    )


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
        relative, tolerance = op.relative, op.tolerance

        def two_loop_node(gradient, s_history, y_history, g_prev, d_prev, t, k, gamma):
            s = t.astype(gradient.dtype) * d_prev
            y = gradient - g_prev
            ys, yy, ss = (
                jnp.sum((a * b).astype("float64")).astype(y.dtype).astype("float64")
                for a, b in ((y, s), (y, y), (s, s))
            )
            threshold = tolerance * jnp.sqrt(yy * ss) if relative else tolerance
            accept = jnp.logical_and(ys > threshold, jnp.isfinite(ys))
            m = s_history.shape[0]
            k = jnp.where(accept, jnp.minimum(k + 1, m), k)
            gamma = jnp.where(accept, ys / yy, gamma)
            s_history = jnp.where(
                accept, jnp.concatenate([s_history[1:], s[None]]), s_history
            )
            y_history = jnp.where(
                accept, jnp.concatenate([y_history[1:], y[None]]), y_history
            )
            rows = jnp.arange(m) >= m - jnp.clip(k, 0, m)
            rho, alpha = [None] * m, [None] * m
            q = -gradient
            for i in reversed(range(m)):
                rho[i] = 1 / jnp.dot(y_history[i], s_history[i])
                alpha[i] = jnp.dot(s_history[i], q) * rho[i]
                q = jnp.where(rows[i], q - alpha[i] * y_history[i], q)
            q = q * gamma.astype(gradient.dtype)
            for i in range(m):
                step = alpha[i] - jnp.dot(y_history[i], q) * rho[i]
                q = jnp.where(rows[i], q + step * s_history[i], q)
            return q, s_history, y_history, k, gamma

        return two_loop_node

    jax_funcify.register(TwoLoop, funcify)
