"""NumPy callables as PyTensor Ops, with evaluation counters.

``f`` becomes a scalar Op of the parameters, and ``df`` (or the gradient part
of ``f`` when ``df=True``, or finite differences of ``f``) an Op giving one
gradient per parameter; the cost Op's ``L_op`` uses the gradient Op, so
``pytensor.grad`` works on the wrapped cost. A :class:`Tracker` counts
evaluations and keeps the best point seen.

The Ops call what their :class:`Binding` holds, not callables of their own:
a compiled iteration serves one run after another (same rule, options and
structure of ``x0``), each run binding its ``f``, ``df`` and tracker.
"""

from collections import deque

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

__all__ = [
    "Binding",
    "SecondOrder",
    "Tracker",
    "callable_cost",
    "callable_ops",
    "evaluate",
]


class Tracker:
    """Evaluation counts and the best (lowest-cost) point evaluated."""

    def __init__(self):
        self.n_evals = 0
        self.n_grad_evals = 0
        self.n_hess_evals = 0
        self.best_value = np.inf
        self.best_x = None
        self.error = None
        # the results at the last few points: a compiled step may need the
        # cost at a point a line search evaluated a few trials earlier
        self._recent = {kind: deque(maxlen=8) for kind in ("f", "f and df", "df")}
        # whether the gradients of ``df`` (and of finite differences) are
        # remembered too: only for a report (SciPy's ``jac``), not recalled
        self.keep_gradients = False

    def recall(self, kind, arrays):
        """The result of ``kind`` at ``arrays`` if it was among the last ones."""
        for point, result in self._recent[kind]:
            if all(np.array_equal(a, b) for a, b in zip(point, arrays, strict=True)):
                return result
        return None

    def remember(self, kind, arrays, result):
        self._recent[kind].append(([array.copy() for array in arrays], result))

    def record(self, arrays, value):
        if value < self.best_value:
            self.best_value = float(value)
            self.best_x = [array.copy() for array in arrays]

    def remember_error(self, error):
        # PyTensor appends notes to exceptions raised inside a compiled
        # function; keep the original ones so the interface can restore them.
        self.error = (error, list(getattr(error, "__notes__", ())))

    def restore_error(self, error):
        """Give an exception raised by ``f``/``df`` back its original notes."""
        if self.error is not None and self.error[0] is error:
            notes = self.error[1]
            if notes:
                error.__notes__ = notes
            elif hasattr(error, "__notes__"):
                del error.__notes__
        self.error = None

    def state(self):
        # the results remembered too: a resumed run must not evaluate again
        # what the original would have recalled
        recent = {kind: list(results) for kind, results in self._recent.items()}
        return (
            self.n_evals,
            self.n_grad_evals,
            self.best_value,
            self.best_x,
            recent,
            self.n_hess_evals,
        )

    def load(self, state):
        self.n_evals, self.n_grad_evals, self.best_value, self.best_x = state[:4]
        for kind, results in state[4].items():
            self._recent[kind].clear()
            self._recent[kind].extend(results)
        self.n_hess_evals = state[5] if len(state) > 5 else 0


class Binding:
    """The run a compiled iteration serves: its ``f``, ``df``, tracker and the
    structure of its ``x0`` (the shapes may differ from run to run)."""

    __slots__ = ("df", "f", "structure", "tracker")

    def __init__(self):
        self.f = self.df = self.tracker = self.structure = None

    def __reduce__(self):
        # pickled with a compiled iteration (the disk cache): bound to no run
        return (Binding, ())


def _readonly(arrays):
    views = []
    for array in arrays:
        view = array.view()
        view.flags.writeable = False
        views.append(view)
    return views


