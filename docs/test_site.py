"""The built site, page by page, in a real browser: ``pytest docs`` after the Sphinx build.

Playwright for Python drives the system Chromium (``apt-get install chromium``; Playwright's own
browser download is neither used nor needed). Every HTML page under ``docs/_build/html`` is
opened from disk, as a reader who downloaded the site would, and must:

- ask for nothing but ``file:`` and ``data:`` URLs. The page's own request events are read,
  never the browser's network log: Chromium's own update and account traffic is not the page's,
  and changes with every release. Any other request is also aborted, so a test never goes out;
- have every formula typeset: each ``.math`` element holds a MathJax container, no
  ``mjx-merror``, no backslash glyph drawn in math (MathJax CHTML draws U+005C as
  ``mjx-c.mjx-c5C``: the mark of ``\\text{a\\_b}`` or of an undefined macro), and no raw TeX
  (``\\frac``, ``$$``, ``\\(`` ...) left in the text outside code;
- load every image and script, raise no JavaScript error, and have every internal link lead to a
  file of the site and every ``#anchor`` to an element that exists;
- at phone width (390 px) not run sideways: only code blocks, tables and display math may be
  wider than the screen, and they scroll inside their own box;
- copy only the input lines of a ``>>>`` example, without prompts or output;
- pass axe-core (WCAG 2.0/2.1 A and AA, and best practice) with no serious or critical
  violation, in the light and the dark theme; have no formula in the tab order, but each with
  its MathML for screen readers; draw the drawings' text at 4.5:1 against the background;
- measured with bounding boxes: at 1280 px no equation number overlaps its formula and no table,
  image or drawing is clipped or scrolls; at 390 px the drawings' text is 11 px or larger; a
  formula, table or drawing that scrolls sideways is focusable and says that it scrolls; no line
  of a drawing runs through one of its labels.

The search page must find "forget gate". Screenshots of every page at 1280 and 390 px are left in
``docs/_build/screenshots/`` for a person to look at. The ``test_planted_*`` tests run each check on
a copy of a built page with one defect planted, and require the check to report it.

No Chromium (or no Playwright) skips these tests with the reason, unless ``DOCS_REQUIRE_BROWSER=1``
(CI sets it), which makes it a failure. ``DOCS_CHROMIUM`` names another Chromium binary.
"""

import os
import re
import shutil
from functools import cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

DOCS = Path(__file__).resolve().parent
# DOCS_SITE: test another build (an older one, to see a check fail on what it was made for).
SITE = Path(os.environ.get("DOCS_SITE") or DOCS / "_build" / "html")
SCREENSHOTS = DOCS / "_build" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SEARCH_PHRASE = "forget gate"

# The root runs CI, hence --no-sandbox. The rest keeps the browser from reaching out by itself,
# and an unresolvable host for everything guards against a request the route below misses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
LOCAL_SCHEMES = ("file:", "data:")

PAGES = sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html"))


def _pages_with_prompts():
    """Pages with a ``>>>`` example: Pygments marks the prompt ``<span class="gp">``."""
    return [p for p in PAGES if '<span class="gp">&gt;&gt;&gt; ' in (SITE / p).read_text("utf-8")]


PROMPT_PAGES = _pages_with_prompts()


