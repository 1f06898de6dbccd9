"""Tests of the second half: the initialization schemes, LSTMCell and the LSTM sequence model.

The module's doctests state what each function does; these tests check it over many shapes,
against computations written independently here (per-gate slicing of W by hand, stepping the
cell instead of the fused core), and on bad input, asserting that nothing changed afterwards.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import sizes

import lstm_reference as lr

GATES = "ifog"
CELL_NAMES = [f"W_x{k}" for k in GATES] + [f"W_h{k}" for k in GATES] + [f"b_{k}" for k in GATES]


def max_abs_diff(a, b):
    return float(np.max(np.abs(np.asarray(a) - np.asarray(b))))


def random_model(input_size=3, hidden_size=4, output_size=2, seed=0, dtype=np.float64):
    """A model with every parameter random, biases included (so no gradient is trivially zero)."""
    rng = np.random.default_rng(seed)
    model = lr.LSTM(input_size, hidden_size, output_size, rng=rng, dtype=dtype)
    params = {k: (v + 0.3 * rng.standard_normal(v.shape)).astype(dtype)
              for k, v in model.get_params().items()}
    model.set_params(params)
    return model


def snapshot(model, dY):
    """Everything that makes up the model's state, copied; ``dY`` fits the last forward."""
    return {"params": model.get_params(), "grads": {k: v.copy() for k, v in model.grads.items()},
            "dY": dY}


def assert_same_state(model, before):
    after = snapshot(model, before["dY"])
    assert list(after["params"]) == list(before["params"])
    for k in before["params"]:
        assert np.array_equal(after["params"][k], before["params"][k]), k
    assert list(after["grads"]) == list(before["grads"])
    for k in before["grads"]:
        assert np.array_equal(after["grads"][k], before["grads"][k]), k
    # The last forward is still the one backward differentiates: the same dY gives the same
    # gradients as when the snapshot was taken (they came from backward(dY) on that forward).
    model.backward(before["dY"])
    for k in before["grads"]:
        assert np.array_equal(model.grads[k], before["grads"][k]), k


# --- xavier_uniform -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(400, 300), (1000, 10), (10, 1000)])
def test_xavier_uniform_bounds_and_statistics(shape):
    M = lr.xavier_uniform(shape, rng=0)
    a = np.sqrt(6 / sum(shape))
    assert M.shape == shape and M.dtype == np.float64
    assert np.all(np.abs(M) <= a)
    assert np.abs(M).max() > 0.99 * a  # the whole interval is used
    assert abs(M.mean()) < 0.02 * a
    assert abs(M.var() / (2 / sum(shape)) - 1) < 0.03  # variance a^2 / 3 = 2 / (fan_in + fan_out)
    # uniform, not e.g. normal: a quarter of the values in each quarter of [-a, a]
    counts = np.histogram(M, bins=4, range=(-a, a))[0] / M.size
    np.testing.assert_allclose(counts, 0.25, atol=0.02)


def test_xavier_uniform_rng_and_dtype():
    assert np.array_equal(lr.xavier_uniform((3, 4), rng=5),
                          lr.xavier_uniform((3, 4), rng=np.random.default_rng(5)))
    # None: fresh entropy
    assert not np.array_equal(lr.xavier_uniform((3, 4)), lr.xavier_uniform((3, 4)))
    assert lr.xavier_uniform([2, 3], dtype=np.float32).dtype == np.float32
    rng = np.random.default_rng(1)
    assert not np.array_equal(lr.xavier_uniform((3, 4), rng=rng),
                              lr.xavier_uniform((3, 4), rng=rng))  # stream goes on


# --- orthogonal -----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(1, 1), (6, 6), (7, 3), (3, 7), (50, 50), (1, 5), (5, 1)])
@pytest.mark.parametrize("gain", [1.0, 0.5, 3.0])
def test_orthogonal_is_orthogonal_with_gain(shape, gain):
    Q = lr.orthogonal(shape, gain=gain, rng=0)
    rows, columns = shape
    assert Q.shape == shape
    if rows >= columns:  # orthonormal columns
        np.testing.assert_allclose(Q.T @ Q, gain**2 * np.eye(columns), rtol=0, atol=1e-12)
    if rows <= columns:  # orthonormal rows
        np.testing.assert_allclose(Q @ Q.T, gain**2 * np.eye(rows), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.linalg.svd(Q, compute_uv=False), gain, rtol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4)])
