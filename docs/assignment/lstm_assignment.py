"""Build it yourself: an LSTM's forward and backward pass, graded against lstm_reference.py.

Fill in every line marked ``# TODO`` (one line each, but 3a and 4a, a few lines each), then run

    python lstm_assignment.py

in a folder that holds this file and ``lstm_reference.py`` (both are downloads on the page
"Build it yourself"), or from a clone of the repository. The grader at the bottom of this file
compares each part with the module's ``forward`` and ``backward`` and prints, for each, the
largest relative error, PASS or FAIL, and a hint when it fails. The parts are graded apart:
parts 3 and 4 run on the module's own step, so a mistake in part 1 or 2 does not fail them.

The conventions are the module's (docs: Conventions):

- row vectors: a batch is a stack of rows, ``z_t = [1, x_t, h_{t-1}] @ W``;
- ``W`` has shape ``(1 + I + d, 4d)``: row 0 the bias, then ``I`` input rows, then ``d``
  recurrent rows; its column blocks are the gates in the order **i, f, o, g**, ``d`` columns each;
- the equations count steps from 1 and the arrays from 0: ``x_t`` is ``X[t-1]``.

The equations (Forward pass and Backward pass pages) are all you need::

    i_t = sigmoid(z^i_t), f_t = sigmoid(z^f_t), o_t = sigmoid(z^o_t), g_t = tanh(z^g_t)   (eq-gates)
    c_t = f_t * c_{t-1} + i_t * g_t                                                     (eq-cell)
    h_t = o_t * tanh(c_t)                                                               (eq-hidden)
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# lstm_reference.py: beside this file (downloaded), or at the root of a clone of the repository
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

import numpy as np  # noqa: E402

import lstm_reference as lr  # noqa: E402


def sigmoid(z):
    """The logistic function ``1 / (1 + exp(-z))``."""
    return 1 / (1 + np.exp(-z))


# --- Part 1: one step forward ---------------------------------------------------------------------


def step_forward(x, h_prev, c_prev, W):
    """One step: eq-gates, eq-cell, eq-hidden.

    ``x (b, I)``, ``h_prev, c_prev (b, d)``: the input at step t and the state after step t-1;
    ``W (1 + I + d, 4d)``. Returns ``h, c (b, d)`` and the cache that :func:`step_backward` reads.
    """
    b = x.shape[0]  # batch
    d = h_prev.shape[1]  # hidden size
    z = np.concatenate([np.ones((b, 1)), x, h_prev], axis=1) @ W  # (b, 4d)  eq-z
    z_i, z_f, z_o, z_g = (z[:, k * d:(k + 1) * d] for k in range(4))  # (b, d) each: i, f, o, g
    i = np.zeros_like(z_i)  # TODO 1a: the input gate, eq-gates
    f = np.zeros_like(z_f)  # TODO 1b: the forget gate, eq-gates
    o = np.zeros_like(z_o)  # TODO 1c: the output gate, eq-gates
    g = np.zeros_like(z_g)  # TODO 1d: the candidate, eq-gates
    c = np.zeros_like(c_prev)  # TODO 1e: the cell update, eq-cell
    h = np.zeros_like(h_prev)  # TODO 1f: the hidden output, eq-hidden
    cache = (x, h_prev, c_prev, W, i, f, o, g, c)
    return h, c, cache


# --- Part 2: one step backward --------------------------------------------------------------------


def gate_gradients(dh, dc, cache):
    """``dz (b, 4d)``, the gradient of the loss by the pre-activations ``z_t``, gate by gate.

    ``dh, dc (b, d)``: the gradient reaching ``h_t`` and ``c_t`` from outside this step (from
    the output at t and from step t+1). Implements eq-dc, then eq-di, eq-df, eq-do, eq-dg.
    """
    x, h_prev, c_prev, W, i, f, o, g, c = cache
    tanh_c = np.tanh(c)  # (b, d)
    dc_total = dc + dh * o * (1 - tanh_c ** 2)  # (b, d)  eq-dc: c_t reaches the loss via h_t too
    dz_i = np.zeros_like(i)  # TODO 2a: the input gate, eq-di
    dz_f = np.zeros_like(f)  # TODO 2b: the forget gate, eq-df
    dz_o = np.zeros_like(o)  # TODO 2c: the output gate, eq-do
    dz_g = np.zeros_like(g)  # TODO 2d: the candidate, eq-dg
    return np.concatenate([dz_i, dz_f, dz_o, dz_g], axis=1)  # (b, 4d)  W's column order


def step_backward(dh, dc, cache):
    """One step in reverse. Returns ``dx (b, I)``, ``dh_prev, dc_prev (b, d)`` and this step's
    ``dW``, shaped like ``W``: eq-dprev, eq-dW, eq-dX for one step."""
    x, h_prev, c_prev, W, i, f, o, g, c = cache
    input_size = x.shape[1]
    dz = gate_gradients(dh, dc, cache)  # (b, 4d)
    dc_total = dc + dh * o * (1 - np.tanh(c) ** 2)  # (b, d)  eq-dc, as in gate_gradients
    dc_prev = np.zeros_like(c_prev)  # TODO 2e: what reaches c_{t-1} along the cell, eq-dprev
    dW = np.zeros_like(W)  # TODO 2f: this step's term of eq-dW, with the row of ones
    dxh = np.zeros((x.shape[0], W.shape[0] - 1))  # TODO 2g: dz back through [x_t, h_{t-1}] W
    return dxh[:, :input_size], dxh[:, input_size:], dc_prev, dW


# --- Parts 3 and 4: the loop over time ------------------------------------------------------------


def forward(X, W, c0=None, h0=None):
    """Run :func:`step_forward` for t = 1..n over ``X (n, b, I)``, time-major.

    Returns ``H (n, b, d)`` (``H[t-1]`` is ``h_t``), the final ``c, h (b, d)``, and the list of
    every step's cache, step 1 first.
    """
    n, b, input_size = X.shape  # time, batch, features
    d = W.shape[1] // 4  # hidden size
    c = np.zeros((b, d)) if c0 is None else c0
    h = np.zeros((b, d)) if h0 is None else h0
    H = np.zeros((n, b, d))  # (n, b, d)
    caches = []
    for t in range(1, n + 1):  # step t reads x_t = X[t-1]
        pass  # TODO 3a: step t: the new h and c, h_t into H, the step's cache into caches
    return H, c, h, caches


def backward(dH, caches, dc=None, dh=None):
    """Gradients through :func:`forward`, running :func:`step_backward` for t = n..1.

    ``dH (n, b, d)`` is dLoss/dH; ``dc, dh (b, d)`` the gradient arriving at the final ``c, h``.
    Returns ``dX (n, b, I)``, ``dW`` (like ``W``), ``dc0, dh0 (b, d)``.
    """
    n, b, d = dH.shape  # time, batch, hidden
    x, W = caches[0][0], caches[0][3]
    dX, dW = np.zeros((n, b, x.shape[1])), np.zeros_like(W)
    dc = np.zeros((b, d)) if dc is None else dc
    dh = np.zeros((b, d)) if dh is None else dh
    for t in range(n, 0, -1):  # step n first
        pass  # TODO 4a: step t in reverse: dH[t-1] joins dh; dX[t-1]; the step's dW adds up
    return dX, dW, dc, dh


# --- The grader: you need not read below this line ------------------------------------------------

TOLERANCE = 1e-7  # the largest relative error that passes; a right answer gives about 1e-15

HINTS = {
    "c_t": "c_t = f * c_{t-1} + i * g (eq-cell): i, f are sigmoids and g a tanh of their own "
           "block of z; the blocks are in the order i, f, o, g (TODO 1a, 1b, 1d, 1e)",
    "h_t": "h_t = o * tanh(c_t) (eq-hidden); if c_t fails too, fix it first (TODO 1c, 1f)",
    "gate i": "i multiplies g in eq-cell: dz_i is dc_total times its partner g times "
              "sigmoid'(z_i), written with the output: i (1 - i) (eq-di, TODO 2a)",
    "gate f": "f multiplies c_{t-1} in eq-cell: its partner is c_prev (eq-df, TODO 2b)",
    "gate o": "o enters h_t, not c_t: dz_o takes dh, and its partner tanh(c_t) (eq-do, TODO 2c)",
    "gate g": "g is a tanh: tanh' = 1 - g^2, and its partner in eq-cell is i (eq-dg, TODO 2d)",
    "dc_prev": "along the cell, c_{t-1} is multiplied by f_t: so is its gradient, dc_total "
               "(eq-dprev, TODO 2e)",
    "dW": "z_t = [1, x_t, h_{t-1}] W, so dW = [1, x_t, h_{t-1}]^T dz (the transpose lemma, "
          "eq-dW, TODO 2f)",
    "dx, dh_prev": "d[1, x_t, h_{t-1}] = dz W^T; drop the first column, the ones (eq-dX, "
                   "TODO 2g)",
    "H, c, h": "call step_forward(X[t-1], h, c, W) and keep h in H[t-1], its cache in caches; "
               "the state h, c carries to the next step (TODO 3a)",
    "dX, dW, dc0, dh0": "dh gets dH[t-1] added before the step; step_backward(dh, dc, "
                        "caches[t-1]) gives dX[t-1], the new dh, dc, and a dW to add up (TODO 4a)",
}


def _reference_step_forward(x, h_prev, c_prev, W):
    """The module's step, with the cache of :func:`step_forward`: ``lr.forward`` over one step."""
    H, c, h, _ = lr.forward(x[None], W, c_prev, h_prev)
    d = h.shape[1]
    z = np.concatenate([np.ones((x.shape[0], 1)), x, h_prev], axis=1) @ W  # (b, 4d)
    i, f, o = (lr.sigmoid(z[:, k * d:(k + 1) * d]) for k in range(3))
    g = np.tanh(z[:, 3 * d:])
    return h, c, (x, h_prev, c_prev, W, i, f, o, g, c)


