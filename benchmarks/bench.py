"""Benchmark ``lstm_reference`` against the textbook formulation, PyTorch and the GEMM roofline.

Run from the repository root::

    python benchmarks/bench.py                 # everything: 4 sizes x 2 dtypes x 1 and 2 threads
    python benchmarks/bench.py --quick         # smoke run: tiny and small only, few repeats
    python benchmarks/bench.py --markdown      # the same report as Markdown tables (docs, README)
    python benchmarks/bench.py --sizes medium 50x16x64x128 --dtypes float32 --threads 1
    python benchmarks/bench.py --json run.json   # keep every sample; later:
    python benchmarks/bench.py --from-json run.json --markdown

Contenders, all timed in one run and interleaved round-robin (the starting contender rotates
each repeat), so that drift in the machine's speed hits them alike:

- ``ours``      ``lstm_reference.forward`` / ``backward``.
- ``textbook``  the classic fused formulation (Karpathy's batched LSTM gist), written below: per
                step ``Hin = [1, x_t, h_{t-1}]``, ``Z = Hin @ W``; backward per step
                ``dW += Hin.T @ dZ``, ``dHin = dZ @ W.T``: the baseline of NumPy references.
- ``torch``     ``torch.nn.LSTM`` on the CPU with the same weights (when torch imports); forward
                with autograd recording, then ``out.backward(dH)``.
- ``gemm``      the roofline: only the matrix products the hoisted algorithm needs, same shapes
                and count, nothing else. ``efficiency = gemm time / ours time``.

Forward and forward+backward come from the same calls: each repeat times ``forward`` and then
``backward`` on its result, so "fwd" is the forward call and "f+b" both. Medians are reported.

BLAS reads its thread count when NumPy is imported, so each thread count runs in a child process
started with ``OPENBLAS_NUM_THREADS`` etc. set (torch gets ``torch.set_num_threads`` too).

Before timing, every contender's outputs and gradients are compared with ours; the run aborts
(exit status 1) if they disagree. Otherwise it only reports: missed targets do not fail it.
"""

import argparse
import datetime
import gc
import io
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from contextlib import contextmanager, redirect_stdout

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (n steps, b batch, input size, d hidden)
SIZES = {
    "tiny": (5, 3, 10, 4),
    "small": (20, 8, 32, 64),
    "medium": (100, 32, 128, 256),
    "large": (200, 64, 512, 512),
}
DTYPES = ("float64", "float32")
CONTENDERS = ("ours", "textbook", "torch", "gemm")
# Agreement required before timing: max |a - b| / max |b| per array, against ours.
TOLERANCE = {"float64": 1e-10, "float32": 1e-4}
# Every variable a BLAS or OpenMP runtime might read for its thread count.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
EXIT_DISAGREE = 3  # a child's exit status when contenders disagree numerically
# "O(b*d)" for the cache target: the cache may exceed 7*n*b*d numbers by this many b*d
# (whatever n is); forward's c0 and h0 rows alone are 2*b*d.
CACHE_SLACK_BD = 4


# --- Command line -----------------------------------------------------------------------------


