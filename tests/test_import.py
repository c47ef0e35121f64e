"""What ``import pytensor_optim`` costs: no SciPy optimizer until it is used."""

import subprocess
import sys


def test_import_leaves_scipy_optimize_to_the_bridge():
    code = (
        "import sys, pytensor_optim as po\n"
        "assert 'scipy.optimize' not in sys.modules, 'imported at import'\n"
        "assert callable(po.scipy_minimize) and 'scipy.optimize' in sys.modules\n"
        "from pytensor_optim import ScipyOptimizer, as_scipy_method\n"
        "from pytensor_optim.interface import scipy_minimize\n"
        "assert scipy_minimize is po.scipy_minimize\n"
        "try:\n"
        "    po.no_such_name\n"
        "except AttributeError as error:\n"
        "    assert 'no_such_name' in str(error)\n"
        "else:\n"
        "    raise AssertionError('no AttributeError')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
