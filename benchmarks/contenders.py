"""The benchmark's contenders, each a forward and a backward on one problem, and their checks.

``ours`` is ``lstm_reference`` (or the file given to ``bench.py --module``); ``textbook`` the
per-step formulation of ``textbook.py``; ``torch`` is ``torch.nn.LSTM`` with the same weights;
``gemm`` runs only the matrix products ours needs; ``lengths`` is ours on sequences of varied
lengths. Before anything is timed, the checks compare their outputs and gradients with ours.
"""

import collections
import importlib.util
import inspect
import math
import os
import sys

import numpy as np

# name; forward() -> state; backward(state); results() -> outputs and gradients, or None: unchecked
Contender = collections.namedtuple("Contender", "name forward backward results")


class Disagreement(Exception):
    """A contender's outputs or gradients differ from ours beyond the tolerance."""


# --- The contenders ---------------------------------------------------------------------------


def make_problem(shape, dtype, lr):
    """Random inputs, the module's initial weights, nonzero initial states (so dc0, dh0 count)."""
    n, b, input_size, d = shape
    rng = np.random.default_rng(0)
    return {"X": rng.standard_normal((n, b, input_size)).astype(dtype),
            "W": lr.init_weights(input_size, d, rng=1, dtype=dtype),
            "c0": rng.uniform(-1, 1, (b, d)).astype(dtype),
            "h0": rng.uniform(-0.5, 0.5, (b, d)).astype(dtype),
            "dH": rng.standard_normal((n, b, d)).astype(dtype)}


def numpy_contender(name, forward, backward, p, checked=True, **options):
    """A contender from a ``forward(X, W, c0, h0)`` and ``backward(dH, cache)`` pair."""
    def run_forward():
        return forward(p["X"], p["W"], p["c0"], p["h0"], **options)

    def results():
        H, c, h, cache = run_forward()
        dX, dW, dc0, dh0 = backward(p["dH"], cache)
        return dict(H=H, c=c, h=h, dX=dX, dW=dW, dc0=dc0, dh0=dh0)

    return Contender(name, run_forward, lambda state: backward(p["dH"], state[-1]),
                     results if checked else None)


def torch_contender(p, lr, torch):
    """``torch.nn.LSTM`` (time-major, like ours) with ``W`` through ``to_pytorch_layout``."""
    input_size, d = p["X"].shape[2], p["W"].shape[1] // 4
    lstm = torch.nn.LSTM(input_size, d, dtype=getattr(torch, p["W"].dtype.name))
    params = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    with torch.no_grad():
        for param, value in zip(params, lr.to_pytorch_layout(p["W"])):
            param.copy_(torch.from_numpy(value))
    X, c0, h0 = (torch.from_numpy(p[k].copy()).requires_grad_() for k in ("X", "c0", "h0"))
    dH = torch.from_numpy(p["dH"])

    def forward():
        for leaf in (X, c0, h0, *params):  # fresh gradients, as ours returns fresh arrays
            leaf.grad = None
        return lstm(X, (h0[None], c0[None]))  # torch's state order is (h, c)

    def backward(state):
        state[0].backward(dH)

    def results():
        out, (h, c) = state = forward()
        backward(state)
        w_ih, w_hh, b_ih, b_hh = (param.grad.numpy() for param in params)
        # Our bias is b_ih + b_hh, so its gradient is that of either one, not their sum.
        dW = lr.from_pytorch_layout(w_ih, w_hh, b_ih, np.zeros_like(b_hh))
        arrays = dict(H=out, c=c[0], h=h[0], dX=X.grad, dc0=c0.grad, dh0=h0.grad)
        return dict({k: v.detach().numpy() for k, v in arrays.items()}, dW=dW)

    return Contender("torch", forward, backward, results)


