"""The one test problem the test modules build on (pytest puts this folder on sys.path)."""

from typing import NamedTuple

import numpy as np

import lstm_reference as lr


class Problem(NamedTuple):
    X: np.ndarray  # (n, b, input_size)
    W: np.ndarray  # (1 + input_size + d, 4d), every bias entry nonzero
    c0: np.ndarray  # (b, d)
    h0: np.ndarray  # (b, d)
    R: np.ndarray  # (n, b, d)  the loss sum(H * R): dH = R
    dc: np.ndarray  # (b, d)  a gradient on the final c
    dh: np.ndarray  # (b, d)  a gradient on the final h


def problem(n, b, input_size, d, seed=0, dtype=np.float64):
    """Random inputs, weights with every bias entry nonzero, initial states and loss weights,
    all of ``dtype``, from ``seed``: unpack as ``X, W, c0, h0, R, dc, dh``."""
    rng = np.random.default_rng(seed)
    W = lr.init_weights(input_size, d, rng=rng, dtype=dtype)
    W[0] += rng.standard_normal(4 * d).astype(dtype)
    X = rng.standard_normal((n, b, input_size)).astype(dtype)
    c0, h0, dc, dh = rng.standard_normal((4, b, d)).astype(dtype)
    R = rng.standard_normal((n, b, d)).astype(dtype)
    return Problem(X, W, c0, h0, R, dc, dh)
