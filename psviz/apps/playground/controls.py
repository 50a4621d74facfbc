"""The Playground's controls: one Panel widget per setting, each in a box a lesson can hide, and the training
buttons."""

from __future__ import annotations

import html

import panel as pn

from ...method import losses
from ...train.presets import TOY_BATCH
from .state import (ALPHA_RANGE, CONTROLS, EMBEDDINGS, EPOCH_RANGE, LEARNING_RATES, MU_RANGE, MU_STEP, NOISE_RANGE,
                    SEED_RANGE, SEEN_LEVELS, Settings, rho_text)

LABELS = {
    "classes": "seen classes",
    "noise": "noise: each cluster's spread",
    "emb": "embedding",
    "loss": "loss",
    "alpha": "α: λ ~ Beta(α, α)",
    "mu": "μ: synthetic classes a batch, per item",
    "lr": "learning rate",
    "seed": "seed (both runs)",
    "epochs": "stop at epoch",
}
SECTIONS = (("Data", ("classes", "noise", "emb")), ("Method", ("loss", "alpha", "mu", "lr", "seed", "epochs")))
# sliders report a drag's end as value_throttled; the other widgets report every change as value
THROTTLED = ("noise", "alpha", "mu")
# Answers in the browser at once, without waiting for the server (which says the same a moment later): the ρ line
# as μ moves (state.rho_text's words and rounding), and which of play and pause can be pressed.
RHO_JS = """
const made = Math.floor(cb_obj.value * BATCH + 1e-9), C = Number(classes.labels[classes.active]);
const hundredths = Math.floor((200 * made + C) / (2 * C));
const line = `<span class='pg-rho'>ρ = ⌊μB⌋ / C = ${made} / ${C} = ${hundredths / 100} synthetic classes per seen `
  + `class per batch of ${BATCH}</span>`;
// escaped as Panel sends an HTML pane's text (unescaped, the page would show it as plain text)
rho.text = line.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&#x27;");
""".replace("BATCH", str(TOY_BATCH))
PRESSED_JS = "play.disabled = PLAYING; pause.disabled = !PLAYING;"


class _Slider(pn.widgets.FloatSlider):
    """A slider whose values reach the server at once: Panel otherwise waits 50 ms for more changes before it acts
    (`_debounce`), and a let-go value waits with them."""

    _priority_changes = ["value", "value_throttled"]


def _widget(key: str, value):
    """The widget of one setting, showing ``value``."""
    if key == "classes":
        return pn.widgets.RadioButtonGroup(options=list(SEEN_LEVELS), value=value, button_type="default")
    if key == "emb":
        return pn.widgets.RadioButtonGroup(options={f"{d}-D": d for d in EMBEDDINGS}, value=value)
    if key == "loss":
        return pn.widgets.Select(options=losses.available(), value=value)
    if key == "lr":
        return pn.widgets.Select(options={f"{v:g}": v for v in LEARNING_RATES}, value=value)
    if key in ("seed", "epochs"):
        low, high = SEED_RANGE if key == "seed" else EPOCH_RANGE
        return pn.widgets.IntInput(start=low, end=high, value=value)
    low, high, step = {"noise": (*NOISE_RANGE, 0.01), "alpha": (*ALPHA_RANGE, 0.05), "mu": (*MU_RANGE, MU_STEP)}[key]
    return _Slider(start=low, end=high, step=step, value=value, format="0.[0000]")


class Controls:
    """Every setting's widget (``widgets``), its labelled box (``boxes``, hidden for the controls a lesson hides),
    the ρ line under μ, and the play / pause / step / reset buttons."""

    def __init__(self, settings: Settings):
        self.widgets = {key: _widget(key, getattr(settings, key)) for key in CONTROLS}
        for widget in self.widgets.values():
            widget.sizing_mode = "stretch_width"
        self.rho = pn.pane.HTML(rho_html(settings), margin=(0, 10, 5, 10))
        self.boxes = {}
        for key in CONTROLS:
            label = pn.pane.HTML(f"<span class='pg-label'>{html.escape(LABELS[key])}</span>", margin=(6, 10, 0, 10))
            parts = [label, self.widgets[key]] + ([self.rho] if key == "mu" else [])
            self.boxes[key] = pn.Column(*parts, margin=0, visible=key not in settings.hide,
                                        css_classes=[f"pg-control-{key}"])
        self.buttons = {
            "play": pn.widgets.Button(name="▶ play", button_type="primary", width=80),
            "pause": pn.widgets.Button(name="❚❚ pause", width=80, disabled=True),
            "step": pn.widgets.Button(name="step", width=70),
            "reset": pn.widgets.Button(name="reset", width=70),
        }
        for name, button in self.buttons.items():
            button.css_classes = [f"pg-{name}"]
        for name, playing in (("play", "true"), ("pause", "false")):
            self.buttons[name].js_on_click(args={"play": self.buttons["play"], "pause": self.buttons["pause"]},
                                           code=PRESSED_JS.replace("PLAYING", playing))
        self.widgets["mu"].jscallback(args={"rho": self.rho, "classes": self.widgets["classes"]}, value=RHO_JS)

    def sidebar(self) -> pn.Column:
        """The settings, by section (a section whose controls are all hidden is left out)."""
        parts = []
        for title, keys in SECTIONS:
            shown = [self.boxes[k] for k in keys]
            parts.append(pn.pane.HTML(f"<h3 class='pg-section'>{title}</h3>", margin=(4, 10, 0, 10),
                                      visible=any(b.visible for b in shown)))
            parts += shown
        return pn.Column(*parts, width=270, margin=(0, 10, 0, 0), css_classes=["pg-sidebar"])

    def show(self, settings: Settings) -> None:
        """Move every widget to ``settings`` (the caller keeps its own watchers quiet meanwhile)."""
        for key, widget in self.widgets.items():
            value = getattr(settings, key)
            if widget.value != value:
                widget.value = value
        self.rho.object = rho_html(settings)

    def playing(self, playing: bool, done: bool) -> None:
        """Enable the buttons that make sense now."""
        self.buttons["play"].disabled = playing or done
        self.buttons["pause"].disabled = not playing
        self.buttons["step"].disabled = done


def rho_html(settings: Settings) -> str:
    return f"<span class='pg-rho'>{html.escape(rho_text(settings))}</span>"


__all__ = ["Controls", "LABELS", "THROTTLED", "rho_html"]
