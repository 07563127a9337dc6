// The walk's checks in the page: overflow, important controls outside the window, English
// on a Chinese page, raw codes (pending_payment). Returns the problems found.
([important, englishTexts]) => {
  const problems = [];
  const root = document.scrollingElement;
  if (root.scrollWidth > innerWidth) {
    const wide = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > innerWidth + 1)
      .slice(0, 3)
      .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
        + (el.className && typeof el.className === "string" ? "." + el.className.split(" ").join(".") : ""));
    problems.push(`overflow: ${root.scrollWidth} > ${innerWidth} (${wide.join(", ")})`);
  }
  for (const el of document.querySelectorAll(important)) {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden" || el.closest("[hidden], dialog:not([open]), template")) continue;
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    // Bars are fixed: their items must be inside the window both ways.
    const fixed = el.closest(".tabbar, .topbar") !== null;
    if (box.left < -1 || box.right > innerWidth + 1
        || (fixed && (box.top < -1 || box.bottom > innerHeight + 1))) {
      problems.push(`outside: ${el.tagName.toLowerCase()} "${el.textContent.trim().slice(0, 30)}" at ${Math.round(box.left)}..${Math.round(box.right)}`);
    }
  }
  // The tab bar never covers content: scrolled to the end, the page's last visible element (the
  // video, on the feed and live pages) ends above the bar.
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowY !== "visible") return true;
    }
    return false;
  };
  const bar = document.querySelector(".tabbar");
  const main = document.querySelector("main");
  if (bar && main && getComputedStyle(bar).display !== "none") {
    const y = scrollY;
    scrollTo({ top: root.scrollHeight, behavior: "instant" });
    const top = bar.getBoundingClientRect().top;
    let bottom = main.getBoundingClientRect().bottom;
    let lowest = "main";
    if (root.scrollHeight > innerHeight || !main.classList.contains("feed-main")) {
      bottom = 0;
      for (const el of main.querySelectorAll("*")) {
        if (el.closest("[hidden], dialog, template, .checkout-drawer")) continue;
        if (el.closest("details:not([open])") && !el.closest("summary")) continue; // folded
        const style = getComputedStyle(el);
        if (style.position === "fixed" || style.display === "none") continue;
        if (clipped(el)) continue; // inside a box that scrolls or clips: that box counts
        const box = el.getBoundingClientRect();
        if (box.height > 0 && box.bottom > bottom) {
          bottom = box.bottom;
          lowest = el.tagName.toLowerCase() + (el.id ? "#" + el.id : "");
        }
      }
    }
    if (bottom > top + 1) {
      problems.push(`under the tab bar: ${lowest} ends at ${Math.round(bottom)}, bar at ${Math.round(top)}, `
      + `scrolled ${Math.round(scrollY)} of ${root.scrollHeight}`);
    }
    scrollTo({ top: y, behavior: "instant" });
  }
  if (englishTexts) {
    const english = new Set(englishTexts);
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    const shown = (el) => el && el.closest("script, style, template, [hidden]") === null;
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = node.textContent.trim();
      if (text && english.has(text) && shown(node.parentElement)) seen.add(text);
      if (/\b[a-z]+_[a-z]+(_[a-z]+)*\b/.test(text) && shown(node.parentElement)
          && !node.parentElement.closest("code, input, textarea, .allow-codes")) {
        seen.add("raw code: " + text.slice(0, 60));
      }
    }
    for (const el of document.querySelectorAll("[placeholder], [aria-label], [title]")) {
      for (const name of ["placeholder", "aria-label", "title"]) {
        const value = (el.getAttribute(name) || "").trim();
        if (english.has(value)) seen.add(`${name}=${value}`);
      }
    }
    problems.push(...[...seen].map((text) => `english: ${text}`));
  }
  return problems;
}
