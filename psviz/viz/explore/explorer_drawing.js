// psviz embedding explorer, part 4 of 6: drawing the maps on their canvases: items, shapes, overlays, paths.

class ExplorerDrawing extends ExplorerCoordinates {
  draw() {
    if (!this.maps) return;
    for (const map of this.maps) {
      this.project(map);
      this.drawMap(map);
    }
    this.drawOverlays();
  }

  drawMap(map) {
    const ctx = map.base.getContext("2d");
    ctx.setTransform(map.ratio, 0, 0, map.ratio, 0, 0);
    ctx.clearRect(0, 0, map.width, map.height);
    const layers = map.run.layers;
    const on = (key) => !this.layerBoxes[key] || this.layerBoxes[key].checked;
    ctx.globalAlpha = this.subset ? 0.25 : 0.55;
    if (on("synthetic") && layers.synthetic) this.drawShape(ctx, map, layers.synthetic, "cross", this.d.meta.synthetic_colour);
    if (on("synthetic") && layers.synthetic_proxies) this.drawShape(ctx, map, layers.synthetic_proxies, "star", this.d.meta.synthetic_colour);
    this.drawItems(ctx, map);
    if (on("proxies") && layers.proxies) {
      const many = layers.proxies.length / 2 > 200;  // hundreds of proxies on top would bury the items under them
      ctx.globalAlpha = this.subset ? 0.3 : many ? 0.6 : 0.95;
      const colours = this.d.meta.proxy_colours[map.r];
      this.drawShape(ctx, map, layers.proxies, "diamond", colours);
    }
    ctx.globalAlpha = 1;
  }

  drawItems(ctx, map) {
    const s = map.screen;
    const small = this.n > 20000 ? 1.2 : this.n > 5000 ? 1.6 : 2.6;  // many items: small marks, so they do not merge
    const ring = this.n > 5000 ? 0.8 : 1.1;
    for (const pass of [0, 1]) {  // dimmed items first, kept ones over them
      if (pass === 1 && !this.subset) break;
      for (let i = 0; i < this.n; i++) {
        if (!this.itemShown(i)) continue;
        const kept = !this.subset || this.subset[i];
        if ((pass === 0) === (this.subset !== null && kept)) continue;
        ctx.globalAlpha = kept ? (this.subset ? 0.95 : 0.7) : DIM_ALPHA;
        const colour = this.colour(i);
        if (this.d.split[i] === 0) {
          ctx.fillStyle = colour;
          ctx.fillRect(s[2 * i] - small, s[2 * i + 1] - small, 2 * small, 2 * small);
        } else {
          ctx.strokeStyle = colour;
          ctx.lineWidth = ring;
          ctx.beginPath();
          ctx.arc(s[2 * i], s[2 * i + 1], small + 0.9, 0, 2 * Math.PI);
          ctx.stroke();
        }
      }
    }
  }

  drawShape(ctx, map, xy, shape, colour) {
    const many = xy.length / 2 > 200;
    const size = (shape === "diamond" ? 4.5 : 3.5) * (many ? 0.6 : 1);
    ctx.lineWidth = shape === "diamond" && !many ? 1.6 : 0.9;
    for (let i = 0; i < xy.length / 2; i++) {
      const [x, y] = this.toScreen(map, xy[2 * i], xy[2 * i + 1]);
      const c = Array.isArray(colour) ? colour[i % colour.length] : colour;
      ctx.strokeStyle = c;
      ctx.beginPath();
      if (shape === "cross") {
        ctx.moveTo(x - size, y - size); ctx.lineTo(x + size, y + size);
        ctx.moveTo(x - size, y + size); ctx.lineTo(x + size, y - size);
      } else if (shape === "diamond") {
        ctx.moveTo(x, y - size); ctx.lineTo(x + size, y); ctx.lineTo(x, y + size); ctx.lineTo(x - size, y); ctx.closePath();
      } else {
        for (let p = 0; p < 10; p++) {
          const radius = p % 2 ? size * 0.45 : size * 1.2, angle = Math.PI / 5 * p - Math.PI / 2;
          ctx[p ? "lineTo" : "moveTo"](x + radius * Math.cos(angle), y + radius * Math.sin(angle));
        }
        ctx.closePath();
      }
      ctx.stroke();
    }
  }

  drawOverlays(path) {
    for (const map of this.maps) {
      const ctx = map.overlay.getContext("2d");
      ctx.setTransform(map.ratio, 0, 0, map.ratio, 0, 0);
      ctx.clearRect(0, 0, map.width, map.height);
      if (this.neighbours) {
        const q = this.neighbours.query;
        for (let j = 0; j < this.k; j++) {
          const item = map.run.nn[q * this.k + j];
          this.ring(ctx, map, item, this.d.label[item] === this.d.label[q] && this.d.split[item] === this.d.split[q]
            ? "#1CA71C" : "#FB0D0D", 5, 2);
        }
        this.ring(ctx, map, q, "#111", 8, 2.5);
      }
      if (this.hovered >= 0) this.ring(ctx, map, this.hovered, "#111", 9, 3);
      const shown = path || (this.selection && this.selection.length ? this.lastPath : null);
      if (shown && shown.map === map) this.drawPath(ctx, shown);  // the box or lasso stays until the selection goes
    }
  }

  ring(ctx, map, item, colour, radius, width) {
    const x = map.screen[2 * item], y = map.screen[2 * item + 1];
    ctx.lineWidth = width + 2;
    ctx.strokeStyle = "#fff";
    ctx.beginPath(); ctx.arc(x, y, radius, 0, 2 * Math.PI); ctx.stroke();
    ctx.lineWidth = width;
    ctx.strokeStyle = colour;
    ctx.beginPath(); ctx.arc(x, y, radius, 0, 2 * Math.PI); ctx.stroke();
  }

  drawPath(ctx, path) {
    ctx.strokeStyle = "#333";
    ctx.fillStyle = "rgba(46, 145, 229, 0.12)";
    ctx.setLineDash([4, 3]);
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    if (path.kind === "box") {
      const [a, b] = [path.points[0], path.points[path.points.length - 1]];
      ctx.rect(Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.abs(b[0] - a[0]), Math.abs(b[1] - a[1]));
    } else {
      path.points.forEach(([x, y], i) => ctx[i ? "lineTo" : "moveTo"](x, y));
      ctx.closePath();
    }
    ctx.fill();
    ctx.stroke();
    ctx.setLineDash([]);
  }

}
