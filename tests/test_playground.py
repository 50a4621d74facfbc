"""The Playground without a browser: settings to and from a URL, bad links, the exported config (which `psviz train`
accepts and which gives the Playground's numbers), the runs' determinism, the player thread, and the figures."""

import logging
import threading
import time

import numpy as np
import pytest
import torch
import yaml

from psviz.apps.playground.state import (CONTROLS, KEYS, Settings, SettingsError, config_yaml, default_mu, parse_query,
                                    query_string, rho_text, to_query, train_config)
from psviz.train import TrainConfig, fit
from psviz.train.presets import TOY_LONG_EPOCHS


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ---- settings and the URL --------------------------------------------------------------------------------------

def test_defaults_are_the_toy_preset_level():
    s = Settings()
    assert (s.classes, s.emb, s.loss, s.lr, s.seed) == (8, 3, "norm_softmax", 0.01, 0)
    assert s.mu == default_mu(8) == 10 / 64 and s.epochs == TOY_LONG_EPOCHS[8]
    assert rho_text(s).startswith("ρ = ⌊μB⌋ / C = 10 / 8 = 1.25")


@pytest.mark.parametrize("settings", [
    Settings(),
    Settings(classes=24, noise=0.3, emb=2, loss="cosface", alpha=1.5, mu=0.75, lr=0.001, seed=12, epochs=7,
             hide=frozenset({"lr", "seed"})),
    Settings(classes=4, mu=0.0, hide=frozenset(CONTROLS)),
])
def test_the_url_round_trips(settings):
    back, ignored = parse_query(to_query(settings))
    assert back == settings and ignored == []
    parsed = dict(pair.split("=") for pair in query_string(settings).split("&"))
    assert parse_query(parsed) == (settings, [])


def test_query_values_may_be_bytes_lists_and_any_spelling():
    settings, ignored = parse_query({"classes": [b"12"], "loss": ["Norm-SoftMax", "CosFace"], "emb": "2"})
    assert (settings.classes, settings.loss, settings.emb, ignored) == (12, "cosface", 2, [])
    assert settings.mu == default_mu(12) and settings.epochs == TOY_LONG_EPOCHS[12]


def test_a_bad_link_opens_with_the_defaults_and_names_what_it_ignored():
    query = {"classes": "7", "bogus": "1", "mu": "99", "lr": "0.5", "seed": "1.5", "noise": "nan", "alpha": "x",
             "hide": "lr,nothing", "emb": "3"}
    settings, ignored = parse_query(query)
    assert settings == Settings(emb=3, hide=frozenset({"lr"}))
    text = "\n".join(ignored)
    for part in ("classes=7", "bogus (not a setting", "mu=99", "lr=0.5", "seed=1.5", "noise=nan", "alpha=x",
                 "hide=nothing"):
        assert part in text, part
    assert len(ignored) == 8
    assert "one of 4, 8, 12 or 24" in text and "from 0 to 6" in text


def test_an_ignored_value_is_shortened_in_the_note():
    _, ignored = parse_query({"x" * 500: "1", "loss": "y" * 500})
    assert all(len(note) < 300 for note in ignored)


def test_settings_check_their_values():
    with pytest.raises(SettingsError, match="classes"):
        Settings(classes=5)
    with pytest.raises(SettingsError):
        Settings(mu=-1)
    with pytest.raises(SettingsError, match="hide"):
        Settings(hide=frozenset({"everything"}))
    with pytest.raises(SettingsError):
        Settings(loss="no_such_loss")


def test_another_level_keeps_rho_and_takes_its_length():
    s = Settings(mu=0.5)  # ρ = 32 / 8 = 4
    t = s.with_classes(24)
    assert t.rho == pytest.approx(4.0) and t.epochs == TOY_LONG_EPOCHS[24]
    assert Settings(mu=0.0).with_classes(4).mu == 0.0


def test_every_key_is_a_setting_and_every_setting_a_key():
    from dataclasses import fields

    assert set(KEYS) == {f.name for f in fields(Settings)} == set(CONTROLS) | {"hide", "lesson"}


# ---- the same experiment from the command line -----------------------------------------------------------------

