r"""A reference LSTM in NumPy: forward and backward, batched, fast, and checked.

This single file is the whole reference. It reads from simple to complex, in the order of the
documentation site's pages; each ``# ---`` banner is the title of the page that derives it:

==============================  ===============================================================
Section (banner)                Its derivation (docs page)
==============================  ===============================================================
The cell, line by line          The cell, line by line: ``LSTMCell``, each equation one line,
                                forward and backward side by side
Forward pass                    Forward pass: the fused, batched core, and its departures from
                                the literal lines
Backward pass                   Backward pass: every line by the chain rule
Initialization                  Initialization
Verification                    Verification: the checks ``python lstm_reference.py`` runs
The sequence model              The sequence model: ``LSTM``, batch first, trainable
Conversions                     Conversions: every framework's weight layout
Input checking, Model files,    machinery, derived nowhere: what a maintainer needs and a
Command line                    learner can skip
==============================  ===============================================================

The two core sections, Forward pass and Backward pass, need nothing but NumPy: copied alone under
``import numpy as np`` they give working ``forward`` and ``backward``.

What an LSTM cell computes
--------------------------
For step t = 1..n, with input ``x_t`` and the previous states ``c_{t-1}``, ``h_{t-1}`` (row
vectors; ``*`` is the elementwise product)::

    z_t = [1, x_t, h_{t-1}] @ W = [z^i, z^f, z^o, z^g]   pre-activations      (eq-z)
    i_t = sigmoid(z^i_t)    f_t = sigmoid(z^f_t)        input, forget gate   (eq-gates)
    o_t = sigmoid(z^o_t)    g_t = tanh(z^g_t)           output gate, candidate
    c_t = f_t * c_{t-1} + i_t * g_t                     cell update          (eq-cell)
    h_t = o_t * tanh(c_t)                               hidden output        (eq-hidden)

and its gradients, for t = n..1, writing ``dv`` for dLoss/dv (the total, over every path)::

    dh_t   = dH_t + dz_{t+1} @ W_h^T        (at t = n, the given dh as last term)  (eq-dh)
    dc_t   = dh_t * o_t * (1 - tanh(c_t)^2) + dc_{t+1} * f_{t+1}
                                            (at t = n, the given dc as last term)  (eq-dc)
    dz^o_t = dh_t * tanh(c_t) * o_t * (1 - o_t)                                   (eq-do)
    dz^i_t = dc_t * g_t * i_t * (1 - i_t)                                         (eq-di)
    dz^f_t = dc_t * c_{t-1} * f_t * (1 - f_t)                                     (eq-df)
    dz^g_t = dc_t * i_t * (1 - g_t^2)                                             (eq-dg)
    dc_{t-1} via step t = dc_t * f_t,   dh_{t-1} via step t = dz_t @ W_h^T        (eq-dprev)
    dW     = sum over t of [1, x_t, h_{t-1}]^T @ dz_t                             (eq-dW)
    dx_t   = dz_t @ W_x^T                                                         (eq-dX)

``dH_t`` is the gradient through the output at step t only; ``W_x`` and ``W_h`` are W's input
and recurrent rows. The equations count steps from 1, arrays from 0: ``x_t`` is ``X[t-1]``,
``h_t`` is ``H[t-1]`` and ``dH_t`` is ``dH[t-1]``. At t = 1, eq-dprev gives the gradients of
the initial states, ``dc0`` and ``dh0``. The sequence model adds an output layer,
``y_t = h_t @ W_y + b_y`` (eq-output); eq-var (Initialization) and eq-fd-error (Verification)
are derived on their pages.

Conventions
-----------
=================  ==========================================================================
Input ``X``        time-major ``(n, b, input_size)``: n steps, b sequences in the batch;
                   batch first ``(batch, seq_len, input_size)`` for the model ``LSTM``
Lengths            optional ``lengths (b,)``: sequence k runs steps 1..lengths[k] (0 allowed);
                   its outputs after that are 0 and its final state is the one at its own
                   last step (``c0, h0`` if it has none)
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
import errno
import functools
import io
import itertools
import json
import math
import os
import secrets
import stat
import sys
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


# --- The cell, line by line -----------------------------------------------------------------------
# One step in the textbook form: a matrix per gate and per source (x or h), each equation one
# line, forward and backward side by side. It shares no computation with the fused core below,
# so stepping it through a sequence and comparing with forward() and backward() is a real check
# (check_cell_matches_fused). The bridge between the two: stacking the per-gate parameters in
# the gate order i, f, o, g gives the fused W,
#
#   W = [[b_i,  b_f,  b_o,  b_g ],      row 0            (1, 4d)
#        [W_xi, W_xf, W_xo, W_xg],      input rows       (input_size, 4d)
#        [W_hi, W_hf, W_ho, W_hg]]      recurrent rows   (d, 4d)

_GATES = ("i", "f", "o", "g")  # the gate order of W's column blocks; the cell's names too


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
    >>> round(float(sigmoid(3.0)), 3)    # init_weights' forget gate at the start (bias 3)
    0.953
    """
    x = _floats("x", x)
    one = x.dtype.type(1)  # typed, so a float32 scalar stays float32 under NumPy 1's casting rules
    with np.errstate(over="ignore", under="ignore"):
        return one / (one + np.exp(-x))


