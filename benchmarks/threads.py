"""Run the benchmark once per BLAS thread count, each time in a fresh Python process.

BLAS libraries read their thread count once, when NumPy is imported, so one process cannot
measure two counts: each count gets a child process started with the thread variables set.
"""

import json
import os
import subprocess
import sys

# Every variable a BLAS or OpenMP runtime might read for its thread count.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                    "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


def run_children(script, thread_counts, arguments):
    """The JSON that ``script --child --threads k *arguments`` prints, for each count k.

    Stops the whole run (``SystemExit``) when a child fails, for instance on a disagreement.
    """
    results = []
    for threads in thread_counts:
        env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
        if threads > 1:  # idle OpenMP workers (torch's) would spin and take the cores otherwise
            env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        command = [sys.executable, script, "--child", "--threads", str(threads), *arguments]
        done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
        if done.returncode != 0:
            raise SystemExit(f"bench.py: aborted, the run with {threads} thread(s) failed "
                             f"(status {done.returncode}); no timings reported")
        results.append(json.loads(done.stdout))
        arguments = [a for a in arguments if a != "--memory"]  # memory does not vary with threads
    return results
