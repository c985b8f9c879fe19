// Keyboard for review: j/k next/previous cut of the overview's list (the "playlist"), a approve,
// r retake, f fit/1:1, 1/2 compare A/B, arrows step versions, ? the list of keys.
(function () {
  "use strict";
  const page = document.getElementById("page");
  const help = document.getElementById("help");
  let list = null;
  try { list = JSON.parse(sessionStorage.getItem("haikei.playlist") || "null"); } catch (e) { list = null; }
  function neighbour(d) {
    if (!page || !list || !list.cuts || !list.cuts.length) return null;
    const i = list.cuts.indexOf(page.dataset.cut);
    if (i < 0) return null;
    const j = i + d;
    return j >= 0 && j < list.cuts.length ? list.cuts[j] : null;
  }
  if (page && list && list.cuts) {
    const i = list.cuts.indexOf(page.dataset.cut);
    const box = document.getElementById("playlist");
    if (i >= 0 && box) {
      box.hidden = false;
      document.getElementById("pos").textContent = `${i + 1} of ${list.cuts.length}`;
      const prev = neighbour(-1), next = neighbour(1);
      const p = document.getElementById("prev-cut"), n = document.getElementById("next-cut");
      if (prev) p.href = "/cut/" + encodeURIComponent(prev); else p.classList.add("off");
      if (next) n.href = "/cut/" + encodeURIComponent(next); else n.classList.add("off");
      const back = document.getElementById("back");
      if (back && list.from) back.href = list.from;
    }
  }
  if (help) {
    const open = document.getElementById("help-open");
    if (open) open.addEventListener("click", () => help.showModal());
  }
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const t = e.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    if (help && help.open && e.key !== "?") return;
    const cut = window.haikeiCut, cmp = window.haikeiCompare;
    let done = true;
    switch (e.key) {
      case "?": if (help) { if (help.open) help.close(); else help.showModal(); } else done = false; break;
      case "j": case "k": {
        const to = neighbour(e.key === "j" ? 1 : -1);
        if (to) window.location.href = "/cut/" + encodeURIComponent(to); else done = false;
        break;
      }
      case "a": done = !!(cut && cut.approve()); break;
      case "r": done = !!(cut && cut.startRetake()); break;
      case "f": if (cut) cut.toggleZoom(); if (cmp) cmp.toggleZoom(); done = !!(cut || cmp); break;
      case "1": case "2": if (cmp) cmp.solo(e.key === "1" ? "a" : "b"); else done = false; break;
      case "ArrowLeft": case "ArrowRight":
        if (cmp) cmp.step(e.shiftKey ? "a" : "b", e.key === "ArrowRight" ? 1 : -1); else done = false;
        break;
      default: done = false;
    }
    if (done) e.preventDefault();
  });
})();
