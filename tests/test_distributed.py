"""Multi-process training with torchrun on CPU (gloo): the run finishes, ranks agree, the checkpoint resumes alone."""

import subprocess
import sys
import textwrap

import pytest
import torch

from psviz.train import fit, load_checkpoint, preset

SCRIPT = textwrap.dedent("""
    import os, sys, torch
    from psviz.train import preset, fit
    config = preset("digits", epochs=2, eval_every=1, device="cpu", output_dir=sys.argv[1])
    result = fit(config, progress=False)
    state = {**{"model." + k: v for k, v in result.model.state_dict().items()}, "proxies": result.loss.proxies}
    torch.save(state, os.path.join(sys.argv[2], "rank" + os.environ["RANK"] + ".pt"))
""")


@pytest.mark.slow
def test_two_process_gloo_run(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    run_dir, out = tmp_path / "run", tmp_path / "params"
    out.mkdir()
    done = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1",
                           "--nproc_per_node=2", str(script), str(run_dir), str(out)],
                          capture_output=True, text=True, timeout=600, env={**__import__("os").environ,
                                                                            "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (torch.load(out / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), f"ranks differ in {key}"
    state = load_checkpoint(run_dir / "last.pt")
    assert state["epoch"] == 2 and "unseen/map@r" in state["history"][-1]
    # Rank 0 evaluated the embeddings gathered from both ranks: all unseen items were queries.
    assert state["history"][-1]["unseen/n_queries"] == 896
    # The checkpoint continues in a single process.
    resumed = fit(preset("digits", epochs=3, eval_every=1, device="cpu", output_dir=str(run_dir)), resume=True,
                  progress=False)
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    assert not torch.equal(resumed.loss.proxies, rank0["proxies"])  # it trained on