def test_orthogonal_is_haar_distributed(shape):
    """Haar: E[Q] = 0 and, for square Q, det = +1 or -1 equally often. A plain QR (without the
    sign fix) fails the first: np.linalg.qr's Q[0, 0] is always negative."""
    rng = np.random.default_rng(2)
    draws = np.stack([lr.orthogonal(shape, rng=rng) for _ in range(4000)])  # (4000, rows, columns)
    assert np.abs(draws.mean(axis=0)).max() < 0.05  # standard error about 0.01
    plain_qr = np.stack([np.linalg.qr(rng.standard_normal((3, 3)))[0] for _ in range(500)])
    assert plain_qr[:, 0, 0].mean() < -0.3  # what the sign fix repairs
    if shape[0] == shape[1]:
        assert abs(np.mean(np.linalg.det(draws) > 0) - 0.5) < 0.05


def test_orthogonal_dtype_and_rng():
    assert lr.orthogonal((3, 3), dtype=np.float32).dtype == np.float32
    assert np.array_equal(lr.orthogonal((3, 2), rng=4),
                          lr.orthogonal((3, 2), rng=np.random.default_rng(4)))


INIT_BAD = [
    (lambda: lr.xavier_uniform(5), TypeError, "shape must be a tuple"),
    (lambda: lr.xavier_uniform((5,)), ValueError, r"shape must be \(rows, columns\)"),
    (lambda: lr.xavier_uniform((5, 0)), ValueError, r"shape\[1\] must be at least 1"),
    (lambda: lr.xavier_uniform((5.0, 2)), TypeError, r"shape\[0\] must be an integer"),
    (lambda: lr.xavier_uniform((2, 2), rng="seed"), TypeError, "rng must be"),
    (lambda: lr.xavier_uniform((2, 2), rng=-1), ValueError, "rng must be a non-negative seed"),
    (lambda: lr.xavier_uniform((2, 2), dtype=np.int32), TypeError,
     "dtype must be a floating-point type"),
    (lambda: lr.xavier_uniform((2, 2), dtype="nonsense"), TypeError,
     "dtype must be a floating-point type"),
    (lambda: lr.orthogonal((2, 2, 2)), ValueError, r"shape must be \(rows, columns\)"),
    (lambda: lr.orthogonal((2, True)), TypeError, r"shape\[1\] must be an integer"),
    (lambda: lr.orthogonal((2, 2), gain="1"), TypeError, "gain must be a real number"),
    (lambda: lr.orthogonal((2, 2), gain=np.nan), ValueError, "gain must be finite"),
    (lambda: lr.orthogonal((2, 2), rng=1.5), TypeError, "rng must be"),
    (lambda: lr.orthogonal((2, 2), dtype=complex), TypeError,
     "dtype must be a floating-point type"),
]


@pytest.mark.parametrize("call, error, message", INIT_BAD)
def test_initializers_reject_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


# --- LSTMCell -------------------------------------------------------------------------------------


def test_cell_initialization():
    cell = lr.LSTMCell(5, 6, forget_bias=2.5, rng=0)
    a = np.sqrt(6 / (5 + 6))
    for k in GATES:
        W_x, W_h, b = getattr(cell, f"W_x{k}"), getattr(cell, f"W_h{k}"), getattr(cell, f"b_{k}")
        assert W_x.shape == (5, 6) and np.all(np.abs(W_x) <= a)
        np.testing.assert_allclose(W_h.T @ W_h, np.eye(6), rtol=0, atol=1e-12)
        assert np.array_equal(b, np.full(6, 2.5 if k == "f" else 0.0))
    assert not np.array_equal(cell.W_hi, cell.W_hf)  # one draw per gate
    assert (cell.input_size, cell.hidden_size, cell.dtype) == (5, 6, np.float64)
    assert lr.LSTMCell(2, 3, dtype=np.float32).W_hg.dtype == np.float32
    assert np.array_equal(lr.LSTMCell(2, 3).b_f, np.ones(3))  # the default forget bias


