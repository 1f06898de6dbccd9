"""Agreement with each framework's own LSTM, through ``to_layout`` and ``from_layout``.

Both directions, for every framework in ``LAYOUTS``:

- our weights converted with ``to_layout`` and loaded into the framework give its outputs and
  final states equal to ours;
- the framework's own freshly initialized weights (biases nonzero), read back with
  ``from_layout``, give ours equal to its outputs. ONNX initializes nothing: there, random
  weights made in ONNX's layout, with both halves of ``B`` nonzero, stand in.

Tolerances: float64 to 1e-12 where the framework computes in float64 (PyTorch, Flax with
``jax_enable_x64``, ``onnx.reference``); float32 to 1e-5 (onnxruntime has no float64 LSTM);
Keras 3 on JAX to 1e-6: in Keras 3.15 ``keras.ops.tanh`` of a float64 JAX array returns float32
(its ``result_type(float64, float)`` is float32, even with floatx float64), so its LSTM's outputs
carry float32 round-off, about 2e-7. JAX's own ``jnp.tanh`` agrees with ``np.tanh`` to about
3e-16, hence Flax's 1e-12.

Each framework's tests skip when it is not installed, except in the ``frameworks`` tox
environment, which sets ``LSTM_REFERENCE_REQUIRE_FRAMEWORKS=1``: there a missing framework is a
failure, not a skip.
"""

import importlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from problems import problem

import lstm_reference as lr

os.environ.setdefault("KERAS_BACKEND", "jax")  # before keras is first imported

SHAPES = [  # (n, b, input_size, hidden_size)
    (1, 1, 1, 1),
    (5, 3, 4, 3),
    (4, 2, 8, 2),  # input_size == 4 * hidden_size: a missing transpose would still load
    (9, 4, 6, 5),
]


def need(name):
    """Import a framework; skip if it is missing, unless the frameworks env requires it."""
    if os.environ.get("LSTM_REFERENCE_REQUIRE_FRAMEWORKS") == "1":
        return importlib.import_module(name)
    return pytest.importorskip(name)


def jax_x64():
    """JAX computes in float32 unless told otherwise (Keras on JAX too)."""
    need("jax").config.update("jax_enable_x64", True)




def assert_same(ours, theirs, atol):
    for name, a, b in zip(("H", "c", "h"), ours, theirs):
        np.testing.assert_allclose(np.asarray(b), a, rtol=0, atol=atol, err_msg=name)


# --- PyTorch ----------------------------------------------------------------------------------


def torch_run(lstm, X, c0, h0):
    torch = need("torch")
    with torch.no_grad():
        Ht, (ht, ct) = lstm(torch.from_numpy(X), (torch.from_numpy(h0)[None],
                                                  torch.from_numpy(c0)[None]))  # (h, c)
    return Ht.numpy(), ct[0].numpy(), ht[0].numpy()


