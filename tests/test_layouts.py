"""Tests of the framework layouts in NumPy alone: to_layout, from_layout, find_gate_order.

The oracle here is each framework's own equations, written out below by hand from its
documentation and source, sharing no code with ``LAYOUTS``: a step computed from the converted
arrays the way the framework computes it must equal our step. tests/test_frameworks.py then
checks the same arrays in the frameworks themselves.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from strategies import sizes

import lstm_reference as lr

FRAMEWORKS = ["pytorch", "keras", "onnx", "flax"]


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cell(i, f, g, o, c):
    """The four pre-activations, named by their meaning, to the new (c, h)."""
    c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    return c, sigmoid(o) * np.tanh(c)


# --- Each framework's step, written from its own equations ------------------------------------


def pytorch_step(p, x, c, h):  # W_ih x + b_ih + W_hh h + b_hh, gates i, f, g, o
    z = x @ p["weight_ih_l0"].T + p["bias_ih_l0"] + h @ p["weight_hh_l0"].T + p["bias_hh_l0"]
    i, f, g, o = np.split(z, 4, axis=1)
    return cell(i, f, g, o, c)


def keras_step(p, x, c, h):  # x K + h R + b, gates i, f, c, o
    i, f, g, o = np.split(x @ p["kernel"] + h @ p["recurrent_kernel"] + p["bias"], 4, axis=1)
    return cell(i, f, g, o, c)


def onnx_step(p, x, c, h):  # x W^T + h R^T + Wb + Rb, gates i, o, f, c
    Wb, Rb = np.split(p["B"][0], 2)
    z = x @ p["W"][0].T + h @ p["R"][0].T + Wb + Rb
    i, o, f, g = np.split(z, 4, axis=1)
    return cell(i, f, g, o, c)


def flax_step(p, x, c, h):  # per gate: x @ i?.kernel + h @ h?.kernel + h?.bias
    z = {g: x @ p[f"i{g}"]["kernel"] + h @ p[f"h{g}"]["kernel"] + p[f"h{g}"]["bias"]
         for g in "ifgo"}
    return cell(z["i"], z["f"], z["g"], z["o"], c)


STEPS = {"pytorch": pytorch_step, "keras": keras_step, "onnx": onnx_step, "flax": flax_step}


def problem(n, b, input_size, d, seed):
    rng = np.random.default_rng(seed)
    W = lr.init_weights(input_size, d, rng=rng)
    W[0] += rng.standard_normal(4 * d)
    X = rng.standard_normal((n, b, input_size))
    c0, h0 = rng.standard_normal((2, b, d))
    return W, X, c0, h0


def run(step, params, X, c, h):
    H = []
    for x in X:
        c, h = step(params, x, c, h)
        H.append(h)
    return np.stack(H), c, h


def random_params(framework, input_size, d, rng):
    """The framework's arrays filled with random numbers: every bias copy nonzero."""
    template = lr.to_layout(np.zeros((1 + input_size + d, 4 * d)), framework)

    def fill(node):
        return {k: fill(v) if isinstance(v, dict) else rng.standard_normal(v.shape) / 2
                for k, v in node.items()}
    return fill(template)


def assert_close(ours, theirs, atol=1e-13):
    for name, a, b in zip(("H", "c", "h"), ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol, err_msg=name)


# --- Conversions --------------------------------------------------------------------------------


@pytest.mark.parametrize("framework", FRAMEWORKS)
@settings(max_examples=30, deadline=None)
@given(sizes)
def test_to_layout_computes_what_we_compute(framework, args):
    n, b, input_size, d, seed = args
    W, X, c0, h0 = problem(n, b, input_size, d, seed)
    params = lr.to_layout(W, framework)
    assert_close(lr.forward(X, W, c0, h0)[:3], run(STEPS[framework], params, X, c0, h0))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@settings(max_examples=30, deadline=None)
