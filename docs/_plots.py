"""The figures of the documentation pages, drawn at build time by the plot directive.

Each ``plot_*`` function draws one figure with pyplot (the plot directive saves every figure
left open) from the module and the demos of this tree, so a figure cannot go stale. Together
they take about ten seconds, nearly all of it the memory task's two trainings, which run on one
BLAS thread (see ``_main_on_one_thread``). pyplot is imported inside the functions, so that
importing this module (``pytest docs`` does, for its doctests) sets up no plotting backend.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))  # the demos import their neighbour training.py

import classify  # noqa: E402
import memory_task  # noqa: E402

import lstm_reference as lr  # noqa: E402

MARKER = memory_task.SYMBOLS  # the input channel of the start marker, after the one-hot symbols


def latch_model():
    """A hand-set LSTM for the memory task: store the first symbol in ``c``, hold it.

    Inputs as ``memory_task.make_batch`` makes them: the symbol one-hot in channels 0-3,
    the start marker in channel 4. Unit ``k`` remembers "the first symbol was ``k``".
    """
    model = lr.LSTM(input_size=MARKER + 1, hidden_size=4, output_size=4)
    params = {name: np.zeros_like(p) for name, p in model.get_params().items()}
    # Input gate: sigmoid(16 - 8) ~ 1 at the marker (write), sigmoid(-8) ~ 3e-4 after.
    params["W_xi"][MARKER], params["b_i"][:] = 16.0, -8.0
    # Forget gate: ~ 0 at the marker (erase), sigmoid(8) ~ 1 after (hold).
    params["W_xf"][MARKER], params["b_f"][:] = -16.0, 8.0
    # Output gate: sigmoid(2) ~ 0.88 at every step.
    params["b_o"][:] = 2.0
    # Candidate: g_k = tanh(3) ~ 1 if the input is symbol k, else 0.
    params["W_xg"][:MARKER] = 3.0 * np.eye(4)
    # Output layer: logit k = 10 h_k. The recurrent matrices W_h* stay zero.
    params["W_y"][:] = 10.0 * np.eye(4)
    model.set_params(params)
    return model


def gate_trace(model, X):
    """Gate activations ``(n, b, 4, d)`` (i, f, o, g) and cell states ``(n, b, d)`` over ``X``."""
    H, _, _, cache = lr.forward(X.transpose(1, 0, 2), model.to_cell().to_weights())  # time-major
    n, b, d = H.shape  # no lengths: the cache's rows are step by step, b per step
    return cache["IFOG"].reshape(n, b, 4, d), cache["C"][b:].reshape(n, b, d)  # c0 rows first


def plot_gates(seq_len=24, seed=2):
    """The latch model on one memory-task sequence: inputs, gates, cell states."""
    import matplotlib.pyplot as plt

    X, first = memory_task.make_batch(1, seq_len, np.random.default_rng(seed))
    gates, C = gate_trace(latch_model(), X)
    k, t = int(first[0]), np.arange(seq_len)
    fig, (inputs, gate_ax, cell_ax) = plt.subplots(
        3, 1, sharex=True, figsize=(6.4, 5.6), gridspec_kw={"height_ratios": [1, 2, 2]})
    inputs.plot(t, X[0, :, :MARKER].argmax(axis=1), "o", color="0.4", ms=4, label="symbol")
    inputs.plot(t[:1], [k], "o", color="C3", ms=8, mfc="none", mew=1.5, label="start marker")
    inputs.set(ylabel="input", yticks=range(4), ylim=(-0.7, 3.7))
    inputs.legend(loc="center right", fontsize="small")
    for j, (name, style) in enumerate([("input gate $i_t$", "-o"), ("forget gate $f_t$", "-s"),
                                       ("output gate $o_t$", "-^")]):
        gate_ax.plot(t, gates[:, 0, j, k], style, ms=3, label=name)
    gate_ax.set(ylabel=f"gate (unit {k})", ylim=(-0.05, 1.05))
    gate_ax.legend(loc="center right", fontsize="small")
    others = [unit for unit in range(4) if unit != k]
    cell_ax.plot(t, C[:, 0, k], color="C3", lw=2.5, label=f"unit {k} (the first symbol)")
    cell_ax.plot(t, C[:, 0, others], color="0.5", lw=1.2)
    # one legend entry
    cell_ax.plot([], [], color="0.5", lw=1.2, label="units " + ", ".join(map(str, others)))
    cell_ax.set(xlabel="step $t$", ylabel="cell state $c_t$", ylim=(-0.1, 1.1))
    cell_ax.legend(loc="center right", fontsize="small")
    fig.align_ylabels()


def _main_on_one_thread(demo, **settings):
    """``demo.main(**settings)`` run in a fresh Python with one BLAS thread; its result, via JSON.

    The demos' matrices are small, and OpenBLAS's default of one thread per core made the
    memory task's two trainings take 95 s instead of 9 s in a build on 2 cores, one of them
    busy (measured). NumPy reads the thread count when it loads, hence a fresh process.
    """
    code = (f"import json, sys, {demo}; "
            f"json.dump({demo}.main(**json.loads(sys.argv[1])), sys.stdout)")
    env = {**os.environ,
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-c", code, json.dumps(settings)], cwd=EXAMPLES, env=env,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{demo}.main({settings}) failed:\n{run.stderr}")
    return json.loads(run.stdout)


def _smooth(values, window=20):
    """Trailing mean over the last ``window`` values (fewer at the start)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])  # (len + 1,)
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (cumulative[ends] - cumulative[starts]) / (ends - starts)


