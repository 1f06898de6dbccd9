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
Input ``X``        time-major ``(n, b, input_size)``: n steps, b sequences in the batch
Weights ``W``      one fused matrix ``(1 + input_size + hidden_size, 4 * hidden_size)``;
                   row 0 the bias, then the input rows, then the recurrent rows
Gate order         column blocks ``i, f, o, g`` (PyTorch: i, f, g, o; Keras: i, f, c, o)
State order        ``(c, h)`` here; PyTorch returns ``(h, c)``
Row vectors        ``z = [1, x, h] @ W`` (PyTorch computes ``W @ x``: its matrices are our transposes)
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

References
----------
- S. Hochreiter, J. Schmidhuber, "Long Short-Term Memory", Neural Computation 9(8), 1997.
- F. Gers, J. Schmidhuber, F. Cummins, "Learning to Forget", Neural Computation 12(10), 2000.
- R. Jozefowicz, W. Zaremba, I. Sutskever, "An Empirical Exploration of Recurrent Network
  Architectures", ICML 2015 (the forget-gate bias).
- A. Karpathy, the batched LSTM gist (2015): the fused-matrix design this file starts from.
- J. Appleyard, T. Kocisky, P. Blunsom, "Optimizing Performance of Recurrent Neural Networks
  on GPUs", 2016 (hoisting the input projection out of the loop, as cuDNN does).
