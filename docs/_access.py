"""A Sphinx extension: what every page needs to be accessible, also pages added later.

``docs/test_site.py`` runs axe-core on every built page, light and dark, and measures the boxes
this extension and ``_static/custom.css`` / ``_static/scrolling.js`` look after.

At build time (``doctree-resolved``):

- an inline SVG drawing (a ``raw`` html block that is an ``<svg>``) is wrapped in
  ``<div class="diagram">``, a box that scrolls sideways when the drawing is wider than the
  column (the drawings keep a minimum width, at which their text stays readable).

After the build (``build-finished``), on every HTML page, each fix a no-op when done already:

- the toctree captions ("Derivation", ...) that Sphinx marks ``role="heading"`` get the
  ``aria-level`` a heading role requires (an open Sphinx bug; axe's aria-required-attr);
- furo's two ``<aside>`` landmarks get names, so that a screen reader's list of landmarks tells
  them apart (landmark-unique);
- the search page gets a heading (page-has-heading-one);
- an empty header cell, such as a table's top-left corner, becomes a plain data cell: a header
  with no text names nothing (empty-table-header).

In the browser (``_static/scrolling.js``): a box that scrolls sideways (code, table, display
formula, drawing) is made focusable, so that a keyboard can scroll it
(scrollable-region-focusable), and a formula, table or drawing that scrolls is shown to scroll.
"""

import re
from pathlib import Path

from docutils import nodes

FIXES = [
    (
        re.compile(r'<p class="caption" role="heading">'),
        '<p class="caption" role="heading" aria-level="2">',
    ),
    (
        re.compile(r'<aside class="sidebar-drawer">'),
        '<aside class="sidebar-drawer" aria-label="Site">',
    ),
    (
        re.compile(r'<aside class="toc-drawer( no-toc)?">'),
        r'<aside class="toc-drawer\1" aria-label="On this page">',
    ),
    (re.compile(r'<th class="head">(<p></p>)?</th>'), "<td></td>"),
]
SEARCH_HEADING = (
    re.compile(r'(<article role="main" id="furo-main-content">)(?!\s*<h1)'),
    r"\1\n<h1>Search</h1>",
)


def wrap_drawings(app, doctree, docname):
    """Put each inline ``<svg>`` drawing in a ``div.diagram`` that can scroll sideways."""
    for raw in doctree.findall(nodes.raw):
        text = raw.astext()
        if "html" in raw.get("format", "").split() and text.lstrip().startswith("<svg"):
            wrapped = f'<div class="diagram">\n{text}</div>\n'
            raw.replace_self(nodes.raw(wrapped, wrapped, format="html"))


def fix_page(text, search=False):
    """The HTML of one built page with the fixes above."""
    for pattern, replacement in FIXES:
        text = pattern.sub(replacement, text)
    if search:
        text = SEARCH_HEADING[0].sub(SEARCH_HEADING[1], text, count=1)
    return text


def fix_pages(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    for path in Path(app.outdir).rglob("*.html"):
        text = path.read_text("utf-8")
        fixed = fix_page(text, search=path == Path(app.outdir) / "search.html")
        if fixed != text:
            path.write_text(fixed, "utf-8")


def setup(app):
    app.connect("doctree-resolved", wrap_drawings)
    app.connect("build-finished", fix_pages)
    app.add_js_file("scrolling.js", defer="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
