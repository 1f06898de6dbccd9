"""Output quoted on the pages, produced at build time: never pasted, so it cannot go stale.

``conf.py`` calls :func:`write` before Sphinx reads a page. It writes, under
``docs/_build/generated/``:

- ``output/<name>.txt``: what a script of this tree prints (``python lstm_reference.py``, the
  demos under ``docs/examples``), run as a reader would run it, on one BLAS thread, with the
  command as its first line. Pages include it with ``literalinclude``;
- ``memory_seeds.md``: the memory task trained with its defaults over seeds 0 to 5, a table and
  a sentence with the range of results;
- ``elementwise.md``: what ``np.exp`` and ``np.tanh`` cost per element on this machine, in float64
  and float32, and which is the cheaper pass in each.

The slow outputs (trainings, the self-check) are kept between builds while the files they depend
on and the NumPy version stay the same (a ``.key`` file beside each holds the hash); the timing
of ``exp`` and ``tanh`` is measured at every build.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import numpy as np

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
EXAMPLES = DOCS / "examples"
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
SEEDS = range(6)

# name: the script, as a path from the repository root (every demo imports training.py)
SCRIPTS = {
    "self_check": "lstm_reference.py",
    "classify": "docs/examples/classify.py",
    "seq2seq": "docs/examples/seq2seq.py",
    "state_persistence": "docs/examples/state_persistence.py",
    "init_gradient_flow": "docs/examples/init_gradient_flow.py",
    "cell_by_hand": "docs/examples/cell_by_hand.py",
    "memory_task": "docs/examples/memory_task.py",
}


def _key(*paths):
    """A hash of the files ``paths`` (from the root), this file, Python's and NumPy's versions."""
    digest = hashlib.sha256(f"{sys.version} {np.__version__}".encode())
    for path in (*paths, "lstm_reference.py", "docs/examples/training.py", "docs/_outputs.py"):
        digest.update((ROOT / path).read_bytes())
    return digest.hexdigest()


def _cached(path, key, make):
    """Write ``make()`` to ``path`` unless it was written before with the same ``key``."""
    key_file = path.with_name(path.name + ".key")
    if path.exists() and key_file.exists() and key_file.read_text() == key:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(make(), encoding="utf-8")
    key_file.write_text(key)


def run_script(script):
    """The command and what it prints, run from the root on one BLAS thread."""
    run = subprocess.run([sys.executable, script], cwd=ROOT, env={**os.environ, **ONE_THREAD},
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"python {script} failed:\n{run.stderr}")
    return f"$ OPENBLAS_NUM_THREADS=1 python {script}\n{run.stdout}"


def _first_at(curve, bar=0.95):
    """The first iteration of ``curve`` whose held-out accuracy is at least ``bar``, or None."""
    return next((iteration for iteration, _, accuracy in curve if accuracy >= bar), None)


def memory_seeds():
    """The memory task with its defaults over ``SEEDS``: a Markdown table and a summary."""
    sys.path.insert(0, str(DOCS))
    import _plots  # one BLAS thread, in a fresh process per run

    runs = [_plots._main_on_one_thread("memory_task", seed=seed) for seed in SEEDS]
    lines = ["| seed | first at or above 95% (iteration) | held-out accuracy at the end "
             "| training time |", "|---|---|---|---|"]
    firsts = []
    for seed, run in zip(SEEDS, runs):
        first = _first_at(run["curve"])
        firsts.append(first)
        lines.append(f"| {seed} | {first if first else 'never'} | {run['accuracy']:.1%} "
                     f"| {run['seconds']:.1f} s |")
    finals = [run["accuracy"] for run in runs]
    reached = [f for f in firsts if f is not None]
    summary = (f"Over seeds {SEEDS[0]} to {SEEDS[-1]}, with the defaults (400 iterations), the "
               f"held-out accuracy at the end was between {min(finals):.1%} and "
               f"{max(finals):.1%}, ")
    if len(reached) == len(runs):
        summary += (f"and every seed first reached 95% between iteration {min(reached)} and "
                    f"{max(reached)} (the accuracy is measured every 50 iterations). ")
    else:
        summary += (f"and {len(reached)} of the {len(runs)} seeds reached 95% at some point "
                    f"(measured every 50 iterations). ")
    below = [str(seed) for seed, final in zip(SEEDS, finals) if final < 0.95]
    if below:
        summary += (f"Seed{'s' if len(below) > 1 else ''} {', '.join(below)} ended below 95%: "
                    "the curve is not monotonic, and a late batch can undo part of what was "
                    "learned. ")
    seconds = [run["seconds"] for run in runs]
    summary += (f"Training took {min(seconds):.1f} to {max(seconds):.1f} s a run on one BLAS "
                "thread, while this page was built.")
    return summary + "\n\n" + "\n".join(lines) + "\n"


def per_element(function, dtype, size=1 << 20, repeats=15):
    """Nanoseconds per element of ``function(x, out=x)`` on ``size`` values, best of ``repeats``."""
    x = np.linspace(-4, 4, size, dtype=dtype)
    out = np.empty_like(x)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function(x, out=out)
        best = min(best, time.perf_counter() - start)
    return best / size * 1e9


def elementwise():
    """One sentence: ``exp`` and ``tanh`` per element in float64 and float32, the cheaper one."""
    parts = []
    for dtype in (np.float64, np.float32):
        exp, tanh = per_element(np.exp, dtype), per_element(np.tanh, dtype)
        cheaper = "`exp`" if exp < tanh else "`tanh`"
        parts.append(f"in {np.dtype(dtype).name}, `exp` takes {exp:.2f} ns an element and "
                     f"`tanh` {tanh:.2f} ns, so {cheaper} is the cheaper pass")
    return (f"On the machine that built this page (NumPy {np.__version__}, the best of 15 "
            f"passes over $2^{{20}}$ values): {parts[0]}; {parts[1]}.\n")


def write(directory):
    """Write every output under ``directory``."""
    directory = Path(directory)
    for name, script in SCRIPTS.items():
        _cached(directory / "output" / f"{name}.txt", _key(script),
                partial(run_script, script))
    _cached(directory / "memory_seeds.md", _key("docs/examples/memory_task.py", "docs/_plots.py"),
            memory_seeds)
    text = elementwise()
    path = directory / "elementwise.md"
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write(DOCS / "_build" / "generated")
    print(json.dumps(sorted(str(p.relative_to(DOCS)) for p in (DOCS / "_build" / "generated")
                            .rglob("*") if p.is_file() and p.suffix != ".key"), indent=1))
