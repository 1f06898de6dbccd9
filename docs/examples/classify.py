"""Sequence classification: tell four shapes of noisy sequences apart
(rising, falling, peak, valley).

Every sequence has a random offset and scale and noise on every step, so no single value gives
the class away: the model must follow the trend over time. The LSTM reads the whole sequence and
a linear layer on its last hidden state gives four class scores (``return_sequences=False``).

Run ``python docs/examples/classify.py``; ``main()`` returns the figures.
"""

import sys
import time
from pathlib import Path

# the repository root: lstm_reference.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from training import Adam, accuracy, softmax_cross_entropy  # noqa: E402

import lstm_reference as lr  # noqa: E402

CLASSES = ("rising", "falling", "peak", "valley")


def make_data(count, seq_len, rng, noise=0.3):
    """``count`` sequences ``(count, seq_len, 1)`` and their labels ``(count,)``,
    classes balanced."""
    labels = np.arange(count) % len(CLASSES)  # (count,)
    s = np.linspace(-1, 1, seq_len)  # (seq_len,)  position in the sequence
    shapes = np.stack([s, -s, 1 - 2 * np.abs(s), 2 * np.abs(s) - 1])  # (4, seq_len), one per class
    scale = rng.uniform(0.5, 1.5, (count, 1))  # (count, 1)
    offset = rng.uniform(-1, 1, (count, 1))  # (count, 1)
    X = (offset + scale * shapes[labels]
         + noise * rng.standard_normal((count, seq_len)))  # (count, seq_len)
    return X[:, :, None], labels


def main(n_train=1024, n_test=512, seq_len=20, hidden_size=16, iterations=300, batch_size=32,
         seed=0):
    """Train, then return ``{"accuracy", "chance", "losses", "seconds"}``
    (accuracy on fresh sequences)."""
    rng = np.random.default_rng(seed)
    X_train, y_train = make_data(n_train, seq_len, rng)
    X_test, y_test = make_data(n_test, seq_len, rng)
    model = lr.LSTM(1, hidden_size, output_size=len(CLASSES), rng=rng)
    adam, losses, start = Adam(lr=1e-2), [], time.perf_counter()
    for _ in range(iterations):
        batch = rng.integers(0, n_train, batch_size)
        logits = model.forward(X_train[batch], return_sequences=False)  # (batch, 4)
        loss, dlogits = softmax_cross_entropy(logits, y_train[batch])
        model.backward(dlogits)
        adam.step(model)
        losses.append(loss)
    return {"accuracy": accuracy(model.forward(X_test, return_sequences=False), y_test),
            "chance": 1 / len(CLASSES), "losses": losses, "seconds": time.perf_counter() - start}


if __name__ == "__main__":
    result = main()
    print(f"test accuracy {result['accuracy']:.1%} (chance {result['chance']:.0%}), "
          f"loss {result['losses'][0]:.3f} -> {np.mean(result['losses'][-20:]):.3f}, "
          f"trained in {result['seconds']:.1f} s")