def parse_args(argv):
    """The command line; lists take commas or spaces (``--threads 1,2`` or ``--threads 1 2``)."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke run: tiny and small only, ~0.1 s per contender per config")
    p.add_argument("--sizes", nargs="+",
                   help="names (tiny small medium large) or NxBxIxD; default: all")
    p.add_argument("--dtypes", nargs="+", default=list(DTYPES), help="float64 and/or float32")
    p.add_argument("--threads", nargs="+", default=["1", "2"],
                   help="BLAS thread counts, one child each")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--target-seconds", type=float,
                   help="time per contender per config that sets the repeats "
                        "(default 1, quick 0.1)")
    p.add_argument("--min-repeats", type=int, help="default 5 (quick 3)")
    p.add_argument("--max-repeats", type=int, help="default 300 (quick 50)")
    p.add_argument("--no-torch", action="store_true", help="leave torch out even if it imports")
    p.add_argument("--module", help="benchmark this lstm_reference.py instead of the repository's")
    p.add_argument("--json", metavar="PATH", help="also write the raw results (every sample) here")
    p.add_argument("--from-json", metavar="PATH",
                   help="print the report of a run saved with --json; run nothing")
    # internal: one thread count
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    # internal: measure memory
    p.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)  # internal: where a child writes its JSON
    args = p.parse_args(argv)

    args.sizes = _split(args.sizes or (["tiny", "small"] if args.quick else list(SIZES)))
    args.dtypes = _split(args.dtypes)
    args.threads = [int(k) for k in _split(args.threads)]
    for size in args.sizes:
        size_shape(size)  # fails early on a bad size
    bad = [dt for dt in args.dtypes if dt not in DTYPES]
    if bad:
        p.error(f"--dtypes: unknown {bad}; choose from {list(DTYPES)}")
    defaults = (0.1, 3, 50) if args.quick else (1.0, 5, 300)
    for name, default in zip(("target_seconds", "min_repeats", "max_repeats"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, default)
    return args


def _split(values):
    return [v for value in values for v in value.split(",") if v]


def size_shape(size):
    """``(n, b, I, d)`` for a size name or an ``NxBxIxD`` string."""
    if size in SIZES:
        return SIZES[size]
    try:
        shape = tuple(int(v) for v in size.lower().split("x"))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise SystemExit(f"bench.py: unknown size {size!r}: use one of {list(SIZES)} or NxBxIxD")
    return shape


# --- Parent: one child process per thread count -----------------------------------------------


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.child:
        return child_main(args)
    if args.from_json:
        with open(args.from_json) as f:
            print(report(json.load(f), args))
        return 0
    runs = []
    for position, threads in enumerate(args.threads):
        run, status = run_child(args, threads, measure_memory=position == 0)
        if status == EXIT_DISAGREE:
            print("\nABORTED: the contenders disagree numerically (see above). "
                  "No timings reported.", file=sys.stderr)
            return 1
        if status != 0:
            print(f"\nABORTED: the benchmark child for {threads} thread(s) failed "
                  f"(status {status}).", file=sys.stderr)
            return status
        runs.append(run)
    print(report(runs, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(runs, f, indent=1)
    return 0


def run_child(args, threads, measure_memory):
    """Run this script for one thread count in a fresh interpreter; returns (results, status)."""
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    if threads > 1:
        # Idle OpenMP workers (torch's) spin by default; interleaved with NumPy on a few cores,
        # they would steal the CPU from the next contender. Passive waiting keeps it fair.
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "run.json")
        cmd = [sys.executable, os.path.abspath(__file__), "--child", "--out", out,
               "--threads", str(threads), "--sizes", *args.sizes, "--dtypes", *args.dtypes,
               "--target-seconds", str(args.target_seconds),
               "--min-repeats", str(args.min_repeats), "--max-repeats", str(args.max_repeats)]
        cmd += ["--no-torch"] if args.no_torch else []
        cmd += ["--memory"] if measure_memory else []
        cmd += ["--module", args.module] if args.module else []
        before = _cpu_seconds()
        status = subprocess.call(cmd, env=env)  # its progress goes to our stderr
        after = _cpu_seconds()
        if status != 0:
            return None, status
        with open(out) as f:
            run = json.load(f)
    if before and after:  # cores busy with other work (or stolen by the host) while the child ran
        others = (after[0] - before[0]) - (after[1] - before[1])
        run["environment"]["other_load"] = round(max(0.0, others) / (after[2] - before[2]), 2)
    return run, 0


def _cpu_seconds():
    """(CPU seconds the whole machine spent busy, CPU seconds our children used, wall time),
    or None.

    Their difference over a child's run is what everything else took: other processes, or the
    host stealing the virtual CPUs. Linux only (/proc/stat).
    """
    try:
        import resource
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait (steal counts as busy)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return (busy / os.sysconf("SC_CLK_TCK"), children.ru_utime + children.ru_stime,
                time.monotonic())
    except (ImportError, OSError, ValueError, IndexError):
        return None


# --- Child: one thread count, every size and dtype --------------------------------------------


def child_main(args):
    threads = args.threads[0]
    lr = import_module(args.module)
    torch = None if args.no_torch else import_torch(threads)
    run = {"environment": describe_environment(threads, lr, torch), "configs": []}
    for size in args.sizes:
        for dtype in args.dtypes:
            try:
                config = bench_config(size, np.dtype(dtype), threads, lr, torch, args)
            except Disagreement as e:
                print(f"\n*** CONTENDERS DISAGREE: {e}\n", file=sys.stderr)
                return EXIT_DISAGREE
            run["configs"].append(config)
    with open(args.out, "w") as f:
        json.dump(run, f)
    return 0


def import_module(path):
    """The module under test: the repository's ``lstm_reference.py``, or the file given."""
    if path is None:
        sys.path.insert(0, REPO_ROOT)  # the working tree's file, even if another is installed
        import lstm_reference
        return lstm_reference
    import importlib.util
    spec = importlib.util.spec_from_file_location("lstm_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def import_torch(threads):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)  # no inter-op parallelism: one LSTM is one chain of ops
    except RuntimeError:
        pass
    return torch


class Disagreement(Exception):
    """A contender's outputs differ from ours beyond the tolerance."""


def bench_config(size, dtype, threads, lr, torch, args):
    """Check, time and (optionally) measure memory for one size and dtype."""
    shape = size_shape(size)
    label = f"{size} {dtype.name} {threads} thread(s)"
    problem = make_problem(shape, dtype, lr)
    contenders = [Ours(problem, lr), Textbook(problem)]
    if torch is not None:
        contenders.append(Torch(problem, lr, torch))
    contenders.append(Gemm(problem))

    print(f"  {label}: checking and timing...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    errors = check_agreement(contenders, dtype, label)  # also the warm-up run
    samples, repeats = time_round_robin(contenders, args)
    config = {
        "size": size, "shape": shape, "dtype": dtype.name, "threads": threads, "repeats": repeats,
        "errors": errors, "samples": samples,
        "median_ms": {name: {part: 1e3 * statistics.median(s[part]) for part in s}
                      for name, s in samples.items()},
    }
    if args.memory:
        config["memory"] = measure_memory(contenders, shape, dtype)
    print(f"  {label}: done, {repeats} repeats, {time.perf_counter() - started:.1f} s",
          file=sys.stderr)
    return config


def make_problem(shape, dtype, lr):
    """Random inputs, weights from the module's init, and the initial states and dH."""
    n, b, input_size, d = shape
    rng = np.random.default_rng(0)
    return {
        "X": rng.standard_normal((n, b, input_size)).astype(dtype),
        "W": lr.init_weights(input_size, d, rng=1, dtype=dtype),
        # Nonzero initial states, so that dc0 and dh0 are checked too.
        "c0": rng.uniform(-1, 1, (b, d)).astype(dtype),
        "h0": rng.uniform(-0.5, 0.5, (b, d)).astype(dtype),
        "dH": rng.standard_normal((n, b, d)).astype(dtype),
    }


# --- Contenders -------------------------------------------------------------------------------
# Each one runs forward then backward on the same problem. run() times the two calls; results()
# returns the arrays the agreement check compares; memory() measures the cache and the peak.


class Contender:
    name = ""
    checked = True  # compared with ours before timing

    def prepare(self):
        """Untimed work before each repeat."""

    def run(self):
        """One repeat: (forward seconds, forward+backward seconds)."""
        self.prepare()
        t0 = time.perf_counter()
        state = self.forward()
        t1 = time.perf_counter()
        self.backward(state)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t0

    def memory(self):
        """(cache bytes, peak bytes) from one forward+backward traced by tracemalloc.

        The cache counts the arrays forward keeps for backward, not the inputs it refers to; the
        peak is everything NumPy allocated meanwhile (NumPy reports its data to tracemalloc).
        """
        self.prepare()
        gc.collect()
        tracemalloc.start()
        try:
            state = self.forward()
            p = self.problem
            inputs = {id(p[k]) for k in ("X", "W", "c0", "h0")}
            kept = {id(a): a for a in state[-1].values()
                    if isinstance(a, np.ndarray) and id(a) not in inputs}
            self.backward(state)
            return sum(a.nbytes for a in kept.values()), tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


class Ours(Contender):
    name = "ours"

    def __init__(self, problem, lr):
        self.problem, self.lr = problem, lr

    def forward(self):
        p = self.problem
        return self.lr.forward(p["X"], p["W"], p["c0"], p["h0"])

    def backward(self, state):
        return self.lr.backward(self.problem["dH"], state[3])

    def results(self):
        H, c, h, cache = state = self.forward()
        dX, dW, dc0, dh0 = self.backward(state)
        return {"H": H, "c": c, "h": h, "dX": dX, "dW": dW, "dc0": dc0, "dh0": dh0}


class Textbook(Ours):
    name = "textbook"

    def __init__(self, problem):
        self.problem = problem

    def forward(self):
        p = self.problem
        return textbook_forward(p["X"], p["W"], p["c0"], p["h0"])

    def backward(self, state):
        return textbook_backward(self.problem["dH"], state[3])


# --- The textbook formulation -----------------------------------------------------------------
# Karpathy's batched LSTM gist, kept to its structure (the input, bias and recurrent products
# fused into one Hin @ W per step; dW and dHin per step) but written decently: gates computed
# in place, no pre-activation copy kept, one exp per sigmoid without overflow warnings.


def _sigmoid_inplace(z):
    """sigmoid(z) in place. exp(-z) overflows to inf for z << 0, giving exactly 0: correct."""
    np.negative(z, out=z)
    np.exp(z, out=z)
    z += 1.0
    np.reciprocal(z, out=z)


def textbook_forward(X, W, c0, h0):
    n, b, input_size = X.shape
    d = W.shape[1] // 4
    Hin = np.empty((n, b, 1 + input_size + d), dtype=W.dtype)  # [1, x_t, h_{t-1}] per step
    IFOGf = np.empty((n, b, 4 * d), dtype=W.dtype)  # gate activations
    C = np.empty((n, b, d), dtype=W.dtype)
    Ct = np.empty((n, b, d), dtype=W.dtype)  # tanh(c_t)
    Hout = np.empty((n, b, d), dtype=W.dtype)
    c_prev, h_prev = c0, h0
    with np.errstate(over="ignore", under="ignore"):
        for t in range(n):
            Hin[t, :, 0] = 1.0
            Hin[t, :, 1:1 + input_size] = X[t]
            Hin[t, :, 1 + input_size:] = h_prev
            z = IFOGf[t]
            np.matmul(Hin[t], W, out=z)
            _sigmoid_inplace(z[:, :3 * d])
            np.tanh(z[:, 3 * d:], out=z[:, 3 * d:])
            i, f, o, g = z[:, :d], z[:, d:2 * d], z[:, 2 * d:3 * d], z[:, 3 * d:]
            np.multiply(i, g, out=C[t])
            C[t] += f * c_prev
            np.tanh(C[t], out=Ct[t])
            np.multiply(o, Ct[t], out=Hout[t])
            c_prev, h_prev = C[t], Hout[t]
    cache = {"X": X, "W": W, "c0": c0, "h0": h0, "Hin": Hin, "IFOGf": IFOGf, "C": C, "Ct": Ct}
    return Hout, C[-1], Hout[-1], cache


def textbook_backward(dH, cache):
    W, c0, Hin, IFOGf, C, Ct = (cache[k] for k in ("W", "c0", "Hin", "IFOGf", "C", "Ct"))
    n, b, d = dH.shape
    input_size = Hin.shape[2] - 1 - d
    dW = np.zeros_like(W)
    dX = np.empty((n, b, input_size), dtype=W.dtype)
    dz = np.empty((b, 4 * d), dtype=W.dtype)  # gradient of the pre-activations, reused per step
    dc = np.zeros((b, d), dtype=W.dtype)  # gradient arriving at c_t from step t+1
    dh_next = np.zeros((b, d), dtype=W.dtype)  # gradient arriving at h_t from step t+1
    for t in reversed(range(n)):
        i, f, o, g = (IFOGf[t, :, k * d:(k + 1) * d] for k in range(4))
        c_prev = C[t - 1] if t > 0 else c0
        dh = dH[t] + dh_next
        dc = dc + (1.0 - Ct[t] ** 2) * (o * dh)
        # Through the gates' nonlinearities: sigmoid' = y (1 - y), tanh' = 1 - y^2.
        np.multiply(g * dc, i * (1.0 - i), out=dz[:, :d])
        np.multiply(c_prev * dc, f * (1.0 - f), out=dz[:, d:2 * d])
        np.multiply(Ct[t] * dh, o * (1.0 - o), out=dz[:, 2 * d:3 * d])
        np.multiply(i * dc, 1.0 - g ** 2, out=dz[:, 3 * d:])
        dW += Hin[t].T @ dz
        dHin = dz @ W.T  # (b, 1 + input_size + d)
        dX[t] = dHin[:, 1:1 + input_size]
        dh_next = dHin[:, 1 + input_size:]
        dc = dc * f
    return dX, dW, dc, dh_next


# --- PyTorch ----------------------------------------------------------------------------------

# Our gate blocks i, f, o, g from torch's i, f, g, o (the permutation is its own inverse).
_OURS_FROM_TORCH = (0, 1, 3, 2)


class Torch(Contender):
    name = "torch"

    def __init__(self, problem, lr, torch):
        self.problem, self.torch = problem, torch
        p = problem
        n, b, input_size = p["X"].shape
        d = p["W"].shape[1] // 4
        dtype = getattr(torch, p["X"].dtype.name)
        self.lstm = torch.nn.LSTM(input_size, d, dtype=dtype)  # time-major, like ours
        with torch.no_grad():
            params = (self.lstm.weight_ih_l0, self.lstm.weight_hh_l0,
                      self.lstm.bias_ih_l0, self.lstm.bias_hh_l0)
            for param, value in zip(params, lr.to_pytorch_layout(p["W"])):
                param.copy_(torch.from_numpy(value))
        leaf = {k: torch.from_numpy(p[k].copy()).requires_grad_() for k in ("X", "c0", "h0")}
        self.X, self.c0, self.h0 = leaf["X"], leaf["c0"], leaf["h0"]
        self.dH = torch.from_numpy(p["dH"])
        self.leaves = [self.X, self.c0, self.h0, *params]

    def prepare(self):
        for leaf in self.leaves:  # fresh gradients each repeat, as ours returns fresh arrays
            leaf.grad = None

    def forward(self):
        return self.lstm(self.X, (self.h0[None], self.c0[None]))

    def backward(self, state):
        state[0].backward(self.dH)

    def results(self):
        self.prepare()
        out, (h, c) = self.forward()
        self.backward((out,))
        lstm = self.lstm
        grads = [p.grad.numpy() for p in (lstm.bias_ih_l0, lstm.weight_ih_l0, lstm.weight_hh_l0)]
        dW_torch = np.concatenate(
            [grads[0][:, None], grads[1], grads[2]], axis=1)  # (4d, rows), i f g o
        blocks = np.split(dW_torch, 4, axis=0)
        dW = np.concatenate([blocks[k] for k in _OURS_FROM_TORCH]).T  # ours: (rows, 4d), i f o g
        numpy = {"H": out, "c": c[0], "h": h[0],
                 "dX": self.X.grad, "dc0": self.c0.grad, "dh0": self.h0.grad}
        numpy = {k: v.detach().numpy() for k, v in numpy.items()}
        return dict(numpy, dW=dW)

    def memory(self):
        """(cache bytes, peak bytes) from one forward+backward.

        The cache is what autograd saves for backward, not counting inputs and weights. The peak
        comes from torch's profiler (tracemalloc cannot see torch's allocator) and is approximate:
        each op's allocations net of its frees, summed in time order.
        """
        from torch.profiler import ProfilerActivity, profile
        inputs = {t.untyped_storage().data_ptr() for t in self.leaves}
        saved = {}

        def pack(tensor):
            storage = tensor.untyped_storage()
            if storage.data_ptr() not in inputs:
                saved[storage.data_ptr()] = storage.nbytes()
            return tensor

        self.prepare()
        with _quiet_stderr(), profile(activities=[ProfilerActivity.CPU],
                                      profile_memory=True) as prof:
            with self.torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
                state = self.forward()
            self.backward(state)
        current = peak = 0
        for event in sorted(prof.events(), key=lambda e: e.time_range.start):
            current += event.self_cpu_memory_usage
            peak = max(peak, current)
        return sum(saved.values()), peak


@contextmanager
def _quiet_stderr():
    """Silence the profiler's start/stop chatter, which C++ writes straight to file descriptor 2."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


# --- The GEMM roofline ------------------------------------------------------------------------


class Gemm(Contender):
    """Only the matrix products of the hoisted algorithm, into preallocated outputs.

    Forward: one (n*b, I) @ (I, 4d) input projection, then n products (b, d) @ (d, 4d).
    Backward: n products (b, 4d) @ (4d, d), then dW_x = (I, n*b) @ (n*b, 4d),
    dW_h = (d, n*b) @ (n*b, 4d) and dX = (n*b, 4d) @ (4d, I).
    Operands have the memory layouts the module's would (row slices of W, transposed views).
    """

    name = "gemm"
    checked = False

    def __init__(self, problem):
        self.problem = p = problem
        n, b, input_size = p["X"].shape
        d = p["W"].shape[1] // 4
        dtype = p["W"].dtype
        rng = np.random.default_rng(2)
        self.X_rows = p["X"].reshape(n * b, input_size)
        self.W_x, self.W_h = p["W"][1:1 + input_size], p["W"][1 + input_size:]
        self.H = rng.uniform(-1, 1, (n + 1, b, d)).astype(dtype)  # stands in for h_0..h_n
        self.Z = np.empty((n, b, 4 * d), dtype=dtype)
        self.z = np.empty((b, 4 * d), dtype=dtype)
        self.dZ = rng.standard_normal((n, b, 4 * d)).astype(dtype)
        self.dh = np.empty((b, d), dtype=dtype)
        self.dW = np.empty_like(p["W"])
        self.dX = np.empty((n * b, input_size), dtype=dtype)

    def forward(self):
        n, b, four_d = self.Z.shape
        np.matmul(self.X_rows, self.W_x, out=self.Z.reshape(n * b, four_d))
        for t in range(n):
            np.matmul(self.H[t], self.W_h, out=self.z)

    def backward(self, state):
        n, b, four_d = self.Z.shape
        input_size = self.X_rows.shape[1]
        for t in reversed(range(n)):
            np.matmul(self.dZ[t], self.W_h.T, out=self.dh)
        dZ_rows = self.dZ.reshape(n * b, four_d)
        np.matmul(self.X_rows.T, dZ_rows, out=self.dW[1:1 + input_size])
        np.matmul(self.H[:n].reshape(n * b, -1).T, dZ_rows, out=self.dW[1 + input_size:])
        np.matmul(dZ_rows, self.W_x.T, out=self.dX)


# --- Checking, timing, memory -----------------------------------------------------------------


def check_agreement(contenders, dtype, label):
    """Compare every checked contender's outputs and gradients with ours; raise if they differ.

    Returns the worst relative error per contender. Runs each contender once (the warm-up).
    """
    reference = contenders[0].results()
    errors = {}
    for contender in contenders[1:]:
        if not contender.checked:
            contender.run()  # warm-up only
            continue
        theirs = contender.results()
        worst = {key: relative_error(theirs[key], reference[key]) for key in reference}
        errors[contender.name] = max(worst.values())
        bad = {key: f"{err:.2e}" for key, err in worst.items() if not err <= TOLERANCE[dtype.name]}
        if bad:
            raise Disagreement(f"{label}: {contender.name} differs from ours (tolerance "
                               f"{TOLERANCE[dtype.name]:g}): {bad}")
    return errors


def relative_error(a, b):
    """max |a - b| / max |b| in float64 (absolute when b is all zeros); NaN compares as inf."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return math.inf
    err = float(np.max(np.abs(a - b)))
    scale = float(np.max(np.abs(b)))
    return math.inf if math.isnan(err) else err / scale if scale > 0 else err


def time_round_robin(contenders, args):
    """Repeat forward+backward of every contender in turn; each repeat starts one further along.

    The repeats are chosen from the first round: enough for the slowest contender to spend about
    ``target_seconds``, within [min_repeats, max_repeats]. The first round counts as a repeat.
    """
    samples = {c.name: {"fwd": [], "fwd_bwd": []} for c in contenders}

    def one_round(r):
        k = r % len(contenders)
        for contender in contenders[k:] + contenders[:k]:
            fwd, total = contender.run()
            samples[contender.name]["fwd"].append(fwd)
            samples[contender.name]["fwd_bwd"].append(total)

    gc.collect()
    gc.disable()  # a collection inside a timed call would land on one contender only
    try:
        one_round(0)
        slowest = max(s["fwd_bwd"][0] for s in samples.values())
        repeats = min(args.max_repeats,
                      max(args.min_repeats, math.ceil(args.target_seconds / slowest)))
        for r in range(1, repeats):
            one_round(r)
    finally:
        gc.enable()
    return samples, repeats


def measure_memory(contenders, shape, dtype):
    """Cache bytes after forward and peak bytes during forward+backward, per contender (MB)."""
    n, b, _, d = shape
    memory = {"model_cache_mb": 7 * n * b * d * dtype.itemsize / 1e6, "bd": b * d,
              "itemsize": dtype.itemsize, "cache_mb": {}, "peak_mb": {}}
    for contender in contenders:
        if contender.name == "gemm":
            continue
        cache, peak = contender.memory()
        memory["cache_mb"][contender.name] = cache / 1e6
        memory["peak_mb"][contender.name] = peak / 1e6
    return memory


def describe_environment(threads, lr, torch):
    """What the numbers depend on: machine, versions, BLAS, threads, date."""
    env = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_description(),
        "module": f"{os.path.abspath(lr.__file__)} (version {getattr(lr, '__version__', '?')})",
        "threads": threads,
        "thread_variables": {name: os.environ.get(name)
                             for name in (*THREAD_VARIABLES[:3], "OMP_WAIT_POLICY")},
        "torch": None,
    }
    try:
        from threadpoolctl import threadpool_info  # optional: what the loaded libraries really use
        env["threadpools"] = [f"{i.get('internal_api')} {i.get('version')}: "
                              f"{i.get('num_threads')} threads"
                              for i in threadpool_info()]
    except ImportError:
        pass
    if torch is not None:
        env["torch"] = (f"{torch.__version__} ({torch.get_num_threads()} threads, "
                        f"MKL {torch.backends.mkl.is_available()}, "
                        f"oneDNN {torch.backends.mkldnn.is_available()})")
    return env


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def blas_description():
    """NumPy's BLAS, from ``show_config`` (a dict from NumPy 1.25 on, printed text before)."""
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return " ".join(str(blas.get(k, ""))
                        for k in ("name", "version", "openblas configuration")).strip()
    except TypeError:  # NumPy < 1.25: no mode argument
        text = io.StringIO()
        with redirect_stdout(text):
            np.show_config()
        lines = [line.strip() for line in text.getvalue().splitlines() if "libraries" in line]
        return lines[0] if lines else "unknown"


# --- Report -----------------------------------------------------------------------------------


def report(runs, args):
    """The whole report: environment, timings, ratios, memory and the targets' checklist."""
    configs = [config for run in runs for config in run["configs"]]
    md = args.markdown
    parts = [environment_text(runs, md),
             heading("Median time (ms)", md),
             "fwd: forward alone; f+b: forward then backward. torch's forward records autograd. "
            "spread: the largest (p75 - p25) / median of any contender's f+b times.\n",
             table(*timing_table(configs), md),
             heading("Ratios (below 1: ours is faster) and efficiency (GEMM roofline / ours)", md),
             table(*ratio_table(configs), md)]
    memory = [c for c in configs if "memory" in c]
    if memory:
        parts += [heading("Memory (MB)", md),
                  "cache: arrays forward keeps for backward, excluding the inputs; "
                  "7nbd: 7*n*b*d numbers; "
                  "peak: allocated during forward+backward (NumPy via tracemalloc, "
                  "torch via its profiler, approximate).\n",
                  table(*memory_table(memory), md)]
    parts += [heading("Targets (forward+backward, 1 thread)", md),
              "floor: the ratio if ours ran at the GEMM roofline (gemm time / the other's time).\n",
              checklist(configs, md)]
    return "\n".join(parts)


def heading(text, md):
    return f"\n### {text}\n" if md else f"\n{text}\n{'-' * len(text)}"


def environment_text(runs, md):
    env = runs[0]["environment"]
    lines = [
        f"date: {env['date']}",
        f"machine: {env['platform']}; CPU: {env['cpu']} ({env['cpu_count']} logical CPUs)",
        f"python {env['python']}, numpy {env['numpy']}, BLAS: {env['blas']}",
        f"torch: {env['torch'] or 'not available'}",
        f"module: {env['module']}",
        "threads: " + "; ".join(
            f"{run['environment']['threads']} (BLAS/OpenMP variables set before NumPy is imported"
            + (f", OMP_WAIT_POLICY={run['environment']['thread_variables'].get('OMP_WAIT_POLICY')}"
               if run["environment"]["thread_variables"].get("OMP_WAIT_POLICY") else "")
            + (f"; threadpoolctl: {', '.join(run['environment']['threadpools'])}"
               if run["environment"].get("threadpools") else "") + ")"
            for run in runs),
        "timing: median over the repeats; contenders interleaved round-robin, "
        "start rotated each repeat",
        "other work during the run, in busy cores (other processes, or the host's steal; "
        "0 when quiet): "
        + ", ".join(f"{run['environment']['threads']} thread(s): "
                    f"{run['environment'].get('other_load', '?')}"
                    for run in runs),
    ]
    if any((run["environment"].get("other_load") or 0) > 0.2 for run in runs):
        lines.append("WARNING: something else was using the CPUs: expect noisy times, "
                     "and multi-thread rows that mean little (a BLAS thread waiting for a busy "
                     "core stalls the others)")
    title = "LSTM benchmark: lstm_reference vs textbook NumPy vs torch.nn.LSTM vs GEMM roofline"
    if md:
        return f"## {title}\n\n" + "\n".join(f"- {line}" for line in lines)
    return f"{title}\n{'=' * len(title)}\n" + "\n".join(lines)


def _config_key(config):
    n, b, i, d = config["shape"]
    return [config["size"], f"{n},{b},{i},{d}", config["dtype"], str(config["threads"])]


def timing_table(configs):
    names = [name for name in CONTENDERS if name in configs[0]["median_ms"]]
    header = ["size", "n,b,I,d", "dtype", "thr", "reps"]
    header += [f"{name} fwd" for name in names] + [f"{name} f+b" for name in names] + ["spread"]
    rows = []
    for c in configs:
        ms = c["median_ms"]
        rows.append(_config_key(c) + [str(c["repeats"])]
                    + [fmt_ms(ms[name]["fwd"]) for name in names]
                    + [fmt_ms(ms[name]["fwd_bwd"]) for name in names]
                    + [f"{100 * spread(c):.0f}%"])
    return header, rows


def spread(config):
    """The largest interquartile range over median of any contender's f+b times: the noise."""
    def relative_iqr(xs):
        if len(xs) < 2:
            return 0.0
        q1, _, q3 = statistics.quantiles(xs, n=4)
        return (q3 - q1) / statistics.median(xs)
    return max(relative_iqr(s["fwd_bwd"]) for s in config["samples"].values())


def ratios(config):
    """ours/textbook, ours/torch and efficiency, for fwd and fwd_bwd (None where not measured)."""
    ms = config["median_ms"]
    out = {}
    for part in ("fwd", "fwd_bwd"):
        ours = ms["ours"][part]
        out[part] = {
            "textbook": ours / ms["textbook"][part],
            "torch": ours / ms["torch"][part] if "torch" in ms else None,
            "efficiency": ms["gemm"][part] / ours,
        }
    return out


def ratio_table(configs):
    header = ["size", "n,b,I,d", "dtype", "thr", "ours/textbook fwd", "ours/textbook f+b",
              "ours/torch fwd", "ours/torch f+b", "efficiency fwd", "efficiency f+b"]
    rows = []
    for c in configs:
        r = ratios(c)
        rows.append(_config_key(c) + [
            fmt_ratio(r["fwd"]["textbook"]), fmt_ratio(r["fwd_bwd"]["textbook"]),
            fmt_ratio(r["fwd"]["torch"]), fmt_ratio(r["fwd_bwd"]["torch"]),
            fmt_num(r["fwd"]["efficiency"]), fmt_num(r["fwd_bwd"]["efficiency"])])
    return header, rows


def memory_table(configs):
    names = [name for name in CONTENDERS if name in configs[0]["memory"]["cache_mb"]]
    header = ["size", "n,b,I,d", "dtype", "7nbd", "ours cache", "ours excess",
              *(f"{name} cache" for name in names[1:]),
              *(f"{name} peak" for name in names)]
    rows = []
    for c in configs:
        m = c["memory"]
        rows.append(_config_key(c)[:3] + [
            fmt_mb(m["model_cache_mb"]), fmt_mb(m["cache_mb"]["ours"]),
            f"{cache_excess_bd(m):+.1f} bd",
            *(fmt_mb(m["cache_mb"][name]) for name in names[1:]),
            *(fmt_mb(m["peak_mb"][name]) for name in names)])
    return header, rows


def cache_excess_bd(memory):
    """Ours' cache beyond 7*n*b*d numbers, in units of b*d numbers."""
    excess_bytes = (memory["cache_mb"]["ours"] - memory["model_cache_mb"]) * 1e6
    return excess_bytes / memory["itemsize"] / memory["bd"]


def fmt_ms(ms):
    return (f"{ms:.0f}" if ms >= 100 else f"{ms:.1f}" if ms >= 10
            else f"{ms:.2f}" if ms >= 1 else f"{ms:.3f}")


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def fmt_num(x):
    return "-" if x is None else f"{x:.2f}" if x < 100 else f"{x:.0f}"


def fmt_mb(x):
    return f"{x:.3g}" if x < 1000 else f"{x:.0f}"


def table(header, rows, md):
    """A plain-text table with aligned columns, or a Markdown table."""
    if md:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows]) + "\n"
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in lines)


