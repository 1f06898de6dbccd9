"""What each departure of the fused core from the literal equations buys, measured.

``lstm_reference.forward`` and ``backward`` depart from the cell's literal lines in five ways,
each named in the module (Forward pass and Backward pass banners):

1. the input projection hoisted out of the loop,
2. the sigmoid gates' columns negated (one exp pass gives the three gates),
3. preallocated buffers written in place,
4. the local derivatives hoisted out of the backward loop, in cache-sized blocks,
5. dW and dX hoisted out of the backward loop.

This script times the module against a re-implementation of the same core with any one
departure undone (and, as a control, with none undone), forward + backward, at one size,
interleaved round-robin so that the machine's drift hits every variant alike, and prints the
median time of each and its ratio to the module's. With ``--against REV`` it also times the
module as it was at git revision REV, loaded from ``git show REV:lstm_reference.py``.

Run from the repository root, on one BLAS thread::

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.departures
    OPENBLAS_NUM_THREADS=1 python -m benchmarks.departures --against e1dfd13 --repeats 30
"""

import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

import lstm_reference as lr

SIZE = (100, 32, 128, 256)  # n steps, b batch, I input, d hidden: the "medium" size of bench.py
ALL = ("hoist_input", "flip", "in_place", "hoist_local", "block", "hoist_dW")
RECORD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "departures.json")
NAMES = {  # the departures as the module numbers them
    "hoist_input": "1. input projection hoisted",
    "flip": "2. sigmoid columns negated",
    "in_place": "3. buffers written in place",
    "hoist_local": "4. local derivatives hoisted",
    "block": "4. ... in cache-sized blocks",
    "hoist_dW": "5. dW and dX hoisted",
}


# --- The core, with switches ------------------------------------------------------------------
# Without lengths (every sequence runs every step), so the rows of step t are a slice.


def core_forward(X, W, c0, h0, hoist_input=True, flip=True, in_place=True):
    """``lstm_reference.forward`` for full-length batches, each departure behind a switch."""
    n, b, input_size = X.shape
    d = W.shape[1] // 4
    W_use = np.concatenate([-W[:, :3 * d], W[:, 3 * d:]], axis=1) if flip else W
    W_x, W_h = W_use[:1 + input_size], W_use[1 + input_size:]  # bias and input rows; recurrent
    IFOG = np.empty((n * b, 4 * d), W.dtype)
    C, Ct, H = np.empty((b + n * b, d), W.dtype), np.empty((n * b, d), W.dtype), np.empty(
        (b + n * b, d), W.dtype)
    C[:b], H[:b] = c0, h0
    X_rows = X.reshape(n * b, input_size)
    if hoist_input:
        np.matmul(X_rows, W_x[1:], out=IFOG)
        IFOG += W_x[0]
    for t in range(n):
        rows, now, prev = slice(t * b, (t + 1) * b), slice(b + t * b, b + (t + 1) * b), slice(
            t * b, (t + 1) * b)
        ifog = IFOG[rows]
        if hoist_input:
            ifog += H[prev] @ W_h
        else:
            np.matmul(X_rows[rows], W_x[1:], out=ifog)
            ifog += W_x[0]
            ifog += H[prev] @ W_h
        s = ifog[:, :3 * d]
        if not flip:
            np.negative(s, out=s)
        with np.errstate(over="ignore"):
            np.exp(s, out=s)
        s += 1.0
        np.reciprocal(s, out=s)
        i, f, o, g = (ifog[:, j * d:(j + 1) * d] for j in range(4))
        np.tanh(g, out=g)
        if in_place:
            np.multiply(f, C[prev], out=C[now])
            C[now] += i * g
            np.tanh(C[now], out=Ct[rows])
            np.multiply(o, Ct[rows], out=H[now])
        else:
            C[now] = f * C[prev] + i * g
            Ct[rows] = np.tanh(C[now])
            H[now] = o * Ct[rows]
    return {"X": X_rows, "W": W, "IFOG": IFOG, "C": C, "Ct": Ct, "H": H, "n": n, "b": b}


def core_backward(dH, cache, hoist_local=True, block=True, hoist_dW=True):
    """``lstm_reference.backward`` for full-length batches, each departure behind a switch."""
    X_rows, W, IFOG, C, Ct, H, n, b = (cache[k] for k in ("X", "W", "IFOG", "C", "Ct", "H",
                                                          "n", "b"))
    d, input_size = W.shape[1] // 4, X_rows.shape[1]
    dH_rows = dH.reshape(n * b, d)
    C_prev, H_prev = C[:n * b], H[:n * b]
    W_hT = np.ascontiguousarray(W[1 + input_size:].T)
    if hoist_local:
        if block:
            dZ, dh_dc = lr._local_derivatives(IFOG, C_prev, Ct)
        else:
            dZ, dh_dc = np.empty_like(IFOG), np.empty_like(Ct)
            lr._local_derivatives_block(IFOG, C_prev, Ct, dZ, dh_dc)
    else:
        dZ, dh_dc = np.empty_like(IFOG), np.empty_like(Ct)
    dW = np.zeros_like(W)
    dX = np.empty((n * b, input_size), W.dtype)
    dc, dh = np.zeros((b, d), W.dtype), np.zeros((b, d), W.dtype)
    for t in reversed(range(n)):
        rows = slice(t * b, (t + 1) * b)
        if not hoist_local:
            lr._local_derivatives_block(IFOG[rows], C_prev[rows], Ct[rows], dZ[rows],
                                        dh_dc[rows])
        dc, dh = lr._step_backward(dZ[rows], dH_rows[rows], dh_dc[rows],
                                   IFOG[rows, d:2 * d], dc, dh, W_hT)
        if not hoist_dW:
            dW[0] += dZ[rows].sum(axis=0)
            dW[1:1 + input_size] += X_rows[rows].T @ dZ[rows]
            dW[1 + input_size:] += H_prev[rows].T @ dZ[rows]
            dX[rows] = dZ[rows] @ W[1:1 + input_size].T
    if hoist_dW:
        dW[0] = dZ.sum(axis=0)
        np.matmul(X_rows.T, dZ, out=dW[1:1 + input_size])
        np.matmul(H_prev.T, dZ, out=dW[1 + input_size:])
        dX = dZ @ W[1:1 + input_size].T
    return dX.reshape(n, b, input_size), dW, dc, dh


