"""Time ``lstm_reference`` against the textbook LSTM, ``torch.nn.LSTM`` and its products alone.

Run from the repository root::

    python benchmarks/bench.py                  # 4 sizes x float64, float32 x 1, 2 threads
    python benchmarks/bench.py --quick          # tiny and small, few repeats
    python benchmarks/bench.py --sizes medium 50x16x64x128 --dtypes float32 --threads 1
    python benchmarks/bench.py --module other/lstm_reference.py   # time another version
    python benchmarks/bench.py --record benchmarks/record.json    # what tox -e bench does

Contenders, forward then backward on the same problem:

- ``ours``      ``lstm_reference.forward`` and ``backward`` (or those of ``--module``).
- ``textbook``  the per-step fused ``[1, x_t, h_{t-1}] @ W`` of ``textbook.py``.
- ``torch``     ``torch.nn.LSTM`` on the CPU with the same weights, if torch imports.
- ``gemm``      the matrix products ours needs, alone: nothing else.
- ``lengths``   ours with ``lengths`` drawn from n/2..n, if its ``forward`` takes them.

Before timing, each contender's outputs and gradients are compared with ours; the run stops
with exit status 1 if they disagree. Then the contenders run round-robin, the first one rotating
each repeat, so that the machine's drift hits them alike; medians are reported. BLAS fixes its
thread count when NumPy is imported, so each thread count runs in a child process of its own.

The roofline: each thread count also measures the machine's peak matrix-product rate (the best
GFLOP/s of a large square product), and every contender's rate is its time over the same count
of useful floating-point operations, those of the matrix products of an LSTM's forward and
backward pass, ``24 n b d (I + d)``. ``--record FILE`` writes all of it, with the machine, the
versions, the date and the command, as JSON: the docs' performance page and the README read
their numbers and plots from that file (``benchmarks/record.json``, written by ``tox -e bench``).
"""

import argparse
import datetime
import gc
import json
import math
import os
import shlex
import statistics
import sys
import time

# Run as a script, this folder is sys.path[0]: contenders, environment, memory, summary,
# threads, tables and textbook, the modules beside this file, import by name.
import contenders as co
import environment
import memory
import numpy as np
import summary
import threads
from tables import heading, milliseconds, table
from textbook import textbook_backward, textbook_forward

SIZES = {  # (n steps, b batch, I input, d hidden)
    "tiny": (5, 3, 10, 4),
    "small": (20, 8, 32, 64),
    "medium": (100, 32, 128, 256),
    "large": (200, 64, 512, 512),
}
TOLERANCE = {"float64": 1e-10, "float32": 1e-4}  # max |theirs - ours| / max |ours|, per array


# --- Timing -----------------------------------------------------------------------------------


def time_round_robin(contenders, budget, min_repeats, max_repeats):
    """(forward, forward+backward) seconds of each contender per repeat, and the repeats run.

    Every repeat runs each contender once, starting one further along each time. The first
    round sets the repeats: enough for the slowest contender to spend ``budget`` seconds.
    """
    samples = {c.name: [] for c in contenders}
    repeats, r = 1, 0
    gc.collect()
    gc.disable()  # a collection inside a timed call would land on one contender only
    try:
        while r < repeats:
            for c in contenders[r % len(contenders):] + contenders[:r % len(contenders)]:
                t0 = time.perf_counter()
                state = c.forward()
                t1 = time.perf_counter()
                c.backward(state)
                samples[c.name].append((t1 - t0, time.perf_counter() - t0))
            if r == 0:
                slowest = max(s[0][1] for s in samples.values())
                repeats = min(max_repeats, max(min_repeats, math.ceil(budget / slowest)))
            r += 1
    finally:
        gc.enable()
    return samples, repeats


def spread(times):
    """(p75 - p25) / median: how noisy the repeats were."""
    q1, median, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (1, 1, 1)
    return (q3 - q1) / median


def bench_config(p, lr, torch, quick, seconds=None):
    """Check, then time, every contender on problem ``p``; medians in ms."""
    contenders = [co.numpy_contender("ours", lr.forward, lr.backward, p),
                  co.numpy_contender("textbook", textbook_forward, textbook_backward, p),
                  *([co.torch_contender(p, lr, torch)] if torch else []), co.gemm_contender(p)]
    tolerance = TOLERANCE[p["W"].dtype.name]
    worst = co.check_agreement(contenders, tolerance)
    if co.takes_lengths(lr):
        lengths = co.random_lengths(*p["X"].shape[:2])
        worst = max(worst, co.check_lengths(lr, p, lengths, tolerance))
        # Right after ours: the pair whose ratio matters runs back to back.
        contenders.insert(1, co.numpy_contender("lengths", lr.forward, lr.backward, p,
                                                checked=False, lengths=lengths))
    budget, min_repeats, max_repeats = (0.1, 3, 50) if quick else (1.0, 5, 300)
    samples, repeats = time_round_robin(contenders, seconds or budget, min_repeats, max_repeats)
    return {"repeats": repeats, "worst_error": worst,
            "ms": {name: [1e3 * statistics.median(t[k] for t in s) for k in (0, 1)]
                   for name, s in samples.items()},
            "spread": max(spread([t[1] for t in s]) for s in samples.values())}


