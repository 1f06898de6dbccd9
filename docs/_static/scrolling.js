/* Boxes that scroll sideways, on every page (added by docs/_access.py).
 *
 * A code block, table, display formula or drawing wider than its column scrolls in its own box.
 * Such a box is made focusable (tabindex 0), so that a keyboard can reach and scroll it; a box
 * that fits is not, so it adds no tab stop. A formula, table or drawing that scrolls gets the
 * class "scrolls-sideways" (custom.css draws a shadow at its edge) and a visible line under it
 * saying that it scrolls, which the reader would otherwise not know on a phone, where scrollbars
 * are hidden. Run once MathJax has typeset (formulas only have their width then) and on resize.
 */
(() => {
  const BOXES = "pre, .table-wrapper, div.math > mjx-container, div.diagram";
  const CUED = ".table-wrapper, div.math > mjx-container, div.diagram";

  function cueFor(box) {
    const after = box.closest("div.math") || box;
    let cue = after.nextElementSibling;
    if (!cue || !cue.classList.contains("scroll-cue")) {
      cue = document.createElement("p");
      cue.className = "scroll-cue";
      cue.setAttribute("aria-hidden", "true");
      cue.textContent = "Wider than the screen: scroll sideways to see all of it \u2192";
      after.after(cue);
    }
    return cue;
  }

  function mark() {
    for (const box of document.querySelectorAll(BOXES)) {
      const scrolls = box.scrollWidth > box.clientWidth + 1;
      if (scrolls && !box.hasAttribute("tabindex")) {
        box.tabIndex = 0;
        box.dataset.scrollFocus = "";
      } else if (!scrolls && "scrollFocus" in box.dataset) {
        box.removeAttribute("tabindex");
        delete box.dataset.scrollFocus;
      }
      if (box.matches(CUED)) {
        box.classList.toggle("scrolls-sideways", scrolls);
        if (scrolls || box.dataset.cued) {
          cueFor(box).hidden = !scrolls;
          box.dataset.cued = "1";
        }
      }
    }
  }

  function start() {
    mark();
    if (window.MathJax?.startup?.promise) MathJax.startup.promise.then(mark);
    // A box in a closed <details> has no width until it is opened.
    document.addEventListener("toggle", mark, true);
    let pending = 0;
    window.addEventListener("resize", () => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(mark);
    });
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
