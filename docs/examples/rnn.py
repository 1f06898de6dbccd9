r"""The plain (Elman) RNN, in the module's style: the network the LSTM was invented to fix.

For step t = 1..n, with input ``x_t`` and the previous state ``h_{t-1}``::

    a_t = x_t W_x + h_{t-1} W_h + b                   pre-activation     (eq-rnn-a)
    h_t = tanh(a_t)                                   hidden state       (eq-rnn-h)

The equations count steps from 1, arrays from 0: ``x_t`` is ``X[t-1]`` and ``h_t`` is
``H[t-1]``, as in lstm_reference.py. The weights are fused the same way, with one block of
``d`` columns instead of the LSTM's four: ``W (1 + input_size + d, d)``, row 0 the bias ``b``,
then ``W_x``, then ``W_h``.

Backward, by the chain rule, for t = n..1 (``dh_t`` sums the output's gradient at step t and
what step t+1 sends back)::

    dh_t     = dH_t + dh_t^(from t+1)                                    (eq-rnn-dh)
    da_t     = dh_t * (1 - h_t^2)                     tanh' = 1 - tanh^2 (eq-rnn-da)
    dW      += [1, x_t, h_{t-1}]^T da_t               summed over steps  (eq-rnn-dW)
    dx_t     = da_t W_x^T,   dh_{t-1} = da_t W_h^T    the only way back  (eq-rnn-dprev)

Every step back multiplies the gradient by ``tanh'`` (at most 1) and by ``W_h^T``; nothing goes
around them, which is why the gradient of a loss at step n vanishes (or explodes) over the
steps before it. ``gradient_norms`` measures it, like ``init_gradient_flow.gradient_norms``
for the LSTM. ``RNN`` is the trainable model, with the interface of ``lstm_reference.LSTM``
that ``training.Adam`` needs (``forward``, ``backward``, ``grads``, ``get_params``,
``set_params``), used by ``reber.py``.

Run ``python docs/examples/rnn.py``: it checks the gradients by central differences and prints
how far the gradient reaches.
"""

import sys
from pathlib import Path

# the repository root: lstm_reference.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402

import lstm_reference as lr  # noqa: E402


def init_weights(input_size, hidden_size, *, rng=None):
    """The fused ``W (1 + input_size + hidden_size, hidden_size)``: bias 0, ``W_x`` Xavier-uniform,
    ``W_h`` orthogonal (all its singular values 1), the LSTM model's scheme for one block."""
    rng = np.random.default_rng(rng)
    W = np.zeros((1 + input_size + hidden_size, hidden_size))  # row 0: the bias, 0
    W[1:1 + input_size] = lr.xavier_uniform((input_size, hidden_size), rng=rng)  # W_x
    W[1 + input_size:] = lr.orthogonal((hidden_size, hidden_size), rng=rng)  # W_h
    return W


def forward(X, W, h0=None):
    """Run the RNN over time-major ``X (n, b, input_size)``: eq-rnn-a, eq-rnn-h for t = 1..n.

    Returns ``H (n, b, d)`` (``H[t-1]`` is ``h_t``), the final ``h (b, d)`` and the cache.
    """
    n, b, input_size = X.shape  # time, batch, features
    d = W.shape[1]  # hidden size
    bias, W_x, W_h = W[0], W[1:1 + input_size], W[1 + input_size:]  # (d,), (I, d), (d, d)
    hs = np.empty((n + 1, b, d))  # (n + 1, b, d)  h_0, h_1, ..., h_n: hs[t] is h_t
    hs[0] = 0.0 if h0 is None else h0
    for t in range(1, n + 1):  # step t reads x_t = X[t-1]
        a = X[t - 1] @ W_x + hs[t - 1] @ W_h + bias  # (b, d)  eq-rnn-a
        hs[t] = np.tanh(a)  # eq-rnn-h
    cache = {"X": X, "W": W, "hs": hs}  # backward needs every h_t, and h_0
    return hs[1:], hs[n], cache  # H = hs[1:], so that H[t-1] is h_t


def backward(dH, cache, dh=None):
    """Gradients through :func:`forward`: eq-rnn-dh .. eq-rnn-dprev for t = n..1.

    ``dH (n, b, d)`` is dLoss/dH; ``dh (b, d)`` the gradient arriving at the final ``h``.
    Returns ``dX (n, b, input_size)``, ``dW`` (like ``W``) and ``dh0 (b, d)``.
    """
    X, W, hs = cache["X"], cache["W"], cache["hs"]  # hs: (n + 1, b, d), hs[t] is h_t
    n, b, input_size = X.shape  # time, batch, features
    W_x, W_h = W[1:1 + input_size], W[1 + input_size:]  # (I, d), (d, d)
    dX, dW = np.empty(X.shape), np.zeros(W.shape)  # (n, b, I), (1 + I + d, d)
    dh = np.zeros(hs.shape[1:]) if dh is None else dh  # (b, d)  from after step n
    for t in range(n, 0, -1):  # step n first
        dh = dH[t - 1] + dh  # eq-rnn-dh: from the output at t, and from step t+1
        da = dh * (1 - hs[t] ** 2)  # (b, d)  eq-rnn-da
        dW[0] += da.sum(axis=0)  # eq-rnn-dW: bias, the column of ones
        dW[1:1 + input_size] += X[t - 1].T @ da  # eq-rnn-dW: input weights
        dW[1 + input_size:] += hs[t - 1].T @ da  # eq-rnn-dW: recurrent weights, by h_{t-1}
        dX[t - 1] = da @ W_x.T  # eq-rnn-dprev
        dh = da @ W_h.T  # eq-rnn-dprev: the only path to step t-1
    return dX, dW, dh


RECURRENT_STD = {"scaled normal": lambda d: 1 / np.sqrt(d), "normal": lambda d: 1.0}


