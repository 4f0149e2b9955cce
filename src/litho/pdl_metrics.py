"""What a step leaves over pixel-define-layer banks: residue on bank tops, edges, opening coverage.

The report's ``substrate`` block of a step (docs/report.md) from its
:class:`litho.topography.Coating` and developed film. Thicknesses are the
developed film's h/h0 times the local coated h0, in µm:

- ``bank_tops``: the flat tops of the banks between the openings (samples at
  the full bank height inside the bounding box of the openings; the field
  outside the array is left out): the coated thickness there and the film
  this step leaves on them after development (residue), mean and max, and
  its mean h/h0;
- ``pixel_edges``: along the edge of each of this step's openings (the foot
  of the bank sidewall), the coated and the developed thickness, mean and min;
- ``openings``: for each PDL opening inside this step's designed pixels, the
  fraction of its area covered by developed film (film coated there and
  h/h0 >= the recipe's threshold), and the coated thickness at its centre.
"""

from __future__ import annotations

import numpy as np
import shapely

from .grid import Grid

__all__ = ["substrate_report", "step_openings", "bank_top_mask", "edge_values"]

#: A sample is on a bank top when it lies within this fraction of the bank height below the top.
TOP_TOLERANCE = 1e-6


def step_openings(substrate, design) -> list:
    """The PDL openings whose representative point lies in one of ``design``'s pixels."""
    if not design:
        return []
    pixels = shapely.union_all(list(design))
    return [o for o in substrate.openings if pixels.contains(o.representative_point())]


def bank_top_mask(substrate) -> np.ndarray:
    """Samples on a bank's flat top, between the openings (bool, grid shape)."""
    height = substrate.height_um
    top = height >= substrate.spec.bank_height_um * (1.0 - TOP_TOLERANCE)
    if substrate.spec.bank_height_um == 0.0 or not substrate.openings:
        return np.zeros(height.shape, dtype=bool)
    xmin, ymin, xmax, ymax = shapely.union_all(list(substrate.openings)).bounds
    g = substrate.grid
    inside = ((g.x_um[None, :] >= xmin) & (g.x_um[None, :] <= xmax)
              & (g.y_um[:, None] >= ymin) & (g.y_um[:, None] <= ymax))
    return top & inside


def edge_values(values: np.ndarray, grid: Grid, polygons, spacing_um: float | None = None) -> np.ndarray:
    """``values`` interpolated (bilinear) at points every ``spacing_um`` along the polygons' exteriors."""
    from scipy.ndimage import map_coordinates

    step = spacing_um or grid.pixel_um / 2.0
    xs, ys = [], []
    for poly in polygons:
        ring = poly.exterior
        n = max(4, int(np.ceil(ring.length / step)))
        pts = shapely.line_interpolate_point(ring, np.linspace(0.0, ring.length, n, endpoint=False))
        coords = shapely.get_coordinates(pts)
        xs.append(coords[:, 0])
        ys.append(coords[:, 1])
    if not xs:
        return np.zeros(0)
    x, y = np.concatenate(xs), np.concatenate(ys)
    cols = (x - grid.origin_um[0]) / grid.pixel_um - 0.5
    rows = (y - grid.origin_um[1]) / grid.pixel_um - 0.5
    return map_coordinates(values, [rows, cols], order=1, mode="nearest")


def _coverage(poly, grid: Grid) -> tuple[np.ndarray, tuple[slice, slice]]:
    """Area coverage of ``poly`` on the part of ``grid`` around it, and that part's slices."""
    from .raster import rasterize

    x0, y0 = grid.origin_um
    dx = grid.pixel_um
    xmin, ymin, xmax, ymax = poly.bounds
    i0, i1 = max(int(np.floor((ymin - y0) / dx)) - 1, 0), min(int(np.ceil((ymax - y0) / dx)) + 1, grid.shape[0])
    j0, j1 = max(int(np.floor((xmin - x0) / dx)) - 1, 0), min(int(np.ceil((xmax - x0) / dx)) + 1, grid.shape[1])
    sub = Grid((i1 - i0, j1 - j0), dx, (x0 + j0 * dx, y0 + i0 * dx))
    return rasterize(poly, sub), (slice(i0, i1), slice(j0, j1))