class LSTMCell:
    """One LSTM step in the textbook form: a matrix per gate, each equation one line.

    :meth:`forward` implements eq-gates, eq-cell and eq-hidden; :meth:`backward` implements
    eq-dc, eq-do .. eq-dprev, eq-dW and eq-dX for that one step, gate by gate (eq-dh, adding
    the output's gradient to the next step's, is the caller's). Row vectors: ``x`` is
    ``(batch, input_size)``. Stacking the parameters in the gate order i, f, o, g gives the
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
    cache : tuple or None
        What :meth:`backward` needs from the last :meth:`forward`: ``x, h_prev, c_prev, i, f,
        o, g, tanh(c)``, the cell's own copies. Set it back to an earlier step's to run backward
        through several steps.
    grads : dict
        Set by :meth:`backward`: the gradient of each parameter for that one step, keyed like
        the attributes (through a sequence, add them up over the steps: eq-dW is a sum).
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
        sizes, forget_bias, rng, dtype = _check_init(input_size, hidden_size, forget_bias, rng,
                                                     dtype)
        self._set(_init_cell_params(*sizes, forget_bias, rng, dtype))

    def _set(self, params):
        """Keep each parameter as an attribute named as in the equations, and what it implies."""
        for name, value in params.items():
            setattr(self, name, value)  # W_xi, ..., b_g
        self.input_size, self.hidden_size = self.W_xi.shape  # (input_size, d)
        self.dtype, self.cache, self.grads = self.W_xi.dtype, None, {}

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
        x, h_prev, c_prev = _check_step(self, x, h_prev, c_prev)  # (b, input_size), (b, d) x 2
        i = sigmoid(x @ self.W_xi + h_prev @ self.W_hi + self.b_i)  # (b, d)  input gate   eq-gates
        f = sigmoid(x @ self.W_xf + h_prev @ self.W_hf + self.b_f)  # (b, d)  forget gate  eq-gates
        o = sigmoid(x @ self.W_xo + h_prev @ self.W_ho + self.b_o)  # (b, d)  output gate  eq-gates
        g = np.tanh(x @ self.W_xg + h_prev @ self.W_hg + self.b_g)  # (b, d)  candidate    eq-gates
        c = f * c_prev + i * g  # (b, d)  eq-cell
        tanh_c = np.tanh(c)  # (b, d)  kept for backward, which needs it twice
        h = o * tanh_c  # (b, d)  eq-hidden
        self.cache = (x, h_prev, c_prev, i, f, o, g, tanh_c)
        return h, c

    def backward(self, dh, dc=None):
        """Gradients through the last :meth:`forward`: ``(dx, dh_prev, dc_prev)``, and
        ``self.grads`` for every parameter.

        Implements, for one step and gate by gate, eq-dc, eq-do .. eq-dg, eq-dprev, eq-dW and
        eq-dX: each line is the derivative of one line of :meth:`forward`, in reverse order.

        Parameters
        ----------
        dh : array_like, shape (batch, hidden_size)
            dLoss/dh_t: all of it, from the output and from the next step (eq-dh).
        dc : array_like, shape (batch, hidden_size), optional
            dLoss/dc_t from the next step (its ``dc_prev``) or from a loss on ``c``; zeros when
            omitted. The parameters must be those of the forward call.

        Returns
        -------
        dx : ndarray, shape (batch, input_size)
        dh_prev, dc_prev : ndarray, shape (batch, hidden_size)
            Pass them on as the previous step's ``dh`` (added to its output's) and ``dc``.

        Examples
        --------
        >>> cell = LSTMCell(2, 3, rng=0)
        >>> x = np.array([[0.5, -1.0]])
        >>> h, c = cell.forward(x)
        >>> dx, dh_prev, dc_prev = cell.backward(np.ones_like(h))    # loss = h.sum()
        >>> dx.shape, dh_prev.shape, sorted(cell.grads)[:3]
        ((1, 2), (1, 3), ['W_hf', 'W_hg', 'W_hi'])
        >>> numeric = numerical_gradient(lambda x_: cell.forward(x_)[0].sum(), x)
        >>> bool(np.abs(dx - numeric).max() < 1e-8)                  # central differences agree
        True
        """
        dh, dc = _check_step_grads(self, dh, dc)  # (b, d) each
        x, h_prev, c_prev, i, f, o, g, tanh_c = self.cache  # from the last forward
        # h = o * tanh(c), eq-hidden, in reverse
        do = dh * tanh_c  # (b, d)  the output gate's partner
        dc = dc + dh * o * (1 - tanh_c**2)  # (b, d)  eq-dc: from h, and from the next step
        # c = f * c_prev + i * g, eq-cell, in reverse
        df = dc * c_prev
        di = dc * g
        dg = dc * i
        dc_prev = dc * f  # (b, d)  eq-dprev
        # the gates, eq-gates in reverse: sigmoid' = s (1 - s), tanh' = 1 - tanh^2
        dz_i = di * i * (1 - i)  # (b, d)  eq-di
        dz_f = df * f * (1 - f)  # (b, d)  eq-df
        dz_o = do * o * (1 - o)  # (b, d)  eq-do
        dz_g = dg * (1 - g**2)  # (b, d)  eq-dg
        # z_k = x W_xk + h_prev W_hk + b_k for each gate k, in reverse
        dz = {"i": dz_i, "f": dz_f, "o": dz_o, "g": dz_g}
        self.grads = {**{f"W_x{k}": x.T @ dz[k] for k in _GATES},  # (input_size, d)  eq-dW
                      **{f"W_h{k}": h_prev.T @ dz[k] for k in _GATES},  # (d, d)  eq-dW
                      **{f"b_{k}": dz[k].sum(axis=0) for k in _GATES}}  # (d,)  eq-dW
        dx = sum(dz[k] @ getattr(self, f"W_x{k}").T for k in _GATES)  # (b, input_size)  eq-dX
        dh_prev = sum(dz[k] @ getattr(self, f"W_h{k}").T for k in _GATES)  # (b, d)  eq-dprev
        return dx, dh_prev, dc_prev

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
        return _stack_gates(vars(self))

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
        W = _check_W(W)
        cell = cls.__new__(cls)  # no random initialization: every parameter comes from W
        cell._set(_split_gates(W, W.shape[0] - 1 - W.shape[1] // 4))
        return cell


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


# --- Forward pass ---------------------------------------------------------------------------------
# The fused core: the cell's equations for a whole batch and every step, with one matrix W for
# the four gates (d = hidden_size, I = input_size; steps count from 1, arrays from 0):
#
#   W (1 + I + d, 4d): row 0 the bias b, rows 1..I the input weights W_x, then the recurrent
#                      weights W_h; column blocks [0:d] i, [d:2d] f, [2d:3d] o, [3d:4d] g
#   z_t = [1, x_t, h_{t-1}] @ W                                        (eq-z)
#   i_t, f_t, o_t = sigmoid(z^i_t, z^f_t, z^o_t);  g_t = tanh(z^g_t)   (eq-gates)
#   c_t = f_t * c_{t-1} + i_t * g_t                                    (eq-cell)
#   h_t = o_t * tanh(c_t)                                              (eq-hidden)
#
# This section and the next, up to the Initialization banner, are the whole core and need
# nothing but NumPy: paste them under `import numpy as np` and forward and backward work. They
# trust their arguments; the module's public forward and backward are these same functions
# behind the checks at the end of the file (Input checking), which is also where a bad argument
# gets its clear message.
#
# Where forward departs from the cell's literal lines, and what it implements instead (the
# performance page measures what each departure buys):
#   1. The input projection is hoisted (eq-z): only h_{t-1} @ W_h must wait for step t-1, so
#      [1, x_t] @ [b; W_x] is done for every step at once, in one large matrix product before
#      the loop (as cuDNN does).
#   2. The sigmoid gates' columns are negated (eq-gates): sigmoid(z) = 1 / (1 + exp(-z)), and
#      with W's i, f, o columns negated the products give -z directly, so one pass of exp over
#      the 3d contiguous columns serves all three gates. Negating is exact and cannot overflow.
#      The candidate g takes np.tanh itself: tanh(z) = 2 sigmoid(2z) - 1 would fold it into the
#      same pass, but it cancels near z = 0 and loses the relative precision of small candidates.
#   3. Every array is allocated once and written in place (out=, +=, *=): the gates, states and
#      tanh(c_t) of all steps are the cache backward needs.
#
# Variable lengths. Sequences are "packed" as PyTorch's PackedSequence packs them: sorted
# longest first, so that the ones still running at a step are a prefix of the batch, and stored
# as one row per (step, sequence) that runs, step by step. Padded steps get no row: they are
# skipped, not computed and masked. Without lengths the rows are X itself, n * b of them.


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
        Steps of each sequence, in 0..n; padded steps are skipped. Default: all n.

    Returns
    -------
    H : ndarray, shape (n, b, hidden_size)
        Every step's h, 0 at padded steps; read-only.
    c, h : ndarray, shape (b, hidden_size)
        Each sequence's state after its own last step (``c0, h0`` for a length of 0).
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
    n, b, input_size = X.shape  # time, batch, features
    d = W.shape[1] // 4  # hidden size
    c0 = np.zeros((b, d), W.dtype) if c0 is None else c0  # (b, d)
    h0 = np.zeros((b, d), W.dtype) if h0 is None else h0  # (b, d)
    lengths = np.full(b, n) if lengths is None else np.asarray(lengths, dtype=np.intp)  # (b,)
    order, batch_sizes = _packing(lengths, n)  # longest first; how many run at each step
    X_rows = _pack(X, order, batch_sizes)  # (N, input_size)  one row per (step, sequence) run
    N = X_rows.shape[0]
    # departure 3: every array allocated once, here, and written in place below
    IFOG = np.empty((N, 4 * d), dtype=W.dtype)  # (N, 4d)  the gates i, f, o, g of every row
    C = np.empty((b + N, d), dtype=W.dtype)  # (b + N, d)  c0, then c_t of every row
    Ct = np.empty((N, d), dtype=W.dtype)  # (N, d)  tanh(c_t), kept for backward
    H = np.empty((b + N, d), dtype=W.dtype)  # (b + N, d)  h0, then h_t of every row
    C[:b], H[:b] = c0[order], h0[order]

    W_flip = np.concatenate([-W[:, :3 * d], W[:, 3 * d:]], axis=1)  # (1 + input_size + d, 4d)
    W_flip_h = W_flip[1 + input_size:]  # (d, 4d)  departure 2: [-z^i, -z^f, -z^o, z^g]
    bounds = _bounds(batch_sizes)  # step t's rows are bounds[t-1] : bounds[t]
    previous = slice(0, b)  # rows of C, H with the states before step 1: c0, h0
    # Overflow gives the right limits here (exp(-z) -> inf for z << 0: sigmoid -> 0): no warning.
    with np.errstate(over="ignore", under="ignore"):
        # 1) Departure 1: the input projection of every row in one product, x_t W_x + b.
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
    # each sequence's row at its last step; its c0, h0 row if it has no step
    last = np.where(lengths > 0, b + bounds[lengths - 1], 0) + np.argsort(order)  # (b,)
    return H_out, C[last], H[last], cache


def _step_forward(ifog, c_prev, h_prev, W_flip_h, c, ct, h):
    """One step for the k running sequences, written into the buffers given (departure 3).

    ``ifog`` holds ``x_t W_x + b`` on entry, with the sigmoid columns negated (departure 2), and
    the gates i, f, o, g on exit. Implements eq-gates, eq-cell, eq-hidden.
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
# Backward runs the forward loop in reverse: LSTMCell.backward for every step and the whole
# batch. Departure 2 needs no mirror (the cache holds the gates themselves), and 3 is mirrored
# where it pays (dZ and dW are written in place); two more:
#   4. The local derivatives are hoisted (eq-do .. eq-dg): each gate's derivative times its
#      partner in eq-cell or eq-hidden, say i(1-i) * g, depends on the forward pass only, so it
#      is computed for every row before the loop, in blocks of rows that stay in the CPU cache
#      across the few passes; the loop only multiplies by dc_t or dh_t.
#   5. dW and dX are hoisted (eq-dW, eq-dX), the mirror of departure 1: W is shared by all
#      steps, so its gradient is a sum over rows of outer products, one matrix product over all
#      rows after the loop; dX likewise.
#      Only dh_{t-1} = dz_t @ W_h^T must wait for step t.
# With lengths, a sequence takes part in a step only while it runs, so dc, dh from outside reach
# it at its own last step and wait until then (a sequence of length 0 passes them on as dc0, dh0).


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
    X_rows, W, IFOG, C, Ct, H = (cache[key] for key in ("X", "W", "IFOG", "C", "Ct", "H"))
    order, batch_sizes = cache["order"], cache["batch_sizes"]  # (b,), (n,)
    b, d, input_size = len(order), W.shape[1] // 4, X_rows.shape[1]  # batch, hidden, features
    dH_rows = _pack(dH, order, batch_sizes)  # (N, d)  padded steps dropped
    # (b, d) each, longest first: fresh arrays, updated below
    dc = np.zeros((b, d), W.dtype) if dc is None else dc[order]
    dh = np.zeros((b, d), W.dtype) if dh is None else dh[order]
    previous = _previous_rows(batch_sizes, b)  # the rows of C, H holding each row's t-1 state
    C_prev, H_prev = C[previous], H[previous]  # (N, d) each: views when nothing is padded
    W_hT = np.ascontiguousarray(W[1 + input_size:].T)  # (4d, d)  contiguous for the loop

    dZ, dh_dc = _local_derivatives(IFOG, C_prev, Ct)  # (N, 4d), (N, d)  departure 4
    bounds = _bounds(batch_sizes)
    for start, stop in reversed(list(zip(bounds[:-1], bounds[1:]))):  # step n first
        k = stop - start  # the sequences running at this step: the first k
        rows = slice(start, stop)
        dc[:k], dh[:k] = _step_backward(dZ[rows], dH_rows[rows], dh_dc[rows],
                                        IFOG[rows, d:2 * d], dc[:k], dh[:k], W_hT)
    del dh_dc  # N * d numbers freed before the products below, where memory peaks

    dW = np.empty_like(W)  # (1 + input_size + d, 4d)  departure 5: after the loop
    dW[0] = dZ.sum(axis=0)  # eq-dW: bias
    np.matmul(X_rows.T, dZ, out=dW[1:1 + input_size])  # eq-dW: input weights
    np.matmul(H_prev.T, dZ, out=dW[1 + input_size:])  # eq-dW: recurrent weights, by h_{t-1}
    dX = _unpack(dZ @ W[1:1 + input_size].T, order, batch_sizes)  # (n, b, I)  eq-dX, dep. 5
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
    rows = max(1, 2**20 // (IFOG.shape[1] * IFOG.itemsize))
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
    dz[:, :d] *= g  # eq-di
    dz[:, d:2 * d] *= c_prev  # eq-df
    dz[:, 2 * d:3 * d] *= ct  # eq-do
    dz[:, 3 * d:] *= i  # eq-dg
    np.multiply(ct, ct, out=dh_dc)
    np.subtract(1.0, dh_dc, out=dh_dc)
    dh_dc *= o  # (rows, d)  eq-dc: dh_t/dc_t = o * tanh'(c_t)


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
    input_size, d = _sizes(input_size, hidden_size, fused=True)
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

# --- Verification ---------------------------------------------------------------------------------
# The checks below are the oracle: each compares two computations and returns a number; each
# docstring says what its two sides share. `python lstm_reference.py` runs them all (see
# _self_checks).


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
    if not callable(f):
        raise TypeError(f"f must be a function of x; got {type(f).__name__}")
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
        grad[index] = (_loss("f", f_plus) - _loss("f", f_minus)) / step  # the step as rounded
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
    if a.shape != b.shape and a.ndim and b.ndim:  # a scalar goes with anything
        raise ValueError(f"a and b must have the same shape; got {a.shape} and {b.shape}")
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

    Both sides run :func:`forward`, so this checks the loop over steps and the carrying of the
    state from one call to the next, not the equations themselves (:func:`check_gradients` and
    :func:`check_cell_matches_fused` check those). They must agree to round-off (< 1e-12 in
    float64).

    Returns
    -------
    float

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

    Returns
    -------
    float

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

    Returns
    -------
    float

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
    """How many outputs and gradients are not finite for extreme but finite inputs: 0 to pass.

    Three cases, with NumPy's floating-point errors set to raise (forward silences overflow
    while it computes the gates and states, where an infinite pre-activation or exp gives the
    right limit): weights x 1e4 in float64 and float32; an input weight of the candidate gate
    at 3/4 of the dtype's maximum; n steps. Backward runs with only underflow silenced, so a
    floating-point error in either raises FloatingPointError.

    Returns
    -------
    float
        The count of NaN and inf entries in every output and gradient.

    Examples
    --------
    >>> check_extremes(n=200)
    0.0
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
    return float(sum(np.count_nonzero(~np.isfinite(a)) for a in results))


def check_cell_matches_fused(n=5, b=3, input_size=10, hidden_size=4, *, seed=0):
    """Max abs difference between :class:`LSTMCell` stepped through a sequence, forward and
    backward, and :func:`forward`, :func:`backward`.

    The cell is built from a fused ``W`` with a nonzero bias everywhere and stepped by hand from
    random ``h0, c0``; then :meth:`LSTMCell.backward` runs through the steps in reverse, each
    step's ``cache`` put back, its ``dh`` the output's gradient plus the next step's ``dh_prev``
    (eq-dh), and the parameter gradients are summed over the steps (eq-dW). Compared: every
    ``h_t``, the final ``c, h``, ``to_weights() == W``, ``dX``, every parameter's gradient
    (stacked into ``dW``), ``dc0`` and ``dh0``. The per-gate lines and the fused core share no
    code, so they must agree to round-off (< 1e-12 in float64).

    Returns
    -------
    float

    Examples
    --------
    >>> check_cell_matches_fused() < 1e-12
    True
    """
    X, W, c0, h0, R = _random_problem(_size("n", n), b, input_size, hidden_size, seed)
    Rc, Rh = np.random.default_rng(_size("seed", seed, 0) + 1).standard_normal((2, b, hidden_size))
    H, c, h, cache = forward(X, W, c0, h0)  # the core: state order (c, h)
    dX, dW, dc0, dh0 = backward(R, cache, dc=Rc, dh=Rh)

    cell = LSTMCell.from_weights(W)
    H_cell, caches, h_t, c_t = [], [], h0, c0
    for t in range(n):  # step t + 1
        h_t, c_t = cell.forward(X[t], h_t, c_t)  # the cell: state order (h, c)
        H_cell.append(h_t)
        caches.append(cell.cache)
    dX_cell, grads, dh, dc = np.empty_like(X), [], Rh, Rc
    for t in reversed(range(n)):  # step t + 1
        cell.cache = caches[t]
        dX_cell[t], dh, dc = cell.backward(R[t] + dh, dc)  # eq-dh: its output's + the next's
        grads.append(cell.grads)
    dW_cell = _stack_gates({name: sum(g[name] for g in grads) for name in grads[0]})

    pairs = [(cell.to_weights(), W), (np.stack(H_cell), H), (H_cell[-1], h), (c_t, c),
             (dX_cell, dX), (dW_cell, dW), (dc, dc0), (dh, dh0)]
    return float(max(np.abs(a - b).max() for a, b in pairs))


def check_model_gradients(batch=3, seq_len=4, input_size=5, hidden_size=4, output_size=3, *,
                          return_sequences=True, return_state=True, lengths=None, seed=0,
                          delta=1e-5, floor=1e-3):
    """Largest :func:`relative_error` of :meth:`LSTM.backward` against central differences,
    for every parameter and ``X`` (measured as in :func:`check_gradients`).

    The loss is ``sum(Y * R)``, plus ``sum(h * Rh) + sum(c * Rc)`` with ``return_state``, for
    fixed random ``R, Rh, Rc``, from random ``h0, c0`` and a nonzero bias everywhere.

    Returns
    -------
    dict
        ``{"X": err, "W_xi": err, ...}``: ``X`` and every parameter of :meth:`LSTM.get_params`.

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


# --- The sequence model ---------------------------------------------------------------------------
# A model a user can train: the cell's parameters, by name, run over batch-first sequences by the
# fused core, then an optional linear output layer  y_t = h_t @ W_y + b_y  (eq-output), a step of
# its own. Each forward stacks the per-gate parameters into the fused W (a copy, negligible next
# to n steps of matrix products), so the model is as fast and exact as the core; backward splits
# dW back into per-gate gradients.

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


class LSTM:
    """An LSTM over batch-first sequences, with an optional linear output layer; trainable.

    Implements eq-gates, eq-cell, eq-hidden for every step, by running the fused
    :func:`forward` and :func:`backward`, and ``Y = H @ W_y + b_y`` (eq-output) when
    ``output_size`` is given. The
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
    params : dict of ndarray
        Every parameter by name, the arrays themselves: ``W_x*, W_h*, b_*`` as in
        :class:`LSTMCell`, and ``W_y (hidden_size, output_size)``, ``b_y (output_size,)`` with
        an output layer.
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
        sizes, forget_bias, rng, dtype = _check_init(input_size, hidden_size, forget_bias, rng,
                                                     dtype)
        self.input_size, self.hidden_size = sizes
        self.output_size = _check_output_size(output_size, self.hidden_size)
        self.dtype = dtype
        self.params = _init_cell_params(*sizes, forget_bias, rng, dtype)  # W_x*, W_h*, b_*
        if self.output_size is not None:
            self.params["W_y"] = xavier_uniform((hidden_size, output_size), rng=rng, dtype=dtype)
            self.params["b_y"] = np.zeros(self.output_size, dtype=dtype)  # (out,)
        self.grads = {}
        self._cache = None  # what backward needs from the last forward

    # -- parameters ------------------------------------------------------------------------------

    def to_cell(self):
        """A new :class:`LSTMCell` holding copies of the recurrent parameters, to step by hand."""
        return LSTMCell.from_weights(_stack_gates(self.params))

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
        >>> model.params["b_f"].tolist()
        [1.0, 1.0, 1.0, 1.0]
        """
        return {name: value.copy() for name, value in self.params.items()}

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
        >>> model.params["b_f"].tolist()
        [3.0, 3.0, 3.0, 3.0]
        >>> model.set_params({**params, "b_f": np.zeros(5)})
        Traceback (most recent call last):
        ...
        ValueError: params['b_f'] must have shape (hidden_size,) = (4,); got (5,)
        """
        shapes = _param_shapes(self.input_size, self.hidden_size, self.output_size)
        self.params.update(_check_params(params, shapes, self.dtype))  # the same dict, updated

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
            Steps of each sequence, in 0..seq_len; outputs at padded steps are 0.

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
        X, h0, c0, lengths = _check_model_input(self, X, return_sequences, return_state,
                                                h0, c0, lengths)  # checked once, here
        b, n = X.shape[:2]  # batch, time
        shapes = _param_shapes(self.input_size, self.hidden_size, self.output_size)
        params = _check_params(self.params, shapes, self.dtype, where="model.params")  # copies
        X_tm = X.transpose(1, 0, 2).copy()  # (n, b, input_size)  time-major, private to the cache
        H, c, h, cache = _forward_kernel(X_tm, _stack_gates(params), c0, h0, lengths=lengths)
        outputs = H.transpose(1, 0, 2) if return_sequences else h.copy()  # (b, n, d) or (b, d)
        Y = self._output(outputs, params)  # eq-output
        running = np.arange(n) < lengths[:, None]  # (b, n)  False at padded steps
        if return_sequences:
            Y *= running[..., None]  # padded steps: 0, the output layer not applied there
        self._cache = {"cache": cache, "outputs": outputs, "params": params, "running": running,
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
        dY, dh, dc = _check_model_grads(self, dY, dh, dc)  # (b, n, out) or (b, out); (b, d)
        last = self._cache
        if last["return_sequences"]:
            dY = np.where(last["running"][..., None], dY, 0)  # padded steps ignored, NaN too
        d_outputs, grads = self._output_backward(dY, last["outputs"], last["params"])
        if last["return_sequences"]:
            dH = d_outputs.transpose(1, 0, 2)  # (n, b, d)
        else:  # the only output is the final h's, so its gradient joins dh
            n = last["running"].shape[1]  # time
            dH, dh = np.zeros((n, *dh.shape), dtype=self.dtype), dh + d_outputs  # (n, b, d)
        dX_tm, dW, _, _ = _backward_kernel(dH, last["cache"], dc, dh)  # the fused core
        self.grads = {**_split_gates(dW, self.input_size), **grads}
        return dX_tm.transpose(1, 0, 2).copy()  # (b, n, input_size)

    def _output(self, outputs, params):
        """eq-output, ``outputs @ W_y + b_y``; a copy of ``outputs`` without an output layer."""
        if self.output_size is None:
            return outputs.copy()
        return outputs @ params["W_y"] + params["b_y"]  # (b, n, out) or (b, out)

    def _output_backward(self, dY, outputs, params):
        """eq-output in reverse: the gradient of ``outputs``, and of ``W_y, b_y`` by name."""
        if self.output_size is None:
            return dY, {}
        d, out = params["W_y"].shape
        grads = {"W_y": outputs.reshape(-1, d).T @ dY.reshape(-1, out),  # (d, out)
                 "b_y": dY.reshape(-1, out).sum(axis=0)}  # (out,)
        return dY @ params["W_y"].T, grads

    # -- files -------------------------------------------------------------------------------------

    def save(self, path):
        """Write every parameter to one file in the safetensors format, atomically.

        One tensor per parameter, named as :meth:`get_params` names them, in the model's dtype
        (float16, float32 or float64: ``F16``, ``F32``, ``F64``), little-endian; the sizes are
        read off the shapes. ``safetensors.numpy.load_file`` reads the file (docs: Saving and
        loading). Every parameter is checked before anything is written. The file is written
        beside the target under a temporary name, private (0o600) while the weights go in, and
        renamed over the target once it is complete and on disk: a save that fails (a full
        disk) leaves the file that was there as it was, and no temporary file.

        Parameters
        ----------
        path : str or os.PathLike or file
            Used as given: no suffix is added (``.safetensors`` is the usual one). A file that
            is replaced keeps its permission bits; a new one gets ``open()``'s (0o666 less the
            umask). A path through a symbolic link replaces the file it points to. A binary file
            object is written in place, from where it stands.

        Raises
        ------
        TypeError
            A parameter is not an array of the model's dtype (an entry of ``params`` was assigned
            directly), or the dtype is not one of the three; nothing has been written.
        ValueError
            A parameter has the wrong shape; likewise. Or the target exists and is not a
            regular file (a device, a pipe).
        OSError
            The target is one ``open(path, "wb")`` would refuse: write-protected, a folder.

        Examples
        --------
        >>> import os, tempfile
        >>> model = LSTM(3, 4, output_size=2, rng=0)
        >>> X = np.arange(2 * 5 * 3).reshape(2, 5, 3) / 30
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     path = os.path.join(folder, "model.safetensors")
        ...     model.save(path)
        ...     loaded = LSTM.load(path)
        >>> bool(np.array_equal(loaded.forward(X), model.forward(X)))   # bit for bit
        True
        """
        _save_model(self, path)

    @classmethod
    def load(cls, path):
        """Read a model from a safetensors file, checking its whole header before any data.

        Reads a file :meth:`save` wrote, or one ``safetensors.numpy.save_file(params, path)``
        wrote from parameters named and shaped as :meth:`get_params` makes them (metadata is
        not needed). Before reading a byte of data, ``load`` checks that the file is a regular
        file, that its header is short JSON, and that it names exactly a model's tensors, all of
        one dtype (F16, F32 or F64), with shapes of one set of sizes and byte ranges back to back
        that end where the file ends. It then reads each tensor into its array and refuses NaN
        and inf. So it allocates the model's own arrays and a constant more, never what a
        header merely claims, and takes time in proportion to the file's size. No code in the
        file is ever run: the format holds none.

        Parameters
        ----------
        path : str or os.PathLike or file
            A file object must be binary and seekable; it is read from where it stands.

        Returns
        -------
        LSTM
            Of the file's sizes and dtype (native byte order).

        Raises
        ------
        ValueError
            Anything but such a file; the message says what is wrong.
        OSError
            The path cannot be opened (``FileNotFoundError`` if it does not exist).

        Examples
        --------
        >>> import os, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:          # doctest: +ELLIPSIS
        ...     path = os.path.join(folder, "other.npz")
        ...     np.savez(path, weights=np.zeros(3))                 # not a model file
        ...     LSTM.load(path)
        Traceback (most recent call last):
        ...
        ValueError: ... is not an LSTM model file (safetensors): its header length is ...
        """
        return _load_model(cls, path)


# --- Conversions ----------------------------------------------------------------------------------
# Every framework stores the numbers of our W (b, W_x, W_h, gate by gate), cut up and ordered
# its own way. LAYOUTS writes each way down once, as a table; to_layout and from_layout only
# read it, and the docs' conversions page renders it. Its structure, in the doc comment below
# (the API reference shows it):

#: How each framework stores the numbers of our ``W``, written down once: :func:`to_layout` and
#: :func:`from_layout` only read it, and the conversions page renders it as a table.
#:
#: ``LAYOUTS[framework]``, for ``framework`` one of ``"pytorch"``, ``"keras"``, ``"onnx"``,
#: ``"flax"`` and ``"tensorflow1"``, is a dict with two keys:
#:
#: - ``"state"``: the order of the state the framework takes, as text: ``"(h, c)"`` for PyTorch,
#:   ``"(c, h)"`` for Flax (for the docs; nothing reads it).
#: - ``"arrays"``: one tuple ``(name, holds, gates, transposed, shape)`` per stored array, in the
#:   framework's order:
#:
#:   - ``name``: the framework's name for it (``"ii/kernel"`` is ``params["ii"]["kernel"]``);
#:     PyTorch's names are those of layer 0, forward (``weight_ih_l1_reverse`` is layer 1,
#:     backward);
#:   - ``holds``: ``"W_x"`` (input weights), ``"W_h"`` (recurrent weights), ``"W_x; W_h"`` (the
#:     two stacked, input rows first) or ``"b"`` (the bias); ``"b, b"`` is two biases side by
#:     side in one array (ONNX's ``B``);
#:   - ``gates``: the gate blocks it holds, in its order, in our letters (``"ifgo"`` for
#:     PyTorch); ``g`` is the candidate, which Keras and ONNX call ``c`` and TensorFlow 1 ``j``;
#:   - ``transposed``: ``True`` where the framework computes ``W @ x``, so that each gate unit
#:     is a row;
#:   - ``shape``: the array's shape as text, with ``I`` = input_size, ``d`` = hidden_size and
#:     ``D`` = ONNX's num_directions (:func:`to_layout` writes 1, :func:`from_layout` reads 1 or
#:     2), as in ``"(4d, I)"``.
#:
#: A bias stored twice (PyTorch, ONNX) is written whole into its first copy and as zeros into
#: the second; reading sums the copies, as the framework does when it computes. TensorFlow 1
#: adds ``forget_bias`` to f at run time, so the bias it stores is ours less ``forget_bias``
#: on f.
LAYOUTS = {
    "pytorch": {  # torch.nn.LSTM(I, d).state_dict(): layer 0, forward
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
    "onnx": {  # the LSTM operator's inputs W, R, B
        "state": "(Y_h, Y_c)",
        "arrays": (
            ("W", "W_x", "iofg", True, "(D, 4d, I)"),
            ("R", "W_h", "iofg", True, "(D, 4d, d)"),
            ("B", "b, b", "iofg", False, "(D, 8d)"),
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
    "tensorflow1": {  # tf.compat.v1 LSTMCell, BasicLSTMCell; tf.raw_ops.LSTMBlockCell's w, b
        "state": "LSTMStateTuple(c, h)",
        "arrays": (
            ("kernel", "W_x; W_h", "igfo", False, "(I + d, 4d)"),
            ("bias", "b", "igfo", False, "(4d,)"),
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
    """``'(1, 4d, I + d)'`` -> ``['1', '4d', 'I+d']``."""
    return shape.strip("()").replace(" ", "").rstrip(",").split(",")


def _terms(token):
    """``'4d'`` -> ``[(4, 'd')]``; ``'I+d'`` -> ``[(1, 'I'), (1, 'd')]``; ``'1'`` -> ``[(1, '')]``.
    """
    terms = []
    for term in token.split("+"):
        letter = term.lstrip("0123456789")
        terms.append((int(term[:len(term) - len(letter)] or 1), letter))
    return terms


def _dims(shape, sizes):
    """``'(D, 4d, I)'`` -> ``(D, 4 * d, I)`` from ``sizes = {"D": D, "d": d, "I": I}``."""
    return tuple(sum(k * sizes.get(letter, 1) if letter else k for k, letter in _terms(t))
                 for t in _tokens(shape))


def _gate_blocks(holds, gates):
    """The ``(part, gate)`` of each d-wide block of an array, in its order."""
    return [(part, g) for part in holds.split(", ") for g in gates]


def _rows(input_size, d):
    """The rows of W that each part holds."""
    return {"b": slice(0, 1), "W_x": slice(1, 1 + input_size), "W_h": slice(1 + input_size, None),
            "W_x; W_h": slice(1, None)}


def _layout_options(framework, layer, reverse, forget_bias, writing):
    """The rows of LAYOUTS for one layer and direction of ``framework`` (PyTorch's names carry
    them), and ``forget_bias`` as a float or None; a TypeError or ValueError naming the keyword
    that the framework cannot take."""
    arrays = _layout_arrays(framework)
    layer = _size("layer", layer, minimum=0)
    _flag("reverse", reverse)
    if framework == "pytorch":
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        arrays = tuple((name[:-len("_l0")] + suffix, *rest) for name, *rest in arrays)
    elif framework == "onnx" and layer:
        raise ValueError(f"layer must be 0 for 'onnx'; got {layer}: an ONNX LSTM node is one "
                         f"layer (a stack is one node per layer, each with its own W, R, B)")
    elif framework == "onnx" and reverse and writing:
        raise ValueError("reverse must be False for to_layout(W, 'onnx'), which writes one "
                         "direction (num_directions 1); a bidirectional node's inputs are the two "
                         "directions stacked: np.concatenate([forward, backward]) of each array")
    elif framework != "onnx" and (layer or reverse):
        which = "layer" if layer else "reverse"
        raise ValueError(f"{which} must be {0 if layer else False} for {framework!r}; got "
                         f"{layer if layer else reverse}: its arrays hold one layer, one "
                         f"direction. Each layer of a stack, and the backward sub-layer of a "
                         f"bidirectional wrapper, has its own weights: convert each on its own")
    if framework == "tensorflow1":
        if forget_bias is None:
            raise TypeError("forget_bias must be given for 'tensorflow1': the constant its cells "
                            "add to f at run time (their default is 1.0)")
        forget_bias = _real("forget_bias", forget_bias)
    elif forget_bias is not None:
        raise TypeError(f"forget_bias is for 'tensorflow1' only; {framework!r} stores the whole "
                        f"bias")
    return arrays, forget_bias


def to_layout(W, framework, *, layer=0, reverse=False, forget_bias=None):
    """Convert fused ``W`` to ``framework``'s LSTM parameters, as NumPy arrays.

    Parameters
    ----------
    W : array_like, shape (1 + input_size + hidden_size, 4 * hidden_size)
    framework : str
        A key of ``LAYOUTS``: ``"pytorch"``, ``"keras"``, ``"onnx"``, ``"flax"`` or
        ``"tensorflow1"``.
    layer : int, default 0
        PyTorch only: the layer whose names to write (``weight_ih_l{layer}``).
    reverse : bool, default False
        PyTorch only: write the backward direction's names (``weight_ih_l0_reverse``).
    forget_bias : float
        TensorFlow 1 only, and required there: the constant its cells add to f at run time,
        subtracted here from the stored f bias.

    Returns
    -------
    params : dict of ndarray
        Named and shaped as the framework names and shapes them, in its order (a nested
        dict for flax's params tree). A second bias (PyTorch's ``bias_hh_l0``, the second
        half of ONNX's ``B``) is zeros. The dicts of every layer and direction, merged, are a
        whole PyTorch ``state_dict``.

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
    >>> list(to_layout(W, "pytorch", layer=1, reverse=True))[0]
    'weight_ih_l1_reverse'
    >>> to_layout(W, "tensorflow1", forget_bias=1.0)["bias"].tolist()   # i, j, f, o
    [0.0, 0.0, 0.0, 0.0, 2.0, 2.0, 0.0, 0.0]
    >>> bool(np.array_equal(from_layout(to_layout(W, "onnx"), "onnx"), W))
    True
    """
    arrays, forget_bias = _layout_options(framework, layer, reverse, forget_bias, writing=True)
    W = _array("W", W, _FUSED, _FUSED_TEXT)
    input_size, d = _fused_sizes(W)
    if forget_bias is not None:  # TensorFlow 1 stores b_f - forget_bias
        W = W.copy()
        with np.errstate(over="ignore"):
            W[0, d:2 * d] -= forget_bias
        W = _array(f"W's f bias less forget_bias={forget_bias},", W)
    rows = _rows(input_size, d)
    params, written = {}, set()
    for name, holds, gates, transposed, shape in arrays:
        blocks = []
        for part, g in _gate_blocks(holds, gates):
            k = _OURS.index(g)
            block = W[rows[part], k * d:(k + 1) * d]  # (rows, d)
            blocks.append(np.zeros_like(block) if (part, g) in written else block)
            written.add((part, g))
        M = np.concatenate(blocks, axis=1)  # (rows, blocks * d), the framework's gate order
        sizes = {"I": input_size, "d": d, "D": 1}
        array = np.ascontiguousarray((M.T if transposed else M).reshape(_dims(shape, sizes)))
        *path, leaf = name.split("/")
        node = params
        for key in path:
            node = node.setdefault(key, {})
        node[leaf] = array
    return params


def _flat_params(params, framework, arrays):
    """``{"ii": {"kernel": a}}`` -> ``{"ii/kernel": a}``, with exactly the names of ``arrays``;
    the well-formed keys of other layers and directions of a PyTorch state_dict are dropped."""
    if not isinstance(params, Mapping):
        raise TypeError(f"params must be a dict of arrays; got {type(params).__name__}")
    flat, todo = {}, [("", params)]
    while todo:
        prefix, node = todo.pop()
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, Mapping) and value:
                todo.append((name + "/", value))
            elif name in flat:  # given both flat ("ii/kernel") and nested
                raise ValueError(f"params has {name!r} twice, flat and nested")
            else:
                flat[name] = value  # an empty dict too: an unknown name
    expected = {name: shape for name, *_, shape in arrays}
    for name in [name for name in flat if name not in expected]:
        _foreign_key(framework, name, flat, expected)
    _names(f"params for {framework!r}", flat, expected)
    return {name: _array(f"params[{name!r}]", flat[name]) for name in expected}


_TORCH_STEMS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
_ONNX_NOT_REPRESENTABLE = {
    "P": "peephole weights, which this LSTM does not have",
    "clip": "a clip of the pre-activations, which this LSTM does not apply",
    "activations": "other activations than sigmoid, tanh, tanh, which this LSTM does not take",
    "activation_alpha": "parameters of other activations, which this LSTM does not take",
    "activation_beta": "parameters of other activations, which this LSTM does not take",
    "input_forget": "coupled input and forget gates, which this LSTM does not have",
    "layout": "an attribute, not a weight: layout=1 is batch-first X and Y (the weights are the "
              "same), a transpose of X to (n, b, I) before forward",
    "direction": "an attribute, not a weight: 'reverse' runs each sequence backward in time "
                 "(flip X's time axis within the lengths); 'bidirectional' is read with "
                 "reverse=False, then reverse=True",
}


def _torch_stem(name):
    """``'weight_ih_l1_reverse'`` -> ``'weight_ih'``: the kind of a key named as torch.nn.LSTM's
    state_dict names them, whatever the layer and direction; None for any other name."""
    stem, _, layer = name.removesuffix("_reverse").rpartition("_l")
    return stem if layer.isdecimal() and str(int(layer)) == layer else None


def _foreign_key(framework, name, flat, expected):
    """Drop ``flat[name]`` where a whole checkpoint holds it for another layer or direction;
    raise where its name says why it cannot be read; leave it for _names otherwise."""
    if framework == "pytorch":
        if _torch_stem(name) in _TORCH_STEMS:
            del flat[name]  # another layer or direction of the same state_dict
        elif _torch_stem(name) == "weight_hr":
            raise ValueError(f"params has {name!r}: the projection of torch.nn.LSTM(..., "
                             f"proj_size>0), which a fused W cannot hold")
        elif "." in name and _torch_stem(name.rpartition(".")[2]) in _TORCH_STEMS:
            prefix = name.rpartition(".")[0] + "."
            raise ValueError(f"params has {name!r}: strip the prefix {prefix!r} of the module that "
                             f"holds the LSTM, e.g. {{k.removeprefix({prefix!r}): v for k, v in "
                             f"state_dict.items() if k.startswith({prefix!r})}}")
    elif framework == "onnx" and name in _ONNX_NOT_REPRESENTABLE:
        if name == "P" and not np.any(_floats("params['P']", flat[name])):
            del flat[name]  # all-zero peepholes add nothing
            return
        raise ValueError(f"params has {name!r}, {_ONNX_NOT_REPRESENTABLE[name]}")


def _layout_sizes(flat, arrays):
    """``{"I": input_size, "d": hidden_size, "D": num_directions}`` read off the arrays' shapes:
    each size is the one that most arrays give on their own, so that a ValueError names the
    array that is wrong, with the shape the other arrays say it should have."""
    sizes, voters = {}, {}
    for letter in ("d", "I", "D"):  # d first: I + d needs it
        votes = _size_votes(flat, arrays, letter, sizes)
        if votes:
            sizes[letter], voters[letter] = max(votes.items(), key=lambda vote: len(vote[1]))
    for name, *_, shape in arrays:
        if len(_tokens(shape)) != flat[name].ndim or any(
                x and x not in sizes for t in _tokens(shape) for _, x in _terms(t)) or (
                flat[name].shape != _dims(shape, sizes)):
            trusted = {x: v for x, v in sizes.items() if set(voters[x]) - {name}}
            raise ValueError(_layout_shape_error(name, flat[name].shape, shape, trusted))
    return sizes


def _size_votes(flat, arrays, letter, sizes):
    """``{value: [names]}``: the size ``letter`` that each array's shape gives on its own,
    given the ``sizes`` already known; an array that gives none or two values gives no vote."""
    votes = {}
    for name, *_, shape in arrays:
        tokens, actual, given = _tokens(shape), flat[name].shape, set()
        if len(actual) != len(tokens):
            continue
        for token, size in zip(tokens, actual):
            terms = _terms(token)
            k = sum(k for k, x in terms if x == letter)
            if k and all(not x or x == letter or x in sizes for _, x in terms):
                rest = sum(k * sizes.get(x, 1) for k, x in terms if x != letter)
                given.add((size - rest) // k if (size - rest) % k == 0 else 0)
        value = given.pop() if len(given) == 1 else 0
        if value >= 1 and (letter != "D" or value <= 2):  # D: one direction or two
            votes.setdefault(value, []).append(name)
    return votes


def _layout_shape_error(name, actual, shape, trusted):
    """The message for an array of the wrong shape, its sizes filled in from the other arrays."""
    tokens = _tokens(shape)
    parts = [str(_dims(t, trusted)[0]) if all(not x or x in trusted for _, x in _terms(t))
             else t.replace("+", " + ") for t in tokens]
    filled = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
    message = f"params[{name!r}] must have shape {shape}"
    message += f" = {filled}" if filled != shape else ""
    message += " (D = num_directions, 1 or 2)" if "D" in tokens else ""
    if len(actual) == 2 == len(parts) and all(not p.isdecimal() or int(p) == s
                                              for p, s in zip(parts, actual[::-1])):
        return message + f"; got {actual}, stored transposed?"
    return message + f"; got {actual}"


def from_layout(params, framework, *, layer=0, reverse=False, forget_bias=None):
    """Build fused ``W`` from ``framework``'s LSTM parameters: the inverse of :func:`to_layout`.

    Parameters
    ----------
    params : dict of array_like
        Named and shaped as in ``to_layout(W, framework)`` (for flax, the nested params tree).
        Where the framework has two biases, ``W``'s bias is their sum. For PyTorch, a whole
        ``state_dict`` of ``torch.nn.LSTM(..., num_layers=L, bidirectional=True)``: the keys of
        other layers and directions are ignored. For ONNX, ``W``, ``R`` and ``B`` with
        num_directions 1 or 2.
    framework : str
        A key of ``LAYOUTS``.
    layer : int, default 0
        PyTorch only: the layer to read (the keys ending ``_l{layer}``).
    reverse : bool, default False
        The backward direction: PyTorch's keys ending ``_reverse``, or index 1 of ONNX's
        bidirectional arrays.
    forget_bias : float
        TensorFlow 1 only, and required there: the constant its cells add to f at run time,
        added here to the stored f bias.

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
    >>> backward = {k + "_reverse": -v for k, v in params.items()}    # a bidirectional LSTM
    >>> from_layout({**params, **backward}, "pytorch", reverse=True)[0, :4].tolist()
    [-1.0, -2.0, -3.0, -4.0]
    """
    arrays, forget_bias = _layout_options(framework, layer, reverse, forget_bias, writing=False)
    flat = _flat_params(params, framework, arrays)
    sizes = _layout_sizes(flat, arrays)
    input_size, d = sizes["I"], sizes["d"]
    if reverse and sizes.get("D") == 1:
        raise ValueError("reverse=True reads the second direction of ONNX's W, R, B; these have "
                         "num_directions 1")
    rows = _rows(input_size, d)
    dtype = np.result_type(*flat.values())
    W = np.zeros((1 + input_size + d, 4 * d), dtype)  # (1 + I + d, 4d)
    for name, holds, gates, transposed, shape in arrays:
        array = flat[name][int(reverse)] if "D" in _tokens(shape) else flat[name]
        blocks = _gate_blocks(holds, gates)
        natural = (len(W[rows[blocks[0][0]]]), len(blocks) * d)  # (rows, blocks * d)
        M = array.reshape(natural[::-1]).T if transposed else array.reshape(natural)
        for k, (part, g) in enumerate(blocks):
            ours = _OURS.index(g)
            with np.errstate(over="ignore"):  # two biases summing beyond the dtype: checked below
                W[rows[part], ours * d:(ours + 1) * d] += M[:, k * d:(k + 1) * d]
    if forget_bias is not None:  # TensorFlow 1 computes with its stored b_f + forget_bias
        with np.errstate(over="ignore"):
            W[0, d:2 * d] += forget_bias
    overflow = "two biases sum" if forget_bias is None else "bias plus forget_bias is"
    return _array(f"W from params for {framework!r}, whose {overflow} beyond {dtype},", W)


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


def find_gate_order(W, X, H, c0=None, h0=None, *, lengths=None, atol=1e-4):
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
    lengths : array_like of int, shape (b,), optional
        As in :func:`forward`. Only each sequence's own steps are compared: what a framework
        outputs at padded steps (zeros, the last output repeated, anything) is ignored.
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
    args = _check_forward(X, W, c0, h0, lengths=lengths)  # checked once, then run 24 times
    (n, b, _), d = args["X"].shape, args["W"].shape[1] // 4  # time, batch; hidden
    H = _floats("H", H)
    _check_shape("H", H, (n, b, d), "(n, b, hidden_size) like forward's H")
    steps = np.arange(n)[:, None] < args["lengths"]  # (n, b)  each sequence's own steps
    if not np.isfinite(H[steps]).all():
        raise ValueError("H contains NaN or inf at a step of a sequence")
    atol = _real("atol", atol, positive=True)
    best, order = np.inf, None
    for candidate in itertools.permutations(_OURS):
        columns = np.concatenate([np.arange(d) + d * candidate.index(g) for g in _OURS])
        W_candidate = np.ascontiguousarray(args["W"][:, columns])
        H_candidate = _forward_kernel(**{**args, "W": W_candidate})[0]  # (n, b, d)
        difference = np.abs(H_candidate - H)[steps].max(initial=0.0)
        if difference <= atol and difference < best:
            best, order = difference, "".join(candidate)
    return order


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
    """``np.asarray(value)``; a masked, ragged or autograd-tracked ``value`` is a TypeError.

    Changes no warning filter (they are the whole process's, shared by its threads): NumPy 1
    only warns about ragged nested lists, so those are looked at as objects first."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} must be a plain array, not a masked array: its mask would be "
                        f"ignored. For sequences of different lengths, pass lengths=")
    if getattr(value, "requires_grad", False) is True and callable(getattr(value, "detach", None)):
        raise TypeError(f"{name} is a tensor that requires grad, which NumPy cannot read: pass "
                        f"{name}.detach() (and .cpu() if it is on a GPU)")
    if isinstance(value, (list, tuple)) and _ragged(value):
        raise TypeError(f"{name} must be an array of {holding}; got a ragged nested "
                        f"{type(value).__name__} (rows of different lengths)")
    try:
        return np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be an array of {holding}; got {type(value).__name__}"
                        ) from error


