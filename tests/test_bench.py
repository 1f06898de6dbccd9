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
