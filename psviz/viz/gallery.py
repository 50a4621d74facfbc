"""What retrieval returns: each query with its k nearest neighbours, one row per run, so baseline and PS line up.

A neighbour is framed green when its class is the query's and red when it is not.
"""

from __future__ import annotations

import plotly.graph_objects as go
from matplotlib.figure import Figure
from plotly.subplots import make_subplots

from ..analysis.gallery import item_pixels, retrieval_rows
from .style import check_backend

MATCH_COLOUR = "#1CA71C"
MISS_COLOUR = "#FB0D0D"
QUERY_COLOUR = "#222A2A"


def retrieval_gallery(dataset, embeddings: dict, *, queries=5, k: int = 5, seed: int = 0, backend: str = "plotly"):
    """Each query then its ``k`` nearest neighbours (cosine, query excluded), one row per run for the same queries.

    ``queries``: a count (seeded random choice) or a list of item indices; ``embeddings`` maps run names to [N, d]
    tensors aligned with ``dataset``. Neighbours are framed green (same class as the query) or red.
    """
    check_backend(backend)
    rows = retrieval_rows(dataset, embeddings, queries=queries, k=k, seed=seed)
    k = int(k)
    wanted = {i for row in rows for i in [row["query"], *row["neighbours"]]}
    images = {i: item_pixels(dataset.load_item(i)) for i in sorted(wanted)}
    names = dataset.class_names
    if backend == "matplotlib":
        return _gallery_matplotlib(rows, images, names, k)
    return _gallery_plotly(rows, images, names, k)


def _row_title(row: dict, names: list[str]) -> str:
    return f"{row['run']} · query {row['query']} ({names[row['label']]})"


def _column_titles(k: int) -> list[str]:
    return ["query"] + [f"#{j}" for j in range(1, k + 1)]


def _gallery_plotly(rows: list[dict], images: dict, names: list[str], k: int) -> go.Figure:
    n_rows, n_cols = len(rows), k + 1
    fig = make_subplots(rows=n_rows, cols=n_cols, column_titles=_column_titles(k), horizontal_spacing=0.01,
                        vertical_spacing=min(0.02, 0.3 / max(n_rows - 1, 1)))
    for r, row in enumerate(rows, start=1):
        cells = [(row["query"], row["label"], None, None)] + list(
            zip(row["neighbours"], row["labels"], row["similarities"], row["matches"]))
        for c, (item, label, similarity, match) in enumerate(cells, start=1):
            role = "query" if match is None else f"neighbour {c - 1}"
            hover = f"{row['run']} · {role}<br>item {item}, class {names[label]}"
            if similarity is not None:
                hover += f"<br>cosine {similarity:.3f}"
            fig.add_trace(go.Image(z=images[item], name=f"{row['run']} · {role}",
                                   hovertemplate=hover + "<extra></extra>"), row=r, col=c)
            axis = fig.get_subplot(r, c)
            colour = QUERY_COLOUR if match is None else (MATCH_COLOUR if match else MISS_COLOUR)
            fig.add_shape(type="rect", xref=f"{axis.xaxis.plotly_name.replace('axis', '')} domain",
                          yref=f"{axis.yaxis.plotly_name.replace('axis', '')} domain", x0=0, x1=1, y0=0, y1=1,
                          line=dict(color=colour, width=2 if match is None else 4),
                          name=f"{row['run']} · query {row['query']} · {role}")
        fig.update_yaxes(title=dict(text=_row_title(row, names).replace(" · query", "<br>query"), font_size=10),
                         row=r, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_layout(title=f"{k} nearest neighbours (green: same class as the query, red: another class)",
                      template="plotly_white", width=120 + 95 * n_cols, height=90 + 95 * n_rows,
                      margin=dict(l=130, r=20, t=80, b=20))
    return fig


def _gallery_matplotlib(rows: list[dict], images: dict, names: list[str], k: int) -> Figure:
    n_rows, n_cols = len(rows), k + 1
    fig = Figure(figsize=(1.2 * n_cols + 1.6, 1.2 * n_rows + 0.6), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for ax_row, row in zip(axes, rows):
        cells = [(row["query"], row["label"], None)] + list(zip(row["neighbours"], row["labels"], row["matches"]))
        for c, (ax, (item, label, match)) in enumerate(zip(ax_row, cells)):
            role = "query" if match is None else f"neighbour {c}"
            ax.imshow(images[item], label=f"{row['run']} · {role}")
            ax.set_xticks([])
            ax.set_yticks([])
            colour = QUERY_COLOUR if match is None else (MATCH_COLOUR if match else MISS_COLOUR)
            for spine in ax.spines.values():
                spine.set(color=colour, linewidth=1.5 if match is None else 3)
            if match is not None:
                ax.set_xlabel(names[label], fontsize=7, color=colour)
        ax_row[0].set_ylabel(f"{row['run']}\n#{row['query']}\n{names[row['label']]}", fontsize=7,
                             rotation=0, ha="right", va="center")
    for ax, title in zip(axes[0], _column_titles(k)):
        ax.set_title(title, fontsize=9)
    fig.suptitle(f"{k} nearest neighbours (green: same class as the query, red: another class)", fontsize=10)
    return fig


__all__ = ["MATCH_COLOUR", "MISS_COLOUR", "retrieval_gallery"]
