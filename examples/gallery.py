"""The figures litho draws, from one small proximity print (the pictures of docs/gallery.md).

    python examples/gallery.py [OUT_DIR]

Notebook-style: each ``# %%`` cell runs on its own in Jupyter or VS Code.
A 2 x 2 stripe cell at 1000 ppi (red subpixels) is proximity-printed at
365 nm; the script draws the simulated step (aerial image, developed
thickness, printed edges coloured by their edge-placement error), a gap
series of the aerial image, the process window of a small dose × gap sweep
and the open-frame contrast curve, each as a PNG in OUT_DIR.
"""

# %% A recipe in code
import sys
from pathlib import Path

import litho
from litho import plot
from litho.development import contrast_curve
from litho.optics import aerial_series
from litho.raster import rasterize
from litho.sweep import parse_vary, sweep

ROOT = Path(__file__).resolve().parents[1]
out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out") / "gallery"
out_dir.mkdir(parents=True, exist_ok=True)
# small PNGs (a 256-colour palette): the gallery is for reading on a screen
options = plot.FigureOptions(formats=("png",), dpi=90, palette=True)

recipe = litho.recipe_from_dict({
    "name": "Tris-TAD InP, 365 nm proximity print",
    "film": {"material": "InP/ZnSe/ZnS", "thickness": "30 nm"},
    "crosslinker": {"material": "Tris-TAD", "loading_wt_pct": 5},
    "exposure": {"tool": "proximity", "wavelength": "365 nm", "dose": "150 mJ/cm^2",
                 "gap": "5 um", "collimation_half_angle_deg": 1.5, "atmosphere": "air"},
    "developer": {"material": "octane", "time": "30 s"},
    "mask": {"file": str(ROOT / "masks" / "stripe_1000ppi_2x2.gds"), "layer": "R"},
    "simulation": {"pixel_um": 0.25},
})

# %% Simulate, then draw the step: result.plot() returns a matplotlib Figure
result = litho.simulate(recipe)
written = []
for kind in ("aerial", "thickness", "developed"):
    written += plot.save(result.plot(kind=kind), out_dir / f"gallery_{kind}.png", options)

# %% A gap series of the aerial image (what `litho aerial --gap-um 3,5,10` draws)
step = result.steps[0]
optics = step.step.exposure.optics
transmission = rasterize(litho.layout.geometry.merge(step.design), step.grid)
gaps_um = [3.0, 5.0, 10.0]
stack = aerial_series(transmission, step.grid.pixel_um, optics, gap_um=gaps_um, guard_um=optics.blur_length_um)
heading = f"Gap series: step {step.name}, {plot.tool_text(step.step, varied='gap_um')}"
written += plot.save(plot.series_figure(stack, gaps_um, "gap_um", step.grid, step.design, heading),
                     out_dir / "gallery_gap_series.png", options)

# %% The process window of a dose × gap sweep (what `litho sweep` draws)
axes = [parse_vary("exposure.dose=75:225:4"), parse_vary("exposure.gap_um=3,6")]
window = sweep(recipe, axes, scheduler="sync")
written += plot.save(plot.process_window_figure(window, f"Process window: {recipe.name}"),
                     out_dir / "gallery_process_window.png", options)

# %% The open-frame contrast curve (what `litho contrast` draws)
s = recipe.steps[0]
curve = contrast_curve(s.film, s.crosslinker, s.developer, s.exposure.atmosphere, s.exposure.optics.lines)
gammas = f"γ = {curve.gamma:.3g}, γ_IUPAC = {curve.gamma_iupac:.3g}"
written += plot.save(plot.contrast_figure(curve, s.exposure.dose_mj_cm2, f"Contrast curve: {recipe.name}",
                                          gammas), out_dir / "gallery_contrast.png", options)

m = result.report["steps"][0]["metrics"]
print(f"IoU {m['iou_mean']:.3f}, EPE rms {m['epe_rms_um']:.3f} um; {len(window['rows'])} sweep points")
print(f"wrote {len(written)} figures to {out_dir}/")