class _CallableOp(Op):
    """Base: calls a Python function on the parameters' values."""

    def __init__(self, structure, binding):
        binding.structure = structure
        self.binding = binding

    @property
    def structure(self):
        return self.binding.structure

    @property
    def tracker(self):
        return self.binding.tracker

    def _call(self, function, arrays, name):
        try:
            return function(self.structure.pack(_readonly(arrays)))
        except BaseException as error:
            self.tracker.remember_error(error)
            raise

    def _value(self, value, name):
        return as_cost(value, name, self.structure.cost_dtype)

    def _evaluate(self, f, arrays):
        """``f`` at ``arrays``, counted (memoised for the last few points)."""
        tracker = self.tracker
        value = tracker.recall("f", arrays)
        if value is None:
            value = self._value(self._call(f, arrays, "f"), "f")
            tracker.n_evals += 1
            tracker.remember("f", arrays, value)
        return value

    def _inputs(self, inputs):
        variables = [pt.as_tensor_variable(x) for x in inputs]
        if len(variables) != len(self.structure.shapes):
            raise ValueError("one input per parameter expected")
        return variables


class CostOp(_CallableOp):
    """``f(x)`` as a scalar of the parameters."""

    def __init__(self, structure, binding, gradient_op):
        super().__init__(structure, binding)
        self.gradient_op = gradient_op

    def make_node(self, *inputs):
        inputs = self._inputs(inputs)
        return Apply(self, inputs, [pt.scalar(dtype=self.structure.cost_dtype)])

    def perform(self, node, inputs, outputs):
        value = self._evaluate(self.binding.f, inputs)
        self.tracker.record(inputs, value)
        # a copy: the graph may update its input in place, and value is kept
        outputs[0][0] = value.copy()

    def L_op(self, inputs, outputs, output_grads):
        if self.gradient_op is None:
            return [
                grad_not_implemented(self, i, x, "no df was given (df=None)")
                for i, x in enumerate(inputs)
            ]
        gradients = self.gradient_op(*inputs)
        if not isinstance(gradients, list | tuple):
            gradients = [gradients]
        return [
            pt.cast(output_grads[0] * g, x.dtype)
            for g, x in zip(gradients, inputs, strict=True)
        ]


class GradientOp(_CallableOp):
    """``df(x)`` (or forward differences of ``f``): one output per parameter."""

    hessian = None  # a HessianProductOp: set by callable_ops for hessp

    def __init__(self, structure, binding, finite_differences=False):
        super().__init__(structure, binding)
        self.finite_differences = finite_differences

    def make_node(self, *inputs):
        inputs = self._inputs(inputs)
        return Apply(self, inputs, [x.type() for x in inputs])

    def perform(self, node, inputs, outputs):
        if not self.finite_differences:
            df = self.binding.df
            gradients = self.structure.unpack(self._call(df, inputs, "df"), "df")
        else:
            gradients = self._finite_differences(inputs)
        self.tracker.n_grad_evals += 1
        if self.tracker.keep_gradients:
            # copies: the graph may update its outputs in place
            self.tracker.remember("df", inputs, [g.copy() for g in gradients])
        for output, gradient in zip(outputs, gradients, strict=True):
            output[0] = gradient

    def pullback(self, inputs, outputs, cotangents):
        # the Hessian is symmetric: v^T H is (H v)^T
        if self.hessian is None:
            return super().pullback(inputs, outputs, cotangents)
        return _hessian_times(self.hessian, inputs, cotangents)

    def _finite_differences(self, inputs):
        # Forward differences with SciPy's '2-point' step:
        # h = sqrt(eps) * max(1, |x|), signed like x.
        f = self.binding.f
        base = float(self._evaluate(f, inputs))
        point = [np.array(x) for x in inputs]
        gradients = []
        for array in point:
            gradient = np.empty_like(array)
            flat, out = array.reshape(-1), gradient.reshape(-1)
            relative = np.sqrt(np.finfo(array.dtype).eps)
            for i in range(flat.size):
                original = flat[i]
                sign = 1.0 if original >= 0 else -1.0
                h = relative * sign * max(1.0, abs(float(original)))
                flat[i] = original + h
                step = float(flat[i]) - float(original)
                value = self._value(self._call(f, point, "f"), "f")
                self.tracker.n_evals += 1
                flat[i] = original
                out[i] = (float(value) - base) / step
            gradients.append(gradient)
        return gradients


