"""The cell by hand: stepping :class:`LSTMCell` through variable-length sequences with a mask.

Sequences of different lengths are padded to a common length and stepped together. The caller
handles the lengths: after step ``t``, a sequence that has ended (``t >= length``) keeps its
state, so each row's final ``(h, c)`` is the state after its own last step, and whatever the
padding holds never reaches it.

Run ``python docs/examples/cell_by_hand.py``; ``main()`` returns the figures.
"""

import sys
from pathlib import Path

# the repository root: lstm_reference.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

import lstm_reference as lr  # noqa: E402


def final_states(cell, X, lengths):
    """Each sequence's ``(h, c)`` after its own last step: ``X (batch, max_len, input_size)``."""
    batch, max_len, _ = X.shape  # batch, time, features
    h = c = np.zeros((batch, cell.hidden_size))  # (batch, d)
    for t in range(max_len):
        h_next, c_next = cell.forward(X[:, t], h, c)  # note the cell's order: (h, c)
        running = (t < lengths)[:, None]  # (batch, 1)  True while the sequence lasts
        h, c = np.where(running, h_next, h), np.where(running, c_next, c)  # ended: state frozen
    return h, c


def main(lengths=(7, 3, 5, 1), input_size=3, hidden_size=4, seed=0):
    """Return ``{"vs_one_at_a_time", "padding_changes_nothing"}``.

    ``vs_one_at_a_time``: max abs difference between the masked batch and the fused
    :func:`lstm_reference.forward` run on each sequence alone, unpadded (round-off).
    ``padding_changes_nothing``: two different paddings give identical states (bit for bit).
    """
    rng = np.random.default_rng(seed)
    cell = lr.LSTMCell(input_size, hidden_size, rng=rng)
    lengths = np.asarray(lengths)
    X = rng.standard_normal(
        (len(lengths), lengths.max(), input_size))  # (batch, max_len, input_size)
    padding = np.arange(lengths.max()) >= lengths[:, None]  # (batch, max_len)  True past the end
    X_zeros, X_junk = np.where(padding[..., None], 0.0, X), np.where(padding[..., None], 1e6, X)
    h, c = final_states(cell, X_zeros, lengths)
    h_junk, c_junk = final_states(cell, X_junk, lengths)
    W = cell.to_weights()
    differences = []
    for k, length in enumerate(lengths):  # each sequence alone: time-major (length, 1, input_size)
        _, c_alone, h_alone, _ = lr.forward(X[k, :length, None], W)  # the core's order: (c, h)
        differences += [np.abs(h[k] - h_alone[0]).max(), np.abs(c[k] - c_alone[0]).max()]
    return {"vs_one_at_a_time": float(max(differences)),
            "padding_changes_nothing": bool(np.array_equal(h, h_junk)
                                            and np.array_equal(c, c_junk))}


if __name__ == "__main__":
    result = main()
    print(f"masked batch vs each sequence alone: max abs difference "
          f"{result['vs_one_at_a_time']:.1e}")
    print(f"zeros or 1e6 as padding give identical states: {result['padding_changes_nothing']}")
