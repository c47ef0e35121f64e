"""Write pymc.variational.updates trajectories (run by hand).

The tests need no pymc; this script does. It runs in its own Python 3.12
environment (here ``python3.12`` is /root/.pyenv/versions/3.12.1/bin/python3.12)::

    python3.12 -m venv /work/venv312
    /work/venv312/bin/pip install "pymc==6.4.*"
    /work/venv312/bin/python tests/reference/make_pymc_updates.py [--check]

The stored data were made with pymc 6.4.0, PyTensor 3.3.7, NumPy 2.5.5 and
Numba 0.68.0 (the versions are stored in the file). ``--check`` then replays
every run with ``pytensor_optim.compat.pymc`` from this repository, in the
same process and so with the same PyTensor, and reports any difference.

Every configuration of ``pymc_problem.CONFIGS`` (the 13 functions, several
settings each) is run for ``STEPS`` steps by ``pymc_problem.run``, in three
compilation modes and two dtypes. ``data/pymc_updates.npz`` holds:

- ``{mode}/{dtype}/params``: shape ``(len(CONFIGS), STEPS, 8)``, the
  parameters (``W.ravel()``, then ``b``) after every step, configurations in
  the order of ``configs``;
- ``{mode}/{dtype}/norm``: shape ``(len(CONFIGS), STEPS)``, the norms of
  ``total_norm_constraint(..., return_norm=True)``, NaN for the others;
- ``data/{A,C,a,c,W0,b0}``: the problem, float64 (the float32 runs use the
  same arrays cast with ``astype(np.float32)``, whatever ``floatX`` is);
- ``configs``: ``CONFIGS`` as JSON; ``signatures``: pymc's signatures as JSON
  (``[name, repr(default)]`` pairs, ``"<empty>"`` for no default);
- ``modes``: the modes, as JSON: ``default`` (PyTensor's default mode: Numba,
  with ``numba__fastmath``), ``FAST_COMPILE`` (Python implementations, few
  rewrites) and ``CVM`` (C implementations, ``fast_run`` rewrites);
- ``pymc_version``, ``pytensor_version``, ``numpy_version``,
  ``numba_version``, and ``c_compiler``: the C compiler's version and its
  ``-m`` flags (the CVM numbers depend on them: with ``-march=native`` and
  FMA, GCC contracts ``a * b + c`` into fused multiply-adds).

float64 runs use ``floatX=float64``. pymc's float32 runs need
``floatX=float32``: under ``floatX=float64`` its Python-float
hyperparameters make a float32 parameter's update float64, which
``pytensor.function`` rejects.
"""

import inspect
import json
import pathlib
import sys

import numba
import numpy as np
import pymc
import pytensor
from pymc.variational import updates as pymc_updates

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
from pymc_problem import CONFIGS, c_compiler, problem_data, run  # noqa: E402

FUNCTIONS = (
    "sgd",
    "momentum",
    "nesterov_momentum",
    "apply_momentum",
    "apply_nesterov_momentum",
    "adagrad",
    "adagrad_window",
    "rmsprop",
    "adadelta",
    "adam",
    "adamax",
    "norm_constraint",
    "total_norm_constraint",
)
# name in the file: the mode argument of pytensor.function
MODES = {"default": None, "FAST_COMPILE": "FAST_COMPILE", "CVM": "CVM"}
DTYPES = ("float64", "float32")


def signatures():
    return {
        name: [
            [
                parameter.name,
                "<empty>"
                if parameter.default is parameter.empty
                else repr(parameter.default),
            ]
            for parameter in inspect.signature(
                getattr(pymc_updates, name)
            ).parameters.values()
        ]
        for name in FUNCTIONS
    }


def record():
    arrays = {
        "configs": np.array(json.dumps(CONFIGS)),
        "signatures": np.array(json.dumps(signatures())),
        "modes": np.array(json.dumps(list(MODES))),
        "pymc_version": np.array(pymc.__version__),
        "pytensor_version": np.array(pytensor.__version__),
        "numpy_version": np.array(np.__version__),
        "numba_version": np.array(numba.__version__),
        "c_compiler": np.array(c_compiler()),
    }
    for key, value in problem_data().items():
        arrays[f"data/{key}"] = value
    for mode_name, mode in MODES.items():
        for dtype in DTYPES:
            runs = [run(pymc_updates, name, dtype, mode, dtype) for name in CONFIGS]
            arrays[f"{mode_name}/{dtype}/params"] = np.stack([p for p, _ in runs])
            arrays[f"{mode_name}/{dtype}/norm"] = np.stack([n for _, n in runs])
    return arrays


def check(arrays):
    """Replay with pytensor_optim.compat.pymc; print what is not bit-identical."""
    sys.path.insert(0, str(HERE.parents[1]))
    from pytensor_optim.compat import pymc as ours

    differences = 0
    for mode_name, mode in MODES.items():
        for dtype in DTYPES:
            for index, name in enumerate(CONFIGS):
                # ours under the default floatX (float64), pymc's under dtype
                params, norms = run(ours, name, dtype, mode)
                expected = arrays[f"{mode_name}/{dtype}/params"][index]
                expected_norms = arrays[f"{mode_name}/{dtype}/norm"][index]
                if not (
                    np.array_equal(params, expected)
                    and np.array_equal(norms, expected_norms, equal_nan=True)
                ):
                    differences += 1
                    print(f"differs: {mode_name} {dtype} {name}")
    total = len(MODES) * len(DTYPES) * len(CONFIGS)
    print(f"check: {total - differences} of {total} runs bit-identical")


def main():
    assert sorted(FUNCTIONS) == sorted(pymc_updates.__all__)
    assert {config["function"] for config in CONFIGS.values()} == set(FUNCTIONS)
    arrays = record()
    out = HERE / "data" / "pymc_updates.npz"
    np.savez_compressed(out, **arrays)
    print(
        f"wrote {out} ({len(CONFIGS)} configurations, {out.stat().st_size} bytes, "
        f"pymc {pymc.__version__}, pytensor {pytensor.__version__})"
    )
    if "--check" in sys.argv[1:]:
        check(arrays)


if __name__ == "__main__":
    main()