# --- Targets ----------------------------------------------------------------------------------


def targets(configs):
    """Each target: (description, [(figure text, met?)]) over the configs it applies to.

    All apply to forward+backward with 1 thread; an empty list means it was not measured.
    """
    one = [c for c in configs if c["threads"] == 1]

    def at(sizes, dtypes):
        return [c for c in one if c["size"] in sizes and c["dtype"] in dtypes]

    def ratio_checks(cs, key, limit, strict=False):
        out = []
        for c in cs:
            r = ratios(c)["fwd_bwd"][key]
            if r is not None:
                # The floor: the ratio ours would have if it ran at the GEMM roofline.
                floor = r * ratios(c)["fwd_bwd"]["efficiency"]
                text = f"{c['size']} {c['dtype']} {r:.2f}x (floor {floor:.2f}x)"
                out.append((text, r < limit if strict else r <= limit))
        return out

    def efficiency_checks(cs, limit):
        return [(f"{c['size']} {c['dtype']} {ratios(c)['fwd_bwd']['efficiency']:.2f}",
                 ratios(c)["fwd_bwd"]["efficiency"] >= limit) for c in cs]

    memory = [c for c in configs if "memory" in c]
    big = ("medium", "large")
    return [
        ("ours/textbook <= 0.70x, float64, medium and large",
         ratio_checks(at(big, ["float64"]), "textbook", 0.70)),
        ("ours/textbook <= 0.80x, float32, medium and large",
         ratio_checks(at(big, ["float32"]), "textbook", 0.80)),
        ("efficiency >= 0.80 at medium", efficiency_checks(at(["medium"], DTYPES), 0.80)),
        ("efficiency >= 0.85 at large", efficiency_checks(at(["large"], DTYPES), 0.85)),
        ("ours/torch <= 1.0x, float64, every size",
         ratio_checks(at(list(SIZES), ["float64"]), "torch", 1.0)),
        ("ours/torch <= 1.2x, float32, medium and large",
         ratio_checks(at(big, ["float32"]), "torch", 1.2)),
        ("faster than torch at tiny and small",
         ratio_checks(at(["tiny", "small"], DTYPES), "torch", 1.0, True)),
        (f"cache <= 7nbd + O(bd) numbers (excess <= {CACHE_SLACK_BD} bd)",
         [(f"{c['size']} {c['dtype']} 7nbd{cache_excess_bd(c['memory']):+.1f}bd",
           cache_excess_bd(c["memory"]) <= CACHE_SLACK_BD) for c in memory]),
    ]


def checklist(configs, md):
    lines = []
    for description, checks in targets(configs):
        if not checks:
            status, figures = "N/A", "not measured in this run"
        else:
            status = "MET" if all(ok for _, ok in checks) else "MISSED"
            figures = ", ".join(text + ("" if ok else " (missed)") for text, ok in checks)
        if md:
            box = "x" if status == "MET" else " "
            lines.append(f"- [{box}] **{status}** {description}: {figures}")
        else:
            lines.append(f"[{status:^6}] {description}: {figures}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