def gradient_norms(recurrent, seq_len, input_size, hidden_size, batch, seed):
    """``||dL/dx_t||`` for t = 1..seq_len, at array index t - 1 (mean over the batch).

    The setting of ``init_gradient_flow.gradient_norms``: a loss ``sum(h_n * r)`` on the last
    state only, ``r`` random, inputs standard normal. ``recurrent`` is ``"orthogonal"`` (the
    default scheme) or a Gaussian ``W_h``: ``"scaled normal"`` (std ``1/sqrt(d)``), ``"normal"``.
    """
    rng = np.random.default_rng(seed)
    W = init_weights(input_size, hidden_size, rng=rng)
    if recurrent != "orthogonal":
        std = RECURRENT_STD[recurrent](hidden_size)
        W[1 + input_size:] = std * rng.standard_normal((hidden_size, hidden_size))
    X = rng.standard_normal((seq_len, batch, input_size))  # (n, b, I)
    H, h, cache = forward(X, W)
    dH = np.zeros_like(H)  # (n, b, d)  no loss on the outputs before the last
    dX, _, _ = backward(dH, cache, dh=rng.standard_normal(h.shape))  # loss = sum(h_n * r)
    return np.linalg.norm(dX, axis=2).mean(axis=1)  # (seq_len,)


class RNN:
    """A plain RNN over batch-first sequences with a linear output layer, ``Y = H W_y + b_y``.

    The interface ``training.Adam`` needs, as ``lstm_reference.LSTM``: ``forward(X)`` returns
    ``Y (batch, seq_len, output_size)``, ``backward(dY)`` sets ``grads``, and ``get_params`` /
    ``set_params`` read and write ``{"W", "W_y", "b_y"}``.
    """

    def __init__(self, input_size, hidden_size, output_size, *, rng=None):
        rng = np.random.default_rng(rng)
        self.W = init_weights(input_size, hidden_size, rng=rng)  # (1 + I + d, d)
        self.W_y = lr.xavier_uniform((hidden_size, output_size), rng=rng)  # (d, out)
        self.b_y = np.zeros(output_size)  # (out,)
        self.grads, self._cache = {}, None

    def get_params(self):
        return {"W": self.W.copy(), "W_y": self.W_y.copy(), "b_y": self.b_y.copy()}

    def set_params(self, params):
        self.W, self.W_y, self.b_y = (params[k].copy() for k in ("W", "W_y", "b_y"))

    def forward(self, X):
        H, _, cache = forward(X.transpose(1, 0, 2), self.W)  # (n, b, d)  time-major inside
        self._cache = (H, cache)
        return H.transpose(1, 0, 2) @ self.W_y + self.b_y  # (b, n, out)

    def backward(self, dY):
        H, cache = self._cache
        dY = dY.transpose(1, 0, 2)  # (n, b, out)
        n, b, d = H.shape  # time, batch, hidden
        self.grads = {"W_y": H.reshape(n * b, d).T @ dY.reshape(n * b, -1),  # (d, out)
                      "b_y": dY.sum(axis=(0, 1))}  # (out,)
        dX, self.grads["W"], _ = backward(dY @ self.W_y.T, cache)
        return dX.transpose(1, 0, 2)  # (b, n, input_size)


def check_gradients(n=5, b=3, input_size=4, hidden_size=3, seed=0):
    """The largest relative error of dX, dW, dh0 against central differences (a loss on every
    output and on the final state)."""
    rng = np.random.default_rng(seed)
    W = init_weights(input_size, hidden_size, rng=rng)
    W[0] = 0.1 * rng.standard_normal(hidden_size)  # a nonzero bias, so that its gradient counts
    X = rng.standard_normal((n, b, input_size))
    h0 = rng.standard_normal((b, hidden_size))
    R, r = rng.standard_normal((n, b, hidden_size)), rng.standard_normal((b, hidden_size))

    def loss(X, W, h0):  # sum(H * R) + sum(h_n * r): every output and the final state
        H, h, _ = forward(X, W, h0)
        return np.sum(H * R) + np.sum(h * r)

    _, _, cache = forward(X, W, h0)
    dX, dW, dh0 = backward(R, cache, dh=r)
    numeric = {"X": lr.numerical_gradient(lambda v: loss(v, W, h0), X),
               "W": lr.numerical_gradient(lambda v: loss(X, v, h0), W),
               "h0": lr.numerical_gradient(lambda v: loss(X, W, v), h0)}
    return {name: float(lr.relative_error(analytic, numeric[name], floor=1e-8).max())
            for name, analytic in (("X", dX), ("W", dW), ("h0", dh0))}


def main(seq_len=200, input_size=4, hidden_size=32, batch=16, seed=0,
         recurrents=("orthogonal", "scaled normal", "normal")):
    """Return ``{"gradient_errors", "norms", "first_step", "last_step"}``, by ``recurrent``."""
    norms = {r: gradient_norms(r, seq_len, input_size, hidden_size, batch, seed)
             for r in recurrents}
    return {"gradient_errors": check_gradients(),
            "norms": {r: v.tolist() for r, v in norms.items()},
            "first_step": {r: float(v[0]) for r, v in norms.items()},
            "last_step": {r: float(v[-1]) for r, v in norms.items()}}


if __name__ == "__main__":
    result = main()
    print("largest relative error against central differences:",
          ", ".join(f"d{name} {error:.1e}" for name, error in result["gradient_errors"].items()))
    print("||dL/dx_t|| at the loss (t = 200) and 199 steps before it (t = 1):")
    for recurrent in result["first_step"]:
        print(f"  {recurrent:>13} W_h: {result['last_step'][recurrent]:.0e}, "
              f"{result['first_step'][recurrent]:.0e}")
