"""State persistence: a long sequence processed in chunks, carrying ``h, c``, equals one pass.

This is how a stream is processed (and how truncated back-propagation through time splits a
long sequence): each chunk starts from the previous chunk's final states. Forgetting to pass
them back restarts the memory at zero, and the outputs differ.

Run ``python docs/examples/state_persistence.py``; ``main()`` returns the figures.
"""

import sys
from pathlib import Path

# the repository root: lstm_reference.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

import lstm_reference as lr  # noqa: E402


def run_in_chunks(model, X, chunk, carry_state=True):
    """Outputs ``(batch, seq_len, out)`` of ``model`` over ``X``, ``chunk`` steps per call."""
    h = c = None  # zeros for the first chunk
    outputs = []
    for start in range(0, X.shape[1], chunk):
        Y, h, c = model.forward(X[:, start:start + chunk], return_state=True, h0=h, c0=c)
        outputs.append(Y)
        if not carry_state:
            h = c = None
    return np.concatenate(outputs, axis=1)


def main(batch=4, seq_len=50, chunk=7, input_size=3, hidden_size=8, seed=0):
    """Return ``{"chunked_vs_one_pass", "cell_steps_vs_cell_steps", "without_state"}``
    (max abs diffs).

    - ``chunked_vs_one_pass``: the model in chunks vs one call. Round-off at most: the fused
      core computes each chunk's input projection as one matrix product, whose BLAS blocking
      can depend on the chunk's length.
    - ``cell_steps_vs_cell_steps``: the same, stepping ``model.to_cell()`` by hand; bit for bit
      (0.0), since every step is the same computation however the sequence is split.
    - ``without_state``: chunks that restart from zero states: a large difference.
    """
    rng = np.random.default_rng(seed)
    model = lr.LSTM(input_size, hidden_size, output_size=2, rng=rng)
    X = rng.standard_normal((batch, seq_len, input_size))  # (batch, seq_len, input_size)
    one_pass = model.forward(X)  # (batch, seq_len, 2)

    cell = model.to_cell()  # an LSTMCell with copies of the model's recurrent parameters

    def cell_steps(steps, h, c):  # the final (h, c) after stepping the cell through `steps`
        for t in steps:
            h, c = cell.forward(X[:, t], h, c)
        return h, c

    h_all, c_all = cell_steps(range(seq_len), None, None)
    h_split, c_split = cell_steps(range(chunk, seq_len), *cell_steps(range(chunk), None, None))
    return {
        "chunked_vs_one_pass": float(np.abs(run_in_chunks(model, X, chunk) - one_pass).max()),
        "cell_steps_vs_cell_steps": float(max(np.abs(h_split - h_all).max(),
                                              np.abs(c_split - c_all).max())),
        "without_state": float(
            np.abs(run_in_chunks(model, X, chunk, carry_state=False) - one_pass).max()),
    }


if __name__ == "__main__":
    result = main()
    print(f"chunks carrying h, c vs one pass:       max abs difference "
          f"{result['chunked_vs_one_pass']:.1e}")
    print(f"the cell stepped by hand, split vs not: max abs difference "
          f"{result['cell_steps_vs_cell_steps']:.1e}")
    print(f"chunks restarting from zero states:     max abs difference "
          f"{result['without_state']:.2f}")
