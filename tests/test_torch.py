"""Agreement with ``torch.nn.LSTM``, forward and backward, through the layout functions.

Skips when torch is not installed, except in the ``torch`` tox environment, which sets
``LSTM_REFERENCE_REQUIRE_TORCH=1`` so that a missing torch is a failure there, not a skip.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import lstm_reference as lr

if os.environ.get("LSTM_REFERENCE_REQUIRE_TORCH") == "1":
    import torch
else:
    torch = pytest.importorskip("torch")

PACK = torch.nn.utils.rnn

SHAPES = [  # (n, b, input_size, hidden_size)
    (1, 1, 1, 1),
    (2, 1, 3, 1),
    (5, 3, 10, 4),
    (7, 4, 4, 4),  # batch == input_size == hidden_size
    (12, 2, 17, 9),
    (24, 16, 32, 48),
]


def torch_lstm(W, dtype):
    """A torch.nn.LSTM holding our weights."""
    input_size, d = W.shape[0] - 1 - W.shape[1] // 4, W.shape[1] // 4
    lstm = torch.nn.LSTM(input_size, d).to(dtype)
    parameters = (lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0)
    with torch.no_grad():
        for parameter, value in zip(parameters, lr.to_pytorch_layout(W)):
            parameter.copy_(torch.from_numpy(value))
    return lstm, parameters


def run_both(n, b, input_size, d, dtype, seed=0, lengths=None):
    """Ours and torch's outputs, final states and gradients, with the same weights and inputs;
    with ``lengths``, torch runs packed sequences (``enforce_sorted=False``)."""
    rng = np.random.default_rng(seed)
    W = lr.init_weights(input_size, d, rng=rng).astype(dtype)
    W[0] += rng.standard_normal(4 * d).astype(dtype)
    X, dH = (rng.standard_normal((n, b, input_size)).astype(dtype),
             rng.standard_normal((n, b, d)).astype(dtype))
    c0, h0, dc, dh = (rng.standard_normal((b, d)).astype(dtype) for _ in range(4))

    H, c, h, cache = lr.forward(X, W, c0, h0, lengths=lengths)
    dX, dW, dc0, dh0 = lr.backward(dH, cache, dc, dh)
    ours = {"H": H, "c": c, "h": h, "dX": dX, "dW": dW, "dc0": dc0, "dh0": dh0}

    torch_dtype = torch.float64 if dtype == np.float64 else torch.float32
    lstm, parameters = torch_lstm(W, torch_dtype)
    Xt, c0t, h0t = (torch.from_numpy(a).requires_grad_() for a in (X, c0[None], h0[None]))
    if lengths is None:
        Ht, (ht, ct) = lstm(Xt, (h0t, c0t))  # torch's state order is (h, c)
    else:
        packed = PACK.pack_padded_sequence(Xt, torch.tensor(lengths), enforce_sorted=False)
        out, (ht, ct) = lstm(packed, (h0t, c0t))
        Ht, _ = PACK.pad_packed_sequence(out, total_length=n)  # zeros at padded steps
    # Backpropagate dH on every output and dc, dh on the final state, as our backward does.
    loss = (Ht * torch.from_numpy(dH)).sum()
    loss = loss + (ct[0] * torch.from_numpy(dc)).sum() + (ht[0] * torch.from_numpy(dh)).sum()
    loss.backward()
    grads = [p.grad.numpy() for p in parameters]
    theirs = {
        "H": Ht.detach().numpy(), "c": ct[0].detach().numpy(), "h": ht[0].detach().numpy(),
        "dX": Xt.grad.numpy(), "dW": lr.from_pytorch_layout(*grads[:3], np.zeros_like(grads[3])),
        "dc0": c0t.grad.numpy()[0], "dh0": h0t.grad.numpy()[0],
    }
    # torch has two bias gradients; each equals ours (the loss sees only their sum).
    theirs["dbias_hh"] = lr.from_pytorch_layout(grads[0], grads[1], np.zeros_like(grads[2]),
                                                grads[3])[0]
    ours["dbias_hh"] = dW[0]
    return ours, theirs


@pytest.mark.parametrize("shape", SHAPES)
def test_float64_matches_torch(shape):
    ours, theirs = run_both(*shape, np.float64)
    for name in ("H", "c", "h"):
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)
    for name in ("dX", "dW", "dc0", "dh0", "dbias_hh"):
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-9, err_msg=name)


@pytest.mark.parametrize("shape", SHAPES)
def test_float32_matches_torch(shape):
    ours, theirs = run_both(*shape, np.float32)
    for name, value in ours.items():
        assert value.dtype == np.float32, name
        np.testing.assert_allclose(value, theirs[name], rtol=1e-5, atol=1e-5, err_msg=name)


def test_torch_comparison_can_fail():
    """Feeding torch the gates in *our* order (no reordering) must disagree."""
    ours, _ = run_both(5, 3, 10, 4, np.float64)
    rng = np.random.default_rng(0)
    W = lr.init_weights(10, 4, rng=rng)
    lstm = torch.nn.LSTM(10, 4).double()
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(torch.from_numpy(W[1:11].T.copy()))  # wrong: i, f, o, g order
        lstm.weight_hh_l0.copy_(torch.from_numpy(W[11:].T.copy()))
        lstm.bias_ih_l0.copy_(torch.from_numpy(W[0].copy()))
        lstm.bias_hh_l0.zero_()
    X = rng.standard_normal((5, 3, 10))
    H_torch = lstm(torch.from_numpy(X))[0].detach().numpy()
    assert np.abs(H_torch - lr.forward(X, W)[0]).max() > 1e-3


# --- Variable lengths: packed sequences -------------------------------------------------------

LENGTH_CASES = [  # (n, input_size, hidden_size, lengths): a length of 1 and of n, unsorted
    (1, 2, 3, [1]),
    (5, 3, 4, [2, 5, 1, 4]),
    (6, 4, 4, [6, 6, 3, 1]),  # batch == input_size == hidden_size; ties
    (9, 7, 5, [1, 9, 4, 9, 2, 7]),
]


def run_both_with_lengths(n, input_size, d, lengths):
    return run_both(n, len(lengths), input_size, d, np.float64, lengths=lengths)


@pytest.mark.parametrize("case", LENGTH_CASES)
def test_lengths_match_packed_sequences(case):
    ours, theirs = run_both_with_lengths(*case)
    for name in ("H", "c", "h"):
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-10, err_msg=name)
    for name in ("dX", "dW", "dc0", "dh0", "dbias_hh"):
        np.testing.assert_allclose(ours[name], theirs[name], rtol=0, atol=1e-9, err_msg=name)


def test_the_lengths_comparison_can_fail():
    """Ignoring the lengths must disagree with torch's packed sequences: the check can fail."""
    n, input_size, d, lengths = LENGTH_CASES[1]
    _, packed = run_both_with_lengths(n, input_size, d, lengths)
    unpadded, _ = run_both(n, len(lengths), input_size, d, np.float64)  # same seed, same inputs
    assert np.abs(unpadded["h"] - packed["h"]).max() > 1e-3


