"""One offline HTML page that ties a demo's tables and figures together, one line each on what to look for."""

from __future__ import annotations

import html
import math
from pathlib import Path

from ..base.names import BASELINE, WITH_PS, metric_name

# figure file stem -> (title, what to look for); the order is the page's
FIGURE_NOTES = {
    "synthetic_embeddings": ("What PS makes", "One glyphs batch: each synthetic point lies on the arc between the two "
                             "real embeddings it mixes, with its mixed proxy; only the batch's own proxies are drawn."),
    "decision_boundaries": ("Decision regions", "The toy pair (3-D embeddings): the part of the sphere each seen proxy "
                            "wins, with the unseen classes on top. See whether unseen classes fall inside one region "
                            "or straddle a border."),
    "confidence_landscape": ("Confidence landscape", "The same toy pair: colour is the seen class the loss picks, "
                             "lightness how sure it is. Pale bands are where it hesitates; compare their width."),
    "umap_seen_unseen": ("Seen and unseen classes", "UMAP of the glyph embeddings, fitted on seen classes, unseen ones "
                         "placed by the fitted map. Unseen classes that form tight, separate groups retrieve well."),
    "synthetic_vs_unseen": ("Synthetic points against unseen ones", "The paper's Figure 3 view: where each run's "
                            "synthetic points (purple density) lie relative to the unseen embeddings."),
    "generalisation_gap": ("Held-out seen against unseen", "MAP@R on held-out items of seen classes and on unseen "
                           "classes per epoch, and the gap between them."),
    "recall_at_k": ("Recall@K", "Recall@K on the unseen glyphs for both runs of the pair."),
    "training_curves": ("Training curves", "The loss and unseen MAP@R per epoch of the glyphs pair."),
    "retrieval_gallery": ("Retrieval gallery", "Unseen queries and their nearest neighbours in each run, framed green "
                          "when the class matches and red when it does not."),
}
EXPLORER_NOTE = ("Embedding explorer", "The glyphs pair's maps side by side: hover an item for its image, drag a box "
                 "or lasso to select, click for its nearest neighbours in the full embedding.")

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.6em 0}td,th{padding:.25em .8em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.verdict{font-weight:600}
figure{margin:1.6em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{margin-top:.3em}
.note{color:#555}code{background:#f4f4f4;padding:0 .2em}
"""


def _number(value, sign: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:+.2f}" if sign else f"{value:.2f}"


def interval_table(rows: list[dict]) -> str:
    """Rows with each arm's mean and the paired difference (psviz.analysis.paired_rows) as an HTML table."""
    head = (f"<tr><th>unseen, %</th><th>{BASELINE}</th><th>{WITH_PS}</th><th>difference [95% CI]</th>"
            "<th>seeds PS ahead</th></tr>")
    body = "".join(
        f"<tr><td>{html.escape(metric_name(r['metric']))}</td><td>{_number(r[BASELINE])}</td>"
        f"<td>{_number(r[WITH_PS])}</td>"
        f"<td>{_number(r['difference'], True)} [{_number(r['ci_low'], True)}, {_number(r['ci_high'], True)}]</td>"
        f"<td>{r['ps_ahead']}/{r['n']}</td></tr>" for r in rows)
    return f"<table>{head}{body}</table>"


def single_table(rows: list[dict]) -> str:
    """One pair's rows (psviz.analysis.comparison_rows) as an HTML table."""
    head = f"<tr><th>unseen, %</th><th>{BASELINE}</th><th>{WITH_PS}</th><th>difference</th></tr>"
    body = "".join(f"<tr><td>{html.escape(metric_name(r['metric']))}</td><td>{_number(r[BASELINE])}</td>"
                   f"<td>{_number(r[WITH_PS])}</td><td>{_number(r['difference'], True)}</td></tr>" for r in rows)
    return f"<table>{head}{body}</table>"


def _paragraphs(lines: list[str], first_class: str = "verdict") -> str:
    return "".join(f"<p class='{first_class if i == 0 else 'note'}'>{html.escape(line)}</p>"
                   for i, line in enumerate(lines))


def figure_section(files: list[Path]) -> str:
    """Every figure in ``files`` that has a PNG (shown) and an HTML version (linked), in `FIGURE_NOTES` order, then
    the explorer's link."""
    names = {Path(f).name for f in files}
    parts = []
    for stem, (title, note) in FIGURE_NOTES.items():
        if f"{stem}.png" not in names and f"{stem}.html" not in names:
            continue
        picture = (f"<a href='{stem}.html'><img src='{stem}.png' alt='{html.escape(title)}'></a>"
                   if f"{stem}.png" in names else "")
        link = f" <a href='{stem}.html'>Interactive version</a>." if f"{stem}.html" in names else ""
        parts.append(f"<figure id='{stem}'><h3>{html.escape(title)}</h3>{picture}"
                     f"<figcaption>{html.escape(note)}{link}</figcaption></figure>")
    if "explorer.html" in names:
        title, note = EXPLORER_NOTE
        parts.append(f"<section id='explorer'><h3>{title}</h3><p>{html.escape(note)} "
                     f"<a href='explorer.html'>Open the explorer</a>.</p></section>")
    return "".join(parts)


def write_demo_page(output_dir: str | Path, *, toy_title: str, toy_rows: list[dict], toy_lines: list[str],
                    glyph_rows: list[dict], glyph_lines: list[str], stored_glyph_rows: list[dict] | None,
                    files: list[Path]) -> Path:
    """Write ``output_dir``/index.html: the toy verdict over seeds, the glyphs pair, and every figure in ``files``;
    every link is relative, so the folder opens offline and can be moved whole."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    stored = ("<p>The same setting over every stored seed:</p>" + interval_table(stored_glyph_rows)
              if stored_glyph_rows else "")
    figures = figure_section(files)
    body = (
        "<h1>psviz demo: Norm-SoftMax without and with Proxy Synthesis</h1>"
        "<p class='note'>Unseen classes are never trained on; every score below is retrieval among them. "
        "Numbers are percent, differences in points.</p>"
        f"<h2>1. The verdict over seeds</h2><p>{html.escape(toy_title)}.</p>{interval_table(toy_rows)}"
        f"{_paragraphs(toy_lines[1:])}"
        "<h2>2. One glyphs pair, for the pictures</h2>"
        f"{single_table(glyph_rows)}{_paragraphs(glyph_lines[1:], 'note')}{stored}"
        + (f"<h2>3. Figures</h2>{figures}" if figures else "<p class='note'>Figures were not drawn (--no-figures).</p>")
        + "<p class='note'>The effect map of docs/RESULTS.md (\"When PS helps\") shows where PS helps and hurts as the "
        "number of seen classes and synthetic classes per batch change.</p>")
    page = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>psviz demo</title>"
            f"<style>{_STYLE}</style></head><body>{body}</body></html>")
    path = output_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path


__all__ = ["EXPLORER_NOTE", "FIGURE_NOTES", "figure_section", "interval_table", "single_table", "write_demo_page"]
