"""Writing figures: plotly ones as self-contained HTML, matplotlib ones as PNG/SVG/PDF."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from plotly.basedatatypes import BaseFigure

STATIC = (".png", ".svg", ".pdf")


def save_figure(fig, path: str | Path, *, plotlyjs: str | bool = True, dpi: int = 110) -> Path:
    """Write ``fig`` to ``path`` (suffix picks the format) and return the path.

    Plotly figures go to .html; ``plotlyjs`` is passed to ``write_html``'s ``include_plotlyjs`` (True embeds
    plotly.js so the file works offline; "directory" shares one plotly.min.js between the files of a folder).
    Matplotlib figures go to .png, .svg or .pdf.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if isinstance(fig, BaseFigure):  # go.Figure and go.FigureWidget
        if suffix != ".html":
            raise ValueError(f"path: a plotly figure is written as .html, got {path.name!r} (for a static image, make "
                             f"the figure with backend='matplotlib')")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.write_html(path, include_plotlyjs=plotlyjs, full_html=True)
    elif isinstance(fig, Figure):
        if suffix not in STATIC:
            raise ValueError(f"path: a matplotlib figure is written as {', '.join(STATIC)}, got {path.name!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)
    else:
        raise ValueError(f"fig must be a plotly or matplotlib figure, got {type(fig).__name__}")
    return path


__all__ = ["save_figure"]
