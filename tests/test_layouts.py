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
from problems import problem
from strategies import sizes

import lstm_reference as lr

FRAMEWORKS = ["pytorch", "keras", "onnx", "flax", "tensorflow1"]
FORGET_BIAS = 0.75  # TensorFlow 1's run-time constant; not its default 1.0, to see it is used
OPTIONS = {"tensorflow1": {"forget_bias": FORGET_BIAS}}  # the keywords each framework needs


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


def tensorflow1_step(p, x, c, h):  # [x, h] @ kernel + bias, gates i, j, f, o; f + forget_bias
    i, j, f, o = np.split(np.concatenate([x, h], axis=1) @ p["kernel"] + p["bias"], 4, axis=1)
    return cell(i, f + FORGET_BIAS, j, o, c)


STEPS = {"pytorch": pytorch_step, "keras": keras_step, "onnx": onnx_step, "flax": flax_step,
         "tensorflow1": tensorflow1_step}




def run(step, params, X, c, h):
    H = []
    for x in X:
        c, h = step(params, x, c, h)
        H.append(h)
    return np.stack(H), c, h


def random_params(framework, input_size, d, rng):
    """The framework's arrays filled with random numbers: every bias copy nonzero."""
    template = lr.to_layout(np.zeros((1 + input_size + d, 4 * d)), framework,
                            **OPTIONS.get(framework, {}))

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
    X, W, c0, h0, *_ = problem(n, b, input_size, d, seed)
    params = lr.to_layout(W, framework, **OPTIONS.get(framework, {}))
    assert_close(lr.forward(X, W, c0, h0)[:3], run(STEPS[framework], params, X, c0, h0))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@settings(max_examples=30, deadline=None)
@given(sizes)
def test_from_layout_computes_what_the_framework_computes(framework, args):
    n, b, input_size, d, seed = args
    X, _, c0, h0, *_ = problem(n, b, input_size, d, seed)
    params = random_params(framework, input_size, d, np.random.default_rng(seed))
    W = lr.from_layout(params, framework, **OPTIONS.get(framework, {}))
    assert_close(lr.forward(X, W, c0, h0)[:3], run(STEPS[framework], params, X, c0, h0))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_is_exact_and_keeps_the_dtype(framework, dtype):
    W = problem(1, 1, 3, 2, seed=1).W.astype(dtype)
    W[0] = np.round(W[0] * 4) / 4  # f bias -/+ forget_bias exact in float32 too
    before = W.copy()
    params = lr.to_layout(W, framework, **OPTIONS.get(framework, {}))
    back = lr.from_layout(params, framework, **OPTIONS.get(framework, {}))
    assert back.dtype == dtype and np.array_equal(back, W)
    assert np.array_equal(W, before)  # nothing modified


