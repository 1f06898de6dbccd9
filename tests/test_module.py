"""The module as a model to read and to copy: the core runs when copied alone, the cell's literal
backward agrees with central differences and with the fused core, the labels the code cites are
stated in the module docstring, and the sections come in the order of the site's pages."""

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from problems import problem
from strategies import sizes

import lstm_reference as lr

ROOT = Path(__file__).resolve().parent.parent
SOURCE = (ROOT / "lstm_reference.py").read_text()
BANNER = re.compile(r"^# --- (.+?) -+$", re.M)


def core_text(source=SOURCE):
    """From the ``# --- Forward pass`` banner to the first banner after ``# --- Backward pass``."""
    banners = [(m.start(), m.group(1)) for m in BANNER.finditer(source)]
    titles = [title for _, title in banners]
    start = banners[titles.index("Forward pass")][0]
    end = banners[titles.index("Backward pass") + 1][0]
    return source[start:end]


def run_copy(text):
    """The text pasted alone under ``import numpy as np``, run in a namespace of its own."""
    namespace = {}
    exec(compile("import numpy as np\n\n" + text, "copied_core.py", "exec"), namespace)
    return namespace


# --- The core, copied alone -----------------------------------------------------------------------


@pytest.mark.parametrize("lengths", [None, [5, 2, 4], [5, 0, 3], [0, 0, 0]])
def test_the_core_copied_alone_gives_forward_and_backward_equal_to_the_module(lengths):
    copy = run_copy(core_text())
    assert set(copy) >= {"forward", "backward", "np"}
    assert not {"lr", "lstm_reference"} & set(copy)
    X, W, c0, h0, R, dc, dh = problem(5, 3, 4, 6, seed=1)
    ours = lr.forward(X, W, c0, h0, lengths=lengths)
    theirs = copy["forward"](X, W, c0, h0, lengths=lengths)
    for a, b in zip(ours[:3], theirs[:3]):
        assert np.array_equal(a, b)
    ours = lr.backward(R, ours[3], dc, dh)
    theirs = copy["backward"](R, theirs[3], dc, dh)
    for a, b in zip(ours, theirs):
        assert np.array_equal(a, b)


def test_the_copy_takes_lists_and_omitted_states():
    copy = run_copy(core_text())
    X, W, *_ = problem(4, 2, 3, 5, seed=2)
    H, c, h, cache = copy["forward"](X, W, lengths=[4, 2])
    dX, dW, dc0, dh0 = copy["backward"](np.ones_like(H), cache)
    expected = lr.backward(np.ones_like(H), lr.forward(X, W, lengths=[4, 2])[3])
    assert all(np.array_equal(a, b) for a, b in zip((dX, dW, dc0, dh0), expected))


def test_the_copy_check_fails_when_the_core_needs_something_outside_it():
    """A core that calls a helper from another section fails when copied: the test can fail."""
    text = core_text().replace("    n, b, input_size = X.shape  # time, batch, features",
                               "    X = _array('X', X)\n    n, b, input_size = X.shape", 1)
    assert text != core_text()
    copy = run_copy(text)
    X, W, *_ = problem(3, 2, 3, 4, seed=3)
    with pytest.raises(NameError, match="_array"):
        copy["forward"](X, W)


def test_the_public_functions_are_the_core_behind_the_checks():
    assert lr.forward.__wrapped__ is lr._forward_kernel
    assert lr.backward.__wrapped__ is lr._backward_kernel
    assert lr.forward.__doc__ == lr._forward_kernel.__doc__
    with pytest.raises(ValueError, match=r"X must have shape \(n, batch, input_size\)"):
        lr.forward(np.ones((3, 2, 5)), lr.init_weights(4, 3, rng=0))


# --- LSTMCell.backward ----------------------------------------------------------------------------


def cell_problem(b, input_size, d, seed):
    rng = np.random.default_rng(seed)
    cell = lr.LSTMCell(input_size, d, rng=rng)
    for k in "ifog":  # every bias nonzero
        setattr(cell, f"b_{k}", getattr(cell, f"b_{k}") + rng.standard_normal(d))
    x = rng.standard_normal((b, input_size))
    h_prev, c_prev, Rh, Rc = rng.standard_normal((4, b, d))
    return cell, x, h_prev, c_prev, Rh, Rc


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_cell_backward_matches_central_differences(args):
    n, b, input_size, d, seed = args
    cell, x, h_prev, c_prev, Rh, Rc = cell_problem(b, input_size, d, seed)

    def loss(x=x, h_prev=h_prev, c_prev=c_prev, **params):
        saved = {name: getattr(cell, name) for name in params}
        for name, value in params.items():
            setattr(cell, name, value)
        h, c = cell.forward(x, h_prev, c_prev)
        for name, value in saved.items():
            setattr(cell, name, value)
        return np.sum(h * Rh) + np.sum(c * Rc)

    cell.forward(x, h_prev, c_prev)
    dx, dh_prev, dc_prev = cell.backward(Rh, Rc)
    analytic = {"x": dx, "h_prev": dh_prev, "c_prev": dc_prev, **cell.grads}
    assert list(cell.grads) == list(lr._CELL_PARAMS)
    point = {"x": x, "h_prev": h_prev, "c_prev": c_prev,
             **{name: getattr(cell, name) for name in lr._CELL_PARAMS}}
    errors = lr._gradient_errors(loss, point, analytic, 1e-5, 1e-3)
    assert max(errors.values()) < 1e-6, errors


