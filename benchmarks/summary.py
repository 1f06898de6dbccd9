"""The numbers that the docs' performance page and the README quote, read from a recorded run.

``bench.py --record benchmarks/record.json`` (what plain ``tox -e bench`` does) writes the run;
this module reads it. The performance page's tables, plots and the numbers in its prose come
from here at every docs build (``docs/_performance.py``), and ``bench.py --record`` rewrites the
README's benchmark paragraph from ``readme_paragraph``; ``tests/test_bench.py`` checks that the
README says what the record says. So a new run changes every quoted number at once.
"""

import json
import re
import textwrap
from pathlib import Path

RECORD = Path(__file__).resolve().parent / "record.json"
README = Path(__file__).resolve().parent.parent / "README.md"
SIZES = ("tiny", "small", "medium", "large")
DTYPES = ("float64", "float32")
NAMES = {  # contender: how the page names it
    "ours": "this module",
    "textbook": "textbook",
    "torch": "torch.nn.LSTM",
    "gemm": "products alone",
    "lengths": "varied lengths",
}
README_START = "<!-- benchmark: written from benchmarks/record.json by bench.py --record -->"
README_END = "<!-- end of benchmark -->"


def load(path=RECORD):
    return json.loads(Path(path).read_text(encoding="utf-8"))


class Run:
    """The one-thread run of a record, looked up by size, dtype and contender."""

    def __init__(self, record, threads=1):
        self.record = record
        self.run = next(r for r in record["runs"] if r["threads"] == threads)
        self.configs = {(c["size"], c["dtype"]): c for c in self.run["configs"]}
        self.sizes = [s for s in SIZES if any((s, t) in self.configs for t in DTYPES)]
        self.dtypes = [t for t in DTYPES if any((s, t) in self.configs for s in SIZES)]
        names = self.run["configs"][0]["ms"]
        self.names = [n for n in NAMES if n in names]

    def ms(self, size, dtype, name, forward_only=False):
        """Median milliseconds of forward + backward (or forward alone)."""
        return self.configs[size, dtype]["ms"][name][0 if forward_only else 1]

    def ratio(self, size, dtype, a, b, forward_only=False):
        return self.ms(size, dtype, a, forward_only) / self.ms(size, dtype, b, forward_only)

    def gflops(self, size, dtype, name):
        """The rate of ``name`` over the matrix products' operations, 24 n b d (I + d)."""
        c = self.configs[size, dtype]
        return c["flops"] / self.ms(size, dtype, name) / 1e6

    def peak(self, dtype):
        return self.run["peak_gflops"][dtype]

    def shape(self, size):
        return next(c["shape"] for (s, _), c in self.configs.items() if s == size)

    def environment(self, key):
        """The environment line that starts with ``key`` (``"machine"``: ``machine: ...``)."""
        line = next(line for line in self.run["environment"] if line.startswith(key))
        return line[len(key):].lstrip(":").strip()

    def cpu(self):
        return re.sub(r".*CPU: ", "", self.environment("machine"))


# -- Formatting -------------------------------------------------------------------------------


def ms_text(value):
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def span(values, fmt="{:.2f}", unit=""):
    """``0.76-0.96x`` for several values, ``0.76x`` for one."""
    low, high = min(values), max(values)
    text = fmt.format(low) if fmt.format(low) == fmt.format(high) else (
        f"{fmt.format(low)}-{fmt.format(high)}")
    return text + unit


def times_table(run):
    """Markdown: forward + backward time of each contender, per size and dtype."""
    header = ["size", "`n, b, I, d`", "dtype", *(NAMES[n] for n in run.names)]
    rows = [[s, ", ".join(map(str, run.shape(s))), t,
             *(ms_text(run.ms(s, t, n)) for n in run.names)]
            for s in run.sizes for t in run.dtypes if (s, t) in run.configs]
    return markdown_table(header, rows)


def ratios_table(run):
    """Markdown: the ratios the page discusses, and the rate against the machine's peak."""
    pairs = [("ours / textbook", "ours", "textbook"), ("ours / torch", "ours", "torch"),
             ("efficiency", "gemm", "ours"), ("lengths / full", "lengths", "ours")]
    pairs = [p for p in pairs if p[1] in run.names and p[2] in run.names]
    header = ["size", "dtype", *(p[0] for p in pairs), "GFLOP/s", "of peak"]
    rows = []
    for s in run.sizes:
        for t in run.dtypes:
            if (s, t) not in run.configs:
                continue
            ratios = [f"{run.ratio(s, t, a, b):.2f}" + ("" if a == "gemm" else "x")
                      for _, a, b in pairs]
            rate = run.gflops(s, t, "ours")
            rows.append([s, t, *ratios, f"{rate:.1f}", f"{rate / run.peak(t):.0%}"])
    return markdown_table(header, rows)


# What the structure is meant to reach, forward + backward with one thread: (target, where,
# [(size, dtype)], (a, b): the ratio a / b measured, limit, "<=" or ">=" or "<").
TARGETS = [
    ("ours / textbook <= 0.70x", "float64, medium and large",
     [("medium", "float64"), ("large", "float64")], ("ours", "textbook"), 0.70, "<="),
    ("ours / textbook <= 0.80x", "float32, medium and large",
     [("medium", "float32"), ("large", "float32")], ("ours", "textbook"), 0.80, "<="),
    ("efficiency >= 0.80", "medium, both dtypes",
     [("medium", "float64"), ("medium", "float32")], ("gemm", "ours"), 0.80, ">="),
    ("efficiency >= 0.85", "large, both dtypes",
     [("large", "float64"), ("large", "float32")], ("gemm", "ours"), 0.85, ">="),
    ("ours / torch <= 1.0x", "float64, every size",
     [(s, "float64") for s in SIZES], ("ours", "torch"), 1.0, "<="),
    ("ours / torch <= 1.2x", "float32, medium and large",
     [("medium", "float32"), ("large", "float32")], ("ours", "torch"), 1.2, "<="),
    ("ours / torch < 1.0x", "tiny and small, both dtypes",
     [(s, t) for s in ("tiny", "small") for t in DTYPES], ("ours", "torch"), 1.0, "<"),
    ("lengths / full <= 0.85x", "medium, lengths uniform in n/2..n",
     [("medium", "float64"), ("medium", "float32")], ("lengths", "ours"), 0.85, "<="),
]


