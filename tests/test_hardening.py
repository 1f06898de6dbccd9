"""Hostile sizes, scalars, numbers and arguments: each is refused clearly or computed right.

Every case here was a bug once (NumPy integer overflow in sizes, NaN from finite weights, silent
dtype promotion, wrong finite differences in float32, overflow in relative_error, NaN accepted,
positional state arguments swapped silently); each test failed before its fix.
"""

import threading
import time
import tracemalloc
import warnings

import numpy as np
import pytest

import lstm_reference as lr

# --- Sizes and scalars ------------------------------------------------------------------------


def test_numpy_integer_sizes_give_what_python_ints_give():
    W_numpy = lr.init_weights(np.uint8(3), np.uint8(100), rng=0)
    W_python = lr.init_weights(3, 100, rng=0)
    assert W_numpy.shape == (104, 400)
    assert np.array_equal(W_numpy, W_python)
    M_numpy = lr.xavier_uniform((np.uint8(200), np.uint8(100)), rng=0)
    assert np.array_equal(M_numpy, lr.xavier_uniform((200, 100), rng=0))
    model = lr.LSTM(np.uint8(3), np.uint8(100), np.uint8(200), rng=0)
    assert all(type(s) is int for s in (model.input_size, model.hidden_size, model.output_size))
    assert model.forward(np.ones((1, 2, 3))).shape == (1, 2, 200)


@pytest.mark.parametrize("value, error", [
    (None, TypeError), ("3", TypeError), ([3.0], TypeError), (True, TypeError),
    (float("nan"), ValueError), (float("inf"), ValueError), (-float("inf"), ValueError),
])
def test_init_weights_checks_forget_bias(value, error):
    with pytest.raises(error, match="forget_bias"):
        lr.init_weights(3, 2, forget_bias=value)


@pytest.mark.parametrize("make", [
    lambda: lr.init_weights(3, 2, forget_bias=1e300, dtype=np.float32),
    lambda: lr.LSTMCell(3, 2, forget_bias=1e300, dtype=np.float32),
    lambda: lr.LSTM(3, 2, forget_bias=-1e39, dtype=np.float32),
    lambda: lr.orthogonal((3, 3), gain=1e300, dtype=np.float32),
])
def test_a_scalar_that_overflows_the_dtype_is_refused(make):
    with pytest.raises(ValueError, match="must be finite and fit in float32"):
        make()


# --- Numbers ----------------------------------------------------------------------------------


def textbook(X, W, dtype):
    """eq-gates, eq-cell, eq-hidden with np.tanh, computed in ``dtype``: no scaling of W."""
    n, b, _ = X.shape
    d = W.shape[1] // 4
    c = h = np.zeros((b, d), dtype)
    for t in range(n):
        z = np.concatenate([np.ones((b, 1), dtype), X[t], h], axis=1) @ W
        i, f, o = (lr.sigmoid(z[:, k * d:(k + 1) * d]) for k in range(3))
        c = f * c + i * np.tanh(z[:, 3 * d:])
        h = o * np.tanh(c)
    return h


@pytest.mark.parametrize("dtype, weight", [
    (np.float16, 40000.0), (np.float32, 2e38), (np.float64, 1e308),
])
def test_finite_weights_above_half_the_maximum_give_finite_correct_outputs(dtype, weight):
    # d = 1: column 3 is the candidate g; row 2 the second input feature. Before the fix,
    # forward computed -2 W, which overflowed to -inf, and -inf * 0 (the zero state) is NaN.
    W = np.zeros((4, 4), dtype)
    W[0] = [0.5, 1.0, 0.5, 0.0]
    W[1] = [0.3, -0.2, 0.4, 0.7]
    W[2, 3] = weight
    X = np.array([[[0.5, -1.0]], [[1.0, 0.25]]], dtype)  # (n=2, b=1, input_size=2)
    H, c, h, cache = lr.forward(X, W)
    expected = textbook(X, W, dtype)
    assert H.dtype == dtype and np.isfinite(H).all()
    assert np.allclose(h, expected, rtol=0, atol=10 * np.finfo(dtype).eps)
    cell = lr.LSTMCell.from_weights(W)
    h_cell, c_cell = cell.forward(X[1], *cell.forward(X[0]))
    assert np.allclose(h, h_cell, rtol=0, atol=10 * np.finfo(dtype).eps)
    assert all(np.isfinite(g).all() for g in lr.backward(np.ones_like(H), cache))


