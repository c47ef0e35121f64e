"""Intersphinx links to PyTensor, NumPy, SciPy, Python and JAX, built offline.

Intersphinx resolves ``:func:`pytensor.function``` through the other project's
inventory (``objects.inv``), which it normally downloads from that project's
site. The documentation is built without network access, so this extension
writes small inventories instead, in Sphinx's inventory format (version 2),
listing the external objects that these pages and the docstrings reference,
each with its page on the project's public site. It sets
``intersphinx_mapping`` to those sites with the local files as inventories:
the built pages link to the real sites, and the build reads nothing from the
network.

A reference to an object that is missing here renders as plain code, without
a warning. ``sphinx-build -n`` lists such references ("reference target not
found"); add the object to ``PROJECTS`` with the page and anchor where its
project documents it.
"""

import zlib
from pathlib import Path

# name -> (project, version, base URL, {object: (domain:role, page#anchor)});
# an anchor "$" stands for the object's own name, as in Sphinx's inventories.
PROJECTS = {
    "python": (
        "Python",
        "3",
        "https://docs.python.org/3/",
        {
            "collections.OrderedDict": ("py:class", "library/collections.html#$"),
            "enum.IntEnum": ("py:class", "library/enum.html#$"),
            "functools.partial": ("py:function", "library/functools.html#$"),
        },
    ),
    "numpy": (
        "NumPy",
        "stable",
        "https://numpy.org/doc/stable/",
        {
            "numpy.broadcast_to": (
                "py:function",
                "reference/generated/numpy.broadcast_to.html#$",
            ),
        },
    ),
    "scipy": (
        "SciPy",
        "stable",
        "https://docs.scipy.org/doc/scipy/",
        {
            "scipy.optimize.minimize": (
                "py:function",
                "reference/generated/scipy.optimize.minimize.html#$",
            ),
            "scipy.optimize.OptimizeResult": (
                "py:class",
                "reference/generated/scipy.optimize.OptimizeResult.html#$",
            ),
            "scipy.optimize.NonlinearConstraint": (
                "py:class",
                "reference/generated/scipy.optimize.NonlinearConstraint.html#$",
            ),
            "scipy.optimize.rosen": (
                "py:function",
                "reference/generated/scipy.optimize.rosen.html#$",
            ),
            "scipy.sparse.linalg.LinearOperator": (
                "py:class",
                "reference/generated/scipy.sparse.linalg.LinearOperator.html#$",
            ),
        },
    ),
    "pytensor": (
        "PyTensor",
        "latest",
        "https://pytensor.readthedocs.io/en/latest/",
        {
            # documented as pytensor.compile.function.function and
            # pytensor.gradient.grad; the pages use the names users import
            "pytensor.function": (
                "py:function",
                "library/compile/function.html#pytensor.compile.function.function",
            ),
            "pytensor.grad": (
                "py:function",
                "library/gradient.html#pytensor.gradient.grad",
            ),
            "pytensor.tensor.optimize.minimize": (
                "py:function",
                "library/tensor/optimize.html#$",
            ),
        },
    ),
    "jax": (
        "JAX",
        "latest",
        "https://docs.jax.dev/en/latest/",
        {
            "jax.jit": ("py:function", "_autosummary/jax.jit.html#$"),
            "jax.lax.while_loop": (
                "py:function",
                "_autosummary/jax.lax.while_loop.html#$",
            ),
        },
    ),
}


def inventory_bytes(project, version, objects):
    """Return the contents of an ``objects.inv`` listing ``objects``."""
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    # name, domain:role, priority (1: the object's own entry), location,
    # display name ("-": the name itself)
    lines = "".join(
        f"{name} {role} 1 {location} -\n"
        for name, (role, location) in sorted(objects.items())
    )
    return header.encode() + zlib.compress(lines.encode(), 9)


def write_inventories(directory):
    """Write one inventory per project into ``directory``.

    Returns the ``intersphinx_mapping`` that reads them.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for name, (project, version, url, objects) in PROJECTS.items():
        path = directory / f"{name}.inv"
        path.write_bytes(inventory_bytes(project, version, objects))
        mapping[name] = (url, str(path))
    return mapping


def _configure(app, config):
    # before sphinx.ext.intersphinx checks the mapping (priority 800)
    config.intersphinx_mapping = write_inventories(
        Path(app.doctreedir) / "local_inventories"
    )


def setup(app):
    app.setup_extension("sphinx.ext.intersphinx")
    app.connect("config-inited", _configure, priority=700)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
