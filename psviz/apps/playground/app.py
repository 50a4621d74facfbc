"""One browser tab's Playground: the controls, the three live figures and the numbers, assembled with Panel, and the
`Player` that trains a baseline and a PS run behind them.

Each tab (Bokeh session) gets its own `Playground`, its own runs and its own training thread. The thread hands each
epoch's `Snapshot` to `show`, which prepares new figures there and patches the live ones on the tab's event loop, so
controls answer while a run trains. Settings live in the URL: the page opens with its query string's lesson, and
every change writes the query string back.
"""

from __future__ import annotations

import html
import logging
import threading
import time
from importlib import resources
from io import StringIO

import panel as pn
from bokeh.core.properties import validate
from panel.io.state import set_curdoc

from ... import data as datasets
from .batch import chosen_synthetic, chosen_text, synthetic_figure, synthetic_patch
from .controls import THROTTLED, Controls, rho_html
from .lessons import LESSONS, lesson
from .resize_guard import ResizeGuard
from .session import Pair, Player, Snapshot
from .state import SettingsError, config_yaml, parse_query, query_string
from .views import curves_figure, curves_patch, curves_table, landscape_figure, landscape_patch, structure

LOG = logging.getLogger("psviz.apps.playground")
TITLE = "Proxy Synthesis Playground"
DRAW_TIMEOUT_S = 5.0  # how long a training thread waits for its tab to draw an epoch (a closed tab never does)
NOTE_LANDSCAPE = ("Colour: the seen class the loss picks there; pale: the loss is unsure. Filled dots: seen items; "
                  "rings: unseen items (drawn on top); diamonds: proxies.")
STYLE = """
.pg-label { font-size: 13px; color: #444; }
.pg-section { margin: 6px 0 0 0; font-size: 15px; }
.pg-rho { font-size: 12px; color: #555; }
.pg-epoch { font-size: 18px; font-weight: 600; }
.pg-note { background: #fff4e5; border: 1px solid #f0b35b; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
.pg-chosen { font-size: 13px; }
.pg-lesson { background: #eef5fc; border: 1px solid #8db8e3; padding: 6px 10px; border-radius: 4px; font-size: 13px; }
table.measures { border-collapse: collapse; font-size: 12px; }
table.measures td, table.measures th { padding: 2px 8px; text-align: right; }
table.measures td:first-child, table.measures th:first-child { text-align: left; }
"""
pn.extension("plotly", raw_css=[STYLE])


def _plotly(fig, name: str) -> pn.pane.Plotly:
    # link_figure off: the figures are patched in place and Panel told once, after all of a redraw's changes
    return pn.pane.Plotly(fig, link_figure=False, sizing_mode="stretch_width", css_classes=[f"pg-{name}"],
                          config={"displaylogo": False, "responsive": True}, margin=(0, 5))


def epoch_html(snapshot_or_settings, epoch: int | None = None, note: str = "") -> str:
    settings = getattr(snapshot_or_settings, "settings", snapshot_or_settings)
    epoch = snapshot_or_settings.epoch if epoch is None else epoch
    return (f"<span class='pg-epoch' data-epoch='{epoch}'>epoch {epoch} / {settings.epochs}</span>"
            + (f" <span class='pg-label'>{html.escape(note)}</span>" if note else ""))


# Runs in the browser when a redraw's number arrives with it: once that redraw is on screen (the next frame), the
# number goes back, and the server sends no other redraw until then, so a slow browser never falls behind (queued
# redraws would hold up the reader's clicks) and every epoch is seen.
DRAWN_JS = "requestAnimationFrame(() => setTimeout(() => { if (ack.value < cb_obj.value) ack.value = cb_obj.value; }, 0));"
ACK_TIMEOUT_S = 1.0  # a tab that does not report (hidden, throttled) gets the next epoch after this long


def ignored_html(ignored: list[str]) -> str:
    """The note a link with bad keys or values opens with: what was ignored (the defaults took its place)."""
    items = "".join(f"<li>{html.escape(item)}</li>" for item in ignored)
    return (f"<div class='pg-note'><b>This link asked for settings the Playground does not have; it opened with the "
            f"defaults in their place.</b> Ignored:<ul style='margin:2px 0'>{items}</ul></div>")


