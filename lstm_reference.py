r"""A reference LSTM in NumPy: forward and backward, batched, fast, and checked.

This single file is the whole reference. Read it top to bottom: it follows the derivation on the
documentation site, section by section (each ``# ---`` banner is the title of a page, but for the
last two: the input checks, and the command line that runs the self-check).

What an LSTM cell computes
--------------------------
For step t = 1..n, with input ``x_t`` and the previous states ``c_{t-1}``, ``h_{t-1}``::

    i_t = sigmoid(x_t W_xi + h_{t-1} W_hi + b_i)      input gate         (eq-gates)
    f_t = sigmoid(x_t W_xf + h_{t-1} W_hf + b_f)      forget gate        (eq-gates)
    o_t = sigmoid(x_t W_xo + h_{t-1} W_ho + b_o)      output gate        (eq-gates)
    g_t =    tanh(x_t W_xg + h_{t-1} W_hg + b_g)      candidate          (eq-gates)
    c_t = f_t * c_{t-1} + i_t * g_t                   cell update        (eq-cell)
    h_t = o_t * tanh(c_t)                             hidden output      (eq-hidden)

The equations count steps from 1, arrays from 0: ``x_t`` is ``X[t-1]`` and ``h_t`` is ``H[t-1]``.

Conventions
-----------
=================  ==========================================================================
Input ``X``        time-major ``(n, b, input_size)``: n steps, b sequences in the batch;
                   batch first ``(batch, seq_len, input_size)`` for the model ``LSTM``
Lengths            optional ``lengths (b,)``: sequence k runs steps 1..lengths[k]; its outputs
                   after that are 0 and its final state is the one at its own last step
Weights ``W``      one fused matrix ``(1 + input_size + hidden_size, 4 * hidden_size)``;
                   row 0 the bias, then the input rows, then the recurrent rows
Gate order         column blocks ``i, f, o, g`` (PyTorch: i, f, g, o; Keras: i, f, c, o)
State order        ``(c, h)`` in the fused core; ``(h, c)`` in ``LSTMCell`` and ``LSTM``, as PyTorch
Row vectors        ``z = [1, x, h] @ W`` (PyTorch computes ``W @ x``: its matrices are our
                   transposes)
dtype              the core follows its inputs (float32 in, float32 out); ``LSTMCell`` and
                   ``LSTM`` compute in their own dtype, converting what they are given
=================  ==========================================================================

Usage
-----
>>> import numpy as np
>>> import lstm_reference as lr
>>> W = lr.init_weights(input_size=10, hidden_size=4, rng=0)
>>> X = np.arange(5 * 3 * 10).reshape(5, 3, 10) / 150       # (n, b, input_size)
>>> H, c, h, cache = lr.forward(X, W)                         # H: (5, 3, 4)
>>> dX, dW, dc0, dh0 = lr.backward(np.ones_like(H), cache)    # gradients of H.sum()
>>> H.shape, dX.shape, dW.shape
((5, 3, 4), (5, 3, 10), (15, 16))

The trainable model, batch first, with an output layer and per-gate parameters:

>>> model = lr.LSTM(input_size=10, hidden_size=4, output_size=2, rng=0)
>>> Y = model.forward(X.transpose(1, 0, 2))                  # (b, n, input_size) -> (3, 5, 2)
>>> dX = model.backward(np.ones_like(Y))                      # model.grads["W_xi"], ...
>>> Y.shape, dX.shape, model.grads["W_hf"].shape
((3, 5, 2), (3, 5, 10), (4, 4))

References
----------
- S. Hochreiter, J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997.
- F. Gers, J. Schmidhuber, F. Cummins, "Learning to Forget", Neural Computation 12(10), 2000.
- R. Jozefowicz, W. Zaremba, I. Sutskever, "An Empirical Exploration of Recurrent Network
  Architectures", ICML 2015 (the forget-gate bias).
- A. Karpathy, the batched LSTM gist (2015): the fused-matrix design this file starts from.
- J. Appleyard, T. Kocisky, P. Blunsom, "Optimizing Performance of Recurrent Neural Networks
  on GPUs", 2016 (hoisting the input projection out of the loop, as cuDNN does).
- X. Glorot, Y. Bengio, "Understanding the difficulty of training deep feedforward neural
  networks", AISTATS 2010 (Xavier initialization).
- A. Saxe, J. McClelland, S. Ganguli, "Exact solutions to the nonlinear dynamics of learning in
  deep linear neural networks", ICLR 2014 (orthogonal initialization); F. Mezzadri, "How to
  generate random matrices from the classical compact groups", Notices of the AMS 54(5), 2007.
"""

import argparse
import contextlib
import functools
import io
import itertools
import math
import os
import secrets
import shutil
import sys
import warnings
import zipfile
import zlib
from collections.abc import Mapping

import numpy as np

__version__ = "0.2.0.dev0"

__all__ = [
    "init_weights",
    "xavier_uniform",
    "orthogonal",
    "sigmoid",
    "forward",
    "backward",
    "LAYOUTS",
    "to_layout",
    "from_layout",
    "to_pytorch_layout",
    "from_pytorch_layout",
    "find_gate_order",
    "LSTMCell",
    "LSTM",
    "numerical_gradient",
    "relative_error",
    "check_sequential_matches_batch",
    "check_gradients",
    "check_chunks_match_single_call",
    "check_pytorch_layout_roundtrip",
    "check_extremes",
    "check_cell_matches_fused",
    "check_model_gradients",
]


# --- Initialization -------------------------------------------------------------------------------
# W, the one fused matrix. Its layout is the contract everything else refers to:
#
#   rows:     0                   the bias b
#             1 .. input_size     the input weights W_x      (x_t enters here)
#             input_size+1 ..     the recurrent weights W_h  (h_{t-1} enters here)
#   columns:  [0:d] i   [d:2d] f   [2d:3d] o   [3d:4d] g     (d = hidden_size)
#
# so that  z_t = [1, x_t, h_{t-1}] @ W  holds all four gate pre-activations at once.
#
# Two schemes fill it. init_weights, for the fused core: one normal draw, scaled by
# 1/sqrt(input_size + d) so that a pre-activation's second moment is the mean second moment of
# the entries of [x_t, h_{t-1}] (eq-var): at most about 1. The per-gate scheme of LSTMCell and
# LSTM, one gate at a time: Xavier-uniform for each input matrix W_x*, an orthogonal matrix for
# each recurrent matrix W_h* (all its singular values 1; Keras instead draws its whole (I, 4d)
# kernel and its whole (d, 4d) recurrent kernel as one matrix each). Both start the forget gate
# open, with a positive bias: see init_weights.

_GATES = ("i", "f", "o", "g")  # the column-block order of W


def init_weights(input_size, hidden_size, *, forget_bias=3.0, rng=None, dtype=np.float64):
    """The fused weight matrix ``W``: normal / sqrt(input_size + hidden_size), forget bias open.

    Implements eq-var (docs: Initialization). Biases are zero except the forget gate's,
    ``forget_bias``: ``f = sigmoid(3) ~ 0.95`` keeps the gate *open*, so ``c_t ~ c_{t-1}``: the
    cell remembers, and gradients reach back many steps, from the first update on.

    Parameters
    ----------
    input_size, hidden_size : int
        Features per input step, and units per state (``d``).
    forget_bias : float, default 3.0
        Initial bias of the forget gate (columns ``d:2d`` of row 0).
    rng : None, int or numpy.random.Generator
        A seed, a generator (its stream continues), or None for fresh entropy.
    dtype : numpy floating dtype, default float64

    Returns
    -------
    W : ndarray, shape (1 + input_size + hidden_size, 4 * hidden_size)
        Row 0 bias, then input weights, then recurrent weights; gate blocks i, f, o, g.

    Examples
    --------
    >>> W = init_weights(10, 4, rng=0)
    >>> W.shape                       # (1 + 10 + 4, 4 * 4)
    (15, 16)
    >>> W[0].tolist()                 # bias row: zero but the forget gate's 3.0
    [0.0, 0.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> bool(abs(W[1:].std() * np.sqrt(10 + 4) - 1) < 0.2)   # std 1/sqrt(input + hidden)
    True
    """
    input_size, d = _size("input_size", input_size), _size("hidden_size", hidden_size)
    dtype, rng = _float_dtype(dtype), _generator(rng)
    forget_bias = _real("forget_bias", forget_bias, dtype)
    W = rng.standard_normal((1 + input_size + d, 4 * d)) / np.sqrt(input_size + d)
    W[0] = 0.0
    W[0, d:2 * d] = forget_bias  # forget gate open: the cell remembers from the start
    return W.astype(dtype)


def xavier_uniform(shape, *, rng=None, dtype=np.float64):
    """Xavier (Glorot) uniform: ``U(-a, a)`` with ``a = sqrt(6 / (fan_in + fan_out))``.

    Row vectors: a ``(fan_in, fan_out)`` matrix maps ``x (..., fan_in)`` to ``x @ M``. The
    variance ``a^2 / 3 = 2 / (fan_in + fan_out)`` is the compromise between keeping activations
    (``1 / fan_in``) and gradients (``1 / fan_out``) at unit scale (Glorot and Bengio, 2010).
    Used for the input matrices ``W_x*`` and the output layer ``W_y``.

    Parameters
    ----------
    shape : tuple of two ints
        ``(fan_in, fan_out)``.
    rng : None, int or numpy.random.Generator
    dtype : numpy floating dtype, default float64

    Returns
    -------
    ndarray, shape ``shape``

    Examples
    --------
    >>> M = xavier_uniform((300, 200), rng=0)
    >>> bool(np.all(np.abs(M) <= np.sqrt(6 / (300 + 200))))   # inside the bounds
    True
    >>> bool(abs(M.var() / (2 / (300 + 200)) - 1) < 0.05)      # variance 2 / (fan_in + fan_out)
    True
    """
    fan_in, fan_out = _matrix_shape(shape)
    dtype, rng = _float_dtype(dtype), _generator(rng)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out)).astype(dtype)  # (fan_in, fan_out)


def orthogonal(shape, gain=1.0, *, rng=None, dtype=np.float64):
    """A random orthogonal matrix times ``gain``, uniformly (Haar) distributed.

    Square: ``Q^T Q = gain^2 I``; tall: orthonormal columns; wide: orthonormal rows. All its
    singular values are ``gain``. Method: QR of a Gaussian matrix, with the columns of Q
    multiplied by ``sign(diag(R))``; without that fix LAPACK's Q is not Haar-distributed
    (Mezzadri, 2007).

    Parameters
    ----------
    shape : tuple of two ints
        ``(rows, columns)``.
    gain : float, default 1.0
    rng : None, int or numpy.random.Generator
    dtype : numpy floating dtype, default float64

    Returns
    -------
    ndarray, shape ``shape``

    Examples
    --------
    >>> Q = orthogonal((4, 4), rng=0)
    >>> bool(np.allclose(Q.T @ Q, np.eye(4), rtol=0, atol=1e-12))
    True
    >>> wide = orthogonal((3, 5), gain=2.0, rng=0)           # orthonormal rows, times 2
    >>> bool(np.allclose(wide @ wide.T, 4 * np.eye(3), rtol=0, atol=1e-12))
    True
    """
    rows, columns = _matrix_shape(shape)
    dtype, rng = _float_dtype(dtype), _generator(rng)
    gain = _real("gain", gain, dtype)
    A = rng.standard_normal((max(rows, columns), min(rows, columns)))  # tall (or square)
    Q, R = np.linalg.qr(A)  # Q: (max, min), orthonormal columns
    Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)  # the sign fix: diag(R) > 0, Q Haar-distributed
    if rows < columns:
        Q = Q.T  # wide: orthonormal rows
    return (gain * Q).astype(dtype)  # (rows, columns)


def _init_cell_params(input_size, d, forget_bias, rng, dtype):
    """Per-gate parameters: Xavier-uniform W_x*, orthogonal W_h*, zero biases but b_f."""
    params = {f"W_x{k}": xavier_uniform((input_size, d), rng=rng, dtype=dtype) for k in _GATES}
    params.update({f"W_h{k}": orthogonal((d, d), rng=rng, dtype=dtype) for k in _GATES})
    params.update({f"b_{k}": np.zeros(d, dtype=dtype) for k in _GATES})
    params["b_f"][:] = forget_bias  # forget gate open: the cell remembers from the start
    return params