def _ragged(value):
    """True if the nested lists ``value`` do not make one rectangular array: NumPy then holds
    some of them whole as objects."""
    try:
        objects = np.asarray(value, dtype=object)
    except ValueError:  # NumPy says so itself (sequences that do not broadcast)
        return True
    return any(isinstance(e, (list, tuple)) or isinstance(e, np.ndarray) and e.ndim > 0
               for e in objects.flat)  # a 0-d array is a number


def _floats(name, value):
    """``np.asarray(value)`` that insists on real numbers; integers become float64, and
    floating types NumPy does not know (bfloat16 of ml_dtypes) float32, both exactly."""
    array = _plain(name, value, "real numbers")
    if array.dtype.kind in "biu":
        array = array.astype(np.float64)
    elif array.dtype.kind != "f" and np.can_cast(array.dtype, np.float32):  # bfloat16
        array = array.astype(np.float32)
    if array.dtype.kind != "f":
        raise TypeError(f"{name} must hold real floating-point numbers; got dtype {array.dtype}")
    return array


def _array(name, value, shape=None, meaning="", dtype=None, *, sequences=False, values=True):
    """A finite real array of ``shape`` (None matches any size), converted to ``dtype`` if given;
    with ``sequences``, a batch holding at least one sequence of one step. With ``values``
    False, only its type and shape are checked: see :func:`_finite`."""
    array = _floats(name, value)
    if shape is not None:
        _check_shape(name, array, shape, meaning)
    if sequences and array.size == 0:
        raise ValueError(f"{name} must hold at least one step of one sequence; got {array.shape}")
    return _finite(name, array, dtype) if values else array