"""

import argparse
import sys

import numpy as np

__version__ = "0.1.0"

__all__ = [
    "init_weights",
    "sigmoid",
    "forward",
    "backward",
    "to_pytorch_layout",
    "from_pytorch_layout",
    "numerical_gradient",
    "relative_error",
    "check_sequential_matches_batch",
    "check_gradients",
    "check_chunks_match_single_call",
    "check_pytorch_layout_roundtrip",
    "check_extremes",
]


# --- Input checking -------------------------------------------------------------------------
# Every public function checks its arguments before touching them, so bad input fails with a
# message that names the argument and the shape expected, and nothing has been changed.


def _shape_text(shape):
    """``(5, 3, None)`` -> ``'(5, 3, any)'``, for error messages."""
    return "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"


def _as_float_array(name, value, dtype=None):
    """``np.asarray(value)`` that insists on real numbers; integers become float64."""
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of real numbers; got {type(value).__name__}") from error
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers; got dtype {array.dtype}")
    return array


def _check_shape(name, array, expected, meaning):
    """Raise ValueError unless ``array.shape`` matches ``expected`` (None matches any size)."""
    if array.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected, array.shape)):
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
            f"W must have shape (1 + input_size + hidden_size, 4 * hidden_size) = (at least {d + 2}, {4 * d}) "
            f"for hidden_size {d}; got {W.shape}"
        )
    return input_size, d


def _compute_dtype(*arrays):
    """The floating type the computation runs in: the inputs' common type."""
    return np.result_type(*arrays)


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
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"dtype must be a floating-point type; got {np.dtype(dtype)}")
    d = hidden_size
    rng = np.random.default_rng(rng)  # accepts None, a seed or a Generator
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
    """One timestep, in place: ``ifog`` holds the scaled input projection on entry, the gates on exit.

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
            f"X must have shape (n, batch, input_size), time-major, with 3 dimensions; got shape {X.shape}"
        )
    input_size, d = _sizes_of(W)
    n, b, _ = X.shape
    _check_shape("X", X, (None, None, input_size), "(n, batch, input_size) to match W")
    if n == 0 or b == 0:
        raise ValueError(f"X must have at least one step and one sequence; got shape {X.shape}")
    dtype = _compute_dtype(X, W)
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

    Implements eq-dh through eq-dW (docs: Backward pass), for t = n..1.

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
    W_x, W_h = W[1:1 + input_size], W[1 + input_size:]

    dZ, dc_via_h = _local_derivatives(IFOG, C, TC)  # (n, b, 4d), (n, b, d)
    for t in reversed(range(n)):
        dc, dh = _step_backward(dZ[t], dH[t], dc_via_h[t], IFOG[t, :, d:2 * d], dc, dh, W_h)

    dW = np.empty_like(W)  # (1 + input_size + d, 4d)
    dZ_rows = dZ.reshape(n * b, 4 * d)  # every (step, sequence) pair is one row
    dW[0] = dZ_rows.sum(axis=0)  # eq-dW: bias
    np.matmul(X.reshape(n * b, input_size).T, dZ_rows, out=dW[1:1 + input_size])  # eq-dW: input
    np.matmul(H[:n].reshape(n * b, d).T, dZ_rows, out=dW[1 + input_size:])  # eq-dW: h_{t-1}
    dX = (dZ_rows @ W_x.T).reshape(n, b, input_size)  # eq-dX
    return dX, dW, dc, dh


def _local_derivatives(IFOG, C, TC):
    """Everything in dz_t that does not depend on the incoming gradient, for all steps at once.

    Returns ``dZ`` holding, per gate block, ``(sigma' or tanh') * (its partner in eq-cell or
    eq-hidden)``, so that the loop only multiplies by ``dc_t`` or ``dh_t``:

    - i: ``i(1-i) * g``     (eq-di)        - f: ``f(1-f) * c_{t-1}``   (eq-df)
    - o: ``o(1-o) * tanh(c_t)`` (eq-do)    - g: ``(1-g^2) * i``        (eq-dg)

    and ``dc_via_h = o * (1 - tanh(c_t)^2)``, the path from h_t into c_t (eq-dc).
    """
    d = IFOG.shape[2] // 4
    i, f, o, g = (IFOG[..., k * d:(k + 1) * d] for k in range(4))  # (n, b, d) each
    dZ = IFOG * (1.0 - IFOG)  # (n, b, 4d)  sigmoid' = s (1 - s), in terms of the output
    dZ[..., 3 * d:] = 1.0 - g * g  # tanh' = 1 - tanh^2
    dZ[..., :d] *= g
    dZ[..., d:2 * d] *= C[:-1]  # c_{t-1}
    dZ[..., 2 * d:3 * d] *= TC
    dZ[..., 3 * d:] *= i
    dc_via_h = o * (1.0 - TC * TC)  # (n, b, d)
    return dZ, dc_via_h


def _step_backward(dz, dH_t, dc_via_h, f, dc_next, dh_next, W_h):
    """One timestep in reverse; finishes ``dz`` in place and returns ``(dc_{t-1}, dh_{t-1})``."""
    d = dH_t.shape[1]
    dh = dH_t + dh_next  # (b, d)  eq-dh: from the output at t, and from step t+1 through W_h
    dc = dc_next + dh * dc_via_h  # (b, d)  eq-dc: two paths into c_t
    dz[:, :d] *= dc  # eq-di
    dz[:, d:2 * d] *= dc  # eq-df
    dz[:, 2 * d:3 * d] *= dh  # eq-do
    dz[:, 3 * d:] *= dc  # eq-dg
    return dc * f, dz @ W_h.T  # eq-dc-prev, eq-dh-prev: the costly line per step


def _check_cache(cache):
    """Return the cache's arrays, or raise if it is not what :func:`forward` returned."""
    keys = {"X", "W", "IFOG", "C", "TC", "H"}
    if not isinstance(cache, dict):
        raise TypeError(f"cache must be the dict returned by forward; got {type(cache).__name__}")
    if set(cache) != keys:
        raise ValueError(
            f"cache must be the dict returned by forward, with keys {sorted(keys)}; got keys {sorted(cache)}"
        )
    X, W, IFOG, C, TC, H = (cache[k] for k in ("X", "W", "IFOG", "C", "TC", "H"))
    if not all(isinstance(a, np.ndarray) for a in (X, W, IFOG, C, TC, H)) or IFOG.ndim != 3:
        raise ValueError("cache must be the dict returned by forward: its entries are not the arrays forward made")
    n, b, four_d = IFOG.shape
    d = four_d // 4
    expected = {"X": (n, b, None), "W": (None, four_d), "C": (n + 1, b, d), "TC": (n, b, d), "H": (n + 1, b, d)}
    for key, shape in expected.items():
        _check_shape(f"cache[{key!r}]", cache[key], shape, "as made by forward")
    if W.shape[0] != 1 + X.shape[2] + d:
        raise ValueError(f"cache['W'] must have shape {_shape_text((1 + X.shape[2] + d, four_d))}; got {W.shape}")
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


