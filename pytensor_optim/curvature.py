"""Hessian-free optimisation (Martens 2010)."""

import numbers
from typing import NamedTuple

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.graph.replace import graph_replace
from pytensor.scan.utils import until
from pytensor.tensor.variable import TensorVariable

from ._docs import insert_docs
from ._flat import Flat
from ._hessian import gauss_newton_vector, hessian_vector
from ._protocol import Problem
from ._scan import check_mode, last_or, like, loop
from ._validate import check_flag, check_range, initial_value
from ._vec import constant

__all__ = ["hessian_free"]

# Martens (2010), §4.4: the relative-progress test of the inner CG
_PROGRESS_WINDOW = 10
_PROGRESS_FRACTION = 0.1
# §4.6: CG iterates kept for backtracking at i = ceil(1.3^j)
_BACKTRACK_BASE = 1.3
# §4.1: Levenberg-Marquardt adjustment of the damping
_RHO_LOW, _RHO_HIGH = 0.25, 0.75
_DAMPING_UP, _DAMPING_DOWN = 1.5, 2.0 / 3.0
# §4.7: exponent of the diagonal preconditioner
_PRECONDITIONER_EXPONENT = 0.75
# Martens & Sutskever (2012), §8.8: Armijo constant, shrink factor, tries
_ARMIJO_C1, _ARMIJO_SHRINK, _ARMIJO_TRIES = 1e-2, 0.8, 60


def backtracking_iterations(cg_max_iter):
    """The CG iterations whose iterates are kept for backtracking (ascending):
    :math:`\\lceil 1.3^j \\rceil \\le` ``cg_max_iter``, without repeats."""
    kept, power = [], 1.0
    while np.ceil(power) <= cg_max_iter:
        kept.append(int(np.ceil(power)))
        power *= _BACKTRACK_BASE
    return sorted(set(kept))


def _check_positive_int(name, value):
    if np.ndim(value) != 0:
        raise ValueError(f"{name} must be a scalar, got shape {np.shape(value)}")
    if not isinstance(value, numbers.Integral) or isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_model(gauss_newton, outputs, loss, cost):
    check_flag("gauss_newton", gauss_newton)
    if not gauss_newton:
        if outputs is not None or loss is not None:
            raise ValueError(
                "outputs and loss are only used with gauss_newton=True, got "
                f"gauss_newton=False and outputs={outputs!r}, loss={loss!r}"
            )
        return cost
    if outputs is None or loss is None:
        raise ValueError(
            "gauss_newton=True needs the model: pass outputs= (the model output "
            "z, a tensor of the params) and loss= (a callable z -> scalar cost), "
            "or gauss_newton=False for exact Hessian-vector products"
        )
    if not isinstance(outputs, TensorVariable):
        raise TypeError(
            f"outputs must be a tensor expression of the params, got "
            f"{type(outputs).__name__}"
        )
    if not callable(loss):
        raise TypeError(f"loss must be a callable z -> scalar, got {loss!r}")
    if not outputs.dtype.startswith("float"):
        raise TypeError(f"outputs must have a float dtype, got {outputs.dtype}")
    model_loss = loss(outputs)
    if (
        not isinstance(model_loss, Variable)
        or getattr(model_loss.type, "ndim", None) != 0
    ):
        raise ValueError(
            f"loss must map the model output to a scalar expression, got {model_loss!r}"
        )
    return model_loss if cost is None else cost


def _preconditioner_diagonal(preconditioner, problem, damping):
    """The diagonal :math:`M` of the preconditioner, one tensor per parameter."""
    params = problem.params
    if isinstance(preconditioner, str):
        raise ValueError(
            f"preconditioner={preconditioner!r} is not available: Martens' "
            "preconditioner needs per-example gradients; pass their sum of "
            "squares as a list of tensors aligned with params (or a callable "
            "damping -> diagonal), or None"
        )
    if callable(preconditioner):
        diagonal = preconditioner(damping)
        statistic = False
    else:
        diagonal = preconditioner
        statistic = True
    if isinstance(diagonal, Variable):
        diagonal = [diagonal]
    if not isinstance(diagonal, list | tuple) or len(diagonal) != len(params):
        raise ValueError(
            "preconditioner must give a list of tensors aligned with params "
            f"({len(params)} entries), got {diagonal!r}"
        )
    pieces = []
    for index, (param, piece) in enumerate(zip(params, diagonal, strict=True)):
        piece = pt.as_tensor_variable(piece)
        if piece.ndim != param.ndim:
            raise ValueError(
                f"preconditioner[{index}] has {piece.ndim} dimensions, expected "
                f"{param.ndim} like params[{index}]"
            )
        piece = pt.cast(piece, param.dtype)
        if statistic:
            exponent = constant(_PRECONDITIONER_EXPONENT, param.dtype)
            piece = (piece + pt.cast(damping, param.dtype)) ** exponent
        pieces.append(piece)
    return pieces


