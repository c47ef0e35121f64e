r"""Line searches: the step size along a direction, found inside the graph.

A rule with a line search builds a :class:`Line` (the parameters :math:`x`,
a direction :math:`d`, and the cost and gradients at :math:`x`) and calls
its search with it; the search returns a :class:`LineSearchResult`. The
built-in searches are :class:`LineSearch` objects: an ``init / step /
done`` triple over a dictionary of scalar (and per-parameter) tensors that
:func:`run` drives inside one ``scan`` with an ``until`` condition. Every
iteration of that loop evaluates the cost and gradients once, at
:math:`x + \alpha d` by graph substitution, so one compiled call performs
the whole search and the number of evaluations is exact.

Rules take a search through their ``line_search=`` argument: a name
(``"more_thuente"``, ``"strong_wolfe"``, ``"hager_zhang"``,
``"rasmussen"``, ``"backtracking"``, ``"bold_driver"``, ``"constant"``), a
configured search (``more_thuente(c2=0.1)``), or any callable
``search(line) -> LineSearchResult``.
"""

import inspect

from ._bold_driver import bold_driver
from ._core import (
    Line,
    LineSearch,
    LineSearchResult,
    Point,
    run,
)
from ._hager_zhang import hager_zhang
from ._more_thuente import more_thuente
from ._rasmussen import rasmussen
from ._simple import backtracking, constant
from ._strong_wolfe import strong_wolfe

__all__ = [
    "Line",
    "LineSearch",
    "LineSearchResult",
    "Point",
    "backtracking",
    "bold_driver",
    "constant",
    "get_line_search",
    "hager_zhang",
    "more_thuente",
    "rasmussen",
    "run",
    "strong_wolfe",
]

_BY_NAME = {
    "more_thuente": more_thuente,
    "strong_wolfe": strong_wolfe,
    "hager_zhang": hager_zhang,
    "rasmussen": rasmussen,
    "backtracking": backtracking,
    "bold_driver": bold_driver,
    "constant": constant,
}


def get_line_search(line_search, name="line_search", **defaults):
    """The search a rule's ``line_search=`` argument names.

    Parameters
    ----------
    line_search : str, callable or None
        A name (``"more_thuente"``, ``"strong_wolfe"``,
        ``"hager_zhang"``, ``"rasmussen"``, ``"backtracking"``,
        ``"bold_driver"``, ``"constant"``) for a search with its default
        options, a configured search such as
        ``strong_wolfe(c2=0.1)``, or any callable ``search(line) ->
        LineSearchResult``. ``None`` is returned as is.
    name : str
        The argument's name, for error messages.
    **defaults
        Options a rule prefers for a search it is given by name, such as
        ``c2=0.1`` for conjugate gradients; each applies to the named searches
        that take it. A configured search or a callable is used as given.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything else that is not callable.
    """
    if line_search is None or (
        callable(line_search) and not isinstance(line_search, str)
    ):
        return line_search
    if isinstance(line_search, str):
        if line_search not in _BY_NAME:
            raise ValueError(
                f"{name}={line_search!r} is not a line search; use one of "
                f"{sorted(_BY_NAME)}, a configured search such as "
                "strong_wolfe(c2=0.1), or a callable"
            )
        make = _BY_NAME[line_search]
        accepted = inspect.signature(make).parameters
        return make(**{key: v for key, v in defaults.items() if key in accepted})
    raise TypeError(
        f"{name} must be a name, a line search or a callable, got {line_search!r}"
    )
