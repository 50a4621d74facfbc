"""The explorer widget for JupyterLab (anywidget): the page's state, readable and settable from Python."""

from __future__ import annotations

from pathlib import Path

import anywidget
import numpy as np
import traitlets

from ...analysis.explorer_data import ExplorerData
from ...base.files import atomic_write_text
from .page import HERE, SIZE_LIMIT_MB, module_source, payload, standalone_html


class Explorer(anywidget.AnyWidget):
    """Linked maps of the same items for each run. ``selection`` holds the items a box or lasso picked (indices into
    `items`), ``focus`` the class filter ("split:label"), ``clicked`` the item whose neighbours are shown; each can be
    set from Python too. `selected` reads the selection as a table; `save` writes an offline HTML file."""

    _esm = module_source()
    _css = HERE / "explorer.css"
    data = traitlets.Dict().tag(sync=True)
    selection = traitlets.List(traitlets.Int()).tag(sync=True)
    focus = traitlets.Unicode("").tag(sync=True)
    clicked = traitlets.Int(-1).tag(sync=True)

    def __init__(self, explorer_data: ExplorerData, **kwargs):
        super().__init__(data=payload(explorer_data), **kwargs)
        self.explorer_data = explorer_data
        self._table = None  # the items table, built on first use (the data do not change)

    def _item_table(self):
        if self._table is None:
            import pandas as pd

            d = self.explorer_data
            table = pd.DataFrame({"split": d.splits.astype(str), "label": d.labels,
                                  "class": [d.class_of(i) for i in range(len(d))], "split_index": d.items})
            for name in d.runs:
                table[f"{name} x"], table[f"{name} y"] = d.maps[name][:, 0], d.maps[name][:, 1]
            table.index.name = "item"
            self._table = table
        return self._table

    @property
    def items(self):
        """Every item as a row (a pandas DataFrame, a copy): split, label, class, its index in the split, and each
        run's x and y."""
        return self._item_table().copy()

    @property
    def selected(self):
        """The selected items' rows of `items` (empty when nothing is selected)."""
        return self._item_table().iloc[np.asarray(self.selection, dtype=np.int64)]

    def select_class(self, name: str, split: str = "unseen") -> None:
        """Show one class (by name) and its nearest neighbours, as the page's filter does."""
        names = self.explorer_data.class_names.get(split, [])
        if name not in names:
            raise ValueError(f"no {split} class named {name!r}; {split} classes include {names[:5]}")
        self.focus = f"{split}:{names.index(name)}"

    def neighbours(self, item: int) -> dict:
        """{run: [K nearest items]} of one item, as the page shows them on a click."""
        d = self.explorer_data
        if not 0 <= int(item) < len(d):
            raise ValueError(f"item must be in [0, {len(d)}), got {item}")
        return {name: d.neighbours[name][int(item)].tolist() for name in d.runs}

    def save(self, path: str | Path) -> Path:
        """Write the explorer as one HTML file that opens offline, with its thumbnails, hover, selection and
        neighbours (no kernel: changes there do not come back to Python)."""
        path = Path(path)
        text = standalone_html(self.data, self.explorer_data.title or "psviz explorer")
        size = len(text.encode()) / 1e6
        if size > SIZE_LIMIT_MB:
            print(f"note: {path.name} is {size:.0f} MB, above the {SIZE_LIMIT_MB} MB the page was measured at; "
                  f"browsers may take long to open it (fewer items: max_classes)")
        atomic_write_text(path, text)
        return path


__all__ = ["Explorer"]