# --- Bidirectional and stacked, from forward and backward with lengths ------------------------


def test_bidirectional_stack_matches_torch():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "examples"))
    from bidirectional import make_problem, stack_backward, stack_forward

    X, weights, lengths, R, Rh, Rc = make_problem(n=7, lengths=(7, 2, 5, 1), seed=3)
    H, h_n, c_n, caches = stack_forward(X, weights, lengths)
    dX, dWs = stack_backward(R, Rh, Rc, caches, lengths)

    input_size, d = X.shape[2], weights[0][0].shape[1] // 4
    lstm = torch.nn.LSTM(input_size, d, num_layers=2, bidirectional=True).double()
    with torch.no_grad():
        for layer, pair in enumerate(weights):
            for suffix, W in zip(("", "_reverse"), pair):
                names = [f"{kind}_l{layer}{suffix}" for kind in
                         ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                for name, value in zip(names, lr.to_pytorch_layout(W)):
                    getattr(lstm, name).copy_(torch.from_numpy(value))
    Xt = torch.from_numpy(X).requires_grad_()
    packed = PACK.pack_padded_sequence(Xt, torch.tensor(lengths), enforce_sorted=False)
    out, (ht, ct) = lstm(packed)
    Ht, _ = PACK.pad_packed_sequence(out, total_length=len(X))
    loss = ((Ht * torch.from_numpy(R)).sum() + (ht * torch.from_numpy(Rh)).sum()
            + (ct * torch.from_numpy(Rc)).sum())
    loss.backward()

    np.testing.assert_allclose(H, Ht.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(h_n, ht.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(c_n, ct.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=0, atol=1e-9)
    for layer, pair in enumerate(dWs):
        for suffix, dW in zip(("", "_reverse"), pair):
            grads = [getattr(lstm, f"{kind}_l{layer}{suffix}").grad.numpy()
                     for kind in ("weight_ih", "weight_hh", "bias_ih")]
            dW_torch = lr.from_pytorch_layout(*grads, np.zeros_like(grads[2]))
            np.testing.assert_allclose(dW, dW_torch, rtol=0, atol=1e-9, err_msg=f"{layer}{suffix}")
