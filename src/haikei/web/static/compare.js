// Compare anything with anything: two versions (or a version and the layout) side by side with
// linked zoom and pan, as a wipe (drag the split), as a difference heat map, or as onion skin
// with the layout lines. All on canvases in the browser; the images come from this server.
(function () {
  "use strict";
  const sec = document.getElementById("compare");
  if (!sec) return;
  const $ = (id) => document.getElementById(id);
  const versions = JSON.parse(sec.dataset.versions || "[]");
  const items = versions.map((v) => ({ key: String(v.id), label: v.label, url: v.full }));
  if (sec.dataset.layout) items.push({ key: "layout", label: "layout lines", url: sec.dataset.layout });
  const view = $("cmp-view"), left = $("cmp-left"), right = $("cmp-right");
  const selA = $("cmp-a"), selB = $("cmp-b");
  for (const sel of [selA, selB]) {
    for (const it of items) {
      const o = document.createElement("option");
      o.value = it.key; o.textContent = it.label;
      sel.append(o);
    }
  }
  selA.value = sec.dataset.a || items[0].key;
  selB.value = sec.dataset.b || items[items.length - 1].key;

  const cache = new Map();
  function load(key) {
    if (cache.has(key)) return cache.get(key);
    const it = items.find((i) => i.key === key);
    const p = new Promise((resolve, reject) => {
      const img = new Image();
      img.onload = () => resolve(img);
      img.onerror = () => reject(new Error("could not load " + it.label));
      img.src = it.url;
    });
    cache.set(key, p);
    return p;
  }
  const lines = sec.dataset.layout ? load("layout") : Promise.resolve(null);

  let A = null, B = null, L = null, heat = null, heatInfo = "";
  let mode = "wipe", solo = null, split = 0.5, mix = 0.5;
  let scale = 1, ox = 0, oy = 0, fitted = true;  // screen px per image px; image px at the top-left

  function size() {
    const two = mode === "side" && !solo;
    right.hidden = !two;
    const w = Math.max(200, view.clientWidth);
    const cw = two ? Math.floor((w - 8) / 2) : w;
    const iw = A ? A.naturalWidth : 16, ih = A ? A.naturalHeight : 9;
    const ch = Math.max(180, Math.min(Math.round(window.innerHeight * 0.72), Math.round(cw * ih / iw)));
    const dpr = window.devicePixelRatio || 1;
    for (const c of two ? [left, right] : [left]) {
      c.style.width = cw + "px"; c.style.height = ch + "px";
      c.width = Math.round(cw * dpr); c.height = Math.round(ch * dpr);
    }
    return { cw: cw, ch: ch, dpr: dpr };
  }
  function fit() {
    if (!A) return;
    const s = size();
    scale = Math.min(s.cw / A.naturalWidth, s.ch / A.naturalHeight);
    ox = -(s.cw / scale - A.naturalWidth) / 2;
    oy = -(s.ch / scale - A.naturalHeight) / 2;
    fitted = true;
    setZoomButtons();
  }
  function oneToOne(cx, cy) {
    const s = size();
    const px = cx === undefined ? s.cw / 2 : cx, py = cy === undefined ? s.ch / 2 : cy;
    const ix = ox + px / scale, iy = oy + py / scale;
    scale = 1;
    ox = ix - px / scale; oy = iy - py / scale;
    fitted = false;
    setZoomButtons();
  }
  function setZoomButtons() {
    $("cmp-fit").classList.toggle("on", fitted);
    $("cmp-one").classList.toggle("on", !fitted && Math.abs(scale - 1) < 1e-6);
  }

  function paint(c, fn) {
    const g = c.getContext("2d");
    const dpr = window.devicePixelRatio || 1;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.fillStyle = "#2a2a2a";
    g.fillRect(0, 0, c.width, c.height);
    g.setTransform(scale * dpr, 0, 0, scale * dpr, -ox * scale * dpr, -oy * scale * dpr);
    g.imageSmoothingEnabled = scale < 1;
    fn(g);
    g.setTransform(1, 0, 0, 1, 0, 0);
    return g;
  }
  function label(g, text, x, y) {
    g.font = "12px system-ui, sans-serif";
    const w = g.measureText(text).width + 10;
    g.fillStyle = "rgba(0,0,0,.65)";
    g.fillRect(x, y, w, 18);
    g.fillStyle = "#fff";
    g.fillText(text, x + 5, y + 13);
  }
  const labelOf = (sel) => sel.options[sel.selectedIndex].textContent;

  function draw() {
    if (!A || !B) return;
    size();
    const dpr = window.devicePixelRatio || 1;
    if (solo) {
      const img = solo === "a" ? A : B;
      const g = paint(left, (g) => g.drawImage(img, 0, 0));
      label(g, (solo === "a" ? "A: " + labelOf(selA) : "B: " + labelOf(selB)), 8, 8);
      return;
    }
    if (mode === "side") {
      label(paint(left, (g) => g.drawImage(A, 0, 0)), "A: " + labelOf(selA), 8, 8);
      label(paint(right, (g) => g.drawImage(B, 0, 0)), "B: " + labelOf(selB), 8, 8);
    } else if (mode === "wipe") {
      const g = paint(left, (g) => g.drawImage(A, 0, 0));
      const x = Math.round(left.width * split);
      g.save();
      g.beginPath(); g.rect(x, 0, left.width - x, left.height); g.clip();
      g.setTransform(scale * dpr, 0, 0, scale * dpr, -ox * scale * dpr, -oy * scale * dpr);
      g.drawImage(B, 0, 0);
      g.restore();
      g.fillStyle = "#fff";
      g.fillRect(x - 1, 0, 2, left.height);
      g.beginPath(); g.arc(x, left.height / 2, 9 * dpr, 0, Math.PI * 2); g.fill();
      label(g, "A: " + labelOf(selA), 8, 8);
      label(g, "B: " + labelOf(selB), Math.min(left.width - 200, x + 8), 8);
    } else if (mode === "diff") {
      const g = paint(left, (g) => { if (heat) g.drawImage(heat, 0, 0); });
      label(g, "difference A ↔ B: " + heatInfo, 8, 8);
    } else if (mode === "onion") {
      const g = paint(left, (g) => {
        g.drawImage(A, 0, 0);
        g.globalAlpha = mix; g.drawImage(B, 0, 0); g.globalAlpha = 1;
        if (L && $("cmp-lines").checked) { g.globalCompositeOperation = "multiply"; g.drawImage(L, 0, 0); g.globalCompositeOperation = "source-over"; }
      });
      label(g, `A ${Math.round((1 - mix) * 100)}% + B ${Math.round(mix * 100)}%` + (L && $("cmp-lines").checked ? " + layout lines" : ""), 8, 8);
    }
  }

  function pixels(img) {
    const c = document.createElement("canvas");
    c.width = A.naturalWidth; c.height = A.naturalHeight;
    const g = c.getContext("2d");
    g.fillStyle = "#fff"; g.fillRect(0, 0, c.width, c.height);
    g.drawImage(img, 0, 0, c.width, c.height);
    return g.getImageData(0, 0, c.width, c.height);
  }
  function makeHeat() {
    const t0 = performance.now();
    const a = pixels(A), b = pixels(B);
    const c = document.createElement("canvas");
    c.width = a.width; c.height = a.height;
    const g = c.getContext("2d");
    const out = g.createImageData(a.width, a.height);
    let changed = 0, maxd = 0;
    for (let i = 0; i < a.data.length; i += 4) {
      const d = Math.max(Math.abs(a.data[i] - b.data[i]), Math.abs(a.data[i + 1] - b.data[i + 1]), Math.abs(a.data[i + 2] - b.data[i + 2]));
      if (d > maxd) maxd = d;
      if (d > 6) {
        changed++;
        const t = Math.min(1, d / 128);  // black-red-yellow-white heat
        out.data[i] = Math.min(255, 80 + t * 3 * 255);
        out.data[i + 1] = Math.max(0, Math.min(255, (t * 3 - 1) * 255));
        out.data[i + 2] = Math.max(0, Math.min(255, (t * 3 - 2) * 255));
      } else {
        const y = (a.data[i] * 0.3 + a.data[i + 1] * 0.59 + a.data[i + 2] * 0.11) * 0.22;
        out.data[i] = out.data[i + 1] = out.data[i + 2] = y;
      }
      out.data[i + 3] = 255;
    }
    g.putImageData(out, 0, 0);
    heat = c;
    const share = changed / (a.width * a.height);
    heatInfo = `${(share * 100).toFixed(1)}% of pixels differ (max ${maxd}/255)`;
    sec.dataset.diffShare = share.toFixed(4);
    sec.dataset.diffMs = String(Math.round(performance.now() - t0));
  }

  async function refresh(keepView) {
    $("cmp-info").textContent = "loading…";
    try {
      const [a, b, l] = await Promise.all([load(selA.value), load(selB.value), lines]);
      const resized = !A || a.naturalWidth !== A.naturalWidth;
      A = a; B = b; L = l; heat = null;
      if (mode === "diff") makeHeat();
      if (!keepView || resized) fit();
      $("cmp-info").textContent = mode === "diff" ? heatInfo : "";
      sec.dataset.ready = selA.value + ":" + selB.value + ":" + mode;
      draw();
    } catch (err) {
      $("cmp-info").textContent = String(err.message || err);
    }
  }
  function setMode(m) {
    mode = m; solo = null;
    for (const b of sec.querySelectorAll("[data-mode]")) b.classList.toggle("on", b.dataset.mode === m);
    for (const b of sec.querySelectorAll("[data-solo]")) b.classList.remove("on");
    $("onion-ctl").hidden = m !== "onion";
    $("lines-ctl").hidden = m !== "onion" || !sec.dataset.layout;
    if (m === "diff" && !heat && A && B) makeHeat();
    $("cmp-info").textContent = m === "diff" ? heatInfo : "";
    sec.dataset.ready = selA.value + ":" + selB.value + ":" + mode;
    draw();
  }
  function setSolo(which) {
    solo = solo === which ? null : which;
    for (const b of sec.querySelectorAll("[data-solo]")) b.classList.toggle("on", b.dataset.solo === solo);
    sec.dataset.solo = solo || "";
    draw();
  }
  function step(sel, d) {
    const keys = items.filter((i) => i.key !== "layout").map((i) => i.key);
    const i = keys.indexOf(sel.value);
    const j = Math.max(0, Math.min(keys.length - 1, (i < 0 ? 0 : i) + d));
    if (keys[j] !== sel.value) { sel.value = keys[j]; refresh(true); }
  }

  for (const b of sec.querySelectorAll("[data-mode]")) b.addEventListener("click", () => setMode(b.dataset.mode));
  for (const b of sec.querySelectorAll("[data-solo]")) b.addEventListener("click", () => setSolo(b.dataset.solo));
  selA.addEventListener("change", () => refresh(true));
  selB.addEventListener("change", () => refresh(true));
  $("cmp-mix").addEventListener("input", () => { mix = $("cmp-mix").value / 100; draw(); });
  $("cmp-lines").addEventListener("change", draw);
  $("cmp-fit").addEventListener("click", () => { fit(); draw(); });
  $("cmp-one").addEventListener("click", () => { oneToOne(); draw(); });
  window.addEventListener("resize", () => { if (fitted) fit(); draw(); });

  // pan and zoom (linked: one view for both sides); wipe: drag the split line
  let drag = null;
  for (const c of [left, right]) {
    c.addEventListener("pointerdown", (e) => {
      const r = c.getBoundingClientRect();
      const nearSplit = mode === "wipe" && !solo && Math.abs((e.clientX - r.left) - r.width * split) < 14;
      drag = { split: nearSplit, x: e.clientX, y: e.clientY, ox: ox, oy: oy, r: r };
      c.setPointerCapture(e.pointerId);
      view.classList.add("dragging");
    });
    c.addEventListener("pointermove", (e) => {
      if (!drag) return;
      if (drag.split) {
        split = Math.max(0, Math.min(1, (e.clientX - drag.r.left) / drag.r.width));
        sec.dataset.split = split.toFixed(3);
      } else {
        ox = drag.ox - (e.clientX - drag.x) / scale;
        oy = drag.oy - (e.clientY - drag.y) / scale;
        fitted = false;
        setZoomButtons();
      }
      draw();
    });
    const end = () => { drag = null; view.classList.remove("dragging"); };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
    c.addEventListener("wheel", (e) => {
      e.preventDefault();  // zoom the picture, never scroll the page
      const r = c.getBoundingClientRect();
      const px = e.clientX - r.left, py = e.clientY - r.top;
      const ix = ox + px / scale, iy = oy + py / scale;
      scale = Math.max(0.05, Math.min(16, scale * Math.exp(-e.deltaY * 0.0015)));
      ox = ix - px / scale; oy = iy - py / scale;
      fitted = false;
      setZoomButtons();
      draw();
    }, { passive: false });
  }

  window.haikeiCompare = {
    solo: (w) => { if (solo !== w) setSolo(w); },
    step: (which, d) => step(which === "a" ? selA : selB, d),
    toggleZoom: () => { if (fitted) oneToOne(); else fit(); draw(); },
  };
  refresh(false);
})();