def _finite(name, array, dtype=None, running=None):
    """``array`` converted to ``dtype`` if given, NaN and inf refused, before and after; with
    ``running``, a mask of its leading axes, only where a step runs: padding is ignored."""
    def bad(a):
        ok = np.isfinite(a)
        if running is not None:
            ok = ok.reshape(*running.shape, -1).all(axis=-1) | ~running  # (n, b) or (b, n)
        return not ok.all()

    if bad(array):
        where = " at a step that runs" if running is not None else ""
        raise ValueError(f"{name} contains NaN or inf{where}")
    if dtype is None or array.dtype == dtype:
        return array
    with np.errstate(over="ignore"):
        converted = array.astype(dtype)
    if bad(converted):  # finite numbers too large for dtype
        raise ValueError(f"{name} holds numbers too large for {np.dtype(dtype)}")
    return converted


def _running(lengths, n, batch_first=False):
    """Which (step, sequence) pairs run, ``(n, b)``; ``(b, n)`` with ``batch_first``."""
    running = np.arange(n)[:, None] < lengths  # (n, b)
    return running.T if batch_first else running


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


def _sizes(input_size, hidden_size, *, fused=False):
    """``(input_size, hidden_size)`` checked by :func:`_size`, and small enough that the weights
    (the fused W, or the per-gate matrices) fit in this machine's memory: a ValueError naming
    them, rather than NumPy's MemoryError, which names nothing, or an allocation that swaps."""
    input_size, d = _size("input_size", input_size), _size("hidden_size", hidden_size)
    shapes = [(1 + input_size + d, 4 * d)] if fused else [(input_size, d), (d, d)] * 4  # float64
    _fits(f"input_size={input_size}, hidden_size={d}", "W" if fused else "the weights", shapes)
    return input_size, d