def gemm_contender(p):
    """Only ours' matrix products, same shapes and memory layouts, into preallocated outputs.

    Forward: (n*b, I) @ (I, 4d) once, then (b, d) @ (d, 4d) per step. Backward: (b, 4d) @ (4d, d)
    per step, then dW_x = (I, n*b) @ (n*b, 4d), dW_h = (d, n*b) @ (n*b, 4d) and
    dX = (n*b, 4d) @ (4d, I).
    """
    n, b, input_size = p["X"].shape
    d = p["W"].shape[1] // 4
    rng = np.random.default_rng(2)
    X_rows = p["X"].reshape(n * b, input_size)  # (n*b, I)
    W_x, W_h = p["W"][1:1 + input_size], p["W"][1 + input_size:]  # (I, 4d), (d, 4d)
    H = rng.uniform(-1, 1, (n + 1, b, d)).astype(p["W"].dtype)  # stands in for h_0..h_n
    Z = np.empty((n * b, 4 * d), dtype=p["W"].dtype)
    dZ = rng.standard_normal((n * b, 4 * d)).astype(p["W"].dtype)
    dW, dX = np.empty_like(p["W"]), np.empty_like(X_rows)

    def forward():
        np.matmul(X_rows, W_x, out=Z)
        for t in range(n):
            np.matmul(H[t], W_h, out=Z[t * b:(t + 1) * b])

    def backward(state):
        for t in reversed(range(n)):
            np.matmul(dZ[t * b:(t + 1) * b], W_h.T, out=H[t])
        np.matmul(X_rows.T, dZ, out=dW[1:1 + input_size])
        np.matmul(H[:n].reshape(n * b, d).T, dZ, out=dW[1 + input_size:])
        np.matmul(dZ, W_x.T, out=dX)

    return Contender("gemm", forward, backward, None)


def takes_lengths(lr):
    return "lengths" in inspect.signature(lr.forward).parameters


def random_lengths(n, b):
    """Sequence lengths drawn uniformly from n/2..n (at least 1), the same in every run."""
    return np.random.default_rng(3).integers(max(1, n // 2), n, size=b, endpoint=True)


# --- Checking ----------------------------------------------------------------------


def relative_error(a, b):
    """max |a - b| / max |b| in float64 (absolute if b is all zeros); inf for NaN or bad shape."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    err, scale = float(np.max(np.abs(a - b))), float(np.max(np.abs(b)))
    return math.inf if math.isnan(err) else err / scale if scale > 0 else err


def check_agreement(contenders, tolerance):
    """Compare each checked contender with ours (the first); returns the worst relative error."""
    reference = contenders[0].results()
    worst = 0.0
    for contender in contenders[1:]:
        if contender.results is None:
            contender.backward(contender.forward())  # a warm-up run only
            continue
        theirs = contender.results()
        errors = {key: relative_error(theirs[key], reference[key]) for key in reference}
        bad = {key: f"{err:.1e}" for key, err in errors.items() if not err <= tolerance}
        if bad:
            raise Disagreement(f"{contender.name} differs from ours "
                               f"(tolerance {tolerance:g}): {bad}")
        worst = max(worst, *errors.values())
    return worst


def check_lengths(lr, p, lengths, tolerance):
    """Sequence j's first lengths[j] outputs must be those of the full-length call."""
    H_full = lr.forward(p["X"], p["W"], p["c0"], p["h0"])[0]  # (n, b, d)
    H = lr.forward(p["X"], p["W"], p["c0"], p["h0"], lengths=lengths)[0]
    steps = np.arange(len(H))[:, None] < lengths  # (n, b): the steps inside each sequence
    err = relative_error(H[steps], H_full[steps])
    if not err <= tolerance:
        raise Disagreement(f"lengths: the steps inside each sequence differ from the "
                           f"full-length call by {err:.1e} (tolerance {tolerance:g})")
    return err


# --- Loading ours and torch ------------------------------------------------------------------


def import_module(path):
    """The repository's ``lstm_reference.py``, or the file at ``path``."""
    if path is None:
        # the working tree's, even if another is installed
        sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        import lstm_reference
        return lstm_reference
    spec = importlib.util.spec_from_file_location("lstm_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))  # set by threads.py
    torch.set_num_interop_threads(1)  # one LSTM is one chain of operations
    return torch