@insert_docs
def hessian_free(
    params,
    cost=None,
    gradients=None,
    stop=None,
    updates=None,
    *,
    damping=1.0,
    cg_max_iter=250,
    gauss_newton=True,
    outputs=None,
    loss=None,
    preconditioner=None,
    warm_start=0.95,
    cg_tolerance=5e-4,
    armijo=True,
    mode=None,
    **stopping,
):
    r"""Hessian-free optimisation (Martens 2010): damped Newton by inner CG.

    One call is one outer iteration: linear conjugate gradients on the
    damped system :math:`(G + \lambda I) p = -g` with curvature-matrix-vector
    products (no matrix is formed), backtracking over the CG iterates,
    a Levenberg-Marquardt update of the damping :math:`\lambda` and an
    Armijo backtracking of the chosen step.

    Parameters
    ----------
    {protocol_parameters}
    damping : float, default 1.0
        The initial damping :math:`\lambda > 0`; it then adapts (state
        ``hessian_free.damping``).
    cg_max_iter : int, default 250
        The most inner CG iterations of one call (Martens' 250).
    gauss_newton : bool, default True
        ``True``: the curvature matrix is the Gauss-Newton matrix
        :math:`G = J^\top H_L J` of the model given by ``outputs`` and
        ``loss``. ``False``: the Hessian of ``cost``, by exact
        Hessian-vector products, or, when the gradient cannot be
        differentiated (a cost given by a NumPy callable), by forward
        differences of the gradient (as :func:`truncated_newton`).
    outputs : TensorVariable, optional
        With ``gauss_newton=True``: the model output :math:`z(\theta)`, any
        float tensor expression of ``params`` (e.g. a network's
        predictions).
    loss : callable, optional
        With ``gauss_newton=True``: ``loss(z)`` returns the scalar loss of a
        model output ``z`` (for example
        ``lambda z: 0.5 * ((z - y) ** 2).sum()``). It is called on
        ``outputs`` (the cost, when ``cost`` is not given) and on a stand-in
        variable of the same type, to build :math:`H_L`. It should be convex
        in ``z`` (squared error, cross-entropy on logits) so that :math:`G`
        is positive semi-definite. When ``cost`` is also given, it is what
        is minimised and ``loss(outputs)`` only defines the curvature: terms
        of ``cost`` outside ``loss(outputs)`` (a penalty) add no curvature.
    preconditioner : None, list of tensors, or callable, default None
        A diagonal preconditioner :math:`M` of the inner CG. A list of
        non-negative tensors aligned with ``params`` is Martens' statistic
        :math:`s = \sum_i \nabla f_i \odot \nabla f_i` (the sum over the
        examples of the squared per-example gradients, which the user
        computes), used as :math:`M = (s + \lambda)^{3/4}`. A callable
        ``damping -> list of tensors`` gives :math:`M` itself (positive).
        ``"martens"`` raises ``ValueError``: per-example gradients are not
        available from a scalar cost.
    warm_start : float, default 0.95
        CG starts from this multiple of the previous call's final CG iterate
        (Martens' decay :math:`\zeta`; 0 starts from zero), in ``[0, 1]``.
    cg_tolerance : float, default 5e-4
        :math:`\epsilon` of the relative-progress stopping test of CG.
    armijo : bool, default True
        Backtrack the chosen step :math:`p` (steps :math:`1, 0.8, 0.8^2,
        \dots`, at most 60) until the Armijo condition with
        :math:`c_1 = 10^{-2}` holds, as Martens & Sutskever (2012); no step
        when none does. ``False``: take :math:`p` whenever the cost there is
        finite (Martens 2010, Algorithm 1).
    mode : str or Mode, optional
        The compilation mode of the inner loops (``scan``); default
        PyTensor's ``FAST_RUN`` (C code: slower to compile, faster to run).
        ``"FAST_COMPILE"`` compiles in a fraction of the time.
    {stopping_parameters}

    Returns
    -------
    {returns}

    Notes
    -----
    At :math:`\theta_k`, with :math:`f = f(\theta_k)`, :math:`g = \nabla
    f(\theta_k)` and :math:`B` the curvature matrix (Gauss-Newton or
    Hessian), the quadratic model and its damped version are

    .. math::

        q(p) = g^\top p + \tfrac12 p^\top B p, \qquad
        \phi(p) = q(p) + \tfrac{\lambda}{2} \|p\|_2^2 .

    The Gauss-Newton product needs no matrix: :math:`J v` by an R-op of
    ``outputs``, :math:`H_L u` by differentiating
    :math:`\nabla_z L^\top u`, :math:`J^\top w` by an L-op; the Hessian
    product is :math:`\nabla (\nabla f^\top v)`.

    *Inner CG* (preconditioned by :math:`M`, identity by default) minimises
    :math:`\phi` from :math:`p_0 = \zeta p_{\text{prev}}` (the final CG
    iterate of the previous call): :math:`r_0 = (B + \lambda I) p_0 + g`,
    :math:`y_j = M^{-1} r_j`, :math:`d_0 = -y_0`,

    .. math::

        \alpha_j = \frac{r_j^\top y_j}{d_j^\top (B + \lambda I) d_j}, \
        p_{j+1} = p_j + \alpha_j d_j, \
        r_{j+1} = r_j + \alpha_j (B + \lambda I) d_j, \
        d_{j+1} = -y_{j+1}
            + \frac{r_{j+1}^\top y_{j+1}}{r_j^\top y_j} d_j,

    with :math:`\phi(p_i) = \tfrac12 p_i^\top (r_i + g)`. It stops at
    iteration :math:`i` (Martens §4.4) when

    .. math::

        i > k, \quad \phi(p_i) < 0, \quad
        \frac{\phi(p_i) - \phi(p_{i-k})}{\phi(p_i)} < k \epsilon,
        \quad k = \max(10, \lfloor 0.1 i \rfloor),

    after ``cg_max_iter`` iterations, when the residual vanishes, or when
    the curvature :math:`d_j^\top (B + \lambda I) d_j` is not positive
    (keeping :math:`p_j`).

    *CG backtracking* (§4.6): the iterates at :math:`i = \lceil 1.3^j
    \rceil` and the last one are candidates; the cost is evaluated at
    :math:`\theta_k + p_i` from the last candidate backwards while it does
    not increase, and the best is the step :math:`p`.

    *Damping* (§4.1): with the reduction ratio

    .. math:: \rho = \frac{f(\theta_k + p) - f}{q(p)},

    :math:`\lambda \leftarrow \tfrac32 \lambda` when :math:`\rho < \tfrac14`
    (or :math:`\rho` is not finite), :math:`\lambda \leftarrow \tfrac23
    \lambda` when :math:`\rho > \tfrac34`; the new :math:`\lambda` serves
    the next call.

    *Step*: :math:`\theta_{k+1} = \theta_k + t p`, with :math:`t` the first
    of :math:`1, 0.8, 0.8^2, \dots` such that :math:`f(\theta_k + t p) \le f
    + 10^{-2} t g^\top p` (``armijo=True``), else :math:`t = 0` (no move).
    A direction that is not a descent direction is not taken
    (:math:`t = 0`, and the damping grows).

    The parameters are handled as one vector (in their widest dtype). Every
    CG iterate is kept by the loop (memory ``cg_max_iter`` times the number
    of parameters). Evaluations counted towards ``max_evals``: the cost and
    gradient at :math:`\theta_k`, each curvature product and each cost
    evaluation. State: ``hessian_free.damping``, ``slots["cg_solution"]``
    (:math:`p_{\text{prev}}`), ``hessian_free.cg_iterations`` and
    ``hessian_free.reduction_ratio`` (of the last call).

    References
    ----------
    .. [1] Martens, J. (2010). Deep learning via Hessian-free optimization.
       ICML, §4.
    .. [2] Martens, J., Sutskever, I. (2012). Training deep and recurrent
       networks with Hessian-free optimization. Neural Networks: Tricks of
       the Trade, 2nd ed., LNCS 7700 (§8.8: the line search).
    .. [3] Schraudolph, N. (2002). Fast curvature matrix-vector products for
       second-order gradient descent. Neural Computation 14.

    Examples
    --------
    A least-squares fit of a small model :math:`z = a\, \tanh(b x)`: the
    cost is ``loss(z)`` with the model output ``z``.

    >>> import numpy as np, pytensor, pytensor.tensor as pt
    >>> from pytensor_optim import hessian_free
    >>> x = np.linspace(-2.0, 2.0, 20)
    >>> y = 1.5 * np.tanh(0.7 * x)
    >>> w = pytensor.shared(np.array([1.0, 1.0]), name="w")
    >>> z = w[0] * pt.tanh(w[1] * x)
    >>> def loss(z):
    ...     return 0.5 * ((z - y) ** 2).sum()
    >>> updates = hessian_free([w], outputs=z, loss=loss, mode="FAST_COMPILE")
    >>> step = pytensor.function([], loss(z), updates=updates, mode="FAST_COMPILE")
    >>> for _ in range(10):
    ...     _ = step()
    >>> w.get_value().round(6)
    array([1.5, 0.7])
    """
    cost = _check_model(gauss_newton, outputs, loss, cost)
    problem = Problem("hessian_free", params, cost, gradients, stop, updates, stopping)
    algo = problem.algo
    if problem.cost is None:
        raise ValueError(
            f"{algo}() needs cost (or outputs and loss): its damping and "
            "backtracking compare costs"
        )
    initial_damping = initial_value("damping", damping, low=0, low_open=True)
    cg_max_iter = _check_positive_int("cg_max_iter", cg_max_iter)
    decay = initial_value("warm_start", warm_start, low=0, high=1)
    tolerance = initial_value("cg_tolerance", cg_tolerance, low=0, low_open=True)
    check_range("cg_tolerance", tolerance, high=1, high_open=True)
    check_flag("armijo", armijo)
    mode = check_mode(mode)

    flat = Flat(problem.params, algo)
    dtype = flat.dtype
    lam = problem.scalar("damping", initial_damping, dtype)
    previous = problem.slot("cg_solution")
    cg_iterations = problem.scalar("cg_iterations", 0, "int64")
    ratio = problem.scalar("reduction_ratio", np.nan, dtype)
    model = _DampedModel(problem, flat, lam, gauss_newton, outputs, loss)
    model.precondition_with(preconditioner)

    cg = _inner_cg(model, flat.join(previous), decay, tolerance, cg_max_iter, mode)
    step, step_cost, best, backtrack_evals = _backtrack(model, cg, cg_max_iter, mode)
    slope = pt.dot(model.g, step)
    new_lam, rho, descent = _levenberg_marquardt(
        model, cg, step, step_cost, best, slope
    )
    accepted, rate, line_evals = _armijo(
        model, step, step_cost, slope, descent, armijo, mode
    )

    zero = constant(0, dtype)
    moved = pt.switch(accepted, rate, zero)
    new_x = model.x + moved * step
    problem.no_step = pt.invert(accepted)

    final = cg.final
    kept_solution = pt.switch(pt.all(pt.isfinite(final)), final, pt.zeros_like(final))
    state_updates = [
        (lam, new_lam),
        *zip(previous, flat.split(kept_solution), strict=True),
        (cg_iterations, pt.cast(cg.done, "int64")),
        (ratio, pt.switch(descent, rho, constant(np.nan, dtype))),
    ]
    products = cg.done + (1 if decay != 0 else 0)
    evals = 2 + products + backtrack_evals + line_evals
    return problem.finish(flat.split(new_x), state_updates, evals=evals)