def _reference_step_backward(dh, dc, cache):
    """The module's step in reverse: ``lr.backward`` over one step."""
    x, h_prev, c_prev, W = cache[:4]
    _, _, _, step = lr.forward(x[None], W, c_prev, h_prev)
    dX, dW, dc_prev, dh_prev = lr.backward(dh[None], step, dc=dc)
    return dX[0], dh_prev, dc_prev, dW


def _reference_gate_gradients(dh, dc, cache):
    """``dz`` row by row: with one sequence, the bias row of ``lr.backward``'s ``dW`` is ``dz``."""
    x, h_prev, c_prev, W = cache[:4]
    rows = []
    for k in range(x.shape[0]):
        _, _, _, step = lr.forward(x[None, k:k + 1], W, c_prev[k:k + 1], h_prev[k:k + 1])
        rows.append(lr.backward(dh[None, k:k + 1], step, dc=dc[k:k + 1])[1][0])
    return np.stack(rows)  # (b, 4d)


def _error(yours, reference):
    """The largest relative error over matching arrays, or a sentence saying why there is none."""
    for a, r in zip(yours, reference):
        if np.shape(a) != np.shape(r):
            return f"shape {np.shape(a)}, expected {np.shape(r)}"
    return max(float(lr.relative_error(a, r, floor=1e-10).max()) for a, r in zip(yours, reference))