def _unavailable(reason):
    """Fail in CI (DOCS_REQUIRE_BROWSER=1), skip with the reason elsewhere."""
    if os.environ.get("DOCS_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (DOCS_REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def _chromium():
    return (
        os.environ.get("DOCS_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


# -- Browser and pages ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    if not (SITE / "index.html").is_file():
        _unavailable(f"no built site in {SITE}: run sphinx-build first (see docs/conf.py)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -r docs/requirements.txt")
    executable = _chromium()
    if not executable:
        _unavailable("Chromium is not installed: apt-get install chromium (or set DOCS_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One page open in a fresh browser context, with what it asked for and what went wrong."""

    def __init__(self, browser, path, viewport, color_scheme="light"):
        self.path = Path(path)
        # furo follows the system's colour scheme (its "auto" theme): "dark" shows its dark theme.
        self.context = browser.new_context(
            viewport=viewport,
            permissions=["clipboard-read", "clipboard-write"],
            color_scheme=color_scheme,
        )
        self.page = self.context.new_page()
        self.requests, self.failed, self.errors = [], [], []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("requestfailed", self._failed)
        self.page.on("pageerror", self._error)
        self.page.route(lambda url: not url.startswith(LOCAL_SCHEMES), lambda route: route.abort())

    # Sphinx's search fetches each hit's page for a summary, and a browser refuses fetch() of a
    # file: URL: opened from disk, the hits come without summaries (the fetch fails, and its
    # promise rejects). A served site has them. A fetch from the web is still a request off the
    # site, reported by request_problems.
    def _failed(self, request):
        if not (request.resource_type == "fetch" and request.url.startswith("file:")):
            self.failed.append(f"{request.url} ({request.failure})")

    def _error(self, error):
        if str(error) != "Failed to fetch":
            self.errors.append(str(error))

    def open(self, query=""):
        self.page.goto(self.path.as_uri() + query, wait_until="load")
        # MathJax typesets after the load event; its promise settles when it is done.
        self.page.evaluate(
            "async () => { if (window.MathJax?.startup?.promise) await MathJax.startup.promise;"
            " await document.fonts.ready; }"
        )
        return self

    def close(self):
        self.context.close()


@pytest.fixture(scope="module", params=PAGES)
def page_name(request):
    return request.param


@pytest.fixture(scope="module")
def desktop(browser, page_name):
    visit = Visit(browser, SITE / page_name, DESKTOP).open()
    _screenshot(visit, page_name, DESKTOP)
    yield visit
    visit.close()


@pytest.fixture(scope="module")
def phone(browser, page_name):
    visit = Visit(browser, SITE / page_name, PHONE).open()
    _screenshot(visit, page_name, PHONE)
    yield visit
    visit.close()


@pytest.fixture(scope="module")
def dark(browser, page_name):
    visit = Visit(browser, SITE / page_name, DESKTOP, color_scheme="dark").open()
    _screenshot(visit, page_name, DESKTOP, "-dark")
    yield visit
    visit.close()


@pytest.fixture(scope="module")
def phone_dark(browser, page_name):
    visit = Visit(browser, SITE / page_name, PHONE, color_scheme="dark").open()
    _screenshot(visit, page_name, PHONE, "-dark")
    yield visit
    visit.close()


def _screenshot(visit, page_name, viewport, suffix=""):
    name = page_name.replace("/", "_").removesuffix(".html")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{viewport['width']}{suffix}.png"
    visit.page.screenshot(path=path, full_page=True)


# -- The checks: each returns a list of problems, empty when the page is right --------------------


def request_problems(visit):
    """Requests for anything but the site's own files, failed loads, JavaScript errors."""
    problems = [f"asked for {url}" for url in visit.requests if not url.startswith(LOCAL_SCHEMES)]
    problems += [f"failed to load {failure}" for failure in visit.failed]
    problems += [f"JavaScript error: {error}" for error in visit.errors]
    return problems


MATH_JS = r"""() => {
  const tex = new Map();
  for (const item of window.MathJax?.startup?.document?.math ?? []) {
    tex.set(item.typesetRoot, item.math);
  }
  const source = el => {
    const c = el.closest('mjx-container');
    return c && tex.has(c) ? tex.get(c) : el.textContent.trim().slice(0, 80);
  };
  const problems = [];
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('mjx-container')) problems.push(`not typeset: ${source(el)}`);
  }
  for (const el of document.querySelectorAll('mjx-merror')) {
    problems.push(`MathJax error "${el.getAttribute('data-mjx-error')}" in ${source(el)}`);
  }
  for (const c of document.querySelectorAll('mjx-container')) {
    if (c.querySelector('mjx-c.mjx-c5C')) problems.push(`backslash drawn in ${source(c)}`);
  }
  // Text a reader sees outside formulas and code: raw TeX there was never typeset.
  const skip = 'script, style, pre, code, textarea, mjx-container, .math';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  // $$, \( \) \[ \], a TeX command, or $x$ that dollarmath did not take.
  const raw = /\$\$|\\[()[\]]|\\[A-Za-z]+|\$[^\s$][^$]*\$/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(skip)) continue;
    const m = node.textContent.match(raw);
    if (m) problems.push(`raw TeX "${m[0]}" in text: ${node.textContent.trim().slice(0, 80)}`);
  }
  return problems;
}"""


def math_problems(visit):
    return visit.page.evaluate(MATH_JS)


def image_problems(visit):
    return visit.page.evaluate(
        """() => Array.from(document.images)
             .filter(img => !img.complete || img.naturalWidth === 0)
             .map(img => `image does not load: ${img.getAttribute('src')}`)"""
    )


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids.update(v for k, v in attrs.items() if k == "id" or (tag == "a" and k == "name"))


@cache
def _ids_in(path):
    parser = _Ids()
    parser.feed(Path(path).read_text("utf-8"))
    return frozenset(parser.ids)


def link_problems(visit, site=SITE):
    """Every link into the site leads to a file of it, and every #anchor to an element."""
    here = visit.path.resolve()
    dom_ids = set(
        visit.page.evaluate(
            "() => Array.from(document.querySelectorAll('[id], a[name]'), e => e.id || e.name)"
        )
    )
    problems = []
    for href in visit.page.evaluate("() => Array.from(document.links, a => a.href)"):
        url = urlsplit(href)
        if url.scheme != "file":
            continue  # links to the web are for the reader to follow; the page loads none
        target = Path(unquote(url.path))
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            problems.append(f"broken link: {href}")
        elif not target.resolve().is_relative_to(site.resolve()):
            problems.append(f"link leaves the site: {href}")
        elif url.fragment:
            ids = dom_ids if target.resolve() == here else _ids_in(target.resolve())
            if unquote(url.fragment) not in ids:
                problems.append(f"no element #{unquote(url.fragment)} in {target.name}: {href}")
    return problems


OVERFLOW_JS = r"""(scrollers) => {
  const width = document.documentElement.clientWidth;
  const problems = [];
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide`);
  }
  const describe = el => {
    const text = (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
    return `<${el.tagName.toLowerCase()} class="${el.className}"> "${text}"`;
  };
  const reported = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height || !el.checkVisibility({visibilityProperty: true})) continue;
    if (r.left >= -1 && r.right <= width + 1) continue;
    // Off-canvas drawers (the theme's navigation on a phone) sit wholly outside the screen.
    if ((r.right <= 0 || r.left >= width) && el.closest('.sidebar-drawer, .toc-drawer')) continue;
    // MathJax's copy of a formula for screen readers is clipped to nothing on screen.
    if (el.closest('mjx-assistive-mml')) continue;
    // The parts of a drawing go where the drawing goes: the <svg> itself is checked.
    if (el.ownerSVGElement) continue;
    let box = el.parentElement;
    while (box && getComputedStyle(box).overflowX === 'visible') box = box.parentElement;
    if ([...reported].some(b => b.contains(el))) continue;  // its wide ancestor is reported
    const scrolls = box && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX);
    const fits = box && box.getBoundingClientRect().right <= width + 1;
    if (scrolls && fits && box.matches(scrollers)) continue;
    reported.add(el);
    const how = !box || box === document.documentElement || box === document.body
      ? 'runs off the screen'
      : scrolls ? `scrolls inside ${describe(box)}` : `is cut off by ${describe(box)}`;
    problems.push(`${describe(el)} (${Math.round(r.left)}..${Math.round(r.right)} px) ${how}`);
  }
  return problems.slice(0, 20);
}"""

# What may be wider than a phone, scrolling in its own box: code, tables, display math.
SCROLLERS = (
    'pre, div.highlight, .table-wrapper, .math-wrapper, div.math, mjx-container[display="true"],'
    " div.diagram"
)


def overflow_problems(visit):
    return visit.page.evaluate(OVERFLOW_JS, SCROLLERS)


def _input_lines(example):
    """What copying a ``>>>`` example must give: its input lines without the prompts."""
    return "\n".join(line[4:] for line in example.splitlines() if line.startswith((">>> ", "... ")))


def copy_problems(visit):
    """Click the copy button of every ``>>>`` example and read the clipboard."""
    problems = []
    blocks = visit.page.locator("div.highlight:has(pre .gp)")
    for k in range(blocks.count()):
        block = blocks.nth(k)
        block.hover()
        block.locator("button.copybtn").click()
        copied = visit.page.evaluate("() => navigator.clipboard.readText()")
        expected = _input_lines(block.locator("pre").inner_text())
        if copied != expected:
            problems.append(f"example {k + 1} copies {copied[:300]!r}, not {expected[:300]!r}")
    return problems


def search_problems(browser, phrase, site=SITE):
    """The search page finds ``phrase``, and its first hit is a page whose text has it."""
    visit = Visit(browser, site / "search.html", DESKTOP).open(f"?q={phrase.replace(' ', '+')}")
    try:
        page = visit.page
        page.wait_for_function("() => document.querySelector('#search-results .search-summary')")
        hits = page.evaluate(
            "() => Array.from(document.querySelectorAll('#search-results ul.search li a'),"
            " a => a.href)"
        )
        problems = request_problems(visit)
        if not hits:
            return [*problems, f'searching for "{phrase}" finds nothing']
        first = Path(unquote(urlsplit(hits[0]).path))
        text = re.sub(r"<[^>]+>|\s+", " ", first.read_text("utf-8")).lower()
        if phrase.lower() not in text:
            problems.append(f'the first hit for "{phrase}", {first.name}, does not contain it')
        return problems
    finally:
        visit.close()


# -- Accessibility ---------------------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
AXE_FAILS = ("serious", "critical")  # moderate and minor ones are reported, not failed


def axe_violations(visit):
    """axe-core's violations on the page (axe-playwright-python's bundled copy: no network)."""
    from axe_playwright_python.sync_playwright import Axe

    # preload: axe would fetch each stylesheet again, which a page opened from file: cannot (a
    # failed request); the one rule that reads them, css-orientation-lock, then says
    # "incomplete", not "violation" (furo locks no orientation).
    options = {
        "runOnly": {"type": "tag", "values": AXE_TAGS},
        "resultTypes": ["violations"],
        "preload": False,
    }
    return Axe().run(visit.page, options=options).response["violations"]


def accessibility_problems(visit):
    """Serious and critical axe-core violations, each with the elements it was found on."""
    return [
        f"{v['impact']} {v['id']}: {v['help']}: "
        + "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
        + (f" and {len(v['nodes']) - 5} more" if len(v["nodes"]) > 5 else "")
        for v in axe_violations(visit)
        if v["impact"] in AXE_FAILS
    ]


FORMULA_JS = r"""() => {
  const problems = [];
  for (const c of document.querySelectorAll('mjx-container')) {
    // scrolling.js makes a formula that scrolls focusable (data-scroll-focus): that one may be.
    if (c.tabIndex >= 0 && !('scrollFocus' in c.dataset)) {
      problems.push(`formula in the tab order: ${c.textContent.trim().slice(0, 40)}`);
    }
    if (!c.querySelector('mjx-assistive-mml math')) {
      problems.push(`formula without MathML for screen readers: ${c.textContent.slice(0, 40)}`);
    }
  }
  return problems;
}"""


def formula_access_problems(visit):
    return visit.page.evaluate(FORMULA_JS)


# WCAG's contrast ratio of two "rgb(r, g, b)" colours.
CONTRAST_JS = r"""
const luminance = rgb => {
  const [r, g, b] = rgb.match(/[\d.]+/g).slice(0, 3).map(v => {
    const c = v / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
};
const background = el => {
  for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && !/^rgba\(.*, 0\)$/.test(c) && c !== 'transparent') return c;
  }
  return 'rgb(255, 255, 255)';
};
"""

DRAWING_TEXT_JS = (
    "(minimum) => {"
    + CONTRAST_JS
    + r"""
  const problems = [];
  for (const svg of document.querySelectorAll('article svg[role="img"]')) {
    const title = svg.querySelector(':scope > title');
    if (!title || title.textContent.trim().split(/\s+/).length < 8) {
      problems.push('a drawing without a <title> that says what it shows');
    }
    for (const t of svg.querySelectorAll('text')) {
      const ratio = contrast(getComputedStyle(t).fill, background(svg));
      if (ratio < minimum) {
        problems.push(`drawing text "${t.textContent}" at ${ratio.toFixed(2)}:1 on its background`);
      }
    }
  }
  return problems;
}"""
)


def drawing_text_problems(visit, minimum=4.5):
    """Each drawing has a title that says what it shows, and text at ``minimum``:1 or more."""
    return visit.page.evaluate(DRAWING_TEXT_JS, minimum)


# -- Measured with bounding boxes -----------------------------------------------------------------

LAYOUT_JS = r"""(phone) => {
  const problems = [];
  const overlap = (a, b) =>
    Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 &&
    Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
  const clip = (a, b) => ({left: Math.max(a.left, b.left), right: Math.min(a.right, b.right),
                           top: Math.max(a.top, b.top), bottom: Math.min(a.bottom, b.bottom)});
  const scrolls = el => el.scrollWidth > el.clientWidth + 1 &&
    ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const describe = el => `<${el.tagName.toLowerCase()}> "${
    (el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50)}"`;

  // An equation number and the glyphs of its formula (as far as they are in view) never meet.
  for (const eqno of document.querySelectorAll('div.math span.eqno')) {
    const math = eqno.parentElement.querySelector('mjx-container');
    const glyphs = math && math.querySelector('mjx-math');
    if (!glyphs) continue;
    const shown = clip(glyphs.getBoundingClientRect(), math.getBoundingClientRect());
    if (overlap(eqno.getBoundingClientRect(), shown)) {
      problems.push(`equation number ${eqno.textContent.trim()} is drawn over its formula`);
    }
  }

  // What scrolls sideways is focusable and says so (scrolling.js); at 1280 px, nothing but
  // code scrolls: no table, figure or drawing is wider than its column.
  const boxes = 'div.math > mjx-container, .table-wrapper, div.diagram, figure, div.figure';
  for (const box of document.querySelectorAll(`article ${boxes}`)) {
    if (!scrolls(box) || !box.checkVisibility()) continue;  // in a closed <details>: not shown
    if (!phone && !box.matches('div.math > mjx-container')) {
      problems.push(`${describe(box)} is ${box.scrollWidth} px wide in a ${box.clientWidth} px` +
                    ' column: cut off, or scrolls');
      continue;
    }
    const cue = (box.closest('div.math') || box).nextElementSibling;
    if (box.tabIndex < 0) problems.push(`${describe(box)} scrolls sideways but is not focusable`);
    if (!cue || !cue.matches('.scroll-cue') || !cue.checkVisibility() ||
        cue.getBoundingClientRect().right > document.documentElement.clientWidth) {
      problems.push(`${describe(box)} scrolls sideways with no sign that it does`);
    }
  }
  // Images, tables and drawings that are cut off by a box that does not scroll.
  const figures = 'article img, article table, article svg[role="img"]';
  for (const el of document.querySelectorAll(figures)) {
    const r = el.getBoundingClientRect();
    let box = el.parentElement;
    while (box && box.tagName !== 'ARTICLE' && getComputedStyle(box).overflowX === 'visible') {
      box = box.parentElement;
    }
    if (!box || scrolls(box)) continue;  // reported above when it matters
    const b = box.getBoundingClientRect();
    if (r.left < b.left - 1 || r.right > b.right + 1) {
      problems.push(`${describe(el)} (${Math.round(r.left)}..${Math.round(r.right)} px) is cut ` +
                    `off by its box (${Math.round(b.left)}..${Math.round(b.right)} px)`);
    }
  }

  for (const svg of document.querySelectorAll('article svg[role="img"]')) {
    const scale = svg.getScreenCTM().a;  // screen pixels per unit of the drawing
    // Its text is readable: 11 px or more on screen.
    for (const t of svg.querySelectorAll('text, tspan')) {
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < 11) {
        problems.push(`drawing text "${t.textContent}" is ${px.toFixed(1)} px high`);
      }
    }
    // No line of the drawing runs through one of its labels.
    const labels = [...svg.querySelectorAll('text')].map(t => [t, t.getBBox()]);
    for (const line of svg.querySelectorAll('polyline, line')) {
      const pts = line.tagName === 'line'
        ? [[line.x1.baseVal.value, line.y1.baseVal.value],
           [line.x2.baseVal.value, line.y2.baseVal.value]]
        : [...line.points].map(p => [p.x, p.y]);
      for (const [t, b] of labels) {
        for (let k = 1; k < pts.length; k++) {
          // sample the segment: a label box is a few units across, the samples 1 unit apart
          const [[x0, y0], [x1, y1]] = [pts[k - 1], pts[k]];
          const steps = Math.ceil(Math.hypot(x1 - x0, y1 - y0));
          for (let s = 0; s <= steps; s++) {
            const x = x0 + (x1 - x0) * s / steps, y = y0 + (y1 - y0) * s / steps;
            if (x > b.x && x < b.x + b.width && y > b.y + 2 && y < b.y + b.height - 2) {
              problems.push(`a line of the drawing runs through its label "${t.textContent}"`);
              s = steps; k = pts.length;
            }
          }
        }
      }
    }
  }
  return [...new Set(problems)];
}"""


def layout_problems(visit):
    """The bounding-box checks: overlaps, clipping, readable drawings, visible scrolling."""
    phone = visit.page.viewport_size["width"] < 600
    return visit.page.evaluate(LAYOUT_JS, phone)


# -- The site ------------------------------------------------------------------------------------


def test_every_page_was_built():
    """Each .md page has its HTML page, so the tests below cover the whole site."""
    if not PAGES:
        _unavailable(f"no built site in {SITE}: run sphinx-build first")
    sources = {p.relative_to(DOCS).with_suffix(".html").as_posix() for p in DOCS.glob("*.md")}
    assert sources <= set(PAGES)
    assert PROMPT_PAGES, "no page has a >>> example: the copy-button test would test nothing"


def _equation_label_problems(html):
    """Numbered equations without their label beside the number; references, on a page whose
    code cites the label, without it."""
    problems = []
    for label in re.findall(r'id="equation-(eq-[\w-]+)"', html):
        if not re.search(rf'id="equation-{label}">\s*<span class="eqno">\([\d.]+\)'
                         rf'<code class="eqlabel">{label}</code>', html):
            problems.append(f"equation {label}: no label beside its number")
    cited = set(re.findall(r"eq-[a-z][a-z-]*[a-z]",
                           " ".join(re.findall(r"<pre>.*?</pre>", html, re.DOTALL))))
    for label in sorted(cited):
        for reference in re.finditer(rf'#equation-{label}">\([\d.]+\)</a>(.{{0,80}})', html):
            if f'<code class="eqlabel">{label}</code>' not in reference.group(1):
                problems.append(f"reference to {label}: no label, though the code cites it")
    return problems


@pytest.mark.parametrize("name", PAGES)
def test_equation_labels(name):
    """The code cites equations by label, the pages by number: the two are shown side by side."""
    assert _equation_label_problems((SITE / name).read_text("utf-8")) == []


def test_planted_equation_without_label():
    page = (SITE / "backward.html").read_text("utf-8")
    planted = page.replace('<code class="eqlabel">eq-dh</code>', "")
    assert any("eq-dh" in problem for problem in _equation_label_problems(planted))


def test_requests(desktop, phone):
    assert request_problems(desktop) + request_problems(phone) == []


def test_math(desktop):
    assert math_problems(desktop) == []


def test_images(desktop):
    assert image_problems(desktop) == []


def test_links(desktop):
    assert link_problems(desktop) == []


def test_phone_width(phone):
    assert overflow_problems(phone) == []


def test_accessibility(desktop):
    assert accessibility_problems(desktop) == []


def test_accessibility_dark(dark):
    assert accessibility_problems(dark) == []


def test_formulas_not_tab_stops(desktop):
    assert formula_access_problems(desktop) == []


def test_drawing_text(desktop, dark):
    assert drawing_text_problems(desktop) + drawing_text_problems(dark) == []


def test_layout_desktop(desktop):
    assert layout_problems(desktop) == []


def test_layout_phone(phone, phone_dark):
    assert layout_problems(phone) + layout_problems(phone_dark) == []


@pytest.mark.parametrize("name", PROMPT_PAGES)
def test_copy_button(browser, name):
    visit = Visit(browser, SITE / name, DESKTOP).open()
    try:
        assert copy_problems(visit) == []
    finally:
        visit.close()


def test_search(browser):
    assert search_problems(browser, SEARCH_PHRASE) == []


# -- Each check fails on a planted defect ----------------------------------------------------------

PLANT_IN = "initialization.html"  # a page with math, a table, an image and >>> examples


@pytest.fixture(scope="module")
def planted_site(tmp_path_factory, browser):
    """A copy of the built site, to plant defects in."""
    site = tmp_path_factory.mktemp("planted") / "html"
    shutil.copytree(SITE, site)
    return site


def _plant(site, name, old, new, page=PLANT_IN):
    """Write ``site/name``: ``page`` with its first ``old`` replaced by ``new``."""
    text = (site / page).read_text("utf-8")
    assert old in text, f"cannot plant: {old!r} is not in {page}"
    (site / name).write_text(text.replace(old, new, 1), "utf-8")
    return site / name


def _check_planted(browser, path, check, viewport=DESKTOP):
    visit = Visit(browser, path, viewport).open()
    try:
        return check(visit)
    finally:
        visit.close()


def test_planted_remote_script(browser, planted_site):
    page = _plant(
        planted_site,
        "remote.html",
        "</head>",
        '<script src="https://cdn.example.invalid/tex.js"></script></head>',
    )
    problems = _check_planted(browser, page, request_problems)
    assert any("asked for https://cdn.example.invalid/tex.js" in p for p in problems), problems


@pytest.mark.parametrize(
    ("tex", "expected"),
    [
        (r"\(\text{a\_b}\)", r"backslash drawn in \text{a\_b}"),
        (r"\(\undefinedmacro x\)", r"backslash drawn in \undefinedmacro x"),
        (r"\(\frac{a}\)", r"MathJax error"),
        (r"a^2", r"not typeset: a^2"),
    ],
)
def test_planted_bad_formula(browser, planted_site, tex, expected):
    page = _plant(
        planted_site,
        "formula.html",
        "<h1>",
        f'<p><span class="math notranslate nohighlight">{tex}</span></p><h1>',
    )
    problems = _check_planted(browser, page, math_problems)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize("raw", [r"\frac{a}{b}", "$$x$$", r"\(x\)", "$x^2$"])
def test_planted_raw_tex(browser, planted_site, raw):
    page = _plant(planted_site, "raw.html", "<h1>", f"<p>left as typed: {raw}</p><h1>")
    problems = _check_planted(browser, page, math_problems)
    assert any("raw TeX" in p and raw in p for p in problems), problems


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        ("nowhere.html", "broken link"),
        ("#no-such-anchor", "no element #no-such-anchor in links.html"),
        ("forward.html#no-such-anchor", "no element #no-such-anchor in forward.html"),
        ("../../outside.html", "broken link"),
    ],
)
def test_planted_broken_link(browser, planted_site, href, expected):
    page = _plant(planted_site, "links.html", "<h1>", f'<p><a href="{href}">here</a></p><h1>')
    problems = _check_planted(browser, page, lambda v: link_problems(v, planted_site))
    assert any(expected in p for p in problems), problems


def test_planted_link_outside_the_site(browser, planted_site):
    (planted_site.parent / "outside.html").write_text("<p>not part of the site</p>", "utf-8")
    page = _plant(planted_site, "leaves.html", "<h1>", '<p><a href="../outside.html">x</a></p><h1>')
    problems = _check_planted(browser, page, lambda v: link_problems(v, planted_site))
    assert any("link leaves the site" in p for p in problems), problems


def test_planted_missing_image(browser, planted_site):
    page = _plant(planted_site, "image.html", "<h1>", '<img src="_images/none.png" alt=""><h1>')
    visit = Visit(browser, page, DESKTOP).open()
    try:
        assert any("_images/none.png" in p for p in image_problems(visit))
        assert any("failed to load" in p and "none.png" in p for p in request_problems(visit))
    finally:
        visit.close()


@pytest.mark.parametrize(
    ("old", "html", "expected"),
    [
        ("<h1>", '<p style="width: 900px">too wide</p>', '"too wide" (16..916 px) scrolls inside'),
        (
            "<h1>",
            '<div style="overflow: hidden"><p style="width: 900px">too wide</p></div>',
            '"too wide" (16..916 px) is cut off by <div',
        ),
        ("</body>", '<div style="width: 900px">too wide</div>', '"too wide" (0..900 px) runs off'),
    ],
)
def test_planted_wide_element(browser, planted_site, old, html, expected):
    """A paragraph in the text scrolls with the whole text (the theme's box); one clipped is cut
    off; one outside the text box makes the page itself scroll sideways."""
    page = _plant(planted_site, "wide.html", old, f"{html}{old}")
    problems = _check_planted(browser, page, overflow_problems, PHONE)
    assert any(expected in p for p in problems), problems


def test_planted_wide_code_block_is_allowed(browser, planted_site):
    """A code block wider than the phone scrolls in its own box: no problem."""
    line = "x = " + " + ".join(["long_name"] * 40)
    page = _plant(
        planted_site, "widecode.html", "<h1>", f'<div class="highlight"><pre>{line}</pre></div><h1>'
    )
    assert _check_planted(browser, page, overflow_problems, PHONE) == []


def test_planted_copy_with_output(browser, planted_site):
    """A copy button set to copy output lines too (onlyCopyPromptLines false) is caught."""
    static = planted_site / "_static" / "copybutton.js"
    text = static.read_text("utf-8")
    old = "'>>> |\\\\.\\\\.\\\\. ', true, true, true"
    assert old in text, "cannot plant: copybutton.js is not configured as conf.py says"
    static.write_text(text.replace(old, "'>>> |\\\\.\\\\.\\\\. ', true, false, true"), "utf-8")
    try:
        problems = _check_planted(browser, planted_site / PROMPT_PAGES[0], copy_problems)
    finally:
        static.write_text(text, "utf-8")
    assert problems and "copies" in problems[0], problems


def test_planted_search_miss(browser):
    problems = search_problems(browser, "zebra quagga")
    assert problems == ['searching for "zebra quagga" finds nothing']


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<img src="_static/file.png">', "critical image-alt"),
        ('<p style="color: #bbb; background: #fff">pale text</p>', "serious color-contrast"),
    ],
)
def test_planted_accessibility_defect(browser, planted_site, html, expected):
    """An image without alt text, text at 1.9:1: axe-core reports each, as serious or worse."""
    page = _plant(planted_site, "axe.html", "<h1>", f"{html}<h1>")
    problems = _check_planted(browser, page, accessibility_problems)
    assert any(p.startswith(expected) for p in problems), problems


