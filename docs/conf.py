"""Sphinx configuration for the lstm-reference documentation.

Build (-n: an unresolved reference is a warning; -W: a warning is an error):

    sphinx-build -n -W --keep-going -b html docs docs/_build/html

The pages are MyST Markdown. The built site works offline: no script, stylesheet or font is
loaded from the network (MathJax comes from the ``sphinx-mathjax-offline`` package, furo uses
system fonts, and there is no intersphinx). ``docs/test_site.py`` opens every built page in
Chromium and checks this, among other things.
"""

import os
import sys
from pathlib import Path

# The figures train small models at build time; with OpenBLAS's default threads on a busy 2-core
# machine that was up to 10x slower than one thread. Set before NumPy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `import lstm_reference` from the work tree, as autodoc does

import lstm_reference  # noqa: E402

# The conversions page includes the table of framework layouts, rendered from
# lstm_reference.LAYOUTS at every build, so that it shows what to_layout really does.
sys.path.insert(0, str(ROOT / "docs"))
import _layouts_table  # noqa: E402

_layouts_table.write(ROOT / "docs" / "_build" / "generated" / "layouts.md")

# Output quoted on the pages (what the scripts print, the memory task over six seeds, the cost of
# exp and tanh) is produced here, at every build, never pasted; see docs/_outputs.py.
import _outputs  # noqa: E402

_outputs.write(ROOT / "docs" / "_build" / "generated")

# The Reber page's table of results comes from the same run as its figure: the LSTM and the
# plain RNN trained on the embedded Reber grammar, run here (or reused, if its code is unchanged).
import _plots  # noqa: E402

_plots.write_reber_table()

# The performance page's tables and the numbers in its prose come from the recorded benchmark
# run, benchmarks/record.json (re-made by `tox -e bench`), at every build; its plots too.
import _performance  # noqa: E402

_performance.write_tables(ROOT / "docs" / "_build" / "generated")
_performance.forget_stale_plots(ROOT / "docs" / "_build")

# -- Project ------------------------------------------------------------------------------------

project = "lstm-reference"
author = "lstm-reference contributors"
copyright = "lstm-reference contributors"
release = lstm_reference.__version__
version = ".".join(release.split(".")[:2])

# -- General ------------------------------------------------------------------------------------

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # after sphinx.ext.mathjax: sets mathjax_path to its local copy
    "sphinx_copybutton",
    "matplotlib.sphinxext.plot_directive",
    "_access",  # docs/_access.py: accessibility fixes that apply to every page
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = []
html_static_path = ["_static"]
# custom.css: phone layout, equation numbers beside their formulas, the drawings' colours.
html_css_files = ["custom.css"]

# Every reference must resolve (also on Read the Docs, which passes -W but not -n).
nitpicky = True

# -- MyST ---------------------------------------------------------------------------------------

# dollarmath: $...$ and $$...$$ (eq-label), referenced with {eq}`eq-label`;
# amsmath: \begin{align} ... \end{align} and friends at the top level of a page.
# substitution: {{ name }} in the text, for the numbers of the recorded benchmark run.
myst_enable_extensions = ["dollarmath", "amsmath", "substitution"]
myst_substitutions = _performance.substitutions()
myst_heading_anchors = 3  # [text](#some-heading) links to headings up to level 3

# -- Math ---------------------------------------------------------------------------------------

# Equations are numbered by page, "(3.2)" for the second labelled equation of page 3, so that a
# reference to an equation on another page (the backward pass cites the forward equations) can
# never be mistaken for one on the current page. Needs the :numbered: toctree in index.md.
numfig = True
math_numfig = True
numfig_secnum_depth = 1
math_eqref_format = "({number})"

# A formula is not a tab stop: with MathJax's default, every formula on the site was one (828 of
# them), between a keyboard user and the links. Screen readers still read each formula from the
# MathML MathJax puts beside it (assistiveMml, on by default). A display formula wider than the
# screen, which scrolls, is made focusable by _static/scrolling.js (docs/_access.py).
mathjax3_config = {"options": {"menuOptions": {"settings": {"inTabOrder": False}}}}

# -- autodoc and napoleon -----------------------------------------------------------------------

autodoc_member_order = "bysource"  # the order of the file, which follows the derivation
autodoc_typehints = "none"  # the module has no annotations; types are in the docstrings
add_module_names = False
autodoc_preserve_defaults = True  # signatures show ``dtype=np.float64``, not ``<class '...'>``

