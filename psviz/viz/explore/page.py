"""The explorer's page: its model (`payload`: the data as JSON and raw arrays, with the colours), and the page as one
standalone HTML file: the same ES module as the widget, the data inline (binary arrays and the sprite sheet as
base64), and a few lines that stand in for the Jupyter model. Opens offline, without a kernel."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path

import numpy as np

from ...analysis.explorer_data import LAYERS, SPLITS, ExplorerData
from ..style import PALETTE, SYNTHETIC_COLOUR, class_colours

HERE = Path(__file__).resolve().parent
# Sizes the page was measured at (benchmarks/bench_explorer.py): above this the file is slow to open.
SIZE_LIMIT_MB = 30
# the page's layer that shows each overlay
OVERLAY_KEYS = {"proxies": "proxies", "synthetic": "synthetic", "synthetic_proxies": "synthetic"}

# Stands in for the anywidget model: get/set/on/save_changes over a plain object, arrays decoded to DataViews.
BOOTSTRAP = """
const raw = JSON.parse(document.getElementById("psviz-explorer-data").textContent);
const decode = (text) => { const s = atob(text); const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i); return new DataView(out.buffer); };
const data = { meta: raw.meta, arrays: Object.fromEntries(Object.entries(raw.arrays).map(([k, v]) => [k, decode(v)])),
               sprite: raw.sprite ? decode(raw.sprite) : null };
const state = { data, selection: [], focus: "", clicked: -1 };
const handlers = {};
const model = {
  get: (key) => state[key],
  set: (key, value) => { state[key] = value; (handlers[`change:${key}`] || []).forEach((f) => f()); },
  on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
  save_changes: () => {},
};
const host = document.getElementById("psviz-explorer");
render({ model, el: host });
host.dataset.opened = String(performance.now());
"""


# The explorer's script, in parts that each add one layer to its class (see the first part's header); they are
# joined in this order into one ES module, with no build step.
SCRIPT_PARTS = ("explorer_data.js", "explorer_layout.js", "explorer_coordinates.js", "explorer_drawing.js",
                "explorer_pointer.js", "explorer_selection.js")


def script_source() -> str:
    """The explorer's parts joined: a script that defines `render` (the offline page calls it itself)."""
    return "\n".join((HERE / name).read_text() for name in SCRIPT_PARTS)


def module_source() -> str:
    """The explorer as the ES module anywidget loads: the script, exporting `render`."""
    return script_source() + "\nexport default { render };\n"


def style_source() -> str:
    return (HERE / "explorer.css").read_text()


# Characters that could change how the page parses the inline data ("</script>", "<!--<script>", entities) or that
# older JavaScript reads as line ends; JSON reads each escape back as the same character.
SCRIPT_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_for_script(data) -> str:
    """``data`` as JSON to sit inside a <script> element: no class name or title can end the element, open a comment
    or otherwise change how the page parses (the escapes are JSON's own, so JSON.parse returns the same strings)."""
    text = json.dumps(data, separators=(",", ":"))
    return text.translate(str.maketrans(SCRIPT_ESCAPES))


def standalone_html(payload: dict, title: str) -> str:
    """One HTML document holding everything: style, module, data."""
    data = {"meta": payload["meta"],
            "arrays": {k: base64.b64encode(v).decode("ascii") for k, v in payload["arrays"].items()},
            "sprite": base64.b64encode(payload["sprite"]).decode("ascii") if payload["sprite"] else None}
    text = json_for_script(data)
    script = script_source()
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>\n<style>body {{ margin: 12px; }}\n{style_source()}</style></head>\n"
            f"<body><div id=\"psviz-explorer\"></div>\n"
            f"<script type=\"application/json\" id=\"psviz-explorer-data\">{text}</script>\n"
            f"<script type=\"module\">\n{script}\n{BOOTSTRAP}</script>\n</body></html>\n")


def payload(data: ExplorerData) -> dict:
    """The page's model: ``meta`` (JSON) and ``arrays`` (raw little-endian bytes), plus the ``sprite`` PNG."""
    split_codes = {split: i for i, split in enumerate(SPLITS)}
    arrays = {"label": data.labels.astype("<i4").tobytes(),
              "split": np.array([split_codes[str(s)] for s in data.splits], np.uint8).tobytes()}
    proxy_colours = []
    for r, name in enumerate(data.runs):
        arrays[f"xy_{r}"] = np.asarray(data.maps[name], "<f4").tobytes()
        arrays[f"nn_{r}"] = np.asarray(data.neighbours[name], "<i4").tobytes()
        arrays[f"sim_{r}"] = np.asarray(data.similarities[name], "<f4").tobytes()
        for key, values in data.overlays.get(name, {}).items():
            arrays[f"layer_{r}_{key}"] = np.asarray(values, "<f4").tobytes()
        proxy_colours.append(class_colours(data.overlay_labels.get(name, {}).get("proxies", [])))
    present = {OVERLAY_KEYS[key] for overlays in data.overlays.values() for key in overlays}
    layers = [[key, label] for key, label in LAYERS.items()
              if key in present or key in set(map(str, data.splits))]
    meta = {"title": data.title, "runs": list(data.runs), "n": len(data), "k": int(data.neighbours[data.runs[0]].shape[1]),
            "splits": list(SPLITS), "class_names": {k: list(v) for k, v in data.class_names.items()},
            "palette": list(PALETTE), "synthetic_colour": SYNTHETIC_COLOUR, "proxy_colours": proxy_colours,
            "layers": layers, "projection": data.projection,
            "thumb": {"size": data.thumb_size, "cols": data.thumb_cols} if data.sprite else None}
    return {"meta": meta, "arrays": arrays, "sprite": data.sprite}


__all__ = ["SCRIPT_PARTS", "SIZE_LIMIT_MB", "json_for_script", "module_source", "payload", "script_source",
           "standalone_html", "style_source"]