def test_planted_formula_tab_stops(browser, planted_site):
    """MathJax's default, every formula a tab stop, is reported."""
    page = _plant(planted_site, "tabs.html", '"inTabOrder": false', '"inTabOrder": true')
    problems = _check_planted(browser, page, formula_access_problems)
    assert any(p.startswith("formula in the tab order") for p in problems), problems


PLANTED_DRAWING = (
    '<div class="diagram"><svg viewBox="0 0 1000 100" role="img" style="width: 100%">'
    "<title>{title}</title>"
    '<text x="10" y="60" font-size="{size}" fill="{color}">label</text>'
    '<polyline points="0,{y} 300,{y}" stroke="currentColor"/></svg></div>'
)


@pytest.mark.parametrize(
    ("drawing", "check", "viewport", "expected"),
    [
        (
            {"title": "a drawing", "size": 40, "color": "currentColor", "y": 90},
            drawing_text_problems,
            DESKTOP,
            "a drawing without a <title> that says what it shows",
        ),
        (
            {"title": "a pale label beside a line that ends nowhere", "size": 40,
             "color": "#bbb", "y": 90},
            drawing_text_problems,
            DESKTOP,
            'drawing text "label" at 1.92:1',
        ),
        (
            {"title": "x", "size": 20, "color": "currentColor", "y": 90},
            layout_problems,
            PHONE,
            'drawing text "label" is ',  # 20 units of 1000, on a phone: about 7 px high
        ),
        (
            {"title": "x", "size": 40, "color": "currentColor", "y": 50},
            layout_problems,
            DESKTOP,
            'a line of the drawing runs through its label "label"',
        ),
    ],
)
def test_planted_bad_drawing(browser, planted_site, drawing, check, viewport, expected):
    page = _plant(planted_site, "drawing.html", "<h1>", PLANTED_DRAWING.format(**drawing) + "<h1>")
    problems = _check_planted(browser, page, check, viewport)
    assert any(expected in p for p in problems), problems


