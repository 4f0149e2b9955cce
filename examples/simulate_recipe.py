"""Simulate a shipped recipe through the Python API and plot the result.

    python examples/simulate_recipe.py [RECIPE] [OUT_DIR]

Prints the per-step metrics and writes the report, predicted.gds, litho's
own figures and one custom figure (a cut through the first pixel row).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import litho  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
recipe_path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "recipes" / "rgb_stripe_1000ppi.toml"
out_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("out") / "example_simulate"

recipe = litho.load_recipe(recipe_path)
result = litho.simulate(recipe)
result.save(out_dir)

for step in result.report["steps"]:
    m = step["metrics"]
    print(f"{step['name']}: IoU {m['iou_mean']:.3f}, CD error x {m['cd_x_error_mean_um']:+.3f} um, "
          f"EPE rms {m['epe_rms_um']:.3f} um, missing {m['missing_pixels']}, bridges {m['bridges']}")

# A cut along x through the centre of the first designed pixel of each step.
fig, ax = plt.subplots(figsize=(7, 3.5))
for s in result.steps:
    y_centre = s.design[0].centroid.y
    row = int(np.argmin(np.abs(s.grid.y_um - y_centre)))
    ax.plot(s.grid.x_um, s.intensity[row], lw=0.8, label=f"{s.name} aerial image")
    ax.plot(s.grid.x_um, s.remaining_thickness[row], lw=1.5, label=f"{s.name} h/h0")
ax.set(xlabel="x (µm)", ylabel="intensity, h/h0", title=recipe.name)
ax.legend(fontsize=7, ncol=2)
fig.tight_layout()
fig.savefig(out_dir / "cut.png", dpi=110)
print(f"wrote {out_dir}/")
