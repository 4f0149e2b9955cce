"""Maskless exposure: a DMD mirror grid as the mask, next to the same optics with a chrome mask.

    python examples/maskless_dmd.py [OUT_DIR] [--full]

Takes the shipped recipe recipes/dmd_rgb_stripe_365nm.toml (7.56 um mirrors,
5x reduced onto the film, fill factor 0.85, i-line projection at NA 0.25,
sigma 0.5), keeps its red step and simulates it, and the same step with
tool = "projection" (a chrome mask of the layer, same optics). Draws one figure
(maskless_dmd.png): the mirror pattern on the film (the dark gaps between
mirrors visible), the DMD's aerial image, and a cut through one subpixel
comparing the two images and the two developed films. By default one pixel
of the stripe cell is simulated (a few seconds); --full takes the recipe's
2 x 2 pixel window.
"""

import copy
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import litho
from litho import plot

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "recipes" / "dmd_rgb_stripe_365nm.toml"

args = [a for a in sys.argv[1:] if not a.startswith("--")]
out_dir = Path(args[0]) if args else Path("out") / "example_maskless"
out_dir.mkdir(parents=True, exist_ok=True)

raw = copy.deepcopy(dict(litho.load_recipe(RECIPE).raw))
raw["step"] = [raw["step"][0]]                         # the red step
if "--full" not in sys.argv:
    raw["mask"]["window_um"] = [0, 0, 25.4, 25.4]      # one pixel of the stripe cell
dmd = litho.recipe_from_dict(raw, source=str(RECIPE), base_dir=RECIPE.parent)
chrome_raw = copy.deepcopy(raw)
for key in ("mirror_pitch", "fill_factor", "demagnification", "grey_bits"):
    chrome_raw["exposure"].pop(key, None)
chrome_raw["exposure"]["tool"] = "projection"
chrome = litho.recipe_from_dict(chrome_raw, source=str(RECIPE), base_dir=RECIPE.parent)

step_dmd = litho.simulate(dmd).steps[0]
step_chrome = litho.simulate(chrome).steps[0]
mirrors = step_dmd.step.exposure.mask_model
grid = step_dmd.grid
pixel = step_dmd.design[0]
xmin, ymin, xmax, ymax = pixel.bounds
# a close-up of the pixel's lower half, and a cut across it
box = (xmin - 2.0, xmax + 2.0, ymin - 2.0, ymin + 9.0)
y_cut = ymin + 5.5

fig = plot.figure(10.5, 3.6)
axes = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 1, 1.5]})
extent = grid.extent_um
for ax, values, label, cmap, vmax in (
        (axes[0], step_dmd.transmission, "mirror transmission", "gray", 1.0),
        (axes[1], step_dmd.intensity, "aerial image (clear field = 1)", "cividis", None)):
    im = ax.imshow(values, origin="lower", extent=extent, cmap=cmap, vmin=0, vmax=vmax, interpolation="nearest")
    plot.draw_outlines(ax, [pixel], colour="tab:orange", lw=1.0, ls="--")
    ax.axhline(y_cut, color="white", lw=0.6, ls=":")
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel("x (µm)")
    ax.set_ylabel("y (µm)")
    ax.set_title(label)
    plot.scale_bar(ax, box[1] - box[0])
    fig.colorbar(im, ax=ax, shrink=0.8)

x_range = (box[0], box[1])
ax = axes[2]
for values, label, style in ((step_dmd.intensity, "DMD image", "-"), (step_chrome.intensity, "chrome-mask image", "--"),
                             (step_dmd.remaining_thickness, "DMD h/h0", "-"),
                             (step_chrome.remaining_thickness, "chrome h/h0", "--")):
    x, v = plot.cut_row(values, grid, y_cut, x_range)
    colour = "tab:blue" if "image" in label else "tab:green"
    ax.plot(x, v, style, color=colour, lw=1.1, label=label)
x, t = plot.cut_row(step_dmd.transmission, grid, y_cut, x_range)
ax.fill_between(x, 0, t, color="0.85", step="mid", label="mirrors (on)")
for edge in (xmin, xmax):
    ax.axvline(edge, color="tab:orange", lw=0.8, ls=":")
ax.set_xlim(*x_range)
ax.set_xlabel("x (µm)")
ax.set_ylabel("intensity, h/h0")
ax.set_title(f"cut at y = {y_cut:g} µm (dotted: design edges)")
ax.legend(fontsize=7, loc="lower center", ncol=2)
m_dmd = step_dmd.metrology.summary
m_chrome = step_chrome.metrology.summary
plot.title(fig, f"Maskless: {mirrors.pitch_um:g} µm mirrors / {mirrors.demagnification:g} = "
                f"{mirrors.projected_pitch_um:g} µm on the film, fill {mirrors.fill_factor:g}, "
                f"{mirrors.grey_bits}-bit; NA {step_dmd.step.exposure.optics.na:g}, 365 nm, "
                f"{step_dmd.step.exposure.dose_mj_cm2:g} mJ/cm². IoU {m_dmd['iou_mean']:.3f} "
                f"(chrome mask, same optics: {m_chrome['iou_mean']:.3f})")
written = plot.save(fig, out_dir / "maskless_dmd.png")
print(f"DMD: IoU {m_dmd['iou_mean']:.3f}, EPE rms {m_dmd['epe_rms_um']:.3f} um; chrome mask, same optics: "
      f"IoU {m_chrome['iou_mean']:.3f}, EPE rms {m_chrome['epe_rms_um']:.3f} um")
print(f"wrote {', '.join(str(p) for p in written)}")
