"""Sequence to sequence: a delayed copy. At every step, output the symbol seen ``delay`` steps ago.

The inputs are one-hot symbols; the model emits class scores at every step
(``return_sequences=True``) and is trained with cross-entropy on the steps that have a target
(``t >= delay``). To succeed it must hold the last ``delay`` symbols in its state, in order.

Run ``python docs/examples/seq2seq.py``; ``main()`` returns the figures.
"""

import sys
import time
from pathlib import Path

# the repository root: lstm_reference.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from training import Adam, accuracy, softmax_cross_entropy  # noqa: E402

import lstm_reference as lr  # noqa: E402


def make_data(count, seq_len, vocab, delay, rng):
    """One-hot inputs ``(count, seq_len, vocab)`` and targets ``(count, seq_len - delay)``."""
    symbols = rng.integers(0, vocab, (count, seq_len))  # (count, seq_len)
    X = np.eye(vocab)[symbols]  # (count, seq_len, vocab)
    # the target at step t >= delay is the symbol at t - delay
    return X, symbols[:, :seq_len - delay]


def main(seq_len=12, vocab=4, delay=3, hidden_size=32, iterations=400, batch_size=32, seed=0):
    """Train, then return ``{"accuracy", "chance", "losses", "seconds"}``
    (per step, on fresh sequences)."""
    rng = np.random.default_rng(seed)
    model = lr.LSTM(vocab, hidden_size, output_size=vocab, rng=rng)
    adam, losses, start = Adam(lr=1e-2), [], time.perf_counter()
    for _ in range(iterations):
        X, targets = make_data(batch_size, seq_len, vocab, delay, rng)
        logits = model.forward(X)  # (batch, seq_len, vocab)
        loss, dlogits = softmax_cross_entropy(logits[:, delay:], targets)
        dY = np.zeros_like(logits)
        dY[:, delay:] = dlogits  # the first `delay` outputs have no target: zero gradient
        model.backward(dY)
        adam.step(model)
        losses.append(loss)
    X, targets = make_data(512, seq_len, vocab, delay, rng)
    return {"accuracy": accuracy(model.forward(X)[:, delay:], targets), "chance": 1 / vocab,
            "losses": losses, "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    result = main()
    print(f"per-step accuracy {result['accuracy']:.1%} (chance {result['chance']:.0%}), "
          f"loss {result['losses'][0]:.3f} -> {np.mean(result['losses'][-20:]):.3f}, "
          f"trained in {result['seconds']:.1f} s")