@pytest.mark.parametrize("X_dtype", [np.float64, np.int64])
def test_a_float32_model_computes_in_float32_and_trains(X_dtype):
    model = lr.LSTM(3, 4, output_size=2, rng=0, dtype=np.float32)
    X = (np.arange(2 * 5 * 3).reshape(2, 5, 3) % 4).astype(X_dtype)  # float64 or integer data
    Y, h, c = model.forward(X, return_state=True, h0=np.zeros((2, 4)))  # a float64 state too
    assert Y.dtype == h.dtype == c.dtype == np.float32
    dX = model.backward(np.ones(Y.shape), dh=np.ones((2, 4)))
    assert dX.dtype == np.float32
    assert all(g.dtype == np.float32 for g in model.grads.values())
    params = model.get_params()
    model.set_params({k: params[k] - 0.1 * model.grads[k] for k in params})  # the training step
    assert model.get_params()["W_hf"].dtype == np.float32


def test_the_cell_computes_in_its_own_dtype():
    cell = lr.LSTMCell(2, 3, rng=0, dtype=np.float32)
    h, c = cell.forward(np.ones((4, 2)), h_prev=np.zeros((4, 3)))  # float64 in
    assert h.dtype == c.dtype == np.float32


def test_numerical_gradient_is_right_in_float32_and_float16():
    x = np.float32([300, 1])
    assert np.allclose(lr.numerical_gradient(np.sum, x), [1, 1], rtol=0, atol=1e-2)
    x16 = np.float16([3, -0.5])
    grad = lr.numerical_gradient(lambda v: (v.astype(np.float64) ** 2).sum(), x16)
    assert np.allclose(grad, 2 * x16.astype(np.float64), rtol=1e-2, atol=0)


@pytest.mark.parametrize("delta", [0, -1e-5, float("nan"), "1e-5"])
def test_numerical_gradient_refuses_a_bad_delta(delta):
    with pytest.raises((ValueError, TypeError), match="delta"):
        lr.numerical_gradient(np.sum, np.ones(2), delta)


@pytest.mark.parametrize("a, b, expected", [
    (1.7e308, 1e308, 0.7 / 2.7), (-1.7e308, 1.7e308, 1.0),
    (np.float32(3e38), np.float32(2e38), 0.2), (5e-324, 0.0, 1.0), (1.0, 1.0, 0.0), (0.0, 0.0, 0.0),
])
def test_relative_error_is_right_for_every_finite_input(a, b, expected):
    assert float(lr.relative_error(a, b)) == pytest.approx(expected, rel=1e-6)


def make_inputs():
    X = np.arange(3 * 2 * 4).reshape(3, 2, 4) / 24
    W = lr.init_weights(4, 5, rng=0)
    return {"X": X, "W": W, "c0": np.zeros((2, 5)), "h0": np.zeros((2, 5))}