def _fits(named, what, shapes):
    """Raise a ValueError naming the sizes unless arrays of ``shapes`` (float64) fit in memory."""
    nbytes = 8 * sum(math.prod(shape) for shape in shapes)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): NumPy's own limit
        memory = np.iinfo(np.intp).max
    limit = min(memory, np.iinfo(np.intp).max)
    if nbytes > limit:
        raise ValueError(f"{named}: too large, {what} would take {nbytes:.3g} bytes, more "
                         f"than this machine's memory ({limit:.3g} bytes)")


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
    """``lengths``: b integers in 0..n, as an int array; all n when None."""
    if lengths is None:
        return np.full(b, n)
    array = _plain("lengths", lengths, "integers, shape (batch,)")
    if array.shape != (b,):
        raise ValueError(f"lengths must have shape (batch,) = ({b},); got {array.shape}")
    booleans = isinstance(lengths, (list, tuple)) and any(
        isinstance(k, (bool, np.bool_)) for k in lengths)  # [True, 2] is an int array
    if array.dtype.kind not in "iu" or booleans:
        raise TypeError(f"lengths must hold integers; got "
                        f"{'booleans' if booleans else f'dtype {array.dtype}'}")
    if array.min() < 0 or array.max() > n:
        raise ValueError(f"lengths must be in 0..n = 0..{n}; got {array.tolist()}")
    return array.astype(np.int64)


