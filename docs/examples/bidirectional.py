"""A bidirectional, stacked LSTM over sequences of different lengths, built from forward/backward.

A bidirectional layer runs two LSTMs over the batch: one forward in time, one backward, each
with its own weights, and puts their outputs side by side, ``(n, b, 2d)``. The backward one
reads each sequence *reversed within its own length*: a sequence of 3 steps padded to 5 is
read as x_3, x_2, x_1, and the padding stays at the end, where ``lengths`` skips it. Stacking
feeds one layer's outputs to the next as its inputs. This is ``torch.nn.LSTM(num_layers=2,
bidirectional=True)`` on packed sequences; ``tests/test_torch.py`` proves the two equal, and
``tests/test_frameworks.py`` reads torch's whole state_dict into it and writes it back with
:func:`to_state_dict` and :func:`from_state_dict`.

Run ``python docs/examples/bidirectional.py``; ``main()`` returns the figures.
"""

import sys
from pathlib import Path

# the repository root: lstm_reference.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

import lstm_reference as lr  # noqa: E402


def reverse_within_lengths(A, lengths):
    """Each sequence of ``A (n, b, ...)`` reversed in its first ``lengths[k]`` steps; the padded
    steps stay where they are. Its own inverse."""
    n, b = A.shape[:2]
    lengths = np.asarray(lengths)  # (b,)  a list too
    t = np.arange(n)[:, None]  # (n, 1)
    source = np.where(t < lengths, lengths - 1 - t, t)  # (n, b)  the step each row comes from
    return A[source, np.arange(b)]


def stack_forward(X, weights, lengths):
    """Run the stack: ``weights`` is ``[(W_forward, W_backward), ...]``, one pair per layer.

    Returns the top layer's outputs ``(n, b, 2d)`` (0 at padded steps), the final states
    ``h_n, c_n`` as ``(2 * layers, b, d)`` in torch's order (layer 0 forward, layer 0
    backward, layer 1 forward, ...), and the caches for :func:`stack_backward`.
    """
    H, h_n, c_n, caches = X, [], [], []
    for W_forward, W_backward in weights:
        H_f, c_f, h_f, cache_f = lr.forward(H, W_forward, lengths=lengths)
        H_r, c_r, h_r, cache_r = lr.forward(reverse_within_lengths(H, lengths), W_backward,
                                            lengths=lengths)
        H = np.concatenate([H_f, reverse_within_lengths(H_r, lengths)], axis=2)  # (n, b, 2d)
        h_n += [h_f, h_r]
        c_n += [c_f, c_r]
        caches.append((cache_f, cache_r))
    return H, np.stack(h_n), np.stack(c_n), caches


def stack_backward(dH, dh_n, dc_n, caches, lengths):
    """Gradients through :func:`stack_forward`: ``dX`` and ``[(dW_forward, dW_backward), ...]``.

    ``dH`` is the gradient of the top outputs, ``dh_n, dc_n`` those of the final states.
    """
    dWs = []
    for layer in reversed(range(len(caches))):
        cache_f, cache_r = caches[layer]
        d = dH.shape[2] // 2
        dX_f, dW_f, _, _ = lr.backward(dH[..., :d], cache_f,
                                       dc=dc_n[2 * layer], dh=dh_n[2 * layer])
        dX_r, dW_r, _, _ = lr.backward(reverse_within_lengths(dH[..., d:], lengths), cache_r,
                                       dc=dc_n[2 * layer + 1], dh=dh_n[2 * layer + 1])
        dH = dX_f + reverse_within_lengths(dX_r, lengths)  # the layer below's output gradient
        dWs.insert(0, (dW_f, dW_r))
    return dH, dWs


def to_state_dict(weights):
    """``[(W_forward, W_backward), ...]`` as the state_dict of ``torch.nn.LSTM(...,
    num_layers=len(weights), bidirectional=True)``: NumPy arrays under torch's names."""
    state_dict = {}
    for layer, pair in enumerate(weights):
        for reverse, W in zip((False, True), pair):
            state_dict.update(lr.to_layout(W, "pytorch", layer=layer, reverse=reverse))
    return state_dict