# --- Forward pass ---------------------------------------------------------------------------------
# Where the time goes. Per step, the only work that *must* wait for the previous step is the
# recurrent product h_{t-1} @ W_h; the input projection x_t @ W_x + b does not depend on h, so it
# is done for all steps at once in one large matrix product before the loop (as cuDNN does).
#
# One exp for three gates: the sigmoid gates i, f, o are contiguous, so one pass of exp over
# their 3d columns serves all three. The products use W with those columns negated, so that
# exp(-z) comes straight out of them; negating is exact and cannot overflow. The candidate g
# takes np.tanh itself: the identity tanh(z) = 2 sigmoid(2z) - 1 would fold it into the same
# exp pass, but it cancels near z = 0 and loses the relative precision of small candidates
# (in float16, the first two or three digits of them).
#
# Variable lengths. Sequences are "packed" as PyTorch's PackedSequence packs them: sorted
# longest first, so that the ones still running at a step are a prefix of the batch, and stored
# as one row per (step, sequence) that runs, step by step. Padded steps get no row: they are
# skipped, not computed and masked. Without lengths the rows are X itself, n * b of them.


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, for any input, without warnings.

    For very negative ``x``, ``exp(-x)`` overflows to ``inf`` and ``1 / (1 + inf)`` is exactly 0,
    the correct limit; only the overflow *flag* needs silencing. (The usual
    ``np.where(x >= 0, 1/(1+exp(-x)), exp(x)/(1+exp(x)))`` evaluates both branches on every
    element and overflows in one of them.)

    Examples
    --------
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    >>> sigmoid(np.float32(-100)).dtype
    dtype('float32')
    >>> round(float(sigmoid(3.0)), 3)    # the default forget gate at initialization
    0.953
    """
    x = _floats("x", x)
    one = x.dtype.type(1)  # typed, so a float32 scalar stays float32 under NumPy 1's casting rules
    with np.errstate(over="ignore", under="ignore"):
        return one / (one + np.exp(-x))


def forward(X, W, c0=None, h0=None, *, lengths=None):
    """Run the LSTM over a batch of sequences: eq-gates, eq-cell, eq-hidden for t = 1..n.

    Parameters
    ----------
    X : array_like, shape (n, b, input_size)
        Inputs, time-major: ``X[t-1]`` is step t of all b sequences.
    W : array_like, shape (1 + input_size + hidden_size, 4 * hidden_size)
        Fused weights (layout: docs, Conventions; init_weights makes one).
    c0, h0 : array_like, shape (b, hidden_size), optional
        Initial states; zeros when omitted. A previous call's final ``c, h`` continue a sequence.
    lengths : array_like of int, shape (b,), optional
        Steps of each sequence, in 1..n; padded steps are skipped. Default: all n.

    Returns
    -------
    H : ndarray, shape (n, b, hidden_size)
        Every step's h, 0 at padded steps; read-only.
    c, h : ndarray, shape (b, hidden_size)
        Each sequence's state after its own last step.
    cache : dict
        What :func:`backward` needs (documented on the Forward pass page).

    Examples
    --------
    >>> W = init_weights(2, 3, rng=0)
    >>> X = np.arange(4 * 2 * 2).reshape(4, 2, 2) / 16      # n=4 steps, b=2, input_size=2
    >>> H, c, h, cache = forward(X, W)
    >>> H.shape, c.shape, bool(np.array_equal(H[-1], h))   # the last output is the final h
    ((4, 2, 3), (2, 3), True)

    With the second sequence 2 steps long, it ends there, as if run alone:

    >>> H, c, h, _ = forward(X, W, lengths=[4, 2])
    >>> H[2:, 1].tolist()                                   # padded steps: 0
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    >>> bool(np.allclose(h[1], forward(X[:2, 1:], W)[2][0], rtol=0, atol=1e-15))
    True
    """
    X, W, c0, h0, lengths = _check_forward(X, W, c0, h0, lengths)
    n, b, input_size = X.shape  # time, batch, features
    d = W.shape[1] // 4  # hidden size
    order, batch_sizes = _packing(lengths, n)  # longest first; how many run at each step
    X_rows = _pack(X, order, batch_sizes)  # (N, input_size)  one row per (step, sequence) run
    N = X_rows.shape[0]
    IFOG = np.empty((N, 4 * d), dtype=W.dtype)  # (N, 4d)  the gates i, f, o, g of every row
    C = np.empty((b + N, d), dtype=W.dtype)  # (b + N, d)  c0, then c_t of every row
    Ct = np.empty((N, d), dtype=W.dtype)  # (N, d)  tanh(c_t), kept for backward
    H = np.empty((b + N, d), dtype=W.dtype)  # (b + N, d)  h0, then h_t of every row
    C[:b], H[:b] = c0[order], h0[order]

    # The sigmoid gates' columns negated: their products give -z, and exp(-z) directly.
    W_flip = np.concatenate([-W[:, :3 * d], W[:, 3 * d:]], axis=1)  # (1 + input_size + d, 4d)
    W_flip_h = W_flip[1 + input_size:]  # (d, 4d)
    bounds = _bounds(batch_sizes)  # step t's rows are bounds[t-1] : bounds[t]
    previous = slice(0, b)  # rows of C, H with the states before step 1: c0, h0
    # Overflow gives the right limits here (exp(-z) -> inf for z << 0: sigmoid -> 0): no warning.
    with np.errstate(over="ignore", under="ignore"):
        # 1) The input projection of every row in one matrix product: x_t W_x + b, flipped.
        np.matmul(X_rows, W_flip[1:1 + input_size], out=IFOG)
        IFOG += W_flip[0]
        # 2) The recurrence, step by step; a step's rows are the sequences still running.
        for start, stop in zip(bounds[:-1], bounds[1:]):
            k, now = stop - start, slice(b + start, b + stop)  # k sequences run: the first k
            _step_forward(IFOG[start:stop], C[previous][:k], H[previous][:k], W_flip_h,
                          C[now], Ct[start:stop], H[now])
            previous = now

    # 3) The outputs and the cache, read-only: editing an output cannot corrupt backward.
    for array in (IFOG, C, Ct, H):
        array.flags.writeable = False
    cache = {"X": X_rows, "W": W, "IFOG": IFOG, "C": C, "Ct": Ct, "H": H,
             "order": order, "batch_sizes": batch_sizes}
    H_out = _unpack(H[b:], order, batch_sizes)  # (n, b, d)  a view of H when nothing is padded
    H_out.flags.writeable = False
    last = b + bounds[lengths - 1] + np.argsort(order)  # (b,)  each sequence's row at its last step
    return H_out, C[last], H[last], cache


def _step_forward(ifog, c_prev, h_prev, W_flip_h, c, ct, h):
    """One step, in place: ``ifog`` holds ``x_t W_x + b`` (flipped) on entry, the gates i, f, o,
    g on exit.

    Implements eq-gates, eq-cell, eq-hidden for the k running sequences; every output is written
    into the buffers given.
    """
    d = c.shape[1]
    ifog += h_prev @ W_flip_h  # (k, 4d)  [-z^i, -z^f, -z^o, z^g]: the one costly line per step
    sigmoids = ifog[:, :3 * d]  # (k, 3d)
    np.exp(sigmoids, out=sigmoids)  # exp(-z): one pass for i, f and o
    sigmoids += 1.0
    np.reciprocal(sigmoids, out=sigmoids)  # eq-gates: sigmoid(z) = 1 / (1 + exp(-z))
    i, f, o, g = (ifog[:, j * d:(j + 1) * d] for j in range(4))  # (k, d) each
    np.tanh(g, out=g)  # eq-gates: the candidate
    np.multiply(f, c_prev, out=c)
    c += i * g  # eq-cell: c_t = f * c_{t-1} + i * g
    np.tanh(c, out=ct)
    np.multiply(o, ct, out=h)  # eq-hidden: h_t = o * tanh(c_t)


def _packing(lengths, n):
    """The packed layout: the batch order (longest first) and how many sequences run per step."""
    order = np.argsort(-lengths, kind="stable")  # (b,)  stable: no lengths, no reordering
    batch_sizes = np.count_nonzero(lengths > np.arange(n)[:, None], axis=1)  # (n,)
    return order, batch_sizes


def _bounds(batch_sizes):
    """``[0, b_1, b_1 + b_2, ...]``: step t's rows are ``bounds[t-1]:bounds[t]``."""
    return np.concatenate([[0], np.cumsum(batch_sizes)])  # (n + 1,)


def _pack(A, order, batch_sizes):
    """``(n, b, ...)`` time-major -> ``(N, ...)``: the rows that run, step by step."""
    n, b = A.shape[:2]
    if batch_sizes[-1] == b:  # nothing padded: the rows are A itself (a view, if A allows)
        return A.reshape(n * b, *A.shape[2:])
    steps, ranks = np.nonzero(np.arange(b) < batch_sizes[:, None])  # (N,) each
    return A[steps, order[ranks]]


def _unpack(rows, order, batch_sizes):
    """The inverse of :func:`_pack`: ``(N, ...)`` -> ``(n, b, ...)``, 0 at padded steps."""
    n, b = len(batch_sizes), len(order)
    if batch_sizes[-1] == b:
        return rows.reshape(n, b, *rows.shape[1:])
    A = np.zeros((n, b, *rows.shape[1:]), dtype=rows.dtype)
    steps, ranks = np.nonzero(np.arange(b) < batch_sizes[:, None])
    A[steps, order[ranks]] = rows
    return A


# --- Backward pass --------------------------------------------------------------------------------
# Backward runs the forward loop in reverse. Only dh_{t-1} = dz_t @ W_h^T must wait for step t;
# the weight gradient is a sum over rows of outer products, so it is one matrix product over
# all rows after the loop, and dX likewise. With lengths, a sequence takes part in a step only
# while it runs, so dc, dh from outside reach it at its own last step and wait until then.


def backward(dH, cache, dc=None, dh=None):
    """Gradients through :func:`forward`: eq-dh .. eq-dprev for t = n..1, then eq-dW, eq-dX.

    Parameters
    ----------
    dH : array_like, shape (n, b, hidden_size)
        dLoss/dH for every step's output; padded steps are ignored.
    cache : dict
        The fourth value returned by :func:`forward`.
    dc, dh : array_like, shape (b, hidden_size), optional
        Gradient arriving at the final ``c`` and ``h`` (a loss on them, or the next chunk's
        ``dc0, dh0``); it enters each sequence at its own last step. Zeros when omitted.

    Returns
    -------
    dX : ndarray, shape (n, b, input_size)
        0 at padded steps.
    dW : ndarray, shape like W
    dc0, dh0 : ndarray, shape (b, hidden_size)
        Pass them as ``dc, dh`` to the backward call of the previous chunk.

    Examples
    --------
    >>> W = init_weights(2, 3, rng=0)
    >>> X = np.arange(4 * 1 * 2).reshape(4, 1, 2) / 8
    >>> H, c, h, cache = forward(X, W)
    >>> dX, dW, dc0, dh0 = backward(np.ones_like(H), cache)    # loss = H.sum()
    >>> dX.shape, dW.shape, dc0.shape, dh0.shape
    ((4, 1, 2), (6, 12), (1, 3), (1, 3))
    >>> numeric = numerical_gradient(lambda W_: forward(X, W_)[0].sum(), W)
    >>> bool(np.abs(dW - numeric).max() < 1e-8)                  # central differences agree
    True
    """
    X_rows, W, IFOG, C, Ct, H, order, batch_sizes = _check_cache(cache)
    n, b, d = len(batch_sizes), len(order), W.shape[1] // 4  # time, batch, hidden
    input_size = X_rows.shape[1]
    dH = _array("dH", dH, (n, b, d), "(n, batch, hidden_size) like forward's H", W.dtype)
    dc, dh = _state("dc", dc, (b, d), W.dtype), _state("dh", dh, (b, d), W.dtype)
    dH_rows = _pack(dH, order, batch_sizes)  # (N, d)  padded steps dropped
    dc, dh = dc[order], dh[order]  # (b, d) each, longest first: fresh copies, updated below
    previous = _previous_rows(batch_sizes, b)  # the rows of C, H holding each row's t-1 state
    C_prev, H_prev = C[previous], H[previous]  # (N, d) each: views when nothing is padded
    W_hT = np.ascontiguousarray(W[1 + input_size:].T)  # (4d, d)  contiguous for the loop

    dZ, dh_dc = _local_derivatives(IFOG, C_prev, Ct)  # (N, 4d), (N, d)
    bounds = _bounds(batch_sizes)
    for start, stop in reversed(list(zip(bounds[:-1], bounds[1:]))):  # step n first
        k = stop - start  # the sequences running at this step: the first k
        rows = slice(start, stop)
        dc[:k], dh[:k] = _step_backward(dZ[rows], dH_rows[rows], dh_dc[rows],
                                        IFOG[rows, d:2 * d], dc[:k], dh[:k], W_hT)
    del dh_dc  # N * d numbers freed before the products below, where memory peaks

    dW = np.empty_like(W)  # (1 + input_size + d, 4d)
    dW[0] = dZ.sum(axis=0)  # eq-dW: bias
    np.matmul(X_rows.T, dZ, out=dW[1:1 + input_size])  # eq-dW: input weights
    np.matmul(H_prev.T, dZ, out=dW[1 + input_size:])  # eq-dW: recurrent weights, by h_{t-1}
    dX = _unpack(dZ @ W[1:1 + input_size].T, order, batch_sizes)  # (n, b, input_size)  eq-dX
    inverse = np.argsort(order)  # back to the caller's order of sequences
    return dX, dW, dc[inverse], dh[inverse]


def _previous_rows(batch_sizes, b):
    """Which row of C, H holds the state each row starts from (c_{t-1}, h_{t-1})."""
    if batch_sizes[-1] == b:  # nothing padded: the rows just before, c0, h0 first
        return slice(0, len(batch_sizes) * b)
    starts = np.concatenate([[0], b + _bounds(batch_sizes)[:-2]])  # step t reads step t-1's rows
    return np.concatenate([start + np.arange(k) for start, k in zip(starts, batch_sizes)])