@pytest.mark.parametrize("name", ["X", "W", "c0", "h0"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_forward_refuses_nan_and_inf(name, bad):
    inputs = make_inputs()
    value = inputs[name].copy()
    value.flat[3] = bad
    with pytest.raises(ValueError, match=f"{name} contains NaN or inf"):
        lr.forward(**{**inputs, name: value})


@pytest.mark.parametrize("name", ["dH", "dc", "dh"])
def test_backward_refuses_nan_and_inf(name):
    H, c, h, cache = lr.forward(**make_inputs())
    grads = {"dH": np.ones(H.shape), "dc": np.ones(c.shape), "dh": np.ones(h.shape)}
    grads[name][0, 0] = np.nan
    with pytest.raises(ValueError, match=f"{name} contains NaN or inf"):
        lr.backward(cache=cache, **grads)


def test_model_refuses_nan_in_its_input():
    model = lr.LSTM(4, 5, rng=0)
    with pytest.raises(ValueError, match="X contains NaN or inf"):
        model.forward(np.full((2, 3, 4), np.nan))


def test_masked_arrays_are_refused_with_the_way_to_express_padding():
    X = np.ma.masked_array(np.ones((3, 2, 4)), mask=np.zeros((3, 2, 4), bool))
    with pytest.raises(TypeError, match="X must be a plain array, not a masked array.*lengths="):
        lr.forward(X, lr.init_weights(4, 5, rng=0))
    with pytest.raises(TypeError, match="masked array"):
        lr.LSTM(4, 5, rng=0).forward(X)


# --- Arguments --------------------------------------------------------------------------------


def test_set_params_with_keys_of_mixed_types_gives_the_real_message():
    model = lr.LSTM(3, 4, rng=0)
    before = model.get_params()
    with pytest.raises(ValueError, match=r"unknown: \[1, 'z'\]"):
        model.set_params({**before, 1: 0, "z": 0})
    assert all(np.array_equal(before[k], v) for k, v in model.get_params().items())


def test_from_pytorch_layout_refuses_an_empty_input_size():
    with pytest.raises(ValueError, match=r"weight_ih_l0.*must have shape"):
        lr.from_pytorch_layout(np.zeros((8, 0)), np.zeros((8, 2)), np.zeros(8), np.zeros(8))


@pytest.mark.parametrize("call, name", [
    (lambda: lr.check_chunks_match_single_call(split=0), "split"),
    (lambda: lr.check_chunks_match_single_call(n=5, split=5), "split"),
    (lambda: lr.check_chunks_match_single_call(split=-2), "split"),
    (lambda: lr.check_chunks_match_single_call(split=1.5), "split"),
    (lambda: lr.check_sequential_matches_batch(n=0), "n"),
    (lambda: lr.check_gradients(n=0), "n"),
])
def test_check_functions_refuse_bad_parameters(call, name):
    with pytest.raises((ValueError, TypeError), match=rf"^{name} must"):
        call()


def test_the_model_state_arguments_are_keyword_only():
    model = lr.LSTM(2, 3, rng=0)
    X, state = np.ones((2, 4, 2)), np.zeros((2, 3))
    with pytest.raises(TypeError):
        model.forward(X, True, True, state, state)
    Y = model.forward(X, True, True, h0=state, c0=state)[0]
    with pytest.raises(TypeError):
        model.backward(np.ones(Y.shape), state, state)
    assert model.backward(np.ones(Y.shape), dh=state, dc=state).shape == X.shape


# --- Found by an adversarial review -----------------------------------------------------------


@pytest.mark.parametrize("dtype, scale, tolerance", [(np.float16, 1e-2, 1e-2),
                                                     (np.float32, 1e-3, 1e-5)])
def test_small_candidates_keep_their_relative_precision(dtype, scale, tolerance):
    # tanh(z) as 2 sigmoid(2z) - 1 cancels near z = 0: in float16 it lost every digit of h.
    rng = np.random.default_rng(0)
    W = (rng.standard_normal((6, 8)) * scale).astype(dtype)
    X = rng.standard_normal((3, 2, 3)).astype(dtype)
    h = lr.forward(X, W)[2]
    h64 = textbook(X.astype(np.float64), W.astype(np.float64), np.float64)
    assert np.max(np.abs(h - h64) / np.abs(h64)) < tolerance


def test_the_models_final_state_is_not_what_backward_reads():
    model = lr.LSTM(3, 2, 2, rng=0)
    X = np.ones((3, 4, 3))
    y, h, c = model.forward(X, return_sequences=False, return_state=True)
    model.backward(np.ones_like(y))
    before = model.grads["W_y"].copy()
    h += 1.0  # the caller edits what it was given
    model.backward(np.ones_like(y))
    assert np.array_equal(model.grads["W_y"], before)


@pytest.mark.parametrize("call, name", [
    (lambda W: lr.forward(np.ones((2, 1, 3), np.float32), W, h0=np.full((1, 2), 1e39)), "h0"),
    (lambda W: lr.LSTMCell.from_weights(W).forward(np.full((1, 3), 1e39)), "x"),
])
def test_finite_numbers_too_large_for_the_dtype_are_refused(call, name):
    W32 = lr.init_weights(3, 2, rng=0, dtype=np.float32)
    with pytest.raises(ValueError, match=f"{name} holds numbers too large for float32"):
        call(W32)


def test_an_overflowing_input_projection_gives_the_limit_without_warning():
    W = np.zeros((3, 4))
    W[1] = np.finfo(float).max  # x W_x overflows to inf for x = 2: every gate saturates
    H, c, h, _ = lr.forward(np.full((2, 1, 1), 2.0), W)
    assert np.isfinite(H).all() and np.allclose(H[-1], np.tanh(2.0))  # i = f = o = g = 1


@pytest.mark.parametrize("x, delta", [(np.float32([1.0]), 1e-9), (np.float16([65000]), None),
                                      (np.float16([1.0]), 1e5)])
def test_numerical_gradient_refuses_a_step_the_dtype_cannot_take(x, delta):
    with pytest.raises(ValueError, match="gives no usable step"):
        lr.numerical_gradient(np.sum, x, delta)


@pytest.mark.parametrize("call, error, name", [
    (lambda: lr.init_weights(3, 2, forget_bias=10**400), ValueError, "forget_bias"),
    (lambda: lr.orthogonal((2, 2), gain=-10**400), ValueError, "gain"),
    (lambda: lr.relative_error(1.0, 2.0, floor=np.array([1.0, 2.0])), TypeError, "floor"),
    (lambda: lr.relative_error(1.0, 2.0, floor=-1.0), ValueError, "floor"),
    (lambda: lr.find_gate_order(lr.init_weights(1, 1), np.ones((1, 1, 1)), np.ones((1, 1, 1)),
                                atol="x"), TypeError, "atol"),
    (lambda: lr.check_gradients(b=2.5), TypeError, "b"),
    (lambda: lr.check_gradients(seed=-1), ValueError, "seed"),
    (lambda: lr.check_extremes(n=0), ValueError, "n"),
    (lambda: lr.check_model_gradients(batch=0), ValueError, "batch"),
    (lambda: lr.LSTM.load(123), TypeError, "path"),
    (lambda: lr.forward(np.ones((2, 3, 1)), lr.init_weights(1, 2), lengths=[[1], [1, 2], 3]),
     TypeError, "lengths"),
])
def test_bad_arguments_are_named(call, error, name):
    with pytest.raises(error, match=f"^{name}"):
        call()


@pytest.mark.parametrize("tamper", [
    lambda cache: {**cache, "order": cache["order"].astype(float)},
    lambda cache: {**cache, "order": cache["order"] + 1},
    lambda cache: {**cache, "batch_sizes": cache["batch_sizes"] + 1},
    lambda cache: {**cache, "IFOG": cache["IFOG"].astype(int)},
])
def test_a_cache_whose_packing_does_not_fit_is_refused(tamper):
    H, c, h, cache = lr.forward(np.ones((3, 2, 1)), lr.init_weights(1, 2, rng=0), lengths=[3, 2])
    with pytest.raises(ValueError, match="cache must be the dict returned by forward"):
        lr.backward(np.ones(H.shape), tamper(cache))


def test_set_params_takes_big_endian_arrays_as_load_does():
    model = lr.LSTM(2, 3, rng=0)
    params = {k: v.astype(v.dtype.newbyteorder(">")) for k, v in model.get_params().items()}
    model.set_params(params)
    assert model.get_params()["W_xi"].dtype == np.float64  # stored natively
    assert all(np.array_equal(v, params[k]) for k, v in model.get_params().items())


# --- Found by a second adversarial review -----------------------------------------------------


def test_from_layout_refuses_biases_that_sum_beyond_the_dtype():
    params = lr.to_layout(lr.init_weights(3, 2, rng=0), "pytorch")
    params["bias_ih_l0"][:] = params["bias_hh_l0"][:] = 1e308
    with pytest.raises(ValueError, match="two biases sum beyond float64, contains NaN or inf"):
        lr.from_layout(params, "pytorch")


def test_a_key_given_flat_and_nested_is_refused():
    params = lr.to_layout(lr.init_weights(3, 2, rng=0), "flax")
    with pytest.raises(ValueError, match="'ii/kernel' twice"):
        lr.from_layout({**params, "ii/kernel": np.zeros((3, 2))}, "flax")


def test_a_big_endian_dtype_gives_a_native_model_that_saves():
    model = lr.LSTM(2, 3, rng=0, dtype=">f8")
    assert model.dtype == np.float64
    model.set_params(model.get_params())
    model.save(__import__("io").BytesIO())
    assert model.forward(np.ones((1, 2, 2))).dtype == np.float64


def test_check_model_gradients_checks_its_flag():
    with pytest.raises(TypeError, match="return_state must be True or False"):
        lr.check_model_gradients(return_state="no")


def test_numerical_gradient_refuses_a_step_wider_than_the_float_range():
    with pytest.raises(ValueError, match="gives no usable step"):
        lr.numerical_gradient(np.sum, np.ones(2), 1e308)


def test_relative_error_takes_a_floor_above_the_inputs_dtype_range():
    assert float(lr.relative_error(np.float16(1), np.float16(2), floor=1e5)) == 1e-5


# --- Found by a hostile user (issue 17) ---------------------------------------------------------


def test_no_function_changes_the_warning_filters_of_other_threads():
    """Checking an array once swapped the process's warning filters out and back
    (warnings.catch_warnings), so filters another thread installed meanwhile were lost."""
    W = lr.init_weights(2, 3, rng=0)
    X = [[[0.1, 0.2]], [[0.3, 0.4]]]  # a nested list: the path that looks for raggedness
    done = threading.Event()

    def work():
        while not done.is_set():
            lr.forward(X, W)
            with pytest.raises(TypeError):
                lr.forward([[[0.1, 0.2]], [[0.3]]], W)  # ragged

    with warnings.catch_warnings():  # this test's own filters, restored at its end
        worker = threading.Thread(target=work)
        worker.start()
        try:
            for k in range(3000):
                warnings.filterwarnings("ignore", message=f"issue 17 probe {k}$")
                time.sleep(0)  # let the other thread run between two filters
        finally:
            done.set()
            worker.join()
        installed = {f[1].pattern for f in warnings.filters if f[1] is not None}
        assert all(f"issue 17 probe {k}$" in installed for k in range(3000))


def test_forward_and_the_model_leave_the_warning_filters_as_they_were():
    before = list(warnings.filters)
    with pytest.raises(TypeError, match="ragged"):
        lr.forward([[[1.0]], [[1.0, 2.0]]], lr.init_weights(1, 1))
    lr.LSTM(1, 2, rng=0).forward(np.ones((1, 2, 1)))
    assert warnings.filters == before


class Tracked:
    """Stands in for a torch tensor that requires grad: NumPy cannot read it."""
    requires_grad = True
    shape = (8, 3)

    def detach(self):
        return np.zeros(self.shape)

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("Can't call numpy() on Tensor that requires grad.")


@pytest.mark.parametrize("call, name", [
    (lambda: lr.forward(Tracked(), lr.init_weights(3, 2)), "X"),
    (lambda: lr.forward(np.ones((1, 1, 3)), Tracked()), "W"),
    (lambda: lr.from_pytorch_layout(Tracked(), np.zeros((8, 2)), np.zeros(8), np.zeros(8)),
     r"params\['weight_ih_l0'\]"),
    (lambda: lr.from_layout({"kernel": Tracked(), "recurrent_kernel": np.zeros((2, 8)),
                             "bias": np.zeros(8)}, "keras"), r"params\['kernel'\]"),
    (lambda: lr.LSTM(3, 2).set_params({**lr.LSTM(3, 2).get_params(), "W_xi": Tracked()}),
     r"params\['W_xi'\]"),
    (lambda: lr.LSTM(3, 2).forward(Tracked()), "X"),
])
def test_a_tensor_that_requires_grad_is_named_with_the_fix(call, name):
    with pytest.raises(TypeError, match=f"^{name} is a tensor that requires grad.*"
                                        f"{name}.detach()"):
        call()


PADDED = [np.nan, np.inf, -np.inf, 1e308]


@pytest.mark.parametrize("junk", PADDED)
def test_padded_steps_of_forward_and_backward_are_ignored_whatever_they_hold(junk):
    W, lengths = lr.init_weights(2, 3, rng=0), [4, 2, 0]
    X = np.random.default_rng(0).standard_normal((4, 3, 2))
    running = np.arange(4)[:, None] < np.array(lengths)  # (n, b)
    X_junk = np.where(running[..., None], X, junk)
    H, c, h, cache = lr.forward(X * running[..., None], W, lengths=lengths)
    H_j, c_j, h_j, cache_j = lr.forward(X_junk, W, lengths=lengths)
    assert all(np.array_equal(a, b) for a, b in [(H, H_j), (c, c_j), (h, h_j)])
    dH = np.random.default_rng(1).standard_normal(H.shape)
    clean = lr.backward(dH * running[..., None], cache)
    junked = lr.backward(np.where(running[..., None], dH, junk), cache_j)
    assert all(np.array_equal(a, b) for a, b in zip(clean, junked))


@pytest.mark.parametrize("junk", PADDED)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_padded_steps_of_the_models_input_and_output_gradient_are_ignored(junk, dtype):
    model, lengths = lr.LSTM(2, 3, output_size=2, rng=0, dtype=dtype), [3, 1]
    X = np.random.default_rng(0).standard_normal((2, 3, 2))
    running = (np.arange(3) < np.array(lengths)[:, None])[..., None]  # (b, n, 1)
    Y = model.forward(X * running, lengths=lengths)
    dY = np.random.default_rng(1).standard_normal(Y.shape)
    dX = model.backward(dY * running)
    grads = model.grads
    Y_j = model.forward(np.where(running, X, junk), lengths=lengths)
    dX_j = model.backward(np.where(running, dY, junk))
    assert np.array_equal(Y, Y_j) and np.array_equal(dX, dX_j)
    assert all(np.array_equal(grads[k], model.grads[k]) for k in grads)


def test_nan_at_a_step_that_runs_is_still_refused():
    W = lr.init_weights(2, 3, rng=0)
    X = np.zeros((3, 2, 2))
    X[1, 1, 0] = np.nan  # sequence 1 runs 2 steps: step 2 is real
    with pytest.raises(ValueError, match="^X contains NaN or inf at a step that runs"):
        lr.forward(X, W, lengths=[3, 2])
    H, c, h, cache = lr.forward(np.zeros((3, 2, 2)), W, lengths=[3, 2])
    dH = np.zeros(H.shape)
    dH[2, 0, 1] = np.inf
    with pytest.raises(ValueError, match="^dH contains NaN or inf at a step that runs"):
        lr.backward(dH, cache)
    with pytest.raises(ValueError, match="^X holds numbers too large for float32"):
        lr.LSTM(2, 3, rng=0, dtype=np.float32).forward(np.full((1, 2, 2), 1e300), lengths=[2])


@pytest.mark.parametrize("call, message", [
    (lambda: lr.init_weights(1, 2**40), "^input_size=1, hidden_size=1099511627776: too large, W "),
    (lambda: lr.init_weights(10**6, 10**6, dtype=np.float16), "^input_size=1000000, hidden"),
    (lambda: lr.LSTM(10**6, 10**6), "^input_size=1000000, hidden_size=1000000: too large"),
    (lambda: lr.LSTMCell(10, 10**7), "^input_size=10, hidden_size=10000000: too large"),
    (lambda: lr.xavier_uniform((10**7, 10**7)), r"^shape = \(10000000, 10000000\): too large"),
    (lambda: lr.orthogonal((2**62, 2)), r"^shape = \(4611686018427387904, 2\): too large"),
])
def test_sizes_whose_arrays_cannot_exist_are_named_before_allocating(call, message):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            call()
        assert tracemalloc.get_traced_memory()[1] < 1 << 20
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("lengths, error, message", [
    ([], ValueError, r"^lengths must have shape \(batch,\) = \(3,\); got \(0,\)"),
    ([True, 2, 3], TypeError, "^lengths must hold integers; got booleans"),
    ([True, True, True], TypeError, "^lengths must hold integers; got booleans"),
    ([np.True_, 1, 1], TypeError, "^lengths must hold integers; got booleans"),
])
def test_lengths_messages_say_what_is_wrong(lengths, error, message):
    with pytest.raises(error, match=message):
        lr.forward(np.ones((3, 3, 1)), lr.init_weights(1, 2), lengths=lengths)


def test_cache_messages_name_the_entry_that_is_wrong():
    H, c, h, cache = lr.forward(np.ones((3, 2, 1)), lr.init_weights(1, 2, rng=0))
    with pytest.raises(ValueError, match=r"exactly the names X, W, IFOG, C, Ct, H, order, "
                                         r"batch_sizes; unknown: \[\], missing: \['order'\]"):
        lr.backward(H, {k: v for k, v in cache.items() if k != "order"})
    with pytest.raises(ValueError, match=r"^cache\['order'\] must have shape as made by forward "
                                         r"= \(any,\); got \(1, 2\)"):
        lr.backward(H, {**cache, "order": cache["order"][None]})


def test_numerical_gradient_needs_a_scalar_function():
    with pytest.raises(TypeError, match=r"^f must return a scalar \(a loss\); got an array of "
                                        r"shape \(3,\)"):
        lr.numerical_gradient(lambda v: v * 2, np.ones(3))
    with pytest.raises(TypeError, match="^f must be a function of x"):
        lr.numerical_gradient(np.ones(3), np.ones(3))
    assert np.allclose(lr.numerical_gradient(lambda v: np.array([v.sum()]), np.ones(2)), 1)


def test_relative_error_needs_arrays_of_one_shape():
    with pytest.raises(ValueError, match=r"^a and b must have the same shape; got \(3,\) and "
                                         r"\(2, 3\)"):
        lr.relative_error(np.ones(3), np.ones((2, 3)))
    assert lr.relative_error(np.ones(3), 1.0).tolist() == [0, 0, 0]  # a scalar goes with any


def test_a_list_of_zero_d_arrays_is_numbers_not_a_ragged_list():
    values = [np.array(1.0), np.array(2.0)]  # np.asarray(..., dtype=object) keeps them whole
    assert lr.relative_error(values, [1.0, 2.0]).tolist() == [0.0, 0.0]
    with pytest.raises(TypeError, match="ragged"):
        lr.relative_error([[1.0, 2.0], np.array(3.0)], [1.0, 2.0])


def test_an_output_layer_too_large_for_memory_is_refused_by_name():
    with pytest.raises(ValueError, match=r"output_size=1000000000000: too large"):
        lr.LSTM(10, 10, output_size=10**12)
