"""The assignment of the page "Build it yourself": its grader passes the solution, part by part,
and fails the skeleton as downloaded, every part of it.

The solution is not published beside the skeleton: it lives here, as the line that fills each
``# TODO`` of ``docs/assignment/lstm_assignment.py``. Filling the skeleton's own blanks, rather
than keeping a second copy of the file, proves that the skeleton is the solution minus its blanks.
"""

import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

SKELETON = Path(__file__).resolve().parents[1] / "docs" / "assignment" / "lstm_assignment.py"

SOLUTION = {  # TODO label: the code that replaces the line, indented like it
    "1a": "i = sigmoid(z_i)",
    "1b": "f = sigmoid(z_f)",
    "1c": "o = sigmoid(z_o)",
    "1d": "g = np.tanh(z_g)",
    "1e": "c = f * c_prev + i * g",
    "1f": "h = o * np.tanh(c)",
    "2a": "dz_i = dc_total * g * i * (1 - i)",
    "2b": "dz_f = dc_total * c_prev * f * (1 - f)",
    "2c": "dz_o = dh * tanh_c * o * (1 - o)",
    "2d": "dz_g = dc_total * i * (1 - g ** 2)",
    "2e": "dc_prev = dc_total * f",
    "2f": "dW = np.concatenate([np.ones((x.shape[0], 1)), x, h_prev], axis=1).T @ dz",
    "2g": "dxh = dz @ W[1:].T",
    "3a": "h, c, cache = step_forward(X[t - 1], h, c, W)\nH[t - 1] = h\ncaches.append(cache)",
    "4a": ("dh = dh + dH[t - 1]\n"
           "dX[t - 1], dh, dc, dW_t = step_backward(dh, dc, caches[t - 1])\n"
           "dW += dW_t"),
}
PARTS = {"1": "1. step forward", "2": "2. step backward", "3": "3. forward over time",
         "4": "4. backward over time"}
TODO = re.compile(r"^( *)(.*)# TODO (\w+):.*$", re.MULTILINE)


def fill(labels):
    """The skeleton's text with the blanks ``labels`` filled from SOLUTION."""
    def replace(match):
        indent, label = match.group(1), match.group(3)
        if label not in labels:
            return match.group(0)
        return "\n".join(indent + line for line in SOLUTION[label].splitlines())
    return TODO.sub(replace, SKELETON.read_text())


def load(text, tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade(module):
    out = io.StringIO()
    return module.grade(module, out=out), out.getvalue()


def test_every_blank_has_a_solution():
    labels = [match.group(3) for match in TODO.finditer(SKELETON.read_text())]
    assert sorted(labels) == sorted(SOLUTION)


def test_the_solution_passes_every_part(tmp_path):
    passed, report = grade(load(fill(SOLUTION), tmp_path, "solution"))
    assert passed == {part: True for part in PARTS.values()}, report
    assert "FAIL" not in report and "hint" not in report
    errors = [float(e) for e in re.findall(r" (\d\.\de[-+]\d\d)  PASS", report)]
    assert len(errors) == 11 and max(errors) < 1e-13  # round-off, far below the bar


def test_the_skeleton_fails_every_part(tmp_path):
    passed, report = grade(load(SKELETON.read_text(), tmp_path, "skeleton"))
    assert passed == {part: False for part in PARTS.values()}, report
    assert report.count("FAIL") == len(PARTS) + 11 and "  PASS" not in report
    assert report.count("hint:") == 11  # a hint under every failing line


@pytest.mark.parametrize("blank", sorted(PARTS))
def test_each_part_is_graded_on_its_own(tmp_path, blank):
    """Everything filled but one part's blanks: that part fails, every other part passes."""
    filled = [label for label in SOLUTION if not label.startswith(blank)]
    passed, report = grade(load(fill(filled), tmp_path, f"without_{blank}"))
    assert passed == {part: part != PARTS[blank] for part in PARTS.values()}, report


@pytest.mark.parametrize("label", ["2a", "2b", "2c", "2d"])
def test_a_wrong_gate_fails_that_gate_only(tmp_path, label):
    """A mistake in one gate's gradient (a sign) fails that gate's line, and no other gate's."""
    wrong = dict(SOLUTION)
    target, expression = SOLUTION[label].split(" = ")
    wrong[label] = f"{target} = -({expression})"
    text = TODO.sub(lambda m: "\n".join(m.group(1) + line
                                        for line in wrong[m.group(3)].splitlines()),
                    SKELETON.read_text())
    _, report = grade(load(text, tmp_path, f"wrong_{label}"))
    failing = re.findall(r"^  (gate \w)\s.*FAIL$", report, re.MULTILINE)
    assert failing == [f"gate {'ifog'['abcd'.index(label[1])]}"], report


def test_running_the_file_grades_it():
    """``python lstm_assignment.py`` as a student runs it: a report, exit status 1 when failing."""
    run = subprocess.run([sys.executable, str(SKELETON)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 1, run.stderr
    assert "4. backward over time: FAIL" in run.stdout