def test_weight_layout_by_hand():
    """W's blocks, derived here from the documented layout (row 0 bias, input rows, recurrent
    rows; column blocks i, f, o, g), equal the cell's named parameters."""
    input_size, d = 3, 2
    W = np.arange((1 + input_size + d) * 4 * d, dtype=float).reshape(1 + input_size + d, 4 * d)
    cell = lr.LSTMCell.from_weights(W)
    for k, gate in enumerate(GATES):
        columns = slice(k * d, (k + 1) * d)
        assert np.array_equal(getattr(cell, f"b_{gate}"), W[0, columns])
        assert np.array_equal(getattr(cell, f"W_x{gate}"), W[1:1 + input_size, columns])
        assert np.array_equal(getattr(cell, f"W_h{gate}"), W[1 + input_size:, columns])
    assert np.array_equal(cell.to_weights(), W)


def test_weight_round_trips_are_exact_both_ways():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((1 + 4 + 5, 20))
    assert np.array_equal(lr.LSTMCell.from_weights(W).to_weights(), W)
    cell = lr.LSTMCell(4, 5, rng=4)
    copy = lr.LSTMCell.from_weights(cell.to_weights())
    for name in CELL_NAMES:
        assert np.array_equal(getattr(copy, name), getattr(cell, name)), name
    W32 = W.astype(np.float32)
    assert lr.LSTMCell.from_weights(W32).to_weights().dtype == np.float32


def test_from_weights_copies():
    W = lr.init_weights(3, 2, rng=0)
    cell = lr.LSTMCell.from_weights(W)
    W_before = W.copy()
    W += 1.0
    assert np.array_equal(cell.to_weights(), W_before)




@settings(max_examples=40, deadline=None)
@given(sizes)
def test_cell_matches_fused(args):
    n, b, input_size, d, seed = args
    assert lr.check_cell_matches_fused(n, b, input_size, d, seed=seed) < 1e-12


def textbook_step(cell, x, h, c):
    """One step from W sliced by hand, with the logistic function written out: no shared code."""
    W = cell.to_weights()
    d = cell.hidden_size
    z = np.concatenate([np.ones((x.shape[0], 1)), x, h], axis=1) @ W  # (b, 4d)
    i, f, o = (1 / (1 + np.exp(-z[:, k * d:(k + 1) * d])) for k in range(3))
    g = np.tanh(z[:, 3 * d:])
    c = f * c + i * g
    return o * np.tanh(c), c


def test_initialized_cell_steps_like_the_textbook_and_the_core():
    rng = np.random.default_rng(5)
    cell = lr.LSTMCell(3, 4, rng=rng)
    X = rng.standard_normal((6, 2, 3))  # (n, b, input_size)
    h = c = np.zeros((2, 4))
    h_ref = c_ref = np.zeros((2, 4))
    for t in range(6):
        h, c = cell.forward(X[t], h, c)
        h_ref, c_ref = textbook_step(cell, X[t], h_ref, c_ref)
    H, c_core, h_core, _ = lr.forward(X, cell.to_weights())
    assert max_abs_diff(h, h_ref) < 1e-13 and max_abs_diff(c, c_ref) < 1e-13
    assert max_abs_diff(h, h_core) < 1e-13 and max_abs_diff(c, c_core) < 1e-13


def test_cell_check_can_fail():
    """Swapping two gates' blocks in W must show up in the cell-vs-fused comparison."""
    rng = np.random.default_rng(6)
    cell = lr.LSTMCell(3, 4, rng=rng)
    cell.b_o = cell.b_o + 1.0
    x = rng.standard_normal((2, 3))
    W = cell.to_weights()
    W_swapped = W.copy()
    W_swapped[:, 8:12], W_swapped[:, 12:16] = W[:, 12:16], W[:, 8:12]  # o <-> g
    h, c = cell.forward(x)
    assert max_abs_diff(h, lr.forward(x[None], W)[0][0]) < 1e-13
    assert max_abs_diff(h, lr.forward(x[None], W_swapped)[0][0]) > 1e-3