def lesson_html(number: int) -> str:
    """What lesson ``number`` asks the reader to look for, and what the effect map found there."""
    taught = lesson(number)
    return (f"<div class='pg-lesson'><b>Lesson {number} of {len(LESSONS)}: {html.escape(taught.title)}.</b> "
            f"{html.escape(taught.look_for)} <span class='pg-label'>One seed here is one draw; the map's numbers are "
            f"over 10 seeds.</span></div>")


class Playground:
    """The app of one tab, opened with the settings of ``query`` (a URL's query keys)."""

    def __init__(self, query: dict, location=None, trainer=None):
        settings, ignored = parse_query(query)
        self.settings, self.location, self.chosen = settings, location, None
        self._quiet, self._closed, self._sizes = False, threading.Event(), {}
        self._replaced = None  # the `Snapshot.run` a restart replaces, until the new runs are drawn
        # the live figures are patched on the training thread and read by Panel on the event loop: one at a time
        self._figures = threading.Lock()
        self.controls = Controls(settings)
        make = Pair if trainer is None else trainer.pair  # the server trains in a process of its own (worker)
        pair = make(settings)
        self.snapshot = pair.snapshot()
        self.panes = {"landscape": _plotly(landscape_figure(self.snapshot), "landscape"),
                      "synthetic": _plotly(synthetic_figure(self.snapshot), "synthetic"),
                      "curves": _plotly(curves_figure(self.snapshot), "curves")}
        self._structure = structure(self.snapshot)
        self.epoch = pn.pane.HTML(epoch_html(self.snapshot), margin=(12, 10))
        # the number of the last redraw sent (drawn) and of the last one the browser has drawn (ack)
        self.drawn, self.ack = pn.widgets.IntInput(value=0, visible=False), pn.widgets.IntInput(value=0, visible=False)
        self._acked = threading.Condition()
        self.drawn.jscallback(args={"ack": self.ack}, value=DRAWN_JS)
        self.note = pn.pane.HTML(ignored_html(ignored) if ignored else "", visible=bool(ignored),
                                 sizing_mode="stretch_width", css_classes=["pg-notes"])
        self.lesson = pn.pane.HTML(lesson_html(settings.lesson) if settings.lesson else "",
                                   visible=bool(settings.lesson), sizing_mode="stretch_width",
                                   css_classes=["pg-lessons"])
        self.chosen_info = pn.pane.HTML(self._chosen_html(), sizing_mode="stretch_width", margin=(0, 10))
        self.curves_now = pn.pane.HTML(curves_table(self.snapshot), margin=(0, 10))
        self._wire()
        self.doc = pn.state.curdoc
        self.player = Player(pair, self.show, report=self.report, make=make)
        pn.state.onload(self._write_url)  # once the browser's own location has reached the server

    # ---- layout -----------------------------------------------------------------------------------------------
    def layout(self) -> pn.Column:
        buttons = self.controls.buttons
        yaml = pn.widgets.FileDownload(callback=self._yaml, filename="playground.yaml", label="config YAML",
                                       width=120, css_classes=["pg-yaml"])
        png = pn.widgets.Button(name="figures PNG", width=110, css_classes=["pg-png"])
        png.js_on_click(code=resources.files(__package__).joinpath("export_png.js").read_text())
        header = pn.Row(pn.pane.HTML(f"<h2 style='margin:8px 10px'>{TITLE}</h2>"), *buttons.values(), self.epoch,
                        pn.layout.HSpacer(), png, yaml, sizing_mode="stretch_width")
        landscape = pn.Column(self.panes["landscape"],
                              pn.pane.HTML(f"<span class='pg-label'>{NOTE_LANDSCAPE}</span>", margin=(0, 10)),
                              sizing_mode="stretch_width")
        below = pn.Row(pn.Column(self.chosen_info, self.panes["synthetic"], sizing_mode="stretch_width"),
                       pn.Column(self.panes["curves"], self.curves_now, sizing_mode="stretch_width"),
                       sizing_mode="stretch_width")
        main = pn.Column(landscape, below, sizing_mode="stretch_width")
        return pn.Column(header, self.lesson, self.note,
                         pn.Row(self.controls.sidebar(), main, sizing_mode="stretch_width"),
                         self.drawn, self.ack, ResizeGuard(width=0, height=0, margin=0), sizing_mode="stretch_width")

    def _wire(self) -> None:
        buttons = self.controls.buttons
        buttons["play"].on_click(lambda _: self._press("play"))
        buttons["pause"].on_click(lambda _: self._press("pause"))
        buttons["step"].on_click(lambda _: self._press("step"))
        buttons["reset"].on_click(lambda _: self._press("reset"))
        for key, widget in self.controls.widgets.items():
            name = "value_throttled" if key in THROTTLED else "value"
            widget.param.watch(lambda event, key=key: self._changed(key, event.new), name)
        # μ's line says ρ while the slider moves; the runs restart when it is let go
        self.controls.widgets["mu"].param.watch(lambda event: self._rho(event.new), "value")
        self.panes["synthetic"].param.watch(self._clicked, "click_data")
        for name, pane in self.panes.items():
            pane.param.watch(lambda event, name=name: self._sized(name, event.new), "relayout_data")
        self.ack.param.watch(self._on_ack, "value")

    # ---- the reader's actions (on the tab's event loop) --------------------------------------------------------
    def _press(self, button: str) -> None:
        if button == "play":
            self.player.play()
            self.controls.playing(True, False)
        elif button == "pause":
            self.player.pause()
            self.controls.playing(False, self.snapshot.done)
        elif button == "step":
            self.player.step()
            self.controls.playing(False, self.snapshot.done)
        else:
            self.player.reset(self.settings, fresh=True)
            self._restarting()

    def _rho(self, mu: float) -> None:
        try:
            self.controls.rho.object = rho_html(self.settings.changed(mu=mu))
        except SettingsError:
            pass

    def _changed(self, key: str, value) -> None:
        if self._quiet or value is None:
            return
        try:
            settings = (self.settings.with_classes(value) if key == "classes"
                        else self.settings.changed(**{key: value}))
        except SettingsError as error:
            self._show_note(str(error))
            return
        if settings == self.settings:
            return
        restart = settings.changed(epochs=self.settings.epochs) != self.settings
        self.settings = settings
        self._quiet = True
        try:
            self.controls.show(settings)
        finally:
            self._quiet = False
        self._write_url()
        self.player.reset(settings)
        if restart:
            self._restarting()
            self.chosen = None

    def _restarting(self) -> None:
        """Say so until the new runs' first picture: an epoch of the old runs drawn meanwhile keeps the words."""
        self._replaced = self.snapshot.run
        self.epoch.object = self._epoch_line(None)

    def _epoch_line(self, snapshot: Snapshot | None) -> str:
        """The epoch line: ``snapshot``'s, or "restarting…" (``None``) until the new runs' first picture."""
        return epoch_html(self.settings, 0, "restarting…") if snapshot is None else epoch_html(snapshot)

    def _clicked(self, event) -> None:
        pane = self.panes["synthetic"]
        chosen = chosen_synthetic(pane.object, self.snapshot.batch, event.new)
        if chosen is None:
            return
        self.chosen = chosen
        with self._figures, validate(False):
            synthetic_patch(pane.object, self.snapshot, chosen)
            pane.param.trigger("object")
        self.chosen_info.object = self._chosen_html()

    def _on_ack(self, event) -> None:
        with self._acked:
            self._acked.notify_all()

    def _sized(self, name: str, relayout: dict | None) -> None:
        """Keep the size the browser gave a figure in its layout: a layout without one is autosized after every
        redraw, which draws the figure a second time."""
        if relayout and "width" in relayout and "height" in relayout:
            self._sizes[name] = {"width": relayout["width"], "height": relayout["height"]}
            with self._figures:
                self.panes[name].object.layout.update(self._sizes[name])

    def _chosen_html(self) -> str:
        names = self.snapshot.class_names[datasets.SEEN]
        return f"<div class='pg-chosen'>{chosen_text(self.snapshot.batch, self.chosen, names)}</div>"

    def _yaml(self) -> StringIO:
        return StringIO(config_yaml(self.settings))

    def _write_url(self) -> None:
        if self.location is not None:
            self.location.search = "?" + query_string(self.settings)

    def _show_note(self, text: str) -> None:
        self.note.object = f"<div class='pg-note'>{html.escape(text)}</div>"
        self.note.visible = True

    # ---- each epoch (called on the training thread) ------------------------------------------------------------
    def show(self, snapshot: Snapshot) -> None:
        """Draw ``snapshot``: new figures (other settings) are made here, the live ones patched on the tab's event
        loop; return once it is drawn (or the tab is gone)."""
        fresh = structure(snapshot) != self._structure
        figures = {}
        if fresh:
            figures = {"landscape": landscape_figure(snapshot), "synthetic": synthetic_figure(snapshot),
                       "curves": curves_figure(snapshot)}
        else:  # plotly's checks of the new numbers run here, not on the event loop
            with self._figures:
                landscape_patch(self.panes["landscape"].object, snapshot)
                synthetic_patch(self.panes["synthetic"].object, snapshot, self.chosen)
                curves_patch(self.panes["curves"].object, snapshot)
        drawn = threading.Event()

        def draw():
            try:
                self._draw(snapshot, figures)
            finally:
                drawn.set()

        self._wait_for_browser()
        if self._run_on_loop(draw):
            deadline = time.monotonic() + DRAW_TIMEOUT_S
            while not drawn.wait(0.05) and not self.player.closing and time.monotonic() < deadline:
                pass

    def _wait_for_browser(self) -> None:
        """Until the browser has drawn the last redraw (or `ACK_TIMEOUT_S` passed, or the tab closes)."""
        deadline = time.monotonic() + ACK_TIMEOUT_S
        with self._acked:
            while (self.ack.value < self.drawn.value and not self.player.closing
                   and (left := deadline - time.monotonic()) > 0):
                self._acked.wait(min(left, 0.05))

    def _draw(self, snapshot: Snapshot, figures: dict) -> None:
        # Bokeh's checks of each new array are skipped: they cost more than the rest of a redraw (the values are
        # numbers psviz made)
        with pn.io.hold(self.doc), self._figures, validate(False):
            if figures:
                self._structure, self.chosen = structure(snapshot), None
                for name, fig in figures.items():
                    fig.layout.update(self._sizes.get(name, {}))
                    self.panes[name].object = fig
            else:
                for pane in self.panes.values():
                    pane.param.trigger("object")
            self.snapshot = snapshot
            self.drawn.value += 1
            if self._replaced is not None and snapshot.run != self._replaced:
                self._replaced = None
            self.epoch.object = self._epoch_line(snapshot if self._replaced is None else None)
            self.curves_now.object = curves_table(snapshot)
            self.chosen_info.object = self._chosen_html()
            # the player's state now: a pause pressed while this epoch trained has the last word
            self.controls.playing(self.player.playing and not snapshot.done, snapshot.done)

    def report(self, error: Exception) -> None:
        """A failed epoch: one line in the page (the traceback goes to the server's log), and the run pauses."""
        LOG.error("playground: an epoch failed", exc_info=error)
        message = f"Training stopped: {' '.join(str(error).split()) or type(error).__name__}"
        self._run_on_loop(lambda: (self._show_note(message), self.controls.playing(False, self.snapshot.done)))

    def _run_on_loop(self, callback) -> bool:
        """Run ``callback`` on the tab's event loop, with Panel's state pointing at the tab; False if the tab is
        gone."""
        if self._closed.is_set() or self.doc is None:
            return False

        def wrapped():
            with set_curdoc(self.doc):
                callback()

        try:
            self.doc.add_next_tick_callback(wrapped)
        except Exception:  # noqa: BLE001 - a destroyed session takes no callbacks
            return False
        return True

    def close(self) -> None:
        """The tab is gone: stop its training thread."""
        self._closed.set()
        self.player.close()


TRAINER = None  # the server's `worker.Trainer`, set by `server.serve`; None trains in this process


def create() -> pn.viewable.Viewable:
    """The Playground for the tab Panel is serving now (its URL's query string is the lesson)."""
    query = {key: value for key, value in (pn.state.session_args or {}).items()}
    try:
        app = Playground(query, pn.state.location, TRAINER)
    except Exception as error:  # noqa: BLE001 - a page, never a traceback
        LOG.exception("playground: the page could not be built")
        return pn.pane.HTML(f"<div class='pg-note'>The Playground could not start: "
                            f"{html.escape(' '.join(str(error).split()))}</div>")
    pn.state.on_session_destroyed(lambda context: app.close())
    return app.layout()


__all__ = ["Playground", "TITLE", "create", "epoch_html", "ignored_html", "lesson_html"]
