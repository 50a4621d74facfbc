"""Keeps a widget change from redrawing the Playground's figures: plotly.js skips a relayout to a figure's own size
(`resize_guard.js` says why)."""

from __future__ import annotations

from importlib import resources

from panel.custom import JSComponent


class ResizeGuard(JSComponent):
    """An empty element that, once drawn, installs `resize_guard.js` in its page (one a page is enough)."""

    _esm = resources.files(__package__).joinpath("resize_guard.js").read_text()


__all__ = ["ResizeGuard"]