def plot_memory_training(iterations=400, forget_biases=(3.0, 1.0), eval_every=25):
    """``memory_task.main`` for each forget bias: training loss and held-out accuracy."""
    import matplotlib.pyplot as plt

    fig, (loss_ax, accuracy_ax) = plt.subplots(1, 2, figsize=(7.6, 3.2))
    for j, forget_bias in enumerate(forget_biases):
        result = _main_on_one_thread("memory_task", iterations=iterations, forget_bias=forget_bias,
                                     eval_every=eval_every)
        label, steps = f"forget bias {forget_bias:g}", np.arange(1, iterations + 1)
        loss_ax.plot(steps, result["losses"], color=f"C{j}", alpha=0.25, lw=0.8)
        loss_ax.plot(steps, _smooth(result["losses"]), color=f"C{j}", label=label)
        done, _, held_out = zip(*result["curve"])
        accuracy_ax.plot(done, held_out, "-o", color=f"C{j}", ms=3,
                         label=f"{label}: final {result['accuracy']:.0%}")
    loss_ax.axhline(np.log(memory_task.SYMBOLS), color="0.5", ls=":", label="chance ($\\ln 4$)")
    loss_ax.set(xlabel="iteration", ylabel="training loss (cross-entropy)", yscale="log")
    loss_ax.legend(fontsize="small")
    accuracy_ax.axhline(result["chance"], color="0.5", ls=":", label="chance")
    accuracy_ax.set(xlabel="iteration", ylabel="held-out accuracy", ylim=(0, 1.05))
    # between the curves
    accuracy_ax.legend(fontsize="small", loc="center right", bbox_to_anchor=(1, 0.42))
    fig.tight_layout()


def plot_classify_training(**settings):
    """``classify.main(**settings)``: training loss per iteration, raw and smoothed."""
    import matplotlib.pyplot as plt

    result = _main_on_one_thread("classify", **settings)
    steps = np.arange(1, len(result["losses"]) + 1)
    fig, ax = plt.subplots(figsize=(6.4, 3.0))
    ax.plot(steps, result["losses"], color="C0", alpha=0.3, lw=0.8, label="one batch")
    ax.plot(steps, _smooth(result["losses"]), color="C0", label="mean of the last 20")
    ax.axhline(np.log(len(classify.CLASSES)), color="0.5", ls=":", label="chance ($\\ln 4$)")
    ax.set(xlabel="iteration", ylabel="training loss (cross-entropy)", yscale="log",
           title=f"test accuracy {result['accuracy']:.1%} (chance {result['chance']:.0%})")
    ax.legend(fontsize="small")