def test_cell_default_states_and_dtypes():
    cell = lr.LSTMCell(2, 3, rng=0)
    x = np.array([[0.5, -1.0], [1.0, 2.0]])
    zeros = np.zeros((2, 3))
    h, c = cell.forward(x)
    h0, c0 = cell.forward(x, zeros, zeros)
    assert np.array_equal(h, h0) and np.array_equal(c, c0)
    cell32 = lr.LSTMCell(2, 3, rng=0, dtype=np.float32)
    h32, c32 = cell32.forward(x.astype(np.float32))
    assert h32.dtype == c32.dtype == np.float32
    assert cell.forward([[1, 2]])[0].dtype == np.float64  # integers become float64


CELL_FORWARD_BAD = [
    ("x", np.zeros((2, 3)), ValueError,
     r"x must have shape \(batch, input_size\) = \(any, 2\); got \(2, 3\)"),
    ("x", np.zeros(2), ValueError, r"x must have shape \(batch, input_size\)"),
    ("x", np.zeros((1, 2, 2)), ValueError, r"x must have shape \(batch, input_size\)"),
    ("x", np.zeros((2, 2), dtype=complex), TypeError, "x must hold real"),
    ("h_prev", np.zeros((3, 3)), ValueError,
     r"h_prev must have shape \(batch, hidden_size\) = \(2, 3\); got \(3, 3\)"),
    ("c_prev", np.zeros((2, 2)), ValueError,
     r"c_prev must have shape \(batch, hidden_size\) = \(2, 3\)"),
    ("c_prev", "zeros", TypeError, "c_prev must hold real"),
]


@pytest.mark.parametrize("name, value, error, message", CELL_FORWARD_BAD)
def test_cell_forward_rejects_bad_input(name, value, error, message):
    cell = lr.LSTMCell(2, 3, rng=0)
    W_before = cell.to_weights()
    args = {"x": np.ones((2, 2)), "h_prev": np.zeros((2, 3)), "c_prev": np.zeros((2, 3)),
            name: value}
    with pytest.raises(error, match=message):
        cell.forward(**args)
    assert np.array_equal(cell.to_weights(), W_before)


def test_cell_never_transposes_a_square_input():
    cell = lr.LSTMCell(3, 2, rng=0)
    x = np.arange(6).reshape(2, 3) / 6
    h, _ = cell.forward(x)
    assert h.shape == (2, 2)
    with pytest.raises(ValueError, match="x must have shape"):
        cell.forward(x.T)  # (3, 2): refused, not guessed


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"input_size": 0, "hidden_size": 2}, ValueError, "input_size must be at least 1"),
        ({"input_size": 2, "hidden_size": 2.0}, TypeError, "hidden_size must be an integer"),
        ({"input_size": 2, "hidden_size": 2, "forget_bias": "1"}, TypeError,
         "forget_bias must be a real number"),
        ({"input_size": 2, "hidden_size": 2, "forget_bias": np.inf}, ValueError,
         "forget_bias must be finite"),
        ({"input_size": 2, "hidden_size": 2, "rng": "x"}, TypeError, "rng must be"),
        ({"input_size": 2, "hidden_size": 2, "dtype": np.int64}, TypeError,
         "dtype must be a floating-point"),
    ],
)
def test_cell_constructor_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        lr.LSTMCell(**kwargs)


@pytest.mark.parametrize(
    "W, error, message",
    [
        (np.zeros((6, 7)), ValueError, "W must have shape"),
        (np.zeros((2, 8)), ValueError, "W must have shape"),
        (np.zeros((6, 8), dtype=complex), TypeError, "W must hold real"),
    ],
)
def test_from_weights_rejects_bad_input(W, error, message):
    with pytest.raises(error, match=message):
        lr.LSTMCell.from_weights(W)


# --- LSTM: gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("output_size", [3, None])
@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("return_state", [True, False])
def test_every_gradient_matches_central_differences(output_size, return_sequences, return_state):
    errors = lr.check_model_gradients(output_size=output_size, return_sequences=return_sequences,
                                      return_state=return_state, seed=1)
    expected = set(CELL_NAMES) | {"X"} | ({"W_y", "b_y"} if output_size else set())
    assert set(errors) == expected
    assert max(errors.values()) < 1e-6, errors


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 3), st.integers(1, 4),
       st.one_of(st.none(), st.integers(1, 3)), st.booleans(), st.integers(0, 2**32 - 1))