# --- Conventions: PyTorch layout --------------------------------------------------------------
# torch.nn.LSTM keeps weight_ih (4d, input_size), weight_hh (4d, d) and two biases, with the
# gate blocks in the order i, f, g, o, and computes W @ x (column vectors). Ours is the
# transpose with the blocks in the order i, f, o, g, and one bias (b = bias_ih + bias_hh).

_TORCH_FROM_OURS = (0, 1, 3, 2)  # torch block k is our block _TORCH_FROM_OURS[k]: i f g o <- i f o g


def _reorder_gates(M, order, axis):
    """Permute the four gate blocks of ``M`` along ``axis``."""
    blocks = np.split(M, 4, axis=axis)
    return np.concatenate([blocks[k] for k in order], axis=axis)


def to_pytorch_layout(W):
    """Split fused ``W`` into ``torch.nn.LSTM``'s parameters, as NumPy arrays.

    Parameters
    ----------
    W : array_like, shape (1 + input_size + hidden_size, 4 * hidden_size)

    Returns
    -------
    weight_ih : ndarray, shape (4 * hidden_size, input_size)
    weight_hh : ndarray, shape (4 * hidden_size, hidden_size)
    bias_ih : ndarray, shape (4 * hidden_size,)
        The whole bias.
    bias_hh : ndarray, shape (4 * hidden_size,)
        Zeros (PyTorch adds the two biases; ours is their sum).

    Gate blocks are in PyTorch's order i, f, g, o. Copy them into a module with
    ``lstm.weight_ih_l0.data = torch.from_numpy(weight_ih)`` and so on.

    Examples
    --------
    >>> W = init_weights(10, 4, rng=0)
    >>> [a.shape for a in to_pytorch_layout(W)]
    [(16, 10), (16, 4), (16,), (16,)]
    >>> weight_ih, weight_hh, bias_ih, bias_hh = to_pytorch_layout(W)
    >>> bool(np.array_equal(weight_ih[8:12], W[1:11, 12:16].T))   # torch's g block is our 4th
    True
    >>> bool(np.array_equal(from_pytorch_layout(*to_pytorch_layout(W)), W))
    True
    """
    W = _as_float_array("W", W)
    input_size, d = _sizes_of(W)
    W_t = _reorder_gates(W, _TORCH_FROM_OURS, axis=1).T  # (4d, 1 + input_size + d), torch order
    weight_ih = np.ascontiguousarray(W_t[:, 1:1 + input_size])
    weight_hh = np.ascontiguousarray(W_t[:, 1 + input_size:])
    bias_ih = W_t[:, 0].copy()
    return weight_ih, weight_hh, bias_ih, np.zeros_like(bias_ih)


