"""Adam and SGD-momentum steps on the GPU: PyTensor's JAX backend, our resident
step, optax and torch on the same device in the same run, and the copy bound.

    python benchmarks/bench_gpu.py [--n 1e8] [--steps 20] [--repeat 7]
                                   [--device gpu|cpu] [--json results.json]

One float32 parameter vector of ``--n`` elements; the gradient is one fixed
random array of the same size, held on the device by every peer (a shared
variable for PyTensor, a JAX array for optax, ``.grad`` for torch), so only
the update is timed. Rows, per rule:

- ``pytensor.function JAX``: ``pytensor.function([], [], updates=...,
  mode="JAX")`` of our updates, whose shared variables live in PyTensor's
  host-side storage between calls;
- ``resident``: :func:`pytensor_optim.resident.resident_function` of the same
  updates (state on the device, buffers donated);
- ``optax``: ``optax.adam`` / ``optax.sgd(momentum=0.9)``, parameters and
  state updated by one ``jax.jit`` with both donated;
- ``torch``: ``torch.optim.Adam`` / ``SGD(momentum=0.9)`` with
  ``fused=True`` (``foreach`` where fused is refused), on the GPU when torch
  has CUDA and the run is on the GPU, else on the CPU (labelled);
- ``copy bound``: a jitted device-to-device copy of as many bytes as the
  step must move (Adam reads p, g, m, v and writes p, m, v: 7 arrays of n;
  SGD-momentum reads p, g, b and writes p, b: 5). On a GPU no step can beat
  it; on a CPU, where the arrays of a small ``--n`` sit in the caches during
  a step and the copy runs on one thread, it is no bound.

Each time is the median over ``--repeat`` rounds of ``--steps`` back-to-back
steps after two warm-up steps (compilation excluded), waiting for the device
at the end of each run; within a round the peers take turns in a random
order. Ratios are to
optax; "GB/s" is the bytes the step must move over its time. Every peer
takes the same steps from the same start: the last column is
``max|p - p_optax| / max|p_optax|`` at the end, a check that all take the
same step (float32 rounding differs: Adam's update of a constant gradient
repeats the same rounding at every step).

On a GPU machine without a package index, where JAX, optax and torch are
installed but PyTensor and its pure-Python dependencies are not, download the
wheels here, in the repository root::

    echo /.whl/ >> .git/info/exclude
    python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \\
        --implementation cp --platform manylinux_2_28_x86_64 \\
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \\
        -d .whl pytensor==3.0.7 etuples==0.3.10 logical-unification==0.4.7 \\
        miniKanren==1.0.5 cons==0.4.7

and there, with ``.whl`` copied along (PyTensor's ``numba`` requirement is
not checked: the JAX mode does not use numba)::

    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \\
        --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site:. \\
        && python3 benchmarks/bench_gpu.py --json bench_gpu.json
"""

import os

# JAX would otherwise take 75 % of the GPU's memory at start, leaving torch
# too little for 1e8 parameters
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import argparse
import importlib.metadata
import json
import platform
import random
import statistics
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytensor

import pytensor_optim as po
from pytensor_optim.resident import resident_function

warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")

STEP_SIZE = 1e-3
MOMENTUM = 0.9

RULES = {
    # name: (ours, our kwargs, optax optimizer, torch class and kwargs, arrays
    # a step must move)
    "adam": (po.adam, {}, lambda: optax.adam(STEP_SIZE), "Adam", {}, 7),
    "sgd-momentum": (
        po.sgd,
        {"momentum": MOMENTUM},
        lambda: optax.sgd(STEP_SIZE, momentum=MOMENTUM),
        "SGD",
        {"momentum": MOMENTUM},
        5,
    ),
}


class Peer:
    """One way to take the step: ``step()``, ``wait()`` for the device, and
    ``params()``, the parameters as a NumPy array."""

    def __init__(self, label, step, wait, params):
        self.label, self.step, self.wait, self.params = label, step, wait, params
        self.times = []

    def run(self, steps):
        start = time.perf_counter()
        for _ in range(steps):
            self.step()
        self.wait()
        self.times.append((time.perf_counter() - start) / steps)


