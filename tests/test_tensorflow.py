"""The ``"tensorflow1"`` layout against TensorFlow 1's LSTM cells, run in TensorFlow 2.21.

- ``tf.compat.v1.nn.rnn_cell.LSTMCell`` and ``BasicLSTMCell`` (in tf-keras 2.21, with
  ``TF_USE_LEGACY_KERAS=1``), in float64, to 1e-12;
- ``tf.raw_ops.LSTMBlockCell``, which has no float64 kernel, in float32, to 1e-5;
- ``tf.compat.v1.nn.bidirectional_dynamic_rnn`` with ``sequence_length`` holding 0: padded
  outputs 0, and a sequence of no step keeps its initial state, as ours does.

Both ways, as in tests/test_frameworks.py: our weights written with ``to_layout`` give
TensorFlow's outputs and final states, and TensorFlow's own weights (its kernel as initialized,
a random bias) read with ``from_layout`` give ours. Each with two values of ``forget_bias``.

The tests skip when TensorFlow is missing, except in ``tox -e tensorflow``, which sets
``LSTM_REFERENCE_REQUIRE_TENSORFLOW=1``.
"""

import importlib
import os

import numpy as np
import pytest
from problems import problem

import lstm_reference as lr

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.compat.v1.nn.rnn_cell lives in tf-keras
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SHAPES = [(1, 1, 1, 1), (5, 3, 4, 3), (4, 2, 8, 2), (9, 4, 6, 5)]  # (n, b, input_size, d)
FORGET_BIASES = [1.0, 0.25]  # TensorFlow's default, and another


def need_tf():
    if os.environ.get("LSTM_REFERENCE_REQUIRE_TENSORFLOW") == "1":
        return importlib.import_module("tensorflow")
    return pytest.importorskip("tensorflow")




def assert_same(ours, theirs, atol):
    for name, a, b in zip(("H", "c", "h"), ours, theirs):
        np.testing.assert_allclose(np.asarray(b), a, rtol=0, atol=atol, err_msg=name)


# --- LSTMCell and BasicLSTMCell, float64 --------------------------------------------------------

CELLS = ["LSTMCell", "BasicLSTMCell"]


def tf1_cell(name, input_size, d, forget_bias):
    """A built TF1 cell; its weights are ``[kernel (I + d, 4d), bias (4d,)]``."""
    tf = need_tf()
    cell = getattr(tf.compat.v1.nn.rnn_cell, name)(d, forget_bias=forget_bias, dtype=tf.float64)
    cell.build((None, input_size))
    assert [w.shape.as_list() for w in cell.weights] == [[input_size + d, 4 * d], [4 * d]]
    return cell


def tf1_run(cell, X, c0, h0):
    """Step the cell over time-major X; its state is LSTMStateTuple(c, h)."""
    state, H = type(cell.zero_state(1, "float64"))(c0, h0), []
    for x in X:
        h, state = cell(x, state)
        H.append(np.asarray(h))
    return np.stack(H), np.asarray(state.c), np.asarray(state.h)


@pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell")
@pytest.mark.parametrize("forget_bias", FORGET_BIASES)
@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("shape", SHAPES)
def test_tf1_cell_from_ours(shape, name, forget_bias):
    X, W, c0, h0, *_ = problem(*shape)
    cell = tf1_cell(name, shape[2], shape[3], forget_bias)
    cell.set_weights(list(lr.to_layout(W, "tensorflow1", forget_bias=forget_bias).values()))
    assert_same(lr.forward(X, W, c0, h0)[:3], tf1_run(cell, X, c0, h0), atol=1e-12)


@pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell")
@pytest.mark.parametrize("forget_bias", FORGET_BIASES)
@pytest.mark.parametrize("name", CELLS)
@pytest.mark.parametrize("shape", SHAPES)
def test_tf1_cell_weights_read_back(shape, name, forget_bias):
    need_tf().random.set_seed(sum(shape))
    cell = tf1_cell(name, shape[2], shape[3], forget_bias)
    kernel, _ = cell.get_weights()  # as TensorFlow initialized it; its bias starts at 0
    bias = np.random.default_rng(sum(shape)).standard_normal(4 * shape[3])
    cell.set_weights([kernel, bias])
    X, _, c0, h0, *_ = problem(*shape)
    W = lr.from_layout({"kernel": kernel, "bias": bias}, "tensorflow1", forget_bias=forget_bias)
    assert_same(lr.forward(X, W, c0, h0)[:3], tf1_run(cell, X, c0, h0), atol=1e-12)


# --- LSTMBlockCell, float32 ----------------------------------------------------------------------


def block_run(W_tf, X, c0, h0, forget_bias, **options):
    """tf.raw_ops.LSTMBlockCell over time-major X: w is the kernel, b the bias."""
    tf = need_tf()
    f32 = {k: tf.constant(v, tf.float32) for k, v in W_tf.items()}
    c, h, H = tf.constant(c0, tf.float32), tf.constant(h0, tf.float32), []
    no_peepholes = tf.zeros(c0.shape[1], tf.float32)
    for x in X:
        _, c, _, _, _, _, h = tf.raw_ops.LSTMBlockCell(
            x=tf.constant(x, tf.float32), cs_prev=c, h_prev=h, w=f32["kernel"],
            wci=no_peepholes, wcf=no_peepholes, wco=no_peepholes, b=f32["bias"],
            forget_bias=forget_bias, **options)  # returns i, cs, f, o, ci, co, h
        H.append(h.numpy())
    return np.stack(H), c.numpy(), h.numpy()


