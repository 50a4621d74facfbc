"""One visual language for every psviz figure: a colour per class, and a mark per kind of point.

Seen classes are filled circles, unseen classes hollow circles, proxies diamonds, synthetic embeddings crosses and
synthetic proxies stars; legend entries use the names in ``MARKS`` so a reader can always tell which is which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colors as mcolors

from ..base.names import BASELINE, WITH_PS

BACKENDS = ("plotly", "matplotlib")

# Plotly's Dark24 then Light24 orders: distinct neighbours first, repeated once the classes outnumber them. Dark24's
# near-black is left out: it reads as the dark grey of synthetic points.
_PALETTE = (
    "#2E91E5", "#E15F99", "#1CA71C", "#FB0D0D", "#DA16FF", "#B68100", "#750D86", "#EB663B", "#511CFB",
    "#00A08B", "#FB00D1", "#FC0080", "#B2828D", "#6C7C32", "#778AAE", "#862A16", "#A777F1", "#620042", "#1616A7",
    "#DA60CA", "#6C4516", "#0D2A63", "#AF0038", "#FD3216", "#00FE35", "#6A76FC", "#FED4C4", "#FE00CE", "#0DF9FF",
    "#F6F926", "#FF9616", "#479B55", "#EEA6FB", "#DC587D", "#D626FF", "#6E899C", "#00B5F7", "#B68E00", "#C9FBE5",
    "#FF0092", "#22FFA7", "#E3EE9E", "#86CE00", "#BC7196", "#7E7DCD", "#FC6955", "#E48F72",
)
PALETTE = _PALETTE  # the class colours in order (class_colour picks from it); the explorer's page uses it too
SYNTHETIC_COLOUR = "#6E6E6E"
LINK_COLOUR = "rgba(90, 90, 90, 0.45)"


@dataclass(frozen=True)
class Mark:
    """How one kind of point is drawn in each backend, and its legend name."""

    name: str
    plotly_symbol: str
    mpl_marker: str
    filled: bool
    size: float
    plotly_symbol_3d: str  # Scatter3d knows only a few symbols, and its "x" needs a font many machines lack
    opacity: float = 1.0


# Synthetic points are many, and secondary: small, light and translucent, drawn under the real points and proxies.
MARKS = {
    "seen": Mark("seen-class embedding", "circle", "o", True, 6, "circle"),
    "unseen": Mark("unseen-class embedding", "circle-open", "o", False, 7, "circle-open"),
    "proxy": Mark("proxy", "diamond", "D", True, 11, "diamond"),
    "synthetic": Mark("synthetic embedding", "x-thin", "x", False, 7, "cross", 0.6),
    "synthetic_proxy": Mark("synthetic proxy", "star-open", "*", False, 10, "square-open", 0.6),
}


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    return backend


def class_colour(label: int, split: str = "seen", n_seen: int = 0) -> str:
    """The colour of one class: seen label i takes palette[i], unseen label j takes palette[n_seen + j]."""
    index = int(label) + (n_seen if split == "unseen" else 0)
    return _PALETTE[index % len(_PALETTE)]


def class_colours(labels, split: str = "seen", n_seen: int = 0) -> list[str]:
    """`class_colour` for each label of an array or tensor."""
    return [class_colour(int(label), split, n_seen) for label in np.asarray(labels).reshape(-1)]


# The two arms of every comparison keep one colour in every figure (other run names take the class palette).
ARM_COLOURS = {BASELINE: "#5C5C5C", WITH_PS: "#2E91E5"}


def arm_colour(name: str, index: int = 0) -> str:
    """The colour of a compared run: grey for `BASELINE`, blue for `WITH_PS`, else the palette by position."""
    return ARM_COLOURS.get(str(name), _PALETTE[index % len(_PALETTE)])


def css_rgb(rgb) -> list[str]:
    """CSS rgb() strings of RGB floats in [0, 1] (shape [..., 3], flattened to one string per colour)."""
    values = np.rint(255 * np.asarray(rgb, float).reshape(-1, 3)).astype(int)
    return [f"rgb({r},{g},{b})" for r, g, b in values]


def rgba(colour: str, alpha: float) -> str:
    """A CSS rgba() string of ``colour`` with opacity ``alpha`` (plotly's fills and region shading)."""
    r, g, b, _ = mcolors.to_rgba(colour)
    return f"rgba({round(255 * r)}, {round(255 * g)}, {round(255 * b)}, {alpha:g})"


# ---- plotly titles -------------------------------------------------------------------------------------------------
# A figure's title and subtitle sit at its top; the panel titles (make_subplots' annotations, anchored at the top of
# the plot area) sit under them. Plotly does not make room for either by itself, so the top margin is worked out from
# these sizes: nothing overlaps at any width.
TITLE_SIZE, SUBTITLE_SIZE, PANEL_TITLE_SIZE = 17, 12, 16  # font sizes, px
LINE_SPACING = 1.3  # plotly.js's line height, a multiple of the font size
TITLE_TOP, TITLE_GAP = 10, 12  # px above the title; px between the subtitle and the panel titles


def text_lines(text: str) -> int:
    """How many lines plotly draws ``text`` on (one per <br>)."""
    return str(text or "").count("<br>") + 1


def title_height(subtitle: str | None) -> float:
    """px from the figure's top to the bottom of its title and subtitle, as `lay_out_titles` places them."""
    lines = text_lines(subtitle) if subtitle else 0
    # plotly.js leaves about 16 px between a title's line and its subtitle's (measured in Chromium)
    return TITLE_TOP + LINE_SPACING * TITLE_SIZE + (16 + lines * LINE_SPACING * SUBTITLE_SIZE if lines else 0)


def panel_titles(fig) -> list:
    """The panel titles of a make_subplots figure: annotations anchored on the top edge of a subplot."""
    return [a for a in fig.layout.annotations
            if a.yref == "paper" and a.yanchor == "bottom" and a.showarrow is False and a.y is not None
            and a.y >= 0.99]


def lay_out_titles(fig, title: str, subtitle: str | None = None) -> None:
    """Put ``title`` and ``subtitle`` at the top left of ``fig`` and give it a top margin that holds them and,
    under them, the panel titles, so none overlaps another at any width (a notebook column or a wide screen)."""
    panels = panel_titles(fig)
    for annotation in panels:
        annotation.font.size = PANEL_TITLE_SIZE
    lines = max((text_lines(a.text) for a in panels), default=0)
    top = title_height(subtitle) + TITLE_GAP + lines * LINE_SPACING * PANEL_TITLE_SIZE + 4
    fig.update_layout(
        title=dict(text=title, font=dict(size=TITLE_SIZE), x=0, xref="paper", xanchor="left", y=1, yref="container",
                   yanchor="top", pad=dict(t=TITLE_TOP, b=0, l=0, r=0),
                   subtitle=dict(text=subtitle or "", font=dict(size=SUBTITLE_SIZE))),
        margin=dict(t=int(np.ceil(top))))


__all__ = ["ARM_COLOURS", "PALETTE", "BACKENDS", "LINK_COLOUR", "arm_colour", "MARKS", "Mark", "SYNTHETIC_COLOUR", "check_backend", "class_colour", "css_rgb",
           "class_colours", "lay_out_titles", "panel_titles", "rgba", "text_lines", "title_height"]