class _DampedModel:
    """The damped curvature :math:`G + \\lambda I` at the parameters, the
    gradient and the cost there, and the cost along a step."""

    def __init__(self, problem, flat, lam, gauss_newton, outputs, loss):
        self.problem, self.flat, self.lam = problem, flat, lam
        self.dtype = dtype = flat.dtype
        self.params = params = list(problem.params)
        self.placeholders = [param.type() for param in params]
        if gauss_newton:
            self.product = gauss_newton_vector(params, outputs, loss, self.placeholders)
        else:
            self.product = hessian_vector(problem, self.placeholders)
        self.x = flat.join(params)
        self.g = flat.join(problem.gradients)
        self.f = pt.cast(problem.cost, dtype)
        self.eps = constant(np.finfo(dtype).eps, dtype)
        self.inverse_diagonal = None

    def precondition_with(self, preconditioner):
        """Martens' diagonal preconditioner, or none."""
        if preconditioner is None:
            return
        one = constant(1, self.dtype)
        diagonal = self.flat.join(
            _preconditioner_diagonal(preconditioner, self.problem, self.lam)
        )
        usable = pt.and_(pt.isfinite(diagonal), pt.gt(diagonal, 0))
        self.inverse_diagonal = pt.switch(usable, one / diagonal, one)

    def precondition(self, r):
        return r if self.inverse_diagonal is None else r * self.inverse_diagonal

    def times_curvature(self, d):
        flat, params, problem = self.flat, self.params, self.problem
        pieces = flat.split(d)
        if self.product is not None:
            return flat.join(
                graph_replace(
                    self.product, dict(zip(self.placeholders, pieces, strict=True))
                )
            )
        # forward differences of the gradient (a gradient without derivative)
        x, eps = self.x, self.eps
        d_norm = pt.sqrt(pt.dot(d, d))
        h = 2 * pt.sqrt(eps) * (1 + pt.sqrt(pt.dot(x, x))) / d_norm
        shifted = [
            param + pt.cast(h, param.dtype) * piece
            for param, piece in zip(params, pieces, strict=True)
        ]
        ahead = flat.join(
            graph_replace(
                list(problem.gradients), dict(zip(params, shifted, strict=True))
            )
        )
        difference = (ahead - self.g) / h
        usable = pt.and_(
            pt.and_(pt.isfinite(h), pt.gt(h, 0)), pt.all(pt.isfinite(difference))
        )
        return pt.switch(usable, difference, pt.zeros_like(difference))

    def damped(self, d):
        return self.times_curvature(d) + self.lam * d

    def cost_at(self, step):
        params = self.params
        shifted = [
            param + piece
            for param, piece in zip(params, self.flat.split(step), strict=True)
        ]
        value = graph_replace(
            self.problem.cost, dict(zip(params, shifted, strict=True))
        )
        return pt.cast(value, self.dtype)


