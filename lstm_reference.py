r"""A reference LSTM in NumPy: forward and backward, batched, fast, and checked.

This single file is the whole reference. Read it top to bottom: it follows the derivation on the
documentation site, section by section (the ``# ---`` banners name the pages).

What an LSTM cell computes
--------------------------
For one timestep, with input ``x_t`` and the previous states ``c_{t-1}``, ``h_{t-1}``::

    i_t = sigmoid(x_t W_xi + h_{t-1} W_hi + b_i)      input gate         (eq-gates)
    f_t = sigmoid(x_t W_xf + h_{t-1} W_hf + b_f)      forget gate        (eq-gates)
    o_t = sigmoid(x_t W_xo + h_{t-1} W_ho + b_o)      output gate        (eq-gates)
    g_t =    tanh(x_t W_xg + h_{t-1} W_hg + b_g)      candidate          (eq-gates)
    c_t = f_t * c_{t-1} + i_t * g_t                   cell update        (eq-cell)
    h_t = o_t * tanh(c_t)                             hidden output      (eq-hidden)

Conventions
-----------
=================  ==========================================================================
Input ``X``        time-major ``(n, b, input_size)``: n steps, b sequences in the batch;
                   but batch first ``(batch, seq_len, input_size)`` for the model ``LSTM``
Weights ``W``      one fused matrix ``(1 + input_size + hidden_size, 4 * hidden_size)``;
                   row 0 the bias, then the input rows, then the recurrent rows;
                   ``LSTMCell`` and ``LSTM`` keep the same numbers per gate (``W_xi``, ...)
Gate order         column blocks ``i, f, o, g`` (PyTorch: i, f, g, o; Keras: i, f, c, o)
State order        ``(c, h)`` in the fused core; ``(h, c)`` in ``LSTMCell`` and ``LSTM``, as PyTorch
Row vectors        ``z = [1, x, h] @ W`` (PyTorch computes ``W @ x``: its matrices are our
                   transposes)
dtype              follows the inputs: float32 in, float32 out; float64 by default
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
import itertools
import os
import sys
import zipfile
from collections.abc import Mapping

import numpy as np

__version__ = "0.1.0"

__all__ = [
    "init_weights",
    "sigmoid",
    "forward",
    "backward",
    "LAYOUTS",
    "to_layout",
    "from_layout",
    "to_pytorch_layout",
    "from_pytorch_layout",
    "find_gate_order",
    "numerical_gradient",
    "relative_error",
    "check_sequential_matches_batch",
    "check_gradients",
    "check_chunks_match_single_call",
    "check_pytorch_layout_roundtrip",
    "check_extremes",
    "xavier_uniform",
    "orthogonal",
    "LSTMCell",
    "check_cell_matches_fused",
    "LSTM",
    "check_model_gradients",
]


# --- Input checking -------------------------------------------------------------------------
# Every public function checks its arguments before touching them, so bad input fails with a
# message that names the argument and the shape expected, and nothing has been changed.


def _shape_text(shape):
    """``(5, 3, None)`` -> ``'(5, 3, any)'``, ``(4,)`` -> ``'(4,)'``, for error messages."""
    return ("(" + ", ".join("any" if s is None else str(s) for s in shape)
            + ("," if len(shape) == 1 else "") + ")")


def _as_float_array(name, value, dtype=None):
    """``np.asarray(value)`` that insists on real numbers; integers become float64."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be an array of real numbers; got {type(value).__name__}"
        ) from error
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers; got dtype {array.dtype}")
    return array


def _check_shape(name, array, expected, meaning):
    """Raise ValueError unless ``array.shape`` matches ``expected`` (None matches any size)."""
    if array.ndim != len(expected) or any(
        e is not None and e != s for e, s in zip(expected, array.shape)
    ):
        raise ValueError(
            f"{name} must have shape {meaning} = {_shape_text(expected)}; got {array.shape}"
        )