def start_values(n, dtype):
    rng = np.random.default_rng(0)
    return (
        rng.standard_normal(n, dtype=np.float32).astype(dtype),
        rng.standard_normal(n, dtype=np.float32).astype(dtype),
    )


def pytensor_updates(rule, kwargs, n, dtype):
    params, gradient = start_values(n, dtype)
    param = pytensor.shared(params, name="p")
    gradient = pytensor.shared(gradient, name="g")
    return param, rule([param], gradients=[gradient], step_size=STEP_SIZE, **kwargs)


def pytensor_jax_peer(rule, kwargs, n, dtype, device):
    param, updates = pytensor_updates(rule, kwargs, n, dtype)
    with jax.default_device(device):
        step = pytensor.function([], [], updates=updates, mode="JAX")

    def run_step():
        with jax.default_device(device):
            step()

    def wait():
        jax.block_until_ready(param.get_value(borrow=True))

    return Peer(
        "pytensor.function JAX", run_step, wait, lambda: np.array(param.get_value())
    )


def resident_peer(rule, kwargs, n, dtype, device):
    param, updates = pytensor_updates(rule, kwargs, n, dtype)
    step = resident_function([], [], updates, device=device)
    return Peer("resident", step, step.block_until_ready, lambda: step.get_value(param))


def optax_peer(make_optimizer, n, dtype, device):
    params, gradient = (jax.device_put(v, device) for v in start_values(n, dtype))
    optimizer = make_optimizer()
    held = {"params": params, "state": optimizer.init(params)}

    def update(params, state, gradient):
        changes, state = optimizer.update(gradient, state, params)
        return optax.apply_updates(params, changes), state

    jitted = jax.jit(update, donate_argnums=(0, 1))

    def step():
        held["params"], held["state"] = jitted(held["params"], held["state"], gradient)

    return Peer(
        "optax",
        step,
        lambda: jax.block_until_ready(held),
        lambda: np.array(held["params"]),
    )


def torch_peer(class_name, kwargs, n, dtype, on_gpu):
    try:
        import torch
    except ImportError:
        return None
    torch_device = "cuda" if on_gpu and torch.cuda.is_available() else "cpu"
    params, gradient = start_values(n, dtype)
    param = torch.tensor(params, device=torch_device, requires_grad=True)
    param.grad = torch.tensor(gradient, device=torch_device)
    cls = getattr(torch.optim, class_name)
    for kernel in ("fused", "foreach"):
        try:
            optimizer = cls([param], lr=STEP_SIZE, **kwargs, **{kernel: True})
            break
        except (RuntimeError, TypeError, ValueError):
            continue
    else:
        return None

    def wait():
        if torch_device == "cuda":
            torch.cuda.synchronize()

    return Peer(
        f"torch {kernel} ({torch_device})",
        optimizer.step,
        wait,
        lambda: param.detach().cpu().numpy().copy(),
    )


def copy_peer(arrays, n, dtype, device):
    """A device-to-device copy reading and writing ``arrays * n`` elements.

    The destination is donated, as the steps donate their state: the copy
    writes into memory it already holds (a fresh output buffer would add
    allocation, and on the CPU page faults, to the bound). XLA compiles it to
    one ``copy``.
    """
    size = (arrays * n + 1) // 2
    source = jax.device_put(jnp.ones(size, dtype=dtype), device)
    # an unused donated argument would be pruned: the source is written into it
    copy = jax.jit(
        lambda destination, source: jax.lax.dynamic_update_slice(
            destination, source, (0,)
        ),
        donate_argnums=0,
    )
    held = {"destination": jax.device_put(jnp.zeros(size, dtype=dtype), device)}

    def step():
        held["destination"] = copy(held["destination"], source)

    return Peer(
        f"copy bound ({arrays} x n)",
        step,
        lambda: jax.block_until_ready(held["destination"]),
        None,
    )


