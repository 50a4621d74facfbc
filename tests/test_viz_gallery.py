"""Retrieval galleries of unseen digits embedded by two small real runs (conftest's ``digits_runs``)."""

import re

import numpy as np
import plotly.graph_objects as go
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure

import psviz.data as datasets
import psviz.train as train
from psviz.evaluate import nearest_neighbours
from psviz.viz.gallery import MATCH_COLOUR, MISS_COLOUR, retrieval_gallery

NAMES = ("baseline", "with PS")


@pytest.fixture(scope="module")
def dataset():
    return datasets.load("digits", "unseen")


@pytest.fixture(scope="module")
def embeddings(digits_runs):
    assert tuple(digits_runs) == NAMES
    return {name: train.export_embeddings(run, "unseen").embeddings for name, run in digits_runs.items()}


def _expected_colours(dataset, embeddings, k):
    """{(run, query, position): frame colour} from the neighbours `nearest_neighbours` finds."""
    labels = dataset.targets.numpy()
    out = {}
    for name, values in embeddings.items():
        _, idx = nearest_neighbours(values, k)
        for q in range(len(labels)):
            for j, item in enumerate(idx[q], start=1):
                out[(name, q, j)] = MATCH_COLOUR if labels[item] == labels[q] else MISS_COLOUR
    return out


def _frames(fig):
    """(run, query, position) -> colour of each neighbour frame, and the (run, query) rows in order."""
    frames, rows = {}, []
    for shape in fig.layout.shapes:
        run, query, role = shape.name.split(" · ")
        q = int(query.split()[1])
        if role == "query":
            rows.append((run, q))
        else:
            frames[(run, q, int(role.split()[1]))] = shape.line.color
    return frames, rows


def test_plotly_gallery_frames_follow_the_neighbours_labels(dataset, embeddings):
    k = 4
    fig = retrieval_gallery(dataset, embeddings, queries=3, k=k, seed=1)
    assert isinstance(fig, go.Figure)
    assert len(fig.data) == 3 * len(NAMES) * (k + 1) and all(isinstance(t, go.Image) for t in fig.data)
    frames, rows = _frames(fig)
    assert len(frames) == 3 * len(NAMES) * k
    expected = _expected_colours(dataset, embeddings, k)
    assert frames == {key: expected[key] for key in frames}
    queries = [q for _, q in rows]
    assert [run for run, _ in rows] == list(NAMES) * 3  # every query shows every run, one row each
    assert queries[::2] == queries[1::2] and len(set(queries)) == 3
    again, _ = _frames(retrieval_gallery(dataset, embeddings, queries=3, k=k, seed=1))
    assert again == frames  # seeded: the same queries
    assert fig.layout.yaxis.title.text.startswith(f"baseline<br>query {queries[0]} "
                                                  f"({dataset.class_names[dataset.targets[queries[0]]]})")


def test_explicit_queries_and_pixels(dataset, embeddings):
    fig = retrieval_gallery(dataset, embeddings, queries=[7, 100], k=2)
    _, rows = _frames(fig)
    assert rows == [("baseline", 7), ("with PS", 7), ("baseline", 100), ("with PS", 100)]
    pixels = np.round(dataset.load_item(100).numpy().reshape(8, 8) * 255)
    query_image = np.array(fig.data[2 * 3].z)  # third row, first column
    assert query_image.shape == (8, 8, 3)
    assert (query_image == pixels[..., None]).all()
    hover = fig.data[2 * 3 + 1].hovertemplate
    _, idx = nearest_neighbours(embeddings["baseline"], 2)
    assert int(re.search(r"item (\d+)", hover).group(1)) == idx[100, 0]
    as_images = datasets.load("digits", "unseen", as_images=True)  # [1, 8, 8] items draw the same
    same = retrieval_gallery(as_images, embeddings, queries=[7, 100], k=2)
    assert all(np.array_equal(a.z, b.z) for a, b in zip(fig.data, same.data))


def test_matplotlib_gallery(dataset, embeddings):
    k = 3
    fig = retrieval_gallery(dataset, embeddings, queries=[5, 40], k=k, backend="matplotlib")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2 * len(NAMES) * (k + 1)
    assert all(len(ax.images) == 1 for ax in fig.axes)
    expected = _expected_colours(dataset, embeddings, k)
    grid = np.array(fig.axes).reshape(-1, k + 1)
    for row, (q, name) in zip(grid, [(q, n) for q in (5, 40) for n in NAMES]):
        assert row[0].images[0].get_label() == f"{name} · query"
        assert row[0].get_ylabel().startswith(f"{name}\n#{q}\n")
        for j, ax in enumerate(row[1:], start=1):
            assert to_hex(ax.spines["top"].get_edgecolor()).upper() == expected[(name, q, j)].upper()


@pytest.mark.parametrize("call, message", [
    (lambda d, e: retrieval_gallery("digits", e), "dataset"),
    (lambda d, e: retrieval_gallery(d, {}), "embeddings"),
    (lambda d, e: retrieval_gallery(d, {"baseline": e["baseline"][:-1]}), "embeddings\\['baseline'\\]"),
    (lambda d, e: retrieval_gallery(d, e, k=len(d)), "k must"),
    (lambda d, e: retrieval_gallery(d, e, k=0), "k must"),
    (lambda d, e: retrieval_gallery(d, e, queries=[0, len(d)]), "queries"),
    (lambda d, e: retrieval_gallery(d, e, queries=0), "queries"),
    (lambda d, e: retrieval_gallery(d, e, queries=[]), "queries"),
    (lambda d, e: retrieval_gallery(d, e, backend="bokeh"), "backend"),
])
def test_bad_input_raises(dataset, embeddings, call, message):
    with pytest.raises(ValueError, match=message):
        call(dataset, embeddings)


def test_non_image_items_raise():
    toy = datasets.load("toy", "unseen")
    with pytest.raises(ValueError, match="images"):
        retrieval_gallery(toy, {"run": np.random.default_rng(0).normal(size=(len(toy), 4))}, queries=1, k=1)