class _InnerCG(NamedTuple):
    p0: object  # the warm start
    iterates: object  # the CG iterates after p0, one row each
    done: object  # their number
    final: object  # the last iterate (p0 after none)
    phis: object  # the quadratic model at p0 and each iterate


def _inner_cg(model, previous, decay, tolerance, cg_max_iter, mode):
    """Linear CG on the damped system (Martens §4.3-4.5), warm-started from
    ``decay`` times the previous solution, ended by the relative progress of
    the quadratic model."""
    dtype, g, lam = model.dtype, model.g, model.lam
    zero, half = constant(0, dtype), constant(0.5, dtype)
    p0 = constant(decay, dtype) * previous
    r0 = model.damped(p0) + g if decay != 0 else g
    y0 = model.precondition(r0)
    phi0 = half * pt.dot(p0, r0 + g)
    phis0 = pt.set_subtensor(pt.zeros((cg_max_iter + 1,), dtype=dtype)[0], phi0)
    fraction = constant(tolerance, dtype)

    def inner(p, r, d, ry, phis, i, *invariants):
        ad = model.damped(d)
        curvature = pt.dot(d, ad)
        alpha = ry / curvature
        unusable = pt.or_(
            pt.invert(pt.and_(pt.isfinite(curvature), pt.gt(curvature, 0))),
            pt.invert(pt.isfinite(alpha)),
        )
        p_next = p + alpha * d
        r_next = r + alpha * ad
        y_next = model.precondition(r_next)
        ry_next = pt.dot(r_next, y_next)
        d_next = -y_next + (ry_next / ry) * d
        number = i + 1
        phi = pt.switch(unusable, phis[i], half * pt.dot(p_next, r_next + g))
        window = pt.maximum(_PROGRESS_WINDOW, number // 10)
        earlier = phis[pt.maximum(number - window, 0)]
        progress = pt.and_(
            pt.and_(pt.gt(number, window), pt.lt(phi, zero)),
            pt.lt((phi - earlier) / phi, pt.cast(window, dtype) * fraction),
        )
        solved = pt.or_(pt.invert(pt.isfinite(ry_next)), pt.le(ry_next, zero))
        new = [
            pt.switch(unusable, p, p_next),
            r_next,
            d_next,
            ry_next,
            pt.set_subtensor(phis[number], phi),
            number,
        ]
        templates = [p, r, d, ry, phis, i]
        new = [like(value, old) for value, old in zip(new, templates, strict=True)]
        return new, until(pt.or_(pt.or_(unusable, progress), solved))

    initial = [p0, r0, -y0, pt.dot(r0, y0), phis0, pt.constant(np.int64(0))]
    valid = pt.and_(pt.all(pt.isfinite(g)), pt.gt(pt.dot(g, g), 0))
    cg_out = loop(
        inner,
        initial,
        (g, lam),
        pt.switch(valid, cg_max_iter, 0),
        mode,
        name="hessian_free",
    )
    iterates, phi_history = cg_out[0], cg_out[4]
    return _InnerCG(
        p0,
        iterates,
        iterates.shape[0],
        last_or(p0, iterates),
        last_or(phis0, phi_history),
    )


def _backtrack(model, cg, cg_max_iter, mode):
    """CG backtracking (Martens §4.6): the kept iterate of lowest cost, going
    back from the last one while the cost falls. Returns the step, its cost,
    its row and the evaluations."""
    rows = pt.concatenate([pt.shape_padleft(cg.p0), cg.iterates])
    kept = constant(backtracking_iterations(cg_max_iter)[::-1], "int64")
    candidates = kept[pt.lt(kept, cg.done).nonzero()]
    final_cost = model.cost_at(cg.final)

    def backtrack(best, best_cost, position, rows, candidates):
        index = candidates[position]
        value = model.cost_at(rows[index])
        better = pt.le(value, best_cost)
        new = [
            pt.switch(better, index, best),
            pt.switch(better, value, best_cost),
            position + 1,
        ]
        templates = [best, best_cost, position]
        new = [like(v, old) for v, old in zip(new, templates, strict=True)]
        return new, until(pt.invert(better))

    start = [pt.cast(cg.done, "int64"), final_cost, pt.constant(np.int64(0))]
    back = loop(
        backtrack,
        start,
        (rows, candidates),
        candidates.shape[0],
        mode,
        name="hessian_free",
    )
    best = last_or(start[0], back[0])
    step_cost = last_or(final_cost, back[1])
    return rows[best], step_cost, best, back[0].shape[0]


def _levenberg_marquardt(model, cg, step, step_cost, best, slope):
    """The damping's update (Martens §4.1) from the reduction ratio rho;
    returns the new damping, rho, and whether the step descends."""
    dtype, lam = model.dtype, model.lam
    zero, half = constant(0, dtype), constant(0.5, dtype)
    quadratic = cg.phis[best] - half * lam * pt.dot(step, step)
    rho = (step_cost - model.f) / quadratic
    descent = pt.and_(pt.lt(slope, zero), pt.isfinite(step_cost))
    rho_usable = pt.and_(descent, pt.isfinite(rho))
    new_lam = pt.switch(
        pt.or_(pt.invert(rho_usable), pt.lt(rho, constant(_RHO_LOW, dtype))),
        lam * constant(_DAMPING_UP, dtype),
        pt.switch(
            pt.gt(rho, constant(_RHO_HIGH, dtype)),
            lam * constant(_DAMPING_DOWN, dtype),
            lam,
        ),
    )
    return new_lam, rho, descent


def _armijo(model, step, step_cost, slope, descent, armijo, mode):
    """Whether the step is taken, its rate, and the search's evaluations:
    Armijo backtracking of the rate from 1, or the whole step."""
    dtype, f = model.dtype, model.f
    one = constant(1, dtype)
    if not armijo:
        return descent, one, 0
    c1 = constant(_ARMIJO_C1, dtype)
    shrink = constant(_ARMIJO_SHRINK, dtype)

    def sufficient(rate, value):
        return pt.le(value, f + c1 * rate * slope)

    first_ok = sufficient(one, step_cost)

    def armijo_step(rate, accepted, step, slope, f):
        trial = rate * shrink
        ok = sufficient(trial, model.cost_at(trial * step))
        new = [trial, ok]
        return [
            like(v, old) for v, old in zip(new, [rate, accepted], strict=True)
        ], until(ok)

    tries = pt.switch(pt.or_(first_ok, pt.invert(descent)), 0, _ARMIJO_TRIES - 1)
    searched = loop(
        armijo_step,
        [one, first_ok],
        (step, slope, f),
        tries,
        mode,
        name="hessian_free",
    )
    rate = last_or(one, searched[0])
    accepted = pt.and_(descent, last_or(first_ok, searched[1]))
    return accepted, rate, searched[0].shape[0]