def test_gradients_over_sizes(batch, seq_len, input_size, hidden_size, output_size,
                              return_sequences, seed):
    errors = lr.check_model_gradients(batch, seq_len, input_size, hidden_size, output_size,
                                      return_sequences=return_sequences, seed=seed)
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_can_fail():
    """A wrong gradient is caught: perturb one entry of W_y's and one of W_hf's gradient."""
    model = random_model(seed=7)
    X = np.random.default_rng(8).standard_normal((2, 5, 3))
    R = np.random.default_rng(9).standard_normal((2, 5, 2))
    model.forward(X)
    model.backward(R)
    params = model.get_params()
    for name in ("W_y", "W_hf"):
        def loss(v, name=name):
            probe = random_model(seed=7)
            probe.set_params({**params, name: v})
            return np.sum(probe.forward(X) * R)

        numeric = lr.numerical_gradient(loss, params[name])
        assert np.max(lr.relative_error(model.grads[name], numeric)[np.abs(numeric) > 1e-3]) < 1e-6
        wrong = model.grads[name].copy()
        wrong[0, 0] *= 1.001
        assert np.max(lr.relative_error(wrong, numeric)) > 1e-5


def test_grads_keys_shapes_and_dtypes():
    for output_size in (2, None):
        model = random_model(output_size=output_size)
        assert model.grads == {}
        model.backward(model.forward(np.ones((2, 3, 3))))
        params = model.get_params()
        assert list(model.grads) == list(params)
        for k in params:
            assert model.grads[k].shape == params[k].shape and model.grads[k].dtype == np.float64
    model32 = random_model(dtype=np.float32)
    Y = model32.forward(np.ones((2, 3, 3), dtype=np.float32))
    assert Y.dtype == np.float32
    dX = model32.backward(np.ones_like(Y))
    assert dX.dtype == np.float32 and all(g.dtype == np.float32 for g in model32.grads.values())


# --- LSTM: forward --------------------------------------------------------------------------------


def step_by_hand(model, X, h0=None, c0=None):
    """Outputs (batch, seq_len, out) and final (h, c) by stepping model.to_cell(): independent of
    the fused path the model runs on."""
    b = X.shape[0]
    h = np.zeros((b, model.hidden_size)) if h0 is None else h0
    c = np.zeros((b, model.hidden_size)) if c0 is None else c0
    outputs, cell = [], model.to_cell()
    for t in range(X.shape[1]):
        h, c = cell.forward(X[:, t], h, c)
        outputs.append(h if model.output_size is None
                       else h @ model.params["W_y"] + model.params["b_y"])
    return np.stack(outputs, axis=1), h, c


@pytest.mark.parametrize("output_size", [2, None])
def test_forward_matches_the_cell_stepped_by_hand(output_size):
    model = random_model(output_size=output_size, seed=10)
    rng = np.random.default_rng(11)
    X = rng.standard_normal((3, 7, 3))
    h0, c0 = rng.standard_normal((2, 3, 4))
    Y_ref, h_ref, c_ref = step_by_hand(model, X, h0, c0)
    Y, h, c = model.forward(X, return_state=True, h0=h0, c0=c0)
    out = output_size or 4
    assert Y.shape == (3, 7, out) and h.shape == c.shape == (3, 4)
    assert max(max_abs_diff(Y, Y_ref), max_abs_diff(h, h_ref), max_abs_diff(c, c_ref)) < 1e-13
    Y_last = model.forward(X, return_sequences=False, h0=h0, c0=c0)
    assert Y_last.shape == (3, out) and max_abs_diff(Y_last, Y_ref[:, -1]) < 1e-13
    Y_last, h, c = model.forward(X, False, True, h0=h0, c0=c0)
    assert max_abs_diff(h, h_ref) < 1e-13 and max_abs_diff(c, c_ref) < 1e-13


def test_default_states_are_zeros():
    model = random_model()
    X = np.random.default_rng(12).standard_normal((2, 4, 3))
    zeros = np.zeros((2, 4))
    assert np.array_equal(model.forward(X), model.forward(X, h0=zeros, c0=zeros))