@pytest.mark.parametrize("shape", SHAPES)
def test_pytorch_state_dict_from_ours(shape):
    torch = need("torch")
    X, W, c0, h0, *_ = problem(*shape)
    lstm = torch.nn.LSTM(shape[2], shape[3]).double()
    state = {k: torch.from_numpy(v) for k, v in lr.to_layout(W, "pytorch").items()}
    lstm.load_state_dict(state, strict=True)
    H, c, h, _ = lr.forward(X, W, c0, h0)
    assert_same((H, c, h), torch_run(lstm, X, c0, h0), atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
def test_pytorch_fresh_weights_read_back(shape):
    torch = need("torch")
    torch.manual_seed(sum(shape))
    lstm = torch.nn.LSTM(shape[2], shape[3]).double()  # both biases uniform, nonzero
    X, _, c0, h0, *_ = problem(*shape)
    W = lr.from_layout({k: v.numpy() for k, v in lstm.state_dict().items()}, "pytorch")
    H, c, h, _ = lr.forward(X, W, c0, h0)
    assert_same((H, c, h), torch_run(lstm, X, c0, h0), atol=1e-12)


# --- Keras 3 ----------------------------------------------------------------------------------
# Keras is batch-first, its initial state is [h, c], and its outputs are [H, h, c].
# get_weights() converts through np.array(variable, copy=False), which NumPy 2 warns about.
keras_warning = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def keras_layer(input_size, d, **options):
    keras = need("keras")
    if keras.backend.backend() == "jax":
        jax_x64()
    layer = keras.layers.LSTM(d, return_sequences=True, return_state=True, dtype="float64",
                              **options)
    layer.build((None, None, input_size))
    return layer


def keras_run(layer, X, c0, h0):
    Hk, hk, ck = layer(X.transpose(1, 0, 2), initial_state=[h0, c0])
    return np.asarray(Hk).transpose(1, 0, 2), ck, hk


@pytest.mark.parametrize("shape", SHAPES)
def test_keras_from_ours(shape):
    X, W, c0, h0, *_ = problem(*shape)
    layer = keras_layer(shape[2], shape[3])
    params = lr.to_layout(W, "keras")
    assert [w.name for w in layer.weights] == list(params)  # the order of get_weights()
    layer.set_weights(list(params.values()))
    H, c, h, _ = lr.forward(X, W, c0, h0)
    assert_same((H, c, h), keras_run(layer, X, c0, h0), atol=1e-6)


@keras_warning
@pytest.mark.parametrize("shape", SHAPES)
def test_keras_fresh_weights_read_back(shape):
    need("keras").utils.set_random_seed(sum(shape))
    layer = keras_layer(shape[2], shape[3], bias_initializer="random_normal")
    names = [w.name for w in layer.weights]
    W = lr.from_layout(dict(zip(names, layer.get_weights())), "keras")
    X, _, c0, h0, *_ = problem(*shape)
    H, c, h, _ = lr.forward(X, W, c0, h0)
    assert_same((H, c, h), keras_run(layer, X, c0, h0), atol=1e-6)


def test_keras_tanh_of_float64_is_float32_and_jax_tanh_is_not():
    """Why Keras is held to 1e-6 (this file's docstring, the conversions page): its tanh casts.

    If a Keras release keeps float64 here, this fails, and the tolerance and the page can go to
    float64 round-off.
    """
    keras = need("keras")
    if keras.backend.backend() != "jax":
        pytest.skip("the cast is measured on the JAX backend")
    jax_x64()
    jnp = need("jax.numpy")
    x = jnp.asarray(np.linspace(-3, 3, 1001))  # float64
    assert keras.ops.tanh(x).dtype == np.float32
    assert np.abs(np.asarray(jnp.tanh(x)) - np.tanh(np.asarray(x))).max() < 1e-15
    keras_error = np.abs(np.asarray(keras.ops.tanh(x), np.float64) - np.tanh(np.asarray(x))).max()
    assert 1e-9 < keras_error < 1e-6  # float32 round-off: the 2e-7 of the LSTM comparison


# --- ONNX: the reference evaluator (float64) and onnxruntime (float32) -------------------------


def onnx_model(n, b, input_size, d, dtype):
    """An ONNX model of one LSTM operator whose weights and states are all graph inputs."""
    onnx = need("onnx")
    helper, T = onnx.helper, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    shapes = {"X": (n, b, input_size), "W": (1, 4 * d, input_size), "R": (1, 4 * d, d),
              "B": (1, 8 * d), "initial_h": (1, b, d), "initial_c": (1, b, d)}
    outputs = {"Y": (n, 1, b, d), "Y_h": (1, b, d), "Y_c": (1, b, d)}
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "", "initial_h", "initial_c"],
                            list(outputs), hidden_size=d)
    graph = helper.make_graph(
        [node], "lstm",
        [helper.make_tensor_value_info(k, T, s) for k, s in shapes.items()],
        [helper.make_tensor_value_info(k, T, s) for k, s in outputs.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model


def onnx_run(runtime, params, X, c0, h0, dtype):
    shape = (X.shape[0], X.shape[1], X.shape[2], c0.shape[1])
    model = onnx_model(*shape, dtype)
    feeds = {"X": X, "initial_h": h0[None], "initial_c": c0[None], **params}
    feeds = {k: np.asarray(v, dtype=dtype) for k, v in feeds.items()}
    return onnx_evaluate(runtime, model, feeds)


def onnx_evaluate(runtime, model, feeds):
    """Run ``model`` in onnx's reference evaluator or onnxruntime: ``Y, Y_c, Y_h`` ours-shaped."""
    if runtime == "reference":
        Y, Y_h, Y_c = need("onnx.reference").ReferenceEvaluator(model).run(None, feeds)
    else:
        session = need("onnxruntime").InferenceSession(model.SerializeToString(),
                                                        providers=["CPUExecutionProvider"])
        Y, Y_h, Y_c = session.run(None, feeds)
    return Y[:, 0], Y_c[0], Y_h[0]  # Y (n, directions, b, d)


ONNX_RUNTIMES = [("reference", np.float64, 1e-12), ("onnxruntime", np.float32, 1e-5)]


@pytest.mark.parametrize("runtime, dtype, atol", ONNX_RUNTIMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_onnx_from_ours(shape, runtime, dtype, atol):
    X, W, c0, h0 = (a.astype(dtype).astype(np.float64) for a in problem(*shape)[:4])
    H, c, h, _ = lr.forward(X, W, c0, h0)
    theirs = onnx_run(runtime, lr.to_layout(W, "onnx"), X, c0, h0, dtype)
    assert_same((H, c, h), theirs, atol=atol)


@pytest.mark.parametrize("runtime, dtype, atol", ONNX_RUNTIMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_onnx_weights_in_its_layout_read_back(shape, runtime, dtype, atol):
    n, b, input_size, d = shape
    rng = np.random.default_rng(sum(shape))
    params = {"W": rng.standard_normal((1, 4 * d, input_size)) / 2,
              "R": rng.standard_normal((1, 4 * d, d)) / 2,
              "B": rng.standard_normal((1, 8 * d))}  # Wb and Rb both nonzero
    params = {k: v.astype(dtype).astype(np.float64) for k, v in params.items()}
    X, _, c0, h0 = (a.astype(dtype).astype(np.float64) for a in problem(*shape)[:4])
    H, c, h, _ = lr.forward(X, lr.from_layout(params, "onnx"), c0, h0)
    assert_same((H, c, h), onnx_run(runtime, params, X, c0, h0, dtype), atol=atol)


# --- Flax -------------------------------------------------------------------------------------
# flax.linen.RNN(cell) over time-major X; the cell's params are under "cell", its carry is (c, h).

FLAX_CELLS = ["LSTMCell", "OptimizedLSTMCell"]


def flax_rnn(cell, d, **initializers):
    jax_x64()
    nn, jnp = need("flax.linen"), need("jax.numpy")
    cell = getattr(nn, cell)(d, param_dtype=jnp.float64, dtype=jnp.float64, **initializers)
    return nn.RNN(cell, return_carry=True, time_major=True)


def flax_run(rnn, params, X, c0, h0):
    (c, h), H = rnn.apply({"params": {"cell": params}}, X, initial_carry=(c0, h0))
    return H, c, h


@pytest.mark.parametrize("cell", FLAX_CELLS)
@pytest.mark.parametrize("shape", SHAPES)
def test_flax_from_ours(shape, cell):
    X, W, c0, h0, *_ = problem(*shape)
    rnn = flax_rnn(cell, shape[3])
    H, c, h, _ = lr.forward(X, W, c0, h0)
    assert_same((H, c, h), flax_run(rnn, lr.to_layout(W, "flax"), X, c0, h0), atol=1e-12)


@pytest.mark.parametrize("cell", FLAX_CELLS)
@pytest.mark.parametrize("shape", SHAPES)
def test_flax_fresh_weights_read_back(shape, cell):
    jax = need("jax")
    rnn = flax_rnn(cell, shape[3], bias_init=need("flax.linen").initializers.normal(1.0))
    X, _, c0, h0, *_ = problem(*shape)
    params = rnn.init(jax.random.key(sum(shape)), X, initial_carry=(c0, h0))["params"]["cell"]
    assert all(np.abs(params[f"h{g}"]["bias"]).min() > 0 for g in "ifgo")
    H, c, h, _ = lr.forward(X, lr.from_layout(params, "flax"), c0, h0)
    assert_same((H, c, h), flax_run(rnn, params, X, c0, h0), atol=1e-12)


# --- Whole checkpoints: every layer and direction ------------------------------------------------
# A stacked bidirectional LSTM is our forward run per layer and direction, the backward direction
# on each sequence reversed within its length (docs/examples/bidirectional.py); each framework's
# whole checkpoint is read one layer and direction at a time with from_layout(layer=, reverse=).

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "examples"))
import bidirectional  # noqa: E402

BIDIRECTIONAL_LENGTHS = np.array([6, 2, 5, 1])  # n = 6


def torch_stack_run(lstm, X, lengths):
    """torch.nn.LSTM on packed sequences: H (n, b, 2d), h_n, c_n (2 * layers, b, d)."""
    torch = need("torch")
    pack = torch.nn.utils.rnn
    with torch.no_grad():
        packed = pack.pack_padded_sequence(torch.from_numpy(X), torch.tensor(lengths),
                                           enforce_sorted=False)
        out, (h_n, c_n) = lstm(packed)
        H, _ = pack.pad_packed_sequence(out, total_length=len(X))
    return H.numpy(), h_n.numpy(), c_n.numpy()


def assert_stack_same(ours, theirs, atol):
    for name, a, b in zip(("H", "h_n", "c_n"), ours, theirs):
        np.testing.assert_allclose(b, a, rtol=0, atol=atol, err_msg=name)


def test_pytorch_two_layer_bidirectional_state_dict_read_into_ours():
    torch = need("torch")
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()  # biases nonzero
    X = np.random.default_rng(1).standard_normal((6, 4, 3))
    state_dict = {k: v.numpy() for k, v in lstm.state_dict().items()}
    weights = bidirectional.from_state_dict(state_dict, layers=2)
    ours = bidirectional.stack_forward(X, weights, BIDIRECTIONAL_LENGTHS)[:3]
    assert_stack_same(ours, torch_stack_run(lstm, X, BIDIRECTIONAL_LENGTHS), atol=1e-12)


def test_pytorch_two_layer_bidirectional_from_ours_loads_strictly():
    torch = need("torch")
    X, weights, _, *_ = bidirectional.make_problem(n=6, lengths=BIDIRECTIONAL_LENGTHS, seed=2)
    lstm = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    state_dict = bidirectional.to_state_dict(weights)
    lstm.load_state_dict({k: torch.from_numpy(v) for k, v in state_dict.items()}, strict=True)
    ours = bidirectional.stack_forward(X, weights, BIDIRECTIONAL_LENGTHS)[:3]
    assert_stack_same(ours, torch_stack_run(lstm, X, BIDIRECTIONAL_LENGTHS), atol=1e-12)


def onnx_bidirectional_model(dtype, lengths=True):
    """One bidirectional LSTM node; its inputs W, R, B, initial states (and sequence_lens)."""
    onnx = need("onnx")
    helper, T = onnx.helper, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    names = ["X", "W", "R", "B", "sequence_lens" if lengths else "", "initial_h", "initial_c"]
    node = helper.make_node("LSTM", names, ["Y", "Y_h", "Y_c"], hidden_size=3,
                            direction="bidirectional")
    inputs = [helper.make_tensor_value_info(k, T, None) for k in names if k]
    if lengths:
        inputs[4] = helper.make_tensor_value_info("sequence_lens", onnx.TensorProto.INT32, None)
    outputs = [helper.make_tensor_value_info(k, T, None) for k in ("Y", "Y_h", "Y_c")]
    model = helper.make_model(helper.make_graph([node], "bilstm", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    return model


def onnx_bidirectional_run(runtime, params, X, c0, h0, lengths, dtype):
    """``Y (n, 2, b, d), Y_h, Y_c (2, b, d)``; c0, h0 (2, b, d), one per direction."""
    model = onnx_bidirectional_model(dtype, lengths is not None)
    feeds = {"X": X, "initial_h": h0, "initial_c": c0, **params}
    feeds = {k: np.asarray(v, dtype=dtype) for k, v in feeds.items()}
    if lengths is not None:
        feeds["sequence_lens"] = np.asarray(lengths, dtype=np.int32)
    if runtime == "reference":
        return need("onnx.reference").ReferenceEvaluator(model).run(None, feeds)
    session = need("onnxruntime").InferenceSession(model.SerializeToString(),
                                                    providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def ours_bidirectional(X, W_pair, c0, h0, lengths):
    """Both directions as ONNX lays them out: Y (n, 2, b, d), Y_h, Y_c (2, b, d)."""
    lengths = np.full(X.shape[1], len(X)) if lengths is None else lengths
    H_f, c_f, h_f, _ = lr.forward(X, W_pair[0], c0[0], h0[0], lengths=lengths)
    flip = bidirectional.reverse_within_lengths
    H_r, c_r, h_r, _ = lr.forward(flip(X, lengths), W_pair[1], c0[1], h0[1], lengths=lengths)
    return np.stack([H_f, flip(H_r, lengths)], axis=1), np.stack([h_f, h_r]), np.stack([c_f, c_r])


def onnx_bidirectional_problem(dtype, seed=3, n=5, b=4, input_size=2, d=3):
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((2, 4 * d, input_size)) / 2,
              "R": rng.standard_normal((2, 4 * d, d)) / 2,
              "B": rng.standard_normal((2, 8 * d))}  # both directions, both biases nonzero
    X = rng.standard_normal((n, b, input_size))
    c0, h0 = rng.standard_normal((2, 2, b, d))  # (directions, b, d)
    return tuple({k: v.astype(dtype).astype(np.float64) for k, v in p.items()}
                 if isinstance(p, dict) else p.astype(dtype).astype(np.float64)
                 for p in (params, X, c0, h0))


def assert_bidirectional_same(ours, theirs, atol):
    for name, a, b in zip(("Y", "Y_h", "Y_c"), ours, theirs):
        np.testing.assert_allclose(np.asarray(b), a, rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize("runtime, dtype, atol, lengths", [
    ("onnxruntime", np.float32, 1e-5, BIDIRECTIONAL_LENGTHS[:4] - 1),  # 5, 1, 4, 0: one empty
    ("onnxruntime", np.float32, 1e-5, None),
    ("reference", np.float64, 1e-12, None),  # it ignores sequence_lens: see below
])
def test_onnx_bidirectional_node_read_into_ours(runtime, dtype, atol, lengths):
    params, X, c0, h0 = onnx_bidirectional_problem(dtype)
    W_pair = [lr.from_layout(params, "onnx", reverse=reverse) for reverse in (False, True)]
    ours = ours_bidirectional(X, W_pair, c0, h0, lengths)
    theirs = onnx_bidirectional_run(runtime, params, X, c0, h0, lengths, dtype)
    if lengths is not None and (lengths == 0).any():  # onnxruntime: Y_h, Y_c 0, not h0, c0
        empty = lengths == 0
        assert not any(np.asarray(state)[:, empty].any() for state in theirs[1:])
        assert np.array_equal(ours[1][:, empty], h0[:, empty])
        ours = (ours[0], *(np.where(empty[:, None], 0.0, s) for s in ours[1:]))
    assert_bidirectional_same(ours, theirs, atol)


def test_onnx_bidirectional_node_from_ours():
    _, X, c0, h0 = onnx_bidirectional_problem(np.float32)
    W_pair = [lr.init_weights(2, 3, rng=seed) for seed in (4, 5)]
    for W in W_pair:
        W[0] += np.linspace(-1, 1, 12)
    W_pair = [W.astype(np.float32).astype(np.float64) for W in W_pair]
    forward_params, backward_params = (lr.to_layout(W, "onnx") for W in W_pair)
    params = {k: np.concatenate([forward_params[k], backward_params[k]]) for k in forward_params}
    lengths = np.array([5, 3, 1, 4])
    ours = ours_bidirectional(X, W_pair, c0, h0, lengths)
    theirs = onnx_bidirectional_run("onnxruntime", params, X, c0, h0, lengths, np.float32)
    assert_bidirectional_same(ours, theirs, atol=1e-5)


def keras_bidirectional(input_size, d, **options):
    keras = need("keras")
    jax_x64()
    layer = keras.layers.Bidirectional(keras.layers.LSTM(
        d, return_sequences=True, return_state=True, dtype="float64", **options))
    layer.build((None, None, input_size))
    return layer


def keras_bidirectional_run(layer, X, c0, h0):
    """Keras's [H_forward, H_backward] side by side, batch first; states [h_f, c_f, h_b, c_b]."""
    H, h_f, c_f, h_b, c_b = layer(X.transpose(1, 0, 2),
                                  initial_state=[h0[0], c0[0], h0[1], c0[1]])
    return np.asarray(H).transpose(1, 0, 2), np.stack([h_f, h_b]), np.stack([c_f, c_b])


def ours_keras_bidirectional(X, W_pair, c0, h0):
    """Keras's backward sub-layer reads the whole time axis reversed: no lengths here."""
    H_f, c_f, h_f, _ = lr.forward(X, W_pair[0], c0[0], h0[0])
    H_r, c_r, h_r, _ = lr.forward(X[::-1], W_pair[1], c0[1], h0[1])
    return np.concatenate([H_f, H_r[::-1]], axis=2), np.stack([h_f, h_r]), np.stack([c_f, c_r])


@keras_warning
def test_keras_bidirectional_sub_layers_read_into_ours():
    need("keras").utils.set_random_seed(6)
    layer = keras_bidirectional(3, 2, bias_initializer="random_normal")
    W_pair = [lr.from_layout(dict(zip([w.name for w in sub.weights], sub.get_weights())), "keras")
              for sub in (layer.forward_layer, layer.backward_layer)]
    assert not np.array_equal(*W_pair)  # two sets of weights
    X, _, c0, h0, *_ = problem(5, 2, 3, 2, seed=6)
    c0, h0 = np.stack([c0, -c0]), np.stack([h0, -h0])
    theirs = keras_bidirectional_run(layer, X, c0, h0)
    assert_stack_same(ours_keras_bidirectional(X, W_pair, c0, h0), theirs, atol=1e-6)


def test_keras_bidirectional_sub_layers_from_ours():
    layer = keras_bidirectional(3, 2)
    W_pair = [problem(5, 2, 3, 2, seed=seed).W for seed in (7, 8)]
    for sub, W in zip((layer.forward_layer, layer.backward_layer), W_pair):
        sub.set_weights(list(lr.to_layout(W, "keras").values()))
    X, _, c0, h0, *_ = problem(5, 2, 3, 2, seed=9)
    c0, h0 = np.stack([c0, -c0]), np.stack([h0, -h0])
    theirs = keras_bidirectional_run(layer, X, c0, h0)
    assert_stack_same(ours_keras_bidirectional(X, W_pair, c0, h0), theirs, atol=1e-6)


def test_pytorch_packing_refuses_a_sequence_of_length_0():
    """The conventions page says so: torch has no counterpart to our empty sequences."""
    torch = need("torch")
    with pytest.raises(RuntimeError, match="greater than 0"):
        torch.nn.utils.rnn.pack_padded_sequence(torch.zeros(3, 2, 1), torch.tensor([3, 0]),
                                                enforce_sorted=False)


# --- Padding rules: what each framework does at the padded steps of a shorter sequence ---------
# The conventions page compares them; these tests are its evidence. Lengths [n, 2]: the second
# sequence is padded after step 2.

PAD_N, PAD_LENGTHS = 4, np.array([4, 2])


def padded_problem(dtype=np.float64):
    X, W, *_ = problem(PAD_N, 2, 3, 2, seed=5)
    X = X.astype(dtype).astype(np.float64)
    return W.astype(dtype).astype(np.float64), X, lr.forward(X, W, lengths=PAD_LENGTHS)


def test_keras_mask_repeats_the_last_output_and_keeps_the_state():
    W, X, (H, c, h, _) = padded_problem()
    layer = keras_layer(3, 2)
    layer.set_weights(list(lr.to_layout(W, "keras").values()))
    mask = np.arange(PAD_N)[None] < PAD_LENGTHS[:, None]  # (b, n)  batch first, as Keras
    Hk, hk, ck = layer(X.transpose(1, 0, 2), mask=mask)
    Hk = np.asarray(Hk).transpose(1, 0, 2)
    np.testing.assert_allclose(Hk[:2, 1], H[:2, 1], rtol=0, atol=1e-6)  # where it runs: ours
    np.testing.assert_allclose(Hk[2:, 1], [H[1, 1]] * 2, rtol=0, atol=1e-6)  # then repeated
    assert not layer.zero_output_for_mask  # the default; True would give our zeros
    np.testing.assert_allclose(np.asarray(hk), h, rtol=0, atol=1e-6)  # final: its own last step
    np.testing.assert_allclose(np.asarray(ck), c, rtol=0, atol=1e-6)


def test_keras_zero_output_for_mask_gives_our_zeros():
    W, X, (H, c, h, _) = padded_problem()
    layer = keras_layer(3, 2, zero_output_for_mask=True)
    layer.set_weights(list(lr.to_layout(W, "keras").values()))
    mask = np.arange(PAD_N)[None] < PAD_LENGTHS[:, None]  # (b, n)
    Hk, hk, ck = layer(X.transpose(1, 0, 2), mask=mask)
    assert_same((H, c, h), (np.asarray(Hk).transpose(1, 0, 2), ck, hk), atol=1e-6)


def onnx_padded_run(runtime, W, X, dtype):
    onnx = need("onnx")
    helper, T = onnx.helper, onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    node = helper.make_node("LSTM", ["X", "W", "R", "B", "sequence_lens"], ["Y", "Y_h", "Y_c"],
                            hidden_size=2)
    inputs = [helper.make_tensor_value_info(k, T, None) for k in ("X", "W", "R", "B")]
    inputs.append(helper.make_tensor_value_info("sequence_lens", onnx.TensorProto.INT32, None))
    outputs = [helper.make_tensor_value_info(k, T, None) for k in ("Y", "Y_h", "Y_c")]
    model = helper.make_model(helper.make_graph([node], "lstm", inputs, outputs),
                              opset_imports=[helper.make_opsetid("", 22)])
    model.ir_version = 10
    feeds = {k: np.asarray(v, dtype=dtype) for k, v in {"X": X, **lr.to_layout(W, "onnx")}.items()}
    feeds["sequence_lens"] = PAD_LENGTHS.astype(np.int32)
    return onnx_evaluate(runtime, model, feeds)


def test_onnxruntime_sequence_lens_pads_with_zeros_like_ours():
    W, X, ours = padded_problem(np.float32)
    assert_same(ours[:3], onnx_padded_run("onnxruntime", W, X, np.float32), atol=1e-5)


def test_onnx_reference_evaluator_ignores_sequence_lens():
    """Seen with onnx 1.23: onnx.reference runs every sequence to n despite sequence_lens."""
    W, X, ours = padded_problem()
    unpadded = lr.forward(X, W)
    theirs = onnx_padded_run("reference", W, X, np.float64)
    assert_same(unpadded[:3], theirs, atol=1e-12)
    assert np.abs(theirs[2] - ours[2]).max() > 1e-3  # not each sequence's own last step


# --- safetensors: our model files and the package's, both ways ---------------------------------
# LSTM.save writes the safetensors format with NumPy and the standard library; the package itself
# must read what we write, and we must read what it writes (no metadata, its own tensor order).


@pytest.mark.parametrize("output_size", [2, None])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_safetensors_reads_our_files_as_get_params(tmp_path, output_size, dtype):
    st = need("safetensors.numpy")
    model = lr.LSTM(3, 5, output_size=output_size, rng=0, dtype=dtype)
    model.save(tmp_path / "model.safetensors")
    params = st.load_file(str(tmp_path / "model.safetensors"))
    ours = model.get_params()
    assert sorted(params) == sorted(ours)
    for name, value in ours.items():
        assert params[name].dtype == dtype and params[name].shape == value.shape
        assert np.array_equal(params[name], value)
    with need("safetensors").safe_open(str(tmp_path / "model.safetensors"), "np") as file:
        assert file.metadata() == {"format": "lstm_reference.LSTM"}


@pytest.mark.parametrize("output_size", [2, None])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_files_safetensors_writes_load(tmp_path, output_size, dtype):
    st = need("safetensors.numpy")
    model = lr.LSTM(4, 3, output_size=output_size, rng=1, dtype=dtype)
    X = np.random.default_rng(2).standard_normal((2, 5, 4)).astype(dtype)
    st.save_file(model.get_params(), str(tmp_path / "theirs.safetensors"))  # no metadata
    loaded = lr.LSTM.load(tmp_path / "theirs.safetensors")
    assert ((loaded.input_size, loaded.hidden_size, loaded.output_size, loaded.dtype)
            == (4, 3, output_size, dtype))
    assert all(np.array_equal(loaded.params[k], v) for k, v in model.get_params().items())
    assert np.array_equal(loaded.forward(X), model.forward(X))


def test_safetensors_and_we_refuse_the_same_truncated_file(tmp_path):
    st = need("safetensors.numpy")
    lr.LSTM(3, 4, rng=0).save(tmp_path / "model")
    data = (tmp_path / "model").read_bytes()
    (tmp_path / "cut").write_bytes(data[:-8])
    with pytest.raises(Exception, match="(?i)metadata|incomplete|invalid|buffer"):  # its own
        st.load_file(str(tmp_path / "cut"))
    with pytest.raises(ValueError, match="accounts for 1024 bytes of data; the file holds 1016"):
        lr.LSTM.load(tmp_path / "cut")


# The other frameworks' arrays, where NumPy alone cannot stand in for them.


def test_a_torch_tensor_that_requires_grad_is_named_with_the_fix():
    torch = need("torch")
    weight_ih = torch.zeros(8, 3, dtype=torch.float64, requires_grad=True)
    rest = (np.zeros((8, 2)), np.zeros(8), np.zeros(8))
    with pytest.raises(TypeError, match=r"^params\['weight_ih_l0'\] is a tensor that requires "
                                        r"grad.*\.detach\(\)"):
        lr.from_pytorch_layout(weight_ih, *rest)
    W = lr.from_pytorch_layout(weight_ih.detach(), *rest)  # the fix the message names
    X = torch.zeros(2, 1, 3, dtype=torch.float64, requires_grad=True)
    with pytest.raises(TypeError, match=r"^X is a tensor that requires grad"):
        lr.forward(X, W)
    assert lr.forward(X.detach(), W)[0].shape == (2, 1, 2)


def test_bfloat16_arrays_are_read_exactly_as_float32():
    ml_dtypes = need("ml_dtypes")
    X = np.linspace(-2, 2, 2 * 3 * 2).reshape(2, 3, 2)
    X_bf16 = X.astype(ml_dtypes.bfloat16)
    W = lr.init_weights(2, 3, rng=0, dtype=np.float32)
    H, *_ = lr.forward(X_bf16, W)
    assert H.dtype == np.float32
    assert np.array_equal(H, lr.forward(X_bf16.astype(np.float32), W)[0])
