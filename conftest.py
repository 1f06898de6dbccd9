"""pytest configuration shared by the doctests and the tests.

- The doctest namespace holds ``np`` and the module (as ``lr``), so examples read as a user
  would type them after ``import numpy as np``.
- Print options keep output identical on NumPy 1 and 2: NumPy 2 prints scalars as
  ``np.float64(0.5)``; ``legacy="1.25"`` restores ``0.5``. (The examples themselves print
  ``float(...)``, shapes and booleans, so they read the same without this.)
- Warnings are errors (also set in pyproject.toml): an overflow warning is a bug here.
"""

import warnings

import numpy as np
import pytest

import lstm_reference

if int(np.__version__.split(".")[0]) >= 2:
    np.set_printoptions(legacy="1.25")

warnings.simplefilter("error")


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace):
    doctest_namespace["np"] = np
    doctest_namespace["lr"] = lstm_reference
