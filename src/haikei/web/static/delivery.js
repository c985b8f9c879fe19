// Delivery page: follow an export job until it is done, then show what it delivered.
(function () {
  "use strict";
  const box = document.getElementById("export-job");
  if (!box || box.dataset.final) return;
  const $ = (id) => document.getElementById(id);
  async function poll() {
    const resp = await fetch(`/api/exports/${box.dataset.job}`, { headers: { Accept: "application/json" } });
    if (!resp.ok) { setTimeout(poll, 2000); return; }
    const j = await resp.json();
    $("export-state").textContent = j.state;
    $("export-message").textContent = j.message;
    $("export-error").textContent = j.error;
    if (j.state === "running") $("export-progress").removeAttribute("value");
    else $("export-progress").value = j.progress;
    if (j.final) {
      if (j.state === "done") window.location.href = `/delivery?job=${j.id}`;
      return;
    }
    setTimeout(poll, 700);
  }
  poll();
})();