class ValueGradientOp(_CallableOp):
    """``f(x) -> (value, gradient)`` for ``df=True``: cost and gradients at once."""

    hessian = None  # a HessianProductOp: set by callable_ops for hessp

    def make_node(self, *inputs):
        inputs = self._inputs(inputs)
        cost = pt.scalar(dtype=self.structure.cost_dtype)
        return Apply(self, inputs, [cost, *(x.type() for x in inputs)])

    def perform(self, node, inputs, outputs):
        known = self.tracker.recall("f and df", inputs)
        if known is None:
            result = self._call(self.binding.f, inputs, "f")
            value, gradients = _value_and_gradients(result, self.structure)
            self.tracker.n_evals += 1
            self.tracker.n_grad_evals += 1
            known = (value, gradients)
            self.tracker.remember("f and df", inputs, known)
        value, gradients = known
        # a point first evaluated for a report (see evaluate) is recorded here
        self.tracker.record(inputs, value)
        # copies: the graph may update its outputs in place, and these are kept
        outputs[0][0] = value.copy()
        for output, gradient in zip(outputs[1:], gradients, strict=True):
            output[0] = gradient.copy()

    def L_op(self, inputs, outputs, output_grads):
        through_cost = not isinstance(output_grads[0].type, DisconnectedType)
        if all(isinstance(g.type, DisconnectedType) for g in output_grads[1:]):
            products = None
        elif self.hessian is not None:
            products = _hessian_times(self.hessian, inputs, output_grads[1:])
        else:
            return [
                grad_not_implemented(self, i, x, "second derivatives of f")
                for i, x in enumerate(inputs)
            ]
        if not through_cost:
            return products
        from_cost = [
            pt.cast(output_grads[0] * g, x.dtype)
            for g, x in zip(outputs[1:], inputs, strict=True)
        ]
        if products is None:
            return from_cost
        return [a + b for a, b in zip(from_cost, products, strict=True)]

    def connection_pattern(self, node):
        return [[True] * len(node.outputs) for _ in node.inputs]


def callable_ops(structure, binding, df):
    """The Ops of the bound ``f``/``df`` for ``df``'s kind: a callable
    (``binding.df``), ``True`` (``f`` returns both), ``"2-point"`` or ``None``
    (no gradients). The Ops serve parameters of any sizes (``binding``'s
    structure says which at run time). A :class:`SecondOrder` ``df`` gives
    the gradient Op Hessian-vector products as its derivative."""
    if isinstance(df, SecondOrder):
        ops = callable_ops(structure, binding, df.gradient)
        hessian = HessianProductOp(structure, binding)
        for op in ops:
            if isinstance(op, GradientOp | ValueGradientOp):
                op.hessian = hessian
        return ops
    if df is True:
        return ValueGradientOp(structure, binding), None
    if df is None:
        return CostOp(structure, binding, None), None
    gradient_op = GradientOp(structure, binding, finite_differences=df == "2-point")
    return CostOp(structure, binding, gradient_op), gradient_op


def callable_cost(ops, params):
    """The cost and gradient expressions (``None`` without ``df``) of the
    :func:`callable_ops` ``ops`` at ``params``."""
    cost_op, gradient_op = ops
    if isinstance(cost_op, ValueGradientOp):
        outputs = cost_op(*params)
        return outputs[0], list(outputs[1:])
    cost = cost_op(*params)
    if gradient_op is None:
        return cost, None
    gradients = gradient_op(*params)
    if not isinstance(gradients, list | tuple):
        gradients = [gradients]
    return cost, list(gradients)


def as_cost(value, name, dtype):
    """``f``'s value as a 0-d array of ``dtype``: a real number, or an array
    of one element (shape ``(1,)``, ``(1, 1)``), which SciPy accepts too."""
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"{name} must return a scalar, got shape {array.shape}")
    if array.dtype.kind not in "iufb":
        raise TypeError(f"{name} must return a real number, got {value!r}")
    return np.asarray(array.reshape(()), dtype=dtype)