@pytest.mark.parametrize("split", [1, 3, 8])
def test_feeding_the_state_back_continues_the_sequence(split):
    model = random_model(seed=13)
    X = np.random.default_rng(14).standard_normal((3, 9, 3))
    Y, h, c = model.forward(X, return_state=True)
    Y1, h1, c1 = model.forward(X[:, :split], return_state=True)
    Y2, h2, c2 = model.forward(X[:, split:], return_state=True, h0=h1, c0=c1)
    assert max(max_abs_diff(np.concatenate([Y1, Y2], axis=1), Y), max_abs_diff(h2, h),
               max_abs_diff(c2, c)) < 1e-14
    Y2_fresh = model.forward(X[:, split:])  # without the state: a different sequence
    assert max_abs_diff(Y2_fresh, Y[:, split:]) > 1e-3


def test_outputs_are_fresh_and_backward_uses_its_own_copies():
    model = random_model(seed=15)
    X = np.random.default_rng(16).standard_normal((2, 4, 3))
    R = np.random.default_rng(17).standard_normal((2, 4, 2))
    Y, h, c = model.forward(X, return_state=True)
    dX = model.backward(R)
    dX_before, grads = dX.copy(), {k: v.copy() for k, v in model.grads.items()}
    Y += 1.0  # all writable, all the caller's
    h += 1.0
    c += 1.0
    X += 1.0  # the model keeps its own copy of X for backward
    dX += 1.0
    assert np.array_equal(model.backward(R), dX_before)
    for k, v in grads.items():
        assert np.array_equal(model.grads[k], v)


def test_backward_uses_the_parameters_of_the_forward_call():
    model = random_model(seed=18)
    X = np.random.default_rng(19).standard_normal((2, 4, 3))
    R = np.ones((2, 4, 2))
    model.forward(X)
    dX = model.backward(R)
    model.forward(X)
    params = model.get_params()
    model.set_params({k: v * 2 for k, v in params.items()})  # after forward: backward is unaffected
    assert np.array_equal(model.backward(R), dX)


def test_integer_and_list_inputs_are_accepted():
    model = random_model()
    X = [[[0, 1, 2], [3, 4, 5]]]  # (batch=1, seq_len=2, input_size=3)
    Y = model.forward(X)
    assert Y.dtype == np.float64 and np.array_equal(Y, model.forward(np.array(X, dtype=float)))


# --- LSTM: parameters -----------------------------------------------------------------------------


def test_get_params_returns_copies_and_set_params_stores_copies():
    model = random_model()
    params = model.get_params()
    assert list(params) == CELL_NAMES + ["W_y", "b_y"]
    assert list(lr.LSTM(2, 3).get_params()) == CELL_NAMES
    params["W_hi"][0, 0] += 1.0  # editing the copy leaves the model alone
    assert model.params["W_hi"][0, 0] != params["W_hi"][0, 0]
    model.set_params(params)
    assert model.params["W_hi"][0, 0] == params["W_hi"][0, 0]
    params["W_hi"][0, 0] += 1.0  # and the model does not alias the caller's arrays
    assert model.params["W_hi"][0, 0] != params["W_hi"][0, 0]


SET_PARAMS_BAD = [
    (lambda p: [p], TypeError, "params must be a dict"),
    (lambda p: {**p, "W_z": np.zeros(3)}, ValueError, r"unknown: \['W_z'\]"),
    (lambda p: {k: v for k, v in p.items() if k != "b_g"}, ValueError, r"missing: \['b_g'\]"),
    (lambda p: {**p, "W_xo": np.zeros((4, 3))}, ValueError,
     r"params\['W_xo'\] must have shape \(input_size, hidden_size\) = \(3, 4\); got \(4, 3\)"),
    (lambda p: {**p, "W_hg": np.zeros((4, 4, 1))}, ValueError, r"params\['W_hg'\] must have shape"),
    (lambda p: {**p, "W_y": np.zeros((4, 3))}, ValueError,
     r"params\['W_y'\] must have shape .*\(4, 2\)"),
    (lambda p: {**p, "b_y": np.zeros(3)}, ValueError,
     r"params\['b_y'\] must have shape \(output_size,\) = \(2,\)"),
    (lambda p: {**p, "b_i": np.zeros(4, dtype=np.float32)}, TypeError,
     r"params\['b_i'\] must have the model's dtype float64; got float32"),
    (lambda p: {**p, "b_o": np.zeros(4, dtype=complex)}, TypeError,
     r"params\['b_o'\] must hold real"),
    (lambda p: {**p, "W_hf": "weights"}, TypeError, r"params\['W_hf'\] must hold real"),
]