def from_state_dict(state_dict, layers):
    """The inverse of :func:`to_state_dict`: each layer's ``(W_forward, W_backward)``."""
    return [tuple(lr.from_layout(state_dict, "pytorch", layer=layer, reverse=reverse)
                  for reverse in (False, True))
            for layer in range(layers)]


def make_problem(n=6, lengths=(6, 2, 4), input_size=3, hidden_size=4, layers=2, seed=0):
    """Random inputs (0 at padded steps), weights with nonzero biases, and loss weightings."""
    rng = np.random.default_rng(seed)
    lengths = np.array(lengths)
    b = len(lengths)
    X = rng.standard_normal((n, b, input_size)) * (np.arange(n)[:, None] < lengths)[..., None]
    weights = []
    for layer in range(layers):
        size = input_size if layer == 0 else 2 * hidden_size
        pair = tuple(lr.init_weights(size, hidden_size, forget_bias=1.0, rng=rng)
                     for _ in range(2))
        for W in pair:
            W[0] += 0.1 * rng.standard_normal(4 * hidden_size)
        weights.append(pair)
    R = rng.standard_normal((n, b, 2 * hidden_size))
    Rh, Rc = rng.standard_normal((2, 2 * layers, b, hidden_size))
    return X, weights, lengths, R, Rh, Rc


def main(seed=0):
    """Return ``{"alone_vs_batch", "gradient_error", "padding_difference", "state_dict"}``.

    ``alone_vs_batch``: max abs difference between the padded batch and each sequence run
    alone, unpadded. ``gradient_error``: the largest relative error (floor 1e-3) of dX and every
    dW against central differences of ``sum(H R) + sum(h_n Rh) + sum(c_n Rc)``.
    ``padding_difference``: max abs difference of the outputs with other numbers in the padding (0).
    ``state_dict``: the weights written as torch's state_dict and read back, exactly (True).
    """
    X, weights, lengths, R, Rh, Rc = make_problem(seed=seed)
    H, h_n, c_n, caches = stack_forward(X, weights, lengths)

    alone = 0.0
    for k, length in enumerate(lengths):
        H_k, h_k, c_k, _ = stack_forward(X[:length, k:k + 1], weights, np.array([length]))
        alone = max(alone, np.abs(H[:length, k:k + 1] - H_k).max(),
                    np.abs(h_n[:, k:k + 1] - h_k).max(), np.abs(c_n[:, k:k + 1] - c_k).max())

    padded = X + 5.0 * (np.arange(len(X))[:, None] >= lengths)[..., None]
    padding = np.abs(stack_forward(padded, weights, lengths)[0] - H).max()

    def loss(X, weights):
        H, h_n, c_n, _ = stack_forward(X, weights, lengths)
        return np.sum(H * R) + np.sum(h_n * Rh) + np.sum(c_n * Rc)

    dX, dWs = stack_backward(R, Rh, Rc, caches, lengths)
    errors = [lr.relative_error(dX, lr.numerical_gradient(lambda X_: loss(X_, weights), X, 1e-5),
                                floor=1e-3).max()]
    for layer, pair in enumerate(weights):
        for direction in range(2):
            def loss_of(W_, layer=layer, direction=direction):
                changed = [list(p) for p in weights]
                changed[layer][direction] = W_
                return loss(X, changed)

            numeric = lr.numerical_gradient(loss_of, pair[direction], 1e-5)
            errors.append(lr.relative_error(dWs[layer][direction], numeric, floor=1e-3).max())
    back = from_state_dict(to_state_dict(weights), len(weights))
    same = all(np.array_equal(a, b) for pair, pair_back in zip(weights, back)
               for a, b in zip(pair, pair_back))
    return {"alone_vs_batch": float(alone), "gradient_error": float(max(errors)),
            "padding_difference": float(padding), "state_dict": same}


if __name__ == "__main__":
    for name, value in main().items():
        print(f"{name}: {value:.2e}" if isinstance(value, float) else f"{name}: {value}")
    X, weights, lengths, *_ = make_problem()
    print("state_dict keys:", ", ".join(to_state_dict(weights)))
