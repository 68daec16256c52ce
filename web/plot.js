// Line plots of a few series over time on a canvas, scaled to the largest value shown.
export class Plot {
  constructor(canvas, series, capacity = 150) {
    this.canvas = canvas;
    this.series = series;  // [{ color }]
    this.capacity = capacity;
    this.points = series.map(() => []);
    this.format = (v) => String(Math.round(v));
  }

  push(values) {
    values.forEach((v, i) => {
      const p = this.points[i];
      p.push(Number.isFinite(v) ? v : 0);
      if (p.length > this.capacity) p.shift();
    });
    this.draw();
  }

  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth || c.width, h = c.clientHeight || c.height;
    if (c.width !== Math.round(w * ratio)) { c.width = Math.round(w * ratio); c.height = Math.round(h * ratio); }
    const g = c.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const left = 64, top = 8, bottom = h - 16, right = w - 8;
    let max = 0;
    for (const p of this.points) for (const v of p) max = Math.max(max, v);
    if (max <= 0) max = 1;
    g.strokeStyle = '#dde2e8';
    g.fillStyle = '#6b7480';
    g.font = '11px system-ui, sans-serif';
    g.lineWidth = 1;
    for (let k = 0; k <= 4; ++k) {
      const y = bottom - ((bottom - top) * k) / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillText(this.format((max * k) / 4), 2, y + 4);
    }
    const step = (right - left) / Math.max(1, this.capacity - 1);
    this.points.forEach((p, i) => {
      if (p.length < 2) return;
      g.strokeStyle = this.series[i].color;
      g.lineWidth = 1.5;
      g.beginPath();
      const x0 = right - (p.length - 1) * step;
      p.forEach((v, j) => {
        const x = x0 + j * step, y = bottom - ((bottom - top) * v) / max;
        if (j === 0) g.moveTo(x, y); else g.lineTo(x, y);
      });
      g.stroke();
    });
  }
}