SCROLLING_JS = '<script defer="defer" src="_static/scrolling.js'
WIDE_FORMULA = '<div class="math notranslate nohighlight">\\[' + " + ".join(
    f"a_{{{k}}} b_{{{k}}}" for k in range(40)
) + "\\]</div>"


@pytest.mark.parametrize(
    ("old", "new", "viewport", "expected"),
    [
        # furo's own rule: the number placed over the formula
        (
            "</head>",
            "<style>div.math span.eqno { position: absolute !important;"
            " left: 50% !important; }</style></head>",
            DESKTOP,
            "is drawn over its formula",
        ),
        (
            "<h1>",
            '<div class="table-wrapper container"><table class="docutils"><tr>'
            '<td style="min-width: 1200px">wide</td></tr></table></div><h1>',
            DESKTOP,
            "px column: cut off, or scrolls",
        ),
        (
            "<h1>",
            '<div style="overflow: hidden; width: 200px"><table><tr>'
            '<td style="min-width: 400px">clipped</td></tr></table></div><h1>',
            DESKTOP,
            "is cut off by its box",
        ),
        # without scrolling.js, a wide formula on a phone is neither focusable nor cued
        (SCROLLING_JS, "<script defer", PHONE, "not focusable"),
        (SCROLLING_JS, "<script defer", PHONE, "no sign"),
    ],
)
def test_planted_layout_defect(browser, planted_site, old, new, viewport, expected):
    page = _plant(planted_site, "layout.html", "<h1>", WIDE_FORMULA + "<h1>")
    page = _plant(planted_site, "layout.html", old, new, page="layout.html")
    problems = _check_planted(browser, page, layout_problems, viewport)
    assert any(expected in p for p in problems), problems


def test_planted_wide_formula_is_cued(browser, planted_site):
    """The same wide formula, with scrolling.js: focusable, cued, no problem."""
    page = _plant(planted_site, "cued.html", "<h1>", WIDE_FORMULA + "<h1>")
    assert _check_planted(browser, page, layout_problems, PHONE) == []
