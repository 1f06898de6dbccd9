"""Write the two diagrams of the pictures page, ``cell.svg`` and ``unrolled.svg``, beside this file.

Run ``python docs/figures/diagrams.py`` after editing; ``pytest docs`` checks that the files in
the repository are what this script writes. The SVGs are inlined into the page (not loaded as
images), so ``currentColor`` is the page's text colour: black on furo's light theme, light grey
on its dark one. The accent colours are mid-tones, readable on both backgrounds. The ``viewBox``
and ``width: 100%`` let a phone scale the drawing down.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
FONT = 'font-family="sans-serif"'
C_COLOR = "#d97706"  # the cell state, the carousel: amber
H_COLOR = "#2f7fd6"  # the hidden state: blue
GATE_COLOR = "#15a05a"  # the gates: green
GRAD_COLOR = "#d6336c"  # gradients in the unrolled graph: pink


def label(x, y, text, sub="", size=15, anchor="middle", color="currentColor", italic=True):
    """A text label ``text`` with an optional subscript ``sub``, centred at ``(x, y)``."""
    style = ' font-style="italic"' if italic else ""
    subscript = f'<tspan dy="4" font-size="{size * 0.7:.0f}">{sub}</tspan>' if sub else ""
    return (f'<text x="{x}" y="{y}" {FONT} font-size="{size}" text-anchor="{anchor}" '
            f'fill="{color}"{style}>{text}{subscript}</text>')


def rich(x, y, parts, size=13, anchor="middle", color="currentColor"):
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


def box(x, y, w, h, color, text, sub=""):
    """A gate: a rounded box of a light tint of ``color``, with its function written inside."""
    return (f'<rect x="{x - w / 2}" y="{y - h / 2}" width="{w}" height="{h}" rx="6" '
            f'fill="{color}" fill-opacity="0.18" stroke="{color}" stroke-width="1.6"/>'
            + label(x, y + 5, text, sub, italic=False))


def operator(x, y, symbol, color="currentColor"):
    """An elementwise operation: a circle with ``×`` or ``+``."""
    return (f'<circle cx="{x}" cy="{y}" r="12" fill="none" stroke="{color}" stroke-width="1.6"/>'
            + label(x, y + 5, symbol, size=16, color=color, italic=False))


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
        # the cell state runs straight through the top: one product, one sum (eq-cell)
        label(20, 44, "c", "t−1", anchor="start", color=C_COLOR),
        line([(20, 60), (178, 60)], C_COLOR, 3),
        operator(190, 60, "×", C_COLOR),
        line([(202, 60), (308, 60)], C_COLOR, 3),
        operator(320, 60, "+", C_COLOR),
        line([(332, 60), (628, 60)], C_COLOR, 3),
        label(628, 44, "c", "t", anchor="end", color=C_COLOR),
        # the previous output and the input make the pre-activations (eq-z)
        label(20, 252, "h", "t−1", anchor="start", color=H_COLOR),
        line([(20, 268), (148, 268)], H_COLOR, 2.4),
        line([(300, 345), (300, 285)], "currentColor"),
        label(312, 342, "x", "t", anchor="start"),
        '<rect x="150" y="252" width="320" height="32" rx="6" fill="none" '
        'stroke="currentColor" stroke-width="1.4"/>',
        label(310, 273, "z = [1, x, h] W  (one product, four gates)", size=13, italic=False),
        # four gates (eq-gates)
        line([(190, 252), (190, 217)]), box(190, 200, 46, 30, GATE_COLOR, "σ"),
        line([(270, 252), (270, 217)]), box(270, 200, 46, 30, GATE_COLOR, "σ"),
        line([(360, 252), (360, 217)]), box(360, 200, 46, 30, GATE_COLOR, "tanh"),
        line([(440, 252), (440, 217)]), box(440, 200, 46, 30, GATE_COLOR, "σ"),
        label(163, 205, "f", "t", anchor="end"), label(243, 205, "i", "t", anchor="end"),
        label(390, 205, "g", "t", anchor="start"), label(470, 190, "o", "t", anchor="start"),
        # forget: f * c_{t-1}
        line([(190, 185), (190, 74)], GATE_COLOR),
        # input: i * g, added to the cell
        line([(270, 185), (310, 140)], GATE_COLOR, arrow=False),
        line([(360, 185), (330, 140)], GATE_COLOR, arrow=False),
        operator(320, 130, "×"),
        line([(320, 118), (320, 74)]),
        # output: h_t = o * tanh(c_t) (eq-hidden)
        line([(540, 60), (540, 108)], C_COLOR, 2),
        box(540, 125, 50, 30, "currentColor", "tanh"),
        line([(540, 140), (540, 186)]),
        line([(463, 200), (526, 200)], GATE_COLOR),
        operator(540, 200, "×"),
        line([(540, 212), (540, 268), (628, 268)], H_COLOR, 2.4),
        label(628, 252, "h", "t", anchor="end", color=H_COLOR),
        line([(595, 268), (595, 340)], H_COLOR, 1.6),
        label(587, 340, "output", size=12, anchor="end", italic=False),
    ]
    return svg(640, 360, "One LSTM step: the cell state c runs along the top, multiplied by the "
               "forget gate and added to the input gate times the candidate; the hidden state h "
               "is the output gate times tanh of c.", body,
               [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


def unrolled():
    """Steps t and t + 1, and the two edges out of each of c_t and h_t, with their gradients."""
    body = []
    for x0, name, sub in ((150, "step ", "t"), (470, "step ", "t+1")):
        body += [f'<rect x="{x0}" y="30" width="200" height="200" rx="10" fill="none" '
                 f'stroke="currentColor" stroke-width="1.4" stroke-dasharray="2 3"/>',
                 label(x0 + 100, 22, name + sub, size=13, italic=False),
                 f'<rect x="{x0 + 14}" y="95" width="72" height="70" rx="6" fill="{GATE_COLOR}" '
                 f'fill-opacity="0.18" stroke="{GATE_COLOR}" stroke-width="1.6"/>',
                 label(x0 + 50, 125, "z, gates", size=12, italic=False),
                 label(x0 + 50, 145, "eq-z", size=11, italic=False)]
    body += [
        # into step t from step t-1
        line([(20, 70), (306, 70)], C_COLOR, 2.4),
        label(20, 58, "c", "t−1", anchor="start", color=C_COLOR),
        line([(20, 190), (120, 190), (120, 130), (162, 130)], H_COLOR, 2.4),
        label(20, 208, "h", "t−1", anchor="start", color=H_COLOR),
        line([(236, 112), (300, 80)], GATE_COLOR),
        # inside step t: c_t, then h_t from it
        f'<circle cx="320" cy="70" r="14" fill="none" stroke="{C_COLOR}" stroke-width="2"/>',
        label(320, 75, "c", "t", size=13, color=C_COLOR),
        f'<circle cx="320" cy="190" r="14" fill="none" stroke="{H_COLOR}" stroke-width="2"/>',
        label(320, 195, "h", "t", size=13, color=H_COLOR),
        line([(320, 84), (320, 174)], "currentColor"),
        label(326, 134, "eq-hidden", size=11, anchor="start", italic=False),
        line([(236, 150), (306, 186)], GATE_COLOR),
        # out of c_t: into c_{t+1}
        line([(334, 70), (626, 70)], C_COLOR, 2.4),
        # out of h_t: into z_{t+1}, and to the output
        line([(334, 190), (440, 190), (440, 130), (482, 130)], H_COLOR, 2.4),
        line([(320, 204), (320, 262)], H_COLOR, 2.4),
        label(332, 258, "output", size=12, anchor="start", italic=False),
        line([(556, 112), (620, 80)], GATE_COLOR),
        f'<circle cx="640" cy="70" r="14" fill="none" stroke="{C_COLOR}" stroke-width="2"/>',
        label(640, 75, "c", "t+1", size=12, color=C_COLOR),
        # the gradient coming back along each edge
        rich(402, 58, [("δc", "t+1"), (" ⊙ f", "t+1")], color=GRAD_COLOR),
        rich(395, 214, [("δz", "t+1"), (" W", "h"), ("ᵀ", "")], color=GRAD_COLOR),
        rich(326, 154, [("δh", "t"), (" ⊙ o", "t"), ("(1 − tanh² c", "t"), (")", "")],
             size=11, anchor="start", color=GRAD_COLOR),
        label(332, 278, "dH[t]", size=13, anchor="start", color=GRAD_COLOR, italic=False),
    ]
    return svg(680, 300, "Steps t and t+1 unrolled: c_t leaves step t twice, into h_t and into "
               "c_t+1; h_t leaves twice, to the output and into the gates of step t+1. Along "
               "each edge comes a part of the gradient.", body,
               [C_COLOR, H_COLOR, GATE_COLOR, "currentColor"])


FIGURES = {"cell.svg": cell, "unrolled.svg": unrolled}

if __name__ == "__main__":
    for name, draw in FIGURES.items():
        (HERE / name).write_text(draw(), encoding="utf-8")