napoleon_google_docstring = False
napoleon_numpy_docstring = True
# The module's NumPy docstrings give free-form types such as
# "array_like, shape (n, b, input_size)" or "None, int or numpy.random.Generator".
# With napoleon_use_param/use_rtype = True these would become :type: fields, which Sphinx splits
# into cross-references ("array_like", "shape", "n", ...); with no intersphinx (the build must
# not touch the network) none of them resolve and nitpicky mode fails. Rendered as a single
# field list, the type is shown verbatim as text: nothing to resolve, nothing lost.
napoleon_use_param = False
napoleon_use_rtype = False
# "Attributes" sections get the same treatment as "Parameters": with the default, each attribute
# becomes a ``.. attribute::`` whose ``:type:`` is parsed as a Python expression, and the free-form
# "ndarray, shape (input_size, hidden_size)" again turns into unresolvable cross-references.
napoleon_custom_sections = [("Attributes", "params_style")]
napoleon_preprocess_types = False
napoleon_use_admonition_for_examples = False

# Whatever still becomes a cross-reference to NumPy or to a docstring pseudo-type cannot resolve
# without intersphinx; these targets are known and named here, so that any other unresolved
# reference is still an error. Built-in types (int, float, None, ValueError, ...) need no entry:
# Sphinx resolves them itself.
nitpick_ignore = [
    ("py:class", "array_like"),
    ("py:class", "array-like"),
    ("py:class", "optional"),
    ("py:class", "scalar"),
    ("py:class", "ndarray"),
    ("py:class", "np.ndarray"),
    ("py:class", "numpy.ndarray"),
    ("py:class", "numpy.random.Generator"),
    ("py:class", "np.random.Generator"),
    ("py:class", "numpy.dtype"),
    ("py:class", "np.dtype"),
    ("py:class", "numpy.float32"),
    ("py:class", "numpy.float64"),
    ("py:class", "np.float32"),
    ("py:class", "np.float64"),
    ("py:class", "dtype"),
]

# -- HTML ---------------------------------------------------------------------------------------

# furo: made for long reading, light/dark/auto, page contents in the right sidebar, system fonts
# (no web fonts, no CDN).
html_theme = "furo"
html_title = f"lstm-reference {release}"
html_theme_options = {"navigation_with_keys": True}
html_copy_source = False
html_show_sourcelink = False

# sphinx-copybutton: copying a ">>> " example copies only the input lines, without prompts or
# output, ready to paste into Python; a block with no prompt is copied whole.
copybutton_prompt_text = r">>> |\.\.\. "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = True
copybutton_remove_prompts = True
copybutton_copy_empty_lines = False

# -- Figures: matplotlib's plot directive --------------------------------------------------------

# ```{plot} blocks run at build time against the module in this tree, so figures never go stale.
plot_pre_code = "import numpy as np\nimport matplotlib.pyplot as plt\nimport lstm_reference as lr\n"
plot_formats = [("png", 150)]
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_rcparams = {"figure.figsize": (6.4, 3.6), "savefig.bbox": "tight"}
plot_apply_rcparams = True  # the rcparams above apply to every figure, also to plot_pre_code
# The default template writes every figure a second time inside ``.. only:: not html`` (for
# LaTeX), and figure numbering counts both copies: Fig. 1, 3, 5. HTML is all this site builds.
from matplotlib.sphinxext import plot_directive as _plot_directive  # noqa: E402

plot_template = _plot_directive.TEMPLATE.split(".. only:: not html")[0]

# -- Equation labels beside their numbers --------------------------------------------------------

# The code cites equations by label (``# eq-dh``), the pages by number ("(6.1)"). So that a reader
# can go from one to the other, every numbered display equation shows its label next to its
# number, and on a page whose code cites a label, every reference to that equation shows the label
# after its number too. docs/test_site.py checks both.
import re  # noqa: E402

_DISPLAY = re.compile(r'(id="equation-(eq-[\w-]+)">\s*<span class="eqno">\([\d.]+\))')
_REFERENCE = re.compile(r'(<a class="reference internal" href="[^"]*#equation-(eq-[\w-]+)">'
                        r'(?:<span[^>]*>)?\([\d.]+\)(?:</span>)?</a>)')
_CODE = re.compile(r"<pre>.*?</pre>", re.DOTALL)


def eqlabel(label):
    return f'<code class="eqlabel">{label}</code>'


def _label_equations(app, pagename, templatename, context, doctree):
    body = context.get("body")
    if not body or "equation-eq-" not in body:
        return
    cited = set(re.findall(r"eq-[a-z][a-z-]*[a-z]", " ".join(_CODE.findall(body))))
    body = _DISPLAY.sub(lambda m: m.group(1) + eqlabel(m.group(2)), body)
    body = _REFERENCE.sub(lambda m: m.group(1) + (" " + eqlabel(m.group(2))
                                                  if m.group(2) in cited else ""), body)
    context["body"] = body


def setup(app):
    app.connect("html-page-context", _label_equations)