def test_the_exported_yaml_is_a_config_psviz_train_accepts(tmp_path):
    from psviz.apps.cli import main

    settings = Settings(classes=4, emb=2, loss="cosface", mu=0.5, noise=0.2, epochs=2, seed=3)
    path = tmp_path / "playground.yaml"
    path.write_text(config_yaml(settings))
    config = TrainConfig.load(path)
    assert config == train_config(settings, ps=True)
    assert (config.loss, config.mu, config.embedding_dim, config.seed, config.ps) == ("cosface", 0.5, 2, 3, True)
    assert config.dataset_options == {"n_classes": 8, "dim": 2, "spread": 0.2}
    assert yaml.safe_load(path.read_text())["epochs"] == 2
    assert main(["train", "--config", str(path), "--set", f"output_dir={tmp_path / 'run'}", "--no-progress"]) == 0
    assert (tmp_path / "run" / "last.pt").is_file()


def test_the_playground_gives_the_numbers_psviz_train_gives():
    from psviz.apps.playground.session import Pair

    settings = Settings(classes=4, emb=2, epochs=3)
    pair = Pair(settings)
    for _ in range(3):
        pair.step()
    for name, ps in (("baseline", False), ("with PS", True)):
        expected = fit(train_config(settings, ps), progress=False).history
        got = pair.arms[name].history[1:]
        for mine, theirs in zip(got, expected, strict=True):
            assert mine["unseen/map@r"] == pytest.approx(theirs["unseen/map@r"], abs=1e-6)
            assert mine["loss"] == pytest.approx(theirs["loss"], abs=1e-6)


# ---- the runs and the player -----------------------------------------------------------------------------------

def _after(settings: Settings, epochs: int):
    from psviz.apps.playground.session import Pair

    pair = Pair(settings)
    for _ in range(epochs):
        pair.step()
    return pair


def test_step_and_reset_are_deterministic():
    settings = Settings(classes=4, emb=3, epochs=5)
    first, second = _after(settings, 2), _after(settings, 2)
    def timeless(history):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in history]

    for name in first.arms:
        assert timeless(first.arms[name].history) == timeless(second.arms[name].history)
    a, b = first.snapshot(), second.snapshot()
    assert a.epoch == b.epoch == 2 and a.batch.lam == b.batch.lam
    assert torch.equal(a.batch.embeddings, b.batch.embeddings)
    np.testing.assert_array_equal(a.frames["with PS"].landscape.winner, b.frames["with PS"].landscape.winner)
    other = _after(settings.changed(seed=1), 2)
    assert other.arms["with PS"].history[-1]["loss"] != first.arms["with PS"].history[-1]["loss"]


def test_a_snapshot_holds_what_the_views_draw():
    pair = _after(Settings(classes=4, emb=3), 1)
    snap = pair.snapshot()
    assert set(snap.frames) == {"baseline", "with PS"} and snap.epoch == 1 and not snap.done
    frame = snap.frames["baseline"]
    assert frame.landscape.kind == "sphere" and frame.landscape.winner.shape == (36, 72)
    assert set(frame.splits) == {"seen", "unseen"} and frame.proxies.shape == (4, 3)
    assert 0 < frame.landscape.confidence.min() <= frame.landscape.confidence.max() <= 1
    row = frame.history[-1]
    for key in ("unseen/recall@1", "unseen/map@r", "gap", "transition_width", "unseen_confidence",
                "unseen_closer_to_synthetic"):
        assert np.isfinite(row[key]), key
    assert row["gap"] == pytest.approx(row["heldout/map@r"] - row["unseen/map@r"])
    assert [r["epoch"] for r in frame.history] == [0, 1]