def _check_size(name, value):
    """Sizes are positive Python or NumPy integers (not floats, not bools)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer; got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1; got {value}")


def _sizes_of(W):
    """Check a fused weight matrix and return ``(input_size, hidden_size)``."""
    if W.ndim != 2 or W.shape[1] % 4 != 0 or W.shape[1] == 0:
        raise ValueError(
            "W must have shape (1 + input_size + hidden_size, 4 * hidden_size); "
            f"got {W.shape}: the column count must be a positive multiple of 4"
        )
    d = W.shape[1] // 4
    input_size = W.shape[0] - 1 - d
    if input_size < 1:
        raise ValueError(
            f"W must have shape (1 + input_size + hidden_size, 4 * hidden_size) "
            f"= (at least {d + 2}, {4 * d}) for hidden_size {d}; got {W.shape}"
        )
    return input_size, d


def _as_generator(rng):
    """None, a seed or a Generator -> a Generator (the one given, so its stream continues)."""
    if isinstance(rng, (bool, np.bool_)) or not (
        rng is None or isinstance(rng, (int, np.integer, np.random.Generator))
    ):
        raise TypeError(
            f"rng must be None, an int seed or a numpy.random.Generator; got {type(rng).__name__}"
        )
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
    return dtype


# --- Initialization -------------------------------------------------------------------------
# W, the one fused matrix. Its layout is the contract everything else refers to:
#
#   rows:     0                   the bias b
#             1 .. input_size     the input weights W_x      (x_t enters here)
#             input_size+1 ..     the recurrent weights W_h  (h_{t-1} enters here)
#   columns:  [0:d] i   [d:2d] f   [2d:3d] o   [3d:4d] g     (d = hidden_size)
#
# so that  z_t = [1, x_t, h_{t-1}] @ W  holds all four gate pre-activations at once.


def init_weights(input_size, hidden_size, *, forget_bias=3.0, rng=None, dtype=np.float64):
    """Initialize the fused LSTM weight matrix ``W``.

    Weights are standard normal divided by ``sqrt(input_size + hidden_size)`` (so each
    pre-activation starts with unit variance for unit-variance inputs). Biases are zero except
    the forget gate's, which is ``forget_bias``.

    Why a *positive* forget bias: ``f = sigmoid(3) ~ 0.95`` keeps the forget gate open, so the
    cell state is carried forward (``c_t ~ c_{t-1}``) and gradients flow back through many steps
    from the first update on. A bias of 0 starts with ``f = 0.5``, halving the memory every step.

    Parameters
    ----------
    input_size, hidden_size : int
        Features per input step, and units per state (``d``).
    forget_bias : float, default 3.0
        Initial bias of the forget gate (columns ``d:2d`` of row 0).
    rng : None, int or numpy.random.Generator
        Source of randomness: a seed, a generator, or None for fresh entropy.
    dtype : numpy floating dtype, default float64

    Returns
    -------
    W : ndarray, shape (1 + input_size + hidden_size, 4 * hidden_size)
        Row 0 bias, rows ``1..input_size`` input weights, last ``hidden_size`` rows recurrent
        weights; column blocks in gate order i, f, o, g.

    Examples
    --------
    >>> W = init_weights(10, 4, rng=0)
    >>> W.shape                       # (1 + 10 + 4, 4 * 4)
    (15, 16)
    >>> W[0].tolist()                 # bias row: zero but the forget gate's 3.0
    [0.0, 0.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> bool(abs(W[1:].std() * np.sqrt(10 + 4) - 1) < 0.2)   # std 1/sqrt(input + hidden)
    True
    >>> init_weights(3, 2, forget_bias=1.0, dtype=np.float32, rng=1)[0, 2:4].tolist()
    [1.0, 1.0]
    """
    _check_size("input_size", input_size)
    _check_size("hidden_size", hidden_size)
    dtype, rng = _float_dtype(dtype), _as_generator(rng)
    d = hidden_size
    W = rng.standard_normal((1 + input_size + d, 4 * d)) / np.sqrt(input_size + d)
    W[0] = 0.0
    W[0, d:2 * d] = forget_bias  # forget gate open: the cell remembers from the start
    return W.astype(dtype)


# --- Forward pass -----------------------------------------------------------------------------


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, for any finite input, without warnings.

    For very negative ``x``, ``exp(-x)`` overflows to ``inf`` and ``1 / (1 + inf)`` is exactly 0,
    the correct limit, so the formula is right everywhere; only the overflow *flag* needs
    silencing. (The usual alternative, ``np.where(x >= 0, 1/(1+exp(-x)), exp(x)/(1+exp(x)))``,
    evaluates both branches on every element and overflows in one of them.)

    Parameters
    ----------
    x : array_like
        Real input; integers are treated as float64.

    Returns
    -------
    ndarray or scalar of the input's floating type.

    Examples
    --------
    >>> float(sigmoid(0.0))
    0.5
    >>> sigmoid(np.array([-1000.0, 0.0, 1000.0])).tolist()
    [0.0, 0.5, 1.0]
    >>> sigmoid(np.float32(-100)).dtype
    dtype('float32')
    >>> round(float(sigmoid(3.0)), 3)    # the default forget gate at initialization
    0.953
    """
    x = _as_float_array("x", x)
    one = x.dtype.type(1)  # typed, so a float32 scalar stays float32 under NumPy 1's casting rules
    with np.errstate(over="ignore", under="ignore"):
        return one / (one + np.exp(-x))


# Where the time goes. Per step, the only work that *must* wait for the previous step is the
# recurrent product h_{t-1} @ W_h; the input projection X @ W_x + b does not depend on h, so it
# is done for all n steps at once in one large matrix product before the loop (as cuDNN does).
# Measured on a 2-core machine, forward + backward is ~1.5x faster than the per-step
# [1, x_t, h_{t-1}] @ W formulation, and no [1, x, h] rows are copied or cached.
#
# One exp for all four gates: tanh(z) = 2 sigmoid(2z) - 1, so after doubling the g columns of W
# once per call, a single pass of exp over all 4d pre-activations serves the sigmoids and the
# tanh; np.tanh is ~2.6x slower than np.exp in float64 on this machine.


def forward(X, W, c0=None, h0=None):
    """Run the LSTM over a whole batch of sequences.

    Implements eq-gates, eq-cell and eq-hidden for t = 1..n, starting from ``c0``, ``h0``.

    Parameters
    ----------
    X : array_like, shape (n, b, input_size)
        Inputs, time-major: ``X[t]`` holds step t of all b sequences.
    W : array_like, shape (1 + input_size + hidden_size, 4 * hidden_size)
        Fused weights (layout in :func:`init_weights`).
    c0, h0 : array_like, shape (b, hidden_size), optional
        Initial cell and hidden state; zeros when omitted. Pass a previous call's final ``c``,
        ``h`` to continue a sequence chunk by chunk.

    Returns
    -------
    H : ndarray, shape (n, b, hidden_size)
        Hidden state at every step. It is a **read-only view** into the cache (no copy is
        made); ``np.array(H)`` gives a writable copy. Editing the cache cannot happen by accident.
    c, h : ndarray, shape (b, hidden_size)
        Final cell and hidden state (fresh arrays).
    cache : dict
        What :func:`backward` needs, all arrays read-only:
        ``"X"`` the input (a reference, not a copy: do not modify X before calling backward),
        ``"W"`` the weights (likewise), ``"IFOG"`` the gate activations ``(n, b, 4d)``,
        ``"C"`` the cell states ``(n + 1, b, d)`` with ``C[0] = c0``, ``"TC"`` = ``tanh(C[1:])``
        ``(n, b, d)``, ``"H"`` the hidden states ``(n + 1, b, d)`` with ``H[0] = h0``;
        about ``7 n b d`` numbers in all.

    Raises
    ------
    ValueError
        If a shape does not match (the message names the argument and the shape expected).
    TypeError
        If an argument does not hold real numbers.

    Examples
    --------
    >>> W = init_weights(2, 3, rng=0)
    >>> X = np.arange(4 * 1 * 2).reshape(4, 1, 2) / 8        # n=4 steps, b=1, input_size=2
    >>> H, c, h, cache = forward(X, W)
    >>> H.shape, c.shape, h.shape
    ((4, 1, 3), (1, 3), (1, 3))
    >>> bool(np.array_equal(H[-1], h))                      # the last output is the final state
    True
    >>> bool(np.all(np.abs(H) < 1))                          # |h| = |o tanh(c)| < 1
    True
    >>> H.flags.writeable                                    # a view into the cache
    False

    Two chunks, carrying ``c, h``, give exactly one call:

    >>> H1, c1, h1, _ = forward(X[:2], W)
    >>> H2, c2, h2, _ = forward(X[2:], W, c1, h1)
    >>> bool(np.allclose(np.concatenate([H1, H2]), H, rtol=0, atol=1e-15))
    True

    float32 in, float32 out:

    >>> forward(X.astype(np.float32), W.astype(np.float32))[0].dtype
    dtype('float32')
    """
    X, W, c0, h0 = _check_forward_inputs(X, W, c0, h0)
    n, b, input_size = X.shape  # time, batch, features
    d = W.shape[1] // 4  # hidden size
    # Gate activations z -> (i, f, o, g) are computed in place in IFOG, step by step.
    IFOG = np.empty((n, b, 4 * d), dtype=W.dtype)  # (n, b, 4d)
    C = np.empty((n + 1, b, d), dtype=W.dtype)  # (n+1, b, d)  C[0] = c0, C[t+1] = c_t
    TC = np.empty((n, b, d), dtype=W.dtype)  # (n, b, d)  tanh(c_t), cached for backward
    H = np.empty((n + 1, b, d), dtype=W.dtype)  # (n+1, b, d)  H[0] = h0, H[t+1] = h_t
    C[0], H[0] = c0, h0

    # -z for i, f, o and -2z for g: then exp() of the pre-activations is one pass (see above).
    Wneg = W * _gate_scale(d, W.dtype)  # (1 + input_size + d, 4d)
    Wneg_x, Wneg_h = Wneg[1:1 + input_size], Wneg[1 + input_size:]
    # 1) Input projection for all steps in one matrix product: -(X_t W_x + b), -2(...) for g.
    np.matmul(X.reshape(n * b, input_size), Wneg_x, out=IFOG.reshape(n * b, 4 * d))
    IFOG += Wneg[0]
    with np.errstate(over="ignore", under="ignore"):  # exp(-z) -> inf for z << 0: sigmoid -> 0
        for t in range(n):
            _step_forward(IFOG[t], C[t], H[t], Wneg_h, C[t + 1], TC[t], H[t + 1])

    for array in (IFOG, C, TC, H):
        array.flags.writeable = False  # the cache cannot be corrupted by editing H
    cache = {"X": X, "W": W, "IFOG": IFOG, "C": C, "TC": TC, "H": H}
    return H[1:], C[n].copy(), H[n].copy(), cache


def _gate_scale(d, dtype):
    """Per-column factors ``[-1]*3d + [-2]*d``: exp(-z) for the sigmoids, exp(-2z) for tanh."""
    scale = np.full(4 * d, -1.0, dtype=dtype)  # (4d,)
    scale[3 * d:] = -2.0
    return scale


def _step_forward(ifog, c_prev, h_prev, Wneg_h, c, tc, h):
    """One timestep, in place: ``ifog`` holds the scaled input projection on entry,
    the gates on exit.

    Implements eq-gates, eq-cell, eq-hidden; every output is written into the given buffers.
    """
    d = c.shape[1]
    ifog += h_prev @ Wneg_h  # (b, 4d)  the recurrent product: the one costly line per step
    np.exp(ifog, out=ifog)  # exp(-z) for i, f, o; exp(-2z) for g
    ifog += 1.0
    np.reciprocal(ifog, out=ifog)  # sigmoid(z); for g: sigmoid(2z)
    g = ifog[:, 3 * d:]  # (b, d)
    g *= 2.0
    g -= 1.0  # tanh(z) = 2 sigmoid(2z) - 1
    i, f, o = ifog[:, :d], ifog[:, d:2 * d], ifog[:, 2 * d:3 * d]  # (b, d) each
    np.multiply(f, c_prev, out=c)
    c += i * g  # eq-cell: c_t = f * c_{t-1} + i * g
    np.tanh(c, out=tc)
    np.multiply(o, tc, out=h)  # eq-hidden: h_t = o * tanh(c_t)


def _check_forward_inputs(X, W, c0, h0):
    """Validate and convert forward's arguments; returns arrays of one floating dtype."""
    X = _as_float_array("X", X)
    W = _as_float_array("W", W)
    if X.ndim != 3:
        raise ValueError(
            f"X must have shape (n, batch, input_size), time-major, with 3 dimensions; "
            f"got shape {X.shape}"
        )
    input_size, d = _sizes_of(W)
    n, b, _ = X.shape
    _check_shape("X", X, (None, None, input_size), "(n, batch, input_size) to match W")
    if n == 0 or b == 0:
        raise ValueError(f"X must have at least one step and one sequence; got shape {X.shape}")
    dtype = np.result_type(X, W)  # the computation's floating type: the inputs' common type
    states = []
    for name, state in (("c0", c0), ("h0", h0)):
        if state is None:
            state = np.zeros((b, d), dtype=dtype)
        state = _as_float_array(name, state)
        _check_shape(name, state, (b, d), "(batch, hidden_size)")
        states.append(state)
    # Same dtype everywhere; astype(copy=False) copies only what needs converting.
    return (X.astype(dtype, copy=False), W.astype(dtype, copy=False),
            states[0].astype(dtype, copy=False), states[1].astype(dtype, copy=False))


# --- Backward pass ----------------------------------------------------------------------------
# Backward runs the forward loop in reverse. Only dh_{t-1} = dz_t @ W_h^T must wait for step t;
# the weight gradient is a sum over time of per-step outer products, so it is computed after
# the loop as one matrix product over all n * b rows, and dX likewise.


def backward(dH, cache, dc=None, dh=None):
    """Gradients of a loss through the LSTM, given its gradient with respect to the outputs.

    Implements eq-dh, eq-dc, eq-do, eq-di, eq-df, eq-dg and eq-dprev for t = n..1, then
    eq-dW and eq-dX (docs: Backward pass).

    Parameters
    ----------
    dH : array_like, shape (n, b, hidden_size)
        dLoss/dH for every step's output.
    cache : dict
        The fourth value returned by :func:`forward`.
    dc, dh : array_like, shape (b, hidden_size), optional
        Gradient arriving at the *final* ``c`` and ``h`` from outside: a loss on the final state,
        or the ``dc0, dh0`` of the chunk that followed this one. Added to what flows back
        through time; zeros when omitted.

    Returns
    -------
    dX : ndarray, shape (n, b, input_size)
    dW : ndarray, shape like W
    dc0, dh0 : ndarray, shape (b, hidden_size)
        Gradients with respect to the initial states; pass them as ``dc, dh`` to the backward
        call of the previous chunk.

    Examples
    --------
    >>> W = init_weights(2, 3, rng=0)
    >>> X = np.arange(4 * 1 * 2).reshape(4, 1, 2) / 8
    >>> H, c, h, cache = forward(X, W)
    >>> dX, dW, dc0, dh0 = backward(np.ones_like(H), cache)    # loss = H.sum()
    >>> dX.shape, dW.shape, dc0.shape, dh0.shape
    ((4, 1, 2), (6, 12), (1, 3), (1, 3))

    The bias gradient is the sum of the pre-activation gradients; compare with central
    differences of ``H.sum()`` in the bias of the first unit of the input gate:

    >>> loss = lambda W_: forward(X, W_)[0].sum()
    >>> num = numerical_gradient(loss, W)[0, 0]
    >>> bool(abs(dW[0, 0] - num) < 1e-9)
    True

    Chunks: backward the second chunk first, then pass its ``dc0, dh0`` to the first.

    >>> H1, c1, h1, cache1 = forward(X[:2], W)
    >>> H2, _, _, cache2 = forward(X[2:], W, c1, h1)
    >>> dX2, dW2, dc1, dh1 = backward(np.ones_like(H2), cache2)
    >>> dX1, dW1, _, _ = backward(np.ones_like(H1), cache1, dc1, dh1)
    >>> bool(np.allclose(dW1 + dW2, dW, rtol=0, atol=1e-14))
    True
    """
    IFOG, C, TC, H, X, W = _check_cache(cache)
    n, b, four_d = IFOG.shape  # time, batch, 4 * hidden
    d = four_d // 4
    input_size = X.shape[2]
    dH, dc, dh = _check_backward_inputs(dH, dc, dh, (n, b, d), W.dtype)
    W_x = W[1:1 + input_size]  # (input_size, 4d)
    W_hT = np.ascontiguousarray(W[1 + input_size:].T)  # (4d, d): contiguous, ~8% faster per step

    dZ, dc_via_h = _local_derivatives(IFOG, C, TC)  # (n, b, 4d), (n, b, d)
    for t in reversed(range(n)):
        dc, dh = _step_backward(dZ[t], dH[t], dc_via_h[t], IFOG[t, :, d:2 * d], dc, dh, W_hT)
    del dc_via_h  # n * b * d numbers freed before the products below, where memory peaks

    dW = np.empty_like(W)  # (1 + input_size + d, 4d)
    dZ_rows = dZ.reshape(n * b, 4 * d)  # every (step, sequence) pair is one row
    dW[0] = dZ_rows.sum(axis=0)  # eq-dW: bias
    np.matmul(X.reshape(n * b, input_size).T, dZ_rows, out=dW[1:1 + input_size])  # eq-dW: input
    np.matmul(H[:n].reshape(n * b, d).T, dZ_rows, out=dW[1 + input_size:])  # eq-dW: h_{t-1}
    dX = (dZ_rows @ W_x.T).reshape(n, b, input_size)  # eq-dX
    return dX, dW, dc, dh


def _local_derivatives(IFOG, C, TC):
    """Everything in dz_t that does not depend on the incoming gradient, for all steps.

    Returns ``dZ`` holding, per gate block, ``(sigma' or tanh') * (its partner in eq-cell or
    eq-hidden)``, so that the loop only multiplies by ``dc_t`` or ``dh_t``:

    - i: ``i(1-i) * g``     (eq-di)        - f: ``f(1-f) * c_{t-1}``   (eq-df)
    - o: ``o(1-o) * tanh(c_t)`` (eq-do)    - g: ``(1-g^2) * i``        (eq-dg)

    and ``dc_via_h = o * (1 - tanh(c_t)^2)``, the path from h_t into c_t (eq-dc).
    """
    n = IFOG.shape[0]
    dZ = np.empty_like(IFOG)  # (n, b, 4d)
    dc_via_h = np.empty_like(TC)  # (n, b, d)
    # In blocks of about 1 MB of gate activations, so that each block stays in the CPU cache
    # between the passes below: measured 1.5-2x faster than whole-array passes at the medium and
    # large benchmark sizes. (Small problems are one block.)
    steps = max(1, 2**20 // IFOG[0].nbytes)
    for t in range(0, n, steps):
        s = slice(t, t + steps)
        _local_derivatives_block(IFOG[s], C[:-1][s], TC[s], dZ[s], dc_via_h[s])
    return dZ, dc_via_h


def _local_derivatives_block(ifog, c_prev, tc, dz, dc_via_h):
    """:func:`_local_derivatives` for a block of steps, written into ``dz`` and ``dc_via_h``."""
    d = ifog.shape[2] // 4
    i, f, o, g = (ifog[..., k * d:(k + 1) * d] for k in range(4))  # (steps, b, d) each
    np.subtract(1.0, ifog, out=dz)
    dz *= ifog  # (steps, b, 4d)  sigmoid' = s (1 - s), in terms of the output
    np.multiply(g, g, out=dz[..., 3 * d:])
    np.subtract(1.0, dz[..., 3 * d:], out=dz[..., 3 * d:])  # tanh' = 1 - tanh^2
    dz[..., :d] *= g
    dz[..., d:2 * d] *= c_prev
    dz[..., 2 * d:3 * d] *= tc
    dz[..., 3 * d:] *= i
    np.multiply(tc, tc, out=dc_via_h)
    np.subtract(1.0, dc_via_h, out=dc_via_h)
    dc_via_h *= o  # (steps, b, d)


def _step_backward(dz, dH_t, dc_via_h, f, dc_next, dh_next, W_hT):
    """One timestep in reverse; finishes ``dz`` in place and returns ``(dc_{t-1}, dh_{t-1})``."""
    d = dH_t.shape[1]
    dh = dH_t + dh_next  # (b, d)  eq-dh: from the output at t, and from step t+1 through W_h
    dc = dc_next + dh * dc_via_h  # (b, d)  eq-dc: two paths into c_t
    dz[:, :d] *= dc  # eq-di
    dz[:, d:2 * d] *= dc  # eq-df
    dz[:, 2 * d:3 * d] *= dh  # eq-do
    dz[:, 3 * d:] *= dc  # eq-dg
    return dc * f, dz @ W_hT  # eq-dprev; dz @ W_h^T is the costly line per step


def _check_cache(cache):
    """Return the cache's arrays, or raise if it is not what :func:`forward` returned."""
    keys = {"X", "W", "IFOG", "C", "TC", "H"}
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward; got {type(cache).__name__}")
    if set(cache) != keys:
        raise ValueError(
            f"cache must be the dict returned by forward, with keys {sorted(keys)}; "
            f"got keys {sorted(cache)}"
        )
    X, W, IFOG, C, TC, H = (cache[k] for k in ("X", "W", "IFOG", "C", "TC", "H"))
    if not all(isinstance(a, np.ndarray) for a in (X, W, IFOG, C, TC, H)) or IFOG.ndim != 3:
        raise ValueError("cache must be the dict returned by forward: "
                         "its entries are not the arrays forward made")
    n, b, four_d = IFOG.shape
    d = four_d // 4
    expected = {"X": (n, b, None), "W": (None, four_d), "C": (n + 1, b, d), "TC": (n, b, d),
                "H": (n + 1, b, d)}
    for key, shape in expected.items():
        _check_shape(f"cache[{key!r}]", cache[key], shape, "as made by forward")
    if W.shape[0] != 1 + X.shape[2] + d:
        raise ValueError(
            f"cache['W'] must have shape {_shape_text((1 + X.shape[2] + d, four_d))}; got {W.shape}"
        )
    return IFOG, C, TC, H, X, W


def _check_backward_inputs(dH, dc, dh, shape, dtype):
    """Validate dH, dc, dh against the cache's sizes; zeros for missing state gradients."""
    n, b, d = shape
    dH = _as_float_array("dH", dH)
    _check_shape("dH", dH, (n, b, d), "(n, batch, hidden_size) like forward's H")
    states = []
    for name, state in (("dc", dc), ("dh", dh)):
        if state is None:
            state = np.zeros((b, d), dtype=dtype)
        state = _as_float_array(name, state)
        _check_shape(name, state, (b, d), "(batch, hidden_size) like forward's final state")
        states.append(state.astype(dtype, copy=False))
    return dH.astype(dtype, copy=False), states[0], states[1]


# --- Conventions: framework layouts -----------------------------------------------------------
# Every framework stores the numbers of our W (b, W_x, W_h, gate by gate), cut up and ordered
# its own way. LAYOUTS writes each way down once, as a table; to_layout and from_layout only
# read it, and the docs' conversions page renders it. Each framework has the order of the state
# it takes ("state", for the docs) and one row per stored array ("arrays"):
#
#   name        the framework's name for it ("ii/kernel" is params["ii"]["kernel"])
#   holds       "W_x" (input weights), "W_h" (recurrent weights) or "b" (the bias); "b, b" is
#               two biases side by side in one array (ONNX's B)
#   gates       the gate blocks it holds, in its order, in our letters: g is the candidate
#               (Keras and ONNX call it c, TensorFlow 1 j)
#   transposed  True where the framework computes W @ x: each gate unit is a row
#   shape       I = input_size, d = hidden_size
#
# A bias stored twice (PyTorch, ONNX) is written whole into its first copy and as zeros into the
# second; reading sums the copies, as the framework does when it computes.

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

_OURS = "ifog"  # our gate order, the column blocks of W


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
    W = _as_float_array("W", W)
    input_size, d = _sizes_of(W)
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
    """``{"ii": {"kernel": a}}`` -> ``{"ii/kernel": a}``; no key missing, none extra."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
    flat, todo = {}, [("", params)]
    while todo:
        prefix, node = todo.pop()
        for key, value in node.items():
            if isinstance(value, Mapping):
                todo.append((f"{prefix}{key}/", value))
            else:
                flat[f"{prefix}{key}"] = value
    expected = ", ".join(f"{name} {shape}" for name, _, _, _, shape in arrays)
    names = [row[0] for row in arrays]
    for name in names:
        if name not in flat:
            raise ValueError(f"params has no {name!r} for {framework!r}: expected {expected}")
    for name in flat:
        if name not in names:
            raise ValueError(f"params has an unexpected key {name!r} for {framework!r}: "
                             f"expected {expected}")
    return {name: _as_float_array(f"params[{name!r}]", flat[name]) for name in names}


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
            parts[part][:, ours * d:(ours + 1) * d] += M[:, k * d:(k + 1) * d]
    return np.concatenate([parts["b"], parts["W_x"], parts["W_h"]])  # (1 + I + d, 4d)


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
    W, H = _as_float_array("W", W), _as_float_array("H", H)
    _, d = _sizes_of(W)
    best, order = np.inf, None
    for candidate in itertools.permutations(_OURS):
        columns = np.concatenate([np.arange(d) + d * candidate.index(g) for g in _OURS])
        H_candidate = forward(X, W[:, columns], c0, h0)[0]  # (n, b, d)
        _check_shape("H", H, H_candidate.shape, "(n, b, hidden_size) like forward's H")
        difference = np.abs(H_candidate - H).max()
        if difference <= atol and difference < best:
            best, order = difference, "".join(candidate)
    return order


# --- Verification -----------------------------------------------------------------------------
# The checks below are the oracle: each compares two computations that share as little code as
# possible, and returns a number. `python lstm_reference.py` runs them all (see _self_check).


def numerical_gradient(f, x, delta=1e-5):
    """Central-difference gradient of a scalar function:
    ``(f(x + delta) - f(x - delta)) / 2 delta``.

    Each element of ``x`` is nudged in turn, in a private copy (``x`` itself is never modified).
    The error is ``O(delta^2)`` from truncation plus ``O(eps |f| / delta)`` from round-off;
    ``delta = 1e-5`` balances them in float64 to about 1e-10 absolute.

    Parameters
    ----------
    f : callable
        Maps an array shaped like ``x`` to a scalar.
    x : array_like
        The point; integers become float64.
    delta : float, default 1e-5

    Returns
    -------
    ndarray shaped like ``x``

    Examples
    --------
    >>> x = np.array([1.0, 2.0, 3.0])
    >>> numerical_gradient(lambda v: (v ** 2).sum(), x).round(6).tolist()   # d/dx x^2 = 2x
    [2.0, 4.0, 6.0]
    >>> x.tolist()                                                          # untouched
    [1.0, 2.0, 3.0]
    """
    x = _as_float_array("x", x)
    probe = x.copy()
    grad = np.empty_like(x)
    for index in np.ndindex(x.shape):
        probe[index] = x[index] + delta
        f_plus = f(probe)
        probe[index] = x[index] - delta
        f_minus = f(probe)
        probe[index] = x[index]
        grad[index] = (f_plus - f_minus) / (2 * delta)
    return grad


def relative_error(a, b):
    """Elementwise ``|a - b| / max(|a| + |b|, tiny)``: in [0, 1], and 0 where both are 0.

    (The textbook ``|a - b| / |a + b|`` is 0/0 when both are zero and blows up when they
    have opposite signs.)

    Examples
    --------
    >>> relative_error([1.0, 0.0, 1.0], [1.0, 0.0, -1.0]).tolist()
    [0.0, 0.0, 1.0]
    >>> float(relative_error(1.0, 1.0 + 1e-8)) < 1e-8
    True
    """
    a, b = _as_float_array("a", a), _as_float_array("b", b)
    tiny = np.finfo(np.result_type(a, b)).tiny
    return np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), tiny)


def _random_problem(n, b, input_size, hidden_size, seed, dtype=np.float64):
    """Inputs for the checks: X, W (with a nonzero bias), c0, h0 and a loss weighting R."""
    rng = np.random.default_rng(seed)
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
    >>> check_sequential_matches_batch(n=7, b=1, input_size=2, hidden_size=3, seed=1) < 1e-12
    True
    """
    X, W, c0, h0, _ = _random_problem(n, b, input_size, hidden_size, seed)
    H, c, h, _ = forward(X, W, c0, h0)
    steps = []
    c_t, h_t = c0, h0
    for t in range(n):
        H_t, c_t, h_t, _ = forward(X[t:t + 1], W, c_t, h_t)
        steps.append(H_t[0])
    return float(max(np.abs(H - np.stack(steps)).max(), np.abs(c - c_t).max(),
                     np.abs(h - h_t).max()))


def check_gradients(n=5, b=3, input_size=10, hidden_size=4, *, seed=0, delta=1e-5, floor=1e-3):
    """Compare :func:`backward` with central differences, for every element of X, W, c0, h0.

    The loss is ``sum(H * R) + sum(c * Rc) + sum(h * Rh)`` with fixed random ``R, Rc, Rh``, so
    the state gradients ``dc, dh`` that :func:`backward` accepts are checked too.

    Near-zero elements: central differences carry about 1e-10 of absolute noise, so a pure
    relative error is meaningless for gradients of that size. The error reported is
    ``|a - n| / max(|a| + |n|, floor)``: relative for elements above ``floor`` (1e-3), and an
    absolute error scaled by ``1 / floor`` below it (so < 1e-6 means ``|a - n| < 1e-9`` there).

    Returns
    -------
    dict
        ``{"X": err, "W": err, "c0": err, "h0": err}``, the largest error of each.

    Examples
    --------
    >>> errors = check_gradients()
    >>> sorted(errors)
    ['W', 'X', 'c0', 'h0']
    >>> all(e < 1e-6 for e in errors.values())
    True
    """
    X, W, c0, h0, R = _random_problem(n, b, input_size, hidden_size, seed)
    rng = np.random.default_rng(seed + 1)
    Rc, Rh = rng.standard_normal((2, b, hidden_size))

    def loss(X, W, c0, h0):
        H, c, h, _ = forward(X, W, c0, h0)
        return np.sum(H * R) + np.sum(c * Rc) + np.sum(h * Rh)

    _, _, _, cache = forward(X, W, c0, h0)
    analytic = dict(zip(("X", "W", "c0", "h0"), backward(R, cache, dc=Rc, dh=Rh)))
    point = {"X": X, "W": W, "c0": c0, "h0": h0}
    errors = {}
    for name, value in point.items():
        def loss_of(v, name=name):  # the loss as a function of this one argument
            return loss(**{**point, name: v})

        a, numeric = analytic[name], numerical_gradient(loss_of, value, delta)
        errors[name] = float(np.max(
            np.abs(a - numeric) / np.maximum(np.abs(a) + np.abs(numeric), floor)))
    return errors


def check_chunks_match_single_call(n=5, b=3, input_size=10, hidden_size=4, *, split=2, seed=0):
    """Max abs difference between one forward/backward call and two chunks split at ``split``.

    The first chunk's final ``c, h`` start the second; the second chunk's ``dc0, dh0`` end the
    first's backward. Outputs, final states and every gradient are compared.

    Examples
    --------
    >>> check_chunks_match_single_call() < 1e-12
    True
    """
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
    """Max abs difference after ``W -> to_pytorch_layout -> from_pytorch_layout``, and the
    gates computed from the PyTorch-layout arrays (``x W_ih^T + h W_hh^T + b``, order i, f, g, o)
    against ours. Both must be exactly 0: the conversion only moves numbers.

    Examples
    --------
    >>> check_pytorch_layout_roundtrip()
    0.0
    """
    X, W, c0, h0, _ = _random_problem(1, 3, input_size, hidden_size, seed)
    weight_ih, weight_hh, bias_ih, bias_hh = to_pytorch_layout(W)
    d = hidden_size
    x = X[0]
    z_ours = np.concatenate([np.ones((3, 1)), x, h0], axis=1) @ W  # (b, 4d), i f o g
    z_torch = np.concatenate([np.ones((3, 1)), x, h0], axis=1) @ np.concatenate(
        [(bias_ih + bias_hh)[None], weight_ih.T, weight_hh.T])  # (b, 4d), i f g o
    z_torch = np.concatenate(
        [z_torch[:, :2 * d], z_torch[:, 3 * d:], z_torch[:, 2 * d:3 * d]], axis=1)
    roundtrip = from_pytorch_layout(weight_ih, weight_hh, bias_ih, bias_hh)
    return float(max(np.abs(roundtrip - W).max(), np.abs(z_torch - z_ours).max()))


def check_extremes(n=5000, b=2, input_size=3, hidden_size=4, *, seed=0):
    """True if huge weights (x 1e4) and a long sequence (n = 5000) give finite results.

    Runs forward and backward with weights scaled by 1e4, in float64 and float32, and forward
    and backward over ``n`` steps, with NumPy's floating-point errors set to raise: any
    overflow, invalid operation or division by zero is a failure.

    Examples
    --------
    >>> check_extremes(n=200)
    True
    """
    with np.errstate(all="raise", under="ignore"):
        for dtype in (np.float64, np.float32):
            X, W, c0, h0, R = _random_problem(7, b, input_size, hidden_size, seed, dtype)
            H, c, h, cache = forward(X, W * 1e4, c0, h0)
            grads = backward(R, cache)
            if not all(np.isfinite(a).all() for a in (H, c, h, *grads)):
                return False
        X, W, c0, h0, R = _random_problem(n, b, input_size, hidden_size, seed)
        H, c, h, cache = forward(X, W, c0, h0)
        grads = backward(R, cache)
        return bool(all(np.isfinite(a).all() for a in (H, c, h, *grads)))


# --- Initialization schemes -------------------------------------------------------------------
# The second half of the reference (the per-gate cell and the sequence model) initializes each
# matrix by its role, as Keras and most courses do: Xavier-uniform for the input matrices W_x*,
# an orthogonal matrix for each gate's recurrent matrix W_h* (all its singular values are 1, so
# multiplying h by it step after step neither blows h up nor shrinks it), and zero biases but
# the forget gate's. init_weights above is the fused core's simpler one-line scheme.


def _check_real(name, value):
    """Scalars like ``forget_bias`` and ``gain``: a finite real number, not a bool."""
    if (isinstance(value, (bool, np.bool_))
            or not isinstance(value, (int, float, np.integer, np.floating))):
        raise TypeError(f"{name} must be a real number; got {type(value).__name__}")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}")


def _check_flag(name, value):
    """Switches like ``return_sequences`` are True or False, never a truthy stand-in."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {type(value).__name__}")


def _matrix_shape(shape):
    """Check ``shape = (rows, columns)``, both positive integers; return it as a tuple."""
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape must be a tuple (rows, columns); got {type(shape).__name__}")
    if len(shape) != 2:
        raise ValueError(f"shape must be (rows, columns), two sizes; got {tuple(shape)}")
    for k, size in enumerate(shape):
        _check_size(f"shape[{k}]", size)
    return int(shape[0]), int(shape[1])


def xavier_uniform(shape, *, rng=None, dtype=np.float64):
    """Xavier (Glorot) uniform initialization: ``U(-a, a)`` with
    ``a = sqrt(6 / (fan_in + fan_out))``.

    Row-vector convention: a ``(fan_in, fan_out)`` matrix ``M`` maps ``x (..., fan_in)`` to
    ``x @ M (..., fan_out)``. The variance ``a^2 / 3 = 2 / (fan_in + fan_out)`` is the
    compromise between keeping activations at unit scale going forward (``1 / fan_in``) and
    gradients going backward (``1 / fan_out``) (Glorot and Bengio, AISTATS 2010). Used for the
    input matrices ``W_x*`` and the output projection ``W_y``.

    Parameters
    ----------
    shape : tuple of two ints
        ``(fan_in, fan_out)``.
    rng : None, int or numpy.random.Generator
        A seed, a generator (its stream continues), or None for fresh entropy.
    dtype : numpy floating dtype, default float64

    Returns
    -------
    ndarray, shape ``shape``

    Examples
    --------
    >>> M = xavier_uniform((300, 200), rng=0)
    >>> M.shape, M.dtype
    ((300, 200), dtype('float64'))
    >>> a = np.sqrt(6 / (300 + 200))
    >>> bool(np.all(np.abs(M) <= a))                       # inside the bounds
    True
    >>> bool(abs(M.var() / (2 / (300 + 200)) - 1) < 0.05)   # variance 2 / (fan_in + fan_out)
    True
    >>> xavier_uniform((3, 2), rng=0, dtype=np.float32).dtype
    dtype('float32')
    """
    fan_in, fan_out = _matrix_shape(shape)
    dtype, rng = _float_dtype(dtype), _as_generator(rng)
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_in, fan_out)).astype(dtype)  # (fan_in, fan_out)


def orthogonal(shape, gain=1.0, *, rng=None, dtype=np.float64):
    """A random orthogonal matrix times ``gain``, uniformly (Haar) distributed.

    Square: ``Q^T Q = Q Q^T = gain^2 I``. Tall ``(rows > columns)``: orthonormal columns,
    ``Q^T Q = gain^2 I``. Wide: orthonormal rows, ``Q Q^T = gain^2 I``. Used for each gate's
    recurrent matrix ``W_h*``: all its singular values are ``gain``, so ``h @ W_h`` keeps the
    norm of ``h`` (Saxe, McClelland, Ganguli, ICLR 2014).

    Method: the QR decomposition of a Gaussian matrix, with the sign fix. ``np.linalg.qr`` (LAPACK
    Householder) returns an R whose diagonal may be negative, and its Q is then *not* uniformly
    distributed (e.g. ``Q[0, 0]`` is always negative). Multiplying Q's columns by
    ``sign(diag(R))`` picks the unique QR with ``diag(R) > 0``, whose Q is Haar-distributed
    (F. Mezzadri, "How to generate random matrices from the classical compact groups",
    Notices of the AMS 54(5), 2007).

    Parameters
    ----------
    shape : tuple of two ints
        ``(rows, columns)``; any two positive sizes.
    gain : float, default 1.0
        The common singular value.
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
    >>> tall = orthogonal((5, 3), rng=0)                     # orthonormal columns
    >>> bool(np.allclose(tall.T @ tall, np.eye(3), rtol=0, atol=1e-12))
    True
    >>> wide = orthogonal((3, 5), gain=2.0, rng=0)           # orthonormal rows, times 2
    >>> bool(np.allclose(wide @ wide.T, 4 * np.eye(3), rtol=0, atol=1e-12))
    True
    """
    rows, columns = _matrix_shape(shape)
    _check_real("gain", gain)
    dtype, rng = _float_dtype(dtype), _as_generator(rng)
    A = rng.standard_normal((max(rows, columns), min(rows, columns)))  # tall (or square)
    Q, R = np.linalg.qr(A)  # Q: (max, min), orthonormal columns
    Q = Q * np.where(np.diag(R) < 0, -1.0, 1.0)  # the sign fix: diag(R) > 0, Q Haar-distributed
    if rows < columns:
        Q = Q.T  # wide: orthonormal rows
    return (gain * Q).astype(dtype)  # (rows, columns)


# --- Cell baseline: LSTMCell ------------------------------------------------------------------
# The textbook formulation: one matrix per gate and per source (x or h), eq-gates written out
# line by line. It shares no computation with the fused forward above, so stepping it through a
# sequence and comparing with forward() is a real check (check_cell_matches_fused). The bridge
# between the two halves: stacking the per-gate parameters in the gate order i, f, o, g gives W,
#
#   W = [[b_i,  b_f,  b_o,  b_g ],      row 0            (1, 4d)
#        [W_xi, W_xf, W_xo, W_xg],      input rows       (input_size, 4d)
#        [W_hi, W_hf, W_ho, W_hg]]      recurrent rows   (d, 4d)

_GATES = ("i", "f", "o", "g")  # the column-block order of W
_CELL_PARAMS = (
    *(f"W_x{k}" for k in _GATES),  # (input_size, d) each
    *(f"W_h{k}" for k in _GATES),  # (d, d) each
    *(f"b_{k}" for k in _GATES),  # (d,) each
)


def _init_cell_params(input_size, d, forget_bias, rng, dtype):
    """Per-gate parameters: Xavier-uniform W_x*, orthogonal W_h*, zero biases but b_f."""
    params = {f"W_x{k}": xavier_uniform((input_size, d), rng=rng, dtype=dtype) for k in _GATES}
    params.update({f"W_h{k}": orthogonal((d, d), rng=rng, dtype=dtype) for k in _GATES})
    params.update({f"b_{k}": np.zeros(d, dtype=dtype) for k in _GATES})
    params["b_f"][:] = forget_bias  # forget gate open: the cell remembers from the start
    return params


def _stack_gates(params):
    """Per-gate parameters -> the fused ``W`` (1 + input_size + d, 4d), by the picture above."""
    bias = np.concatenate([params[f"b_{k}"] for k in _GATES])[None]  # (1, 4d)
    W_x = np.concatenate([params[f"W_x{k}"] for k in _GATES], axis=1)  # (input_size, 4d)
    W_h = np.concatenate([params[f"W_h{k}"] for k in _GATES], axis=1)  # (d, 4d)
    return np.concatenate([bias, W_x, W_h])


def _split_gates(W, input_size):
    """The fused ``W`` -> per-gate parameters (fresh arrays), keyed like ``_CELL_PARAMS``."""
    d = W.shape[1] // 4
    params = {}
    for part, rows in (("W_x", slice(1, 1 + input_size)), ("W_h", slice(1 + input_size, None)),
                       ("b_", 0)):
        for k, gate in enumerate(_GATES):
            params[part + gate] = W[rows, k * d:(k + 1) * d].copy()  # column block k of those rows
    return params


class LSTMCell:
    """One LSTM step in the textbook form: a matrix per gate, the equations line by line.

    Implements eq-gates, eq-cell and eq-hidden for a single timestep, with row vectors
    (``x`` is ``(batch, input_size)``, batch first)::

        i = sigmoid(x @ W_xi + h_prev @ W_hi + b_i)        g = tanh(x @ W_xg + h_prev @ W_hg + b_g)
        f = sigmoid(x @ W_xf + h_prev @ W_hf + b_f)        c = f * c_prev + i * g
        o = sigmoid(x @ W_xo + h_prev @ W_ho + b_o)        h = o * tanh(c)

    Stacking the parameters in the gate order i, f, o, g gives exactly the fused ``W`` of
    :func:`forward`: ``W = [[b_i, b_f, b_o, b_g], [W_xi, ..., W_xg], [W_hi, ..., W_hg]]``
    (:meth:`to_weights`, :meth:`from_weights`). That is the bridge between the two halves of this
    reference, and :func:`check_cell_matches_fused` proves the two compute the same thing.

    Initialization: ``W_x*`` by :func:`xavier_uniform`, each ``W_h*`` by :func:`orthogonal`,
    biases zero except ``b_f = forget_bias``. A *positive* forget bias keeps the forget gate
    *open* at the start (``f = sigmoid(1) ~ 0.73``; ``sigmoid(3) ~ 0.95``), so ``c_t`` carries
    most of ``c_{t-1}`` and the cell *remembers*, and gradients reach back many steps, from the
    first update on; a bias of 0 gives ``f = 0.5``, halving memory and gradient every step.
    The default 1.0 is Keras's ``unit_forget_bias`` and the recommendation of Jozefowicz et al.
    (2015); the fused core's :func:`init_weights` uses 3.0, the other common choice, which
    remembers longer from the start (see the docs' initialization demo for measured gradients).

    Parameters
    ----------
    input_size, hidden_size : int
        Features per input step, and units per state (``d``).
    forget_bias : float, default 1.0
        Initial ``b_f``.
    rng : None, int or numpy.random.Generator
        A seed, a generator (its stream continues), or None for fresh entropy.
    dtype : numpy floating dtype, default float64

    Attributes
    ----------
    W_xi, W_xf, W_xo, W_xg : ndarray, shape (input_size, hidden_size)
    W_hi, W_hf, W_ho, W_hg : ndarray, shape (hidden_size, hidden_size)
    b_i, b_f, b_o, b_g : ndarray, shape (hidden_size,)
    input_size, hidden_size : int
    dtype : numpy.dtype

    Examples
    --------
    >>> cell = LSTMCell(3, 2, rng=0)
    >>> cell.W_xi.shape, cell.W_hi.shape, cell.b_i.shape
    ((3, 2), (2, 2), (2,))
    >>> cell.b_f.tolist(), cell.b_i.tolist()             # the forget gate starts open
    ([1.0, 1.0], [0.0, 0.0])
    >>> x = np.arange(4 * 3).reshape(4, 3) / 12           # (batch=4, input_size=3)
    >>> h, c = cell.forward(x)                            # zero initial state; note (h, c)
    >>> h.shape, c.shape
    ((4, 2), (4, 2))
    >>> H, c_fused, h_fused, _ = forward(x[None], cell.to_weights())   # the core: (n=1, b, in)
    >>> bool(np.abs(h - h_fused).max() < 1e-12), bool(np.abs(c - c_fused).max() < 1e-12)
    (True, True)
    """

    def __init__(self, input_size, hidden_size, *, forget_bias=1.0, rng=None, dtype=np.float64):
        _check_size("input_size", input_size)
        _check_size("hidden_size", hidden_size)
        _check_real("forget_bias", forget_bias)
        dtype, rng = _float_dtype(dtype), _as_generator(rng)
        self._set(_init_cell_params(input_size, hidden_size, forget_bias, rng, dtype))

    def _set(self, params):
        """Store the per-gate parameters as attributes, and the sizes they imply."""
        for name in _CELL_PARAMS:
            setattr(self, name, params[name])
        self.input_size, self.hidden_size = self.W_xi.shape  # (input_size, d)
        self.dtype = self.W_xi.dtype

    def forward(self, x, h_prev=None, c_prev=None):
        """One step: ``(h, c)`` from the input ``x`` and the previous ``h_prev``, ``c_prev``.

        Implements eq-gates, eq-cell and eq-hidden. Note the order: the cell takes and returns
        ``(h, c)``, like PyTorch's ``LSTMCell``; the fused core's :func:`forward` uses ``(c, h)``.

        Parameters
        ----------
        x : array_like, shape (batch, input_size)
            Batch first. Any other layout is an error, never transposed: a ``(input_size,
            batch)`` guess would be ambiguous whenever batch == input_size.
        h_prev, c_prev : array_like, shape (batch, hidden_size), optional
            Previous hidden and cell state; zeros when omitted.

        Returns
        -------
        h, c : ndarray, shape (batch, hidden_size)
            In the common floating type of ``x``, the states and the parameters.

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
        x, h_prev, c_prev = self._check_step_inputs(x, h_prev, c_prev)
        i = sigmoid(x @ self.W_xi + h_prev @ self.W_hi + self.b_i)  # (b, d)  input gate   eq-gates
        f = sigmoid(x @ self.W_xf + h_prev @ self.W_hf + self.b_f)  # (b, d)  forget gate  eq-gates
        o = sigmoid(x @ self.W_xo + h_prev @ self.W_ho + self.b_o)  # (b, d)  output gate  eq-gates
        g = np.tanh(x @ self.W_xg + h_prev @ self.W_hg + self.b_g)  # (b, d)  candidate    eq-gates
        c = f * c_prev + i * g  # (b, d)  eq-cell
        h = o * np.tanh(c)  # (b, d)  eq-hidden
        return h, c

    def _check_step_inputs(self, x, h_prev, c_prev):
        """Validate forward's arguments; zeros for missing states."""
        x = _as_float_array("x", x)
        _check_shape("x", x, (None, self.input_size), "(batch, input_size)")
        b = x.shape[0]
        states = []
        for name, state in (("h_prev", h_prev), ("c_prev", c_prev)):
            if state is None:
                state = np.zeros((b, self.hidden_size), dtype=np.result_type(x, self.dtype))
            state = _as_float_array(name, state)
            _check_shape(name, state, (b, self.hidden_size), "(batch, hidden_size)")
            states.append(state)
        return x, states[0], states[1]

    def to_weights(self):
        """The fused weight matrix ``W`` of :func:`forward`, made from this cell's parameters.

        Returns
        -------
        W : ndarray, shape (1 + input_size + hidden_size, 4 * hidden_size)
            Row 0 ``[b_i, b_f, b_o, b_g]``, then ``[W_xi, W_xf, W_xo, W_xg]``, then
            ``[W_hi, W_hf, W_ho, W_hg]``: the numbers are moved, not computed, so
            ``LSTMCell.from_weights(W).to_weights()`` equals ``W`` bit for bit.

        Examples
        --------
        >>> cell = LSTMCell(3, 2, rng=0)
        >>> W = cell.to_weights()
        >>> W.shape                                           # (1 + 3 + 2, 4 * 2)
        (6, 8)
        >>> bool(np.array_equal(W[1:4, 2:4], cell.W_xf))      # input rows, forget block
        True
        >>> bool(np.array_equal(W[4:, 6:8], cell.W_hg))       # recurrent rows, candidate block
        True
        """
        return _stack_gates({name: getattr(self, name) for name in _CELL_PARAMS})

    @classmethod
    def from_weights(cls, W):
        """A cell holding the parameters of a fused ``W`` (copies; ``W`` is not kept).

        Parameters
        ----------
        W : array_like, shape (1 + input_size + hidden_size, 4 * hidden_size)
            As made by :func:`init_weights` or :meth:`to_weights`; the cell takes its dtype.

        Returns
        -------
        LSTMCell

        Examples
        --------
        >>> W = init_weights(3, 2, rng=0)
        >>> cell = LSTMCell.from_weights(W)
        >>> cell.input_size, cell.hidden_size, cell.b_f.tolist()   # init_weights' forget bias 3
        (3, 2, [3.0, 3.0])
        >>> bool(np.array_equal(cell.to_weights(), W))            # exact round trip
        True
        """
        W = _as_float_array("W", W)
        input_size, _ = _sizes_of(W)
        cell = cls.__new__(cls)
        cell._set(_split_gates(W, input_size))
        return cell


def check_cell_matches_fused(n=5, b=3, input_size=10, hidden_size=4, *, seed=0):
    """Max abs difference between :class:`LSTMCell` stepped through a sequence and :func:`forward`.

    The cell is built from a fused ``W`` with a nonzero bias everywhere
    (:meth:`LSTMCell.from_weights`) and stepped by hand from random ``h0, c0``; every ``h_t``,
    the final ``c`` and ``h``, and the round trip ``to_weights() == W`` are compared. The two
    computations share no code, so they must agree to round-off (< 1e-12 in float64).

    Examples
    --------
    >>> check_cell_matches_fused() < 1e-12
    True
    >>> check_cell_matches_fused(n=7, b=1, input_size=2, hidden_size=3, seed=1) < 1e-12
    True
    """
    X, W, c0, h0, _ = _random_problem(n, b, input_size, hidden_size, seed)
    H, c, h, _ = forward(X, W, c0, h0)  # the core: state order (c, h)
    cell = LSTMCell.from_weights(W)
    h_t, c_t = h0, c0
    differences = [np.abs(cell.to_weights() - W).max()]
    for t in range(n):
        h_t, c_t = cell.forward(X[t], h_t, c_t)  # the cell: state order (h, c)
        differences.append(np.abs(h_t - H[t]).max())
    differences += [np.abs(c_t - c).max(), np.abs(h_t - h).max()]
    return float(max(differences))


# --- Sequence model: LSTM ---------------------------------------------------------------------
# A model a user can train: an LSTMCell run over batch-first sequences, plus an optional linear
# output layer  y_t = h_t @ W_y + b_y  (eq-output). Design: the parameters live per gate, in
# the model's cell (model.cell.W_xi, ...), the names a reader knows from the equations; each
# forward stacks them into the fused W (a copy of the parameters, negligible next to n steps of
# matrix products) and runs the fused core, so the model is as fast and as exact as the core.
# backward splits dW back into per-gate gradients. The cell itself is never stepped here: it
# holds the parameters, and model.cell.forward steps the same network by hand.

_FILE_FORMAT = "lstm_reference.LSTM/1"  # the marker that tells our .npz files from foreign ones


def _model_shapes(input_size, d, output_size):
    """Every parameter's name and shape, in the order of ``LSTM.get_params``."""
    shapes = {**{f"W_x{k}": (input_size, d) for k in _GATES}, **{f"W_h{k}": (d, d) for k in _GATES},
              **{f"b_{k}": (d,) for k in _GATES}}
    if output_size is not None:
        shapes.update(W_y=(d, output_size), b_y=(output_size,))
    return shapes


class LSTM:
    """An LSTM over batch-first sequences, with an optional linear output layer; trainable.

    Implements eq-gates, eq-cell, eq-hidden for every step (on the fused core, :func:`forward`
    and :func:`backward`) and ``Y = H @ W_y + b_y`` (eq-output) when ``output_size`` is given.

    Parameters
    ----------
    input_size, hidden_size : int
        Features per input step, and units per state (``d``).
    output_size : int, optional
        Size of the linear output layer ``(hidden_size, output_size)`` + bias; without it the
        outputs are the hidden states themselves.
    forget_bias : float, default 1.0
        Initial forget-gate bias (see :class:`LSTMCell` for why it is positive).
    rng : None, int or numpy.random.Generator
    dtype : numpy floating dtype, default float64

    Attributes
    ----------
    cell : LSTMCell
        Holds the recurrent parameters ``W_x*, W_h*, b_*`` (initialized as in :class:`LSTMCell`).
    W_y : ndarray, shape (hidden_size, output_size), or None
        Xavier-uniform initialized; None without an output layer.
    b_y : ndarray, shape (output_size,), or None
        Zeros initially.
    grads : dict
        Set by :meth:`backward`: the gradient of every parameter, keyed like :meth:`get_params`.
    input_size, hidden_size, output_size, dtype

    Examples
    --------
    >>> model = LSTM(input_size=3, hidden_size=4, output_size=2, rng=0)
    >>> X = np.arange(2 * 5 * 3).reshape(2, 5, 3) / 30       # (batch=2, seq_len=5, input_size=3)
    >>> Y = model.forward(X)                                   # one output per step
    >>> Y.shape
    (2, 5, 2)
    >>> dX = model.backward(np.ones_like(Y))                   # gradients of Y.sum()
    >>> dX.shape, model.grads["W_hf"].shape, model.grads["W_y"].shape
    ((2, 5, 3), (4, 4), (4, 2))
    >>> list(model.grads) == list(model.get_params())
    True
    """

    def __init__(self, input_size, hidden_size, output_size=None, *, forget_bias=1.0, rng=None,
                 dtype=np.float64):
        if output_size is not None:
            _check_size("output_size", output_size)
        rng = _as_generator(rng)
        self.cell = LSTMCell(input_size, hidden_size, forget_bias=forget_bias, rng=rng, dtype=dtype)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.dtype = self.cell.dtype
        self.W_y = self.b_y = None
        if output_size is not None:
            self.W_y = xavier_uniform((hidden_size, output_size), rng=rng, dtype=dtype)  # (d, out)
            self.b_y = np.zeros(output_size, dtype=dtype)  # (out,)
        self.grads = {}
        self._last = None  # what backward needs from the last forward (see forward)

    # -- parameters ------------------------------------------------------------------------------

    def get_params(self):
        """Copies of every parameter, by name.

        Returns
        -------
        dict
            ``"W_xi", "W_xf", "W_xo", "W_xg"`` ``(input_size, hidden_size)``;
            ``"W_hi", ..., "W_hg"`` ``(hidden_size, hidden_size)``; ``"b_i", ..., "b_g"``
            ``(hidden_size,)``; and with an output layer ``"W_y"`` ``(hidden_size,
            output_size)``, ``"b_y"`` ``(output_size,)``. Editing them leaves the model as it was.

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
        params = {name: getattr(self.cell, name).copy() for name in _CELL_PARAMS}
        if self.output_size is not None:
            params.update(W_y=self.W_y.copy(), b_y=self.b_y.copy())
        return params

    def set_params(self, params):
        """Replace every parameter with a copy of ``params[name]``, after checking all of them.

        Parameters
        ----------
        params : dict
            Exactly the names of :meth:`get_params`, each an array of that shape and of the
            model's dtype (a float64 array is not silently rounded into a float32 model).

        Raises
        ------
        ValueError
            An unknown or missing name, or a wrong shape; the message names the entry.
        TypeError
            ``params`` is not a mapping, or an entry has the wrong dtype.
            On any error the model is left unchanged.

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
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a dict of arrays like get_params(); "
                            f"got {type(params).__name__}")
        shapes = _model_shapes(self.input_size, self.hidden_size, self.output_size)
        unknown, missing = sorted(set(params) - set(shapes)), [k for k in shapes if k not in params]
        if unknown or missing:
            raise ValueError(f"params must have exactly the names {list(shapes)}; "
                             f"unknown: {unknown}, missing: {missing}")
        meanings = {"W_x": "(input_size, hidden_size)", "W_h": "(hidden_size, hidden_size)",
                    "b_": "(hidden_size,)", "W_y": "(hidden_size, output_size)",
                    "b_y": "(output_size,)"}
        checked = {}
        for name, shape in shapes.items():
            value = _as_float_array(f"params[{name!r}]", params[name])
            if value.dtype != self.dtype:
                raise TypeError(f"params[{name!r}] must have the model's dtype {self.dtype}; "
                                f"got {value.dtype}")
            meaning = meanings[name] if name in meanings else meanings[name[:-1]]
            _check_shape(f"params[{name!r}]", value, shape, meaning)
            checked[name] = value.copy()
        self.cell._set({name: checked[name] for name in _CELL_PARAMS})
        if self.output_size is not None:
            self.W_y, self.b_y = checked["W_y"], checked["b_y"]

    # -- forward and backward ----------------------------------------------------------------------

    def forward(self, X, return_sequences=True, return_state=False, h0=None, c0=None):
        """Run the model over a batch of sequences, batch first.

        Implements eq-gates, eq-cell, eq-hidden for every step and eq-output. Remembers what
        :meth:`backward` needs; the next forward call replaces it.

        Parameters
        ----------
        X : array_like, shape (batch, seq_len, input_size)
            Batch first (the fused core is time-major; the model transposes internally).
        return_sequences : bool, default True
            Return the output of every step, ``(batch, seq_len, out)``, or only of the last
            step, ``(batch, out)``. ``out`` is ``output_size``, or ``hidden_size`` without an
            output layer.
        return_state : bool, default False
            Also return the final states ``h, c``.
        h0, c0 : array_like, shape (batch, hidden_size), optional
            Initial states; zeros when omitted. Pass a previous call's final ``h, c`` to continue
            a sequence chunk by chunk.

        Returns
        -------
        Y : ndarray, shape (batch, seq_len, out) or (batch, out)
        h, c : ndarray, shape (batch, hidden_size)
            Only with ``return_state=True``: ``(Y, h, c)``. The order is ``(h, c)``, as for
            :class:`LSTMCell` and PyTorch; the fused core's order is ``(c, h)``.

        Examples
        --------
        >>> model = LSTM(3, 4, output_size=2, rng=0)
        >>> X = np.arange(2 * 6 * 3).reshape(2, 6, 3) / 36      # (batch=2, seq_len=6, input_size=3)
        >>> Y, h, c = model.forward(X, return_state=True)
        >>> Y.shape, h.shape, c.shape
        ((2, 6, 2), (2, 4), (2, 4))
        >>> model.forward(X, return_sequences=False).shape       # the last step only
        (2, 2)

        Two chunks, the first's final ``h, c`` starting the second, give one pass:

        >>> Y1, h1, c1 = model.forward(X[:, :4], return_state=True)
        >>> Y2 = model.forward(X[:, 4:], h0=h1, c0=c1)
        >>> bool(np.abs(np.concatenate([Y1, Y2], axis=1) - Y).max() < 1e-12)
        True
        """
        X = _as_float_array("X", X)
        if X.ndim != 3:
            raise ValueError(f"X must have shape (batch, seq_len, input_size), batch first, "
                             f"with 3 dimensions; got shape {X.shape}")
        _check_shape("X", X, (None, None, self.input_size), "(batch, seq_len, input_size)")
        if X.size == 0:
            raise ValueError(f"X must hold at least one sequence of at least one step; "
                             f"got shape {X.shape}")
        _check_flag("return_sequences", return_sequences)
        _check_flag("return_state", return_state)
        # time-major, and private to the cache
        X_tm = X.transpose(1, 0, 2).copy()  # (n, b, input_size)
        H, c, h, cache = forward(X_tm, self.cell.to_weights(), c0, h0)  # H: (n, b, d)
        W_y, b_y = (None, None) if self.W_y is None else (self.W_y.copy(), self.b_y.copy())
        outputs = H.transpose(1, 0, 2) if return_sequences else H[-1]  # (b, n, d) or (b, d)
        # eq-output
        Y = outputs.copy() if W_y is None else outputs @ W_y + b_y  # (b, n, out) or (b, out)
        self._last = {"cache": cache, "H": H, "W_y": W_y, "Y_shape": Y.shape,
                      "return_sequences": return_sequences}
        return (Y, h, c) if return_state else Y

    def backward(self, dY, dh=None, dc=None):
        """Gradients through the last :meth:`forward` call; returns ``dX``, sets ``self.grads``.

        Implements eq-output in reverse, then the fused :func:`backward` (eq-dh through eq-dW),
        and splits ``dW`` into the per-gate gradients. Gradients are with respect to the
        parameters as they were at that forward call.

        Parameters
        ----------
        dY : array_like, shaped like the last forward's output Y
            dLoss/dY.
        dh, dc : array_like, shape (batch, hidden_size), optional
            dLoss/dh and dLoss/dc for the final states (with ``return_state=True``); zeros
            when omitted.

        Returns
        -------
        dX : ndarray, shape (batch, seq_len, input_size)

        Raises
        ------
        ValueError
            No forward call yet, or a shape that does not match it. ``grads`` is then unchanged.

        Examples
        --------
        >>> model = LSTM(2, 3, output_size=1, rng=0)
        >>> X = np.arange(1 * 4 * 2).reshape(1, 4, 2) / 8       # (batch=1, seq_len=4, input_size=2)
        >>> y = model.forward(X, return_sequences=False)          # (1, 1): the last step
        >>> dX = model.backward(np.ones_like(y))                   # gradients of y.sum()
        >>> dX.shape, sorted(model.grads)[:3]
        ((1, 4, 2), ['W_hf', 'W_hg', 'W_hi'])

        Compare one entry with central differences:

        >>> def loss(b_f):
        ...     params = model.get_params()
        ...     params["b_f"] = b_f
        ...     probe = LSTM(2, 3, output_size=1)
        ...     probe.set_params(params)
        ...     return probe.forward(X, return_sequences=False).sum()
        >>> numeric = numerical_gradient(loss, model.cell.b_f)
        >>> bool(np.abs(model.grads["b_f"] - numeric).max() < 1e-9)
        True
        """
        if self._last is None:
            raise ValueError(
                "backward needs a forward call first: it differentiates the last forward"
            )
        last = self._last
        H, W_y = last["H"], last["W_y"]  # (n, b, d), (d, out) or None
        n, b, d = H.shape  # time, batch, hidden
        dY = _as_float_array("dY", dY)
        meaning = "(batch, seq_len, out)" if last["return_sequences"] else "(batch, out)"
        _check_shape("dY", dY, last["Y_shape"], meaning + " like the last forward's output")
        dY = dY.astype(H.dtype, copy=False)
        dh, dc = (self._state_gradient(name, value, b, H.dtype)
                  for name, value in (("dh", dh), ("dc", dc)))

        grads = {}
        if last["return_sequences"]:
            dY_tm = dY.transpose(1, 0, 2)  # (n, b, out)  time-major, like H
            dH = dY_tm if W_y is None else dY_tm @ W_y.T  # (n, b, d)  eq-output, reversed
            if W_y is not None:
                grads["W_y"] = H.reshape(n * b, d).T @ dY_tm.reshape(n * b, -1)  # (d, out)
                grads["b_y"] = dY_tm.sum(axis=(0, 1))  # (out,)
        else:  # only the last step had an output: it is the final h, so its gradient joins dh
            dH = np.zeros_like(H)  # (n, b, d)
            dh = dh + (dY if W_y is None else dY @ W_y.T)  # (b, d)
            if W_y is not None:
                grads["W_y"], grads["b_y"] = H[-1].T @ dY, dY.sum(axis=0)  # (d, out), (out,)
        dX_tm, dW, _, _ = backward(dH, last["cache"], dc=dc, dh=dh)  # the fused core
        self.grads = {**_split_gates(dW, self.input_size), **grads}
        return dX_tm.transpose(1, 0, 2).copy()  # (b, n, input_size)

    def _state_gradient(self, name, value, b, dtype):
        """Check ``dh`` or ``dc`` against the last forward's batch; zeros when omitted."""
        if value is None:
            return np.zeros((b, self.hidden_size), dtype=dtype)
        value = _as_float_array(name, value)
        _check_shape(name, value, (b, self.hidden_size),
                     "(batch, hidden_size) like the last forward's state")
        return value.astype(dtype, copy=False)

    # -- files -------------------------------------------------------------------------------------

    def save(self, path):
        """Write the sizes and every parameter to one ``.npz`` file
        (NumPy adds ``.npz`` if missing).

        The file holds the arrays of :meth:`get_params`, ``"sizes"`` = ``[input_size,
        hidden_size, output_size or 0]`` and ``"format"``, a marker :meth:`load` checks. No
        pickled objects: it loads with ``allow_pickle=False``.

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
        sizes = np.array([self.input_size, self.hidden_size, self.output_size or 0], dtype=np.int64)
        np.savez(path, format=np.array(_FILE_FORMAT), sizes=sizes, **self.get_params())

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`, checking every entry.

        Loads with ``allow_pickle=False`` (a file can never run code), then checks the format
        marker, the sizes, the names, and every array's shape and dtype.

        Parameters
        ----------
        path : str or os.PathLike or file

        Returns
        -------
        LSTM

        Raises
        ------
        ValueError
            The file is not one of ours (not an ``.npz``, no or a wrong marker), holds pickled
            objects, or an entry is missing, unknown or of the wrong shape or dtype.

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
        if isinstance(path, (str, os.PathLike)):
            with open(path, "rb") as file:  # we open and close it: np.load leaks it on a broken zip
                arrays = _read_npz(file, path)
        else:
            arrays = _read_npz(path, path)
        try:
            return cls._from_arrays(arrays)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path} is not an LSTM file written by LSTM.save: {error}") from error

    @classmethod
    def _from_arrays(cls, arrays):
        """A model from a loaded file's arrays; TypeError or ValueError on anything unexpected."""
        marker = arrays.pop("format", None)
        if marker is None:
            raise ValueError("no 'format' entry")
        if marker.shape != () or marker.dtype.kind != "U" or str(marker) != _FILE_FORMAT:
            raise ValueError(f"'format' must be {_FILE_FORMAT!r}; got {marker!r}")
        sizes = arrays.pop("sizes", None)
        if sizes is None or sizes.shape != (3,) or sizes.dtype.kind not in "iu":
            raise ValueError(
                f"'sizes' must be 3 integers [input_size, hidden_size, output_size or 0]; "
                f"got {sizes!r}"
            )
        input_size, hidden_size, output_size = (int(s) for s in sizes)
        output_size = output_size or None
        # Shapes first, so that tampered sizes cannot make the constructor allocate more than
        # the file holds.
        for name, shape in _model_shapes(input_size, hidden_size, output_size).items():
            if name not in arrays or arrays[name].shape != shape:
                found = arrays[name].shape if name in arrays else "no such entry"
                raise ValueError(f"entry {name!r} must have shape {shape} "
                                 f"for sizes {sizes.tolist()}; got {found}")
            # save writes one floating dtype throughout
            if arrays[name].dtype != arrays["W_xi"].dtype:
                raise ValueError(f"entry {name!r} must have dtype {arrays['W_xi'].dtype} "
                                 f"like 'W_xi'; got {arrays[name].dtype}")
        model = cls(input_size, hidden_size, output_size, rng=0,
                    dtype=_float_dtype(arrays["W_xi"].dtype))
        model.set_params(arrays)  # checks every name, shape and dtype again, and no extra names
        return model


def _read_npz(file, path):
    """Every array of an ``.npz``, read without pickle; ValueError if it is not an ``.npz``
    of plain arrays."""
    try:
        archive = np.load(file, allow_pickle=False)
    except (ValueError, EOFError, zipfile.BadZipFile) as error:
        # pickled, empty, or not NumPy at all
        raise ValueError(f"{path} is not an LSTM file written by LSTM.save: {error}") from error
    if not isinstance(archive, np.lib.npyio.NpzFile):  # a single .npy array
        raise ValueError(f"{path} is not an LSTM file written by LSTM.save: not an .npz archive")
    with archive:
        arrays = {}
        for key in archive.files:
            try:
                arrays[key] = archive[key]
            except (ValueError, EOFError, zipfile.BadZipFile) as error:
                # ValueError: an object array
                raise ValueError(f"{path}: entry {key!r} is not a plain array, refused "
                                 f"(pickled objects are never loaded: unpickling can run "
                                 f"arbitrary code): {error}") from error
    return arrays


def check_model_gradients(batch=3, seq_len=4, input_size=5, hidden_size=4, output_size=3, *,
                          return_sequences=True, return_state=True, seed=0, delta=1e-5, floor=1e-3):
    """Compare :meth:`LSTM.backward` with central differences, for every parameter and ``X``.

    The loss is ``sum(Y * R)``, plus ``sum(h * Rh) + sum(c * Rc)`` with ``return_state``, for
    fixed random ``R, Rh, Rc``, from random ``h0, c0`` and a nonzero bias everywhere. The error
    is measured as in :func:`check_gradients` (relative, with a ``floor`` for near-zero elements).

    Returns
    -------
    dict
        The largest error for each parameter name and for ``"X"``.

    Examples
    --------
    >>> errors = check_model_gradients()
    >>> sorted(errors)[:4], len(errors)                     # 14 parameters and X
    (['W_hf', 'W_hg', 'W_hi', 'W_ho'], 15)
    >>> all(e < 1e-6 for e in
    ...     check_model_gradients(return_sequences=False, output_size=None).values())
    True
    """
    rng = np.random.default_rng(seed)
    model = LSTM(input_size, hidden_size, output_size, rng=rng)
    params = model.get_params()
    for k in _GATES:
        # exercise every bias
        params[f"b_{k}"] = params[f"b_{k}"] + 0.1 * rng.standard_normal(hidden_size)
    model.set_params(params)
    X = rng.standard_normal((batch, seq_len, input_size))
    h0, c0, Rh, Rc = rng.standard_normal((4, batch, hidden_size))
    out = output_size or hidden_size
    R = rng.standard_normal((batch, seq_len, out) if return_sequences else (batch, out))

    def loss(X, **params):
        model.set_params(params)
        result = model.forward(X, return_sequences, return_state, h0, c0)
        if not return_state:
            return np.sum(result * R)
        Y, h, c = result
        return np.sum(Y * R) + np.sum(h * Rh) + np.sum(c * Rc)

    loss(X, **params)
    analytic = {"X": model.backward(R, *((Rh, Rc) if return_state else ())), **model.grads}
    point = {"X": X, **params}
    errors = {}
    for name, value in point.items():
        def loss_of(v, name=name):  # the loss as a function of this one argument
            return loss(**{**point, name: v})

        a, numeric = analytic[name], numerical_gradient(loss_of, value, delta)
        errors[name] = float(np.max(
            np.abs(a - numeric) / np.maximum(np.abs(a) + np.abs(numeric), floor)))
    return errors


# --- Self-check: python lstm_reference.py -----------------------------------------------------


def _checks():
    """(name, run, passes) for every check: run() returns the figure, passes(figure) -> bool."""
    return [
        ("sequential steps == one batched call (max abs diff)",
         check_sequential_matches_batch, lambda e: e < 1e-12),
        ("analytic == numerical gradients (max rel. error over X, W, c0, h0)",
         lambda: max(check_gradients().values()), lambda e: e < 1e-6),
        ("two chunks == one call, forward and backward (max abs diff)",
         check_chunks_match_single_call, lambda e: e < 1e-12),
        ("PyTorch layout round trip and gates (max abs diff)",
         check_pytorch_layout_roundtrip, lambda e: e == 0.0),
        ("weights x 1e4 and 5000 steps stay finite, no FP errors",
         check_extremes, lambda ok: ok is True),
        ("LSTMCell stepped by hand == fused forward (max abs diff)",
         check_cell_matches_fused, lambda e: e < 1e-12),
        ("LSTM model: analytic == numerical gradients (max rel. error, every parameter and X)",
         lambda: max(max(check_model_gradients(return_sequences=every_step).values())
                     for every_step in (True, False)), lambda e: e < 1e-6),
    ]


def _self_check(out=sys.stdout):
    """Run every check, print one line each and a verdict; return the exit status (0 or 1)."""
    failures = 0
    for name, run, passes in _checks():
        try:
            figure = run()
            ok = bool(passes(figure))
            shown = f"{figure:.2e}" if isinstance(figure, float) else str(figure)
        except Exception as error:  # a crash is a failure, reported like one
            ok, shown = False, f"error: {type(error).__name__}: {error}"
        failures += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {shown}", file=out)
    total = len(_checks())
    verdict = (f"all {total} checks passed" if failures == 0
               else f"{failures} of {total} checks FAILED")
    print(f"lstm_reference {__version__} (NumPy {np.__version__}): {verdict}", file=out)
    return 0 if failures == 0 else 1


def main(argv=None):
    """Command line: ``python lstm_reference.py`` runs the self-check."""
    parser = argparse.ArgumentParser(
        prog="python lstm_reference.py",
        description="Self-check of the reference LSTM: runs each verification (sequential vs "
        "batched forward, analytic vs numerical gradients, chunked vs single call, PyTorch "
        "layout conversion, extreme inputs, per-gate cell vs fused core, sequence-model "
        "gradients), prints its figure and PASS or FAIL, and exits "
        "with status 1 if any check fails. Takes a few seconds.",
    )
    parser.parse_args(argv)
    return _self_check()


if __name__ == "__main__":
    sys.exit(main())