def _local_derivatives(IFOG, C_prev, Ct):
    """Everything in dz_t that does not depend on the incoming gradient, for every row.

    Returns ``dZ`` holding, per gate block, ``(sigma' or tanh') * (its partner in eq-cell or
    eq-hidden)``, so that the loop only multiplies by ``dc_t`` or ``dh_t``:

    - i: ``i(1-i) * g``         (eq-di)     - f: ``f(1-f) * c_{t-1}``   (eq-df)
    - o: ``o(1-o) * tanh(c_t)`` (eq-do)     - g: ``(1-g^2) * i``        (eq-dg)

    and ``dh_dc = o * (1 - tanh(c_t)^2)``, the derivative of h_t by c_t (eq-dc).
    """
    dZ = np.empty_like(IFOG)  # (N, 4d)
    dh_dc = np.empty_like(Ct)  # (N, d)
    # In blocks of about 1 MB of gates, so that a block stays in the CPU cache between the
    # passes below, rather than streaming the whole array through memory once per pass.
    rows = max(1, 2**20 // IFOG[0].nbytes)
    for start in range(0, IFOG.shape[0], rows):
        s = slice(start, start + rows)
        _local_derivatives_block(IFOG[s], C_prev[s], Ct[s], dZ[s], dh_dc[s])
    return dZ, dh_dc


def _local_derivatives_block(ifog, c_prev, ct, dz, dh_dc):
    """:func:`_local_derivatives` for a block of rows, written into ``dz`` and ``dh_dc``."""
    d = ifog.shape[1] // 4
    i, f, o, g = (ifog[:, k * d:(k + 1) * d] for k in range(4))  # (rows, d) each
    np.subtract(1.0, ifog, out=dz)
    dz *= ifog  # (rows, 4d)  sigmoid' = s (1 - s), in terms of the output
    np.multiply(g, g, out=dz[:, 3 * d:])
    np.subtract(1.0, dz[:, 3 * d:], out=dz[:, 3 * d:])  # tanh' = 1 - tanh^2
    dz[:, :d] *= g
    dz[:, d:2 * d] *= c_prev
    dz[:, 2 * d:3 * d] *= ct
    dz[:, 3 * d:] *= i
    np.multiply(ct, ct, out=dh_dc)
    np.subtract(1.0, dh_dc, out=dh_dc)
    dh_dc *= o  # (rows, d)


def _step_backward(dz, dH_t, dh_dc, f, dc_next, dh_next, W_hT):
    """One step in reverse; finishes ``dz`` in place and returns ``(dc_{t-1}, dh_{t-1})``."""
    d = dH_t.shape[1]
    dh = dH_t + dh_next  # (k, d)  eq-dh: from the output at t, and from step t+1 through W_h
    dc = dc_next + dh * dh_dc  # (k, d)  eq-dc: two paths into c_t
    dz[:, :d] *= dc  # eq-di
    dz[:, d:2 * d] *= dc  # eq-df
    dz[:, 2 * d:3 * d] *= dh  # eq-do
    dz[:, 3 * d:] *= dc  # eq-dg
    return dc * f, dz @ W_hT  # eq-dprev; dz @ W_h^T is the costly line per step


# --- Conversions ----------------------------------------------------------------------------------
# Every framework stores the numbers of our W (b, W_x, W_h, gate by gate), cut up and ordered
# its own way. LAYOUTS writes each way down once, as a table; to_layout and from_layout only
# read it, and the docs' conversions page renders it. Its structure, in the doc comment below
# (the API reference shows it):

#: How each framework stores the numbers of our ``W``, written down once: :func:`to_layout` and
#: :func:`from_layout` only read it, and the conversions page renders it as a table.
#:
#: ``LAYOUTS[framework]``, for ``framework`` one of ``"pytorch"``, ``"keras"``, ``"onnx"`` and
#: ``"flax"``, is a dict with two keys:
#:
#: - ``"state"``: the order of the state the framework takes, as text: ``"(h, c)"`` for PyTorch,
#:   ``"(c, h)"`` for Flax (for the docs; nothing reads it).
#: - ``"arrays"``: one tuple ``(name, holds, gates, transposed, shape)`` per stored array, in the
#:   framework's order:
#:
#:   - ``name``: the framework's name for it (``"ii/kernel"`` is ``params["ii"]["kernel"]``);
#:   - ``holds``: ``"W_x"`` (input weights), ``"W_h"`` (recurrent weights) or ``"b"`` (the
#:     bias); ``"b, b"`` is two biases side by side in one array (ONNX's ``B``);
#:   - ``gates``: the gate blocks it holds, in its order, in our letters (``"ifgo"`` for
#:     PyTorch); ``g`` is the candidate, which Keras and ONNX call ``c`` and TensorFlow 1 ``j``;
#:   - ``transposed``: ``True`` where the framework computes ``W @ x``, so that each gate unit
#:     is a row;
#:   - ``shape``: the array's shape as text, with ``I`` = input_size and ``d`` = hidden_size
#:     (``"(4d, I)"``).
#:
#: A bias stored twice (PyTorch, ONNX) is written whole into its first copy and as zeros into
#: the second; reading sums the copies, as the framework does when it computes.
LAYOUTS = {
    "pytorch": {  # torch.nn.LSTM(I, d).state_dict(), one layer
        "state": "(h, c)",
        "arrays": (
            ("weight_ih_l0", "W_x", "ifgo", True, "(4d, I)"),
            ("weight_hh_l0", "W_h", "ifgo", True, "(4d, d)"),
            ("bias_ih_l0", "b", "ifgo", False, "(4d,)"),
            ("bias_hh_l0", "b", "ifgo", False, "(4d,)"),
        ),
    },
    "keras": {  # keras.layers.LSTM(d): layer.get_weights(), in this order
        "state": "[h, c]",
        "arrays": (
            ("kernel", "W_x", "ifgo", False, "(I, 4d)"),
            ("recurrent_kernel", "W_h", "ifgo", False, "(d, 4d)"),
            ("bias", "b", "ifgo", False, "(4d,)"),
        ),
    },
    "onnx": {  # the LSTM operator's inputs W, R, B; forward direction
        "state": "(Y_h, Y_c)",
        "arrays": (
            ("W", "W_x", "iofg", True, "(1, 4d, I)"),
            ("R", "W_h", "iofg", True, "(1, 4d, d)"),
            ("B", "b, b", "iofg", False, "(1, 8d)"),
        ),
    },
    "flax": {  # flax.linen.LSTMCell(d) and OptimizedLSTMCell(d): the params tree
        "state": "(c, h)",
        "arrays": (
            ("ii/kernel", "W_x", "i", False, "(I, d)"),
            ("if/kernel", "W_x", "f", False, "(I, d)"),
            ("ig/kernel", "W_x", "g", False, "(I, d)"),
            ("io/kernel", "W_x", "o", False, "(I, d)"),
            ("hi/kernel", "W_h", "i", False, "(d, d)"),
            ("hi/bias", "b", "i", False, "(d,)"),
            ("hf/kernel", "W_h", "f", False, "(d, d)"),
            ("hf/bias", "b", "f", False, "(d,)"),
            ("hg/kernel", "W_h", "g", False, "(d, d)"),
            ("hg/bias", "b", "g", False, "(d,)"),
            ("ho/kernel", "W_h", "o", False, "(d, d)"),
            ("ho/bias", "b", "o", False, "(d,)"),
        ),
    },
}

_OURS = "".join(_GATES)  # "ifog", our gate order: the column blocks of W


def _layout_arrays(framework):
    """The rows of ``LAYOUTS[framework]``, or a ValueError listing the known frameworks."""
    if not isinstance(framework, str) or framework not in LAYOUTS:
        raise ValueError(f"framework must be one of {', '.join(map(repr, LAYOUTS))}; "
                         f"got {framework!r}")
    return LAYOUTS[framework]["arrays"]


def _tokens(shape):
    """``'(1, 4d, I)'`` -> ``['1', '4d', 'I']``."""
    return shape.strip("()").replace(" ", "").rstrip(",").split(",")


def _dims(shape, input_size, d):
    """``'(1, 4d, I)'`` -> ``(1, 4 * d, input_size)``."""
    return tuple(input_size if t == "I" else int(t[:-1] or 1) * d if t.endswith("d") else int(t)
                 for t in _tokens(shape))


def _gate_blocks(holds, gates):
    """The ``(part, gate)`` of each d-wide block of an array, in its order."""
    return [(part, g) for part in holds.split(", ") for g in gates]


def to_layout(W, framework):
    """Convert fused ``W`` to ``framework``'s LSTM parameters, as NumPy arrays.

    Parameters
    ----------
    W : array_like, shape (1 + input_size + hidden_size, 4 * hidden_size)
    framework : str
        A key of ``LAYOUTS``: ``"pytorch"``, ``"keras"``, ``"onnx"`` or ``"flax"``.

    Returns
    -------
    params : dict of ndarray
        Named and shaped as the framework names and shapes them, in its order (a nested
        dict for flax's params tree). A second bias (PyTorch's ``bias_hh_l0``, the second
        half of ONNX's ``B``) is zeros.

    Examples
    --------
    >>> W = init_weights(3, 2, rng=0)
    >>> {name: a.shape for name, a in to_layout(W, "keras").items()}
    {'kernel': (3, 8), 'recurrent_kernel': (2, 8), 'bias': (8,)}
    >>> to_layout(W, "keras")["bias"].tolist()          # gates i, f, c, o; ours i, f, o, g
    [0.0, 0.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0]
    >>> onnx = to_layout(W, "onnx")                     # gates i, o, f, c
    >>> onnx["W"].shape, onnx["B"][0, 4:6].tolist()
    ((1, 8, 3), [3.0, 3.0])
    >>> sorted(to_layout(W, "flax")["hf"])
    ['bias', 'kernel']
    >>> bool(np.array_equal(from_layout(to_layout(W, "onnx"), "onnx"), W))
    True
    """
    arrays = _layout_arrays(framework)
    W = _array("W", W, _FUSED, _FUSED_TEXT)
    input_size, d = _fused_sizes(W)
    parts = {"b": W[:1], "W_x": W[1:1 + input_size], "W_h": W[1 + input_size:]}
    params, written = {}, set()
    for name, holds, gates, transposed, shape in arrays:
        blocks = []
        for part, g in _gate_blocks(holds, gates):
            k = _OURS.index(g)
            block = parts[part][:, k * d:(k + 1) * d]  # (rows, d)
            blocks.append(np.zeros_like(block) if (part, g) in written else block)
            written.add((part, g))
        M = np.concatenate(blocks, axis=1)  # (rows, blocks * d), the framework's gate order
        array = (M.T if transposed else M).reshape(_dims(shape, input_size, d))
        array = np.ascontiguousarray(array)
        *path, leaf = name.split("/")
        node = params
        for key in path:
            node = node.setdefault(key, {})
        node[leaf] = array
    return params


def _flat_params(params, framework, arrays):
    """``{"ii": {"kernel": a}}`` -> ``{"ii/kernel": a}``, with exactly the framework's names."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
    flat, todo = {}, [("", params)]
    while todo:
        prefix, node = todo.pop()
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping):
                todo.append((name + "/", value))
            elif name in flat:  # given both flat ("ii/kernel") and nested
                raise ValueError(f"params has {name!r} twice, flat and nested")
            else:
                flat[name] = value
    _names(f"params for {framework!r}", flat, {name: shape for name, *_, shape in arrays})
    return {name: _array(f"params[{name!r}]", flat[name]) for name, *_ in arrays}


def _layout_sizes(flat, arrays):
    """``(input_size, hidden_size)`` read off the first arrays holding W_x and W_h."""
    sizes = {}
    for name, holds, _, _, shape in arrays:
        letter = {"W_x": "I", "W_h": "d"}.get(holds)
        if letter is None or letter in sizes:
            continue
        tokens = _tokens(shape)
        if flat[name].ndim != len(tokens) or flat[name].shape[tokens.index(letter)] < 1:
            raise ValueError(f"params[{name!r}] must have shape {shape} with I, d >= 1; "
                             f"got {flat[name].shape}")
        sizes[letter] = flat[name].shape[tokens.index(letter)]
    return sizes["I"], sizes["d"]


def from_layout(params, framework):
    """Build fused ``W`` from ``framework``'s LSTM parameters: the inverse of :func:`to_layout`.

    Parameters
    ----------
    params : dict of array_like
        Named and shaped as in ``to_layout(W, framework)`` (for flax, the nested params tree).
        Where the framework has two biases, ``W``'s bias is their sum.
    framework : str
        A key of ``LAYOUTS``.

    Returns
    -------
    W : ndarray, shape (1 + input_size + hidden_size, 4 * hidden_size)

    Raises
    ------
    ValueError
        For an unknown framework, a missing or unexpected key, or a wrong shape; the message
        names the key and the shape expected.

    Examples
    --------
    >>> params = {"weight_ih_l0": np.zeros((8, 3)), "weight_hh_l0": np.zeros((8, 2)),
    ...           "bias_ih_l0": np.arange(8.0), "bias_hh_l0": np.ones(8)}
    >>> W = from_layout(params, "pytorch")
    >>> W.shape
    (6, 8)
    >>> W[0].tolist()              # bias_ih + bias_hh, blocks i, f, g, o reordered to i, f, o, g
    [1.0, 2.0, 3.0, 4.0, 7.0, 8.0, 5.0, 6.0]
    """
    arrays = _layout_arrays(framework)
    flat = _flat_params(params, framework, arrays)
    input_size, d = _layout_sizes(flat, arrays)
    rows = {"b": 1, "W_x": input_size, "W_h": d}
    dtype = np.result_type(*flat.values())
    parts = {part: np.zeros((size, 4 * d), dtype) for part, size in rows.items()}
    for name, holds, gates, transposed, shape in arrays:
        _check_shape(f"params[{name!r}]", flat[name], _dims(shape, input_size, d), shape)
        blocks = _gate_blocks(holds, gates)
        natural = (rows[blocks[0][0]], len(blocks) * d)  # (rows, blocks * d)
        M = flat[name].reshape(natural[::-1]).T if transposed else flat[name].reshape(natural)
        for k, (part, g) in enumerate(blocks):
            ours = _OURS.index(g)
            with np.errstate(over="ignore"):  # two biases summing beyond the dtype: checked below
                parts[part][:, ours * d:(ours + 1) * d] += M[:, k * d:(k + 1) * d]
    W = np.concatenate([parts["b"], parts["W_x"], parts["W_h"]])  # (1 + I + d, 4d)
    return _array(f"W from params for {framework!r}, whose two biases sum beyond {dtype},", W)


def to_pytorch_layout(W):
    """``to_layout(W, "pytorch")`` as a tuple: ``weight_ih, weight_hh, bias_ih, bias_hh``.

    Shapes ``(4 * hidden_size, input_size)``, ``(4 * hidden_size, hidden_size)``,
    ``(4 * hidden_size,)`` twice; gate order i, f, g, o; ``bias_hh`` is zeros.

    Examples
    --------
    >>> W = init_weights(10, 4, rng=0)
    >>> [a.shape for a in to_pytorch_layout(W)]
    [(16, 10), (16, 4), (16,), (16,)]
    >>> weight_ih, weight_hh, bias_ih, bias_hh = to_pytorch_layout(W)
    >>> bool(np.array_equal(weight_ih[8:12], W[1:11, 12:16].T))   # torch's g block is our 4th
    True
    """
    return tuple(to_layout(W, "pytorch").values())


def from_pytorch_layout(weight_ih, weight_hh, bias_ih, bias_hh):
    """``from_layout`` of ``torch.nn.LSTM``'s four parameters: fused ``W``, bias their sum.

    Examples
    --------
    >>> W = init_weights(10, 4, rng=0)
    >>> bool(np.array_equal(from_pytorch_layout(*to_pytorch_layout(W)), W))
    True
    """
    names = [row[0] for row in LAYOUTS["pytorch"]["arrays"]]
    return from_layout(dict(zip(names, (weight_ih, weight_hh, bias_ih, bias_hh))), "pytorch")


def find_gate_order(W, X, H, c0=None, h0=None, *, atol=1e-4):
    """The order of ``W``'s four gate blocks that reproduces ``H``, or None if none does.

    For debugging a conversion: ``W`` has our fused shape, but its column blocks may be in
    another framework's order. Each of the 24 orders is tried with :func:`forward`.

    Parameters
    ----------
    W : array_like, shape (1 + input_size + hidden_size, 4 * hidden_size)
    X : array_like, shape (n, b, input_size)
    H : array_like, shape (n, b, hidden_size)
        The outputs the weights should give (the framework's).
    c0, h0 : array_like, shape (b, hidden_size), optional
    atol : float, default 1e-4
        Largest difference from ``H`` that counts as reproducing it.

    Returns
    -------
    order : str or None
        The gates of ``W``'s blocks, e.g. ``"ifog"`` (ours), ``"ifgo"`` (PyTorch, Keras).

    Examples
    --------
    >>> W = init_weights(3, 2, rng=0)
    >>> X = np.sin(np.arange(4 * 1 * 3)).reshape(4, 1, 3)
    >>> H_keras = forward(X, W)[0]                 # what Keras computes with W converted right
    >>> k = to_layout(W, "keras")                  # a hand-written conversion back:
    >>> W_wrong = np.concatenate([k["bias"][None], k["kernel"], k["recurrent_kernel"]])
    >>> bool(np.allclose(forward(X, W_wrong)[0], H_keras))    # loads, computes something else
    False
    >>> find_gate_order(W_wrong, X, H_keras)                  # its blocks are in Keras's order
    'ifgo'
    >>> bool(np.allclose(forward(X, from_layout(k, "keras"))[0], H_keras))   # the fix
    True
    """
    W, H = _array("W", W, _FUSED, _FUSED_TEXT), _array("H", H)
    _, d = _fused_sizes(W)
    atol = _real("atol", atol, positive=True)
    best, order = np.inf, None
    for candidate in itertools.permutations(_OURS):
        columns = np.concatenate([np.arange(d) + d * candidate.index(g) for g in _OURS])
        H_candidate = forward(X, W[:, columns], c0, h0)[0]  # (n, b, d)
        _check_shape("H", H, H_candidate.shape, "(n, b, hidden_size) like forward's H")
        difference = np.abs(H_candidate - H).max()
        if difference <= atol and difference < best:
            best, order = difference, "".join(candidate)
    return order


# --- The cell baseline and the sequence model -----------------------------------------------------
# The textbook formulation: one matrix per gate and per source (x or h), eq-gates written out
# line by line. It shares no computation with the fused forward above, so stepping it through a
# sequence and comparing with forward() is a real check (check_cell_matches_fused). The bridge
# between the two: stacking the per-gate parameters in the gate order i, f, o, g gives W,
#
#   W = [[b_i,  b_f,  b_o,  b_g ],      row 0            (1, 4d)
#        [W_xi, W_xf, W_xo, W_xg],      input rows       (input_size, 4d)
#        [W_hi, W_hf, W_ho, W_hg]]      recurrent rows   (d, 4d)

# Every parameter of LSTMCell and LSTM: its name and its shape in words, in get_params' order.
# Shapes, checks and error messages all derive from this one table.
_PARAMS = {
    **{f"W_x{k}": ("input_size", "hidden_size") for k in _GATES},
    **{f"W_h{k}": ("hidden_size", "hidden_size") for k in _GATES},
    **{f"b_{k}": ("hidden_size",) for k in _GATES},
    "W_y": ("hidden_size", "output_size"),  # the model's output layer, when it has one
    "b_y": ("output_size",),
}
_CELL_PARAMS = tuple(name for name in _PARAMS if not name.endswith("_y"))


def _param_shapes(input_size, hidden_size, output_size=None):
    """``{name: shape}`` of every parameter, for these sizes (the output layer if any)."""
    sizes = {"input_size": input_size, "hidden_size": hidden_size, "output_size": output_size}
    return {name: tuple(sizes[s] for s in words) for name, words in _PARAMS.items()
            if output_size is not None or name in _CELL_PARAMS}


def _stack_gates(params):
    """Per-gate parameters -> the fused ``W`` (1 + input_size + d, 4d), by the picture above."""
    bias = np.concatenate([params[f"b_{k}"] for k in _GATES])[None]  # (1, 4d)
    W_x = np.concatenate([params[f"W_x{k}"] for k in _GATES], axis=1)  # (input_size, 4d)
    W_h = np.concatenate([params[f"W_h{k}"] for k in _GATES], axis=1)  # (d, 4d)
    return np.concatenate([bias, W_x, W_h])


def _split_gates(W, input_size):
    """The fused ``W`` -> per-gate parameters (fresh arrays): the picture above, read back."""
    d = W.shape[1] // 4
    rows = {"W_x": slice(1, 1 + input_size), "W_h": slice(1 + input_size, None), "b_": 0}
    return {part + gate: W[r, k * d:(k + 1) * d].copy()
            for part, r in rows.items() for k, gate in enumerate(_GATES)}


class LSTMCell:
    """One LSTM step in the textbook form: a matrix per gate, the equations line by line.

    Implements eq-gates, eq-cell and eq-hidden for one step, with row vectors (``x`` is
    ``(batch, input_size)``). Stacking the parameters in the gate order i, f, o, g gives the
    fused ``W`` of :func:`forward` (:meth:`to_weights`, :meth:`from_weights`). Initialization:
    Xavier-uniform ``W_x*``, orthogonal ``W_h*``, zero biases except ``b_f = forget_bias``
    (positive: the forget gate starts open, see :func:`init_weights`; 1.0 is Keras's
    ``unit_forget_bias``). The cell computes in its own dtype.

    Parameters
    ----------
    input_size, hidden_size : int
    forget_bias : float, default 1.0
    rng : None, int or numpy.random.Generator
    dtype : numpy floating dtype, default float64

    Attributes
    ----------
    W_xi, W_xf, W_xo, W_xg : ndarray, shape (input_size, hidden_size)
    W_hi, W_hf, W_ho, W_hg : ndarray, shape (hidden_size, hidden_size)
    b_i, b_f, b_o, b_g : ndarray, shape (hidden_size,)
    input_size, hidden_size, dtype

    Examples
    --------
    >>> cell = LSTMCell(3, 2, rng=0)
    >>> cell.W_xi.shape, cell.W_hi.shape, cell.b_f.tolist()    # the forget gate starts open
    ((3, 2), (2, 2), [1.0, 1.0])
    >>> x = np.arange(4 * 3).reshape(4, 3) / 12                 # (batch=4, input_size=3)
    >>> h, c = cell.forward(x)                                  # zero initial state; note (h, c)
    >>> H, c_fused, h_fused, _ = forward(x[None], cell.to_weights())   # the core, n = 1
    >>> bool(np.abs(h - h_fused).max() < 1e-12), bool(np.abs(c - c_fused).max() < 1e-12)
    (True, True)
    """

    def __init__(self, input_size, hidden_size, *, forget_bias=1.0, rng=None, dtype=np.float64):
        input_size, d = _size("input_size", input_size), _size("hidden_size", hidden_size)
        dtype, rng = _float_dtype(dtype), _generator(rng)
        forget_bias = _real("forget_bias", forget_bias, dtype)
        self._assign(_init_cell_params(input_size, d, forget_bias, rng, dtype))

    def _assign(self, params):
        """Store the per-gate parameters as attributes, and the sizes they imply."""
        for name in _CELL_PARAMS:
            setattr(self, name, params[name])
        self.input_size, self.hidden_size = self.W_xi.shape  # (input_size, d)
        self.dtype = self.W_xi.dtype

    def forward(self, x, h_prev=None, c_prev=None):
        """One step: ``(h, c)`` from the input ``x`` and the previous ``h_prev``, ``c_prev``.

        Implements eq-gates, eq-cell and eq-hidden. The order is ``(h, c)``, as in PyTorch's
        ``LSTMCell``; the fused core's is ``(c, h)``.

        Parameters
        ----------
        x : array_like, shape (batch, input_size)
            Batch first; any other layout is an error, never transposed.
        h_prev, c_prev : array_like, shape (batch, hidden_size), optional
            Zeros when omitted.

        Returns
        -------
        h, c : ndarray, shape (batch, hidden_size), of the cell's dtype

        Examples
        --------
        >>> cell = LSTMCell(2, 3, rng=0)
        >>> x = np.array([[0.5, -1.0]])                       # (batch=1, input_size=2)
        >>> h1, c1 = cell.forward(x)
        >>> h2, c2 = cell.forward(x, h1, c1)                  # carry the state to the next step
        >>> h2.shape, bool(np.all(np.abs(h2) < 1))            # |h| = |o tanh(c)| < 1
        ((1, 3), True)
        >>> cell.forward(x.T)                                 # (2, 1): the wrong layout
        Traceback (most recent call last):
        ...
        ValueError: x must have shape (batch, input_size) = (any, 2); got (2, 1)
        """
        x = _array("x", x, (None, self.input_size), "(batch, input_size)", self.dtype)
        h_prev = _state("h_prev", h_prev, (len(x), self.hidden_size), self.dtype)
        c_prev = _state("c_prev", c_prev, (len(x), self.hidden_size), self.dtype)
        i = sigmoid(x @ self.W_xi + h_prev @ self.W_hi + self.b_i)  # (b, d)  input gate   eq-gates
        f = sigmoid(x @ self.W_xf + h_prev @ self.W_hf + self.b_f)  # (b, d)  forget gate  eq-gates
        o = sigmoid(x @ self.W_xo + h_prev @ self.W_ho + self.b_o)  # (b, d)  output gate  eq-gates
        g = np.tanh(x @ self.W_xg + h_prev @ self.W_hg + self.b_g)  # (b, d)  candidate    eq-gates
        c = f * c_prev + i * g  # (b, d)  eq-cell
        h = o * np.tanh(c)  # (b, d)  eq-hidden
        return h, c

    def to_weights(self):
        """The fused ``W`` of :func:`forward`: the parameters moved, not computed.

        Returns
        -------
        W : ndarray, shape (1 + input_size + hidden_size, 4 * hidden_size)
            Row 0 ``[b_i, b_f, b_o, b_g]``, then ``[W_xi, .., W_xg]``, then ``[W_hi, .., W_hg]``.

        Examples
        --------
        >>> cell = LSTMCell(3, 2, rng=0)
        >>> W = cell.to_weights()
        >>> W.shape                                           # (1 + 3 + 2, 4 * 2)
        (6, 8)
        >>> bool(np.array_equal(W[4:, 6:8], cell.W_hg))       # recurrent rows, candidate block
        True
        """
        return _stack_gates({name: getattr(self, name) for name in _CELL_PARAMS})

    @classmethod
    def from_weights(cls, W):
        """A cell holding the parameters of a fused ``W`` (copies; it takes W's dtype).

        Examples
        --------
        >>> W = init_weights(3, 2, rng=0)
        >>> cell = LSTMCell.from_weights(W)
        >>> cell.input_size, cell.hidden_size, cell.b_f.tolist()   # init_weights' forget bias 3
        (3, 2, [3.0, 3.0])
        >>> bool(np.array_equal(cell.to_weights(), W))            # exact round trip
        True
        """
        W = _array("W", W, _FUSED, _FUSED_TEXT)
        input_size, _ = _fused_sizes(W)
        cell = cls.__new__(cls)
        cell._assign(_split_gates(W, input_size))
        return cell


# A model a user can train: the cell's parameters run over batch-first sequences by the fused
# core, plus an optional linear output layer  y_t = h_t @ W_y + b_y  (eq-output). The parameters
# live per gate in model.cell (the names from the equations); each forward stacks them into the
# fused W (a copy, negligible next to n steps of matrix products) and runs forward(), so the
# model is as fast and exact as the core; backward splits dW back into per-gate gradients.

_FILE_FORMAT = "lstm_reference.LSTM/1"  # the marker that tells our .npz files from foreign ones


class LSTM:
    """An LSTM over batch-first sequences, with an optional linear output layer; trainable.

    Implements eq-gates, eq-cell, eq-hidden for every step (on :func:`forward` and
    :func:`backward`) and ``Y = H @ W_y + b_y`` (eq-output) when ``output_size`` is given. The
    model computes in its own dtype: inputs of another type are converted, as Keras layers do.

    Parameters
    ----------
    input_size, hidden_size : int
    output_size : int, optional
        Size of the output layer; without it the outputs are the hidden states.
    forget_bias : float, default 1.0
        Initial forget-gate bias (see :class:`LSTMCell`).
    rng : None, int or numpy.random.Generator
    dtype : numpy floating dtype, default float64

    Attributes
    ----------
    cell : LSTMCell
        Holds ``W_x*, W_h*, b_*``.
    W_y, b_y : ndarray, shapes (hidden_size, output_size) and (output_size,), or None
    grads : dict
        Set by :meth:`backward`, keyed like :meth:`get_params`.
    input_size, hidden_size, output_size, dtype

    Examples
    --------
    >>> model = LSTM(input_size=3, hidden_size=4, output_size=2, rng=0)
    >>> X = np.arange(2 * 5 * 3).reshape(2, 5, 3) / 30       # (batch=2, seq_len=5, input_size=3)
    >>> Y = model.forward(X)                                   # one output per step
    >>> dX = model.backward(np.ones_like(Y))                   # gradients of Y.sum()
    >>> Y.shape, dX.shape, model.grads["W_hf"].shape, model.grads["W_y"].shape
    ((2, 5, 2), (2, 5, 3), (4, 4), (4, 2))
    """

    def __init__(self, input_size, hidden_size, output_size=None, *, forget_bias=1.0, rng=None,
                 dtype=np.float64):
        if output_size is not None:
            output_size = _size("output_size", output_size)
        rng = _generator(rng)
        self.cell = LSTMCell(input_size, hidden_size, forget_bias=forget_bias, rng=rng, dtype=dtype)
        self.input_size, self.hidden_size = self.cell.input_size, self.cell.hidden_size
        self.output_size, self.dtype = output_size, self.cell.dtype
        self.W_y = self.b_y = None
        if output_size is not None:
            self.W_y = xavier_uniform((self.hidden_size, output_size), rng=rng, dtype=dtype)
            self.b_y = np.zeros(output_size, dtype=dtype)  # (out,)
        self.grads = {}
        self._cache = None  # what backward needs from the last forward

    # -- parameters ------------------------------------------------------------------------------

    def get_params(self):
        """Copies of every parameter, by name: ``W_x*, W_h*, b_*`` and ``W_y, b_y`` if any.

        Examples
        --------
        >>> model = LSTM(3, 4, output_size=2, rng=0)
        >>> params = model.get_params()
        >>> list(params)
        ['W_xi', 'W_xf', 'W_xo', 'W_xg', 'W_hi', 'W_hf', 'W_ho', 'W_hg',
         'b_i', 'b_f', 'b_o', 'b_g', 'W_y', 'b_y']
        >>> params["b_f"] += 1.0                                  # a copy: the model is unchanged
        >>> model.cell.b_f.tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        return {name: value.copy() for name, value in self._params().items()}

    def _params(self):
        """Every parameter by name: the arrays themselves, not copies."""
        params = {name: getattr(self.cell, name) for name in _CELL_PARAMS}
        if self.output_size is not None:
            params.update(W_y=self.W_y, b_y=self.b_y)
        return params

    def set_params(self, params):
        """Replace every parameter with a copy of ``params[name]``, after checking all of them.

        ``params`` has exactly the names of :meth:`get_params`, each an array of that shape and
        of the model's dtype (a float64 array is not silently rounded into a float32 model).
        On any error (ValueError: a name or a shape; TypeError: a dtype) nothing is changed.

        Examples
        --------
        >>> model = LSTM(3, 4, rng=0)
        >>> params = model.get_params()
        >>> params["b_f"] = np.full(4, 3.0)                       # the core's forget bias
        >>> model.set_params(params)
        >>> model.cell.b_f.tolist()
        [3.0, 3.0, 3.0, 3.0]
        >>> model.set_params({**params, "b_f": np.zeros(5)})
        Traceback (most recent call last):
        ...
        ValueError: params['b_f'] must have shape (hidden_size,) = (4,); got (5,)
        """
        shapes = _param_shapes(self.input_size, self.hidden_size, self.output_size)
        checked = _params(params, shapes, self.dtype)
        self.cell._assign(checked)
        if self.output_size is not None:
            self.W_y, self.b_y = checked["W_y"], checked["b_y"]

    # -- forward and backward ----------------------------------------------------------------------

    def forward(self, X, return_sequences=True, return_state=False, *, h0=None, c0=None,
                lengths=None):
        """Run the model over a batch of sequences, batch first; remember what backward needs.

        Implements eq-gates, eq-cell, eq-hidden for every step, and eq-output.

        Parameters
        ----------
        X : array_like, shape (batch, seq_len, input_size)
        return_sequences : bool, default True
            Every step's output ``(batch, seq_len, out)``, or each sequence's last ``(batch, out)``
            (``out``: ``output_size``, or ``hidden_size`` without an output layer).
        return_state : bool, default False
            Also return the final ``h, c`` (in that order, as PyTorch).
        h0, c0 : array_like, shape (batch, hidden_size), optional, keyword only
        lengths : array_like of int, shape (batch,), optional, keyword only
            Steps of each sequence, in 1..seq_len; outputs at padded steps are 0.

        Returns
        -------
        Y, or (Y, h, c) with ``return_state``

        Examples
        --------
        >>> model = LSTM(3, 4, output_size=2, rng=0)
        >>> X = np.arange(2 * 6 * 3).reshape(2, 6, 3) / 36      # (batch=2, seq_len=6, input_size=3)
        >>> Y, h, c = model.forward(X, return_state=True)
        >>> Y.shape, h.shape, c.shape
        ((2, 6, 2), (2, 4), (2, 4))
        >>> Y = model.forward(X, lengths=[6, 4])                   # the second is 4 steps long
        >>> Y[1, 4:].tolist()                                     # padded steps: 0
        [[0.0, 0.0], [0.0, 0.0]]
        """
        X = _array("X", X, (None, None, self.input_size),
                   "(batch, seq_len, input_size), batch first,", self.dtype, sequences=True)
        _flag("return_sequences", return_sequences)
        _flag("return_state", return_state)
        b, n = X.shape[:2]  # batch, time
        lengths = _lengths(lengths, n, b)
        X_tm = X.transpose(1, 0, 2).copy()  # (n, b, input_size)  time-major, private to the cache
        H, c, h, cache = forward(X_tm, self.cell.to_weights(), c0, h0, lengths=lengths)
        running = np.arange(n) < lengths[:, None]  # (b, n)  False at padded steps
        W_y, b_y = (None, None) if self.W_y is None else (self.W_y.copy(), self.b_y.copy())
        outputs = H.transpose(1, 0, 2) if return_sequences else h  # (b, n, d) or (b, d)
        Y = outputs.copy() if W_y is None else outputs @ W_y + b_y  # eq-output
        if return_sequences:
            Y *= running[..., None]  # padded steps: 0, the output layer not applied there
        self._cache = {"cache": cache, "H": H, "h": h.copy(), "W_y": W_y, "running": running,
                       "Y_shape": Y.shape, "return_sequences": return_sequences}
        return (Y, h, c) if return_state else Y

    def backward(self, dY, *, dh=None, dc=None):
        """Gradients through the last :meth:`forward`; returns ``dX`` and sets ``self.grads``.

        Implements eq-output in reverse, then :func:`backward`, and splits ``dW`` into the
        per-gate gradients (of the parameters as they were at that forward call).

        Parameters
        ----------
        dY : array_like, shaped like the last forward's output
            dLoss/dY; entries at padded steps are ignored.
        dh, dc : array_like, shape (batch, hidden_size), optional, keyword only
            dLoss/dh and dLoss/dc of the final states (with ``return_state``); zeros if omitted.

        Returns
        -------
        dX : ndarray, shape (batch, seq_len, input_size)

        Examples
        --------
        >>> model = LSTM(2, 3, output_size=1, rng=0)
        >>> X = np.arange(1 * 4 * 2).reshape(1, 4, 2) / 8       # (batch=1, seq_len=4, input_size=2)
        >>> y = model.forward(X, return_sequences=False)          # (1, 1): the last step
        >>> dX = model.backward(np.ones_like(y))                   # gradients of y.sum()
        >>> dX.shape, model.grads["W_hf"].shape
        ((1, 4, 2), (3, 3))
        """
        if self._cache is None:
            raise ValueError("backward needs a forward call first: it differentiates the last one")
        last = self._cache
        H, W_y = last["H"], last["W_y"]  # (n, b, d), (d, out) or None
        n, b, d = H.shape  # time, batch, hidden
        meaning = "(batch, seq_len, out)" if last["return_sequences"] else "(batch, out)"
        dY = _array("dY", dY, last["Y_shape"], meaning + " like the last forward's output",
                    self.dtype)
        dh = _state("dh", dh, (b, d), self.dtype)
        dc = _state("dc", dc, (b, d), self.dtype)

        grads = {}
        if last["return_sequences"]:
            dY_tm = (dY * last["running"][..., None]).transpose(1, 0, 2)  # (n, b, out)
            dH = dY_tm if W_y is None else dY_tm @ W_y.T  # (n, b, d)  eq-output, reversed
            if W_y is not None:
                grads["W_y"] = H.reshape(n * b, d).T @ dY_tm.reshape(n * b, -1)  # (d, out)
                grads["b_y"] = dY_tm.sum(axis=(0, 1))  # (out,)
        else:  # the only output is the final h's, so its gradient joins dh
            dH = np.zeros_like(H)  # (n, b, d)
            dh = dh + (dY if W_y is None else dY @ W_y.T)  # (b, d)
            if W_y is not None:
                grads["W_y"], grads["b_y"] = last["h"].T @ dY, dY.sum(axis=0)  # (d, out), (out,)
        dX_tm, dW, _, _ = backward(dH, last["cache"], dc=dc, dh=dh)  # the fused core
        self.grads = {**_split_gates(dW, self.input_size), **grads}
        return dX_tm.transpose(1, 0, 2).copy()  # (b, n, input_size)

    # -- files -------------------------------------------------------------------------------------

    def save(self, path):
        """Write the sizes and every parameter to one ``.npz`` file, atomically.

        The file holds the arrays of :meth:`get_params`, ``"sizes"`` = ``[input_size,
        hidden_size, output_size or 0]`` and ``"format"``, a marker :meth:`load` checks; no
        pickled objects. Every parameter is checked before anything is written. The file is
        written beside the target under a temporary name, then renamed over it: a save that
        fails (a full disk) leaves the file that was there as it was, and no temporary file.

        Parameters
        ----------
        path : str or os.PathLike or file
            ``.npz`` is appended to a path that lacks it, as ``numpy.savez`` does. An
            existing file keeps its permission bits. A binary file object is written in place.

        Raises
        ------
        TypeError
            A parameter is not an array of the model's dtype (an attribute was assigned
            directly); the message names it, and nothing has been written.
        ValueError
            A parameter has the wrong shape; likewise.

        Examples
        --------
        >>> import os, tempfile
        >>> model = LSTM(3, 4, output_size=2, rng=0)
        >>> X = np.arange(2 * 5 * 3).reshape(2, 5, 3) / 30
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "model.npz")
        ...     model.save(path)
        ...     loaded = LSTM.load(path)
        >>> bool(np.array_equal(loaded.forward(X), model.forward(X)))   # bit for bit
        True
        """
        sizes = {s: getattr(self, s) for s in ("input_size", "hidden_size", "output_size")}
        for s, size in sizes.items():
            if size is not None:
                _size(f"model.{s}", size)
        shapes = _param_shapes(**sizes)
        where = {name: f"model.cell.{name}" if name in _CELL_PARAMS else f"model.{name}"
                 for name in shapes}
        params = _params(self._params(), shapes, self.dtype, where=where, copy=False)
        sizes = np.array([self.input_size, self.hidden_size, self.output_size or 0], dtype=np.int64)
        arrays = {"format": np.array(_FILE_FORMAT), "sizes": sizes, **params}
        if isinstance(path, (str, bytes, os.PathLike)):
            _write_atomically(path, arrays)
        else:
            np.savez(path, **arrays)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`, checking every member before reading its data.

        Reads only the members a model file has, and of each its ``.npy`` header first: the
        dtype and shape must match the sizes before any data is read, and the data must all be
        there before it is kept, so a hostile file cannot make ``load`` allocate more than the
        model it holds. No pickle: loading a file never runs code. A big-endian file loads as a
        model of the native dtype.

        Parameters
        ----------
        path : str or os.PathLike or file
            A file object must be binary and seekable.

        Returns
        -------
        LSTM

        Raises
        ------
        ValueError
            Anything but a file :meth:`save` writes: not a zip, a damaged, encrypted or
            compressed (but by deflate) member, an unknown, duplicate, missing or misshapen
            entry, pickled objects; the message says what is wrong.
        OSError
            The path cannot be opened (``FileNotFoundError`` if it does not exist).

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:          # doctest: +ELLIPSIS
        ...     path = os.path.join(folder, "other.npz")
        ...     np.savez(path, weights=np.zeros(3))                 # not an LSTM file
        ...     LSTM.load(path)
        Traceback (most recent call last):
        ...
        ValueError: ... is not an LSTM file written by LSTM.save: no 'format' entry
        """
        # a path we open and close ourselves; a file object stays the caller's
        if not isinstance(path, (str, bytes, os.PathLike)) and not hasattr(path, "read"):
            raise TypeError(f"path must be a file name or a binary file; got {type(path).__name__}")
        file = open(path, "rb") if isinstance(path, (str, bytes, os.PathLike)) else path
        try:
            return cls._from_arrays(*_read_model_file(file))
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path} is not an LSTM file written by LSTM.save: {error}") from error
        except (EOFError, OSError, NotImplementedError, zipfile.BadZipFile, zlib.error) as error:
            # what zipfile and zlib raise on a damaged archive
            raise ValueError(f"{path} is not an LSTM file written by LSTM.save: a damaged zip "
                             f"archive ({type(error).__name__}: {error})") from error
        finally:
            if file is not path:
                file.close()

    @classmethod
    def _from_arrays(cls, sizes, params):
        """A model of ``sizes = (input_size, hidden_size, output_size)`` holding ``params``."""
        model = cls(*sizes, rng=0, dtype=params["W_xi"].dtype)
        model.set_params(params)  # checks every name, shape and dtype again
        return model


# Reading a file only as far as it is safe: a zip names its members and declares their sizes
# before their data, and an .npy member declares its dtype and shape in a short header before
# its data. Every declaration is checked against what a model file of these sizes holds before
# the next byte is read; the data is read twice, first to check it is all there, then to keep it.
_MAX_DIRECTORY = 1 << 16  # bytes of zip directory; a model file's (at most 16 members) has ~1 KB
_MAX_HEADER = 10_000  # bytes of .npy header, NumPy's own limit; ours have ~128
_CHUNK = 1 << 20  # bytes read at a time


def _write_atomically(path, arrays):
    """``np.savez(path, **arrays)``, written under a temporary name beside ``path`` and renamed
    over it when complete; the temporary file is removed if anything fails."""
    path = os.fsdecode(path)
    path = os.path.realpath(path if path.endswith(".npz") else path + ".npz")  # through a link
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.{secrets.token_hex(8)}.tmp")
    # a new file (O_EXCL), with the permissions open() would give it (0o666 less the umask)
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            np.savez(file, **arrays)
            file.flush()
            os.fsync(file.fileno())  # on disk before the rename makes it the file
        with contextlib.suppress(FileNotFoundError):
            shutil.copymode(path, temp)  # a file replaced keeps its permissions
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise


def _read_model_file(file):
    """The sizes ``(input_size, hidden_size, output_size)`` and the parameters of a model
    file; ValueError (or what zipfile raises) if it is anything else."""
    _check_zip_directory(file)
    with zipfile.ZipFile(file) as archive:
        members = {}
        for info in archive.infolist():  # a dict would keep only the last of two equal names
            if not info.filename.endswith(".npy"):
                raise ValueError(f"member {info.filename!r} is not an .npy array")
            if info.filename[:-4] in members:
                raise ValueError(f"member {info.filename!r} appears twice")
            members[info.filename[:-4]] = info
        if "format" not in members:
            raise ValueError("no 'format' entry")
        marker = _read_member(archive, members["format"], _check_marker)
        if str(marker) != _FILE_FORMAT:
            raise ValueError(f"'format' must be {_FILE_FORMAT!r}; got {str(marker)!r}")
        sizes = _read_sizes(archive, members.get("sizes"))
        shapes = _param_shapes(*sizes)
        unknown = sorted(set(members) - set(shapes) - {"format", "sizes"})
        if unknown:
            raise ValueError(f"members other than a model's are refused unread; "
                             f"unknown: {unknown}")
        params = {}
        for name, shape in shapes.items():
            check = functools.partial(_check_param, name, shape, params.get("W_xi"),
                                      [sizes[0], sizes[1], sizes[2] or 0])
            if name not in members:
                check(None, "no such entry")
            params[name] = _read_member(archive, members[name], check)
    return sizes, params


def _check_zip_directory(file):
    """Refuse a zip whose directory is larger than a model file's before zipfile reads it:
    zipfile builds an object per entry, some 500 bytes each."""
    file.seek(0, os.SEEK_END)
    file.seek(max(0, file.tell() - 98))
    tail = file.read()  # the zip64 end record (56 bytes) and locator (20), the end record (22)
    if len(tail) < 22 or tail[-22:-18] != b"PK\x05\x06" or tail[-2:] != b"\0\0":
        raise ValueError("not a zip archive (.npz) ending in a zip end record without comment")
    directory = int.from_bytes(tail[-10:-6], "little")
    if len(tail) == 98 and tail[-42:-38] == b"PK\x06\x07":  # zipfile reads the zip64 record
        directory = max(directory, int.from_bytes(tail[40:48], "little"))
    if directory > _MAX_DIRECTORY:
        raise ValueError(f"its zip directory takes {directory} bytes; "
                         f"a model file's takes less than {_MAX_DIRECTORY}")


def _read_member(archive, info, check):
    """One ``.npy`` member as a native-byte-order array; ``check(dtype, shape)`` raises a
    ValueError before any data is read if the header is not the one expected."""
    name = info.filename[:-4]
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ValueError(f"member {info.filename!r} has compression method {info.compress_type}; "
                         f"a model file's are stored (0) or deflated (8)")
    if info.flag_bits & 0x1:
        raise ValueError(f"member {info.filename!r} is encrypted")
    with archive.open(info) as stream:
        try:
            dtype, shape, fortran, header_size = _read_npy_header(stream)
        except ValueError as error:
            raise ValueError(f"entry {name!r}: {error}") from error
        if dtype.hasobject:
            raise ValueError(f"entry {name!r} is not a plain array, refused (pickled objects are "
                             f"never loaded: unpickling can run arbitrary code)")
        check(dtype, shape)
        nbytes = dtype.itemsize * math.prod(shape)
        if info.file_size != header_size + nbytes:
            raise ValueError(f"entry {name!r} holds {info.file_size - header_size} bytes of "
                             f"data; its header, {dtype} {shape}, needs {nbytes}")
        _read_exactly(stream, nbytes, name)  # all there? (zipfile checks the CRC at the end)
    data = np.empty(nbytes, dtype=np.uint8)  # (nbytes,)
    with archive.open(info) as stream:
        stream.read(header_size)
        _read_exactly(stream, nbytes, name, into=memoryview(data))
    array = data.view(dtype).reshape(shape, order="F" if fortran else "C")
    return array if dtype.isnative else array.astype(dtype.newbyteorder("="))


def _read_npy_header(stream):
    """``(dtype, shape, fortran_order, header size in bytes)`` of an ``.npy`` stream, reading
    no more than the header; ValueError if it is not one."""
    version = np.lib.format.read_magic(stream)
    if version not in ((1, 0), (2, 0)):  # 3.0 is for structured dtypes, never ours
        raise ValueError(f".npy format version {version}; ours are 1.0")
    length_bytes = stream.read(2 if version == (1, 0) else 4)
    length = int.from_bytes(length_bytes, "little")
    if length > _MAX_HEADER:
        raise ValueError(f"an .npy header of {length} bytes; at most {_MAX_HEADER} are read")
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, fortran, dtype = read_header(io.BytesIO(length_bytes + stream.read(length)))
    return dtype, shape, fortran, np.lib.format.MAGIC_LEN + len(length_bytes) + length


def _read_exactly(stream, nbytes, name, into=None):
    """Read ``nbytes`` from ``stream`` ``into`` a buffer, or only count them, _CHUNK at a time;
    ValueError unless there are exactly that many."""
    done = 0
    while done < nbytes:
        try:
            count = (len(stream.read(min(_CHUNK, nbytes - done))) if into is None
                     else stream.readinto(into[done:done + _CHUNK]))
        except EOFError:  # zipfile's word for a member that ends before its declared size
            count = 0
        if not count:
            raise ValueError(f"entry {name!r} ends after {done} of its {nbytes} bytes of data")
        done += count
    if stream.read(1):
        raise ValueError(f"entry {name!r} holds more than its {nbytes} bytes of data")


def _check_marker(dtype, shape):
    """The ``format`` entry is one short unicode string."""
    if dtype.kind != "U" or shape != () or not 0 < dtype.itemsize <= 4 * 100:
        raise ValueError(f"'format' must be {_FILE_FORMAT!r}; got an array of dtype {dtype}, "
                         f"shape {shape}")


def _read_sizes(archive, info):
    """``(input_size, hidden_size, output_size or None)`` from the ``sizes`` member."""
    expected = "'sizes' must be 3 integers [input_size, hidden_size, output_size or 0]"

    def check(dtype, shape):
        if dtype.kind not in "iu" or shape != (3,):
            raise ValueError(f"{expected}; got an array of dtype {dtype}, shape {shape}")

    if info is None:
        raise ValueError(f"{expected}; got no such entry")
    input_size, hidden_size, output_size = (int(s) for s in _read_member(archive, info, check))
    if input_size < 1 or hidden_size < 1 or output_size < 0:
        raise ValueError(f"{expected}, the first two positive; "
                         f"got {[input_size, hidden_size, output_size]}")
    return input_size, hidden_size, output_size or None


def _check_param(name, expected, W_xi, sizes, dtype, shape):
    """A parameter entry has its shape for these sizes, and the floating dtype of ``W_xi``
    (the first one read), in either byte order."""
    if shape != expected:
        raise ValueError(f"entry {name!r} must have shape {expected} for sizes {sizes}; "
                         f"got {shape}")
    if W_xi is None and dtype.kind != "f":
        raise ValueError(f"entry {name!r} dtype must be a floating-point type; got {dtype}")
    if W_xi is not None and dtype.newbyteorder("=") != W_xi.dtype:
        raise ValueError(f"entry {name!r} must have dtype {W_xi.dtype} like 'W_xi'; got {dtype}")


# --- Verification ---------------------------------------------------------------------------------
# The checks below are the oracle: each compares two computations that share as little code as
# possible, and returns a number. `python lstm_reference.py` runs them all (see _self_checks).


def numerical_gradient(f, x, delta=None):
    """Central differences: ``(f(x + h) - f(x - h)) / (2h)`` for each element of ``x`` in turn.

    The step is ``h = delta * max(1, |x|)``, and the quotient divides by the step as it was
    rounded in ``x``'s dtype, so float32 and float16 points are differentiated correctly. The
    default ``delta`` is ``(3 eps) ** (1/3)`` of that dtype (8.7e-6 in float64, 7e-3 in
    float32), where the truncation error (order h^2) and the round-off (order eps / h) balance
    (docs: Verification, eq-fd-error). ``x`` itself is never modified.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : array_like
        The point; integers become float64.
    delta : float > 0, optional

    Returns
    -------
    ndarray shaped like ``x``, float64

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> numerical_gradient(lambda v: (v ** 2).sum(), x).round(6).tolist()   # d/dx x^2 = 2x
    [2.0, 4.0, 6.0]
    >>> numerical_gradient(np.sum, np.float32([300, 1])).round(2).tolist()   # float32 too
    [1.0, 1.0]
    """
    x = _array("x", x)
    eps = np.finfo(x.dtype).eps
    delta = (3 * eps) ** (1 / 3) if delta is None else _real("delta", delta, positive=True)
    probe = x.copy()
    grad = np.empty(x.shape)
    for index in np.ndindex(x.shape):
        h = delta * max(1.0, abs(float(x[index])))
        with np.errstate(over="ignore"):  # checked below
            x_plus, x_minus = np.array([x[index] + h, x[index] - h]).astype(x.dtype)  # rounded
        step = float(x_plus) - float(x_minus)  # inf if a probe overflowed; 0 if both rounded to x
        if not 0 < step < math.inf:
            raise ValueError(f"delta={delta} gives no usable step in {x.dtype} at x{list(index)}"
                             f" = {x[index]}")
        probe[index] = x_plus
        f_plus = f(probe)
        probe[index] = x_minus
        f_minus = f(probe)
        probe[index] = x[index]
        grad[index] = (float(f_plus) - float(f_minus)) / step  # the step as rounded, not 2 h
    return grad


def relative_error(a, b, floor=0.0):
    """Elementwise ``|a - b| / max(|a| + |b|, floor)``: in [0, 1], and 0 where both are 0.

    Above ``floor`` it is relative; below, an absolute error scaled by ``1 / floor``, for
    elements that are zero up to round-off. (The textbook ``|a - b| / |a + b|`` is 0/0 when both
    are zero.) Right for every finite input, without overflow.

    Examples
    --------
    >>> relative_error([1.0, 0.0, 1.0], [1.0, 0.0, -1.0]).tolist()
    [0.0, 0.0, 1.0]
    >>> round(float(relative_error(1.7e308, 1e308)), 3)       # no overflow in |a| + |b|
    0.259
    >>> float(relative_error(1e-12, 2e-12, floor=1e-3))        # an absolute error, scaled
    1e-09
    """
    a, b = _array("a", a), _array("b", b)
    floor = _real("floor", floor)
    if floor < 0:
        raise ValueError(f"floor must be at least 0; got {floor}")
    dtype = np.result_type(a, b, np.float64)  # float16 and float32 are exact in float64
    # Halve values above 1 (exactly: no rounding there), so that |a| + |b| cannot overflow.
    scale = np.where(np.maximum(np.abs(a), np.abs(b)) > 1, 0.5, 1.0).astype(dtype)
    a, b = a * scale, b * scale
    denominator = np.maximum(np.abs(a) + np.abs(b), floor * scale)
    return np.divide(np.abs(a - b), denominator, out=np.zeros_like(denominator),
                     where=denominator > 0)


def _gradient_errors(loss, point, analytic, delta, floor):
    """The largest :func:`relative_error` between ``analytic[name]`` and central differences of
    ``loss(**point)`` in ``point[name]``, for every name."""
    errors = {}
    for name, value in point.items():
        def loss_of(v, name=name):  # the loss as a function of this one argument
            return loss(**{**point, name: v})

        numeric = numerical_gradient(loss_of, value, delta)
        errors[name] = float(relative_error(analytic[name], numeric, floor).max())
    return errors


def _random_problem(n, b, input_size, hidden_size, seed, dtype=np.float64):
    """Inputs for the checks: X, W (with a nonzero bias), c0, h0 and a loss weighting R."""
    n, b, rng = _size("n", n), _size("b", b), np.random.default_rng(_size("seed", seed, 0))
    W = init_weights(input_size, hidden_size, rng=rng, dtype=dtype)
    W[0] += 0.1 * rng.standard_normal(4 * hidden_size)  # exercise every bias entry
    X = rng.standard_normal((n, b, input_size)).astype(dtype)
    c0, h0 = (rng.standard_normal((b, hidden_size)).astype(dtype) for _ in range(2))
    R = rng.standard_normal((n, b, hidden_size)).astype(dtype)
    return X, W, c0, h0, R


def check_sequential_matches_batch(n=5, b=3, input_size=10, hidden_size=4, *, seed=0):
    """Max abs difference between one :func:`forward` call and n one-step calls carrying ``c, h``.

    The one-step calls are independent of the loop in :func:`forward`; they must agree to
    round-off (< 1e-12 in float64).

    Examples
    --------
    >>> check_sequential_matches_batch() < 1e-12
    True
    """
    X, W, c0, h0, _ = _random_problem(_size("n", n), b, input_size, hidden_size, seed)
    H, c, h, _ = forward(X, W, c0, h0)
    steps, c_t, h_t = [], c0, h0
    for t in range(n):
        H_t, c_t, h_t, _ = forward(X[t:t + 1], W, c_t, h_t)
        steps.append(H_t[0])
    return float(max(np.abs(H - np.stack(steps)).max(), np.abs(c - c_t).max(),
                     np.abs(h - h_t).max()))


def check_gradients(n=5, b=3, input_size=10, hidden_size=4, *, lengths=None, seed=0, delta=1e-5,
                    floor=1e-3):
    """Largest :func:`relative_error` (with ``floor``) of :func:`backward` against central
    differences, for every element of X, W, c0, h0.

    The loss is ``sum(H * R) + sum(c * Rc) + sum(h * Rh)`` with fixed random ``R, Rc, Rh``, so
    the state gradients ``dc, dh`` are checked too; ``lengths`` checks padded batches. Central
    differences carry about 4e-11 of absolute noise, hence the floor: below it the error is
    absolute, scaled by ``1 / floor`` (< 1e-6 means ``|a - n| < 1e-9`` there).

    Returns
    -------
    dict
        ``{"X": err, "W": err, "c0": err, "h0": err}``.

    Examples
    --------
    >>> errors = check_gradients()
    >>> sorted(errors), all(e < 1e-6 for e in errors.values())
    (['W', 'X', 'c0', 'h0'], True)
    >>> max(check_gradients(n=4, b=3, lengths=[4, 1, 3]).values()) < 1e-6
    True
    """
    X, W, c0, h0, R = _random_problem(_size("n", n), b, input_size, hidden_size, seed)
    Rc, Rh = np.random.default_rng(_size("seed", seed, 0) + 1).standard_normal((2, b, hidden_size))

    def loss(X, W, c0, h0):
        H, c, h, _ = forward(X, W, c0, h0, lengths=lengths)
        return np.sum(H * R) + np.sum(c * Rc) + np.sum(h * Rh)

    cache = forward(X, W, c0, h0, lengths=lengths)[3]
    analytic = dict(zip(("X", "W", "c0", "h0"), backward(R, cache, dc=Rc, dh=Rh)))
    return _gradient_errors(loss, {"X": X, "W": W, "c0": c0, "h0": h0}, analytic, delta, floor)


def check_chunks_match_single_call(n=5, b=3, input_size=10, hidden_size=4, *, split=2, seed=0):
    """Max abs difference between one forward/backward call and two chunks split at ``split``.

    The first chunk's final ``c, h`` start the second; the second chunk's ``dc0, dh0`` end the
    first's backward. Outputs, final states and every gradient are compared.

    Examples
    --------
    >>> check_chunks_match_single_call() < 1e-12
    True
    """
    n = _size("n", n)
    if _size("split", split) > n - 1:
        raise ValueError(f"split must be in 1..n-1 = 1..{n - 1}, so that both chunks have a "
                         f"step; got {split}")
    X, W, c0, h0, R = _random_problem(n, b, input_size, hidden_size, seed)
    H, c, h, cache = forward(X, W, c0, h0)
    dX, dW, dc0, dh0 = backward(R, cache)
    H1, c1, h1, cache1 = forward(X[:split], W, c0, h0)
    H2, c2, h2, cache2 = forward(X[split:], W, c1, h1)
    dX2, dW2, dc1, dh1 = backward(R[split:], cache2)
    dX1, dW1, dc0_1, dh0_1 = backward(R[:split], cache1, dc1, dh1)
    pairs = [(H, np.concatenate([H1, H2])), (c, c2), (h, h2), (dX, np.concatenate([dX1, dX2])),
             (dW, dW1 + dW2), (dc0, dc0_1), (dh0, dh0_1)]
    return float(max(np.abs(a - b).max() for a, b in pairs))


def check_pytorch_layout_roundtrip(input_size=10, hidden_size=4, *, seed=0):
    """Max abs difference after ``W -> to_pytorch_layout -> from_pytorch_layout``, and between
    the gates computed from the PyTorch-layout arrays (``x W_ih^T + h W_hh^T + b``, order i, f,
    g, o) and ours. Both must be exactly 0: the conversion only moves numbers.

    Examples
    --------
    >>> check_pytorch_layout_roundtrip()
    0.0
    """
    X, W, c0, h0, _ = _random_problem(1, 3, input_size, hidden_size, seed)
    weight_ih, weight_hh, bias_ih, bias_hh = to_pytorch_layout(W)
    d = hidden_size
    xh = np.concatenate([np.ones((3, 1)), X[0], h0], axis=1)  # (b, 1 + input_size + d)
    z_ours = xh @ W  # (b, 4d)  i f o g
    z_torch = xh @ np.concatenate([(bias_ih + bias_hh)[None], weight_ih.T, weight_hh.T])
    z_torch = np.concatenate(  # (b, 4d)  i f g o -> i f o g
        [z_torch[:, :2 * d], z_torch[:, 3 * d:], z_torch[:, 2 * d:3 * d]], axis=1)
    roundtrip = from_pytorch_layout(weight_ih, weight_hh, bias_ih, bias_hh)
    return float(max(np.abs(roundtrip - W).max(), np.abs(z_torch - z_ours).max()))


def check_extremes(n=5000, b=2, input_size=3, hidden_size=4, *, seed=0):
    """True if extreme but finite inputs give finite results, with no floating-point error.

    Three cases, with NumPy's floating-point errors set to raise (forward silences overflow
    while it computes the gates and states, where an infinite pre-activation or exp gives the
    right limit): weights x 1e4 in float64 and float32; an input weight of the candidate gate
    at 3/4 of the dtype's maximum; n steps. Backward runs with no error silenced.

    Examples
    --------
    >>> check_extremes(n=200)
    True
    """
    results = []
    with np.errstate(all="raise", under="ignore"):
        for dtype in (np.float64, np.float32):
            X, W, c0, h0, R = _random_problem(7, b, input_size, hidden_size, seed, dtype)
            W_huge = W.copy()
            W_huge[1, 3 * hidden_size] = 0.75 * np.finfo(dtype).max  # -2W would overflow
            for X_, W_ in ((X, W * dtype(1e4)), (X / dtype(4), W_huge)):
                H, c, h, cache = forward(X_, W_, c0, h0)
                results += [H, c, h, *backward(R, cache)]
        X, W, c0, h0, R = _random_problem(n, b, input_size, hidden_size, seed)
        H, c, h, cache = forward(X, W, c0, h0)
        results += [H, c, h, *backward(R, cache)]
    return bool(all(np.isfinite(a).all() for a in results))


def check_cell_matches_fused(n=5, b=3, input_size=10, hidden_size=4, *, seed=0):
    """Max abs difference between :class:`LSTMCell` stepped through a sequence and :func:`forward`.

    The cell is built from a fused ``W`` with a nonzero bias everywhere and stepped by hand from
    random ``h0, c0``; every ``h_t``, the final ``c, h`` and ``to_weights() == W`` are compared.
    The two share no code, so they must agree to round-off (< 1e-12 in float64).

    Examples
    --------
    >>> check_cell_matches_fused() < 1e-12
    True
    """
    X, W, c0, h0, _ = _random_problem(_size("n", n), b, input_size, hidden_size, seed)
    H, c, h, _ = forward(X, W, c0, h0)  # the core: state order (c, h)
    cell = LSTMCell.from_weights(W)
    h_t, c_t = h0, c0
    differences = [np.abs(cell.to_weights() - W).max()]
    for t in range(n):
        h_t, c_t = cell.forward(X[t], h_t, c_t)  # the cell: state order (h, c)
        differences.append(np.abs(h_t - H[t]).max())
    differences += [np.abs(c_t - c).max(), np.abs(h_t - h).max()]
    return float(max(differences))


def check_model_gradients(batch=3, seq_len=4, input_size=5, hidden_size=4, output_size=3, *,
                          return_sequences=True, return_state=True, lengths=None, seed=0,
                          delta=1e-5, floor=1e-3):
    """Largest :func:`relative_error` of :meth:`LSTM.backward` against central differences,
    for every parameter and ``X`` (measured as in :func:`check_gradients`).

    The loss is ``sum(Y * R)``, plus ``sum(h * Rh) + sum(c * Rc)`` with ``return_state``, for
    fixed random ``R, Rh, Rc``, from random ``h0, c0`` and a nonzero bias everywhere.

    Examples
    --------
    >>> errors = check_model_gradients()
    >>> sorted(errors)[:4], len(errors)                     # 14 parameters and X
    (['W_hf', 'W_hg', 'W_hi', 'W_ho'], 15)
    >>> all(e < 1e-6 for e in
    ...     check_model_gradients(return_sequences=False, output_size=None).values())
    True
    """
    _flag("return_state", return_state)
    batch, seq_len = _size("batch", batch), _size("seq_len", seq_len)
    rng = np.random.default_rng(_size("seed", seed, 0))
    model = LSTM(input_size, hidden_size, output_size, rng=rng)
    params = model.get_params()
    for k in _GATES:  # exercise every bias
        params[f"b_{k}"] = params[f"b_{k}"] + 0.1 * rng.standard_normal(hidden_size)
    X = rng.standard_normal((batch, seq_len, input_size))
    h0, c0, Rh, Rc = rng.standard_normal((4, batch, hidden_size))
    out = output_size or hidden_size
    R = rng.standard_normal((batch, seq_len, out) if return_sequences else (batch, out))

    def loss(X, **params):
        model.set_params(params)
        Y, h, c = model.forward(X, return_sequences, True, h0=h0, c0=c0, lengths=lengths)
        return np.sum(Y * R) + (np.sum(h * Rh) + np.sum(c * Rc) if return_state else 0.0)

    loss(X, **params)
    dh, dc = (Rh, Rc) if return_state else (None, None)
    analytic = {"X": model.backward(R, dh=dh, dc=dc), **model.grads}
    return _gradient_errors(loss, {"X": X, **params}, analytic, delta, floor)


# --- Input checking -------------------------------------------------------------------------------
# Every public function checks its arguments first, in a line or two, with one helper per kind
# of argument: arrays, states, sizes, lengths, real scalars, flags, and the rest below. Bad input
# fails with a message that names the argument and the shape expected, and nothing is changed.

_FUSED = (None, None)  # W's shape is checked in full by _fused_sizes
_FUSED_TEXT = "(1 + input_size + hidden_size, 4 * hidden_size)"


def _shape_text(shape):
    """``(5, 3, None)`` -> ``'(5, 3, any)'``; ``('hidden_size',)`` -> ``'(hidden_size,)'``."""
    return ("(" + ", ".join("any" if s is None else str(s) for s in shape)
            + ("," if len(shape) == 1 else "") + ")")


def _plain(name, value, holding):
    """``np.asarray(value)``; a masked or ragged ``value`` is a TypeError."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} must be a plain array, not a masked array: its mask would be "
                        f"ignored. For sequences of different lengths, pass lengths=")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # NumPy 1 only warns about ragged input
        try:
            return np.asarray(value)
        except (TypeError, ValueError, Warning) as error:
            raise TypeError(f"{name} must be an array of {holding}; got {type(value).__name__}"
                            ) from error


def _floats(name, value):
    """``np.asarray(value)`` that insists on real numbers; integers become float64."""
    array = _plain(name, value, "real numbers")
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers; got dtype {array.dtype}")
    return array


def _array(name, value, shape=None, meaning="", dtype=None, *, sequences=False):
    """A finite real array of ``shape`` (None matches any size), converted to ``dtype`` if given;
    with ``sequences``, a batch holding at least one sequence of one step."""
    array = _floats(name, value)
    if shape is not None:
        _check_shape(name, array, shape, meaning)
    if sequences and array.size == 0:
        raise ValueError(f"{name} must hold at least one step of one sequence; got {array.shape}")
    if not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or inf")
    if dtype is None or array.dtype == dtype:
        return array
    with np.errstate(over="ignore"):
        array = array.astype(dtype)
    if not np.isfinite(array).all():  # finite numbers too large for dtype
        raise ValueError(f"{name} holds numbers too large for {np.dtype(dtype)}")
    return array


def _check_shape(name, array, shape, meaning):
    """Raise ValueError unless ``array.shape`` matches ``shape`` (None matches any size)."""
    if array.ndim != len(shape) or any(e is not None and e != s
                                       for e, s in zip(shape, array.shape)):
        raise ValueError(f"{name} must have shape {meaning} = {_shape_text(shape)}; "
                         f"got {array.shape}")


def _state(name, value, shape, dtype):
    """A state or state gradient ``(batch, hidden_size)``; zeros when None."""
    if value is None:
        return np.zeros(shape, dtype=dtype)
    return _array(name, value, shape, "(batch, hidden_size)", dtype)


def _size(name, value, minimum=1):
    """An integer (Python or NumPy, not a bool) of at least ``minimum``, as a Python int: no
    NumPy wrap-around later."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def _real(name, value, dtype=np.float64, *, positive=False):
    """A finite real scalar (not a bool) that the dtype can hold, as a Python float."""
    if (isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, float, np.integer, np.floating))):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    value = math.inf if isinstance(value, int) and abs(value) >= 2**1024 else float(value)
    if not abs(value) <= float(np.finfo(dtype).max):  # also refuses NaN
        raise ValueError(f"{name} must be finite and fit in {np.dtype(dtype)}; got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive; got {value}")
    return value


def _flag(name, value):
    """Switches like ``return_sequences`` are True or False, never a truthy stand-in."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__}")


def _lengths(lengths, n, b):
    """``lengths``: b integers in 1..n, as an int array; all n when None."""
    if lengths is None:
        return np.full(b, n)
    array = _plain("lengths", lengths, "integers, shape (batch,)")
    if array.dtype.kind not in "iu":
        raise TypeError(f"lengths must hold integers; got dtype {array.dtype}")
    if array.shape != (b,):
        raise ValueError(f"lengths must have shape (batch,) = ({b},); got {array.shape}")
    if array.min() < 1 or array.max() > n:
        raise ValueError(f"lengths must be in 1..n = 1..{n}; got {array.tolist()}")
    return array.astype(np.int64)


def _fused_sizes(W):
    """``(input_size, hidden_size)`` of a fused weight matrix (2-D), or a ValueError."""
    d = W.shape[1] // 4
    if d == 0 or W.shape[1] != 4 * d or W.shape[0] < d + 2:
        raise ValueError(f"W must have shape {_FUSED_TEXT}: a positive multiple of 4 columns, and "
                         f"for hidden_size {d} at least {d + 2} rows; got {W.shape}")
    return W.shape[0] - 1 - d, d


def _check_forward(X, W, c0, h0, lengths):
    """forward's arguments, as arrays of one floating dtype (the inputs' common type)."""
    W = _array("W", W, _FUSED, _FUSED_TEXT)
    input_size, d = _fused_sizes(W)
    X = _array("X", X, (None, None, input_size), "(n, batch, input_size), time-major,",
               sequences=True)
    n, b = X.shape[:2]
    dtype = np.result_type(X, W)
    c0, h0 = _state("c0", c0, (b, d), dtype), _state("h0", h0, (b, d), dtype)
    return X.astype(dtype, copy=False), W.astype(dtype, copy=False), c0, h0, _lengths(lengths, n, b)


_CACHE_KEYS = ("X", "W", "IFOG", "C", "Ct", "H", "order", "batch_sizes")


def _check_cache(cache):
    """The cache's arrays, in the order of ``_CACHE_KEYS``, if it is what forward returned."""
    _names("cache (the dict returned by forward)", cache, dict.fromkeys(_CACHE_KEYS, ""))
    X, W, IFOG, C, Ct, H, order, batch_sizes = arrays = [cache[k] for k in _CACHE_KEYS]
    if not all(isinstance(a, np.ndarray) for a in arrays) or X.ndim != 2 or IFOG.ndim != 2:
        raise ValueError("cache must be the dict returned by forward: its entries are not arrays")
    N, b, d = IFOG.shape[0], len(order), IFOG.shape[1] // 4  # rows, batch, hidden
    expected = {"X": (N, None), "W": (1 + X.shape[1] + d, 4 * d), "C": (b + N, d),
                "Ct": (N, d), "H": (b + N, d), "order": (None,), "batch_sizes": (None,)}
    for key, shape in expected.items():
        _check_shape(f"cache[{key!r}]", cache[key], shape, "as made by forward")
    if (order.dtype.kind not in "iu" or batch_sizes.dtype.kind not in "iu" or IFOG.dtype.kind
            != "f" or not np.array_equal(np.sort(order), np.arange(b)) or batch_sizes.sum() != N):
        raise ValueError("cache must be the dict returned by forward: its arrays do not fit")
    return arrays


def _params(params, shapes, dtype, *, where=None, copy=True):
    """``params``, a dict with exactly the names of ``shapes``, each an array of that shape and
    of ``dtype``, checked in full before anything is returned. ``where[name]`` is what the
    messages call an entry (default ``params['name']``)."""
    _names("params", params, {name: _shape_text(_PARAMS[name]) for name in shapes})
    checked = {}
    for name, shape in shapes.items():
        label = where[name] if where else f"params[{name!r}]"
        value = _array(label, params[name], shape, _shape_text(_PARAMS[name]))
        if value.dtype.newbyteorder("=") != dtype:  # either byte order: stored natively
            raise TypeError(f"{label} must have the model's dtype {dtype}; got {value.dtype}")
        checked[name] = value.astype(dtype, copy=copy)
    return checked


def _names(what, mapping, expected):
    """Raise unless ``mapping`` is a dict with exactly the keys of ``expected``, a dict of
    name -> shape in words (the message lists them)."""
    if not isinstance(mapping, Mapping):
        raise TypeError(f"{what} must be a dict; got {type(mapping).__name__}")
    unknown = [repr(key) for key in mapping if key not in expected]
    missing = [key for key in expected if key not in mapping]
    if unknown or missing:
        listing = ", ".join(f"{key} {shape}" for key, shape in expected.items())
        raise ValueError(f"{what} must have exactly the names {listing}; "
                         f"unknown: [{', '.join(unknown)}], missing: {missing}")


def _generator(rng):
    """None, a seed or a Generator -> a Generator (the one given, so its stream continues)."""
    if isinstance(rng, (bool, np.bool_)) or not (
            rng is None or isinstance(rng, (int, np.integer, np.random.Generator))):
        raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator; "
                        f"got {type(rng).__name__}")
    try:
        return np.random.default_rng(rng)
    except ValueError as error:  # a negative seed
        raise ValueError(f"rng must be a non-negative seed; got {rng}") from error


def _float_dtype(dtype):
    """``dtype`` as a NumPy floating dtype, or a TypeError naming it."""
    try:
        dtype = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(f"dtype must be a floating-point type; got {dtype!r}") from error
    if dtype.kind != "f":
        raise TypeError(f"dtype must be a floating-point type; got {dtype}")
    return dtype.newbyteorder("=")  # computed in native byte order, whatever it was given as


def _matrix_shape(shape):
    """``shape = (rows, columns)``, both sizes, as a tuple of Python ints."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple (rows, columns); got {type(shape).__name__}")
    if len(shape) != 2:
        raise ValueError(f"shape must be (rows, columns), two sizes; got {tuple(shape)}")
    return _size("shape[0]", shape[0]), _size("shape[1]", shape[1])


# --- Self-check: python lstm_reference.py ---------------------------------------------------------


def _self_checks():
    """(name, run, passes) for every check: run() returns the figure, passes(figure) -> bool."""
    return [
        ("sequential steps == one batched call (max abs diff)",
         check_sequential_matches_batch, lambda e: e < 1e-12),
        ("analytic == numerical gradients, with and without lengths (max rel. error over X, W, "
         "c0, h0)", lambda: max(*check_gradients().values(),
                                *check_gradients(lengths=[5, 2, 4]).values()), lambda e: e < 1e-6),
        ("two chunks == one call, forward and backward (max abs diff)",
         check_chunks_match_single_call, lambda e: e < 1e-12),
        ("PyTorch layout round trip and gates (max abs diff)",
         check_pytorch_layout_roundtrip, lambda e: e == 0.0),
        ("extreme finite inputs and 5000 steps stay finite, no FP errors",
         check_extremes, lambda ok: ok is True),
        ("LSTMCell stepped by hand == fused forward (max abs diff)",
         check_cell_matches_fused, lambda e: e < 1e-12),
        ("LSTM model: analytic == numerical gradients (max rel. error, every parameter and X)",
         lambda: max(max(check_model_gradients(return_sequences=every_step).values())
                     for every_step in (True, False)), lambda e: e < 1e-6),
    ]


def _self_check(out=sys.stdout):
    """Run every check, print one line each and a verdict; return the exit status (0 or 1)."""
    checks = _self_checks()
    failures = 0
    for name, run, passes in checks:
        try:
            figure = run()
            ok = bool(passes(figure))
            shown = f"{figure:.2e}" if isinstance(figure, float) else str(figure)
        except Exception as error:  # a crash is a failure, reported like one
            ok, shown = False, f"error: {type(error).__name__}: {error}"
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {shown}", file=out)
    verdict = (f"all {len(checks)} checks passed" if failures == 0
               else f"{failures} of {len(checks)} checks FAILED")
    print(f"lstm_reference {__version__} (NumPy {np.__version__}): {verdict}", file=out)
    return 0 if failures == 0 else 1


def main(argv=None):
    """Command line: ``python lstm_reference.py`` runs the self-check."""
    parser = argparse.ArgumentParser(
        prog="python lstm_reference.py",
        description="Self-check of the reference LSTM: runs each verification (sequential vs "
        "batched forward, analytic vs numerical gradients, chunked vs single call, PyTorch "
        "layout conversion, extreme inputs, per-gate cell vs fused core, sequence-model "
        "gradients), prints its figure and PASS or FAIL, and exits with status 1 if any check "
        "fails. Takes a few seconds.",
    )
    parser.parse_args(argv)
    return _self_check()


if __name__ == "__main__":
    sys.exit(main())
