"""Tests of the fused core: forward, backward, init_weights, sigmoid, the layout functions.

The doctests in the module state what each function does; these tests check it over many
shapes (hypothesis), against an independent textbook implementation (the one the benchmark
times), and on bad input.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from problems import problem
from strategies import sizes

import lstm_reference as lr
from benchmarks.textbook import textbook_forward  # the repository root is on sys.path (conftest.py)

# --- Forward ----------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(sizes)
def test_forward_matches_textbook(args):
    X, W, c0, h0, *_ = problem(*args)
    H, c, h, _ = lr.forward(X, W, c0, h0)
    H_ref, c_ref, h_ref, _ = textbook_forward(X, W, c0, h0)
    np.testing.assert_allclose(H, H_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(c, c_ref, rtol=0, atol=1e-13)
    np.testing.assert_allclose(h, h_ref, rtol=0, atol=1e-13)


@settings(max_examples=40, deadline=None)
@given(sizes)
def test_stepwise_equals_batch(args):
    n, b, input_size, d, seed = args
    assert lr.check_sequential_matches_batch(n, b, input_size, d, seed=seed) < 1e-12


@settings(max_examples=40, deadline=None)
@given(sizes.filter(lambda a: a[0] >= 2), st.data())
def test_two_chunks_equal_one_call(args, data):
    n, b, input_size, d, seed = args
    split = data.draw(st.integers(1, n - 1))
    assert lr.check_chunks_match_single_call(n, b, input_size, d, split=split, seed=seed) < 1e-12


def test_default_states_are_zeros():
    X, W, *_ = problem(3, 2, 4, 5, seed=0)
    zeros = np.zeros((2, 5))
    H_default = lr.forward(X, W)[0]
    H_zeros = lr.forward(X, W, zeros, zeros)[0]
    assert np.array_equal(H_default, H_zeros)


def test_H_is_read_only_and_backward_is_protected():
    X, W, c0, h0, R, *_ = problem(4, 2, 3, 5, seed=1)
    H, c, h, cache = lr.forward(X, W, c0, h0)
    expected = lr.backward(R, cache)
    with pytest.raises(ValueError):
        H[0, 0, 0] = 99.0
    H_copy = np.array(H)
    H_copy += 1.0  # a copy is the user's to edit
    c += 1.0  # the final states are fresh arrays
    h += 1.0
    for a, e in zip(lr.backward(R, cache), expected):
        assert np.array_equal(a, e)


def test_array_likes_and_integers_are_accepted():
    W = lr.init_weights(2, 3, rng=0)
    X_list = [[[0, 1]], [[2, 3]]]  # (n=2, b=1, input_size=2) nested lists of ints
    H_list = lr.forward(X_list, W.tolist())[0]
    H_array = lr.forward(np.array(X_list, dtype=float), W)[0]
    assert H_list.dtype == np.float64
    assert np.array_equal(H_list, H_array)


# --- Backward ---------------------------------------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_gradients_match_central_differences(args):
    n, b, input_size, d, seed = args
    errors = lr.check_gradients(n, b, input_size, d, seed=seed)
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_can_fail():
    """A wrong backward must be caught: perturb one gradient and recompute the error."""
    X, W, c0, h0, R, *_ = problem(3, 2, 3, 2, seed=3)
    _, _, _, cache = lr.forward(X, W, c0, h0)
    dW = lr.backward(R, cache)[1]
    numeric = lr.numerical_gradient(lambda W_: np.sum(lr.forward(X, W_, c0, h0)[0] * R), W)
    assert np.max(lr.relative_error(dW, numeric)[np.abs(numeric) > 1e-3]) < 1e-6
    dW_wrong = dW.copy()
    dW_wrong[-1, 0] *= 1.001
    assert np.max(lr.relative_error(dW_wrong, numeric)) > 1e-5


def test_state_gradients_add_to_the_flow_through_time():
    """dc, dh on the final state equal a loss on c and h (checked numerically in c0, h0)."""
    X, W, c0, h0, R, *_ = problem(3, 2, 3, 4, seed=4)
    rng = np.random.default_rng(5)
    Rc, Rh = rng.standard_normal((2, 2, 4))

    def loss(c0_):
        H, c, h, _ = lr.forward(X, W, c0_, h0)
        return np.sum(c * Rc) + np.sum(h * Rh)

    _, _, _, cache = lr.forward(X, W, c0, h0)
    dc0 = lr.backward(np.zeros_like(R), cache, dc=Rc, dh=Rh)[2]
    np.testing.assert_allclose(dc0, lr.numerical_gradient(loss, c0), rtol=1e-6, atol=1e-9)


def test_backward_can_run_twice_with_the_same_result():
    X, W, c0, h0, R, *_ = problem(5, 3, 4, 3, seed=6)
    _, _, _, cache = lr.forward(X, W, c0, h0)
    first, second = lr.backward(R, cache), lr.backward(R, cache)
    for a, b in zip(first, second):
        assert np.array_equal(a, b)


# --- No mutation ------------------------------------------------------------------------------


def test_no_argument_is_modified():
    X, W, c0, h0, R, *_ = problem(4, 3, 5, 2, seed=7)
    dc, dh = np.ones((3, 2)), np.full((3, 2), 0.5)
    arguments = [X, W, c0, h0, R, dc, dh]
    before = [a.copy() for a in arguments]
    _, _, _, cache = lr.forward(X, W, c0, h0)
    lr.backward(R, cache, dc, dh)
    lr.to_pytorch_layout(W)
    lr.numerical_gradient(lambda v: float(np.sum(v**2)), X)
    for a, b in zip(arguments, before):
        assert np.array_equal(a, b)
        assert a.flags.writeable


# --- dtypes and extremes ------------------------------------------------------------------------


def test_float32_end_to_end_and_close_to_float64():
    X, W, c0, h0, R, *_ = problem(6, 3, 4, 5, seed=8)
    f32 = [a.astype(np.float32) for a in (X, W, c0, h0, R)]
    H32, c32, h32, cache32 = lr.forward(*f32[:4])
    grads32 = lr.backward(f32[4], cache32)
    H64, c64, h64, cache64 = lr.forward(X, W, c0, h0)
    grads64 = lr.backward(R, cache64)
    for a32, a64 in zip((H32, c32, h32, *grads32), (H64, c64, h64, *grads64)):
        assert a32.dtype == np.float32
        np.testing.assert_allclose(a32, a64, rtol=1e-4, atol=1e-5)
    assert all(v.dtype == np.float32 for v in cache32.values() if v.dtype.kind == "f")


def test_default_states_follow_the_dtype():
    X, W, *_ = problem(2, 2, 3, 3, seed=9, dtype=np.float32)
    H, c, h, cache = lr.forward(X, W)
    assert c.dtype == h.dtype == cache["C"].dtype == np.float32
    dX, dW, dc0, dh0 = lr.backward(np.ones_like(H), cache)
    assert dX.dtype == dW.dtype == dc0.dtype == dh0.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_weights_stay_finite_without_warnings(dtype):
    X, W, c0, h0, R, *_ = problem(7, 3, 4, 5, seed=10, dtype=dtype)
    with np.errstate(all="raise", under="ignore"):
        H, c, h, cache = lr.forward(X * 100, W * 1e4, c0, h0)
        grads = lr.backward(R, cache)
    for a in (H, c, h, *grads):
        assert np.isfinite(a).all()
    assert np.all(np.abs(H) <= 1)


def test_long_sequence_stays_finite():
    assert lr.check_extremes(n=5000) == 0.0


def test_check_extremes_counts_what_is_not_finite(monkeypatch):
    """A forward that lets one NaN through: the check counts it."""
    right = lr.forward

    def leaky(*args, **kwargs):
        H, c, h, cache = right(*args, **kwargs)
        return H, np.where(np.arange(c.size).reshape(c.shape) == 0, np.nan, c), h, cache

    monkeypatch.setattr(lr, "forward", leaky)
    assert lr.check_extremes(n=3) == 5.0  # one NaN in each of the five runs' final c


def test_cache_holds_about_seven_nbd_numbers_and_no_copy_of_X():
    n, b, input_size, d = 20, 4, 6, 8
    X, W, c0, h0, *_ = problem(n, b, input_size, d, seed=11)
    _, _, _, cache = lr.forward(X, W, c0, h0)
    assert np.shares_memory(cache["X"], X) and cache["W"] is W  # references, not copies
    held = sum(v.size for k, v in cache.items() if k not in ("X", "W"))
    assert held == 7 * n * b * d + 2 * b * d + b + n  # + the packing: order (b,), batch_sizes (n,)


# --- sigmoid ----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_never_warns_and_matches_two_branch_form(dtype):
    info = np.finfo(dtype)
    x = np.concatenate([np.linspace(-50, 50, 1001),
                        [info.min, -1e4, -100, 100, 1e4, info.max]]).astype(dtype)
    with np.errstate(all="raise"):
        s = lr.sigmoid(x)
    assert s.dtype == dtype
    # An independent formula: the two-branch stable form, each branch only where it is safe.
    x64, reference = x.astype(np.float64), np.empty(x.shape)
    negative = x64 < 0
    e = np.exp(x64[negative])
    reference[negative] = e / (1 + e)
    reference[~negative] = 1 / (1 + np.exp(-x64[~negative]))
    np.testing.assert_allclose(s, reference, rtol=4 * info.eps, atol=info.tiny)
    assert s[1001] == 0 and s[-1] == 1  # at -max and +max: the exact limits


# --- init_weights -----------------------------------------------------------------------------


def test_init_weights_layout_and_statistics():
    W = lr.init_weights(30, 20, forget_bias=2.5, rng=0)
    assert W.shape == (51, 80)
    assert np.array_equal(W[0, 20:40], np.full(20, 2.5))
    assert not np.any(W[0, :20]) and not np.any(W[0, 40:])
    assert abs(W[1:].std() * np.sqrt(50) - 1) < 0.05
    assert abs(W[1:].mean()) < 0.02


def test_init_weights_rng_forms():
    assert np.array_equal(lr.init_weights(3, 2, rng=5),
                          lr.init_weights(3, 2, rng=np.random.default_rng(5)))
    assert not np.array_equal(lr.init_weights(3, 2), lr.init_weights(3, 2))  # None: fresh entropy
    assert lr.init_weights(3, 2, dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    "args, kwargs, error, words",
    [
        ((0, 4), {}, ValueError, "input_size"),
        ((3, -1), {}, ValueError, "hidden_size"),
        ((3.0, 4), {}, TypeError, "input_size"),
        ((3, True), {}, TypeError, "hidden_size"),
        ((3, 4), {"dtype": np.int64}, TypeError, "dtype"),
        ((3, 4), {"rng": "seed"}, TypeError, "rng"),
        ((3, 4), {"rng": -1}, ValueError, "rng"),
    ],
)
def test_init_weights_bad_input(args, kwargs, error, words):
    with pytest.raises(error, match=words):
        lr.init_weights(*args, **kwargs)


# --- Layout conversion --------------------------------------------------------------------------


def test_pytorch_layout_blocks_by_name():
    input_size, d = 3, 2
    W = np.arange((1 + input_size + d) * 4 * d, dtype=float).reshape(1 + input_size + d, 4 * d)
    weight_ih, weight_hh, bias_ih, bias_hh = lr.to_pytorch_layout(W)
    ours = dict(zip("ifog", np.split(W, 4, axis=1)))  # each (1 + in + d, d)
    theirs = zip("ifgo", np.split(weight_ih, 4), np.split(weight_hh, 4), np.split(bias_ih, 4))
    for gate, w_ih, w_hh, b_ih in theirs:
        assert np.array_equal(w_ih, ours[gate][1:1 + input_size].T)
        assert np.array_equal(w_hh, ours[gate][1 + input_size:].T)
        assert np.array_equal(b_ih, ours[gate][0])
    assert not np.any(bias_hh)
    assert np.array_equal(lr.from_pytorch_layout(weight_ih, weight_hh, bias_ih, bias_hh), W)


def test_from_pytorch_layout_sums_the_biases():
    rng = np.random.default_rng(12)
    weight_ih, weight_hh = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
    bias_ih, bias_hh = rng.standard_normal(8), rng.standard_normal(8)
    W = lr.from_pytorch_layout(weight_ih, weight_hh, bias_ih, bias_hh)
    back = lr.to_pytorch_layout(W)
    np.testing.assert_allclose(back[2], bias_ih + bias_hh, rtol=0, atol=0)
    assert np.array_equal(back[0], weight_ih) and np.array_equal(back[1], weight_hh)


def test_relative_error_is_defined_at_zero():
    assert lr.relative_error(0.0, 0.0) == 0.0
    assert lr.relative_error(2.0, 1.0) == pytest.approx(1 / 3)


# --- Bad input --------------------------------------------------------------------------------

GOOD = dict(n=3, b=2, input_size=4, d=5)


def good_forward_args():
    X, W, c0, h0, *_ = problem(GOOD["n"], GOOD["b"], GOOD["input_size"], GOOD["d"], seed=13)
    return {"X": X, "W": W, "c0": c0, "h0": h0}


FORWARD_CASES = [
    ("X", np.zeros((3, 4)), ValueError, r"X must have shape \(n, batch, input_size\).*\(3, 4\)"),
    ("X", np.zeros((3, 2, 4, 1)), ValueError, r"X must have shape.*\(3, 2, 4, 1\)"),
    ("X", np.zeros((3, 2, 6)), ValueError, r"X must have shape .*\(any, any, 4\); got \(3, 2, 6\)"),
    ("X", np.zeros((0, 2, 4)), ValueError, r"X must hold at least one step of one sequence"),
    ("X", np.zeros((3, 2, 4), dtype=complex), TypeError, r"X must hold real"),
    ("X", "not an array", TypeError, r"X must hold real"),
    ("W", np.zeros((10, 19)), ValueError, r"W must have shape .*multiple of 4"),
    ("W", np.zeros((5, 20)), ValueError, r"W must have shape .*5 at least 7 rows; got \(5, 20\)"),
    ("W", np.zeros((11, 20, 1)), ValueError, r"W must have shape"),
    ("W", np.zeros((12, 20)), ValueError, r"X must have shape .*\(any, any, 6\); got \(3, 2, 4\)"),
    ("c0", np.zeros((5, 2)), ValueError,
     r"c0 must have shape \(batch, hidden_size\) = \(2, 5\); got \(5, 2\)"),
    ("h0", np.zeros((2,)), ValueError,
     r"h0 must have shape \(batch, hidden_size\) = \(2, 5\); got \(2,\)"),
    ("h0", np.zeros((2, 5), dtype=complex), TypeError, r"h0 must hold real"),
]


@pytest.mark.parametrize("name, value, error, message", FORWARD_CASES)
def test_forward_rejects_bad_input_and_changes_nothing(name, value, error, message):
    args = good_forward_args()
    before = {k: v.copy() for k, v in args.items()}
    args[name] = value
    with pytest.raises(error, match=message):
        lr.forward(**args)
    for k, v in before.items():
        if k != name:
            assert np.array_equal(args[k], v)


def test_square_input_is_never_transposed():
    """batch == input_size: a (b, n, input_size) array is as valid as (n, b, input_size), so the
    only safe rule is the documented one. A transposed 2-D input is an error, never guessed."""
    W = lr.init_weights(3, 2, rng=0)
    X = np.arange(2 * 3 * 3).reshape(2, 3, 3) / 10
    H = lr.forward(X, W)[0]
    assert H.shape == (2, 3, 2)
    with pytest.raises(ValueError, match="X must have shape"):
        lr.forward(X[0], W)  # (3, 3): could be (b, in) or (in, b); refused


def make_cache():
    args = good_forward_args()
    H, c, h, cache = lr.forward(**args)
    return H, cache


BACKWARD_CASES = [
    ("dH", np.zeros((3, 2, 4)), ValueError, r"dH must have shape .*\(3, 2, 5\); got \(3, 2, 4\)"),
    ("dH", np.zeros((2, 5)), ValueError, r"dH must have shape"),
    ("dc", np.zeros((2, 4)), ValueError, r"dc must have shape .*\(2, 5\); got \(2, 4\)"),
    ("dh", np.zeros((5, 2)), ValueError, r"dh must have shape .*\(2, 5\); got \(5, 2\)"),
    ("dh", np.zeros((2, 5), dtype=complex), TypeError, r"dh must hold real"),
]


@pytest.mark.parametrize("name, value, error, message", BACKWARD_CASES)
def test_backward_rejects_bad_input(name, value, error, message):
    H, cache = make_cache()
    kwargs = {"dH": np.ones(H.shape), "cache": cache, name: value}
    with pytest.raises(error, match=message):
        lr.backward(**kwargs)


@pytest.mark.parametrize(
    "tamper, error, message",
    [
        (lambda cache: [1, 2, 3], TypeError, r"cache \(the dict returned by forward\) must be a"),
        (lambda cache: {k: v for k, v in cache.items() if k != "Ct"}, ValueError,
         r"cache \(the dict returned by forward\) must have exactly .*missing: \['Ct'\]"),
        (lambda cache: {**cache, "C": cache["C"][1:]}, ValueError, r"cache\['C'\] must have shape"),
        (lambda cache: {**cache, "H": "x"}, ValueError, "its entries are not arrays"),
        (lambda cache: {**cache, "W": cache["W"][1:]}, ValueError, r"cache\['W'\] must have shape"),
    ],
)
def test_backward_rejects_a_foreign_cache(tamper, error, message):
    H, cache = make_cache()
    with pytest.raises(error, match=message):
        lr.backward(np.ones(H.shape), tamper(cache))