NO_CLIP = {"cell_clip": -1.0, "use_peephole": False}  # the op clips c to +-3 by default


@pytest.mark.parametrize("forget_bias", FORGET_BIASES)
@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_block_cell_from_ours(shape, forget_bias):
    X, W, c0, h0, *_ = problem(*shape, dtype=np.float32)
    W_tf = lr.to_layout(W, "tensorflow1", forget_bias=forget_bias)
    assert_same(lr.forward(X, W, c0, h0)[:3], block_run(W_tf, X, c0, h0, forget_bias, **NO_CLIP),
                atol=1e-5)


@pytest.mark.parametrize("forget_bias", FORGET_BIASES)
@pytest.mark.parametrize("shape", SHAPES)
def test_lstm_block_cell_weights_read_back(shape, forget_bias):
    n, b, input_size, d = shape
    rng = np.random.default_rng(sum(shape))
    W_tf = {"kernel": rng.standard_normal((input_size + d, 4 * d)) / 2,
            "bias": rng.standard_normal(4 * d)}
    W_tf = {k: v.astype(np.float32).astype(np.float64) for k, v in W_tf.items()}
    X, _, c0, h0, *_ = problem(*shape, dtype=np.float32)
    W = lr.from_layout(W_tf, "tensorflow1", forget_bias=forget_bias)
    assert_same(lr.forward(X, W, c0, h0)[:3], block_run(W_tf, X, c0, h0, forget_bias, **NO_CLIP),
                atol=1e-5)


def test_lstm_block_cell_clips_the_cell_state_to_3_by_default():
    X, W, c0, h0, *_ = problem(6, 2, 3, 2, seed=3, dtype=np.float32)
    W[0, 2:4] = 8.0  # f near 1: c accumulates past 3
    W_tf = lr.to_layout(W, "tensorflow1", forget_bias=1.0)
    H, c, h, _ = lr.forward(X, W, 4 * c0, h0)
    assert np.abs(c).max() > 3
    clipped = block_run(W_tf, X, 4 * c0, h0, 1.0)
    assert np.abs(clipped[1]).max() <= 3 and np.abs(clipped[1] - c).max() > 0.1
    assert_same((H, c, h), block_run(W_tf, X, 4 * c0, h0, 1.0, **NO_CLIP), atol=1e-5)


# --- bidirectional_dynamic_rnn: lengths with 0 ----------------------------------------------------


def reverse_within_lengths(A, lengths):
    n, b = A.shape[:2]
    t = np.arange(n)[:, None]  # (n, 1)
    return A[np.where(t < lengths, lengths - 1 - t, t), np.arange(b)]


@pytest.mark.filterwarnings("ignore:`tf.nn.rnn_cell")
def test_bidirectional_dynamic_rnn_keeps_the_initial_state_of_an_empty_sequence():
    tf = need_tf()
    n, b, input_size, d = 5, 4, 3, 2
    lengths = np.array([5, 0, 2, 0])
    X, W_f, c0, h0, *_ = problem(n, b, input_size, d)
    _, W_b, c0_b, h0_b, *_ = problem(n, b, input_size, d, seed=2)
    cells = [tf1_cell("LSTMCell", input_size, d, 1.0) for _ in range(2)]
    for cell, W in zip(cells, (W_f, W_b)):
        cell.set_weights(list(lr.to_layout(W, "tensorflow1", forget_bias=1.0).values()))
    def state(c, h):
        return type(cells[0].zero_state(1, "float64"))(tf.constant(c), tf.constant(h))
    (H_f, H_b), (s_f, s_b) = tf.compat.v1.nn.bidirectional_dynamic_rnn(
        *cells, tf.constant(X), sequence_length=tf.constant(lengths),
        initial_state_fw=state(c0, h0), initial_state_bw=state(c0_b, h0_b), time_major=True)
    H, c, h, _ = lr.forward(X, W_f, c0, h0, lengths=lengths)
    assert_same((H, c, h), (H_f, s_f.c, s_f.h), atol=1e-12)
    H_r, c_r, h_r, _ = lr.forward(reverse_within_lengths(X, lengths), W_b, c0_b, h0_b,
                                  lengths=lengths)
    assert_same((reverse_within_lengths(H_r, lengths), c_r, h_r), (H_b, s_b.c, s_b.h), atol=1e-12)
    for k in np.flatnonzero(lengths == 0):  # no step: outputs 0, the initial state carried
        assert not np.asarray(H_f)[:, k].any() and not np.asarray(H_b)[:, k].any()
        assert np.array_equal(np.asarray(s_f.c)[k], c0[k])
        assert np.array_equal(np.asarray(s_b.h)[k], h0_b[k])