def variant(undone=None):
    """forward + backward with the departure ``undone`` (None: all kept)."""
    switches = {name: name != undone for name in ALL}
    fwd = {k: switches[k] for k in ("hoist_input", "flip", "in_place")}
    bwd = {k: switches[k] for k in ("hoist_local", "block", "hoist_dW")}

    def run(X, W, c0, h0, R):
        return core_backward(R, core_forward(X, W, c0, h0, **fwd), **bwd)

    return run


def module_run(module):
    def run(X, W, c0, h0, R):
        return module.backward(R, module.forward(X, W, c0, h0)[3])
    return run


def load_revision(rev):
    """``lstm_reference.py`` as it was at git revision ``rev``, as a module."""
    source = subprocess.run(["git", "show", f"{rev}:lstm_reference.py"], check=True,
                            capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
        file.write(source)
    spec = importlib.util.spec_from_file_location(f"lstm_reference_{rev}", file.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpu_name():
    try:
        with open("/proc/cpuinfo") as file:
            return next(line.split(":", 1)[1].strip() for line in file if "model name" in line)
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def measure(contenders, dtype, repeats):
    """Median seconds of each contender, forward + backward, interleaved round-robin."""
    n, b, input_size, d = SIZE
    rng = np.random.default_rng(0)
    W = lr.init_weights(input_size, d, rng=rng, dtype=dtype)
    X, R = (rng.standard_normal(s).astype(dtype) for s in ((n, b, input_size), (n, b, d)))
    c0, h0 = rng.standard_normal((2, b, d)).astype(dtype)
    reference = module_run(lr)(X, W, c0, h0, R)
    for name, run in contenders.items():  # agree before timing
        worst = max(float(np.abs(a - r).max() / np.abs(r).max())
                    for a, r in zip(run(X, W, c0, h0, R), reference))
        if not worst < (1e-10 if dtype == "float64" else 1e-4):
            raise SystemExit(f"{name} disagrees with the module by {worst:.1e} ({dtype})")
    times = {name: [] for name in contenders}
    names = list(contenders)
    for repeat in range(repeats):
        for name in names[repeat % len(names):] + names[:repeat % len(names)]:
            start = time.perf_counter()
            contenders[name](X, W, c0, h0, R)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def summary(record):
    """The record as a table: each departure's saving, and the module against the control."""
    dtypes = list(record["medians"])
    lines = [f"{'':<32}" + "".join(f"{dtype:>10}" for dtype in dtypes)]

    def row(label, value):
        lines.append(f"{label:<32}" + "".join(value(record["medians"][t]) for t in dtypes))

    for key, label in NAMES.items():  # time without it / time with all: what it saves
        row(label, lambda m, key=key: f"{m[key + ' undone'] / m['none undone'] - 1:>+10.1%}")
    row("module / control", lambda m: f"{m['module'] / m['none undone']:>10.3f}")
    if record.get("against"):
        row(f"module / module at {record['against']}",
            lambda m: f"{m['module'] / m['module at ' + record['against']]:>10.3f}")
    row("module, ms", lambda m: f"{1e3 * m['module']:>10.1f}")
    return "\n".join(lines)


def read_record(path=RECORD):
    with open(path) as file:
        return json.load(file)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--against", metavar="REV", help="also time the module at git REV")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--dtypes", nargs="+", default=["float64", "float32"])
    parser.add_argument("--record", metavar="PATH", nargs="?", const=RECORD,
                        help=f"write the medians to PATH (default {RECORD})")
    args = parser.parse_args(argv)
    contenders = {"module": module_run(lr), "none undone": variant()}
    contenders.update({f"{name} undone": variant(name) for name in ALL})
    if args.against:
        contenders[f"module at {args.against}"] = module_run(load_revision(args.against))
    record = {
        "date": datetime.date.today().isoformat(),
        "command": "OPENBLAS_NUM_THREADS=1 python -m benchmarks.departures "
                   + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": f"{cpu_name()}, {os.cpu_count()} CPUs",
        "python": platform.python_version(), "numpy": np.__version__,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
        "size": SIZE, "repeats": args.repeats, "against": args.against,
        "medians": {dtype: measure(contenders, dtype, args.repeats) for dtype in args.dtypes},
    }
    print(f"{record['machine']}; Python {record['python']}, NumPy {record['numpy']}; "
          f"n, b, I, d = {SIZE}; {args.repeats} repeats, medians; forward + backward\n")
    print(summary(record))
    if args.record:
        with open(args.record, "w") as file:
            json.dump(record, file, indent=1)
            file.write("\n")


if __name__ == "__main__":
    sys.exit(main())