def lstm_flops(shape):
    """Floating-point operations of the matrix products of forward + backward, ``(n, b, I, d)``.

    Forward: ``X W_x`` and ``h W_h``, 2 N I 4d + 2 N d 4d with N = n b rows; backward: ``dz W_h^T``,
    ``dW_x``, ``dW_h`` and ``dX``, twice that: 24 N d (I + d) in all, for every contender alike.
    """
    n, b, input_size, d = shape
    return 24 * n * b * d * (input_size + d)


def peak_gflops(dtype, size=1024, repeats=5):
    """The machine's matrix-product rate: the best GFLOP/s of a ``size`` square product."""
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((size, size)).astype(dtype) for _ in range(2))
    out = np.empty_like(a)
    best = math.inf
    for _ in range(repeats + 1):  # the first is a warm-up
        t0 = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - t0)
    return 2 * size**3 / best / 1e9


# --- The run: one child process per thread count ---------------------------------------------


def child(args):
    """Every size and dtype at the one thread count this process has; prints JSON."""
    lr = co.import_module(args.module)
    torch = None if args.no_torch else co.import_torch()
    result = {"environment": environment.describe(lr, torch), "lengths": co.takes_lengths(lr),
              "threads": args.threads[0], "configs": [], "memory": [],
              "peak_gflops": {dtype: peak_gflops(dtype) for dtype in args.dtypes}}
    for size in args.sizes:
        for dtype in args.dtypes:
            print(f"  {size} {dtype} {args.threads[0]} thread(s)...", file=sys.stderr, flush=True)
            config = {"size": size, "shape": size_shape(size), "dtype": dtype,
                      "threads": args.threads[0], "flops": lstm_flops(size_shape(size))}
            p = co.make_problem(config["shape"], np.dtype(dtype), lr)
            try:
                config.update(bench_config(p, lr, torch, args.quick, args.seconds))
            except co.Disagreement as e:
                print(f"\n*** CONTENDERS DISAGREE, {size} {dtype}: {e}\n", file=sys.stderr)
                return 3
            result["configs"].append(config)
            if args.memory:
                result["memory"] += memory.table_rows(row_key(config), p, {
                    "ours": (lr.forward, lr.backward),
                    "textbook": (textbook_forward, textbook_backward)})
    print(json.dumps(result))
    return 0


# --- The report -------------------------------------------------------------------------------


def report(results, markdown):
    configs = [c for r in results for c in r["configs"]]
    names = [n for n in ("ours", "textbook", "torch", "gemm", "lengths") if n in configs[0]["ms"]]
    parts = [heading("LSTM benchmark", markdown),
             *(("- " if markdown else "") + line for line in results[0]["environment"]),
             heading("Median time (ms)", markdown),
             "fwd: forward alone; f+b: forward then backward (the same calls). "
             "spread: the largest (p75 - p25) / median of any contender's f+b.\n",
             table(*timing_table(configs, names), markdown),
             heading("Ratios (below 1: the first is faster)", markdown),
             "efficiency: gemm / ours, the share of our time the matrix products alone take.\n",
             table(*ratio_table(configs, names), markdown), agreement(configs),
             heading("Roofline: GFLOP/s of the matrix products' 24 n b d (I + d) operations",
                     markdown),
             "peak: the best rate of a 1024 x 1024 matrix product on this machine.\n",
             table(*gflops_table(results, names), markdown)]
    if not results[0]["lengths"]:
        parts.append("lengths: row skipped, this module's forward takes no `lengths`.")
    if results[0]["memory"]:
        parts += [heading("Memory of one forward+backward (tracemalloc)", markdown),
                  table(memory.HEADER, results[0]["memory"], markdown)]
    return "\n".join(parts)


def row_key(c):
    return [c["size"], ",".join(map(str, c["shape"])), c["dtype"], str(c.get("threads", ""))]


def timing_table(configs, names):
    header = ["size", "n,b,I,d", "dtype", "thr", "reps", *(f"{name} fwd" for name in names),
              *(f"{name} f+b" for name in names), "spread"]
    rows = [[*row_key(c), str(c["repeats"]), *(milliseconds(c["ms"][n][0]) for n in names),
             *(milliseconds(c["ms"][n][1]) for n in names), f"{100 * c['spread']:.0f}%"]
            for c in configs]
    return header, rows


