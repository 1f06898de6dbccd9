"""The experiment that introduced the LSTM: the embedded Reber grammar, LSTM against plain RNN.

Hochreiter and Schmidhuber (Neural Computation 9(8), 1997, section 5.1, experiment 1) trained
networks to predict the next symbol of strings of the *embedded* Reber grammar::

    B  T  <a Reber string>  T  E        or        B  P  <a Reber string>  P  E

The inner Reber string (``BTXSE``, ``BPVVE``, ``BTSSXXTVVE``, ...) comes from a small automaton,
``REBER`` below, which picks one of two arcs at random at every node. Every symbol of it can be
predicted from the few symbols before it; but the symbol after its final ``E`` repeats the
second symbol of the whole string, T or P, seen 6 or more steps earlier with the whole inner
string in between. That one prediction is the test of a long memory: a network that does not
carry the second symbol across the inner string can only guess it, right half the time.

Both networks here read one-hot symbols and predict the next symbol with a softmax over the 7,
trained on the masked temporal cross-entropy of ``training.py`` (strings have different
lengths: a batch is padded, and the loss counts the real steps only), with Adam, the same
sizes, the same learning rate, the same batches (the same seed draws the same strings) and the
same number of updates:

- the LSTM: ``lstm_reference.LSTM`` (per-gate Xavier and orthogonal initialization) with a
  forget bias of 3, so that ``f ~ 0.95`` at the start: the closest the module comes to the 1997
  LSTM, which had no forget gate (``f = 1``); full backpropagation through time;
- the plain RNN of ``rnn.py`` (Xavier and orthogonal), full backpropagation through time.

Measured at every evaluation, on 256 held-out strings: the share of strings whose final T or P
is predicted (the long-range symbol), and the share of strings whose every symbol is predicted
in the sense of the paper (at every step, the symbols the grammar allows next are the most
probable ones). A model that knows the grammar but not the long-range symbol is right on the
final T or P half the time.

Run ``python docs/examples/reber.py``; ``main()`` returns the figures.
"""

import os
import sys
import time
from pathlib import Path

if __name__ == "__main__":  # before NumPy loads BLAS: one thread is fastest at these sizes
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# the repository root: lstm_reference.py; and this directory: rnn.py, training.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
from rnn import RNN  # noqa: E402
from training import Adam, temporal_softmax_loss  # noqa: E402

import lstm_reference as lr  # noqa: E402

SYMBOLS = "BTPSXVE"  # one-hot index of each symbol, for the inputs and the outputs
# The Reber automaton: at each node, two arcs (symbol, next node), each taken with probability
# 1/2. It starts at node 0, after B, and ends at node 5, where only E may follow.
REBER = {0: (("T", 1), ("P", 2)),
         1: (("S", 1), ("X", 3)),
         2: (("T", 2), ("V", 4)),
         3: (("X", 2), ("S", 5)),
         4: (("P", 3), ("V", 5))}


def reber_string(rng):
    """A string of the Reber grammar, ``"B...E"``, and what may follow each of its prefixes.

    ``allowed[k]`` is the set of symbols that may follow ``string[:k + 1]``, for every prefix
    but the whole string: ``len(allowed) == len(string) - 1``.
    """
    string, allowed, node = "B", [], 0
    while node != 5:
        arcs = REBER[node]
        allowed.append({symbol for symbol, _ in arcs})
        symbol, node = arcs[rng.integers(2)]
        string += symbol
    allowed.append({"E"})
    return string + "E", allowed


def embedded_reber_string(rng, inner=1):
    """``B + s + <Reber string> + s + E`` with ``s`` T or P, and what may follow each prefix.

    ``inner > 1`` puts that many Reber strings in a row between the two ``s``, for a longer lag
    (not in the paper).
    """
    strings, sets = zip(*(reber_string(rng) for _ in range(inner)))
    inside = [*sets[0]]
    for more in sets[1:]:  # after an inner E, the next inner string's B
        inside += [{"B"}, *more]
    s = "TP"[rng.integers(2)]
    # After B: T or P. After s: the inner B. Inside: the automaton. After the inner E: s,
    # the long-range symbol. After the second s: E.
    allowed = [{"T", "P"}, {"B"}, *inside, {s}, {"E"}]
    return "B" + s + "".join(strings) + s + "E", allowed


