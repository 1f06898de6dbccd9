"""Memory of the NumPy contenders: what forward caches for backward, and the peak of both calls.

NumPy reports its array allocations to ``tracemalloc``, so one traced forward+backward gives
the peak. The cache counts the arrays forward keeps that are not its inputs (``X``, ``W``, ...).
"""

import gc
import tracemalloc

import numpy as np

HEADER = ["size", "n,b,I,d", "dtype", "thr", "contender", "cache MB", "cache / nbd", "peak MB"]


def measure(forward, backward, inputs, dH):
    """(cache bytes, peak bytes) of one ``forward(*inputs)`` then ``backward(dH, cache)``."""
    gc.collect()
    tracemalloc.start()
    try:
        *_, cache = forward(*inputs)
        given = {id(a) for a in inputs}
        kept = {id(a): a for a in cache.values()
                if isinstance(a, np.ndarray) and id(a) not in given}
        backward(dH, cache)
        return sum(a.nbytes for a in kept.values()), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def table_rows(key, p, contenders):
    """A row per contender (name: (forward, backward)) on problem ``p``: cache and peak in MB,
    and the cache in numbers per n*b*d (ours keeps 7 n b d + O(b d))."""
    inputs, dH = (p["X"], p["W"], p["c0"], p["h0"]), p["dH"]
    rows = []
    for name, (forward, backward) in contenders.items():
        cache, peak = measure(forward, backward, inputs, dH)
        per_nbd = cache / dH.itemsize / dH.size
        rows.append([*key, name, f"{cache / 1e6:.3g}", f"{per_nbd:.2f}", f"{peak / 1e6:.3g}"])
    return rows