@given(sizes)
def test_from_layout_computes_what_the_framework_computes(framework, args):
    n, b, input_size, d, seed = args
    _, X, c0, h0 = problem(n, b, input_size, d, seed)
    params = random_params(framework, input_size, d, np.random.default_rng(seed))
    W = lr.from_layout(params, framework)
    assert_close(lr.forward(X, W, c0, h0)[:3], run(STEPS[framework], params, X, c0, h0))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_exact_and_keeps_the_dtype(framework, dtype):
    W = problem(1, 1, 3, 2, seed=1)[0].astype(dtype)
    before = W.copy()
    params = lr.to_layout(W, framework)
    back = lr.from_layout(params, framework)
    assert back.dtype == dtype and np.array_equal(back, W)
    assert np.array_equal(W, before)  # nothing modified


def test_names_shapes_and_order_as_the_issue_states():
    W = lr.init_weights(3, 2, rng=0)
    shapes = {fw: {k: getattr(v, "shape", None) for k, v in lr.to_layout(W, fw).items()}
              for fw in FRAMEWORKS}
    assert shapes["pytorch"] == {"weight_ih_l0": (8, 3), "weight_hh_l0": (8, 2),
                                 "bias_ih_l0": (8,), "bias_hh_l0": (8,)}
    assert list(shapes["keras"].items()) == [("kernel", (3, 8)), ("recurrent_kernel", (2, 8)),
                                             ("bias", (8,))]
    assert shapes["onnx"] == {"W": (1, 8, 3), "R": (1, 8, 2), "B": (1, 16)}
    flax = lr.to_layout(W, "flax")
    assert {k: {n: a.shape for n, a in v.items()} for k, v in flax.items()} == {
        **{f"i{g}": {"kernel": (3, 2)} for g in "ifgo"},
        **{f"h{g}": {"kernel": (2, 2), "bias": (2,)} for g in "ifgo"}}
    assert set(lr.LAYOUTS) >= set(FRAMEWORKS)


def test_second_bias_is_zeros_and_is_summed_back():
    W = problem(1, 1, 3, 2, seed=2)[0]
    torch_params, onnx_params = lr.to_layout(W, "pytorch"), lr.to_layout(W, "onnx")
    assert not torch_params["bias_hh_l0"].any() and not onnx_params["B"][0, 8:].any()
    torch_params["bias_hh_l0"] = np.arange(8.0)
    assert np.array_equal(lr.from_layout(torch_params, "pytorch")[0],
                          W[0] + np.arange(8.0)[[0, 1, 2, 3, 6, 7, 4, 5]])  # i f g o -> i f o g


def test_pytorch_wrappers_are_the_table():
    W = problem(1, 1, 4, 3, seed=3)[0]
    table = lr.to_layout(W, "pytorch")
    for a, b in zip(lr.to_pytorch_layout(W), table.values()):
        assert np.array_equal(a, b)
    assert np.array_equal(lr.from_pytorch_layout(*table.values()), W)


@pytest.mark.parametrize("framework", sorted(lr.LAYOUTS))
def test_every_framework_holds_every_number_once(framework):
    held = [(part, g) for _, holds, gates, _, _ in lr.LAYOUTS[framework]["arrays"]
            for part in holds.split(", ") for g in gates]
    for part in ("W_x", "W_h"):
        assert sorted(g for p, g in held if p == part) == sorted("ifog")
    assert set(g for p, g in held if p == "b") == set("ifog")


# --- find_gate_order ----------------------------------------------------------------------------


def test_find_gate_order_finds_every_order():
    W, X, c0, h0 = problem(3, 2, 3, 2, seed=4)
    H = lr.forward(X, W, c0, h0)[0]
    blocks = dict(zip("ifog", np.split(W, 4, axis=1)))
    for order in map("".join, itertools.permutations("ifog")):
        W_scrambled = np.concatenate([blocks[g] for g in order], axis=1)
        assert lr.find_gate_order(W_scrambled, X, H, c0, h0) == order