@pytest.mark.parametrize("tamper, error, message", SET_PARAMS_BAD)
def test_set_params_rejects_bad_input_and_changes_nothing(tamper, error, message):
    model = random_model()
    Y = model.forward(np.ones((2, 3, 3)))
    model.backward(Y)
    before = snapshot(model, dY=Y)
    # The bad entry is checked last, after good ones that would change the model if stored early.
    params = {k: v + 1.0 for k, v in model.get_params().items()}
    with pytest.raises(error, match=message):
        model.set_params(tamper(params))
    assert_same_state(model, before)


# --- LSTM: bad input to forward and backward ------------------------------------------------------


def forward_args():
    rng = np.random.default_rng(20)
    return {"X": rng.standard_normal((2, 5, 3)), "return_sequences": True, "return_state": False,
            "h0": rng.standard_normal((2, 4)), "c0": rng.standard_normal((2, 4))}


FORWARD_BAD = [
    ("X", np.zeros((5, 3)), ValueError,
     r"X must have shape \(batch, seq_len, input_size\), batch first"),
    ("X", np.zeros((2, 5, 3, 1)), ValueError, r"X must have shape \(batch, seq_len, input_size\)"),
    ("X", np.zeros((2, 5, 4)), ValueError,
     r"X must have shape \(batch, seq_len, input_size\).* = \(any, any, 3\)"),
    ("X", np.zeros((2, 0, 3)), ValueError,
     "X must hold at least one step of one sequence"),
    ("X", np.zeros((2, 5, 3), dtype=complex), TypeError, "X must hold real"),
    ("X", None, TypeError, "X must hold real"),
    ("return_sequences", "yes", TypeError, "return_sequences must be True or False"),
    ("return_sequences", 1, TypeError, "return_sequences must be True or False"),
    ("return_state", None, TypeError, "return_state must be True or False"),
    ("h0", np.zeros((4, 2)), ValueError,
     r"h0 must have shape \(batch, hidden_size\) = \(2, 4\); got \(4, 2\)"),
    ("h0", np.zeros(4), ValueError, r"h0 must have shape \(batch, hidden_size\)"),
    ("c0", np.zeros((3, 4)), ValueError,
     r"c0 must have shape \(batch, hidden_size\) = \(2, 4\); got \(3, 4\)"),
    ("c0", np.zeros((2, 4), dtype=complex), TypeError, "c0 must hold real"),
]


@pytest.mark.parametrize("name, value, error, message", FORWARD_BAD)
def test_forward_rejects_bad_input_and_changes_nothing(name, value, error, message):
    model = random_model()
    args = forward_args()
    model.forward(**args)
    R = np.ones((2, 5, 2))
    model.backward(R)
    before, grads = snapshot(model, dY=R), model.grads
    arguments = {k: np.copy(v) for k, v in args.items() if isinstance(v, np.ndarray)}
    with pytest.raises(error, match=message):
        model.forward(**{**args, name: value})
    assert_same_state(model, before)
    for k, v in arguments.items():
        assert np.array_equal(args[k], v)
    model.backward(R)  # the previous forward is still the one backward differentiates
    for k, v in grads.items():
        assert np.array_equal(model.grads[k], v)


def test_the_time_major_layout_is_refused_not_transposed():
    """(seq_len, batch, input_size) is as valid a shape as (batch, seq_len, input_size); the
    model takes the documented one, so only a size mismatch can be caught."""
    model = random_model()
    X = np.random.default_rng(21).standard_normal((2, 5, 3))
    Y = model.forward(X)
    assert Y.shape == (2, 5, 2)
    assert max_abs_diff(model.forward(X[:1])[0], Y[0]) < 1e-14  # row 0 of the batch is sequence 0
    with pytest.raises(ValueError, match="X must have shape"):
        model.forward(X[0])  # one sequence without a batch axis: refused


