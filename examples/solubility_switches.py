"""The four solubility switches side by side: contrast curves of the shipped recipes.

    python examples/solubility_switches.py [OUT_DIR]

A crosslinker (Tris-TAD, 365 nm in air) and the three ligand switches that
litho models as mechanisms of their own -- ligand decomposition (TTT,
254 nm), ligand desorption by a photoacid (TPS-Tf, 254 nm) and ligand binding
(NHN-Tf, 365 nm in air) -- each from its shipped recipe, on an open frame.
Draws switches_contrast.png: remaining thickness h/h0 against dose, with each
curve's D50 and contrast gamma in the legend, and prints the same numbers.
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np

import litho
from litho import plot
from litho.development import contrast_curve

ROOT = Path(__file__).resolve().parents[1]
RECIPES = {
    "crosslinking (Tris-TAD, 365 nm, air)": "tristad_inp_365nm_air.toml",
    "ligand decomposition (TTT, 254 nm)": "ttt_cdse_254nm.toml",
    "ligand desorption (TPS-Tf, 254 nm)": "tpstf_inp_254nm.toml",
    "ligand binding (NHN-Tf, 365 nm, air)": "nhntf_inp_365nm_air.toml",
}

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out") / "example_switches"
out_dir.mkdir(parents=True, exist_ok=True)

figure = plot.figure(6.4, 3.8)
axes = figure.add_subplot()
for label, name in RECIPES.items():
    step = litho.load_recipe(ROOT / "recipes" / name).steps[0]
    curve = contrast_curve(step.film, step.crosslinker, step.developer, step.exposure.atmosphere,
                           step.exposure.optics.lines)
    # PLQY retention at D100, on the curve's own log-spaced doses
    plqy_d100 = float(np.interp(np.log(curve.d100), np.log(curve.doses), curve.plqy_retention))
    print(f"{label}: D0 {curve.d0:.3g}, D50 {curve.d50:.3g}, D100 {curve.d100:.3g} mJ/cm^2, "
          f"gamma {curve.gamma:.2f}, PLQY retention at D100 {plqy_d100:.2f}")
    axes.semilogx(curve.doses, curve.nrt, label=f"{label}: D50 {curve.d50:.3g} mJ/cm², γ {curve.gamma:.2f}")
axes.set_xlabel("dose (mJ/cm²)")
axes.set_ylabel("remaining thickness h/h₀")
axes.set_ylim(0, 1.05)
axes.set_title("Open-frame contrast of the four solubility switches")
axes.legend(fontsize=7, loc="lower right")
plot.save(figure, out_dir / "switches_contrast.png")
print(f"wrote {out_dir / 'switches_contrast.png'}")
