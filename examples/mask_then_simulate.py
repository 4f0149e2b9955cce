"""Generate a pixel-array mask, then simulate printing its red subpixels.

    python examples/mask_then_simulate.py [OUT_DIR]

Makes a delta (triangle) array at 1500 ppi, 4 x 4 pixels (2 RGB triples per row, 8 rows),
with litho.pixel_array,
writes it as GDS, builds a proximity-print recipe in code and simulates it.
"""

import sys
from pathlib import Path

import litho
from litho.gds import write_gds

out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("out") / "example_mask"
out_dir.parent.mkdir(parents=True, exist_ok=True)

library = litho.pixel_array("delta", ppi=1500, gap_um=2, columns=4, rows=4, marks=False)
# beside the run's directory, not in it: a run replaces its output directory as a whole
mask_path = out_dir.parent / "delta_1500ppi.gds"
write_gds(library, mask_path)

recipe = litho.recipe_from_dict({
    "name": "Tris-TAD InP film, 365 nm proximity print of a delta array",
    "film": {"material": "InP/ZnSe/ZnS", "thickness": "30 nm"},
    "crosslinker": {"material": "Tris-TAD", "loading_wt_pct": 5},
    "exposure": {"tool": "proximity", "wavelength": "365 nm", "dose": "150 mJ/cm^2",
                 "gap": "5 um", "collimation_half_angle_deg": 1.5, "atmosphere": "air"},
    "developer": {"material": "octane", "time": "30 s"},
    "mask": {"file": str(mask_path), "layer": "R"},
})
result = litho.simulate(recipe)
result.save(out_dir)
m = result.report["steps"][0]["metrics"]
print(f"{m['designed_pixels']} red pixels: IoU {m['iou_mean']:.3f}, missing {m['missing_pixels']}, "
      f"bridges {m['bridges']}, EPE rms {m['epe_rms_um']:.3f} um")
print(f"wrote {out_dir}/")
