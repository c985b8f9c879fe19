// Overview: filters apply on change; the shown list is remembered as the review "playlist"
// that j/k (next/previous) walk on the cut pages.
(function () {
  "use strict";
  for (const sel of document.querySelectorAll("select.autosubmit")) {
    sel.addEventListener("change", () => sel.form.requestSubmit());
  }
  const apply = document.querySelector("#filters button.apply");
  if (apply) apply.hidden = true;
  const cuts = Array.from(document.querySelectorAll("#cards .cutcard")).map((a) => a.dataset.cut);
  try {
    sessionStorage.setItem("haikei.playlist", JSON.stringify({ cuts: cuts, from: location.pathname + location.search }));
  } catch (e) { /* private mode: j/k then walk every cut of the page only */ }
})();