def _problem(seed=0, n=4, b=3, input_size=5, d=4):
    """Inputs for the grader: every entry nonzero, so that no blank passes by chance."""
    rng = np.random.default_rng(seed)
    W = lr.init_weights(input_size, d, rng=rng)
    W[0] += 0.5 * rng.standard_normal(4 * d)  # every bias entry counts
    X = rng.standard_normal((n, b, input_size))
    c0, h0 = rng.standard_normal((b, d)), 0.5 * rng.standard_normal((b, d))
    dH = rng.standard_normal((n, b, d))
    dc, dh = rng.standard_normal((b, d)), rng.standard_normal((b, d))
    return X, W, c0, h0, dH, dc, dh


def _checks(module):
    """``(part, name, compute)``: ``compute()`` returns ``(yours, reference)``, lists of arrays."""
    X, W, c0, h0, dH, dc, dh = _problem()
    d = W.shape[1] // 4
    step = _reference_step_forward(X[0], h0, c0, W)[2]  # a right cache for the backward step

    def forward_step(k):
        return lambda: ([module.step_forward(X[0], h0, c0, W)[k]],
                        [_reference_step_forward(X[0], h0, c0, W)[k]])

    def gate(j):
        blocks = slice(j * d, (j + 1) * d)
        return lambda: ([module.gate_gradients(dH[0], dc, step)[:, blocks]],
                        [_reference_gate_gradients(dH[0], dc, step)[:, blocks]])

    def backward_step(indices):
        return lambda: ([module.step_backward(dH[0], dc, step)[k] for k in indices],
                        [_reference_step_backward(dH[0], dc, step)[k] for k in indices])

    def over_time():
        H, c, h, _ = module.forward(X, W, c0, h0)
        return [H, c, h], list(lr.forward(X, W, c0, h0)[:3])

    def backward_over_time():
        caches, c, h = [], c0, h0  # every step's cache, from the module's step
        for x in X:
            h, c, cache = _reference_step_forward(x, h, c, W)
            caches.append(cache)
        yours = module.backward(dH, caches, dc, dh)
        _, _, _, cache = lr.forward(X, W, c0, h0)
        reference = lr.backward(dH, cache, dc, dh)  # dX, dW, dc0, dh0
        return list(yours), list(reference)

    return [("1. step forward", "c_t", forward_step(1)),
            ("1. step forward", "h_t", forward_step(0)),
            *[("2. step backward", f"gate {name}", gate(j)) for j, name in enumerate("ifog")],
            ("2. step backward", "dc_prev", backward_step([2])),
            ("2. step backward", "dW", backward_step([3])),
            ("2. step backward", "dx, dh_prev", backward_step([0, 1])),
            ("3. forward over time", "H, c, h", over_time),
            ("4. backward over time", "dX, dW, dc0, dh0", backward_over_time)]


