// Drawings on the picture as JSON shapes in the BG's pixels (see services/comments.py):
// drawing them on a canvas, shared by the cut page's drawing tools and the comment thread.
window.haikeiShapes = (function () {
  "use strict";
  function arrowHead(g, x0, y0, x1, y1, size) {
    const a = Math.atan2(y1 - y0, x1 - x0);
    g.beginPath();
    g.moveTo(x1, y1);
    g.lineTo(x1 - size * Math.cos(a - 0.45), y1 - size * Math.sin(a - 0.45));
    g.lineTo(x1 - size * Math.cos(a + 0.45), y1 - size * Math.sin(a + 0.45));
    g.closePath();
    g.fill();
  }
  function one(g, s) {
    const p = s.points;
    g.save();
    g.strokeStyle = g.fillStyle = s.colour;
    g.lineWidth = s.width || 6;
    g.lineCap = g.lineJoin = "round";
    g.shadowColor = "rgba(0,0,0,.55)";
    g.shadowBlur = 3;
    if (s.type === "pen") {
      g.beginPath();
      g.moveTo(p[0][0], p[0][1]);
      if (p.length === 1) g.lineTo(p[0][0] + 0.1, p[0][1]);
      for (let i = 1; i < p.length; i++) g.lineTo(p[i][0], p[i][1]);
      g.stroke();
    } else if (s.type === "arrow") {
      g.beginPath();
      g.moveTo(p[0][0], p[0][1]);
      g.lineTo(p[1][0], p[1][1]);
      g.stroke();
      arrowHead(g, p[0][0], p[0][1], p[1][0], p[1][1], Math.max(14, (s.width || 6) * 4));
    } else if (s.type === "rect") {
      g.strokeRect(Math.min(p[0][0], p[1][0]), Math.min(p[0][1], p[1][1]), Math.abs(p[1][0] - p[0][0]), Math.abs(p[1][1] - p[0][1]));
    } else if (s.type === "ellipse") {
      g.beginPath();
      g.ellipse((p[0][0] + p[1][0]) / 2, (p[0][1] + p[1][1]) / 2, Math.abs(p[1][0] - p[0][0]) / 2 || 0.5, Math.abs(p[1][1] - p[0][1]) / 2 || 0.5, 0, 0, Math.PI * 2);
      g.stroke();
    } else if (s.type === "text") {
      g.font = `bold ${s.size || 32}px system-ui, "IPAGothic", sans-serif`;
      g.lineWidth = Math.max(2, (s.size || 32) / 8);
      g.strokeStyle = "rgba(0,0,0,.7)";
      g.strokeText(s.text, p[0][0], p[0][1]);
      g.fillText(s.text, p[0][0], p[0][1]);
    }
    g.restore();
  }
  function draw(canvas, shapes) {
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, canvas.width, canvas.height);
    for (const s of shapes || []) one(g, s);
  }
  return { draw: draw, one: one };
})();
