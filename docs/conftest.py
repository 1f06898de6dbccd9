"""pytest runs the code on the documentation pages (``pytest docs``), with Sybil.

Plain ``pytest --doctest-glob='*.md'`` reads a Markdown page as one long doctest and misreads
the fences, so Sybil parses the MyST pages instead. In every ``docs/**/*.md`` page:

- a ```` ```python ```` fence or ```` ```{code-block} python ```` directive whose code starts
  with ``>>>`` is a doctest: its output must match (NORMALIZE_WHITESPACE and ELLIPSIS on);
- one without ``>>>`` is run as a script and must not raise;
- ```` ```pycon ```` fences are doctests too;
- ``% skip: next`` on the line before a block skips it; ``% clear-namespace`` starts afresh;
  ``% invisible-code-block: python`` runs setup code that the page does not show;
  a block meant only to be read goes in a ``text`` fence.

Examples on one page share one namespace, which starts with ``np`` (NumPy) and ``lr`` (the
module, ``import lstm_reference as lr``), as in the module's own doctests. The repository's
top-level conftest.py still applies: warnings are errors, and NumPy prints scalars the same on
NumPy 1 and 2.
"""

from doctest import ELLIPSIS, NORMALIZE_WHITESPACE

import numpy as np
from sybil import Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.myst import (
    ClearNamespaceParser,
    CodeBlockParser,
    PythonCodeBlockParser,
    SkipParser,
)

import lstm_reference

OPTIONFLAGS = NORMALIZE_WHITESPACE | ELLIPSIS

# Not pages: the Sphinx configuration (which --doctest-modules would import) and the build output
# (which holds copies of plot scripts).
collect_ignore = ["conf.py", "_build"]


class PyconCodeBlockParser(PythonCodeBlockParser):
    """Like PythonCodeBlockParser, for ```pycon fences (console sessions)."""

    def __init__(self, doctest_optionflags=0):
        super().__init__(doctest_optionflags=doctest_optionflags)
        self.codeblock_parser = CodeBlockParser("pycon", PythonEvaluator())


def _setup(namespace):
    namespace["np"] = np
    namespace["lr"] = lstm_reference


pytest_collect_file = Sybil(
    parsers=[
        SkipParser(),
        ClearNamespaceParser(),
        PythonCodeBlockParser(doctest_optionflags=OPTIONFLAGS),
        PyconCodeBlockParser(doctest_optionflags=OPTIONFLAGS),
    ],
    patterns=["*.md"],
    setup=_setup,
).pytest()
