"""Training: config round-trip and validation, fit, exact resume after an interrupt, safe checkpoints."""

import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from psviz.train import (ConfigError, EmbeddingExport, TrainConfig, export_embeddings, fit, load_checkpoint, load_run,
                         preset, synthetic_batch)
from psviz.train import build, build_datasets, evaluate
from psviz.train.presets import PRESETS

ROOT = Path(__file__).resolve().parents[1]


def quick(**changes):
    """A digits run of a few seconds."""
    return preset("digits", **{"epochs": 3, "eval_every": 1, **changes})


# ---- config ------------------------------------------------------------------------------------------------------

def test_config_round_trips_through_yaml_and_json(tmp_path):
    config = preset("digits", alpha=1.5, mu=2.0, lr_milestones=[3], ks="sop", dataset_options={"seen_classes": [1, 2]})
    assert config.ks == [1, 10, 100, 1000]
    path = tmp_path / "run.yaml"
    config.to_yaml(path)
    assert TrainConfig.load(path) == config
    (tmp_path / "run.json").write_text(config.to_json())
    assert TrainConfig.load(tmp_path / "run.json") == config


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_a_valid_config(name):
    config = preset(name)
    assert TrainConfig.from_dict(config.to_dict()) == config


def test_paper_preset_follows_the_released_recipe():
    config = preset("paper-bn-inception")
    assert (config.model, config.embedding_dim, config.image_size, config.batch_size) == ("bn_inception", 512, 224, 128)
    assert (config.optimizer, config.lr, config.proxy_lr, config.adam_eps, config.weight_decay) == (
        "adam", 1e-4, 1e-2, 0.01, 1e-4)
    assert config.model_options["freeze_bn"] and (config.alpha, config.mu) == (0.4, 1.0)
    assert (config.epochs, config.lr_milestones, config.eval_every) == (130, [50], 5)


@pytest.mark.parametrize("changes,key", [
    ({"epochz": 3}, "epochz"),
    ({"lr": "fast"}, "lr"),
    ({"lr": 0}, "lr"),
    ({"batch_size": 0}, "batch_size"),
    ({"ps": "yes"}, "ps"),
    ({"loss": "triplet"}, "loss"),
    ({"dataset": "mnist"}, "dataset"),
    ({"model": "vit"}, "model"),
    ({"optimizer": "lbfgs"}, "optimizer"),
    ({"amp": "fp8"}, "amp"),
    ({"mu": -1}, "mu"),
    ({"sampler": "balanced", "batch_size": 30, "samples_per_class": 4}, "batch_size"),
    ({"loss_options": {"temperature": 1}}, "loss_options"),
    ({"ks": [0]}, "ks"),
])
def test_bad_config_values_name_the_key(changes, key):
    with pytest.raises(ConfigError, match=key):
        preset("digits", **changes)


def test_overrides_parse_yaml_values():
    config = preset("digits").with_overrides(["epochs=5", "ps=false", "lr=3e-4", "lr_milestones=[2, 4]"])
    assert (config.epochs, config.ps, config.lr, config.lr_milestones) == (5, False, 3e-4, [2, 4])
    with pytest.raises(ConfigError, match="key=value"):
        preset("digits").with_overrides(["epochs"])


# ---- fit -----------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_training_raises_unseen_map_r_above_the_untrained_model():
    config = preset("fashion-mnist", dataset_options={"max_per_class": 200}, epochs=3, batch_size=50, eval_every=3)
    parts = build(config, torch.device("cpu"))
    untrained = evaluate(parts.model, parts.eval_sets, (1,), torch.device("cpu"))["unseen/map@r"]
    result = fit(config, progress=False)
    trained = result.last_metrics()["map@r"]
    assert trained > untrained + 0.05, (untrained, trained)


@pytest.mark.slow
def test_fit_records_history_and_calls_callbacks(tmp_path):
    seen_epochs, steps = [], []

    class Recorder:
        def on_step_end(self, epoch, step, loss):
            steps.append(loss)

        def on_epoch_end(self, epoch, history, model, loss, metrics):
            seen_epochs.append((epoch, bool(metrics)))

    result = fit(quick(eval_every=2, eval_seen=True, output_dir=str(tmp_path)), callbacks=[Recorder()],
                 progress=False)
    assert [row["epoch"] for row in result.history] == [1, 2, 3]
    assert seen_epochs == [(1, False), (2, True), (3, True)]
    assert len(steps) == 3 * (901 // 64) and all(s > 0 for s in steps)
    row = result.history[-1]
    for key in ["loss", "lr", "proxy_lr", "unseen/recall@1", "unseen/r_precision", "unseen/map@r", "seen/map@r"]:
        assert key in row
    assert row["seen/map@r"] > row["unseen/map@r"]  # trained on the seen classes
    saved = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in saved] == [1, 2, 3]
    assert {"config.yaml", "last.pt", "best.pt"} <= {p.name for p in tmp_path.iterdir()}
    best = load_checkpoint(tmp_path / "best.pt")
    assert best["best_map_r"] == max(r["unseen/map@r"] for r in result.history if "unseen/map@r" in r)


