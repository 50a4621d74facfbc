// psviz embedding explorer, part 5 of 6: the pointer: hover with thumbnails, box and lasso selection, pan and zoom.

class ExplorerPointer extends ExplorerDrawing {
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

}
