"""The table of framework layouts on the conversions page, rendered from ``lr.LAYOUTS``.

conf.py calls :func:`write` at build time and conversions.md ``{include}``-s the result, so the
page shows exactly the table that ``to_layout`` and ``from_layout`` read. The frameworks that are
documented but not tested here (no ``to_layout`` for them: MXNet, cuDNN) are rows of the same
form below.
"""

from pathlib import Path

import lstm_reference as lr

NAMES = {
    "pytorch": "PyTorch `nn.LSTM` (`state_dict`)",
    "keras": "Keras 3 `LSTM` (`get_weights()`)",
    "onnx": "ONNX `LSTM` operator",
    "flax": "Flax `LSTMCell`, `OptimizedLSTMCell`",
    "tensorflow1": "TensorFlow 1 `LSTMCell`, `BasicLSTMCell`, `LSTMBlockCell`",
}

# Documented, not tested here: (framework, state, arrays) with arrays as in LAYOUTS.
# "W_x; W_h" is the two stacked as rows, input rows first ([x, h] @ kernel).
UNTESTED = [
    ("MXNet Gluon `rnn.LSTM`", "`[h, c]`",
     (("l0_i2h_weight", "W_x", "ifgo", True, "(4d, I)"),
      ("l0_h2h_weight", "W_h", "ifgo", True, "(4d, d)"),
      ("l0_i2h_bias", "b", "ifgo", False, "(4d,)"),
      ("l0_h2h_bias", "b", "ifgo", False, "(4d,)"))),
    ("cuDNN (`cudnnGetRNNWeightParams`, linear layers 0-7)", "`hx, cx`",
     (("matrices 0-3", "W_x", "ifgo", True, "4 x (d, I)"),
      ("matrices 4-7", "W_h", "ifgo", True, "4 x (d, d)"),
      ("biases 0-3", "b", "ifgo", False, "4 x (d,)"),
      ("biases 4-7", "b", "ifgo", False, "4 x (d,)"))),
]


def _grouped(arrays):
    """Merge per-gate rows (flax) that differ only in name and gate: one line per kind."""
    groups = {}
    for name, holds, gates, transposed, shape in arrays:
        key = (holds, transposed, shape) if len(gates) == 1 else (name,)
        groups.setdefault(key, []).append((name, holds, gates, transposed, shape))
    for rows in groups.values():
        names = ", ".join(f"`{row[0]}`" for row in rows)
        gates = "".join(row[2] for row in rows)
        each = " each" if len(rows) > 1 else ""
        yield names, rows[0][1], gates, rows[0][3], f"`{rows[0][4]}`{each}"


def _holds(holds, count):
    text = {"W_x": "$W_x$", "W_h": "$W_h$", "b": "$b$", "b, b": "$b$, then $b$ again",
            "W_x; W_h": "$W_x$ over $W_h$",
            "b - forget_bias": "$b$, less `forget_bias` in $b_f$"}[holds]
    return text + (" (a second copy: the two are summed)" if count > 1 and holds == "b" else "")


def _forget_bias(framework, arrays):
    """TensorFlow 1's bias row says that it stores ours less ``forget_bias``."""
    if framework != "tensorflow1":
        return arrays
    return tuple((name, "b - forget_bias" if holds == "b" else holds, *rest)
                 for name, holds, *rest in arrays)


def table():
    """The Markdown table, one line per stored array."""
    lines = ["| framework | state | array | shape | holds | gate order | stored as |",
             "|---|---|---|---|---|---|---|"]
    frameworks = [(NAMES[k], f"`{v['state']}`", _forget_bias(k, v["arrays"]))
                  for k, v in lr.LAYOUTS.items()]
    for name, state, arrays in frameworks + [(n + " *(not tested here)*", s, a)
                                             for n, s, a in UNTESTED]:
        seen = {}
        for k, (names, holds, gates, transposed, shape) in enumerate(_grouped(arrays)):
            seen[holds] = seen.get(holds, 0) + 1
            lines.append("| " + " | ".join([
                name if k == 0 else "", state if k == 0 else "", names, shape,
                _holds(holds, seen[holds]), ", ".join(gates),
                "a vector" if holds.startswith("b") else
                "transposed (`W @ x`)" if transposed else "as ours (`x @ W`)"]) + " |")
    return "\n".join(lines) + "\n"


def write(path):
    """Write the table to ``path`` (a Markdown file) if it changed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != table():
        path.write_text(table())
