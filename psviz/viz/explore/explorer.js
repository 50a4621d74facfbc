// psviz embedding explorer: two linked maps (one per run) of the same items, with thumbnails on hover, box and
// lasso selection into an image grid, nearest neighbours on click and a class filter.
// One ES module serves the JupyterLab widget (anywidget) and the offline HTML file (a small model shim).
// The model holds: "data" (meta + binary arrays, see psviz/viz/explorer/payload.py), "selection" (item indices),
// "focus" (a class key "split:label" or ""), "clicked" (an item index or -1).

const SPLIT_MARK = ["seen", "unseen"];
const DIM_ALPHA = 0.07;
const HOVER_RADIUS = 7;
const GRID_LIMIT = 2000;

function floats(view) { return new Float32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)); }
function ints(view) { return new Int32Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)); }
function bytes(view) { return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength)); }

function element(tag, className, parent, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

function unpack(data) {
  const meta = data.meta;
  const arrays = data.arrays;
  const runs = meta.runs.map((name, r) => ({
    name,
    xy: floats(arrays[`xy_${r}`]),
    nn: ints(arrays[`nn_${r}`]),
    sim: floats(arrays[`sim_${r}`]),
    layers: Object.fromEntries(Object.keys(arrays).filter((k) => k.startsWith(`layer_${r}_`))
      .map((k) => [k.slice(`layer_${r}_`.length), floats(arrays[k])])),
  }));
  return { meta, runs, label: ints(arrays.label), split: bytes(arrays.split), sprite: data.sprite || null };
}

class Explorer {
  constructor(model, el) {
    this.model = model;
    this.el = el;
    this.view = { scale: 1, dx: 0, dy: 0 };  // shared by both maps: zoom and pan are linked
    this.mode = "box";
    this.hovered = -1;
    this.subset = null;  // Uint8Array mask of the items a selection or filter keeps, or null
    this.neighbours = null;  // {query, items: Set} of the clicked item
    this.load(model.get("data"));
    this.build();
    model.on("change:data", () => { this.load(model.get("data")); this.rebuild(); });
    // a change this page made comes back as an event too: only changes from Python are applied
    model.on("change:selection", () => {
      const items = model.get("selection") || [];
      if (!sameItems(items, this.selection)) this.applySelection(items, false);
    });
    model.on("change:focus", () => { if ((model.get("focus") || "") !== this.focus) this.applyFocus(model.get("focus"), false); });
    model.on("change:clicked", () => {
      const item = model.get("clicked");
      if (item !== (this.neighbours ? this.neighbours.query : -1)) this.showNeighbours(item, false);
    });
  }

  load(data) {
    this.d = unpack(data);
    const { meta } = this.d;
    this.n = meta.n;
    this.k = meta.k;
    const all = this.d.runs.flatMap((run) => [run.xy, ...Object.values(run.layers)]);
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const xy of all) for (let i = 0; i < xy.length; i += 2) {
      if (xy[i] < x0) x0 = xy[i]; if (xy[i] > x1) x1 = xy[i];
      if (xy[i + 1] < y0) y0 = xy[i + 1]; if (xy[i + 1] > y1) y1 = xy[i + 1];
    }
    const pad = 0.03 * Math.max(x1 - x0, y1 - y0, 1e-9);
    this.bounds = { x0: x0 - pad, x1: x1 + pad, y0: y0 - pad, y1: y1 + pad };
    this.nSeen = meta.class_names.seen ? meta.class_names.seen.length : 0;
    if (this.spriteUrl) URL.revokeObjectURL(this.spriteUrl);
    this.spriteUrl = this.d.sprite ? URL.createObjectURL(new Blob([bytes(this.d.sprite)], { type: "image/png" })) : null;
  }

  colour(item) {
    const palette = this.d.meta.palette;
    const offset = this.d.split[item] === 1 ? this.nSeen : 0;
    return palette[(this.d.label[item] + offset) % palette.length];
  }

  className(item) {
    const split = this.d.meta.splits[this.d.split[item]];
    const names = this.d.meta.class_names[split] || [];
    const label = this.d.label[item];
    return label < names.length ? names[label] : `class ${label}`;
  }

  // ---- layout ---------------------------------------------------------------------------------------------------
  build() {
    this.el.classList.add("psviz-explorer");
    this.el.innerHTML = "";
    const meta = this.d.meta;
    const bar = element("div", "psx-bar", this.el);
    element("span", "psx-title", bar, meta.title);
    const modes = element("span", "psx-modes", bar);
    this.modeButtons = {};
    for (const [mode, label] of [["box", "Box select"], ["lasso", "Lasso"], ["pan", "Pan"]]) {
      const button = element("button", "psx-button", modes, label);
      button.dataset.mode = mode;
      button.onclick = () => this.setMode(mode);
      this.modeButtons[mode] = button;
    }
    const reset = element("button", "psx-button", modes, "Reset");
    reset.title = "reset the zoom, the selection, the filter and the neighbours";
    reset.onclick = () => this.reset();
    this.layerBoxes = {};
    const layers = element("span", "psx-layers", bar);
    for (const [key, label] of meta.layers) {
      const wrap = element("label", "psx-layer", layers);
      const box = element("input", null, wrap);
      box.type = "checkbox";
      box.checked = true;
      box.dataset.layer = key;
      box.onchange = () => this.draw();
      element("span", null, wrap, ` ${label}`);
      this.layerBoxes[key] = box;
    }
    const filter = element("span", "psx-filter", bar);
    this.filterInput = element("input", "psx-filter-input", filter);
    this.filterInput.placeholder = "show one class…";
    this.filterInput.setAttribute("list", `psx-classes-${Math.random().toString(36).slice(2)}`);
    const list = element("datalist", null, filter);
    list.id = this.filterInput.getAttribute("list");
    this.classKeys = new Map();
    meta.splits.forEach((split, s) => (meta.class_names[split] || []).forEach((name, label) => {
      const text = `${name} · ${split}`;
      this.classKeys.set(text, `${split}:${label}`);
      const option = element("option", null, list);
      option.value = text;
    }));
    this.filterInput.onchange = () => {
      const key = this.classKeys.get(this.filterInput.value.trim());
      this.applyFocus(key || "", true);
    };
    const maps = element("div", "psx-maps", this.el);
    this.maps = this.d.runs.map((run, r) => this.buildMap(maps, run, r));
    this.legend = element("div", "psx-legend", this.el);
    this.drawLegend();
    this.status = element("div", "psx-status", this.el);
    this.neighbourPanel = element("div", "psx-neighbours", this.el);
    this.selectionPanel = element("div", "psx-selection", this.el);
    this.tooltip = element("div", "psx-tooltip", this.el);
    this.tooltip.style.display = "none";
    this.setMode("box");
    if (this.resizeObserver) this.resizeObserver.disconnect();  // a rebuild (new data) replaces the old one
    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(maps);
    this.resize();
    this.applySelection(this.model.get("selection") || [], false);
    this.applyFocus(this.model.get("focus") || "", false);
    const clicked = this.model.get("clicked");
    if (clicked !== undefined && clicked >= 0) this.showNeighbours(clicked, false);
    this.el.dataset.ready = "1";
  }

  rebuild() { this.subset = null; this.neighbours = null; this.build(); }

  buildMap(parent, run, r) {
    const box = element("div", "psx-map", parent);
    element("div", "psx-map-title", box, run.name);
    const stage = element("div", "psx-stage", box);
    const base = element("canvas", "psx-canvas", stage);
    const overlay = element("canvas", "psx-overlay", stage);
    overlay.dataset.run = String(r);
    const map = { r, run, box, stage, base, overlay, screen: new Float32Array(this.n * 2), grid: null };
    this.attachPointer(map);
    return map;
  }

  drawLegend() {
    const marks = [["psx-dot", "seen-class item"], ["psx-ring", "unseen-class item"], ["psx-diamond", "proxy"],
      ["psx-cross", "synthetic embedding"], ["psx-star", "synthetic proxy"]];
    this.legend.innerHTML = "";
    for (const [cls, text] of marks) {
      const item = element("span", "psx-legend-item", this.legend);
      element("span", `psx-mark ${cls}`, item);
      element("span", null, item, text);
    }
    element("span", "psx-legend-note", this.legend,
      "colour = class · hover: image · drag: select · click: nearest neighbours · wheel: zoom");
  }

  setMode(mode) {
    this.mode = mode;
    for (const [key, button] of Object.entries(this.modeButtons)) button.classList.toggle("psx-active", key === mode);
    for (const map of this.maps) map.overlay.style.cursor = mode === "pan" ? "grab" : "crosshair";
  }

  resize() {
    const ratio = window.devicePixelRatio || 1;
    for (const map of this.maps) {
      const width = Math.max(map.stage.clientWidth, 50);
      const height = Math.max(map.stage.clientHeight, 50);
      for (const canvas of [map.base, map.overlay]) {
        canvas.width = Math.round(width * ratio);
        canvas.height = Math.round(height * ratio);
        canvas.style.width = `${width}px`;
        canvas.style.height = `${height}px`;
      }
      map.width = width;
      map.height = height;
      map.ratio = ratio;
    }
    this.draw();
  }

  reset() {
    this.view = { scale: 1, dx: 0, dy: 0 };
    this.showNeighbours(-1, true);
    this.applyFocus("", true);
    this.applySelection([], true);
  }

  // ---- coordinates ----------------------------------------------------------------------------------------------
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

  // ---- drawing --------------------------------------------------------------------------------------------------
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

  // ---- pointer --------------------------------------------------------------------------------------------------
  attachPointer(map) {
    const target = map.overlay;
    const local = (event) => {
      const rect = target.getBoundingClientRect();
      return [event.clientX - rect.left, event.clientY - rect.top];
    };
    let drag = null;
    target.addEventListener("pointerdown", (event) => {
      target.setPointerCapture(event.pointerId);
      const at = local(event);
      drag = { start: at, points: [at], moved: false, view: { ...this.view } };
    });
    target.addEventListener("pointermove", (event) => {
      const at = local(event);
      if (!drag) { this.hover(map, at, event); return; }
      if (Math.hypot(at[0] - drag.start[0], at[1] - drag.start[1]) > 3) drag.moved = true;
      if (!drag.moved) return;
      if (this.mode === "pan") {
        this.view.dx = drag.view.dx + at[0] - drag.start[0];
        this.view.dy = drag.view.dy + at[1] - drag.start[1];
        this.lastPath = null;  // drawn in screen coordinates: it would no longer fit the moved view
        this.draw();
      } else {
        drag.points.push(at);
        this.drawOverlays({ map, kind: this.mode, points: drag.points });
      }
    });
    target.addEventListener("pointerup", (event) => {
      if (!drag) return;
      const done = drag;
      drag = null;
      if (!done.moved) {
        const item = this.nearest(map, ...done.start);
        this.showNeighbours(item, true);
      } else if (this.mode !== "pan") {
        this.selectPath(map, this.mode, done.points);
      }
      this.drawOverlays();
    });
    target.addEventListener("pointerleave", () => { if (!drag) this.hover(map, null); });
    target.addEventListener("wheel", (event) => {
      event.preventDefault();
      const [x, y] = local(event);
      const factor = Math.exp(-event.deltaY * 0.0015);
      const cx = map.width / 2 + this.view.dx, cy = map.height / 2 + this.view.dy;
      this.view.dx += (x - cx) * (1 - factor);
      this.view.dy += (y - cy) * (1 - factor);
      this.view.scale *= factor;
      this.lastPath = null;
      this.draw();
    }, { passive: false });
  }

  hover(map, at, event) {
    const item = at ? this.nearest(map, at[0], at[1]) : -1;
    if (item !== this.hovered) {
      this.hovered = item;
      this.drawOverlays();
    }
    if (item < 0) { this.tooltip.style.display = "none"; return; }
    this.showTooltip(map, item);
  }

  showTooltip(map, item) {
    const tip = this.tooltip;
    tip.innerHTML = "";
    tip.dataset.item = String(item);
    if (this.spriteUrl) tip.appendChild(this.thumb(item, 2));
    const split = this.d.meta.splits[this.d.split[item]];
    element("div", "psx-tip-name", tip, this.className(item));
    element("div", "psx-tip-detail", tip, `${split} class · item ${item}`);
    const host = this.el.getBoundingClientRect();
    const x = map.screen[2 * item] + map.overlay.getBoundingClientRect().left - host.left;
    const y = map.screen[2 * item + 1] + map.overlay.getBoundingClientRect().top - host.top;
    tip.style.display = "block";
    const flip = x > host.width - 180;
    tip.style.left = `${flip ? x - 16 - tip.offsetWidth : x + 16}px`;
    tip.style.top = `${y + 12}px`;
  }

  thumb(item, zoom, frame) {
    const meta = this.d.meta.thumb;
    const size = meta.size;
    const node = document.createElement("div");
    node.className = "psx-thumb";
    node.dataset.item = String(item);
    node.style.width = node.style.height = `${size * zoom}px`;
    node.style.backgroundImage = `url(${this.spriteUrl})`;
    node.style.backgroundSize = `${meta.cols * size * zoom}px auto`;
    node.style.backgroundPosition = `${-(item % meta.cols) * size * zoom}px ${-Math.floor(item / meta.cols) * size * zoom}px`;
    if (frame) node.style.outline = `3px solid ${frame}`;
    node.title = `${this.className(item)} (${this.d.meta.splits[this.d.split[item]]}) · item ${item}`;
    return node;
  }

  // ---- selection, filter, neighbours ------------------------------------------------------------------------------
  selectPath(map, kind, points) {
    if (points.length < 2) return;
    const chosen = [];
    const s = map.screen;
    if (kind === "box") {
      const [a, b] = [points[0], points[points.length - 1]];
      const x0 = Math.min(a[0], b[0]), x1 = Math.max(a[0], b[0]), y0 = Math.min(a[1], b[1]), y1 = Math.max(a[1], b[1]);
      for (let i = 0; i < this.n; i++)
        if (this.itemShown(i) && s[2 * i] >= x0 && s[2 * i] <= x1 && s[2 * i + 1] >= y0 && s[2 * i + 1] <= y1) chosen.push(i);
    } else {
      for (let i = 0; i < this.n; i++) if (this.itemShown(i) && inside(points, s[2 * i], s[2 * i + 1])) chosen.push(i);
    }
    this.applySelection(chosen, true);
    this.lastPath = { map, kind, points };
    this.drawOverlays();
  }

  applySelection(items, fromBrowser) {
    items = Array.from(items || []).filter((i) => i >= 0 && i < this.n);
    this.lastPath = null;  // a selection from Python (or a reset) has no outline
    this.selection = items;
    if (fromBrowser) {
      this.model.set("selection", items);
      this.model.save_changes();
    }
    this.setSubset(items.length ? items : null);
    this.renderSelection(items);
  }

  applyFocus(key, fromBrowser) {
    this.focus = key || "";
    if (fromBrowser) {
      this.model.set("focus", this.focus);
      this.model.save_changes();
    }
    if (!this.focus) {
      this.filterInput.value = "";
      this.setSubset(this.selection && this.selection.length ? this.selection : null);
      this.status.textContent = "";
      return;
    }
    const [split, label] = this.focus.split(":");
    const s = this.d.meta.splits.indexOf(split);
    const members = [];
    for (let i = 0; i < this.n; i++) if (this.d.split[i] === s && this.d.label[i] === Number(label)) members.push(i);
    const shown = new Set(members);
    for (const run of this.d.runs) for (const q of members) for (let j = 0; j < this.k; j++) shown.add(run.nn[q * this.k + j]);
    const name = (this.d.meta.class_names[split] || [])[Number(label)] || label;
    this.filterInput.value = `${name} · ${split}`;
    this.status.textContent = `class ${name} (${split}): ${members.length} items, shown with their ${this.k} nearest ` +
      `neighbours in either run (${shown.size - members.length} more items)`;
    this.setSubset([...shown]);
  }

  setSubset(items) {
    if (!items) { this.subset = null; } else {
      this.subset = new Uint8Array(this.n);
      for (const i of items) this.subset[i] = 1;
    }
    this.draw();
  }

  renderSelection(items) {
    const panel = this.selectionPanel;
    panel.innerHTML = "";
    panel.dataset.count = String(items.length);
    if (!items.length) return;
    const counts = new Map();
    for (const i of items) {
      const key = `${this.className(i)} · ${this.d.meta.splits[this.d.split[i]]}`;
      counts.set(key, (counts.get(key) || 0) + 1);
    }
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    element("div", "psx-heading", panel,
      `Selection: ${items.length} items of ${counts.size} classes (the same items are highlighted in both maps)`);
    const chips = element("div", "psx-counts", panel);
    for (const [key, count] of sorted.slice(0, 30)) element("span", "psx-chip", chips, `${key}: ${count}`);
    if (sorted.length > 30) element("span", "psx-chip psx-more", chips, `+ ${sorted.length - 30} more classes`);
    if (!this.spriteUrl) return;
    const grid = element("div", "psx-grid", panel);
    const fragment = document.createDocumentFragment();
    for (const i of items.slice(0, GRID_LIMIT)) fragment.appendChild(this.thumb(i, 1.5));
    grid.appendChild(fragment);
    if (items.length > GRID_LIMIT) element("div", "psx-more", panel, `showing ${GRID_LIMIT} of ${items.length}`);
  }

  showNeighbours(item, fromBrowser) {
    if (item === undefined || item === null || item < 0 || item >= this.n) item = -1;
    this.neighbours = item >= 0 ? { query: item } : null;
    if (fromBrowser) {
      this.model.set("clicked", item);
      this.model.save_changes();
    }
    const panel = this.neighbourPanel;
    panel.innerHTML = "";
    if (item < 0) { this.drawOverlays(); return; }
    const split = this.d.meta.splits[this.d.split[item]];
    element("div", "psx-heading", panel, `Nearest ${this.k} neighbours of item ${item} (${this.className(item)}, ` +
      `${split}) among the ${split} items, in each run's full embedding; green: same class, red: another`);
    for (const run of this.d.runs) {
      const row = element("div", "psx-nn-row", panel);
      row.dataset.run = run.name;
      element("div", "psx-nn-run", row, run.name);
      const query = this.spriteUrl ? this.thumb(item, 2, "#222") : element("span", "psx-nn-label", null, this.className(item));
      query.classList.add("psx-query");
      row.appendChild(query);
      let hits = 0;
      for (let j = 0; j < this.k; j++) {
        const other = run.nn[item * this.k + j];
        const match = this.d.label[other] === this.d.label[item] && this.d.split[other] === this.d.split[item];
        hits += match;
        const cell = element("div", `psx-nn ${match ? "psx-match" : "psx-miss"}`, row);
        cell.dataset.item = String(other);
        if (this.spriteUrl) cell.appendChild(this.thumb(other, 2, match ? "#1CA71C" : "#FB0D0D"));
        else element("div", "psx-nn-label", cell, this.className(other));
        element("div", "psx-nn-sim", cell, run.sim[item * this.k + j].toFixed(2));
      }
      element("div", "psx-nn-score", row, `${hits}/${this.k} same class`);
    }
    this.drawOverlays();
  }

  // page coordinates of an item in map r (used by tests and benchmarks)
  screenOf(r, item) {
    const map = this.maps[r];
    const rect = map.overlay.getBoundingClientRect();
    return [rect.left + map.screen[2 * item], rect.top + map.screen[2 * item + 1]];
  }
}

function sameItems(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function inside(polygon, x, y) {
  let hit = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i], [xj, yj] = polygon[j];
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) hit = !hit;
  }
  return hit;
}

function render({ model, el }) {
  const explorer = new Explorer(model, el);
  el.psvizExplorer = explorer;
  return () => { if (explorer.resizeObserver) explorer.resizeObserver.disconnect(); };
}

export default { render };
