"""Write the two diagrams of the pictures page, ``cell.svg`` and ``unrolled.svg``, beside this file.

Run ``python docs/figures/diagrams.py`` after editing; ``pytest docs`` checks that the files in
the repository are what this script writes. The SVGs are inlined into the page (not loaded as
images), so ``currentColor`` is the page's text colour: black on furo's light theme, light grey
on its dark one. The accent colours are mid-tones, readable on both backgrounds. The ``viewBox``
and ``width: 100%`` let a phone scale the drawing down, to a little over half its size at 390 px:
the labels are drawn large (16 to 19 units) so that they stay readable there. Equations are named
in words ("cell update"), not by their numbers on the pages, which move when a page is added.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
FONT = 'font-family="sans-serif"'
C_COLOR = "#d97706"  # the cell state, the carousel: amber
H_COLOR = "#2f7fd6"  # the hidden state: blue
GATE_COLOR = "#15a05a"  # the gates: green
GRAD_COLOR = "#d6336c"  # gradients in the unrolled graph: pink


def label(x, y, text, sub="", size=19, anchor="middle", color="currentColor", italic=True):
    """A text label ``text`` with an optional subscript ``sub``, centred at ``(x, y)``."""
    style = ' font-style="italic"' if italic else ""
    subscript = f'<tspan dy="4" font-size="{size * 0.7:.0f}">{sub}</tspan>' if sub else ""
    return (f'<text x="{x}" y="{y}" {FONT} font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}"{style}>{text}{subscript}</text>')


def rich(x, y, parts, size=16, anchor="middle", color="currentColor"):
    """A label of several ``(text, subscript)`` parts, such as ``δc_{t+1} ⊙ f_{t+1}``."""
    spans, shift = [], 0
    for text, sub in parts:
        spans.append(f'<tspan dy="{-shift}">{text}</tspan>' if shift else f"<tspan>{text}</tspan>")
        shift = 0
        if sub:
            spans.append(f'<tspan dy="4" font-size="{size * 0.7:.0f}">{sub}</tspan>')
            shift = 4
    return (f'<text x="{x}" y="{y}" {FONT} font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}" font-style="italic">{"".join(spans)}</text>')


def line(points, color="currentColor", width=1.6, arrow=True, dash=False):
    """A polyline through ``points``, with an arrow head at the end."""
    path = " ".join(f"{x},{y}" for x, y in points)
    head = ' marker-end="url(#{})"'.format("arrow-" + color.lstrip("#")) if arrow else ""
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


def svg(width, height, title, body, colors):
    markers = "".join(
        f'<marker id="arrow-{c.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" '
        f'markerUnits="userSpaceOnUse" markerWidth="10" markerHeight="10" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>' for c in colors)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
            f'role="img" style="width: 100%; max-width: {width}px; height: auto">\n'
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
    return svg(640, 360, "One LSTM step: the cell state c runs along the top, multiplied by the "
               "forget gate and added to the input gate times the candidate; the hidden state h "
               "is the output gate times tanh of c.", body,
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
        label(327, 108, "o ⊙ tanh", size=14, anchor="start", italic=False),
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
        rich(327, 136, [("δh", "t"), (" ⊙ o", "t")], size=14, anchor="start", color=GRAD_COLOR),
        rich(327, 156, [("(1 − tanh² c", "t"), (")", "")], size=14, anchor="start",
             color=GRAD_COLOR),
        label(330, 276, "dH[t−1]", size=16, anchor="start", color=GRAD_COLOR, italic=False),
    ]
    return svg(680, 300, "Steps t and t+1 unrolled: c_t leaves step t twice, into h_t and into "
               "c_t+1; h_t leaves twice, to the output and into the gates of step t+1. Along "
               "each edge comes a part of the gradient: dH[t-1], the gradient of the output h_t, "
               "is the array's row t-1, since arrays count from 0.", body,
               [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


FIGURES = {"cell.svg": cell, "unrolled.svg": unrolled}

if __name__ == "__main__":
    for name, draw in FIGURES.items():
        (HERE / name).write_text(draw(), encoding="utf-8")
