"""The plain RNN of docs/examples/rnn.py (the page "The plain RNN first"): its gradients agree
with central differences, its gradient vanishes over 200 steps where the LSTM's does not, and its
trainable model's gradients are right too. Also: the new figures' colours are readable."""

import sys
from pathlib import Path

import numpy as np
import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
sys.path.insert(0, str(DOCS / "examples"))

import init_gradient_flow  # noqa: E402
import rnn  # noqa: E402

import lstm_reference as lr  # noqa: E402


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gradients_agree_with_central_differences(seed):
    errors = rnn.check_gradients(seed=seed)
    assert set(errors) == {"X", "W", "h0"}
    assert max(errors.values()) < 1e-7, errors


def test_the_gradient_check_can_fail():
    """A backward pass without tanh' is caught: the check compares, it does not just run."""
    original = rnn.backward

    def without_tanh_derivative(dH, cache, dh=None):
        hs = cache["hs"]
        return original(dH, {**cache, "hs": np.zeros_like(hs)}, dh)  # 1 - 0^2 = 1: no tanh'

    rnn.backward = without_tanh_derivative
    try:
        assert max(rnn.check_gradients().values()) > 1e-2
    finally:
        rnn.backward = original


def test_forward_is_the_equations_step_by_step():
    rng = np.random.default_rng(3)
    W = rnn.init_weights(2, 3, rng=rng)
    W[0] = rng.standard_normal(3)
    X, h0 = rng.standard_normal((4, 2, 2)), rng.standard_normal((2, 3))
    H, h, _ = rnn.forward(X, W, h0)
    expected, state = [], h0
    for x in X:  # eq-rnn-a, eq-rnn-h: a_t = [1, x_t, h_{t-1}] W
        state = np.tanh(np.hstack([np.ones((2, 1)), x, state]) @ W)
        expected.append(state)
    assert np.allclose(H, expected, rtol=0, atol=1e-15)
    assert np.array_equal(h, H[-1])


def test_the_plain_rnn_gradient_vanishes_where_the_lstm_keeps_it():
    settings = dict(seq_len=200, input_size=4, hidden_size=32, batch=4, seed=0)
    plain = rnn.gradient_norms("orthogonal", **settings)
    lstm = init_gradient_flow.gradient_norms(3.0, "orthogonal", **settings)
    assert plain.shape == (200,)
    assert plain[0] < 1e-15 * plain[-1]  # vanished: x_1 is 199 steps before the loss
    assert lstm[0] > 1e-2 * lstm[-1]  # the LSTM with forget bias 3: not
    exploding = rnn.gradient_norms("normal", **settings)
    assert exploding[0] > 1e10 * exploding[-1]  # a standard normal W_h: exploded


def test_the_model_gradients_agree_with_central_differences():
    rng = np.random.default_rng(0)
    model = rnn.RNN(3, 4, 2, rng=rng)
    X, R = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 2))  # batch first
    model.forward(X)
    dX = model.backward(R)  # the gradient of sum(Y * R)
    params = model.get_params()

    def loss(name, value):
        probe = rnn.RNN(3, 4, 2, rng=0)
        probe.set_params({**params, name: value})
        return np.sum(probe.forward(X) * R)

    for name, value in params.items():
        numeric = lr.numerical_gradient(lambda v, name=name: loss(name, v), value)
        assert lr.relative_error(model.grads[name], numeric, floor=1e-8).max() < 1e-7, name
    numeric = lr.numerical_gradient(lambda v: np.sum(model.forward(v) * R), X)
    assert lr.relative_error(dX, numeric, floor=1e-8).max() < 1e-7


def _contrast(color, background):
    def luminance(hex_color):
        channels = [int(hex_color.lstrip("#")[k:k + 2], 16) / 255 for k in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(color), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)  # WCAG 2 contrast ratio


def test_the_new_figures_colours_pass_4_5_to_1():
    sys.path.insert(0, str(DOCS))
    import _plots

    assert _contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # WCAG's grey
    for name, color in _plots.PALETTE.items():
        inverted = "#" + "".join(f"{255 - int(color[k:k + 2], 16):02x}" for k in (1, 3, 5))
        assert _contrast(color, "#ffffff") >= 4.5, name  # light mode
        assert _contrast(inverted, "#000000") >= 4.5, name  # dark mode: the figure inverted