def test_names_shapes_and_order_as_the_issue_states():
    W = lr.init_weights(3, 2, rng=0)
    shapes = {fw: {k: getattr(v, "shape", None)
                   for k, v in lr.to_layout(W, fw, **OPTIONS.get(fw, {})).items()}
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
    assert shapes["tensorflow1"] == {"kernel": (5, 8), "bias": (8,)}
    assert set(lr.LAYOUTS) >= set(FRAMEWORKS)


def test_second_bias_is_zeros_and_is_summed_back():
    W = problem(1, 1, 3, 2, seed=2).W
    torch_params, onnx_params = lr.to_layout(W, "pytorch"), lr.to_layout(W, "onnx")
    assert not torch_params["bias_hh_l0"].any() and not onnx_params["B"][0, 8:].any()
    torch_params["bias_hh_l0"] = np.arange(8.0)
    assert np.array_equal(lr.from_layout(torch_params, "pytorch")[0],
                          W[0] + np.arange(8.0)[[0, 1, 2, 3, 6, 7, 4, 5]])  # i f g o -> i f o g


def test_pytorch_wrappers_are_the_table():
    W = problem(1, 1, 4, 3, seed=3).W
    table = lr.to_layout(W, "pytorch")
    for a, b in zip(lr.to_pytorch_layout(W), table.values()):
        assert np.array_equal(a, b)
    assert np.array_equal(lr.from_pytorch_layout(*table.values()), W)


@pytest.mark.parametrize("framework", sorted(lr.LAYOUTS))
def test_every_framework_holds_every_number_once(framework):
    held = [(part, g) for _, holds, gates, _, _ in lr.LAYOUTS[framework]["arrays"]
            for parts in holds.split(", ") for part in parts.split("; ") for g in gates]
    for part in ("W_x", "W_h"):
        assert sorted(g for p, g in held if p == part) == sorted("ifog")
    assert set(g for p, g in held if p == "b") == set("ifog")


# --- find_gate_order ----------------------------------------------------------------------------


def test_find_gate_order_finds_every_order():
    X, W, c0, h0, *_ = problem(3, 2, 3, 2, seed=4)
    H = lr.forward(X, W, c0, h0)[0]
    blocks = dict(zip("ifog", np.split(W, 4, axis=1)))
    for order in map("".join, itertools.permutations("ifog")):
        W_scrambled = np.concatenate([blocks[g] for g in order], axis=1)
        assert lr.find_gate_order(W_scrambled, X, H, c0, h0) == order


def test_find_gate_order_none_when_nothing_fits_and_float32_outputs():
    X, W, c0, h0, *_ = problem(3, 2, 3, 2, seed=5)
    H = lr.forward(X, W, c0, h0)[0]
    assert lr.find_gate_order(W, X, H + 0.01, c0, h0) is None
    assert lr.find_gate_order(W, X, H, h0, c0) is None  # the states swapped: (h, c) for (c, h)
    assert lr.find_gate_order(W, X, H.astype(np.float32), c0, h0) == "ifog"


def test_find_gate_order_rejects_a_wrong_H():
    X, W, c0, h0, *_ = problem(3, 2, 3, 2, seed=6)
    with pytest.raises(ValueError, match=r"H must have shape .*\(3, 2, 2\); got \(2, 3, 2\)"):
        lr.find_gate_order(W, X, np.zeros((2, 3, 2)))


# --- Bad input ----------------------------------------------------------------------------------


def good(framework):
    return lr.to_layout(lr.init_weights(3, 2, rng=0), framework, **OPTIONS.get(framework, {}))


@pytest.mark.parametrize("call", [lambda: lr.to_layout(np.zeros((6, 8)), "tensorflow"),
                                  lambda: lr.from_layout({}, "PyTorch"),
                                  lambda: lr.from_layout({}, None)])
def test_unknown_framework_lists_the_known_ones(call):
    with pytest.raises(ValueError, match="'pytorch', 'keras', 'onnx', 'flax', 'tensorflow1'"):
        call()


# Each message names the array that is wrong, and the shape the *other* arrays say it should
# have (I = 3, d = 2 here): a size read off the wrong array itself stays a letter.
BAD = [
    ("pytorch", lambda p: p.pop("bias_hh_l0"),
     r"params for 'pytorch' must have exactly the names weight_ih_l0 \(4d, I\), .*"
     r"missing: \['bias_hh_l0'\]"),
    ("keras", lambda p: p.update(bias_2=np.zeros(8)),
     r"params for 'keras' .*unknown: \['bias_2'\]"),
    ("keras", lambda p: p.update(kernel=p["kernel"].T),
     r"params\['kernel'\] must have shape \(I, 4d\) = \(I, 8\); got \(8, 3\), stored transposed"),
    ("pytorch", lambda p: p.update(weight_ih_l0=p["weight_ih_l0"].T),
     r"params\['weight_ih_l0'\] must have shape \(4d, I\) = \(8, I\); got \(3, 8\), "
     r"stored transposed"),
    ("pytorch", lambda p: p.update(weight_hh_l0=np.zeros((8, 3))),
     r"params\['weight_hh_l0'\] must have shape \(4d, d\) = \(8, 2\); got \(8, 3\)$"),
    ("pytorch", lambda p: p.update(weight_hh_l0=np.zeros((12, 3))),
     r"params\['weight_hh_l0'\] must have shape \(4d, d\) = \(8, 2\); got \(12, 3\)$"),
    ("pytorch", lambda p: p.update(bias_ih_l0=np.zeros(6)),
     r"params\['bias_ih_l0'\] must have shape \(4d,\) = \(8,\); got \(6,\)"),
    ("onnx", lambda p: p.update(B=p["B"][0]),
     r"params\['B'\] must have shape \(D, 8d\) = \(1, 16\) \(D = num_directions, 1 or 2\); "
     r"got \(16,\)"),
    ("onnx", lambda p: p.update(R=np.zeros((8, 2))),
     r"params\['R'\] must have shape \(D, 4d, d\) = \(1, 8, 2\) .*; got \(8, 2\)"),
    ("onnx", lambda p: p.update(R=np.zeros((1, 8, 3))),
     r"params\['R'\] must have shape \(D, 4d, d\) = \(1, 8, 2\) .*; got \(1, 8, 3\)"),
    ("onnx", lambda p: p.update(W=np.zeros((2, 8, 3))),
     r"params\['W'\] must have shape \(D, 4d, I\) = \(1, 8, I\) .*; got \(2, 8, 3\)"),
    ("onnx", lambda p: p.update(R=np.zeros((3, 8, 2))),
     r"params\['R'\] must have shape \(D, 4d, d\) = \(1, 8, 2\) .*; got \(3, 8, 2\)"),
    ("flax", lambda p: p["hg"].pop("bias"), r"missing: \['hg/bias'\]"),
    ("flax", lambda p: p["io"].update(bias=np.zeros(2)), r"unknown: \['io/bias'\]"),
    ("flax", lambda p: p.update(extra={}), r"unknown: \['extra'\]"),
    ("flax", lambda p: p["ho"].update(kernel=np.zeros((2, 3))),
     r"params\['ho/kernel'\] must have shape \(d, d\) = \(2, 2\); got \(2, 3\)"),
    ("tensorflow1", lambda p: p.update(kernel=p["kernel"][:, :6]),
     r"params\['kernel'\] must have shape \(I \+ d, 4d\) = \(I \+ d, 8\); got \(5, 6\)"),
    ("tensorflow1", lambda p: p.update(kernel=p["kernel"][:2]),
     r"params\['kernel'\] must have shape \(I \+ d, 4d\) = \(I \+ d, 8\); got \(2, 8\)"),
    ("keras", lambda p: p.update(bias=np.zeros(8, dtype=complex)), r"params\['bias'\] must hold"),
]


@pytest.mark.parametrize("framework, tamper, message", BAD)
def test_from_layout_names_the_key_and_the_shape(framework, tamper, message):
    params = good(framework)
    tamper(params)
    error = TypeError if "must hold" in message else ValueError
    with pytest.raises(error, match=message):
        lr.from_layout(params, framework, **OPTIONS.get(framework, {}))


def test_from_layout_wants_a_dict_and_to_layout_a_fused_W():
    with pytest.raises(TypeError, match="params must be a dict"):
        lr.from_layout([np.zeros((3, 8))], "keras")
    with pytest.raises(ValueError, match="W must have shape"):
        lr.to_layout(np.zeros((8, 3)), "keras")


def test_an_empty_dict_in_a_flax_tree_is_not_a_missing_array():
    params = good("flax")
    params["hg"] = {}
    with pytest.raises(ValueError, match=r"unknown: \['hg'\], missing: \['hg/kernel', 'hg/bias'\]"):
        lr.from_layout(params, "flax")


# --- Whole checkpoints: every layer and direction -----------------------------------------------


def stack_of_weights(layers=3, input_size=3, d=2, seed=7):
    """W for each (layer, reverse), as in a bidirectional stack: layer l > 0 reads 2d inputs."""
    rng = np.random.default_rng(seed)
    return {(layer, reverse): rng.standard_normal((1 + (input_size if layer == 0 else 2 * d) + d,
                                                   4 * d))
            for layer in range(layers) for reverse in (False, True)}


def test_pytorch_state_dict_of_every_layer_and_direction_reads_back_each():
    weights = stack_of_weights()
    state_dict = {}
    for (layer, reverse), W in weights.items():
        state_dict.update(lr.to_layout(W, "pytorch", layer=layer, reverse=reverse))
    # the names torch.nn.LSTM(3, 2, num_layers=3, bidirectional=True).state_dict() has
    assert sorted(state_dict) == sorted(f"{kind}_l{layer}{suffix}"
                                        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
                                        for layer in range(3) for suffix in ("", "_reverse"))
    for (layer, reverse), W in weights.items():
        assert np.array_equal(lr.from_layout(state_dict, "pytorch", layer=np.int64(layer),
                                             reverse=reverse), W)


def test_onnx_bidirectional_arrays_are_two_directions_concatenated():
    W_forward, W_backward = stack_of_weights(layers=1).values()
    one, other = lr.to_layout(W_forward, "onnx"), lr.to_layout(W_backward, "onnx")
    both = {name: np.concatenate([one[name], other[name]]) for name in one}  # (2, ...)
    assert both["W"].shape == (2, 8, 3) and both["B"].shape == (2, 16)
    assert np.array_equal(lr.from_layout(both, "onnx"), W_forward)
    assert np.array_equal(lr.from_layout(both, "onnx", reverse=True), W_backward)
    with pytest.raises(ValueError, match="reverse=True .* num_directions 1"):
        lr.from_layout(one, "onnx", reverse=True)
    with pytest.raises(ValueError, match=r"params\['R'\] must have shape .* = \(2, 8, 2\)"):
        lr.from_layout({**both, "R": one["R"]}, "onnx")  # directions disagree


def test_onnx_peepholes_are_read_only_when_zero_and_attributes_are_refused():
    params = good("onnx")
    W = lr.from_layout(params, "onnx")
    assert np.array_equal(lr.from_layout({**params, "P": np.zeros((1, 6))}, "onnx"), W)
    with pytest.raises(ValueError, match="params has 'P', peephole weights"):
        lr.from_layout({**params, "P": np.ones((1, 6))}, "onnx")
    for attribute, words in [("clip", "clip"), ("activations", "activations"),
                             ("input_forget", "coupled"), ("layout", "transpose"),
                             ("direction", "flip")]:
        with pytest.raises(ValueError, match=f"params has '{attribute}', .*{words}"):
            lr.from_layout({**params, attribute: 1}, "onnx")


def test_pytorch_keys_that_are_not_a_layer_or_direction_are_errors_naming_them():
    state_dict = good("pytorch")
    with pytest.raises(ValueError, match=r"params has 'lstm.weight_ih_l0': strip the prefix "
                                         r"'lstm.'"):
        lr.from_layout({f"lstm.{k}": v for k, v in state_dict.items()}, "pytorch")
    with pytest.raises(ValueError, match=r"params has 'model.lstm.weight_ih_l1_reverse': strip "
                                         r"the prefix 'model.lstm.'"):
        lr.from_layout({f"model.lstm.{k}_reverse".replace("l0", "l1"): v
                        for k, v in state_dict.items()}, "pytorch")
    with pytest.raises(ValueError, match="'weight_hr_l0'.*proj_size"):
        lr.from_layout({**state_dict, "weight_hr_l0": np.zeros((1, 2))}, "pytorch")
    for key in ("weight_ih_l01", "weight_ih_l0_backward", "weight_xx_l1", "fc.weight"):
        with pytest.raises(ValueError, match=rf"unknown: \['{key}'\]"):
            lr.from_layout({**state_dict, key: np.zeros(8)}, "pytorch")
    with pytest.raises(ValueError, match=r"missing: \['weight_ih_l1', 'weight_hh_l1'"):
        lr.from_layout(state_dict, "pytorch", layer=1)
    with pytest.raises(ValueError, match=r"missing: \['weight_ih_l0_reverse'"):
        lr.from_layout(state_dict, "pytorch", reverse=True)


@pytest.mark.parametrize("framework", ["keras", "flax", "tensorflow1"])
@pytest.mark.parametrize("keywords", [{"layer": 1}, {"reverse": True}])
def test_one_layer_frameworks_refuse_layer_and_reverse(framework, keywords):
    options = OPTIONS.get(framework, {})
    message = rf"{list(keywords)[0]} must be .* own weights"
    with pytest.raises(ValueError, match=message):
        lr.to_layout(lr.init_weights(3, 2, rng=0), framework, **keywords, **options)
    with pytest.raises(ValueError, match=message):
        lr.from_layout(good(framework), framework, **keywords, **options)


def test_onnx_refuses_a_layer_and_writes_one_direction():
    W = lr.init_weights(3, 2, rng=0)
    with pytest.raises(ValueError, match="layer must be 0 for 'onnx'"):
        lr.from_layout(good("onnx"), "onnx", layer=1)
    with pytest.raises(ValueError, match="layer must be 0 for 'onnx'"):
        lr.to_layout(W, "onnx", layer=1)
    with pytest.raises(ValueError, match=r"reverse must be False .*np.concatenate"):
        lr.to_layout(W, "onnx", reverse=True)


@pytest.mark.parametrize("keywords, error, message", [
    ({"layer": True}, TypeError, "layer must be an integer; got bool"),
    ({"layer": 1.0}, TypeError, "layer must be an integer; got float"),
    ({"layer": None}, TypeError, "layer must be an integer; got NoneType"),
    ({"layer": -1}, ValueError, "layer must be at least 0; got -1"),
    ({"reverse": 1}, TypeError, "reverse must be True or False; got int"),
    ({"reverse": None}, TypeError, "reverse must be True or False; got NoneType"),
    ({"reverse": "yes"}, TypeError, "reverse must be True or False; got str"),
])
@pytest.mark.parametrize("function", ["to_layout", "from_layout"])
def test_layer_and_reverse_are_checked(function, keywords, error, message):
    argument = lr.init_weights(3, 2, rng=0) if function == "to_layout" else good("pytorch")
    with pytest.raises(error, match=message):
        getattr(lr, function)(argument, "pytorch", **keywords)


@pytest.mark.parametrize("framework", ["pytorch", "keras", "onnx", "flax"])
def test_forget_bias_is_refused_by_every_framework_but_tensorflow1(framework):
    with pytest.raises(TypeError, match=f"forget_bias is for 'tensorflow1' only; '{framework}'"):
        lr.to_layout(lr.init_weights(3, 2, rng=0), framework, forget_bias=1.0)
    with pytest.raises(TypeError, match=f"forget_bias is for 'tensorflow1' only; '{framework}'"):
        lr.from_layout(good(framework), framework, forget_bias=0.0)


def test_tensorflow1_needs_forget_bias_and_folds_it_into_the_f_bias():
    W = lr.init_weights(3, 2, rng=0)  # b_f = 3
    with pytest.raises(TypeError, match="forget_bias must be given for 'tensorflow1'"):
        lr.to_layout(W, "tensorflow1")
    with pytest.raises(TypeError, match="forget_bias must be given for 'tensorflow1'"):
        lr.from_layout(good("tensorflow1"), "tensorflow1")
    with pytest.raises(TypeError, match="forget_bias must be a real number"):
        lr.to_layout(W, "tensorflow1", forget_bias="1.0")
    stored = lr.to_layout(W, "tensorflow1", forget_bias=1.0)
    assert stored["bias"].tolist() == [0, 0, 0, 0, 2, 2, 0, 0]  # i, j, f, o: 3 - 1 on f
    assert lr.from_layout(stored, "tensorflow1", forget_bias=0.0)[0].tolist() == [
        0, 0, 2, 2, 0, 0, 0, 0]  # read as stored: our i, f, o, g with f one smaller
    assert np.array_equal(lr.from_layout(stored, "tensorflow1", forget_bias=1.0), W)


# --- find_gate_order on padded outputs ----------------------------------------------------------


def test_find_gate_order_compares_only_each_sequences_own_steps():
    X, W, c0, h0, *_ = problem(5, 3, 3, 2, seed=8)
    lengths = np.array([5, 0, 2])
    H = lr.forward(X, W, c0, h0, lengths=lengths)[0]
    H_keras = H.copy()  # Keras repeats the last output at padded steps
    H_keras[2:, 2] = H[1, 2]
    H_keras[:, 1] = H_keras[0, 0]  # a sequence of no step: anything
    blocks = dict(zip("ifog", np.split(W, 4, axis=1)))
    W_keras = np.concatenate([blocks[g] for g in "ifgo"], axis=1)
    assert lr.find_gate_order(W_keras, X, H_keras, c0, h0) is None  # padding compared: no fit
    H_keras[:, 1] = np.nan
    assert lr.find_gate_order(W_keras, X, H_keras, c0, h0, lengths=lengths) == "ifgo"
    assert lr.find_gate_order(W_keras, X, H_keras + 0.01, c0, h0, lengths=lengths) is None
    H_keras[0, 2] = np.inf
    with pytest.raises(ValueError, match="H contains NaN or inf at a step of a sequence"):
        lr.find_gate_order(W_keras, X, H_keras, c0, h0, lengths=lengths)