def substrate_report(step_result) -> dict | None:
    """The ``substrate`` block of a step's report entry (None on a flat substrate)."""
    coating = getattr(step_result, "coating", None)
    if coating is None:
        return None
    substrate = coating.substrate
    spec = substrate.spec
    grid = step_result.grid
    h0_um = coating.thickness_nm * 1e-3
    nrt = np.asarray(step_result.remaining_thickness)
    developed_um = nrt * h0_um
    threshold = step_result.metrology.threshold
    tops = bank_top_mask(substrate)
    on_tops = tops & (h0_um > 0)
    openings = step_openings(substrate, step_result.design)
    covered = (h0_um > 0) & (nrt >= threshold)

    records = []
    for k, poly in enumerate(openings):
        weight, where = _coverage(poly, grid)
        area = float(weight.sum())
        centre = poly.centroid if poly.contains(poly.centroid) else poly.representative_point()
        records.append({
            "index": k,
            "centroid_um": [float(poly.centroid.x), float(poly.centroid.y)],
            "area_um2": float(poly.area),
            "covered_fraction": float((weight * covered[where]).sum() / area) if area > 0 else None,
            "coated_thickness_centre_um": _at(h0_um, grid, centre.x, centre.y),
        })
    fractions = np.array([r["covered_fraction"] for r in records if r["covered_fraction"] is not None])
    edge_coated = edge_values(h0_um, grid, openings)
    edge_developed = edge_values(developed_um, grid, openings)
    return {
        "bank_layer": list(spec.bank_layer),
        "bank_height_um": spec.bank_height_um,
        "sidewall_deg": spec.sidewall_deg,
        "sidewall_run_um": spec.sidewall_run_um,
        "levelling_length_um": spec.levelling_length_um,
        "levelling_kernel": spec.levelling_kernel,
        "solids_fraction": spec.solids_fraction,
        "planar_thickness_um": coating.planar_thickness_nm * 1e-3,
        "coated_thickness_mean_um": float(h0_um.mean()),
        "coated_thickness_min_um": float(h0_um.min()),
        "coated_thickness_max_um": float(h0_um.max()),
        "uncoated_area_fraction": float((h0_um <= 0).mean()),
        "bank_tops": {
            "area_fraction": float(tops.mean()),
            "coated_thickness_mean_um": float(h0_um[tops].mean()) if tops.any() else None,
            "residue_thickness_mean_um": float(developed_um[tops].mean()) if tops.any() else None,
            "residue_thickness_max_um": float(developed_um[tops].max()) if tops.any() else None,
            "residue_nrt_mean": float(nrt[on_tops].mean()) if on_tops.any() else None,
        },
        "pixel_edges": {
            "samples": int(edge_coated.size),
            "coated_thickness_mean_um": float(edge_coated.mean()) if edge_coated.size else None,
            "coated_thickness_min_um": float(edge_coated.min()) if edge_coated.size else None,
            "developed_thickness_mean_um": float(edge_developed.mean()) if edge_developed.size else None,
            "developed_thickness_min_um": float(edge_developed.min()) if edge_developed.size else None,
        },
        "openings": {
            "count": len(records),
            "covered_fraction_mean": float(fractions.mean()) if fractions.size else None,
            "covered_fraction_min": float(fractions.min()) if fractions.size else None,
            "per_opening": records,
        },
    }


def _at(values: np.ndarray, grid: Grid, x_um: float, y_um: float) -> float:
    """``values`` at one point (bilinear)."""
    from scipy.ndimage import map_coordinates

    col = (x_um - grid.origin_um[0]) / grid.pixel_um - 0.5
    row = (y_um - grid.origin_um[1]) / grid.pixel_um - 0.5
    return float(map_coordinates(values, [[row], [col]], order=1, mode="nearest")[0])
