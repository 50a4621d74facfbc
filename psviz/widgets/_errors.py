"""Errors raised inside a widget callback go to the panel, where the reader sees them, not to a lost log."""

from __future__ import annotations

import html
import traceback

import ipywidgets as widgets


class ErrorBox:
    """An HTML widget that shows the last error (message first, traceback folded) and is empty otherwise."""

    def __init__(self):
        self.widget = widgets.HTML(value="")
        self.last: BaseException | None = None

    def show(self, error: BaseException) -> None:
        self.last = error
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.widget.value = (f"<div style='color:#b00020'><b>{html.escape(type(error).__name__)}:</b> "
                             f"{html.escape(str(error))}<details><summary>traceback</summary>"
                             f"<pre style='font-size:11px'>{html.escape(trace)}</pre></details></div>")

    def clear(self) -> None:
        self.last = None
        self.widget.value = ""

    def guard(self, function, *args, **kwargs):
        """Run ``function``; show an exception here instead of letting it vanish inside the widget callback."""
        try:
            result = function(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - everything a callback raises belongs in the panel
            self.show(error)
            return None
        return result

