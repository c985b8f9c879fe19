// Region labelling: pick a class, click a closed area of the layout (paint bucket).
(function () {
  "use strict";
  const page = document.getElementById("label-page");
  if (!page) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const stage = document.getElementById("label-stage");
  const lines = document.getElementById("base");
  const regions = document.getElementById("regions");
  const msg = document.getElementById("label-msg");
  const opacity = document.getElementById("region-opacity");
  const apply = () => { regions.style.opacity = opacity.value / 100; };
  opacity.addEventListener("input", apply);
  apply();
  let busy = false;
  stage.addEventListener("click", async (e) => {
    if (busy) return;
    const r = lines.getBoundingClientRect();
    const x = Math.floor((e.clientX - r.left) * Number(page.dataset.width) / r.width);
    const y = Math.floor((e.clientY - r.top) * Number(page.dataset.height) / r.height);
    const cls = document.querySelector('input[name="cls"]:checked').value;
    busy = true;
    msg.textContent = `labelling ${cls} at ${x},${y}…`;
    try {
      const resp = await fetch(`/api/bgs/${encodeURIComponent(page.dataset.bg)}/labels`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
        body: JSON.stringify({ points: [`${cls}@${x},${y}`], layout_revision: Number(page.dataset.rev) }),
      });
      const body = await resp.json();
      if (!resp.ok) { msg.textContent = body.error; msg.className = "hint error"; return; }
      page.dataset.rev = body.layout_revision;
      document.getElementById("rev").textContent = body.layout_revision;
      regions.src = body.regions_url;
      regions.hidden = false;
      const rem = document.getElementById("remaining");
      rem.textContent = body.unlabelled_pixels ? `${body.unlabelled_pixels} px still unlabelled` : "all areas labelled";
      rem.className = body.unlabelled_pixels ? "warn" : "ok-text";
      msg.className = "hint";
      msg.textContent = `${cls} at ${x},${y}: done`;
    } finally {
      busy = false;
    }
  });
})();