def _fused_sizes(W):
    """``(input_size, hidden_size)`` of a fused weight matrix (2-D), or a ValueError."""
    d = W.shape[1] // 4
    if d == 0 or W.shape[1] != 4 * d or W.shape[0] < d + 2:
        raise ValueError(f"W must have shape {_FUSED_TEXT}: a positive multiple of 4 columns, and "
                         f"for hidden_size {d} at least {d + 2} rows; got {W.shape}")
    return W.shape[0] - 1 - d, d


def _check_W(W):
    """A fused weight matrix: a finite real array of shape (1 + input_size + d, 4d)."""
    W = _array("W", W, _FUSED, _FUSED_TEXT)
    _fused_sizes(W)
    return W


def _check_forward(X, W, c0=None, h0=None, *, lengths=None):
    """forward's arguments, as arrays of one floating dtype (the inputs' common type)."""
    W = _check_W(W)
    input_size, d = _fused_sizes(W)
    X = _array("X", X, (None, None, input_size), "(n, batch, input_size), time-major,",
               sequences=True, values=False)
    n, b = X.shape[:2]
    lengths = _lengths(lengths, n, b)
    dtype = np.result_type(X, W)
    X = _finite("X", X, dtype, _running(lengths, n))  # padded steps: anything, NaN included
    c0, h0 = _state("c0", c0, (b, d), dtype), _state("h0", h0, (b, d), dtype)
    return {"X": X, "W": W.astype(dtype, copy=False), "c0": c0, "h0": h0, "lengths": lengths}


def _check_backward(dH, cache, dc=None, dh=None):
    """backward's arguments: the cache as forward made it, the gradients in its dtype."""
    X_rows, W, IFOG, C, Ct, H, order, batch_sizes = _check_cache(cache)
    n, b, d = len(batch_sizes), len(order), W.shape[1] // 4  # time, batch, hidden
    dH = _array("dH", dH, (n, b, d), "(n, batch, hidden_size) like forward's H", values=False)
    running = np.zeros((n, b), dtype=bool)  # (n, b)  the rows forward ran, by sequence
    running[:, order] = np.arange(b) < batch_sizes[:, None]  # packed: the first k of order
    dH = _finite("dH", dH, W.dtype, running)  # padded steps ignored, whatever they hold
    dc, dh = _state("dc", dc, (b, d), W.dtype), _state("dh", dh, (b, d), W.dtype)
    return {"dH": dH, "cache": cache, "dc": dc, "dh": dh}


def _check_init(input_size, hidden_size, forget_bias, rng, dtype):
    """The arguments of LSTMCell and LSTM: ``(input_size, hidden_size), forget_bias, rng,
    dtype`` as Python ints, a float, a Generator and a native floating dtype."""
    sizes = _sizes(input_size, hidden_size)
    dtype, rng = _float_dtype(dtype), _generator(rng)
    return sizes, _real("forget_bias", forget_bias, dtype), rng, dtype


def _check_output_size(output_size, hidden_size):
    """LSTM's ``output_size``: None, or a size whose ``W_y (hidden_size, output_size)`` fits."""
    if output_size is None:
        return None
    output_size = _size("output_size", output_size)
    _fits(f"output_size={output_size}", "W_y", [(hidden_size, output_size)])
    return output_size


def _check_step(cell, x, h_prev, c_prev):
    """LSTMCell.forward's arguments, in the cell's dtype, as the cell's own copies (its cache
    keeps them: editing the caller's arrays must not change backward); zero states when None."""
    x = _array("x", x, (None, cell.input_size), "(batch, input_size)", cell.dtype)
    h_prev = _state("h_prev", h_prev, (len(x), cell.hidden_size), cell.dtype)
    c_prev = _state("c_prev", c_prev, (len(x), cell.hidden_size), cell.dtype)
    return x.copy(), h_prev.copy(), c_prev.copy()


