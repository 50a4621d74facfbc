// psviz embedding explorer, part 6 of 6: selection, class filter and nearest neighbours, synced with the model; `render`.

class Explorer extends ExplorerPointer {
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

function render({ model, el }) {
  const explorer = new Explorer(model, el);
  el.psvizExplorer = explorer;
  return () => { if (explorer.resizeObserver) explorer.resizeObserver.disconnect(); };
}
