"""The `psviz` command line."""

import subprocess
import sys

from psviz import losses
from psviz.cli import main


def test_demo_prints_every_loss_with_and_without_ps(capsys):
    assert main(["demo", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "without PS" in out and "with PS" in out
    for name in losses.available():
        row = next(line for line in out.splitlines() if line.startswith(name + " "))
        without_ps, with_ps = map(float, row.split()[1:])
        assert without_ps > 0 and with_ps > 0


def test_demo_is_reproducible(capsys):
    main(["demo", "--seed", "3"])
    first = capsys.readouterr().out
    main(["demo", "--seed", "3"])
    assert capsys.readouterr().out == first


def test_bad_value_is_one_clear_message_not_a_traceback(capsys):
    assert main(["demo", "--mu", "-1"]) == 2
    err = capsys.readouterr().err
    assert "mu must be >= 0" in err and "Traceback" not in err


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "psviz", "demo", "--mu", "0.5"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "16 synthetic classes" in done.stdout