def measure(peers, steps, repeat):
    """Warm every peer up, then time them in turn, ``repeat`` rounds.

    Taking the peers in turn, rather than one after the other, spreads a
    change of the machine's load over all of them; each round takes them in
    a new (seeded) random order, so that none always follows the same one
    (``pytensor.function`` leaves freed buffers and cold caches to the peer
    after it).
    """
    for peer in peers:
        for _ in range(2):
            peer.step()
        peer.wait()
    order = random.Random(0)
    for _ in range(repeat):
        for peer in order.sample(peers, len(peers)):
            peer.run(steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=float, default=1e8, help="parameters")
    parser.add_argument("--dtype", default="float32", choices=["float32"])
    parser.add_argument("--steps", type=int, default=20, help="steps per run")
    parser.add_argument("--repeat", type=int, default=7, help="runs (median)")
    parser.add_argument(
        "--device",
        choices=["gpu", "cpu"],
        default=None,
        help="default: JAX's default backend",
    )
    parser.add_argument("--rules", default=",".join(RULES))
    parser.add_argument("--json", default=None, help="also write the rows here")
    args = parser.parse_args()

    n = int(args.n)
    platform_name = args.device or ("gpu" if jax.default_backend() == "gpu" else "cpu")
    device = jax.devices(platform_name)[0]
    itemsize = np.dtype(args.dtype).itemsize
    versions = {
        name: _version(name) for name in ("jax", "jaxlib", "optax", "pytensor", "torch")
    }
    print(
        f"n = {n:.3g} {args.dtype}, device {device.device_kind} ({device.platform}), "
        f"{platform.machine()}, {os.cpu_count()} CPUs; "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
    )
    print(f"{args.repeat} rounds of {args.steps} steps per peer, median per step")
    print()
    print("| rule | peer | ms / step | / optax | GB/s moved | max diff p vs optax |")
    print("|---|---|---|---|---|---|")

    rows = []
    for name in args.rules.split(","):
        rule, kwargs, make_optimizer, torch_class, torch_kwargs, arrays = RULES[name]
        peers = [
            pytensor_jax_peer(rule, kwargs, n, args.dtype, device),
            resident_peer(rule, kwargs, n, args.dtype, device),
            optax_peer(make_optimizer, n, args.dtype, device),
            torch_peer(
                torch_class, torch_kwargs, n, args.dtype, platform_name == "gpu"
            ),
            copy_peer(arrays, n, args.dtype, device),
        ]
        peers = [peer for peer in peers if peer is not None]
        measure(peers, args.steps, args.repeat)
        # every peer took the same number of steps from the same start
        reference = peers[2].params()
        scale = float(np.max(np.abs(reference)))
        optax_seconds = statistics.median(peers[2].times)
        moved = arrays * n * itemsize
        for peer in peers:
            seconds = statistics.median(peer.times)
            difference = (
                float(np.max(np.abs(peer.params() - reference)) / scale)
                if peer.params is not None
                else None
            )
            row = {
                "rule": name,
                "peer": peer.label,
                "ms_per_step": seconds * 1e3,
                "ratio_to_optax": seconds / optax_seconds,
                "gb_per_s": moved / seconds / 1e9,
                "max_difference_to_optax": difference,
            }
            rows.append(row)
            print(
                f"| {name} | {peer.label} | {row['ms_per_step']:.3f} | "
                f"{row['ratio_to_optax']:.2f} | {row['gb_per_s']:.1f} | "
                + ("–" if difference is None else f"{difference:.1e}")
                + " |"
            )
        del peers
    if args.json:
        with open(args.json, "w") as file:
            json.dump(
                {
                    "n": n,
                    "dtype": args.dtype,
                    "device": f"{device.device_kind} ({device.platform})",
                    "steps": args.steps,
                    "repeat": args.repeat,
                    "versions": versions,
                    "rows": rows,
                },
                file,
                indent=1,
            )


def _version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


if __name__ == "__main__":
    main()
