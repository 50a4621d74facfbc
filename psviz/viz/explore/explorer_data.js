// psviz embedding explorer, part 1 of 6 (psviz/viz/explore/page.py joins the parts in order into one ES module, no
// build step): constants and helpers that read the data. Two linked maps (one per run) of the same items, with
// thumbnails on hover, box and lasso selection into an image grid, nearest neighbours on click and a class filter.
// One module serves the JupyterLab widget (anywidget) and the offline HTML file (a small model shim).
// The model holds: "data" (meta + binary arrays, see psviz/viz/explore/payload.py), "selection" (item indices),
// "focus" (a class key "split:label" or ""), "clicked" (an item index or -1).
// The class is built in layers, one file each: ExplorerLayout (state, layout) < ExplorerCoordinates <
// ExplorerDrawing < ExplorerPointer < Explorer (selection, filter, neighbours; `render`).

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
