// Cut page: overlay slider, zoom 1:1 and pan, retake brush, live job progress. No framework.
(function () {
  "use strict";
  const page = document.getElementById("page");
  if (!page) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const bg = page.dataset.bg;
  const stage = document.getElementById("stage");
  const painting = document.getElementById("painting");
  const lines = document.getElementById("lines");
  const canvas = document.getElementById("mask");
  const $ = (id) => document.getElementById(id);

  function banner(text, kind) {
    let el = document.querySelector(".msg.live");
    if (!el) {
      el = document.createElement("div");
      el.className = "msg live";
      el.setAttribute("role", "alert");
      document.querySelector("main").prepend(el);
    }
    el.classList.toggle("error", kind === "error");
    el.classList.toggle("ok", kind !== "error");
    el.textContent = text;
  }

  // 1. layout lines over the painting
  const overlay = $("overlay");
  if (overlay && lines) {
    const apply = () => { lines.style.opacity = overlay.value / 100; };
    overlay.addEventListener("input", apply);
    apply();
  }

  // 2. zoom: fit the pane, or 1:1 with full-size images and drag to pan
  function setZoom(one) {
    if (!stage) return;
    stage.classList.toggle("fit", !one);
    stage.classList.toggle("one", one);
    $("zoom-fit").classList.toggle("on", !one);
    $("zoom-1").classList.toggle("on", one);
    if (one) {
      for (const img of [painting, lines]) {
        if (img && img.dataset.full && img.src.indexOf(img.dataset.full) < 0) img.src = img.dataset.full;
      }
      stage.querySelector(".layers").style.width = page.dataset.width + "px";
    } else {
      stage.querySelector(".layers").style.width = "";
    }
  }
  if ($("zoom-fit")) {
    $("zoom-fit").addEventListener("click", () => setZoom(false));
    $("zoom-1").addEventListener("click", () => setZoom(true));
  }

  let brushMode = false;
  function setMode(brush) {
    brushMode = brush;
    $("mode-pan").classList.toggle("on", !brush);
    $("mode-brush").classList.toggle("on", brush);
    if (canvas) canvas.style.pointerEvents = brush ? "auto" : "none";
    stage.classList.toggle("brush", brush);
  }
  if ($("mode-pan")) {
    $("mode-pan").addEventListener("click", () => setMode(false));
    $("mode-brush").addEventListener("click", () => setMode(true));
  }

  if (stage) {
    let drag = null;
    stage.addEventListener("pointerdown", (e) => {
      if (brushMode) return;
      drag = { x: e.clientX, y: e.clientY, l: stage.scrollLeft, t: stage.scrollTop };
      stage.classList.add("dragging");
    });
    window.addEventListener("pointermove", (e) => {
      if (!drag) return;
      stage.scrollLeft = drag.l - (e.clientX - drag.x);
      stage.scrollTop = drag.t - (e.clientY - drag.y);
    });
    window.addEventListener("pointerup", () => { drag = null; stage.classList.remove("dragging"); });
  }

  // 3. the retake brush: painted pixels (alpha) are the mask, at the BG's own size
  let painted = false;
  if (canvas) {
    const g = canvas.getContext("2d");
    let last = null;
    const at = (e) => {
      const r = canvas.getBoundingClientRect();
      return { x: (e.clientX - r.left) * canvas.width / r.width, y: (e.clientY - r.top) * canvas.height / r.height,
               s: canvas.width / r.width };
    };
    const dab = (p) => {
      const size = Number($("brush").value) * p.s;
      g.strokeStyle = g.fillStyle = "rgb(255,40,80)";
      g.lineCap = g.lineJoin = "round";
      g.lineWidth = size;
      g.beginPath();
      if (last) { g.moveTo(last.x, last.y); g.lineTo(p.x, p.y); g.stroke(); }
      else { g.arc(p.x, p.y, size / 2, 0, Math.PI * 2); g.fill(); }
      last = p;
      painted = true;
    };
    canvas.addEventListener("pointerdown", (e) => { if (!brushMode) return; canvas.setPointerCapture(e.pointerId); last = null; dab(at(e)); });
    canvas.addEventListener("pointermove", (e) => { if (brushMode && last) dab(at(e)); });
    const end = () => { last = null; };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    $("mask-clear").addEventListener("click", () => { g.clearRect(0, 0, canvas.width, canvas.height); painted = false; });
    $("retake-send").addEventListener("click", async () => {
      const msg = $("retake-msg");
      const text = $("retake-text").value.trim();
      if (!painted) { msg.textContent = "Paint the area to re-render first (Brush)."; return; }
      if (!text) { msg.textContent = "Write what should change there."; return; }
      $("retake-send").disabled = true;
      msg.textContent = "sending…";
      try {
        const resp = await fetch(`/api/bgs/${encodeURIComponent(bg)}/retake`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
          body: JSON.stringify({ version_id: Number(page.dataset.version), lock_version: Number(page.dataset.lock),
                                 text: text, mask: canvas.toDataURL("image/png") }),
        });
        const body = await resp.json();
        if (!resp.ok) {
          msg.textContent = body.error;
          banner((resp.status === 409 ? "Conflict: " : "") + body.error, "error");
          $("retake-send").disabled = false;
          return;
        }
        msg.textContent = `Retake queued (job ${body.job.id}); the new version appears here when it is rendered.`;
        page.dataset.lock = String(Number(page.dataset.lock) + 1);
        for (const f of document.querySelectorAll('input[name="lock_version"]')) f.value = page.dataset.lock;
        watched.add(body.job.id);
        poll();
      } catch (err) {
        msg.textContent = "could not reach the server: " + err;
        $("retake-send").disabled = false;
      }
    });
  }

  // 4. live progress of this BG's jobs; a finished retake or variant reloads the page
  const watched = new Set(Array.from(document.querySelectorAll("#jobs li")).map((li) => Number(li.dataset.job)));
  let timer = null;
  async function poll() {
    clearTimeout(timer);
    const resp = await fetch(`/api/bgs/${encodeURIComponent(bg)}/jobs`, { headers: { Accept: "application/json" } });
    if (!resp.ok) { timer = setTimeout(poll, 3000); return; }
    const jobs = (await resp.json()).filter((j) => watched.has(j.id));
    const list = $("jobs");
    list.replaceChildren(...jobs.map((j) => {
      const li = document.createElement("li");
      li.dataset.job = j.id;
      const bar = document.createElement("progress");
      bar.max = 1; bar.value = j.progress;
      li.append(`${j.kind}${j.variant ? " " + j.variant : ""} · ${j.state} `, bar, " ");
      const note = document.createElement("span");
      note.className = j.state === "failed" ? "error" : "muted";
      note.textContent = j.error || j.message;
      li.append(note);
      return li;
    }));
    $("jobs-section").hidden = jobs.length === 0;
    const active = jobs.filter((j) => !j.final);
    const done = jobs.filter((j) => j.state === "done" && j.result_version_ids.length);
    if (jobs.length && !active.length && done.length) {
      const v = done[0].result_version_ids[0];
      window.location.href = `/cut/${encodeURIComponent(bg)}?ok=arrived&v=${v}`;
      return;
    }
    if (active.length) timer = setTimeout(poll, 1000);
  }
  if (watched.size) poll();
})();
