"""The benchmark script keeps working: a smoke run on the tiny size, without timing claims.

The benchmark checks that every contender (ours, the textbook formulation, the GEMM roofline's
products) agrees numerically before it times anything, and exits 1 if they do not. Nothing
about speed is asserted here: the machines are shared and noisy.
"""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def test_benchmark_smoke_run_agrees_and_reports():
    result = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "tiny", "--threads", "1", "--no-torch",
         "--target-seconds", "0.01", "--min-repeats", "2", "--max-repeats", "3"],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "DISAGREE" not in result.stdout
    assert "cache <= 7nbd + O(bd) numbers" in result.stdout
    assert "[ MET  ] cache" in result.stdout