def test_the_player_plays_pauses_steps_resets_and_closes():
    from psviz.apps.playground.session import Pair, Player

    shown, lock = [], threading.Lock()

    def show(snapshot):
        with lock:
            shown.append((snapshot.epoch, snapshot.settings, snapshot.run))

    def wait(predicate, timeout=60.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < deadline, shown[-3:]
            time.sleep(0.02)

    settings = Settings(classes=4, emb=2, epochs=4)
    player = Player(Pair(settings), show)
    try:
        player.step()
        wait(lambda: shown and shown[-1][0] == 1)
        player.play()
        wait(lambda: shown[-1][0] == 4 and not player.playing)  # stops at the settings' last epoch
        assert {run for _, _, run in shown} == {0}
        player.reset(settings.changed(epochs=6))  # only the stop moves: the same runs go on
        wait(lambda: shown[-1][1].epochs == 6)
        assert shown[-1][0] == 4 and shown[-1][2] == 0
        player.reset(settings.changed(seed=2))
        wait(lambda: shown[-1][1].seed == 2 and shown[-1][0] == 0)
        assert shown[-1][2] == 1  # new runs: the app keeps saying "restarting…" until a snapshot of run 1
        player.reset(settings.changed(seed=2), fresh=True)
        wait(lambda: shown[-1][2] == 2 and shown[-1][0] == 0)
        player.play()
        wait(lambda: shown[-1][0] >= 1)
        player.pause()
        time.sleep(0.3)
        paused_at = shown[-1][0]
        time.sleep(0.5)
        assert shown[-1][0] == paused_at
    finally:
        assert player.close(timeout=30)
    assert not player.alive


def test_a_failed_epoch_is_reported_and_pauses():
    from psviz.apps.playground.session import Pair, Player

    reported = []
    pair = Pair(Settings(classes=4, emb=2))
    pair.step = lambda: (_ for _ in ()).throw(RuntimeError("boom"))
    player = Player(pair, lambda snapshot: None, report=reported.append)
    try:
        player.play()
        deadline = time.monotonic() + 30
        while not reported and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [str(e) for e in reported] == ["boom"] and not player.playing
    finally:
        player.close()


def test_close_all_ends_every_thread():
    from psviz.apps.playground.session import Pair, Player, close_all

    players = [Player(Pair(Settings(classes=4, emb=2)), lambda s: None) for _ in range(2)]
    players[0].play()
    ended, left = close_all(timeout=30)
    assert ended >= 2 and left == 0
    assert not any(p.alive for p in players)


# ---- the figures ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("emb", [2, 3])
def test_figures_draw_and_patch_in_place(emb):
    from psviz.apps.playground.batch import CHOSEN, chosen_synthetic, chosen_text, synthetic_figure, synthetic_patch
    from psviz.apps.playground.views import (curves_figure, curves_patch, curves_table, landscape_figure,
                                             landscape_patch)

    pair = _after(Settings(classes=4, emb=emb), 1)
    before = pair.snapshot()
    figures = [landscape_figure(before), synthetic_figure(before), curves_figure(before)]
    pair.step()
    after = pair.snapshot()
    landscape_patch(figures[0], after)
    curves_patch(figures[2], after)
    assert len(figures[2].data[0].x) == 3  # epochs 0, 1 and 2
    names = [t.name for t in figures[1].data]
    synthetic = names.index("synthetic embedding")
    chosen = chosen_synthetic(figures[1], after.batch, {"points": [{"curveNumber": synthetic, "pointNumber": 1}]})
    assert chosen == 1
    assert chosen_synthetic(figures[1], after.batch, {"points": [{"curveNumber": 0, "pointNumber": 1}]}) is None
    synthetic_patch(figures[1], after, chosen)
    traces = {t.name: t for t in figures[1].data}
    assert len(traces[CHOSEN[0]].x) == 2 and len(traces[CHOSEN[1]].x) == 1
    text = chosen_text(after.batch, chosen, after.class_names["seen"])
    assert f"λ = <b class='pg-lam'>{after.batch.lam:.2f}</b>" in text and "batch item" in text
    assert "epoch 2" in curves_table(after)


def test_a_lesson_link_opens_on_the_lessons_settings_and_keeps_the_links_own_keys():
    from urllib.parse import parse_qsl

    from psviz.apps.playground.lessons import LESSONS

    for number, lesson in enumerate(LESSONS, 1):
        own, ignored = parse_query(dict(parse_qsl(lesson.query)))
        assert ignored == [] and own.hide and own.epochs == TOY_LONG_EPOCHS[own.classes]
        opened, ignored = parse_query({"lesson": str(number)})
        assert ignored == [] and opened == own.changed(lesson=number)
        assert parse_query(to_query(opened)) == (opened, [])  # the URL the page writes back keeps the lesson
    changed, ignored = parse_query({"lesson": "1", "seed": "3"})
    assert ignored == [] and changed.seed == 3 and changed.mu == 0.5 and changed.lesson == 1
    for bad in ("9", "x", "-1"):
        settings, ignored = parse_query({"lesson": bad})
        assert settings == Settings() and len(ignored) == 1 and ignored[0].startswith(f"lesson={bad} ("), ignored
    with pytest.raises(SettingsError, match="lesson: must be a lesson from 1 to 4"):
        Settings(lesson=5)


def test_each_lesson_quotes_the_stored_effect_map():
    """The numbers a lesson's sentence states are its cells' unseen MAP@R differences in the stored records, and
    "Holm-significant" / "Holm p 1" say what Holm says of them."""
    import re

    from psviz.apps.playground.lessons import LESSONS
    from psviz.apps.reproduce.stored import stored_effect_table
    from psviz.base.percent import percent

    table = stored_effect_table()
    for lesson in LESSONS:
        numbers = [float(n) for n in re.findall(r"([+-]\d+\.\d\d)(?: points)?(?= at| points)", lesson.look_for)]
        rows = [table[(table["level"] == level) & (table["loss"] == loss) & (table["length"] == "long") &
                      (table["rho"] == rho)].iloc[0] for level, loss, rho in lesson.cells]
        assert numbers == [round(percent(row["diff"]), 2) for row in rows], lesson.title
        if "Holm-significant" in lesson.look_for:
            assert all(row["holm_significant"] for row in rows), lesson.title
        if "Holm p 1" in lesson.look_for:
            assert all(row["holm_p"] == 1 for row in rows), lesson.title


def test_the_guide_links_every_lesson_and_says_what_the_page_says():
    import html
    import re
    from pathlib import Path

    from psviz.apps.playground.app import lesson_html
    from psviz.apps.playground.lessons import LESSONS

    guide = (Path(__file__).resolve().parents[1] / "docs" / "guide" / "playground.md").read_text()
    links = re.findall(r"\(http://127\.0\.0\.1:5006/playground\?lesson=(\d+)\)", guide)
    assert links == [str(n) for n in range(1, len(LESSONS) + 1)]
    for number, lesson in enumerate(LESSONS, 1):
        assert f"**{lesson.title}.**" in guide and lesson.look_for in guide
        page = lesson_html(number)
        assert html.escape(lesson.title) in page and html.escape(lesson.look_for) in page


@pytest.mark.slow
def test_the_trainer_process_gives_what_a_pair_here_gives():
    from psviz.apps.playground.session import Pair, Player
    from psviz.apps.playground.worker import Trainer, TrainerError

    settings = Settings(classes=4, emb=2, epochs=3)
    trainer = Trainer(threads=1)
    try:
        remote = trainer.pair(settings)
        local = Pair(settings)
        for _ in range(2):
            remote.step()
            local.step()
        far, near = remote.snapshot(), local.snapshot()
        assert far.epoch == near.epoch == remote.epoch == 2
        for name in near.frames:
            assert far.frames[name].history[-1]["unseen/map@r"] == near.frames[name].history[-1]["unseen/map@r"]
        assert torch.equal(far.batch.embeddings, near.batch.embeddings)
        assert remote.retarget(settings.changed(epochs=9)) and remote.settings.epochs == 9
        with pytest.raises(TrainerError, match="KeyError"):
            trainer.call("step", 10_000)
        shown = []
        player = Player(remote, shown.append, make=trainer.pair)
        player.reset(settings.changed(seed=5))
        deadline = time.monotonic() + 60
        while not shown and time.monotonic() < deadline:
            time.sleep(0.05)
        assert shown[-1].settings.seed == 5 and shown[-1].epoch == 0
        assert player.close(timeout=30)
    finally:
        assert trainer.close()
    assert not trainer.alive


@pytest.mark.parametrize("error, reported", [("WebSocketClosedError", False), ("StreamClosedError", False),
                                             ("ValueError", True)])
def test_a_write_to_a_closed_tab_is_not_reported_as_a_traceback(error, reported, caplog):
    import asyncio
    import gc

    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    from psviz.apps.playground.server import quiet_closed_sockets

    raised = {"WebSocketClosedError": WebSocketClosedError, "StreamClosedError": StreamClosedError,
              "ValueError": ValueError}[error]

    async def write():
        raise raised()

    loop = asyncio.new_event_loop()
    quiet_closed_sockets(loop)
    try:
        task = loop.create_task(write())  # never awaited, as Bokeh's writes are not
        loop.run_until_complete(asyncio.sleep(0))
        assert task.done()
        with caplog.at_level(logging.ERROR, logger="asyncio"):
            del task
            gc.collect()
    finally:
        loop.close()
    logged = [r for r in caplog.records if "never retrieved" in r.getMessage()]
    assert bool(logged) == reported, caplog.text


def test_psviz_playground_lesson_prints_and_opens_the_lessons_link(monkeypatch):
    from psviz.apps import cli
    from psviz.apps.playground import server

    asked = {}
    monkeypatch.setattr(server, "serve", lambda port, **options: asked.update(port=port, **options) or 0)
    assert cli.main(["playground", "--lesson", "2", "--no-browser", "--port", "5107"]) == 0
    assert asked == {"port": 5107, "open_browser": False, "query": "lesson=2"}
    assert server.url(5107, asked["query"]) == "http://127.0.0.1:5107/playground?lesson=2"
