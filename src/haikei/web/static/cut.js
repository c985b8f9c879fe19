// Cut page: overlay slider, fit / 1:1 and pan, the retake brush, drawing on the picture for a
// comment, the conversation (show a drawing, turn it into a retake mask, reply), live job
// progress. No framework; everything the page changes goes through the JSON API.
(function () {
  "use strict";
  const page = document.getElementById("page");
  if (!page) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const bg = page.dataset.bg;
  const W = Number(page.dataset.width), H = Number(page.dataset.height);
  const stage = document.getElementById("stage");
  const painting = document.getElementById("painting");
  const lines = document.getElementById("lines");
  const canvas = document.getElementById("mask");
  const drawing = document.getElementById("drawing");
  const $ = (id) => document.getElementById(id);
  const api = (path) => `/api/bgs/${encodeURIComponent(bg)}${path}`;

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

  async function post(path, body) {
    const resp = await fetch(api(path), {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    });
    let data = {};
    try { data = await resp.json(); } catch (e) { data = { error: `HTTP ${resp.status}` }; }
    return { ok: resp.ok, status: resp.status, body: data };
  }

  // 0. forms that apply on change (no inline handlers: the CSP forbids them)
  for (const sel of document.querySelectorAll("select.autosubmit")) {
    sel.addEventListener("change", () => sel.form.requestSubmit());
    const apply = sel.form.querySelector("button.apply");
    if (apply) apply.hidden = true;
  }

  // 1. layout lines over the painting
  const overlay = $("overlay");
  if (overlay && lines) {
    const apply = () => { lines.style.opacity = overlay.value / 100; };
    overlay.addEventListener("input", apply);
    apply();
  }

  // 2. zoom: fit the pane, or 1:1 with full-size images; the stage scrolls, never the page
  let oneToOne = false;
  function setZoom(one) {
    if (!stage) return;
    oneToOne = one;
    stage.classList.toggle("fit", !one);
    stage.classList.toggle("one", one);
    $("zoom-fit").classList.toggle("on", !one);
    $("zoom-1").classList.toggle("on", one);
    if (one) {
      for (const img of [painting, lines]) {
        if (img && img.dataset.full && img.src.indexOf(img.dataset.full) < 0) img.src = img.dataset.full;
      }
      stage.querySelector(".layers").style.width = W + "px";
    } else {
      stage.querySelector(".layers").style.width = "";
    }
  }
  if ($("zoom-fit")) {
    $("zoom-fit").addEventListener("click", () => setZoom(false));
    $("zoom-1").addEventListener("click", () => setZoom(true));
  }

  // 3. what the mouse does: pan, draw (comment), retake brush (mask)
  let mode = "pan";
  function setMode(m) {
    mode = m;
    for (const [id, name] of [["mode-pan", "pan"], ["mode-brush", "brush"], ["mode-draw", "draw"]]) {
      if ($(id)) $(id).classList.toggle("on", m === name);
    }
    if (canvas) canvas.style.pointerEvents = m === "brush" ? "auto" : "none";
    if (drawing) drawing.style.pointerEvents = m === "draw" ? "auto" : "none";
    if (stage) {
      stage.classList.toggle("brush", m === "brush");
      stage.classList.toggle("drawmode", m === "draw");
    }
    if ($("drawtools")) $("drawtools").hidden = m !== "draw";
    const size = document.querySelector(".brush-size");
    if (size) size.hidden = m !== "brush";
    if (m === "draw") showShapes(myShapes, null);
  }
  const sizeCtl = document.querySelector(".brush-size");
  if (sizeCtl) sizeCtl.hidden = true;
  if ($("mode-pan")) $("mode-pan").addEventListener("click", () => setMode("pan"));
  if ($("mode-brush")) $("mode-brush").addEventListener("click", () => setMode("brush"));
  if ($("mode-draw")) $("mode-draw").addEventListener("click", () => setMode("draw"));

  if (stage) {
    let drag = null;
    stage.addEventListener("pointerdown", (e) => {
      if (mode !== "pan") return;
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

  const toBg = (el, e) => {
    const r = el.getBoundingClientRect();
    return { x: (e.clientX - r.left) * el.width / r.width, y: (e.clientY - r.top) * el.height / r.height, s: el.width / r.width };
  };

  // 4. the retake brush: painted pixels (alpha) are the mask, at the BG's own size
  let painted = false;
  if (canvas) {
    const g = canvas.getContext("2d");
    let last = null;
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
    canvas.addEventListener("pointerdown", (e) => { if (mode !== "brush") return; canvas.setPointerCapture(e.pointerId); last = null; dab(toBg(canvas, e)); });
    canvas.addEventListener("pointermove", (e) => { if (mode === "brush" && last) dab(toBg(canvas, e)); });
    const end = () => { last = null; };
    canvas.addEventListener("pointerup", end);
    canvas.addEventListener("pointercancel", end);
    $("mask-clear").addEventListener("click", () => { g.clearRect(0, 0, canvas.width, canvas.height); painted = false; });
    $("retake-send").addEventListener("click", async () => {
      const msg = $("retake-msg");
      const text = $("retake-text").value.trim();
      if (!painted) { msg.textContent = "Paint the area to re-render first (Retake brush), or use a comment's drawing."; return; }
      if (!text) { msg.textContent = "Write what should change there."; return; }
      $("retake-send").disabled = true;
      msg.textContent = "sending…";
      try {
        const r = await post("/retake", { version_id: Number(page.dataset.version), lock_version: Number(page.dataset.lock),
                                          text: text, mask: canvas.toDataURL("image/png") });
        if (!r.ok) {
          msg.textContent = r.body.error;
          banner((r.status === 409 ? "Conflict: " : "") + r.body.error, "error");
          $("retake-send").disabled = false;
          return;
        }
        msg.textContent = `Retake queued (job ${r.body.job.id}); the new version appears here when it is rendered.`;
        page.dataset.lock = String(Number(page.dataset.lock) + 1);
        for (const f of document.querySelectorAll('input[name="lock_version"]')) f.value = page.dataset.lock;
        watched.add(r.body.job.id);
        poll();
      } catch (err) {
        msg.textContent = "could not reach the server: " + err;
        $("retake-send").disabled = false;
      }
    });
  }

  // 4b. what the engine will understand of the note, before it is sent
  const reading = $("retake-reading");
  let readTimer = null;
  async function readNote() {
    if (!reading) return;
    const text = $("retake-text").value.trim();
    if (!text) { reading.replaceChildren(); return; }
    const q = new URLSearchParams({ text: text, version_id: page.dataset.version });
    const resp = await fetch(api(`/retake-note?${q}`), { headers: { Accept: "application/json" } });
    if (!resp.ok) return;
    const r = await resp.json();
    const parts = [];
    const head = document.createElement("div");
    head.className = "small";
    head.append(`Read by ${r.engine}: `);
    if (!r.understood.length) head.append("no direction words.");
    for (const u of r.understood) {
      const t = document.createElement("span");
      t.className = "tag";
      t.textContent = `${u.field}: ${u.value}`;
      head.append(t, " ");
    }
    parts.push(head);
    for (const [cls, items] of [["used", r.used], ["ignored", r.ignored]]) {
      if (!items.length) continue;
      const ul = document.createElement("ul");
      ul.className = cls;
      for (const it of items) {
        const li = document.createElement("li");
        li.textContent = (cls === "used" ? "✓ " : "✗ ") + it;
        ul.append(li);
      }
      parts.push(ul);
    }
    reading.replaceChildren(...parts);
  }
  if (reading) {
    $("retake-text").addEventListener("input", () => { clearTimeout(readTimer); readTimer = setTimeout(readNote, 300); });
  }

  // 5. drawing on the picture (JSON shapes in BG pixels), kept with a comment
  const myShapes = [];
  let tool = "pen", colour = "#e53935";
  const lineW = Math.max(3, Math.round(Math.min(W, H) / 180));
  const textSize = Math.max(16, Math.round(Math.min(W, H) / 14));
  function showShapes(shapes, extra) {
    if (!drawing) return;
    window.haikeiShapes.draw(drawing, extra ? shapes.concat([extra]) : shapes);
  }
  function drawCount() {
    if ($("draw-count")) $("draw-count").textContent = myShapes.length ? `${myShapes.length} shape${myShapes.length === 1 ? "" : "s"} drawn` : "nothing drawn";
  }
  for (const b of document.querySelectorAll("#drawtools [data-tool]")) {
    b.addEventListener("click", () => {
      tool = b.dataset.tool;
      for (const o of document.querySelectorAll("#drawtools [data-tool]")) o.classList.toggle("on", o === b);
    });
  }
  for (const b of document.querySelectorAll("#drawtools [data-colour]")) {
    b.addEventListener("click", () => {
      colour = b.dataset.colour;
      for (const o of document.querySelectorAll("#drawtools [data-colour]")) o.classList.toggle("on", o === b);
    });
  }
  if (drawing && $("drawtools")) {
    let cur = null;
    const r1 = (v) => Math.round(v * 10) / 10;
    drawing.addEventListener("pointerdown", (e) => {
      if (mode !== "draw") return;
      const p = toBg(drawing, e);
      if (tool === "text") {
        const words = ($("comment-text").value.trim().split("\n")[0] || "").slice(0, 60) || "here";
        myShapes.push({ type: "text", colour: colour, size: textSize, points: [[r1(p.x), r1(p.y)]], text: words });
        showShapes(myShapes, null);
        drawCount();
        return;
      }
      drawing.setPointerCapture(e.pointerId);
      cur = { type: tool, colour: colour, width: lineW, points: [[r1(p.x), r1(p.y)]] };
      if (tool !== "pen") cur.points.push([r1(p.x), r1(p.y)]);
    });
    drawing.addEventListener("pointermove", (e) => {
      if (!cur) return;
      const p = toBg(drawing, e);
      if (cur.type === "pen") cur.points.push([r1(p.x), r1(p.y)]);
      else cur.points[1] = [r1(p.x), r1(p.y)];
      showShapes(myShapes, cur);
    });
    const finish = () => {
      if (!cur) return;
      if (cur.type === "pen" && cur.points.length > 4000) cur.points = cur.points.filter((_, i) => i % 2 === 0);
      myShapes.push(cur);
      cur = null;
      showShapes(myShapes, null);
      drawCount();
    };
    drawing.addEventListener("pointerup", finish);
    drawing.addEventListener("pointercancel", finish);
    $("draw-undo").addEventListener("click", () => { myShapes.pop(); showShapes(myShapes, null); drawCount(); });
  }
  if ($("draw-clear")) $("draw-clear").addEventListener("click", () => { myShapes.length = 0; showShapes(myShapes, null); drawCount(); });

  // 6. the conversation
  let replyTo = null;
  if ($("comment-send")) {
    $("comment-send").addEventListener("click", async () => {
      const msg = $("comment-msg");
      const text = $("comment-text").value.trim();
      if (!text && !myShapes.length) { msg.textContent = "Write something or draw on the picture (Draw)."; return; }
      $("comment-send").disabled = true;
      msg.textContent = "sending…";
      const body = { text: text, shapes: myShapes, version_id: Number(page.dataset.version) };
      if (replyTo) { body.parent_id = replyTo; delete body.version_id; }
      const r = await post("/comments", body);
      if (!r.ok) {
        msg.textContent = r.body.error;
        $("comment-send").disabled = false;
        return;
      }
      window.location.href = `/cut/${encodeURIComponent(bg)}?ok=commented&v=${page.dataset.version}&c=${r.body.id}#comments`;
    });
  }
  function select(li) {
    for (const o of document.querySelectorAll(".comment.selected")) o.classList.remove("selected");
    li.classList.add("selected");
  }
  function commentShapes(li) { return li.dataset.shapes ? JSON.parse(li.dataset.shapes) : []; }
  function onItsVersion(li, then) {
    if (li.dataset.version && li.dataset.version !== page.dataset.version) {
      if (then) sessionStorage.setItem("haikei.then", then + ":" + li.dataset.comment);
      window.location.href = `/cut/${encodeURIComponent(bg)}?v=${li.dataset.version}&c=${li.dataset.comment}`;
      return false;
    }
    return true;
  }
  function showComment(li) {
    if (!onItsVersion(li, "show")) return;
    select(li);
    setMode("pan");
    showShapes(commentShapes(li), null);
    if (stage) stage.scrollIntoView({ block: "nearest" });
  }
  async function toMask(li) {
    if (!canvas || !onItsVersion(li, "mask")) return;
    select(li);
    const resp = await fetch(api(`/comments/${li.dataset.comment}/mask`));
    if (!resp.ok) { banner("could not make a mask from this drawing", "error"); return; }
    const img = await createImageBitmap(await resp.blob());
    const tmp = document.createElement("canvas");
    tmp.width = canvas.width; tmp.height = canvas.height;
    const t = tmp.getContext("2d");
    t.drawImage(img, 0, 0, tmp.width, tmp.height);
    const src = t.getImageData(0, 0, tmp.width, tmp.height);
    const g = canvas.getContext("2d");
    const dst = g.getImageData(0, 0, canvas.width, canvas.height);
    for (let i = 0; i < src.data.length; i += 4) {
      if (src.data[i] >= 128) { dst.data[i] = 255; dst.data[i + 1] = 40; dst.data[i + 2] = 80; dst.data[i + 3] = 255; }
    }
    g.putImageData(dst, 0, 0);
    painted = true;
    showShapes(commentShapes(li), null);
    setMode("brush");
    const text = li.querySelector(".text");
    if (text && !$("retake-text").value.trim()) $("retake-text").value = text.textContent.trim();
    readNote();
    $("retake-msg").textContent = "The drawing is now the retake mask (red): paint to add, Clear mask to start again, then Send retake.";
    $("retake-card").scrollIntoView({ block: "center" });
  }
  for (const li of document.querySelectorAll("#comments li.comment")) {
    const show = li.querySelector(":scope > .buttons .show-drawing, :scope > .show-drawing");
    if (show) show.addEventListener("click", () => showComment(li));
    const mask = li.querySelector(":scope > .buttons .to-mask");
    if (mask) mask.addEventListener("click", () => toMask(li));
    const reply = li.querySelector(":scope > .buttons .reply");
    if (reply) reply.addEventListener("click", () => {
      replyTo = Number(li.dataset.comment);
      select(li);
      $("comment-msg").textContent = `Replying to ${li.querySelector("b").textContent}'s comment.`;
      $("comment-send").textContent = "Post reply";
      $("comment-text").focus();
    });
  }
  if (page.dataset.comment) {
    const li = document.querySelector(`#comments li[data-comment="${page.dataset.comment}"]`);
    let then = null;
    try { then = sessionStorage.getItem("haikei.then"); sessionStorage.removeItem("haikei.then"); } catch (e) { then = null; }
    if (li) {
      if (then === "mask:" + li.dataset.comment) toMask(li);
      else if (li.dataset.shapes) showComment(li);
      else select(li);
    }
  }

  // 7. live progress of this BG's jobs; a finished retake or variant reloads the page
  const watched = new Set(Array.from(document.querySelectorAll("#jobs li")).map((li) => Number(li.dataset.job)));
  let timer = null;
  async function poll() {
    clearTimeout(timer);
    const resp = await fetch(api("/jobs"), { headers: { Accept: "application/json" } });
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

  // for the keyboard (keys.js)
  window.haikeiCut = {
    toggleZoom: () => setZoom(!oneToOne),
    startRetake: () => {
      if (!canvas) return false;
      setMode("brush");
      $("retake-card").scrollIntoView({ block: "center" });
      $("retake-text").focus();
      return true;
    },
    approve: () => {
      const b = document.querySelector(".vcard.selected button.approve");
      if (!b) { banner("Nothing to approve here: the version shown is already approved, or you may not approve.", "error"); return false; }
      b.click();
      return true;
    },
  };
})();
