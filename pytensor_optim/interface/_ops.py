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

__all__ = ["Binding", "Tracker", "callable_cost"]


class Tracker:
    """Evaluation counts and the best (lowest-cost) point evaluated."""

    def __init__(self):
        self.n_evals = 0
        self.n_grad_evals = 0
        self.best_value = np.inf
        self.best_x = None
        self.error = None
        # the results at the last few points: a compiled step may need the
        # cost at a point a line search evaluated a few trials earlier
        self._recent = {"f": deque(maxlen=8), "f and df": deque(maxlen=8)}

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
        return (self.n_evals, self.n_grad_evals, self.best_value, self.best_x, recent)

    def load(self, state):
        self.n_evals, self.n_grad_evals, self.best_value, self.best_x = state[:4]
        for kind, results in state[4].items():
            self._recent[kind].clear()
            self._recent[kind].extend(results)


class Binding:
    """The run a compiled iteration serves: its ``f``, ``df`` and tracker."""

    __slots__ = ("df", "f", "tracker")

    def __init__(self):
        self.f = self.df = self.tracker = None


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
        self.structure = structure
        self.binding = binding

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
        array = np.asarray(value)
        if array.ndim != 0:
            raise ValueError(f"{name} must return a scalar, got shape {array.shape}")
        if array.dtype.kind not in "iufb":
            raise TypeError(f"{name} must return a real number, got {value!r}")
        return np.asarray(array, dtype=self.structure.cost_dtype)

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
        for output, gradient in zip(outputs, gradients, strict=True):
            output[0] = gradient

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

    def make_node(self, *inputs):
        inputs = self._inputs(inputs)
        cost = pt.scalar(dtype=self.structure.cost_dtype)
        return Apply(self, inputs, [cost, *(x.type() for x in inputs)])

    def perform(self, node, inputs, outputs):
        known = self.tracker.recall("f and df", inputs)
        if known is None:
            result = self._call(self.binding.f, inputs, "f")
            if not isinstance(result, tuple | list) or len(result) != 2:
                raise ValueError(
                    "f must return a (value, gradient) pair when df=True, got "
                    f"{type(result).__name__}"
                )
            value = self._value(result[0], "f")
            gradients = self.structure.unpack(result[1], "f (gradient part, df=True)")
            self.tracker.n_evals += 1
            self.tracker.n_grad_evals += 1
            self.tracker.record(inputs, value)
            self.tracker.remember("f and df", inputs, (value, gradients))
        else:
            value, gradients = known
            # the outputs may be modified in place by the graph
            gradients = [gradient.copy() for gradient in gradients]
        # a copy: the graph may update its input in place, and value is kept
        outputs[0][0] = value.copy()
        for output, gradient in zip(outputs[1:], gradients, strict=True):
            output[0] = gradient

    def L_op(self, inputs, outputs, output_grads):
        if not all(isinstance(g.type, DisconnectedType) for g in output_grads[1:]):
            return [
                grad_not_implemented(self, i, x, "second derivatives of f")
                for i, x in enumerate(inputs)
            ]
        return [
            pt.cast(output_grads[0] * g, x.dtype)
            for g, x in zip(outputs[1:], inputs, strict=True)
        ]

    def connection_pattern(self, node):
        return [[True] * len(node.outputs) for _ in node.inputs]


def callable_cost(structure, binding, params, df):
    """The cost and gradient expressions of the bound ``f``/``df`` at ``params``.

    ``df`` says which: a callable (``binding.df``), ``True`` (``f`` returns
    both), ``"2-point"`` or ``None`` (no gradients: returns ``None`` for
    them).
    """
    if df is True:
        outputs = ValueGradientOp(structure, binding)(*params)
        return outputs[0], list(outputs[1:])
    if df is None:
        return CostOp(structure, binding, None)(*params), None
    gradient_op = GradientOp(structure, binding, finite_differences=df == "2-point")
    cost = CostOp(structure, binding, gradient_op)(*params)
    gradients = gradient_op(*params)
    if not isinstance(gradients, list | tuple):
        gradients = [gradients]
    return cost, list(gradients)
