"""Keys for compiled functions kept for reuse: what decides a rule's graph.

The NumPy interface (``interface._numpy``) and the PyMC recipes
(``pymc.find_map``) keep what they compile and reuse it for a later call
whose key is equal.
"""

import numpy as np

__all__ = ["options_key"]


def options_key(value, kept):
    """A hashable stand-in for an option: its value where it has one that
    decides the graph, else its identity (``value`` then goes to ``kept``)."""
    if value is None or isinstance(value, bool | int | float | complex | str):
        return (type(value), value)
    if isinstance(value, np.generic):
        return (type(value), value.item())
    if isinstance(value, np.ndarray):
        return (np.ndarray, value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, dict):
        return (
            dict,
            tuple((k, options_key(v, kept)) for k, v in sorted(value.items())),
        )
    if isinstance(value, list | tuple):
        return (type(value), tuple(options_key(v, kept) for v in value))
    if type(value).__module__.startswith("pytensor_optim.line_search"):
        # the package's searches: their attributes are their options
        return (type(value), options_key(vars(value), kept))
    kept.append(value)
    return (object, id(value))
