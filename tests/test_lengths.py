"""Variable-length batches: ``forward(..., lengths=)``, ``backward``, and the model.

The oracle for a padded batch is each sequence run alone, unpadded, through the same
functions without lengths; gradients are checked against central differences of every element,
and tests/test_torch.py compares with torch.nn.LSTM on packed sequences.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from problems import problem

import lstm_reference as lr


@st.composite
def padded_problems(draw):
    n, b = draw(st.integers(1, 7)), draw(st.integers(1, 5))
    input_size, d = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    lengths = draw(st.lists(st.integers(0, n), min_size=b, max_size=b))  # 0: no step
    return n, b, input_size, d, np.array(lengths), draw(st.integers(0, 2**16))




@settings(max_examples=60, deadline=None)
@given(padded_problems())
def test_each_sequence_of_a_padded_batch_is_as_if_run_alone(args):
    n, b, input_size, d, lengths, seed = args
    X, W, c0, h0, dH, dc, dh = problem(n, b, input_size, d, seed)
    H, c, h, cache = lr.forward(X, W, c0, h0, lengths=lengths)
    dX, dW, dc0, dh0 = lr.backward(dH, cache, dc, dh)
    dW_sum = np.zeros_like(W)
    for k, length in enumerate(lengths):
        one = slice(k, k + 1)
        if length == 0:  # no step: the states and their gradients pass through unchanged
            H_k, c_k, h_k, dX_k, dc0_k, dh0_k = H[:0, one], c0[one], h0[one], X[:0, one], \
                dc[one], dh[one]
        else:
            H_k, c_k, h_k, cache_k = lr.forward(X[:length, one], W, c0[one], h0[one])
            dX_k, dW_k, dc0_k, dh0_k = lr.backward(dH[:length, one], cache_k, dc[one], dh[one])
            dW_sum += dW_k
        for ours, alone in [(H[:length, one], H_k), (c[one], c_k), (h[one], h_k),
                            (dX[:length, one], dX_k), (dc0[one], dc0_k), (dh0[one], dh0_k)]:
            np.testing.assert_allclose(ours, alone, rtol=0, atol=1e-13)
        assert not H[length:, k].any() and not dX[length:, k].any()  # padded steps: 0
    np.testing.assert_allclose(dW, dW_sum, rtol=0, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(padded_problems())
def test_gradients_with_lengths_match_central_differences(args):
    n, b, input_size, d, lengths, seed = args
    errors = lr.check_gradients(n, b, input_size, d, lengths=lengths, seed=seed)
    assert max(errors.values()) < 1e-6, errors


def test_padding_and_padded_gradients_change_nothing():
    X, W, c0, h0, dH, dc, dh = problem(5, 3, 2, 4, seed=1)
    lengths = np.array([5, 2, 3])
    padded = np.arange(5)[:, None] >= lengths  # (n, b)
    results = []
    for fill in (0.0, 1e3):
        H, c, h, cache = lr.forward(np.where(padded[..., None], fill, X), W, c0, h0,
                                    lengths=lengths)
        grads = lr.backward(np.where(padded[..., None], fill, dH), cache, dc, dh)
        results.append([H, c, h, *grads])
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_full_lengths_are_the_call_without_lengths_bit_for_bit():
    X, W, c0, h0, dH, dc, dh = problem(4, 3, 2, 5, seed=2)
    plain = lr.forward(X, W, c0, h0)
    full = lr.forward(X, W, c0, h0, lengths=[4, 4, 4])
    for a, b in zip(plain[:3], full[:3]):
        assert np.array_equal(a, b)
    for a, b in zip(lr.backward(dH, plain[3], dc, dh), lr.backward(dH, full[3], dc, dh)):
        assert np.array_equal(a, b)


def test_chunks_with_lengths_equal_one_call():
    X, W, c0, h0, dH, dc, dh = problem(8, 4, 3, 5, seed=3)
    lengths, split = np.array([8, 4, 6, 5]), 3  # every sequence runs past the split
    H, c, h, cache = lr.forward(X, W, c0, h0, lengths=lengths)
    dX, dW, dc0, dh0 = lr.backward(dH, cache, dc, dh)
    H1, c1, h1, cache1 = lr.forward(X[:split], W, c0, h0)
    H2, c2, h2, cache2 = lr.forward(X[split:], W, c1, h1, lengths=lengths - split)
    dX2, dW2, dc1, dh1 = lr.backward(dH[split:], cache2, dc, dh)
    dX1, dW1, dc0_1, dh0_1 = lr.backward(dH[:split], cache1, dc1, dh1)
    pairs = [(H, np.concatenate([H1, H2])), (c, c2), (h, h2), (dX, np.concatenate([dX1, dX2])),
             (dW, dW1 + dW2), (dc0, dc0_1), (dh0, dh0_1)]
    assert max(np.abs(a - b).max() for a, b in pairs) < 1e-13


# --- Zero lengths: a sequence of no step ---------------------------------------------------------


def test_a_sequence_of_no_step_outputs_zeros_and_keeps_its_initial_state():
    X, W, c0, h0, dH, dc, dh = problem(4, 3, 2, 5, seed=5)
    lengths = np.array([4, 0, 2])
    H, c, h, cache = lr.forward(X, W, c0, h0, lengths=lengths)
    dX, dW, dc0, dh0 = lr.backward(dH, cache, dc, dh)
    assert not H[:, 1].any() and not dX[:, 1].any()
    assert np.array_equal(c[1], c0[1]) and np.array_equal(h[1], h0[1])
    assert np.array_equal(dc0[1], dc[1]) and np.array_equal(dh0[1], dh[1])  # passed straight
    others = [0, 2]  # the rest of the batch is as if the empty sequence were not there
    H_o, c_o, h_o, cache_o = lr.forward(X[:, others], W, c0[others], h0[others],
                                        lengths=lengths[others])
    dX_o, dW_o, dc0_o, dh0_o = lr.backward(dH[:, others], cache_o, dc[others], dh[others])
    for a, b in [(H[:, others], H_o), (c[others], c_o), (dX[:, others], dX_o), (dW, dW_o),
                 (dc0[others], dc0_o), (dh0[others], dh0_o)]:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_a_batch_of_empty_sequences():
    X, W, c0, h0, dH, dc, dh = problem(3, 2, 2, 4, seed=6)
    H, c, h, cache = lr.forward(X, W, c0, h0, lengths=[0, 0])
    dX, dW, dc0, dh0 = lr.backward(dH, cache, dc, dh)
    assert H.shape == (3, 2, 4) and not H.any() and not dX.any() and not dW.any()
    assert dX.shape == X.shape and dW.shape == W.shape
    for a, b in [(c, c0), (h, h0), (dc0, dc), (dh0, dh)]:
        assert np.array_equal(a, b)


@st.composite
def chunked_problems(draw):
    n, b = draw(st.integers(2, 8)), draw(st.integers(1, 4))
    lengths = draw(st.lists(st.integers(0, n), min_size=b, max_size=b))
    splits = sorted(draw(st.sets(st.integers(1, n - 1), min_size=1, max_size=3)))
    return n, b, np.array(lengths), [0, *splits, n], draw(st.integers(0, 2**16))


@settings(max_examples=60, deadline=None)
@given(chunked_problems())
def test_chunks_with_lengths_clipped_to_each_chunk_equal_one_call(args):
    """Chunk [start, stop) runs each sequence for clip(lengths - start, 0, stop - start) steps:
    a sequence that ended before the chunk runs no step and carries its state through."""
    n, b, lengths, bounds, seed = args
    X, W, c0, h0, dH, dc, dh = problem(n, b, 3, 4, seed)
    H, c, h, cache = lr.forward(X, W, c0, h0, lengths=lengths)
    dX, dW, dc0, dh0 = lr.backward(dH, cache, dc, dh)
    states, caches, Hs = [(c0, h0)], [], []
    for start, stop in zip(bounds, bounds[1:]):
        chunk_lengths = np.clip(lengths - start, 0, stop - start)
        H_k, c_k, h_k, cache_k = lr.forward(X[start:stop], W, *states[-1], lengths=chunk_lengths)
        states.append((c_k, h_k))
        caches.append(cache_k)
        Hs.append(H_k)
    dXs, dW_sum, dc_k, dh_k = [], np.zeros_like(W), dc, dh
    for (start, stop), cache_k in reversed(list(zip(zip(bounds, bounds[1:]), caches))):
        dX_k, dW_k, dc_k, dh_k = lr.backward(dH[start:stop], cache_k, dc_k, dh_k)
        dXs.insert(0, dX_k)
        dW_sum += dW_k
    pairs = [(H, np.concatenate(Hs)), (c, states[-1][0]), (h, states[-1][1]),
             (dX, np.concatenate(dXs)), (dW, dW_sum), (dc0, dc_k), (dh0, dh_k)]
    assert max(np.abs(a - b).max() for a, b in pairs) < 1e-12


def test_model_takes_zero_lengths():
    model = lr.LSTM(3, 4, output_size=2, rng=0)
    X = np.sin(np.arange(3 * 4 * 3)).reshape(3, 4, 3)  # (batch, seq_len, input_size)
    h0, c0 = np.cos(np.arange(2 * 3 * 4)).reshape(2, 3, 4)
    Y, h, c = model.forward(X, h0=h0, c0=c0, lengths=[4, 0, 2], return_state=True)
    assert not Y[1].any()  # no step: no output, not even the output layer's bias
    assert np.array_equal(h[1], h0[1]) and np.array_equal(c[1], c0[1])
    y_last = model.forward(X, h0=h0, c0=c0, lengths=[4, 0, 2], return_sequences=False)
    params = model.get_params()  # the last output is the final h's, here h0's
    np.testing.assert_allclose(y_last[1], h0[1] @ params["W_y"] + params["b_y"], rtol=0,
                               atol=1e-15)
    errors = lr.check_model_gradients(lengths=[4, 0, 3], output_size=3)
    assert max(errors.values()) < 1e-6, errors
    errors = lr.check_model_gradients(lengths=[0, 0, 0], output_size=3, return_sequences=False)
    assert max(errors.values()) < 1e-6, errors


@pytest.mark.parametrize("lengths, error, message", [
    ([3, 2], ValueError, r"lengths must have shape \(batch,\) = \(3,\); got \(2,\)"),
    ([[3, 2, 1]], ValueError, r"lengths must have shape \(batch,\)"),
    ([3.0, 2.0, 1.0], TypeError, "lengths must hold integers"),
    ([True, True, True], TypeError, "lengths must hold integers"),
    (["3", "2", "1"], TypeError, "lengths must hold integers"),
    ([3, 5, 1], ValueError, r"lengths must be in 0..n = 0..4"),
    ([3, -1, 1], ValueError, r"lengths must be in 0..n = 0..4"),
    (np.ma.masked_array([3, 2, 1]), TypeError, "lengths must be a plain array"),
])
def test_bad_lengths_are_refused_and_named(lengths, error, message):
    X, W, c0, h0, *_ = problem(4, 3, 2, 5, seed=4)
    with pytest.raises(error, match=message):
        lr.forward(X, W, lengths=lengths)
    with pytest.raises(error, match=message):
        lr.LSTM(2, 5, rng=0).forward(X.transpose(1, 0, 2), lengths=lengths)


# --- The model --------------------------------------------------------------------------------


def test_model_with_lengths_returns_each_sequences_last_step_and_zeros_when_padded():
    model = lr.LSTM(3, 4, output_size=2, rng=0)
    X = np.sin(np.arange(3 * 5 * 3)).reshape(3, 5, 3)  # (batch, seq_len, input_size)
    lengths = np.array([5, 2, 4])
    Y = model.forward(X, lengths=lengths)
    y_last, h, c = model.forward(X, return_sequences=False, return_state=True, lengths=lengths)
    for k, length in enumerate(lengths):
        Y_k, h_k, c_k = model.forward(X[k:k + 1, :length], return_state=True)
        np.testing.assert_allclose(Y[k:k + 1, :length], Y_k, rtol=0, atol=1e-14)
        np.testing.assert_allclose(y_last[k], Y_k[0, -1], rtol=0, atol=1e-14)
        np.testing.assert_allclose(h[k], h_k[0], rtol=0, atol=1e-14)
        assert not Y[k, length:].any()  # padded steps: 0, not the output layer's bias


@pytest.mark.parametrize("return_sequences", [True, False])
@pytest.mark.parametrize("output_size", [3, None])
def test_model_gradients_with_lengths(return_sequences, output_size):
    errors = lr.check_model_gradients(lengths=[4, 1, 3], output_size=output_size,
                                      return_sequences=return_sequences)
    assert max(errors.values()) < 1e-6, errors


def test_model_backward_ignores_dY_at_padded_steps():
    model = lr.LSTM(3, 4, output_size=2, rng=0)
    X = np.cos(np.arange(2 * 4 * 3)).reshape(2, 4, 3)
    Y = model.forward(X, lengths=[4, 2])
    dY = np.ones_like(Y)
    dX = model.backward(dY)
    grads = {k: v.copy() for k, v in model.grads.items()}
    dY[1, 2:] = 1e3
    assert np.array_equal(model.backward(dY), dX)
    assert all(np.array_equal(grads[k], v) for k, v in model.grads.items())


def test_the_bidirectional_stack_example():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "examples"))
    import bidirectional

    result = bidirectional.main()
    assert result["alone_vs_batch"] < 1e-13
    assert result["gradient_error"] < 1e-6
    assert result["padding_difference"] == 0.0
    X = np.arange(5 * 2).reshape(5, 2, 1)
    reversed_ = bidirectional.reverse_within_lengths(X, np.array([3, 5]))
    assert reversed_[:, 0, 0].tolist() == [4, 2, 0, 6, 8]  # 3 steps reversed, padding in place
    assert np.array_equal(bidirectional.reverse_within_lengths(reversed_, np.array([3, 5])), X)
    assert result["state_dict"] is True


def test_the_bidirectional_stack_takes_lengths_as_a_list():
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs" / "examples"))
    import bidirectional

    X, weights, lengths, *_ = bidirectional.make_problem()
    as_array = bidirectional.stack_forward(X, weights, lengths)
    as_list = bidirectional.stack_forward(X, weights, lengths.tolist())
    for a, b in zip(as_array[:3], as_list[:3]):
        assert np.array_equal(a, b)
