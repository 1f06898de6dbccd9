"""The performance page's tables, plots and quoted numbers, from the recorded benchmark run.

``benchmarks/record.json`` is written by ``tox -e bench`` (``bench.py --record``), with the
machine, the versions, the date and the command; ``benchmarks/summary.py`` reads it. At every
docs build, ``conf.py`` writes the tables with ``write_tables`` and passes ``substitutions`` to
MyST, and the page's ``{plot}`` blocks call ``plot_times`` and ``plot_roofline``. A new record
changes every number on the page.
"""

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))

import summary  # noqa: E402

MARKERS = {"ours": "o", "textbook": "s", "torch": "^", "gemm": "D", "lengths": "v"}


def run():
    return summary.Run(summary.load())


def write_tables(directory):
    """``performance-times.md``, ``-ratios.md`` and ``-targets.md`` in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    r = run()
    tables = {"times": summary.times_table(r), "ratios": summary.ratios_table(r),
              "targets": summary.targets_table(r)}
    for name, text in tables.items():
        path = directory / f"performance-{name}.md"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")  # unchanged: Sphinx rebuilds nothing


def forget_stale_plots(build):
    """Delete this page's plots under ``build`` that are older than the record.

    The plot directive re-draws a figure only when the page's source is newer than it; the
    record is data the page's code reads, so a new record would leave the old plots in place.
    """
    record = summary.RECORD.stat().st_mtime
    for png in Path(build).rglob("performance-*.png"):
        if png.stat().st_mtime < record:
            png.unlink()


def substitutions():
    return summary.substitutions(run())


def _panels(plt, r, ylabel):
    fig, axes = plt.subplots(1, len(r.dtypes), figsize=(7.6, 3.4), sharey=True, squeeze=False)
    for ax, dtype in zip(axes[0], r.dtypes):
        ax.set(title=dtype, xticks=range(len(r.sizes)),
               xticklabels=[f"{s}\n{', '.join(map(str, r.shape(s)))}" for s in r.sizes],
               yscale="log")
        ax.tick_params(axis="x", labelsize="small")
        ax.grid(True, which="major", axis="y", color="0.85", lw=0.6)
    axes[0][0].set_ylabel(ylabel)
    return fig, axes[0]


def plot_times():
    """Forward + backward time of each contender at each size, one panel per dtype."""
    import matplotlib.pyplot as plt

    r = run()
    fig, axes = _panels(plt, r, "forward + backward (ms, log scale)")
    for ax, dtype in zip(axes, r.dtypes):
        sizes = [k for k, s in enumerate(r.sizes) if (s, dtype) in r.configs]
        for j, name in enumerate(r.names):
            ax.plot(sizes, [r.ms(r.sizes[k], dtype, name) for k in sizes], f"-{MARKERS[name]}",
                    color=f"C{j}", ms=5, lw=1.2, label=summary.NAMES[name])
    axes[0].legend(fontsize="small")
    fig.tight_layout()


def plot_roofline():
    """GFLOP/s of each contender over the matrix products' operations, under the measured peak."""
    import matplotlib.pyplot as plt

    r = run()
    fig, axes = _panels(plt, r, "GFLOP/s (log scale)")
    for ax, dtype in zip(axes, r.dtypes):
        peak = r.peak(dtype)
        ax.axhline(peak, color="0.25", ls="--", lw=1.2)
        ax.text(len(r.sizes) - 1, peak * 1.08, f"peak {peak:.0f} GFLOP/s", ha="right",
                va="bottom", fontsize="small")
        sizes = [k for k, s in enumerate(r.sizes) if (s, dtype) in r.configs]
        for j, name in enumerate(r.names):
            if name == "lengths":  # fewer operations than counted: its rate would mislead
                continue
            ax.plot(sizes, [r.gflops(r.sizes[k], dtype, name) for k in sizes],
                    f"-{MARKERS[name]}", color=f"C{j}", ms=5, lw=1.2, label=summary.NAMES[name])
        highest = max(r.gflops(r.sizes[k], dtype, name) for k in sizes for name in r.names)
        ax.set_ylim(top=2 * max(peak, highest))
    axes[0].legend(fontsize="small", loc="lower right")
    fig.tight_layout()
