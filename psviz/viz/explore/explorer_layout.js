// psviz embedding explorer, part 2 of 6: the explorer's state, its page layout and its controls.

class ExplorerLayout {
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

}
