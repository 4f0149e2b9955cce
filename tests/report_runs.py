"""Small simulated runs shared by the report tests (simulated once per test session)."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

from conftest import SMALL_RECIPE

import litho

# Two steps on the 2 x 2 stripe cell: R, then G with an overlay, so the report has
# colour contamination and overlay between steps.
TWO_STEP_RECIPE = SMALL_RECIPE.replace('layer = "R"\n', "") + """
[[step]]
name = "R"
[step.mask]
layer = "R"

[[step]]
name = "G"
[step.mask]
layer = "G"
[step.exposure]
overlay_um = [0.2, 0.0]
"""


@functools.lru_cache(maxsize=None)
def run(kind: str = "one step", figures: bool = True):
    """(output directory, Result) of the small recipe (``"one step"``) or the two-step one."""
    base = Path(tempfile.mkdtemp(prefix="litho-report-test-"))
    recipe_path = base / "recipe.toml"
    recipe_path.write_text(SMALL_RECIPE if kind == "one step" else TWO_STEP_RECIPE)
    result = litho.simulate(litho.load_recipe(recipe_path))
    out = base / "out"
    result.save(out, figures=figures)
    return out, result
