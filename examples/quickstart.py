"""pytensor_optim in two minutes.

1. Train a tiny logistic-regression model: ``sgd`` returns an updates dict that
   ``pytensor.function`` compiles into one training step.
2. Minimise the Rosenbrock function given as NumPy callables with
   ``minimize_iterator``: no PyTensor graph to write.

Run: python examples/quickstart.py
"""

import warnings

import numpy as np
import pytensor
import pytensor.tensor as pt
from scipy.optimize import rosen, rosen_der

import pytensor_optim as po

# pip-installed PyTensor warns once that it found no BLAS; not needed here.
warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")


def train_logistic_regression():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(200, 3))
    true_weights = np.array([2.0, -1.0, 0.5])
    labels = (features @ true_weights + 0.3 * rng.normal(size=200) > 0).astype(float)

    x, y = pt.matrix("x"), pt.vector("y")
    w = pytensor.shared(np.zeros(3), name="w")
    b = pytensor.shared(0.0, name="b")
    probability = pt.sigmoid(x @ w + b)
    cost = -pt.mean(y * pt.log(probability) + (1 - y) * pt.log(1 - probability))

    updates = po.sgd(
        [w, b], cost, step_size=po.schedules.cosine(0.5, 300), momentum=0.9
    )
    train = pytensor.function([x, y], cost, updates=updates)

    print("1) logistic regression with sgd (cosine schedule, momentum 0.9)")
    for epoch in range(300):
        loss = train(features, labels)
        if epoch % 100 == 0 or epoch == 299:
            print(f"   step {epoch:3d}  loss {float(loss):.4f}")
    accuracy = np.mean((features @ w.get_value() + b.get_value() > 0) == labels)
    print(f"   weights {np.round(w.get_value(), 2)}, training accuracy {accuracy:.1%}")
    print(f"   optimizer state: {sorted(updates.state_dict())}")


def minimize_rosenbrock():
    print("2) Rosenbrock from (-1.2, 1) with NumPy callables")
    iterator = po.minimize_iterator(
        np.array([-1.2, 1.0]),
        rosen,
        rosen_der,
        po.sgd,
        step_size=1e-3,
        momentum=0.9,
        max_iter=20000,
        gtol=1e-4,
    )
    for step in iterator:
        if step.n_iter % 500 == 0:
            print(f"   iteration {step.n_iter:5d}  f {step.fx:.3e}")
    result = iterator.result()
    print(f"   {result.message} after {result.nit} iterations")
    print(f"   x = {np.round(result.x, 5)}, f = {result.fun:.3e}")
    print(f"   {result.nfev} calls of f, {result.njev} of its gradient")


if __name__ == "__main__":
    train_logistic_regression()
    minimize_rosenbrock()
