"""pytest collects this folder for the examples of its pages (``*.rst``).

The Python files here belong to the Sphinx build: its configuration, its
extension (``_ext``) and the scripts of its figures (``plots``). They import
Sphinx and Matplotlib, from the ``docs`` extra, which a test environment need
not have, and the figures take seconds to draw, so pytest does not import them.
"""

collect_ignore = ["conf.py"]
collect_ignore_glob = ["_ext/*.py", "plots/*.py"]