def _check_step_grads(cell, dh, dc):
    """LSTMCell.backward's arguments, shaped like the last forward's states."""
    if cell.cache is None:
        raise ValueError("backward needs a forward call first: it differentiates the last one")
    shape = cell.cache[1].shape  # (b, d), as h_prev
    if dh is None:
        raise TypeError("dh must be an array of shape (batch, hidden_size); got None")
    return _state("dh", dh, shape, cell.dtype), _state("dc", dc, shape, cell.dtype)


def _check_model_input(model, X, return_sequences, return_state, h0, c0, lengths):
    """LSTM.forward's arguments: X batch first in the model's dtype, the states, the lengths."""
    X = _array("X", X, (None, None, model.input_size),
               "(batch, seq_len, input_size), batch first,", sequences=True, values=False)
    _flag("return_sequences", return_sequences)
    _flag("return_state", return_state)
    b, n = X.shape[:2]  # batch, time
    lengths = _lengths(lengths, n, b)
    X = _finite("X", X, model.dtype, _running(lengths, n, batch_first=True))  # padding ignored
    h0 = _state("h0", h0, (b, model.hidden_size), model.dtype)
    c0 = _state("c0", c0, (b, model.hidden_size), model.dtype)
    return X, h0, c0, lengths


def _check_model_grads(model, dY, dh, dc):
    """LSTM.backward's arguments, shaped like the last forward's output and states."""
    if model._cache is None:
        raise ValueError("backward needs a forward call first: it differentiates the last one")
    last = model._cache
    meaning = "(batch, seq_len, out)" if last["return_sequences"] else "(batch, out)"
    dY = _array("dY", dY, last["Y_shape"], meaning + " like the last forward's output",
                values=False)
    running = last["running"] if last["return_sequences"] else None  # (b, n): padding ignored
    dY = _finite("dY", dY, model.dtype, running)
    shape = (last["Y_shape"][0], model.hidden_size)  # (b, d)
    return dY, _state("dh", dh, shape, model.dtype), _state("dc", dc, shape, model.dtype)


_CACHE_KEYS = ("X", "W", "IFOG", "C", "Ct", "H", "order", "batch_sizes")


def _check_cache(cache):
    """The cache's arrays, in the order of ``_CACHE_KEYS``, if it is what forward returned."""
    _names("cache (the dict returned by forward)", cache, dict.fromkeys(_CACHE_KEYS, ""))
    X, W, IFOG, C, Ct, H, order, batch_sizes = arrays = [cache[k] for k in _CACHE_KEYS]
    if not all(isinstance(a, np.ndarray) for a in arrays) or X.ndim != 2 or IFOG.ndim != 2:
        raise ValueError("cache must be the dict returned by forward: its entries are not arrays")
    N, b, d = IFOG.shape[0], len(order), IFOG.shape[1] // 4  # rows, batch, hidden
    expected = {"order": (None,), "batch_sizes": (None,), "X": (N, None),  # order: b first
                "W": (1 + X.shape[1] + d, 4 * d), "C": (b + N, d), "Ct": (N, d), "H": (b + N, d)}
    for key, shape in expected.items():
        _check_shape(f"cache[{key!r}]", cache[key], shape, "as made by forward")
    if (order.dtype.kind not in "iu" or batch_sizes.dtype.kind not in "iu" or IFOG.dtype.kind
            != "f" or not np.array_equal(np.sort(order), np.arange(b)) or batch_sizes.sum() != N):
        raise ValueError("cache must be the dict returned by forward: its arrays do not fit")
    return arrays


def _check_params(params, shapes, dtype, *, where="params", copy=True):
    """``params``, a dict with exactly the names of ``shapes``, each an array of that shape and
    of ``dtype``, checked in full before anything is returned. The messages call the dict
    ``where``."""
    _names(where, params, {name: _shape_text(_PARAMS[name]) for name in shapes})
    checked = {}
    for name, shape in shapes.items():
        label = f"{where}[{name!r}]"
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
        listing = ", ".join(f"{key} {shape}".rstrip() for key, shape in expected.items())
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
    rows, columns = _size("shape[0]", shape[0]), _size("shape[1]", shape[1])
    _fits(f"shape = ({rows}, {columns})", "the matrix", [(rows, columns)] * 2)  # and a copy
    return rows, columns


def _loss(name, value):
    """The scalar a function ``f`` returned, as a Python float; a TypeError naming ``f``."""
    array = _floats(f"{name}(x)", value)
    if array.size != 1:
        raise TypeError(f"{name} must return a scalar (a loss); got an array of shape "
                        f"{array.shape}")
    return float(array.reshape(()))


def _checked(kernel, check):
    """``kernel``, a function of the core, behind ``check``: the public function that checks
    its arguments and then runs the kernel on what the check returns (a dict by name)."""
    @functools.wraps(kernel)  # its name, docstring and signature
    def public(*args, **kwargs):
        return kernel(**check(*args, **kwargs))
    return public


# The public forward and backward are the core's, behind the checks above. The core itself
# trusts its arguments, so that it can be copied alone; the model, having checked its own
# arguments once, calls the kernels directly.
_forward_kernel, _backward_kernel = forward, backward
forward = _checked(_forward_kernel, _check_forward)
backward = _checked(_backward_kernel, _check_backward)


# --- Model files ----------------------------------------------------------------------------------
# LSTM.save and LSTM.load: one file in the safetensors format, the ecosystem's format for tensor
# files from strangers. It is bounded by design: an 8-byte little-endian length N, a JSON header
# of N bytes naming each tensor's dtype, shape and byte range, then the raw little-endian data,
# each tensor's bytes after the last's, nothing else. No compression and no code, so a file
# holds exactly the numbers it claims: load checks the header against the file's size before it
# reads a byte of data, and allocates the model's arrays only, once.
#
#   [N: uint64 LE][header: N bytes of JSON, space-padded][data: the tensors, back to back]
#   header = {"W_xi": {"dtype": "F64", "shape": [I, d], "data_offsets": [0, 8*I*d]}, ...,
#             "__metadata__": {"format": "lstm_reference.LSTM"}}     (metadata optional)

_FILE_DTYPES = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_FILE_METADATA = {"format": "lstm_reference.LSTM"}  # written; not needed to read a file
_MAX_HEADER = 1 << 16  # bytes of JSON header read at most; a model's takes about 1.5 KB
_CHUNK = 1 << 20  # elements checked for NaN and inf at a time: a constant extra memory


def _save_model(model, path):
    """LSTM.save: check every parameter, then write the file (atomically, to a path)."""
    sizes = {s: getattr(model, s) for s in ("input_size", "hidden_size", "output_size")}
    for s, size in sizes.items():
        if size is not None:
            _size(f"model.{s}", size)
    codes = {dtype.newbyteorder("="): code for code, dtype in _FILE_DTYPES.items()}
    if model.dtype not in codes:
        raise TypeError(f"model.dtype must be float16, float32 or float64 to be saved (the "
                        f"file's F16, F32, F64); got {model.dtype}")
    shapes = _param_shapes(**sizes)
    params = _check_params(model.params, shapes, model.dtype, where="model.params", copy=False)
    header, offset = {}, 0
    for name, value in params.items():  # get_params' order, data back to back
        header[name] = {"dtype": codes[model.dtype], "shape": list(value.shape),
                        "data_offsets": [offset, offset + value.nbytes]}
        offset += value.nbytes
    header["__metadata__"] = _FILE_METADATA
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # space-padded to 8 bytes, as safetensors aligns its data
    if isinstance(path, (str, bytes, os.PathLike)):
        _write_atomically(path, text, params.values())
    elif hasattr(path, "write"):
        _write_model(path, text, params.values())
    else:
        raise TypeError(f"path must be a file name or a binary file; got {type(path).__name__}")


def _write_model(file, header, arrays):
    """The length of ``header``, ``header`` and each array's bytes, little-endian."""
    _write_all(file, len(header).to_bytes(8, "little"))
    _write_all(file, header)
    for array in arrays:
        little = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        _write_all(file, little.reshape(-1).view(np.uint8))  # its bytes, as they are


def _write_all(file, data):
    """Every byte of ``data``: a raw file or a socket may write fewer than it is given."""
    view = memoryview(data).cast("B")
    while view:
        count = file.write(view)
        if not count:  # 0, or None from a non-blocking file that would block
            raise OSError(errno.EAGAIN, f"the file took no more bytes, {len(view)} left unwritten")
        view = view[count:]


def _write_atomically(path, header, arrays):
    """``_write_model`` to a private temporary file beside ``path``, renamed over it once it is
    complete and on disk; the temporary file is removed if anything fails."""
    path = _target(os.fsdecode(path))  # through a link: the file it points to
    replaced = _replaced(path)  # os.stat_result, or None for a new file
    folder = os.path.dirname(path) or "."
    temp = os.path.join(folder, f".lstm-{secrets.token_hex(8)}.tmp")  # short, whatever the name
    # new (O_EXCL) and private (0o600) while the weights are written
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            _write_model(file, header, arrays)
            file.flush()
            os.fsync(file.fileno())  # on disk before the rename makes it the file
        if replaced is None:
            os.chmod(temp, _new_file_mode(folder))
        else:
            with contextlib.suppress(OSError, AttributeError):  # its owner, where allowed
                os.chown(temp, replaced.st_uid, replaced.st_gid)
            os.chmod(temp, stat.S_IMODE(replaced.st_mode))  # after chown, which may clear bits
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temp)
        raise


def _target(path):
    """The file that ``open(path, "wb")`` would write: ``path`` through its chain of symbolic
    links, or the OSError ``open`` would raise for a path that cannot name a file (a trailing
    slash, a missing or non-folder parent). Only the final links are followed, as open does:
    os.path.realpath would also cancel ``missing/..`` without looking."""
    for _ in range(40):  # the kernel's own limit on links followed
        name = os.path.basename(path)
        if path == "":
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), path)
        if name == "":  # a trailing slash: open refuses it as a folder, existing or not
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        folder = os.path.dirname(path) or "."
        if not stat.S_ISDIR(os.stat(folder).st_mode):  # ENOENT, ENOTDIR from the kernel
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path)
        if name in (".", ".."):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
        if not os.path.islink(path):
            return path
        path = os.path.join(folder, os.readlink(path))
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)


