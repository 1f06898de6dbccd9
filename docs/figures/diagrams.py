"""Write the two diagrams of the pictures page, ``cell.svg`` and ``unrolled.svg``, beside this file.

Run ``python docs/figures/diagrams.py`` after editing; ``pytest docs`` checks that the files in
the repository are what this script writes. The SVGs are inlined into the page (not loaded as
images), so ``currentColor`` is the page's text colour: black on furo's light theme, light grey
on its dark one. The accent colours are CSS custom properties that ``docs/_static/custom.css``
sets for each theme, each at least 4.5:1 against its background; the value after the comma is
the light theme's, for the file opened on its own. Equations are named in words ("cell
update"), not by their numbers on the pages, which move when a page is added.

Size: the ``viewBox`` and ``width: 100%`` let a narrow column scale a drawing down, but never
below the ``min-width`` at which its smallest text is 11 px; on a phone the drawing keeps that
width and scrolls sideways in its box (the docs extension ``docs/_access.py`` wraps it, and
marks a box that scrolls with a visible cue). The ``<title>`` is the drawing's text
alternative: it says what the drawing shows, for a reader who cannot see it.
"""

import math
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
FONT = 'font-family="sans-serif"'
C_COLOR = "var(--lstm-cell, #b45309)"  # the cell state, the carousel: amber
H_COLOR = "var(--lstm-hidden, #1c6fc4)"  # the hidden state: blue
GATE_COLOR = "var(--lstm-gate, #15803d)"  # the gates: green
GRAD_COLOR = "var(--lstm-grad, #c2185b)"  # gradients in the unrolled graph: pink
MIN_TEXT_PX = 11  # the smallest text, in screen pixels, at the drawing's narrowest


def label(x, y, text, sub="", size=19, anchor="middle", color="currentColor", italic=True):
    """A text label ``text`` with an optional subscript ``sub``, centred at ``(x, y)``."""
    style = ' font-style="italic"' if italic else ""
    subscript = f'<tspan dy="4" font-size="{size * 0.75:.0f}">{sub}</tspan>' if sub else ""
    return (f'<text x="{x}" y="{y}" {FONT} font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}"{style}>{text}{subscript}</text>')


def rich(x, y, parts, size=16, anchor="middle", color="currentColor"):
    """A label of several ``(text, subscript)`` parts, such as ``δc_{t+1} ⊙ f_{t+1}``."""
    spans, shift = [], 0
    for text, sub in parts:
        spans.append(f'<tspan dy="{-shift}">{text}</tspan>' if shift else f"<tspan>{text}</tspan>")
        shift = 0
        if sub:
            spans.append(f'<tspan dy="4" font-size="{size * 0.75:.0f}">{sub}</tspan>')
            shift = 4
    return (f'<text x="{x}" y="{y}" {FONT} font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}" font-style="italic">{"".join(spans)}</text>')


def line(points, color="currentColor", width=1.6, arrow=True, dash=False):
    """A polyline through ``points``, with an arrow head at the end."""
    path = " ".join(f"{x},{y}" for x, y in points)
    head = f' marker-end="url(#{marker_id(color)})"' if arrow else ""
    dashes = ' stroke-dasharray="5 4"' if dash else ""
    return (f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="{width}"'
            f'{dashes}{head}/>')


def box(x, y, w, h, color, text, sub="", size=17):
    """A gate: a rounded box of a light tint of ``color``, with its function written inside."""
    return (f'<rect x="{x - w / 2}" y="{y - h / 2}" width="{w}" height="{h}" rx="6" '
            f'fill="{color}" fill-opacity="0.18" stroke="{color}" stroke-width="1.6"/>'
            + label(x, y + size / 3, text, sub, size=size, italic=False))


def operator(x, y, symbol, color="currentColor"):
    """An elementwise operation: a circle with ``×`` or ``+``."""
    return (f'<circle cx="{x}" cy="{y}" r="12" fill="none" stroke="{color}" stroke-width="1.6"/>'
            + label(x, y + 6, symbol, size=18, color=color, italic=False))


def marker_id(color):
    """The id of the arrow head in ``color``: ``arrow-lstm-cell`` for ``var(--lstm-cell, ...)``."""
    name = re.sub(r"[^a-z0-9]+", "-", color.split(",")[0].lower()).strip("-")
    return "arrow-" + name.removeprefix("var-")