RATIOS = {"ours/textbook": ("ours", "textbook"), "ours/torch": ("ours", "torch"),
          "efficiency": ("gemm", "ours"), "lengths/full": ("lengths", "ours")}


def ratio_table(configs, names):
    ratios = {title: (a, b) for title, (a, b) in RATIOS.items() if a in names and b in names}
    header = ["size", "n,b,I,d", "dtype", "thr",
              *(f"{title} {part}" for title in ratios for part in ("fwd", "f+b"))]
    rows = [[*row_key(c), *(f"{c['ms'][a][k] / c['ms'][b][k]:.2f}" + ("" if a == "gemm" else "x")
                            for a, b in ratios.values() for k in (0, 1))] for c in configs]
    return header, rows


def gflops_table(results, names):
    header = ["size", "n,b,I,d", "dtype", "thr", "peak", *names]
    rows = [[*row_key(c), f"{r['peak_gflops'][c['dtype']]:.1f}",
             *(f"{c['flops'] / c['ms'][n][1] / 1e6:.1f}" for n in names)]
            for r in results for c in r["configs"]]
    return header, rows


def record(results, argv, path, note=None):
    """Write the run to ``path`` as JSON: what the docs and the README read their numbers from."""
    argv = list(argv)
    if "--note" in argv:  # the note has a field of its own
        del argv[argv.index("--note"):argv.index("--note") + 2]
    command = "python benchmarks/bench.py " + shlex.join(argv)
    data = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
            "command": command.strip(),
            "how": "written by bench.py --record (tox -e bench): medians of interleaved repeats; "
                   "peak_gflops is the best rate of a 1024 x 1024 matrix product; flops counts "
                   "the matrix products of forward + backward, 24 n b d (I + d)",
            "note": note, "runs": results}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    if os.path.abspath(path) == str(summary.RECORD) and any(r["threads"] == 1 for r in results):
        summary.update_readme(summary.Run(data))  # the README quotes the record


def agreement(configs):
    """The worst relative error against ours per dtype, from the check before timing."""
    worst = {}
    for c in configs:
        worst[c["dtype"]] = max(worst.get(c["dtype"], 0.0), c["worst_error"])
    return ("\nagreement with ours, checked before timing: worst relative error "
            + ", ".join(f"{err:.1e} ({dtype}, tolerance {TOLERANCE[dtype]:g})"
                        for dtype, err in worst.items()))


# --- Command line -----------------------------------------------------------------------------


def size_shape(size):
    """``(n, b, I, d)`` of a size name or an ``NxBxIxD`` string."""
    parts = SIZES.get(size) or size.lower().split("x")
    if len(parts) != 4 or not all(str(v).isdigit() and int(v) > 0 for v in parts):
        raise SystemExit(f"bench.py: unknown size {size!r}: use one of {list(SIZES)} or NxBxIxD")
    return tuple(int(v) for v in parts)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny and small only, few repeats")
    p.add_argument("--sizes", nargs="+", help=f"names {list(SIZES)} or NxBxIxD; default all")
    p.add_argument("--dtypes", nargs="+", default=list(TOLERANCE), choices=list(TOLERANCE))
    p.add_argument("--threads", nargs="+", type=int, default=[1, 2],
                   help="BLAS thread counts, a child process each; default 1 2")
    p.add_argument("--seconds", type=float, help="time each contender spends per size and "
                   "dtype (default 1, --quick 0.1): more repeats on a noisy machine")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--no-torch", action="store_true", help="leave torch out even if it imports")
    p.add_argument("--memory", action="store_true",
                   help="also measure the cache and peak memory of ours and textbook")
    p.add_argument("--module", help="time this lstm_reference.py instead of the repository's")
    p.add_argument("--record", metavar="FILE", help="also write the run to FILE as JSON, with "
                   "machine, versions and date (the docs read benchmarks/record.json)")
    p.add_argument("--note", help="with --record: a note on how the run was made (a busy "
                   "machine, a short run), shown with its numbers")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.sizes = args.sizes or (["tiny", "small"] if args.quick else list(SIZES))
    for size in args.sizes:
        size_shape(size)  # a bad size fails here, not in a child
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        return child(args)
    options = ["--quick", "--no-torch", "--memory"]
    arguments = ["--sizes", *args.sizes, "--dtypes", *args.dtypes,
                 *(o for o in options if getattr(args, o[2:].replace("-", "_")))]
    arguments += ["--module", args.module] if args.module else []
    arguments += ["--seconds", str(args.seconds)] if args.seconds else []
    results = threads.run_children(os.path.abspath(__file__), args.threads, arguments)
    print(report(results, args.markdown))
    if args.record:
        record(results, sys.argv[1:] if argv is None else argv, args.record, args.note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
