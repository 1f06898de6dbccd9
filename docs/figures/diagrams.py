"""Write the diagrams of the pictures page beside this file: ``cell.svg`` (one step),
``gate-*.svg`` (the same step with one path lit), ``unrolled.svg`` (two steps and the gradient's
edges), and the variants ``cifg.svg``, ``peephole.svg`` and ``gru.svg``.

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
alternative: it says what the drawing shows, for a reader who cannot see it. The highlighted
drawings fade what they are not about with ``FADE``, an opacity, so the palette stays the only
one.
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


FADE = 0.22  # the opacity of what a highlighted drawing is not about
GATE_COLUMNS = "ifog"  # the gate blocks of z and the columns of W, in this order (eq-z)
# where each gate is drawn, left to right in the order the cell's flow reads (f, i, g, o)
GATE_X = {"f": 190, "i": 270, "g": 360, "o": 440}
# the block of z each gate reads, in W's column order: i, f, o, g
BLOCK_X = {gate: 190 + 80 * k for k, gate in enumerate(GATE_COLUMNS)}
# the paths the gate-by-gate drawings highlight, and the parts of the cell each one lights up
HIGHLIGHTS = {
    "forget": {"c_in", "times_f", "inputs", "f", "f_wire"},
    "input": {"inputs", "i", "g", "times_ig"},
    "update": {"c_in", "times_f", "c_mid", "plus", "c_out", "f_wire", "times_ig"},
    "output": {"inputs", "o", "c_out", "h_out"},
}


def part(name, highlight, *elements):
    """``elements`` as one group, faded unless ``highlight`` is None or lights up ``name``."""
    faded = highlight is not None and name not in HIGHLIGHTS[highlight]
    opacity = f' opacity="{FADE}"' if faded else ""
    return f'<g data-part="{name}"{opacity}>' + "".join(elements) + "</g>"


def gate(letter, function, highlight, variant=""):
    """Gate ``letter``: its box with ``function``, its block of z below and the wire between."""
    x, block = GATE_X[letter], BLOCK_X[letter]
    name = "f" if letter == "f" else letter
    elements = [line([(block, 252), (x, 217)]),
                box(x, 200, 50 if function == "tanh" else 46, 30, GATE_COLOR, function)]
    if letter == "i" and variant == "cifg":  # i = 1 - f: no block of its own, no weights
        elements = [box(x, 200, 46, 30, GATE_COLOR, "1 − f", size=15),
                    line([(213, 200), (x - 24, 200)], GATE_COLOR)]
    return part(name, highlight, *elements)


def cell(highlight=None, variant=""):
    """One step: the gates, the two states, the products and the sum.

    ``highlight`` (a key of ``HIGHLIGHTS``) fades all but one path; ``variant`` is ``"cifg"``
    (the input gate is 1 - f) or ``"peephole"`` (the gates also read the cell state).
    """
    blocks = [g for g in GATE_COLUMNS if not (variant == "cifg" and g == "i")]
    body = [
        # the cell state runs straight through the top: one product, one sum (cell update)
        part("c_in", highlight,
             label(20, 44, "c", "t−1", anchor="start", color=C_COLOR),
             line([(20, 60), (178, 60)], C_COLOR, 3)),
        part("times_f", highlight, operator(190, 60, "×", C_COLOR)),
        part("c_mid", highlight, line([(202, 60), (308, 60)], C_COLOR, 3)),
        part("plus", highlight, operator(320, 60, "+", C_COLOR)),
        part("c_out", highlight,
             line([(332, 60), (628, 60)], C_COLOR, 3),
             label(628, 44, "c", "t", anchor="end", color=C_COLOR)),
        # the previous output and the input make the pre-activations, in one product; its
        # blocks run in W's column order, i, f, o, g, and each wire goes to its gate
        part("inputs", highlight,
             label(20, 252, "h", "t−1", anchor="start", color=H_COLOR),
             line([(20, 268), (148, 268)], H_COLOR, 2.4),
             line([(300, 345), (300, 285)], "currentColor"),
             label(312, 344, "x", "t", anchor="start"),
             '<rect x="150" y="252" width="360" height="32" rx="6" fill="none" '
             'stroke="currentColor" stroke-width="1.4"/>',
             label(330, 301, "z = [1, x, h] W", size=15, italic=False, anchor="start"),
             *(label(BLOCK_X[g], 274, "z", g, size=16) for g in blocks),
             *(f'<line x1="{BLOCK_X[g] + 40}" y1="256" x2="{BLOCK_X[g] + 40}" y2="280" '
               f'stroke="currentColor" stroke-width="1" stroke-dasharray="2 2"/>'
               for g in blocks[:-1])),
        # the four gates: f, i, g, o from left to right
        gate("f", "σ", highlight), gate("i", "σ", highlight, variant), gate("g", "tanh", highlight),
        gate("o", "σ", highlight),
        part("f", highlight, label(164, 206, "f", "t", anchor="end")),
        part("i", highlight, label(298, 228, "i", "t", anchor="start")),
        part("g", highlight, label(390, 206, "g", "t", anchor="start")),
        part("o", highlight, label(468, 183, "o", "t", anchor="start")),
        # forget: f * c_{t-1}
        part("f_wire", highlight, line([(190, 185), (190, 74)], GATE_COLOR)),
        # input: i * g, added to the cell
        part("times_ig", highlight,
             line([(270, 185), (310, 140)], GATE_COLOR, arrow=False),
             line([(360, 185), (330, 140)], GATE_COLOR, arrow=False),
             operator(320, 130, "×"),
             line([(320, 118), (320, 74)])),
        # output: h_t = o * tanh(c_t) (hidden state)
        part("h_out", highlight,
             line([(540, 60), (540, 108)], C_COLOR, 2),
             box(540, 125, 54, 30, "currentColor", "tanh"),
             line([(540, 140), (540, 186)]),
             line([(463, 200), (526, 200)], GATE_COLOR),
             operator(540, 200, "×"),
             line([(540, 212), (540, 268), (628, 268)], H_COLOR, 2.4),
             label(628, 252, "h", "t", anchor="end", color=H_COLOR),
             line([(595, 268), (595, 340)], H_COLOR, 1.6),
             label(587, 342, "output", size=16, anchor="end", italic=False)),
    ]
    if variant == "cifg":
        body = [b for b in body if 'data-part="i"' not in b or "1 − f" in b]
        body.append(label(BLOCK_X["i"], 274, "no i block", size=14, italic=False))
    if variant == "peephole":  # c_{t-1} into f and i, c_t into o: dashed, in the cell's colour
        body.append(part("peepholes", highlight,
                         line([(120, 60), (120, 150), (228, 150), (250, 186)], C_COLOR, dash=True),
                         line([(120, 150), (172, 186)], C_COLOR, dash=True),
                         line([(500, 60), (500, 210), (466, 210)], C_COLOR, dash=True),
                         label(112, 112, "c", "t−1", size=16, anchor="end", color=C_COLOR),
                         label(492, 112, "c", "t", size=16, anchor="end", color=C_COLOR)))
    return body


TITLES = {
    None: "One LSTM step. At the bottom, the previous hidden state h_t-1 and the input x_t enter "
          "one matrix product, z = [1, x, h] W, whose four blocks, in the order of W's columns "
          "i, f, o, g, go through three sigmoids and a tanh: the forget gate f_t, the input gate "
          "i_t, the candidate g_t and the output gate o_t. Along the top runs the cell state, "
          "from c_t-1 to c_t: it is multiplied by f_t, and i_t times g_t is added to it. On the "
          "right, tanh of c_t times o_t is the new hidden state h_t, which is the step's output "
          "and goes on to the next step.",
    "forget": "The forget gate highlighted: f_t, a sigmoid of the f block of z, multiplies the "
              "previous cell state c_t-1 at the left of the top line; the rest of the cell is "
              "faded.",
    "input": "The input gate and the candidate highlighted: i_t, a sigmoid of the i block of z, "
             "times g_t, a tanh of the g block, is what the step writes; the rest is faded.",
    "update": "The cell update highlighted: along the top line, c_t-1 times f_t plus i_t times "
              "g_t gives c_t, one product and one sum; the rest of the cell is faded.",
    "output": "The output highlighted: o_t, a sigmoid of the o block of z, times tanh of c_t gives "
              "h_t, the step's output and the next step's input; the rest is faded.",
}


def cell_figure(highlight=None):
    return lambda: svg(640, 360, TITLES[highlight], cell(highlight),
                       [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


def cifg():
    """The coupled input-forget gate: i = 1 - f, three blocks in z."""
    return svg(640, 360, "The coupled input-forget gate (CIFG): the same cell, but the input "
               "gate is not computed from z; it is 1 minus the forget gate, so z has three "
               "blocks, f, o and g, and what is forgotten is exactly what is written.",
               cell(variant="cifg"), [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


def peephole():
    """Peepholes: the gates also read the cell state (dashed)."""
    return svg(640, 360, "Peephole connections: the same cell, with dashed lines from the "
               "cell state into the gates; c_t-1 enters the forget and input gates and c_t "
               "the output gate, each through a vector of weights.",
               cell(variant="peephole"), [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


def gru():
    """The GRU: one state h, an update gate u and a reset gate r, no output gate."""
    body = [
        # the state runs along the top: kept by u, plus (1 - u) times the candidate
        label(20, 44, "h", "t−1", anchor="start", color=H_COLOR),
        line([(20, 60), (408, 60)], H_COLOR, 3),
        operator(420, 60, "×", H_COLOR),
        line([(432, 60), (508, 60)], H_COLOR, 3),
        operator(520, 60, "+", H_COLOR),
        line([(532, 60), (628, 60)], H_COLOR, 3),
        label(628, 44, "h", "t", anchor="end", color=H_COLOR),
        line([(595, 60), (595, 340)], H_COLOR, 1.6),
        label(587, 342, "output", size=16, anchor="end", italic=False),
        # h_{t-1} and x_t into one product for the two gates
        line([(50, 60), (50, 268), (148, 268)], H_COLOR, 2.4),
        line([(200, 345), (200, 285)], "currentColor"),
        label(212, 344, "x", "t", anchor="start"),
        '<rect x="150" y="252" width="170" height="32" rx="6" fill="none" '
        'stroke="currentColor" stroke-width="1.4"/>',
        label(235, 274, "[1, x, h] W", size=15, italic=False),
        # reset gate: r * h_{t-1} is what the candidate reads of the state
        line([(190, 252), (190, 217)]), box(190, 200, 46, 30, GATE_COLOR, "σ"),
        label(164, 206, "r", "t", anchor="end"),
        line([(190, 185), (190, 142)], GATE_COLOR),
        line([(110, 60), (110, 130), (178, 130)], H_COLOR, 2),
        operator(190, 130, "×"),
        line([(202, 130), (360, 130), (360, 185)]),
        # update gate: keeps u of the state, writes 1 - u of the candidate
        line([(280, 252), (280, 217)]), box(280, 200, 46, 30, GATE_COLOR, "σ"),
        label(306, 220, "u", "t", anchor="start"),
        line([(280, 185), (280, 96), (420, 96), (420, 74)], GATE_COLOR),
        line([(420, 96), (470, 96), (470, 118)], GATE_COLOR),
        box(470, 135, 44, 28, GATE_COLOR, "1 −", size=15),
        line([(470, 149), (470, 188)], GATE_COLOR),
        # the candidate: tanh of x and r * h_{t-1}
        line([(330, 320), (360, 320), (360, 217)]), line([(200, 320), (330, 320)], arrow=False),
        box(360, 200, 50, 30, GATE_COLOR, "tanh"),
        label(390, 224, "g", "t", anchor="start"),
        line([(385, 200), (458, 200)], GATE_COLOR),
        operator(470, 200, "×"),
        line([(482, 200), (520, 200), (520, 72)]),
    ]
    return svg(640, 360, "The GRU: one state h along the top, no separate cell state and no "
               "output gate. The update gate u keeps u times h_t-1 and adds 1 minus u times the "
               "candidate g; the reset gate r decides how much of h_t-1 the candidate reads.",
               body, [H_COLOR, GATE_COLOR, "currentColor"])


def state(x, y, name, sub, color, size=16):
    """A state of the unrolled graph: a circle of radius 17 with its name."""
    return (f'<circle cx="{x}" cy="{y}" r="17" fill="none" stroke="{color}" stroke-width="2"/>'
            + label(x, y + size / 3, name, sub, size=size, color=color))


def unrolled():
    """Steps t and t + 1 sharing one W, the inputs x, the two edges out of each of c_t and h_t,
    and the gradient coming back along each edge (dashed, pointing backward)."""
    body = []
    for x0, sub in ((150, "t"), (470, "t+1")):
        body += [f'<rect x="{x0}" y="30" width="200" height="200" rx="10" fill="none" '
                 f'stroke="currentColor" stroke-width="1.4" stroke-dasharray="2 3"/>',
                 label(x0 + 100, 22, "step " + sub, size=16, italic=False),
                 f'<rect x="{x0 + 8}" y="95" width="96" height="70" rx="6" fill="{GATE_COLOR}" '
                 f'fill-opacity="0.18" stroke="{GATE_COLOR}" stroke-width="1.6"/>',
                 label(x0 + 56, 122, "[1, x, h] W", size=15, italic=False),
                 label(x0 + 56, 148, "σ, tanh", size=15, italic=False),
                 # the input of the step, from below
                 line([(x0 + 56, 300), (x0 + 56, 167)]),
                 label(x0 + 64, 298, "x", sub, anchor="start")]
    body += [
        label(410, 22, "same W", size=16, italic=False),
        # into step t from step t-1
        line([(20, 70), (303, 70)], C_COLOR, 2.4),
        label(20, 56, "c", "t−1", anchor="start", color=C_COLOR),
        line([(20, 190), (120, 190), (120, 130), (158, 130)], H_COLOR, 2.4),
        label(20, 212, "h", "t−1", anchor="start", color=H_COLOR),
        line([(254, 112), (302, 80)], GATE_COLOR),
        # inside step t: c_t (cell update), then h_t from it (hidden state)
        state(320, 70, "c", "t", C_COLOR),
        state(320, 190, "h", "t", H_COLOR),
        line([(320, 87), (320, 171)], "currentColor"),
        label(332, 108, "o ⊙ tanh", size=15, anchor="start", italic=False),
        line([(254, 150), (302, 184)], GATE_COLOR),
        # out of c_t: into c_{t+1}
        line([(337, 70), (621, 70)], C_COLOR, 2.4),
        # out of h_t: into z_{t+1}, and to the output
        line([(337, 190), (440, 190), (440, 130), (478, 130)], H_COLOR, 2.4),
        line([(320, 207), (320, 262)], H_COLOR, 2.4),
        label(275, 262, "output", size=15, anchor="end", italic=False),
        line([(574, 112), (622, 80)], GATE_COLOR),
        state(640, 70, "c", "t+1", C_COLOR, size=15),
        # the gradient coming back along each edge: dashed arrows pointing backward
        line([(600, 80), (345, 80)], GRAD_COLOR, dash=True),
        rich(404, 56, [("δc", "t+1"), (" ⊙ f", "t+1")], color=GRAD_COLOR),
        line([(468, 140), (450, 140), (450, 200), (345, 200)], GRAD_COLOR, dash=True),
        rich(393, 222, [("δz", "t+1"), (" W", "h"), ("ᵀ", "")], color=GRAD_COLOR),
        line([(312, 168), (312, 92)], GRAD_COLOR, dash=True),
        rich(332, 136, [("δh", "t"), (" ⊙ o", "t")], size=15, anchor="start", color=GRAD_COLOR),
        rich(332, 157, [("(1 − tanh² c", "t"), (")", "")], size=15, anchor="start",
             color=GRAD_COLOR),
        line([(330, 262), (330, 212)], GRAD_COLOR, dash=True),
        label(338, 254, "dH[t−1]", size=16, anchor="start", color=GRAD_COLOR, italic=False),
    ]
    return svg(680, 310, "Steps t and t+1 unrolled, both computed with the same weights W from "
               "their inputs x_t and x_t+1. The cell state c_t leaves step t twice: down into "
               "h_t (through o times tanh) and right into c_t+1. The hidden state h_t leaves "
               "twice: down to the output and right into the gates of step t+1. Dashed pink "
               "arrows point backward along each edge, each with the part of the gradient it "
               "carries: delta c_t+1 times f_t+1 into c_t; delta h_t times o_t times (1 minus "
               "tanh squared of c_t) from h_t into c_t; delta z_t+1 times W_h transposed into "
               "h_t; and dH[t-1] from the output, row t-1 of the array since arrays count from "
               "0.", body, [C_COLOR, H_COLOR, GATE_COLOR, GRAD_COLOR, "currentColor"])


FIGURES = {"cell.svg": cell_figure(), "unrolled.svg": unrolled,
           **{f"gate-{name}.svg": cell_figure(name) for name in HIGHLIGHTS},
           "cifg.svg": cifg, "peephole.svg": peephole, "gru.svg": gru}

if __name__ == "__main__":
    for name, draw in FIGURES.items():
        (HERE / name).write_text(draw(), encoding="utf-8")
