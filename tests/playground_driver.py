"""JavaScript the Playground's browser test and its benchmark (benchmarks/bench_playground.py) run in the page."""

# Finds an element through Panel's shadow roots: find(sel) anywhere, inside(host, sel) within the host's own root.
FIND = """const find = (sel, root = document) => {
  const hit = root.querySelector(sel);
  if (hit) return hit;
  for (const el of root.querySelectorAll('*')) if (el.shadowRoot) { const h = find(sel, el.shadowRoot); if (h) return h; }
  return null;
};
const inside = (host, sel) => { const h = find(host); return h && find(sel, h.shadowRoot || h); };
"""
# The synthetic point farthest (on screen) from every other marker: its index, where it is drawn, the batch's λ and
# how many parents the "chosen" trace shows (-1 before a click).
SYNTHETIC_TARGET = "() => {" + FIND + """
  const gd = inside('.pg-synthetic', '.js-plotly-plot');
  const layout = gd._fullLayout, box = gd.getBoundingClientRect();
  const at = (t, i) => [box.left + layout._size.l + layout.xaxis.l2p(t.x[i]),
                        box.top + layout._size.t + layout.yaxis.l2p(t.y[i])];
  const others = [];
  for (const t of gd._fullData) if (t.mode === 'markers' && t.name !== 'synthetic embedding')
    for (let i = 0; i < t.x.length; i++) others.push(at(t, i));
  const synthetic = gd._fullData.find((t) => t.name === 'synthetic embedding');
  let best = null;
  for (let i = 0; i < synthetic.x.length; i++) {
    const p = at(synthetic, i);
    const gap = Math.min(...others.map((o) => Math.hypot(o[0] - p[0], o[1] - p[1])));
    if (!best || gap > best.gap) best = {index: i, x: p[0], y: p[1], gap};
  }
  const lam = (gd.layout.title.text.match(/λ = ([0-9.]+)/) || [])[1];
  const chosen = gd.data.find((t) => t.name === 'chosen: its parents');
  return {...best, lam, parents: chosen ? chosen.x.length : -1};
}"""