def grade(module=None, out=None):
    """Grade ``module`` (default: this file) and print a report; return ``{part: passed}``.

    Parts 3 and 4 run with the module's step in place of ``step_forward`` and
    ``step_backward``, so that each part is graded on its own.
    """
    module = sys.modules[grade.__module__] if module is None else module
    out = sys.stdout if out is None else out
    own = (module.step_forward, module.step_backward)
    results, passed = [], {}
    for part, name, compute in _checks(module):
        if part.startswith(("3.", "4.")):
            module.step_forward, module.step_backward = (_reference_step_forward,
                                                         _reference_step_backward)
        try:
            error = _error(*compute())
        except Exception as exc:  # a blank or a mistake that raises: a FAIL, with the reason
            error = f"{type(exc).__name__}: {exc}"
        finally:
            module.step_forward, module.step_backward = own
        ok = isinstance(error, float) and error < TOLERANCE
        passed[part] = passed.get(part, True) and ok
        results.append((part, name, error, ok))
    print(f"Relative error against lstm_reference {lr.__version__}; PASS below {TOLERANCE:.0e}.",
          file=out)
    for part in passed:
        print(f"\n{part}: {'PASS' if passed[part] else 'FAIL'}", file=out)
        for _, name, error, ok in (r for r in results if r[0] == part):
            shown = f"{error:.1e}" if isinstance(error, float) else error
            print(f"  {name:<17} {shown:>9}  {'PASS' if ok else 'FAIL'}", file=out)
            if not ok:
                print(f"    hint: {HINTS[name]}", file=out)
    return passed


if __name__ == "__main__":
    sys.exit(0 if all(grade().values()) else 1)