def targets_table(run):
    """Markdown: each target, the measured values and whether they meet it."""
    rows = []
    for target, where, cells, (a, b), limit, sign in TARGETS:
        cells = [c for c in cells if c in run.configs]
        if not cells or a not in run.names or b not in run.names:
            continue
        values = [run.ratio(s, t, a, b) for s, t in cells]
        met = [{"<=": v <= limit, ">=": v >= limit, "<": v < limit}[sign] for v in values]
        unit = "" if a == "gemm" else "x"
        verdict = "yes" if all(met) else "no" if not any(met) else (
            "not at " + ", ".join(f"{s} {t}" for (s, t), m in zip(cells, met) if not m))
        rows.append([target, where, ", ".join(f"{v:.2f}{unit}" for v in values), verdict])
    return markdown_table(["target", "where", "measured", "met"], rows)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def substitutions(run):
    """The numbers the performance page's prose quotes, by name (MyST ``{{ name }}``)."""
    big = [s for s in ("medium", "large") if s in run.sizes]
    values = {
        "bench_date": run.record["date"],
        "bench_command": run.record["command"],
        "bench_cpu": run.cpu(),
        "bench_versions": "Python " + run.environment("python") + "; torch "
                          + run.environment("torch"),
    }
    for t in run.dtypes:
        k = t[-2:]  # 64, 32
        values[f"peak{k}"] = f"{run.peak(t):.3g}"
        values[f"textbook{k}"] = span([run.ratio(s, t, "ours", "textbook") for s in big],
                                      unit="x")
        values[f"textbook_fwd{k}"] = span(
            [run.ratio(s, t, "ours", "textbook", forward_only=True) for s in big], unit="x")
        values[f"efficiency{k}"] = span([run.ratio(s, t, "gemm", "ours") for s in big])
        values[f"rate{k}"] = span([run.gflops(s, t, "ours") for s in big], "{:.3g}")
        values[f"share{k}"] = span([run.gflops(s, t, "ours") / run.peak(t) for s in big],
                                   "{:.0%}")
        values[f"torch{k}"] = values[f"lengths{k}"] = "not measured in this run"
        if "torch" in run.names:
            values[f"torch{k}"] = span([run.ratio(s, t, "ours", "torch") for s in run.sizes],
                                       unit="x")
        if "lengths" in run.names:
            values[f"lengths{k}"] = span([run.ratio(s, t, "lengths", "ours") for s in big],
                                         unit="x")
    if "medium" in run.sizes:
        values["medium_ours64"] = ms_text(run.ms("medium", "float64", "ours"))
        values["medium_gemm64"] = ms_text(run.ms("medium", "float64", "gemm"))
        values["medium_textbook64"] = ms_text(run.ms("medium", "float64", "textbook"))
        values["gemm_textbook64"] = f'{run.ratio("medium", "float64", "gemm", "textbook"):.2f}'
    values["products_share"] = "; ".join(
        f"at the {s} size, " + " and ".join(
            f"{run.ratio(s, t, 'gemm', 'ours'):.0%} in {t}" for t in run.dtypes) for s in big)
    values["bench_note"] = run.record.get("note") or "no note was recorded"
    return values


def readme_paragraph(run):
    """The README's benchmark paragraph, between its markers."""
    f64, f32 = "float64", "float32"
    ms = {(t, n): ms_text(run.ms("medium", t, n)) for t in (f64, f32) for n in run.names}
    torch = (f", and {ms[f64, 'torch']} ms for `torch.nn.LSTM` on the CPU"
             if "torch" in run.names else "")
    torch32 = f" / {ms[f32, 'torch']}" if "torch" in run.names else ""
    note = f" How this run was made: {run.record['note']}." if run.record.get("note") else ""
    text = (f"Measured on {run.record['date']} ({run.cpu()}, one thread, `tox -e bench`): "
            f"forward + backward at `n, b, I, d = 100, 32, 128, 256` took {ms[f64, 'ours']} ms in "
            f"float64, against {ms[f64, 'textbook']} ms for the textbook per-step "
            f"formulation{torch}; {ms[f32, 'ours']} / {ms[f32, 'textbook']}{torch32} ms in "
            f"float32. The matrix products alone take {ms[f64, 'gemm']} and {ms[f32, 'gemm']} "
            f"ms: this module runs at {run.gflops('medium', f64, 'ours'):.3g} GFLOP/s in float64, "
            f"{run.gflops('medium', f64, 'ours') / run.peak(f64):.0%} of the machine's measured "
            f"peak matrix-product rate of {run.peak(f64):.3g} GFLOP/s. The tables and plots, for "
            f"every size, are on the docs site's performance page; `tox -e bench` measures them "
            f"on your machine.{note}")
    return (f"{README_START}\n" + textwrap.fill(text, 96, break_on_hyphens=False)
            + f"\n{README_END}")


def update_readme(run, path=README):
    """Rewrite the README's benchmark paragraph from ``run``; False if it has no markers."""
    text = Path(path).read_text(encoding="utf-8")
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        return False
    Path(path).write_text(pattern.sub(lambda _: readme_paragraph(run), text), encoding="utf-8")
    return True
