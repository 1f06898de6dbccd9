"""The textbook LSTM: one fused product ``[1, x_t, h_{t-1}] @ W`` per step, forward and backward.

This is the classic batched formulation of Karpathy's LSTM gist, written independently of
``lstm_reference`` (it shares no code with it) so that it can serve twice: as a contender in
``bench.py`` and as the oracle ``tests/test_core.py`` compares the module with.

Same conventions as the module: time-major ``X`` of shape (n, b, input_size); fused ``W`` of
shape (1 + input_size + d, 4d) with the bias in row 0 and gate blocks i, f, o, g; states in the
order (c, h). What it does differently, and why it is slower: the input and bias go through the
per-step product (``Hin`` copies every ``x_t``), and backward forms ``dW`` and ``dX`` one step at
a time. It is written with care all the same (gates computed in place, no copy of the
pre-activations kept), so that the comparison is with a good textbook implementation.
"""

import numpy as np


def sigmoid_inplace(z):
    """z = 1 / (1 + exp(-z)), in place: the gate activations need no second array."""
    with np.errstate(over="ignore"):  # exp(-z) = inf for z << 0 gives exactly 0: correct
        np.negative(z, out=z)
        np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)


def textbook_forward(X, W, c0, h0):
    """Run the LSTM over ``X``; returns ``H, c, h, cache`` like ``lstm_reference.forward``."""
    n, b, input_size = X.shape  # time, batch, features
    d = W.shape[1] // 4  # hidden size
    Hin = np.empty((n, b, 1 + input_size + d), dtype=W.dtype)  # [1, x_t, h_{t-1}] per step
    IFOGf = np.empty((n, b, 4 * d), dtype=W.dtype)  # gate activations i, f, o, g
    C = np.empty((n, b, d), dtype=W.dtype)  # cell states c_1..c_n
    Ct = np.empty((n, b, d), dtype=W.dtype)  # tanh(c_t)
    H = np.empty((n, b, d), dtype=W.dtype)  # hidden states h_1..h_n
    c_prev, h_prev = c0, h0
    for t in range(n):
        Hin[t, :, 0] = 1.0  # the bias row of W
        Hin[t, :, 1:1 + input_size] = X[t]
        Hin[t, :, 1 + input_size:] = h_prev
        ifog = IFOGf[t]  # (b, 4d)
        np.matmul(Hin[t], W, out=ifog)  # the one product per step
        sigmoid_inplace(ifog[:, :3 * d])  # i, f, o
        np.tanh(ifog[:, 3 * d:], out=ifog[:, 3 * d:])  # g
        i, f, o, g = (ifog[:, k * d:(k + 1) * d] for k in range(4))
        np.multiply(i, g, out=C[t])
        C[t] += f * c_prev
        np.tanh(C[t], out=Ct[t])
        np.multiply(o, Ct[t], out=H[t])
        c_prev, h_prev = C[t], H[t]
    cache = {"W": W, "c0": c0, "Hin": Hin, "IFOGf": IFOGf, "C": C, "Ct": Ct}
    return H, C[-1].copy(), H[-1].copy(), cache


def textbook_backward(dH, cache):
    """Gradients for ``dH`` (n, b, d); returns ``dX, dW, dc0, dh0`` like ``lstm_reference``."""
    W, c0, Hin, IFOGf, C, Ct = (cache[k] for k in ("W", "c0", "Hin", "IFOGf", "C", "Ct"))
    n, b, d = dH.shape  # time, batch, hidden
    input_size = Hin.shape[2] - 1 - d
    dW = np.zeros_like(W)
    dX = np.empty((n, b, input_size), dtype=W.dtype)
    dIFOG = np.empty((b, 4 * d), dtype=W.dtype)  # gradient of the pre-activations of step t
    dc = np.zeros((b, d), dtype=W.dtype)  # gradient arriving at c_t from step t+1
    dh_next = np.zeros((b, d), dtype=W.dtype)  # gradient arriving at h_t from step t+1
    for t in reversed(range(n)):
        i, f, o, g = (IFOGf[t, :, k * d:(k + 1) * d] for k in range(4))
        c_prev = C[t - 1] if t > 0 else c0
        dh = dH[t] + dh_next
        dc = dc + (1.0 - Ct[t] ** 2) * (o * dh)  # backprop h_t = o * tanh(c_t)
        # backprop the gates' nonlinearities: sigmoid' = y (1 - y), tanh' = 1 - y^2
        np.multiply(g * dc, i * (1.0 - i), out=dIFOG[:, :d])
        np.multiply(c_prev * dc, f * (1.0 - f), out=dIFOG[:, d:2 * d])
        np.multiply(Ct[t] * dh, o * (1.0 - o), out=dIFOG[:, 2 * d:3 * d])
        np.multiply(i * dc, 1.0 - g ** 2, out=dIFOG[:, 3 * d:])
        dW += Hin[t].T @ dIFOG  # backprop the product: one per step
        dHin = dIFOG @ W.T  # (b, 1 + input_size + d)
        dX[t] = dHin[:, 1:1 + input_size]
        dh_next = dHin[:, 1 + input_size:]
        dc = dc * f  # backprop c_t = f * c_{t-1} + i * g
    return dX, dW, dc, dh_next