def _value_and_gradients(result, structure):
    """The checked ``(value, gradients)`` of ``f`` with ``df=True``."""
    if not isinstance(result, tuple | list) or len(result) != 2:
        raise ValueError(
            "f must return a (value, gradient) pair when df=True, got "
            f"{type(result).__name__}"
        )
    value = as_cost(result[0], "f", structure.cost_dtype)
    gradients = structure.unpack(result[1], "f (gradient part, df=True)")
    return value, gradients


class SecondOrder:
    """``df`` with the Hessian-vector products ``hessp(x, p)`` of ``f``.

    ``df`` (``gradient``) is a callable, ``True`` or ``"2-point"``; calling
    this object calls it. :func:`callable_ops` gives the gradient Op a
    derivative, :class:`HessianProductOp`, so that ``pytensor.grad`` of the
    gradient (a rule's Hessian-vector product) calls ``hessp``.
    """

    __slots__ = ("gradient", "hessp")

    def __init__(self, gradient, hessp):
        if gradient is None:
            raise ValueError(
                "hessp needs gradients: pass df (a callable), df=True or "
                "df='2-point' with it"
            )
        if not callable(hessp):
            raise TypeError(
                f"hessp must be a callable hessp(x, p), got {type(hessp).__name__}"
            )
        self.gradient, self.hessp = gradient, hessp

    def __call__(self, x):
        return self.gradient(x)


class HessianProductOp(_CallableOp):
    """``hessp(x, v)``: the Hessian of ``f`` at the parameters times ``v``.

    Inputs: the parameters, then one direction per parameter; one output per
    parameter. ``binding.df`` is the run's :class:`SecondOrder`.
    """

    def make_node(self, *inputs):
        count = len(self.structure.shapes)
        points = self._inputs(inputs[:count])
        directions = [
            pt.cast(pt.as_tensor_variable(v), x.dtype)
            for v, x in zip(inputs[count:], points, strict=True)
        ]
        return Apply(self, [*points, *directions], [x.type() for x in points])

    def perform(self, node, inputs, outputs):
        count = len(outputs)
        pack = self.structure.pack
        try:
            product = self.binding.df.hessp(
                pack(_readonly(inputs[:count])), pack(_readonly(inputs[count:]))
            )
        except BaseException as error:
            self.tracker.remember_error(error)
            raise
        products = self.structure.unpack(product, "hessp")
        self.tracker.n_hess_evals += 1
        for output, value in zip(outputs, products, strict=True):
            output[0] = value


def _hessian_times(hessian, inputs, directions):
    """``hessian`` at ``inputs`` times ``directions`` (a disconnected one is
    zero), one expression per input."""
    directions = [
        pt.zeros_like(x) if isinstance(v.type, DisconnectedType) else v
        for v, x in zip(directions, inputs, strict=True)
    ]
    products = hessian(*inputs, *directions)
    if not isinstance(products, list | tuple):
        products = [products]
    return [pt.cast(p, x.dtype) for p, x in zip(products, inputs, strict=True)]


def evaluate(structure, tracker, f, df, arrays):
    """``f`` at ``arrays`` and its gradients where known, for a report.

    The value comes from memory when the run evaluated ``f`` there, else from
    one call of ``f`` (counted and remembered, so that the step that needs it
    next recalls it instead of calling ``f`` again). It is not offered as the
    best point, so a run's result does not depend on its reports. Returns
    ``(value, gradients)``, ``gradients`` ``None`` when not known without a
    call of ``df`` (with ``df=True`` they come with the value).
    """
    if df is True:
        known = tracker.recall("f and df", arrays)
        if known is None:
            result = f(structure.pack(_readonly(arrays)))
            known = _value_and_gradients(result, structure)
            tracker.n_evals += 1
            tracker.n_grad_evals += 1
            tracker.remember("f and df", arrays, known)
        return known
    value = tracker.recall("f", arrays)
    if value is None:
        value = as_cost(f(structure.pack(_readonly(arrays))), "f", structure.cost_dtype)
        tracker.n_evals += 1
        tracker.remember("f", arrays, value)
    return value, tracker.recall("df", arrays)