@pytest.mark.slow
def test_same_seed_same_run_and_ps_changes_it():
    a, b = fit(quick(), progress=False), fit(quick(), progress=False)
    assert all(torch.equal(x, y) for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values()))
    c = fit(quick(ps=False), progress=False)
    assert not torch.equal(a.loss.proxies, c.loss.proxies)


def test_evaluating_more_or_less_often_does_not_change_what_a_run_learns():
    """The demo evaluates its regime runs half as often as `psviz reproduce`: that must leave training alone."""
    often, seldom = (fit(quick(epochs=4, eval_every=every, holdout_per_class=3), progress=False) for every in (1, 4))
    assert all(torch.equal(x, y) for x, y in zip(often.model.state_dict().values(), seldom.model.state_dict().values()))
    assert often.history[-1]["unseen/map@r"] == seldom.history[-1]["unseen/map@r"]
    assert sum("heldout/map@r" in row for row in often.history) == 4


def test_held_out_items_are_kept_out_of_training_and_searched_among_the_training_items():
    config = quick(epochs=1, holdout_per_class=3, train_per_class=20)
    train_set, eval_sets = build_datasets(config)
    heldout, gallery = eval_sets["heldout"]
    assert torch.bincount(heldout.targets).tolist() == [3] * train_set.n_classes
    assert torch.bincount(train_set.targets).tolist() == [20] * train_set.n_classes
    assert len(gallery) == len(train_set) and heldout.split == "heldout"
    assert not set(map(tuple, heldout.data.flatten(1).tolist())) & set(map(tuple, train_set.data.flatten(1).tolist()))
    row = fit(config, progress=False).history[-1]
    assert row["heldout/n_queries"] == len(heldout) and 0 <= row["heldout/map@r"] <= 1
    fewer = build_datasets(quick(train_classes=3))[0]
    assert fewer.n_classes == 3 and sorted(fewer.targets.unique().tolist()) == [0, 1, 2]


