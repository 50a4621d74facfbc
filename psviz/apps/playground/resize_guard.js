// Makes plotly.js skip a relayout to the size a figure already has, on the Playground's page. Bokeh lays the page
// out again whenever a widget changes (a button's `disabled`, say), and Panel then "resizes" every figure to the
// size it has: on 2 cores that redrew the three figures for about 100 ms before the click that changed the button
// was answered (issue 31 asks for 100 ms). Installed once a page by `psviz.apps.playground.resize_guard.ResizeGuard`.
export function render() {
  const plotly = window.Plotly;
  if (plotly && !plotly.psvizResizeGuard) {
    plotly.psvizResizeGuard = true;
    const relayout = plotly.relayout;
    plotly.relayout = function (gd, update, ...rest) {
      const now = gd && gd._fullLayout;
      const sizeOnly = update && typeof update === "object" && Object.keys(update).length === 2
        && "width" in update && "height" in update;
      if (now && sizeOnly && update.width === now.width && update.height === now.height) return Promise.resolve(gd);
      return relayout.call(this, gd, update, ...rest);
    };
  }
  const el = document.createElement("span");
  el.className = "pg-resize-guard";
  el.dataset.installed = String(Boolean(plotly && plotly.psvizResizeGuard));
  return el;
}
