// psviz embedding explorer, part 3 of 6: data and screen coordinates, the linked zoom and pan, nearest items.

class ExplorerCoordinates extends ExplorerLayout {
  toScreen(map, x, y) {
    const b = this.bounds;
    const side = Math.min(map.width, map.height);
    const fit = side / Math.max(b.x1 - b.x0, b.y1 - b.y0);
    const cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2;
    const s = fit * this.view.scale;
    return [map.width / 2 + (x - cx) * s + this.view.dx, map.height / 2 - (y - cy) * s + this.view.dy];
  }

  project(map) {
    const xy = map.run.xy;
    const out = map.screen;
    for (let i = 0; i < this.n; i++) {
      const [sx, sy] = this.toScreen(map, xy[2 * i], xy[2 * i + 1]);
      out[2 * i] = sx;
      out[2 * i + 1] = sy;
    }
    this.index(map);
  }

  // a bucket grid of the shown items' screen positions, so hover finds the nearest one without scanning all
  index(map) {
    const cell = 16;
    const cols = Math.ceil(map.width / cell) + 1, rows = Math.ceil(map.height / cell) + 1;
    const buckets = new Map();
    for (let i = 0; i < this.n; i++) {
      if (!this.itemShown(i)) continue;
      const x = map.screen[2 * i], y = map.screen[2 * i + 1];
      if (x < 0 || y < 0 || x > map.width || y > map.height) continue;
      const key = Math.floor(y / cell) * cols + Math.floor(x / cell);
      let bucket = buckets.get(key);
      if (!bucket) buckets.set(key, bucket = []);
      bucket.push(i);
    }
    map.grid = { cell, cols, rows, buckets };
  }

  nearest(map, x, y) {
    const { cell, cols, buckets } = map.grid;
    const gx = Math.floor(x / cell), gy = Math.floor(y / cell);
    let best = -1, bestD = HOVER_RADIUS * HOVER_RADIUS;
    for (let j = gy - 1; j <= gy + 1; j++) for (let i = gx - 1; i <= gx + 1; i++) {
      const bucket = buckets.get(j * cols + i);
      if (!bucket) continue;
      for (const item of bucket) {
        const dx = map.screen[2 * item] - x, dy = map.screen[2 * item + 1] - y;
        const dd = dx * dx + dy * dy;
        if (dd <= bestD) { bestD = dd; best = item; }
      }
    }
    return best;
  }

  itemShown(i) {
    const layer = this.layerBoxes[SPLIT_MARK[this.d.split[i]]];
    return !layer || layer.checked;
  }

}