def _interrupt_after(step_to_stop):
    class Interrupter:
        def on_step_end(self, epoch, step, loss):
            if epoch * 100 + step == step_to_stop:
                os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does: the loop stops after this step
    return Interrupter()


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["random", "balanced"])
@pytest.mark.parametrize("stop_at", [105, 114], ids=["mid-epoch", "end-of-epoch"])
def test_interrupted_and_resumed_run_equals_an_uninterrupted_one(tmp_path, stop_at, sampler):
    """Stop after step 5 or the last step (14 steps an epoch) of the second epoch, resume, compare bit for bit."""
    config = quick(epochs=4, eval_every=2, sampler=sampler, batch_size=64, samples_per_class=16)
    reference = fit(config.replace(output_dir=str(tmp_path / "reference")), progress=False)
    interrupted = config.replace(output_dir=str(tmp_path / "run"))
    with pytest.raises(KeyboardInterrupt):
        fit(interrupted, callbacks=[_interrupt_after(stop_at)], progress=False)
    state = load_checkpoint(tmp_path / "run" / "last.pt")
    assert state["epoch"] * 100 + state["step"] == stop_at
    resumed = fit(interrupted, resume=True, progress=False)
    for (name, x), y in zip(reference.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(x, y), name
    assert torch.equal(reference.loss.proxies, resumed.loss.proxies)
    strip = lambda h: [{k: v for k, v in r.items() if k != "seconds"} for r in h]  # noqa: E731
    assert strip(reference.history) == strip(resumed.history)


@pytest.mark.slow
def test_interrupt_from_another_process_then_resume(tmp_path):
    """Ctrl-C (SIGINT) sent to `psviz train` from outside; `--resume` then finishes exactly like a clean run."""
    overrides = ["epochs=60", "eval_every=1", "seed=3"]
    run_dir, ref_dir = tmp_path / "run", tmp_path / "reference"
    command = [sys.executable, "-m", "psviz", "train", "--config", "digits", "--no-progress",
               *sum((["--set", o] for o in overrides), [])]
    process = subprocess.Popen([*command, "--set", f"output_dir={run_dir}"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (run_dir / "last.pt").exists() and process.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, (out, err)
    assert "--resume" in err
    stopped = load_checkpoint(run_dir / "last.pt")
    assert stopped["epoch"] < 60
    done = subprocess.run([*command, "--set", f"output_dir={run_dir}", "--resume"], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    reference = fit(preset("digits", output_dir=str(ref_dir)).with_overrides(overrides), progress=False)
    final = load_checkpoint(run_dir / "last.pt")
    assert final["epoch"] == 60
    for name, value in reference.model.state_dict().items():
        assert torch.equal(value, final["model"][name]), name
    assert torch.equal(reference.loss.proxies, final["loss"]["proxies"])


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_checkpoint_loader_refuses_a_pickle_that_would_run_code(tmp_path):
    path = tmp_path / "last.pt"
    with open(path, "wb") as handle:
        pickle.dump({"model": _RunsCode()}, handle, protocol=2)
    with pytest.raises(ValueError, match="cannot load checkpoint .* safely"):
        load_checkpoint(path)


def test_resume_needs_an_output_dir_and_starts_fresh_without_a_checkpoint(tmp_path):
    with pytest.raises(ValueError, match="output_dir"):
        fit(quick(), resume=True, progress=False)
    result = fit(quick(epochs=1, output_dir=str(tmp_path / "new")), resume=True, progress=False)
    assert [r["epoch"] for r in result.history] == [1]


# ---- reopening runs and exporting what the plots need ---------------------------------------------------------

@pytest.mark.slow
def test_load_run_gives_back_the_trained_model(tmp_path):
    result = fit(quick(output_dir=str(tmp_path)), progress=False)
    run = load_run(tmp_path, "last")
    for key, value in result.model.state_dict().items():
        assert torch.equal(run.model.state_dict()[key], value), key
    assert torch.equal(run.loss.proxies, result.loss.proxies)
    assert [r["epoch"] for r in run.history] == [1, 2, 3]
    again = evaluate(run.model, build(run.config, torch.device("cpu")).eval_sets, run.config.ks, torch.device("cpu"))
    assert again["unseen/map@r"] == pytest.approx(result.history[-1]["unseen/map@r"], abs=1e-9)
    with pytest.raises(ValueError, match="not a psviz run folder"):
        load_run(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="'best' or 'last'"):
        load_run(tmp_path, "first")


def test_export_embeddings_of_seen_and_unseen_with_proxies(tmp_path):
    result = fit(quick(epochs=1), progress=False)
    export = export_embeddings(result)
    assert export.embeddings.shape == (901 + 896, 32) and export.labels.shape == (901 + 896,)
    assert (export.splits == "seen").sum() == 901 and (export.splits == "unseen").sum() == 896
    assert torch.allclose(export.embeddings.norm(dim=1), torch.ones(len(export.labels)), atol=1e-5)
    assert export.proxies.shape == (5, 32) and torch.allclose(export.proxies.norm(dim=1), torch.ones(5), atol=1e-5)
    assert export.class_names == {"seen": ["0", "1", "2", "3", "4"], "unseen": ["5", "6", "7", "8", "9"]}
    # the exported unseen rows are what evaluation embeds: same metrics from them
    unseen, labels = export.part("unseen")
    from psviz.evaluate import retrieval_metrics
    assert retrieval_metrics(unseen, labels, result.config.ks, progress=False)["map@r"] == pytest.approx(
        result.history[-1]["unseen/map@r"], abs=1e-6)
    saved = EmbeddingExport.load(export.save(tmp_path / "export.npz"))
    assert torch.equal(saved.embeddings, export.embeddings) and (saved.splits == export.splits).all()
    assert saved.class_names == export.class_names
    small = export_embeddings(result, "unseen", max_per_split=100, seed=1)
    assert len(small.labels) == 100 and set(small.splits.tolist()) == {"unseen"}
    with pytest.raises(ValueError, match="no 'seen' rows"):
        small.part("seen")
    with pytest.raises(ValueError, match="splits"):
        export_embeddings(result, "query")


def test_synthetic_batch_shows_what_ps_makes():
    result = fit(quick(epochs=1), progress=False)
    batch = synthetic_batch(result, batch_size=40, mu=0.5, seed=3)
    assert (batch.n_real, batch.n_synthetic) == (40, 20)
    assert (batch.labels[:40] < 5).all() and torch.equal(batch.labels[40:], torch.arange(5, 25))
    y = batch.labels[:40]
    assert (y[batch.pairs[:, 0]] != y[batch.pairs[:, 1]]).all()  # never two samples of one class
    again = synthetic_batch(result, batch_size=40, mu=0.5, seed=3)
    assert torch.equal(again.embeddings, batch.embeddings) and again.lam == batch.lam
    assert synthetic_batch(result, seed=4).lam != batch.lam


# ---- CUDA ---------------------------------------------------------------------------------------------------------

@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_cuda_run_with_autocast_and_channels_last_resumes_on_cpu(tmp_path, amp):
    config = quick(device="cuda", amp=amp, channels_last=True, model="small_cnn", model_options={},
                   dataset_options={"as_images": True}, eval_seen=True, output_dir=str(tmp_path))
    parts = build(config, torch.device("cuda"))
    untrained = evaluate(parts.model, parts.eval_sets, (1,), torch.device("cuda"))["seen/map@r"]
    result = fit(config, progress=False)
    assert next(result.model.parameters()).is_cuda
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in result.history)
    assert result.last_metrics("seen")["map@r"] > untrained + 0.1  # it learned the classes it trained on
    run = load_run(tmp_path, "last", device="cpu")
    on_cpu = evaluate(run.model, build(run.config, torch.device("cpu")).eval_sets, run.config.ks, torch.device("cpu"))
    assert on_cpu["unseen/map@r"] == pytest.approx(result.last_metrics()["map@r"], abs=0.03)  # autocast vs fp32