def test_find_gate_order_none_when_nothing_fits_and_float32_outputs():
    W, X, c0, h0 = problem(3, 2, 3, 2, seed=5)
    H = lr.forward(X, W, c0, h0)[0]
    assert lr.find_gate_order(W, X, H + 0.01, c0, h0) is None
    assert lr.find_gate_order(W, X, H, h0, c0) is None  # the states swapped: (h, c) for (c, h)
    assert lr.find_gate_order(W, X, H.astype(np.float32), c0, h0) == "ifog"


def test_find_gate_order_rejects_a_wrong_H():
    W, X, c0, h0 = problem(3, 2, 3, 2, seed=6)
    with pytest.raises(ValueError, match=r"H must have shape .*\(3, 2, 2\); got \(2, 3, 2\)"):
        lr.find_gate_order(W, X, np.zeros((2, 3, 2)))


# --- Bad input ----------------------------------------------------------------------------------


def good(framework):
    return lr.to_layout(lr.init_weights(3, 2, rng=0), framework)


@pytest.mark.parametrize("call", [lambda: lr.to_layout(np.zeros((6, 8)), "tensorflow"),
                                  lambda: lr.from_layout({}, "PyTorch"),
                                  lambda: lr.from_layout({}, None)])
def test_unknown_framework_lists_the_known_ones(call):
    with pytest.raises(ValueError, match="'pytorch', 'keras', 'onnx', 'flax'"):
        call()


BAD = [
    ("pytorch", lambda p: p.pop("bias_hh_l0"),
     r"params for 'pytorch' must have exactly the names weight_ih_l0 \(4d, I\), .*"
     r"missing: \['bias_hh_l0'\]"),
    ("keras", lambda p: p.update(bias_2=np.zeros(8)),
     r"params for 'keras' .*unknown: \['bias_2'\]"),
    ("keras", lambda p: p.update(kernel=p["kernel"].T),
     r"params\['kernel'\] must have shape \(I, 4d\) = \(8, 8\); got \(8, 3\)"),
    ("pytorch", lambda p: p.update(weight_hh_l0=np.zeros((8, 3))),
     r"params\['weight_ih_l0'\] must have shape \(4d, I\) = \(12, 3\); got \(8, 3\)"),
    ("pytorch", lambda p: p.update(bias_ih_l0=np.zeros(6)),
     r"params\['bias_ih_l0'\] must have shape \(4d,\) = \(8,\); got \(6,\)"),
    ("onnx", lambda p: p.update(B=p["B"][0]),
     r"params\['B'\] must have shape \(1, 8d\) = \(1, 16\); got \(16,\)"),
    ("onnx", lambda p: p.update(R=np.zeros((8, 2))),
     r"params\['R'\] must have shape \(1, 4d, d\) with I, d >= 1; got \(8, 2\)"),
    ("flax", lambda p: p["hg"].pop("bias"), r"missing: \['hg/bias'\]"),
    ("flax", lambda p: p["io"].update(bias=np.zeros(2)), r"unknown: \['io/bias'\]"),
    ("flax", lambda p: p["ho"].update(kernel=np.zeros((2, 3))),
     r"params\['ho/kernel'\] must have shape \(d, d\) = \(2, 2\); got \(2, 3\)"),
    ("keras", lambda p: p.update(bias=np.zeros(8, dtype=complex)), r"params\['bias'\] must hold"),
]


@pytest.mark.parametrize("framework, tamper, message", BAD)
def test_from_layout_names_the_key_and_the_shape(framework, tamper, message):
    params = good(framework)
    tamper(params)
    error = TypeError if "must hold" in message else ValueError
    with pytest.raises(error, match=message):
        lr.from_layout(params, framework)


def test_from_layout_wants_a_dict_and_to_layout_a_fused_W():
    with pytest.raises(TypeError, match="params must be a dict"):
        lr.from_layout([np.zeros((3, 8))], "keras")
    with pytest.raises(ValueError, match="W must have shape"):
        lr.to_layout(np.zeros((8, 3)), "keras")