BACKWARD_BAD = [
    ("dY", np.zeros((2, 5, 3)), ValueError,
     r"dY must have shape \(batch, seq_len, out\) like the last forward's output "
     r"= \(2, 5, 2\); got \(2, 5, 3\)"),
    ("dY", np.zeros((2, 2)), ValueError, r"dY must have shape .*= \(2, 5, 2\); got \(2, 2\)"),
    ("dY", np.zeros((5, 2, 2)), ValueError, r"dY must have shape .*\(2, 5, 2\); got \(5, 2, 2\)"),
    ("dY", np.zeros((2, 5, 2), dtype=complex), TypeError, "dY must hold real"),
    ("dh", np.zeros((2, 3)), ValueError,
     r"dh must have shape \(batch, hidden_size\).* = \(2, 4\); got \(2, 3\)"),
    ("dc", np.zeros((4, 2)), ValueError,
     r"dc must have shape \(batch, hidden_size\).* = \(2, 4\); got \(4, 2\)"),
    ("dc", "zeros", TypeError, "dc must hold real"),
]


@pytest.mark.parametrize("name, value, error, message", BACKWARD_BAD)
def test_backward_rejects_bad_input_and_changes_nothing(name, value, error, message):
    model = random_model()
    model.forward(forward_args()["X"])
    model.backward(np.ones((2, 5, 2)))
    before = snapshot(model, dY=np.ones((2, 5, 2)))
    args = {"dY": np.ones((2, 5, 2)), "dh": np.ones((2, 4)), "dc": np.ones((2, 4)), name: value}
    with pytest.raises(error, match=message):
        model.backward(**args)
    assert_same_state(model, before)


def test_dY_must_match_the_last_forward_not_an_earlier_one():
    model = random_model()
    X = forward_args()["X"]
    model.forward(X)  # (2, 5, 2)
    model.forward(X, return_sequences=False)  # (2, 2): now the last one
    with pytest.raises(ValueError,
                       match=r"dY must have shape \(batch, out\) like the last forward's output"):
        model.backward(np.ones((2, 5, 2)))
    assert model.backward(np.ones((2, 2))).shape == (2, 5, 3)


def test_backward_before_forward_is_an_error():
    model = random_model()
    with pytest.raises(ValueError, match="backward needs a forward call first"):
        model.backward(np.ones((2, 5, 2)))
    assert model.grads == {}


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"output_size": 0}, ValueError, "output_size must be at least 1"),
        ({"output_size": 2.0}, TypeError, "output_size must be an integer"),
        ({"output_size": True}, TypeError, "output_size must be an integer"),
        ({"input_size": -3}, ValueError, "input_size must be at least 1"),
        ({"hidden_size": "4"}, TypeError, "hidden_size must be an integer"),
        ({"forget_bias": None}, TypeError, "forget_bias must be a real number"),
        ({"rng": [1, 2]}, TypeError, "rng must be"),
        ({"dtype": np.complex128}, TypeError, "dtype must be a floating-point type"),
    ],
)
def test_model_constructor_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        lr.LSTM(**{"input_size": 3, "hidden_size": 4, **kwargs})


# --- No mutation ----------------------------------------------------------------------------------


def test_no_argument_is_modified():
    rng = np.random.default_rng(22)
    X, h0, c0 = (rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4)),
                 rng.standard_normal((2, 4)))
    dY, dh, dc = (rng.standard_normal((2, 5, 2)), rng.standard_normal((2, 4)),
                  rng.standard_normal((2, 4)))
    W = lr.init_weights(3, 4, rng=0)
    x, h_prev, c_prev = X[:, 0].copy(), h0.copy(), c0.copy()
    model = random_model()
    params = model.get_params()
    arguments = [X, h0, c0, dY, dh, dc, W, x, h_prev, c_prev, *params.values()]
    before = [a.copy() for a in arguments]
    model.forward(X, True, True, h0=h0, c0=c0)
    model.backward(dY, dh=dh, dc=dc)
    model.forward(X, False, False, h0=h0, c0=c0)
    model.backward(dY[:, -1], dh=dh, dc=dc)
    model.set_params(params)
    cell = lr.LSTMCell.from_weights(W)
    cell.forward(x, h_prev, c_prev)
    for a, b in zip(arguments, before):
        assert np.array_equal(a, b)
        assert a.flags.writeable