def _replaced(path):
    """The ``os.stat`` of the file at ``path``, None if there is none; a ValueError if it is
    not a regular file (a device, a pipe), which renaming over would destroy, before anything
    opens it; an OSError if ``open(path, "wb")`` would refuse it (write-protected, a folder)."""
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), path)
    if not stat.S_ISREG(status.st_mode):
        raise ValueError(f"{path} is not a regular file: LSTM.save replaces files only")
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    os.close(os.open(path, flags))  # open for writing, without truncating: permission to write
    return status


def _new_file_mode(folder):
    """The permission bits ``open(path, "wb")`` gives a new file in ``folder`` (0o666 less the
    umask), read off an empty file made for the purpose: reading the umask would change it."""
    probe = os.path.join(folder, f".{secrets.token_hex(8)}.mode")
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        return stat.S_IMODE(os.fstat(fd).st_mode)
    finally:
        os.close(fd)
        os.remove(probe)


def _load_model(cls, path):
    """LSTM.load: a model of class ``cls`` from the file at ``path``, or a ValueError."""
    if isinstance(path, (str, bytes, os.PathLike)):
        # without waiting: opening a pipe for reading would block until someone writes to it
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # /dev/zero, a pipe, a folder: no end
            os.close(fd)
            raise ValueError(f"{path} is not an LSTM model file (safetensors): it is not a "
                             f"regular file")
        file = os.fdopen(fd, "rb", buffering=0)
    elif hasattr(path, "readinto") and hasattr(path, "seek"):
        file = path  # a binary file object stays the caller's, read from where it stands
    else:
        raise TypeError(f"path must be a file name or a binary, seekable file; "
                        f"got {type(path).__name__}")
    try:
        sizes, params = _read_model_file(file)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path} is not an LSTM model file (safetensors): {error}") from error
    finally:
        if file is not path:
            file.close()
    # The smallest model of the class, given the file's sizes and parameters: no random
    # initialization of the file's sizes, whose orthogonal matrices would cost d^3 each.
    model = cls(1, 1, None if sizes[2] is None else 1, rng=0, dtype=params["W_xi"].dtype)
    model.input_size, model.hidden_size, model.output_size = sizes
    model.params = params  # checked as set_params checks them, without a second copy
    return model


def _read_model_file(file):
    """The sizes ``(input_size, hidden_size, output_size or None)`` and the parameters in a
    model file: the header checked in full before any data is read, then each tensor read
    exactly into its array. ValueError if it is anything else."""
    size = _data_size(file)
    if size < 8:
        raise ValueError(f"it holds {size} bytes; a safetensors file starts with 8 bytes that "
                         f"give its header's length")
    length = int.from_bytes(_read_exactly(file, 8, "the header length"), "little")
    if length > min(_MAX_HEADER, size - 8):
        raise ValueError(f"its header length is {length} bytes; at most {_MAX_HEADER} are read, "
                         f"and the file holds {size - 8} after the length")
    header = _parse_header(_read_exactly(file, length, "the header"))
    dtype, sizes, shapes = _check_header(header, size - 8 - length)
    params = {}
    for name in sorted(shapes, key=lambda name: header[name]["data_offsets"][0]):  # file order
        try:
            array = np.empty(shapes[name], dtype=dtype)  # the model's own memory, and only it
        except MemoryError as error:  # an address-space limit _fits could not see
            raise ValueError(f"its tensor {name!r} does not fit in memory") from error
        _read_exactly(file, array.nbytes, f"tensor {name!r}",
                      into=memoryview(array.reshape(-1).view(np.uint8)))
        _check_finite(name, array)
        if not array.dtype.isnative:  # a big-endian machine: swapped in place, no copy
            array = array.byteswap(inplace=True).view(array.dtype.newbyteorder("="))
        params[name] = array
    if file.readinto(bytearray(1)):  # the file grew while we read it
        raise ValueError("it holds more bytes than its header accounts for")
    return sizes, {name: params[name] for name in shapes}  # in get_params' order


def _data_size(file):
    """The bytes from ``file``'s position to its end; a ValueError unless it is a regular file
    (a device like /dev/zero, a pipe or a folder has no end to check the header against)."""
    try:
        fileno = file.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        fileno = None  # an in-memory file (io.BytesIO)
    if fileno is not None and not stat.S_ISREG(os.fstat(fileno).st_mode):
        raise ValueError("it is not a regular file")
    try:
        start = file.tell()
        end = os.fstat(fileno).st_size if fileno is not None else file.seek(0, os.SEEK_END)
        file.seek(start)
    except OSError as error:  # a file whose size cannot be found (under /proc, say)
        raise ValueError(f"its size cannot be found ({error})") from error
    return max(0, end - start)


def _read_exactly(file, nbytes, what, into=None):
    """``nbytes`` from ``file`` (into the buffer ``into`` if given): a ValueError if it ends
    first. Reads in pieces, so a short count is never a guess."""
    buffer = memoryview(bytearray(nbytes)) if into is None else into
    done = 0
    while done < nbytes:
        count = file.readinto(buffer[done:])
        if not count:
            raise ValueError(f"it ends after {done} of the {nbytes} bytes of {what}")
        done += count
    return bytes(buffer) if into is None else buffer


def _parse_header(text):
    """The header's JSON object; a ValueError for anything but plain JSON of small integers,
    strings, lists and objects with distinct keys."""
    def refuse(what):
        def hook(value):
            raise ValueError(f"its header holds {what} {value[:20]!r}")
        return hook

    def integer(digits):  # no int of a thousand digits: sizes and offsets fit in 20
        if len(digits.lstrip("-")) > 20:
            raise ValueError(f"its header holds an integer of {len(digits)} digits")
        return int(digits)

    def distinct(pairs):  # a dict would keep only the last of two equal keys
        result = {}
        for key, value in pairs:
            if key in result:
                raise ValueError(f"its header holds a key twice: {key[:80]!r}")
            result[key] = value
        return result

    try:
        header = json.loads(text.decode("utf-8"), parse_int=integer, parse_float=refuse("a "
                            "fraction"), parse_constant=refuse("the constant"),
                            object_pairs_hook=distinct)
    except UnicodeDecodeError as error:
        raise ValueError(f"its header is not UTF-8: {error}") from error
    except RecursionError as error:
        raise ValueError("its header nests too deep") from error
    except ValueError as error:  # json.JSONDecodeError included
        raise ValueError(f"its header is not JSON: {error}") from error
    if not isinstance(header, dict):
        raise ValueError(f"its header must be a JSON object; got a {type(header).__name__}")
    return header


def _check_header(header, data_size):
    """``(dtype, sizes, shapes)`` of the tensors a header declares, after checking their names,
    dtypes, shapes and byte ranges against a model's and the ``data_size`` bytes after it."""
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError("its __metadata__ must be a JSON object of strings")
    names = ", ".join(_PARAMS)
    for name, entry in header.items():
        if name not in _PARAMS:
            raise ValueError(f"it holds a tensor {name[:80]!r}; a model's are {names}")
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"its header entry {name!r} must have exactly the keys dtype, "
                             f"shape, data_offsets")
        shape, offsets = entry["shape"], entry["data_offsets"]
        if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)
                and isinstance(offsets, list) and len(offsets) == 2
                and all(type(o) is int and o >= 0 for o in offsets)):
            raise ValueError(f"tensor {name!r} must have a shape of sizes >= 0 and data_offsets "
                             f"[begin, end]; got {shape} and {offsets}")
    if "W_xi" not in header:
        raise ValueError(f"it must hold the tensors {names} (the last two for an output "
                         f"layer); got {', '.join(header) or 'none'}")
    for name in ("W_xi", "W_y"):  # the sizes are read off these two
        if name in header and len(header[name]["shape"]) != 2:
            raise ValueError(f"tensor {name!r} must have shape {_shape_text(_PARAMS[name])}; "
                             f"got {tuple(header[name]['shape'])}")
    codes = {entry["dtype"][:20] if isinstance(entry["dtype"], str) else repr(entry["dtype"])[:20]
             for entry in header.values()}
    if len(codes) != 1 or not codes <= set(_FILE_DTYPES):
        raise ValueError(f"its tensors must all have one dtype of F16, F32, F64; "
                         f"got {sorted(codes)}")
    dtype = _FILE_DTYPES[codes.pop()]
    sizes = (*header["W_xi"]["shape"], header["W_y"]["shape"][1] if "W_y" in header else None)
    if min(sizes[:2]) < 1 or sizes[2] == 0:
        raise ValueError(f"its sizes (input_size, hidden_size, output_size) read off W_xi and "
                         f"W_y must be positive; got {sizes}")
    shapes = _param_shapes(*sizes)
    missing = [name for name in shapes if name not in header]
    unknown = [name for name in header if name not in shapes]
    if missing or unknown:
        raise ValueError(f"it must hold the tensors {', '.join(shapes)}; missing: {missing}, "
                         f"unexpected: {unknown}")
    end = 0
    for name in sorted(shapes, key=lambda name: header[name]["data_offsets"]):
        begin, stop = header[name]["data_offsets"]
        shape = tuple(header[name]["shape"])
        if shape != shapes[name]:
            raise ValueError(f"tensor {name!r} must have shape {_shape_text(_PARAMS[name])} = "
                             f"{shapes[name]} for the sizes {sizes}; got {shape}")
        if begin != end or stop - begin != dtype.itemsize * math.prod(shape):
            raise ValueError(f"tensor {name!r} must take bytes [{end}, "
                             f"{end + dtype.itemsize * math.prod(shape)}], right after the "
                             f"tensor before it, for {shape} of {dtype.itemsize} bytes; "
                             f"got [{begin}, {stop}]")
        end = stop
    if end != data_size:
        raise ValueError(f"its header accounts for {end} bytes of data; the file holds "
                         f"{data_size}")
    # a sparse file can be that long on disk without the blocks: the model must fit in memory
    _fits(f"its sizes {sizes}", "the model", [(end // 8 + 1,)])
    return dtype, sizes, shapes


def _check_finite(name, array):
    """A ValueError if ``array`` holds NaN or inf, checked a piece at a time."""
    flat = array.reshape(-1)
    for start in range(0, flat.size, _CHUNK):
        if not np.isfinite(flat[start:start + _CHUNK]).all():
            raise ValueError(f"tensor {name!r} holds NaN or inf")


# --- Command line ---------------------------------------------------------------------------------
# python lstm_reference.py runs the self-check.


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
        ("extreme finite inputs and 5000 steps: no FP error, non-finite values",
         check_extremes, lambda count: count == 0),
        ("LSTMCell stepped by hand == fused forward and backward (max abs diff)",
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
