"""The examples a new user copies must run."""

import subprocess
import sys

import pytest

from conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_example_runs(script, tmp_path):
    args = [sys.executable, str(script)]
    if script.name == "simulate_recipe.py":
        args += [str(ROOT / "recipes" / "rgb_stripe_1000ppi.toml"), str(tmp_path / "out")]
    else:
        args += [str(tmp_path / "out")]
    proc = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "wrote" in proc.stdout
    assert any((tmp_path / "out").glob("*.png"))
