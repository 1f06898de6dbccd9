#!/usr/bin/env bash
# Check that the built documentation works offline.
#
#   bash docs/check_offline.sh [HTML_DIR] [PAGE]      (defaults: docs/_build/html forward.html)
#
# 1. Static: no page loads a script, stylesheet, image, frame or font from the network (an <a>
#    link to a web page is fine), and no stylesheet imports one.
# 2. In a browser (if chromium is installed: `apt-get install chromium`): PAGE, which must hold
#    math, is rendered headless with every host name unresolvable; MathJax must have typeset it
#    (mjx-container elements, no error nodes), and the page must have asked for no http(s) URL
#    (Chromium's own update and account checks are not the page's and are ignored). A
#    screenshot is left in $SHOT (default /tmp/docs-offline.png) to look at.
set -euo pipefail
cd "$(dirname "$0")/.."

html_dir=${1:-docs/_build/html}
page=${2:-forward.html}
shot=${SHOT:-/tmp/docs-offline.png}
[ -f "$html_dir/$page" ] || { echo "no $html_dir/$page: build the docs first" >&2; exit 2; }

python3 - "$html_dir" <<'EOF'
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])
remote = r"""(?:https?:)?//[^"'\s)]+"""
tag = re.compile(r"<(script|link|img|iframe|source|embed|object|audio|video)\b[^>]*>", re.I)
attr = re.compile(r"""\b(?:src|href|data|srcset)\s*=\s*["']\s*(""" + remote + ")", re.I)
css = re.compile(r"""(?:@import\s+(?:url\()?|url\()\s*["']?(""" + remote + ")", re.I)
bad = []
for path in sorted(root.rglob("*")):
    if path.suffix == ".html":
        text = path.read_text(encoding="utf-8")
        for m in tag.finditer(text):
            bad += [(path, u) for u in attr.findall(m.group(0))]
        for block in re.findall(r"<style\b.*?</style>", text, re.S | re.I):
            bad += [(path, u) for u in css.findall(block)]
    elif path.suffix == ".css":
        bad += [(path, u) for u in css.findall(path.read_text(encoding="utf-8"))]
for path, url in bad:
    print(f"{path.relative_to(root)}: loads {url}")
pages = sum(1 for _ in root.rglob("*.html"))
print(f"static check: {pages} pages, {len(bad)} network loads")
sys.exit(1 if bad else 0)
EOF

if ! command -v chromium >/dev/null; then
    # CI installs chromium and sets DOCS_REQUIRE_BROWSER=1: there a missing browser is a failure.
    if [ "${DOCS_REQUIRE_BROWSER:-0}" = 1 ]; then
        echo "browser check FAILED: chromium is not installed (DOCS_REQUIRE_BROWSER=1)" >&2
        exit 1
    fi
    echo "browser check skipped: chromium is not installed"
    exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="file://$(cd "$html_dir" && pwd)/$page"
chrome=(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
        --disable-background-networking --disable-component-update --disable-sync
        --host-resolver-rules="MAP * ~NOTFOUND" --virtual-time-budget=10000
        --window-size=1200,1600)
"${chrome[@]}" --user-data-dir="$work/profile1" --log-net-log="$work/net.json" \
    --screenshot="$shot" "$url" >/dev/null 2>&1
"${chrome[@]}" --user-data-dir="$work/profile2" --dump-dom "$url" 2>/dev/null >"$work/dom.html"

python3 - "$work/dom.html" "$work/net.json" "$shot" <<'EOF'
import re
import sys

dom = open(sys.argv[1], encoding="utf-8").read()
net = open(sys.argv[2], encoding="utf-8").read()
typeset = dom.count("<mjx-container")
errors = dom.count("<mjx-merror")
browser_own = ("http://clients2.google.com/time/", "https://update.googleapis.com/",
               "http://update.googleapis.com/", "https://accounts.google.com/ListAccounts")
asked = sorted({u for u in re.findall(r'"url":"(https?://[^"]*)"', net) if not u.startswith(browser_own)})
for u in asked:
    print(f"page asked for {u}")
print(f"browser check: {typeset} formulas typeset by MathJax, {errors} errors, "
      f"{len(asked)} network requests; screenshot {sys.argv[3]}")
sys.exit(0 if typeset and not errors and not asked else 1)
EOF