def encode(strings):
    """A padded batch for next-symbol prediction, batch first.

    Returns ``X (b, n, 7)``, the one-hot symbols but the last of each string; ``labels (b, n)``,
    the index of the next symbol; ``mask (b, n)``, False at padded steps; with
    ``n = max(len(s)) - 1``.
    """
    b, n = len(strings), max(len(s) for s in strings) - 1  # batch, steps
    X = np.zeros((b, n, len(SYMBOLS)))  # (b, n, 7)  zeros at padded steps
    labels = np.zeros((b, n), dtype=int)  # (b, n)
    mask = np.zeros((b, n), dtype=bool)  # (b, n)
    for k, s in enumerate(strings):
        codes = [SYMBOLS.index(symbol) for symbol in s]
        X[k, np.arange(len(s) - 1), codes[:-1]] = 1.0  # step t reads symbol t
        labels[k, :len(s) - 1] = codes[1:]  # and predicts symbol t + 1
        mask[k, :len(s) - 1] = True
    return X, labels, mask


def evaluate(model, strings, allowed):
    """``(long_range, all_symbols)``: the share of strings whose final T or P is the most
    probable prediction at its step, and the share whose every step's most probable symbols
    are exactly the ones the grammar allows there (the paper's criterion)."""
    logits = model.forward(encode(strings)[0])  # (b, n, 7)
    long_range = all_symbols = 0
    for k, (s, sets) in enumerate(zip(strings, allowed)):
        ranked = np.argsort(-logits[k, :len(s) - 1], axis=1)  # (steps, 7)  most probable first
        long_range += ranked[len(s) - 3, 0] == SYMBOLS.index(s[-2])  # the step after inner E
        all_symbols += all({SYMBOLS[j] for j in ranked[t, :len(ok)]} == ok
                           for t, ok in enumerate(sets))
    return float(long_range / len(strings)), float(all_symbols / len(strings))


def make_model(kind, hidden_size, forget_bias, rng):
    """``"lstm"``: ``lstm_reference.LSTM``; ``"rnn"``: ``rnn.RNN``; 7 symbols in, 7 out."""
    if kind == "lstm":
        return lr.LSTM(len(SYMBOLS), hidden_size, output_size=len(SYMBOLS),
                       forget_bias=forget_bias, rng=rng)
    return RNN(len(SYMBOLS), hidden_size, len(SYMBOLS), rng=rng)


def train(kind, updates, hidden_size, batch_size, learning_rate, eval_every, seed, test,
          forget_bias=3.0, inner=1):
    """Train one model; return ``{"curve": [(updates, long_range, all_symbols)], "seconds"}``."""
    rng = np.random.default_rng(seed)
    model, seconds = make_model(kind, hidden_size, forget_bias, rng), 0.0
    adam = Adam(lr=learning_rate, clip=1.0)
    curve = [(0, *evaluate(model, *test))]
    for update in range(1, updates + 1):
        start = time.perf_counter()
        X, labels, mask = encode([embedded_reber_string(rng, inner)[0]
                                for _ in range(batch_size)])
        loss, dlogits = temporal_softmax_loss(model.forward(X), labels, mask)
        model.backward(dlogits)
        adam.step(model)
        seconds += time.perf_counter() - start
        if update % eval_every == 0:
            curve.append((update, *evaluate(model, *test)))
    return {"curve": curve, "seconds": seconds}


def main(updates=400, hidden_size=16, batch_size=16, learning_rate=1e-2, eval_every=25,
         forget_bias=3.0, seeds=(0, 1, 2), test_size=256, test_seed=1997, inner=1,
         kinds=("lstm", "rnn")):
    """Train an LSTM and a plain RNN from each seed; return their curves on one test set.

    Returns ``{"lstm": [run per seed], "rnn": [...], "test_lengths", "settings"}``, each run as
    :func:`train` returns it: ``curve`` holds ``(updates, long_range, all_symbols)`` from 0
    updates on, every ``eval_every``. ``kinds`` trains only some of the two.
    """
    test_rng = np.random.default_rng(test_seed)
    strings, allowed = zip(*(embedded_reber_string(test_rng, inner)
                               for _ in range(test_size)))
    settings = dict(updates=updates, hidden_size=hidden_size, batch_size=batch_size,
                    learning_rate=learning_rate, eval_every=eval_every, forget_bias=forget_bias,
                    inner=inner)
    runs = {kind: [train(kind, seed=seed, test=(strings, allowed), **settings) for seed in seeds]
            for kind in kinds}
    return {**runs, "test_lengths": [len(s) for s in strings], "settings": settings}


if __name__ == "__main__":
    result = main()
    for kind in ("lstm", "rnn"):
        for seed, run in enumerate(result[kind]):  # seeds 0, 1, 2
            updates, long_range, all_symbols = run["curve"][-1]
            print(f"{kind:>4} seed {seed}: after {updates} updates, final T/P right "
                  f"{long_range:.0%}, every symbol right {all_symbols:.0%} "
                  f"({run['seconds']:.1f} s)")