@settings(max_examples=25, deadline=None)
@given(sizes)
def test_cell_forward_and_backward_match_the_fused_core(args):
    n, b, input_size, d, seed = args
    assert lr.check_cell_matches_fused(n, b, input_size, d, seed=seed) < 1e-12


def test_the_cell_check_fails_when_one_gate_gradient_is_wrong(monkeypatch):
    """A cell whose backward drops the candidate's derivative: the comparison must see it."""
    assert "dz_g = dg * (1 - g**2)" in SOURCE
    right = lr.LSTMCell.backward

    def wrong(self, dh, dc=None):
        x, h_prev, c_prev, i, f, o, g, tanh_c = self.cache
        self.cache = (x, h_prev, c_prev, i, f, o, 0.5 * g, tanh_c)  # a wrong candidate
        return right(self, dh, dc)

    monkeypatch.setattr(lr.LSTMCell, "backward", wrong)
    assert lr.check_cell_matches_fused() > 1e-3


def test_cell_backward_without_forward_and_bad_gradients_are_refused():
    cell = lr.LSTMCell(2, 3, rng=0)
    with pytest.raises(ValueError, match="backward needs a forward call first"):
        cell.backward(np.ones((1, 3)))
    cell.forward(np.ones((1, 2)))
    with pytest.raises(ValueError, match=r"dh must have shape \(batch, hidden_size\) = \(1, 3\)"):
        cell.backward(np.ones((3, 1)))
    with pytest.raises(TypeError, match="dh must be an array"):
        cell.backward(None)


def test_editing_what_the_cell_was_given_or_returned_does_not_change_backward():
    cell, x, h_prev, c_prev, Rh, Rc = cell_problem(2, 3, 4, seed=6)
    h, c = cell.forward(x, h_prev, c_prev)
    expected = cell.backward(Rh, Rc)
    for array in (x, h_prev, c_prev, h, c):
        array += 1.0
    assert all(np.array_equal(a, b) for a, b in zip(cell.backward(Rh, Rc), expected))


def test_cell_backward_leaves_its_arguments_alone():
    cell, x, h_prev, c_prev, Rh, Rc = cell_problem(2, 3, 4, seed=5)
    cell.forward(x, h_prev, c_prev)
    copies = [a.copy() for a in (x, h_prev, c_prev, Rh, Rc)]
    cell.backward(Rh, Rc)
    assert all(np.array_equal(a, b) for a, b in zip((x, h_prev, c_prev, Rh, Rc), copies))


# --- The module reads like the site ---------------------------------------------------------------

LABEL = re.compile(r"\beq-[a-zA-Z][a-zA-Z-]*[a-zA-Z]")


def backward_code():
    """Every backward code of the module: the Backward pass section and the backward methods."""
    texts = [core_text()[core_text().index("# --- Backward pass"):]]
    for name in ("LSTMCell.backward", "LSTM.backward", "LSTM._output_backward"):
        cls, method = name.split(".")
        start = SOURCE.index(f"class {cls}")
        start = SOURCE.index(f"    def {method}(", start)
        end = SOURCE.find("\n    def ", start + 1)
        texts.append(SOURCE[start:end])
    return "\n".join(texts)


def test_every_label_the_backward_code_cites_is_stated_in_the_module_docstring():
    cited = set(LABEL.findall(backward_code()))
    assert {"eq-dh", "eq-dc", "eq-di", "eq-df", "eq-do", "eq-dg", "eq-dprev", "eq-dW",
            "eq-dX"} <= cited
    stated = set(LABEL.findall(lr.__doc__))
    assert cited - {"eq-output"} <= stated, cited - stated


def test_every_label_the_module_cites_is_defined_on_a_page():
    defined = set()
    for page in (ROOT / "docs").glob("*.md"):
        defined |= set(re.findall(r"^\$\$ \((eq-[\w-]+)\)", page.read_text(), re.M))
    cited = set(LABEL.findall(SOURCE))
    assert cited <= defined, cited - defined


def page_titles():
    """The docs pages in the order of the site's tables of contents, by title."""
    index = (ROOT / "docs" / "index.md").read_text()
    names = []
    for block in re.findall(r"```\{toctree\}(.*?)```", index, re.S):
        names += [line.strip() for line in block.splitlines()
                  if line.strip() and not line.strip().startswith(":")]
    return [(ROOT / "docs" / f"{name}.md").read_text().split("\n", 1)[0].lstrip("# ").strip()
            for name in names]


def test_the_sections_come_in_the_order_of_their_pages():
    banners = BANNER.findall(SOURCE)
    titles = page_titles()
    on_pages = [title for title in banners if title in titles]
    assert on_pages == ["The cell, line by line", "Forward pass", "Backward pass",
                        "Initialization", "Verification", "The sequence model", "Conversions"]
    assert [titles.index(t) for t in on_pages] == sorted(titles.index(t) for t in on_pages)
    machinery = banners[banners.index("Conversions") + 1:]
    assert machinery == ["Input checking", "Model files", "Command line"]
    for title in banners:  # the module docstring says where each is derived
        assert title in lr.__doc__
