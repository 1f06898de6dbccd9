"""The tests share the benchmark's textbook LSTM (benchmarks/textbook.py) as their oracle.

Appending the folder makes ``from textbook import textbook_forward`` work; appended, not
prepended, so that nothing there shadows an installed package.
"""

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parent.parent / "benchmarks"))
