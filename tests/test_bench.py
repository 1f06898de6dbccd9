"""The benchmark keeps working, and its agreement check can fail. No timing is asserted here:
the machines are shared and noisy."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "bench.py"


def run_bench(*arguments):
    return subprocess.run([sys.executable, str(BENCH), "--sizes", "tiny", "--threads", "1",
                           "--quick", "--no-torch", *arguments],
                          capture_output=True, text=True, timeout=300)


def test_smoke_run_on_the_tiny_size_agrees_before_timing():
    result = run_bench()
    assert result.returncode == 0, result.stdout + result.stderr
    for dtype, tolerance in (("float64", 1e-10), ("float32", 1e-4)):
        pattern = rf"worst relative error.* ([-+.e\d]+) \({dtype}, tolerance"
        worst = re.search(pattern, result.stdout)
        assert worst is not None, result.stdout
        assert float(worst.group(1)) <= tolerance
    assert "ours f+b" in result.stdout and "ours/textbook f+b" in result.stdout


def test_a_contender_that_disagrees_stops_the_run(tmp_path):
    """A copy of the module whose backward returns a dW 1% off: the check must refuse it."""
    broken = tmp_path / "lstm_reference.py"
    broken.write_text((ROOT / "lstm_reference.py").read_text() + '''

_right_backward = backward


def backward(dH, cache, dc=None, dh=None):
    dX, dW, dc0, dh0 = _right_backward(dH, cache, dc, dh)
    return dX, 1.01 * dW, dc0, dh0
''')
    result = run_bench("--dtypes", "float64", "--module", str(broken))
    assert result.returncode != 0
    assert "textbook differs from ours" in result.stderr and "'dW'" in result.stderr
    assert "Median time" not in result.stdout  # no timings reported


def _summary():
    from benchmarks import summary  # the repository root is on sys.path (conftest.py)

    return summary


def test_the_record_says_how_and_where_it_was_made():
    """benchmarks/record.json, which the docs and the README quote, names its machine,
    versions, date and command, and holds a one-thread run with the peak and every contender."""
    summary = _summary()
    record = summary.load()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", record["date"])
    assert record["command"].startswith("python benchmarks/bench.py")
    run = summary.Run(record)
    for key in ("date", "machine", "python", "torch", "module"):
        assert run.environment(key)
    assert {"ours", "textbook", "gemm"} <= set(run.names)
    for dtype in run.dtypes:
        assert run.peak(dtype) > 0
        for size in run.sizes:
            config = run.configs[size, dtype]
            n, b, i, d = config["shape"]
            assert config["flops"] == 24 * n * b * d * (i + d)


def test_the_readme_quotes_the_record():
    """The README's benchmark paragraph is what summary.readme_paragraph makes of the record
    (bench.py --record rewrites it): its numbers cannot drift from the docs' page."""
    summary = _summary()
    run = summary.Run(summary.load())
    assert summary.readme_paragraph(run) in summary.README.read_text(encoding="utf-8")


def test_record_writes_the_file_and_the_readme(tmp_path):
    """--record writes the run as JSON; its numbers make the README's paragraph."""
    path = tmp_path / "record.json"
    result = run_bench("--dtypes", "float64", "--record", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    summary = _summary()
    run = summary.Run(summary.load(path))
    assert run.sizes == ["tiny"] and run.dtypes == ["float64"]
    assert "textbook" in run.names and run.ms("tiny", "float64", "ours") > 0
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{summary.README_START}\nold\n{summary.README_END}\nafter\n")
    # the paragraph quotes the medium size: give the tiny run's numbers that name
    run.configs["medium", "float64"] = run.configs["tiny", "float64"]
    run.configs["medium", "float32"] = run.configs["tiny", "float64"]
    run.run["peak_gflops"]["float32"] = run.peak("float64")
    assert summary.update_readme(run, readme)
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "old" not in text
    assert f"{summary.ms_text(run.ms('tiny', 'float64', 'ours'))} ms in float64" in text


def test_the_departures_benchmark_runs_and_prints_every_departure():
    result = subprocess.run([sys.executable, "-m", "benchmarks.departures", "--repeats", "1",
                             "--dtypes", "float64"], capture_output=True, text=True, timeout=600,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    for row in ("1. input projection hoisted", "2. sigmoid columns negated",
                "3. buffers written in place", "4. local derivatives hoisted",
                "5. dW and dX hoisted", "module / control"):
        assert row in result.stdout
