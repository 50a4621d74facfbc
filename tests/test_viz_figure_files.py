"""save_figure: plotly figures as HTML, matplotlib figures as PNG/SVG/PDF, clear errors otherwise."""

import plotly.graph_objects as go
import pytest
import torch
from matplotlib.figure import Figure

from psviz import proxy_synthesis
from psviz.viz import save_figure, synthetic_embeddings


@pytest.fixture
def figures():
    result = proxy_synthesis(torch.randn(8, 2, generator=torch.Generator().manual_seed(0)),
                             torch.randn(2, 2, generator=torch.Generator().manual_seed(1)),
                             torch.tensor([0, 1] * 4), generator=torch.Generator().manual_seed(2))
    return {"plotly": synthetic_embeddings(result, lam_steps=3),
            "matplotlib": synthetic_embeddings(result, backend="matplotlib")}


def test_plotly_figure_is_written_as_self_contained_html(figures, tmp_path):
    path = save_figure(figures["plotly"], tmp_path / "new" / "folder" / "batch.html")
    assert path == tmp_path / "new" / "folder" / "batch.html" and path.is_file()
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith(("<!doctype html>", "<html")) and "</html>" in text
    assert "synthetic embedding" in text and "Plotly.newPlot" in text
    assert len(text) > 1_000_000  # plotly.js embedded: the file works offline
    small = save_figure(figures["plotly"], str(tmp_path / "cdn.HTML"), plotlyjs="cdn")
    assert small.is_file() and small.stat().st_size < 200_000 and "cdn.plot.ly" in small.read_text(encoding="utf-8")


def test_figure_widget_is_written_as_html(figures, tmp_path):
    pytest.importorskip("anywidget")
    widget = go.FigureWidget(figures["plotly"])
    path = save_figure(widget, tmp_path / "widget.html", plotlyjs="cdn")
    assert "synthetic embedding" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG\r\n\x1a\n"), (".PNG", b"\x89PNG\r\n\x1a\n"),
                                           (".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_matplotlib_figure_is_written_as_an_image(figures, tmp_path, suffix, magic):
    path = save_figure(figures["matplotlib"], tmp_path / "out" / f"batch{suffix}")
    assert path.is_file() and path.read_bytes().startswith(magic)


def test_dpi_sets_the_png_size(tmp_path):
    fig = Figure(figsize=(2, 1))
    fig.add_subplot().plot([0, 1], [1, 0])
    small, large = save_figure(fig, tmp_path / "a.png", dpi=50), save_figure(fig, tmp_path / "b.png", dpi=100)
    width = lambda p: int.from_bytes(p.read_bytes()[16:20], "big")  # noqa: E731  (IHDR width)
    assert (width(small), width(large)) == (100, 200)


@pytest.mark.parametrize("name", ["batch.png", "batch.svg", "batch", "batch.htm"])
def test_plotly_figure_to_a_static_file_is_a_clear_error(figures, tmp_path, name):
    with pytest.raises(ValueError, match=r"\.html.*backend='matplotlib'"):
        save_figure(figures["plotly"], tmp_path / name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("name", ["batch.html", "batch.jpg", "batch"])
def test_matplotlib_figure_to_an_unknown_type_is_a_clear_error(figures, tmp_path, name):
    with pytest.raises(ValueError, match=r"\.png, \.svg, \.pdf"):
        save_figure(figures["matplotlib"], tmp_path / name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("thing", [{"data": []}, "figure", None])
def test_something_that_is_not_a_figure_is_a_clear_error(tmp_path, thing):
    with pytest.raises(ValueError, match="plotly or matplotlib figure"):
        save_figure(thing, tmp_path / "x.html")