def svg(width, height, title, body, colors):
    """The drawing, scaled to its column but never so far that its smallest text is unreadable."""
    smallest = min(float(size) for size in re.findall(r'font-size="([0-9.]+)"', "".join(body)))
    min_width = math.ceil(width * MIN_TEXT_PX / smallest)
    markers = "".join(
        f'<marker id="{marker_id(c)}" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>' for c in colors)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'role="img" style="width: 100%; min-width: {min(min_width, width)}px; '
            f'max-width: {width}px; height: auto">\n'
            f"<title>{title}</title>\n<defs>{markers}</defs>\n" + "\n".join(body) + "\n</svg>\n")


def cell():
    """One step: the gates, the two states, the products and the sum."""
    body = [
        # the cell state runs straight through the top: one product, one sum (cell update)
        label(20, 44, "c", "t−1", anchor="start", color=C_COLOR),
        line([(20, 60), (178, 60)], C_COLOR, 3),
        operator(190, 60, "×", C_COLOR),
        line([(202, 60), (308, 60)], C_COLOR, 3),
        operator(320, 60, "+", C_COLOR),
        line([(332, 60), (628, 60)], C_COLOR, 3),
        label(628, 44, "c", "t", anchor="end", color=C_COLOR),
        # the previous output and the input make the pre-activations, in one product
        label(20, 252, "h", "t−1", anchor="start", color=H_COLOR),
        line([(20, 268), (148, 268)], H_COLOR, 2.4),
        line([(300, 345), (300, 285)], "currentColor"),
        label(312, 344, "x", "t", anchor="start"),
        '<rect x="150" y="252" width="320" height="32" rx="6" fill="none" '
        'stroke="currentColor" stroke-width="1.4"/>',
        label(310, 274, "z = [1, x, h] W: one product", size=16, italic=False),
        # four gates
        line([(190, 252), (190, 217)]), box(190, 200, 46, 30, GATE_COLOR, "σ"),
        line([(270, 252), (270, 217)]), box(270, 200, 46, 30, GATE_COLOR, "σ"),
        line([(360, 252), (360, 217)]), box(360, 200, 50, 30, GATE_COLOR, "tanh"),
        line([(440, 252), (440, 217)]), box(440, 200, 46, 30, GATE_COLOR, "σ"),
        label(164, 206, "f", "t", anchor="end"), label(244, 206, "i", "t", anchor="end"),
        label(390, 206, "g", "t", anchor="start"), label(468, 190, "o", "t", anchor="start"),
        # forget: f * c_{t-1}
        line([(190, 185), (190, 74)], GATE_COLOR),
        # input: i * g, added to the cell
        line([(270, 185), (310, 140)], GATE_COLOR, arrow=False),
        line([(360, 185), (330, 140)], GATE_COLOR, arrow=False),
        operator(320, 130, "×"),
        line([(320, 118), (320, 74)]),
        # output: h_t = o * tanh(c_t) (hidden state)
        line([(540, 60), (540, 108)], C_COLOR, 2),
        box(540, 125, 54, 30, "currentColor", "tanh"),
        line([(540, 140), (540, 186)]),
        line([(463, 200), (526, 200)], GATE_COLOR),
        operator(540, 200, "×"),
        line([(540, 212), (540, 268), (628, 268)], H_COLOR, 2.4),
        label(628, 252, "h", "t", anchor="end", color=H_COLOR),
        line([(595, 268), (595, 340)], H_COLOR, 1.6),
        label(587, 342, "output", size=16, anchor="end", italic=False),
    ]
    return svg(640, 360, "One LSTM step. At the bottom, the previous hidden state h_t-1 and "
               "the input x_t enter one matrix product, z = [1, x, h] W, whose four blocks go "
               "through three sigmoids and a tanh: the forget gate f_t, the input gate i_t, the "
               "candidate g_t and the output gate o_t. Along the top runs the cell state, from "
               "c_t-1 to c_t: it is multiplied by f_t, and i_t times g_t is added to it. On the "
               "right, tanh of c_t times o_t is the new hidden state h_t, which is the step's "
               "output and goes on to the next step.", body,
               [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


def state(x, y, name, sub, color, size=16):
    """A state of the unrolled graph: a circle of radius 17 with its name."""
    return (f'<circle cx="{x}" cy="{y}" r="17" fill="none" stroke="{color}" stroke-width="2"/>'
            + label(x, y + size / 3, name, sub, size=size, color=color))


def unrolled():
    """Steps t and t + 1, and the two edges out of each of c_t and h_t, with their gradients."""
    body = []
    for x0, name, sub in ((150, "step ", "t"), (470, "step ", "t+1")):
        body += [f'<rect x="{x0}" y="30" width="200" height="200" rx="10" fill="none" '
                 f'stroke="currentColor" stroke-width="1.4" stroke-dasharray="2 3"/>',
                 label(x0 + 100, 22, name + sub, size=16, italic=False),
                 f'<rect x="{x0 + 10}" y="95" width="80" height="70" rx="6" fill="{GATE_COLOR}" '
                 f'fill-opacity="0.18" stroke="{GATE_COLOR}" stroke-width="1.6"/>',
                 label(x0 + 50, 126, "z, gates", size=16, italic=False),
                 label(x0 + 50, 148, "σ, tanh", size=15, italic=False)]
    body += [
        # into step t from step t-1
        line([(20, 70), (303, 70)], C_COLOR, 2.4),
        label(20, 56, "c", "t−1", anchor="start", color=C_COLOR),
        line([(20, 190), (120, 190), (120, 130), (158, 130)], H_COLOR, 2.4),
        label(20, 212, "h", "t−1", anchor="start", color=H_COLOR),
        line([(240, 112), (301, 80)], GATE_COLOR),
        # inside step t: c_t (cell update), then h_t from it (hidden state)
        state(320, 70, "c", "t", C_COLOR),
        state(320, 190, "h", "t", H_COLOR),
        line([(320, 87), (320, 171)], "currentColor"),
        label(332, 108, "o ⊙ tanh", size=15, anchor="start", italic=False),
        line([(240, 150), (302, 184)], GATE_COLOR),
        # out of c_t: into c_{t+1}
        line([(337, 70), (621, 70)], C_COLOR, 2.4),
        # out of h_t: into z_{t+1}, and to the output
        line([(337, 190), (440, 190), (440, 130), (478, 130)], H_COLOR, 2.4),
        line([(320, 207), (320, 262)], H_COLOR, 2.4),
        label(330, 254, "output", size=15, anchor="start", italic=False),
        line([(560, 112), (621, 80)], GATE_COLOR),
        state(640, 70, "c", "t+1", C_COLOR, size=15),
        # the gradient coming back along each edge
        rich(404, 56, [("δc", "t+1"), (" ⊙ f", "t+1")], color=GRAD_COLOR),
        rich(393, 216, [("δz", "t+1"), (" W", "h"), ("ᵀ", "")], color=GRAD_COLOR),
        rich(332, 136, [("δh", "t"), (" ⊙ o", "t")], size=15, anchor="start", color=GRAD_COLOR),
        rich(332, 157, [("(1 − tanh² c", "t"), (")", "")], size=15, anchor="start",
             color=GRAD_COLOR),
        label(330, 276, "dH[t−1]", size=16, anchor="start", color=GRAD_COLOR, italic=False),
    ]
    return svg(680, 300, "Steps t and t+1 unrolled, each a box of gates. The cell state c_t "
               "leaves step t twice: down into h_t (through o times tanh) and right into c_t+1. "
               "The hidden state h_t leaves twice: down to the output and right into the gates "
               "of step t+1. Beside each edge, in pink, is the part of the gradient that comes "
               "back along it: delta c_t+1 times f_t+1 into c_t; delta h_t times o_t times (1 "
               "minus tanh squared of c_t) from h_t into c_t; delta z_t+1 times W_h transposed "
               "into h_t; and dH[t-1] from the output, row t-1 of the array since arrays count "
               "from 0.", body,
               [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


FIGURES = {"cell.svg": cell, "unrolled.svg": unrolled}

if __name__ == "__main__":
    for name, draw in FIGURES.items():
        (HERE / name).write_text(draw(), encoding="utf-8")