def from_pytorch_layout(weight_ih, weight_hh, bias_ih, bias_hh):
    """Build fused ``W`` from ``torch.nn.LSTM``'s parameters (as NumPy arrays).

    The inverse of :func:`to_pytorch_layout`: transposes, reorders the gate blocks from
    i, f, g, o to i, f, o, g, and sums the two biases into row 0.

    Parameters
    ----------
    weight_ih : array_like, shape (4 * hidden_size, input_size)
    weight_hh : array_like, shape (4 * hidden_size, hidden_size)
    bias_ih, bias_hh : array_like, shape (4 * hidden_size,)
        For example ``lstm.weight_ih_l0.detach().numpy()`` and so on.

    Returns
    -------
    W : ndarray, shape (1 + input_size + hidden_size, 4 * hidden_size)

    Examples
    --------
    >>> d, input_size = 2, 3
    >>> weight_ih = np.arange(4 * d * input_size).reshape(4 * d, input_size) / 10.0
    >>> weight_hh = np.zeros((4 * d, d))
    >>> bias_ih, bias_hh = np.ones(4 * d), np.arange(4 * d) / 1.0
    >>> W = from_pytorch_layout(weight_ih, weight_hh, bias_ih, bias_hh)
    >>> W.shape
    (6, 8)
    >>> W[0].tolist()              # bias_ih + bias_hh, blocks reordered to i, f, o, g
    [1.0, 2.0, 3.0, 4.0, 7.0, 8.0, 5.0, 6.0]
    """
    weight_hh = _as_float_array("weight_hh", weight_hh)
    if weight_hh.ndim != 2 or weight_hh.shape[0] != 4 * weight_hh.shape[1] or weight_hh.shape[1] == 0:
        raise ValueError(f"weight_hh must have shape (4 * hidden_size, hidden_size); got {weight_hh.shape}")
    d = weight_hh.shape[1]
    weight_ih = _as_float_array("weight_ih", weight_ih)
    _check_shape("weight_ih", weight_ih, (4 * d, None), "(4 * hidden_size, input_size)")
    bias_ih, bias_hh = _as_float_array("bias_ih", bias_ih), _as_float_array("bias_hh", bias_hh)
    _check_shape("bias_ih", bias_ih, (4 * d,), "(4 * hidden_size,)")
    _check_shape("bias_hh", bias_hh, (4 * d,), "(4 * hidden_size,)")
    W_t = np.concatenate([(bias_ih + bias_hh)[:, None], weight_ih, weight_hh], axis=1)  # (4d, 1+in+d)
    return _reorder_gates(W_t.T, _TORCH_FROM_OURS, axis=1)  # i f g o -> i f o g (the swap is its own inverse)


# --- Verification -----------------------------------------------------------------------------
# The checks below are the oracle: each compares two computations that share as little code as
# possible, and returns a number. `python lstm_reference.py` runs them all (see _self_check).


def numerical_gradient(f, x, delta=1e-5):
    """Central-difference gradient of a scalar function: ``(f(x + delta) - f(x - delta)) / 2 delta``.

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
    return float(max(np.abs(H - np.stack(steps)).max(), np.abs(c - c_t).max(), np.abs(h - h_t).max()))


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
        errors[name] = float(np.max(np.abs(a - numeric) / np.maximum(np.abs(a) + np.abs(numeric), floor)))
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
    z_torch = np.concatenate([z_torch[:, :2 * d], z_torch[:, 3 * d:], z_torch[:, 2 * d:3 * d]], axis=1)
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
    verdict = f"all {total} checks passed" if failures == 0 else f"{failures} of {total} checks FAILED"
    print(f"lstm_reference {__version__} (NumPy {np.__version__}): {verdict}", file=out)
    return 0 if failures == 0 else 1


def main(argv=None):
    """Command line: ``python lstm_reference.py`` runs the self-check."""
    parser = argparse.ArgumentParser(
        prog="python lstm_reference.py",
        description="Self-check of the reference LSTM: runs each verification (sequential vs "
        "batched forward, analytic vs numerical gradients, chunked vs single call, PyTorch "
        "layout conversion, extreme inputs), prints its figure and PASS or FAIL, and exits "
        "with status 1 if any check fails. Takes a few seconds.",
    )
    parser.parse_args(argv)
    return _self_check()


if __name__ == "__main__":
    sys.exit(main())
