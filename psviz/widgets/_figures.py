"""Figures for FigureWidgets: NaN becomes None before it reaches the browser, and a redraw is a fresh widget.

A FigureWidget sends numeric 1-D arrays to JupyterLab as binary buffers, but lists and 2-D arrays as JSON, and JSON
has no NaN: jupyter-client warns ("Out of range float values are not JSON compliant") and sends text the browser's
JSON parser rejects, so such a figure (a partly run heatmap, whose empty cells are NaN) never draws. plotly reads
None as the same gap NaN would be.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go


def _json_safe(value):
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            return np.where(np.isfinite(value), value, None).tolist()
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def json_safe(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` with every NaN or infinity in its traces replaced by None."""
    return go.Figure(data=[_json_safe(trace.to_plotly_json()) for trace in fig.data], layout=fig.layout)


def figure_widget(fig: go.Figure) -> go.FigureWidget:
    """A FigureWidget of ``fig`` that the browser can draw."""
    return go.FigureWidget(json_safe(fig))


def placeholder(message: str) -> go.Figure:
    """An empty figure with a message in its middle (a tab before anything is trained)."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=dict(size=14))
    fig.update_layout(template="plotly_white", height=360, xaxis_visible=False, yaxis_visible=False)
    return fig


class FigureSlot:
    """A place in a layout that shows one FigureWidget; `show` puts a new figure there.

    Redrawing a FigureWidget in place (clear it, add traces, set a new layout) left stale layout in JupyterLab, an
    old title or a placeholder's note, as the frontend's relayout and update raced; a fresh widget draws exactly the
    figure Python holds. Small in-place changes (`set_lambda`) still go to ``figure``.
    """

    def __init__(self, fig: go.Figure):
        self.figure = figure_widget(fig)
        # a block box: the figure's div takes the box's width, so a figure without a fixed width (autosize) fits
        # its notebook column or its half of an HBox, instead of plotly's 700 px default
        self.widget = widgets.Box([self.figure], layout=widgets.Layout(display="block", width="100%"))

    def show(self, fig: go.Figure) -> go.FigureWidget:
        old, self.figure = self.figure, figure_widget(fig)
        self.widget.children = (self.figure,)
        old.close()
        return self.figure


__all__ = ["FigureSlot", "figure_widget", "json_safe", "placeholder"]
