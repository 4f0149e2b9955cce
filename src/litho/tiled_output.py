"""The outputs of a tiled run, written as tiles finish (DESIGN.md §4).

:class:`TiledWriter` takes one simulated tile at a time with the tiles that
share its geometry, and keeps only what is bounded by the tile or by a
decimated picture of the panel:

- per-pixel rows go to one part file per (step, tile row) on disk; at the end
  each part is sorted by (y, x) and appended to ``pixels.csv`` (written under
  a temporary name and renamed whole), so the table has one row per designed
  pixel in the same order whatever the tile size or the order tiles finished;
- summary statistics per step (colour) are merged chunk by chunk (Chan's
  parallel mean/variance), defects are flagged against the median printed
  area of their colour;
- the printed contours of a simulated tile go into one cell of the predicted
  layout, placed by reference at every tile that shares it (predicted.oas
  above ``OASIS_ABOVE_PIXELS`` pixels, else predicted.gds);
- the overview is h/h0 averaged over k x k blocks of samples (point samples
  would alias a pixel array into moiré); the full field is stitched only
  when asked (small runs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import gdstk
import numpy as np
import shapely

from .tiling import PIXEL_FIELDS

# Predicted contours go to OASIS above this many pixels (GDS has no compression).
OASIS_ABOVE_PIXELS = 200_000
# A pixel's printed area this far (relative) from its colour's median is a defect.
AREA_DEFECT_FRACTION = 0.05
METRIC_COLUMNS = ("design_area_um2", "printed_area_um2", "cd_x_um", "cd_y_um", "centroid_shift_um", "iou",
                  "epe_rms_um", "mean_nrt", "centre_nrt")
CSV_COLUMNS = ("step", "index", "design_x_um", "design_y_um", *METRIC_COLUMNS, "cd_x_error_um", "cd_y_error_um",
               "missing", "bridged")
# Printed contours are offset to this layer + the step's mask layer in the predicted layout.
PREDICTED_LAYER_OFFSET = 100
_COL = {name: n for n, name in enumerate(PIXEL_FIELDS)}


class _Moments:
    """Count, mean, M2, min and max of a stream of chunks (Chan et al.'s pairwise update)."""

    def __init__(self):
        self.n, self.mean, self.m2, self.lo, self.hi = 0, 0.0, 0.0, math.inf, -math.inf

    def add(self, values: np.ndarray) -> None:
        values = values[np.isfinite(values)]
        if not values.size:
            return
        n, mean = values.size, float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta ** 2 * self.n * n / total
        self.n = total
        self.lo, self.hi = min(self.lo, float(values.min())), max(self.hi, float(values.max()))

    def summary(self):
        if not self.n:
            return None
        return {"mean": round(self.mean, 6), "std": round(math.sqrt(self.m2 / self.n), 6),
                "min": round(self.lo, 6), "max": round(self.hi, 6)}


class TiledWriter:
    """Collects the tiles of a tiled run as they finish (module notes).

    Parameters
    ----------
    plan : litho.tiling.TilePlan
    recipe : litho.recipe.Recipe
    parts_dir : Path
        A scratch directory for the per-(step, tile row) part files.
    overview_step : int
        Decimation of the overview.
    keep_field : bool
        Stitch the full h/h0 and image.
    keep_pixels : bool
        Also return the rows (TiledStep.pixels) instead of only writing them.
    """

    def __init__(self, plan, recipe, parts_dir: Path, overview_step: int, keep_field: bool, keep_pixels: bool):
        self.plan, self.recipe, self.parts = plan, recipe, Path(parts_dir)
        self.k, self.keep_field, self.keep_pixels = overview_step, keep_field, keep_pixels
        self.library = gdstk.Library(unit=1e-6, precision=1e-9)
        self.top = gdstk.Cell("predicted")
        self.steps: list = []
        self.written: list = []

    def start_step(self, index: int, step) -> None:
        """Begin a step: empty overview (and field), no rows yet."""
        from .gds import parse_layer

        ny, nx = self.plan.grid.shape
        k = self.k
        self.steps.append({
            "index": index, "name": step.name, "layer": tuple(parse_layer(step.mask.layer)),
            "overview_sum": np.zeros((math.ceil(ny / k), math.ceil(nx / k))),
            "overview_n": np.zeros((math.ceil(ny / k), math.ceil(nx / k)), dtype=np.int32),
            "h": np.zeros((ny, nx)) if self.keep_field else None,
            "intensity": np.zeros((ny, nx)) if self.keep_field else None,
            "residue": 0.0, "ratios": [], "cells": 0})

    def add(self, index: int, result, tiles) -> None:
        """One simulated tile (``result``, of ``tiles[0]``) placed on every tile of ``tiles``."""
        state = self.steps[-1]
        assert state["index"] == index
        first = tiles[0]
        p = self.plan.grid.pixel_um
        cell = self._cell(state, result.printed)
        core_h = result.remaining_thickness
        design_area = result.pixels[:, _COL["design_area_um2"]]
        has_area = design_area > 0
        ratio = result.pixels[has_area, _COL["printed_area_um2"]] / design_area[has_area]
        for tile in tiles:
            di, dj = tile.core[0] - first.core[0], tile.core[2] - first.core[2]
            rows = result.pixels.copy()
            rows[:, _COL["design_x_um"]] += dj * p
            rows[:, _COL["design_y_um"]] += di * p
            if len(rows):
                with open(self._part(index, tile.row), "ab") as f:
                    np.save(f, rows, allow_pickle=False)
            state["ratios"].append(ratio)
            i0, i1, j0, j1 = tile.core
            # the overview is the mean of each k x k block of the grid (point samples alias a pixel array);
            # a block cut by a tile edge is completed by the neighbouring tile
            bi, bj, sums, counts = _block_sums(core_h, i0, j0, self.k)
            state["overview_sum"][np.ix_(bi, bj)] += sums
            state["overview_n"][np.ix_(bi, bj)] += counts
            if self.keep_field:
                state["h"][i0:i1, j0:j1] = core_h
                state["intensity"][i0:i1, j0:j1] = result.intensity
            if cell is not None:
                self.top.add(gdstk.Reference(cell, (dj * p, di * p)))
            state["residue"] = max(state["residue"], result.residue_max_nrt)

    def _part(self, index: int, band: int) -> Path:
        return self.parts / f"step{index}_row{band:06d}.npy"

    def _cell(self, state, printed):
        """A cell of the predicted layout holding one simulated tile's printed contours (None: nothing printed)."""
        if not printed:
            return None
        layer = PREDICTED_LAYER_OFFSET + state["layer"][0]
        cell = gdstk.Cell(f"{state['name']}_tile{state['cells']}")
        state["cells"] += 1
        for poly in shapely.get_parts(np.asarray(printed, dtype=object)):
            if poly.is_empty or poly.geom_type != "Polygon":
                continue
            outer = np.asarray(poly.exterior.coords)[:-1]
            if not len(poly.interiors):
                cell.add(gdstk.Polygon(outer, layer=layer))
            else:
                holes = [np.asarray(r.coords)[:-1] for r in poly.interiors]
                cell.add(*gdstk.boolean([outer], holes, "not", precision=1e-3, layer=layer))
        self.library.add(cell)
        return cell

    def finish(self, out_dir: Path | None, *, figures: bool, tiles_total: int, tiles_simulated: int):
        """Sort and write the rows, the report, the predicted layout and the overview; return (steps, report)."""
        from .tiling import TiledStep

        csv = None
        if out_dir is not None:
            table = out_dir / "pixels.csv.partial"
            csv = open(table, "w", newline="")
            csv.write(",".join(CSV_COLUMNS) + "\n")
        steps, report_steps = [], []
        try:
            for state in self.steps:
                rows_kept, summary = self._rows(state, csv)
                overview = (state.pop("overview_sum") / np.maximum(state.pop("overview_n"), 1)).astype(np.float32)
                steps.append(TiledStep(name=state["name"], layer=state["layer"], pixels=rows_kept,
                                       residue_max_nrt=state["residue"], remaining_thickness=state["h"],
                                       intensity=state["intensity"], overview=overview,
                                       overview_step=self.k))
                report_steps.append(summary)
        finally:
            if csv is not None:
                csv.close()
        report = self._report(report_steps, tiles_total, tiles_simulated)
        if out_dir is not None:
            table.rename(out_dir / "pixels.csv")
            self.written.append(out_dir / "pixels.csv")
            (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n")
            self.written.append(out_dir / "report.json")
            pixels = sum(s["designed_pixels"] for s in report_steps)
            name = "predicted.oas" if pixels > OASIS_ABOVE_PIXELS else "predicted.gds"
            self.library.add(self.top)
            if name.endswith(".oas"):
                self.library.write_oas(str(out_dir / name))
            else:
                self.library.write_gds(str(out_dir / name))
            self.written.append(out_dir / name)
            if figures:
                self.written.append(_overview_figure(self.plan.grid, steps, out_dir / "overview.png"))
        return steps, report

    def _rows(self, state, csv):
        """Stream one step's rows in (y, x) order: statistics, defects, the CSV and the kept rows."""
        ratios = np.concatenate(state["ratios"]) if state["ratios"] else np.zeros(0)
        median = float(np.median(ratios)) if ratios.size else 0.0
        moments = {key: _Moments() for key in METRIC_COLUMNS}
        found = {"missing": [], "bridged": [], "area_off": []}
        kept = [] if self.keep_pixels else None
        count = missing = bridged = 0
        for band in range(self.plan.shape[0]):
            path = self._part(state["index"], band)
            if not path.exists():
                continue
            chunks = []
            size = path.stat().st_size
            with open(path, "rb") as f:
                while f.tell() < size:
                    chunks.append(np.load(f, allow_pickle=False))
            path.unlink()
            rows = np.vstack(chunks)
            rows = rows[np.lexsort((np.round(rows[:, _COL["design_x_um"]], 6),
                                    np.round(rows[:, _COL["design_y_um"]], 6)))]
            is_missing = rows[:, _COL["missing"]] > 0
            is_bridged = rows[:, _COL["bridged"]] > 0
            for key in METRIC_COLUMNS:
                moments[key].add(rows[~is_missing, _COL[key]])
            area = rows[:, _COL["design_area_um2"]]
            with np.errstate(invalid="ignore", divide="ignore"):
                off = (area > 0) & (np.abs(rows[:, _COL["printed_area_um2"]] / area - median)
                                    > AREA_DEFECT_FRACTION * max(median, 1e-12))
            where = np.round(rows[:, [_COL["design_x_um"], _COL["design_y_um"]]], 4)
            found["missing"].extend(where[is_missing].tolist())
            found["bridged"].extend(where[~is_missing & is_bridged].tolist())
            found["area_off"].extend(where[~is_missing & ~is_bridged & off].tolist())
            if csv is not None:
                csv.write(_csv_lines(state["name"], count, rows))
            if kept is not None:
                kept.extend(_row_dicts(rows, count))
            count += len(rows)
            missing += int(is_missing.sum())
            bridged += int(is_bridged.sum())
        summary = {"name": state["name"], "layer": list(state["layer"]), "designed_pixels": count,
                   "missing_pixels": missing, "bridged_pixels": bridged,
                   "residue_max_nrt": round(state["residue"], 6),
                   "statistics": {key: moments[key].summary() for key in METRIC_COLUMNS}, "defects": found}
        return kept, summary

    def _report(self, steps, tiles_total: int, tiles_simulated: int) -> dict:
        plan, recipe = self.plan, self.recipe
        p = plan.grid.pixel_um
        return {"recipe": str(recipe.path or recipe.name), "name": recipe.name, "seed": recipe.seed,
                "tiling": {"grid_shape": list(plan.grid.shape), "pixel_um": p,
                           "tile_samples": plan.tile_px, "tile_um": round(plan.tile_px * p, 6),
                           "array_pitch_um": list(plan.array_pitch_um),
                           "tile_period_um": round(plan.period_px * p, 6),
                           "halo_um": round(plan.halo_px * p, 6),
                           "measure_margin_um": round(plan.margin_px * p, 6),
                           "tiles": tiles_total, "tiles_simulated": tiles_simulated},
                "steps": steps}


def _block_sums(field: np.ndarray, i0: int, j0: int, k: int):
    """Sums and sample counts of ``field`` (first sample at grid row i0, column j0) over the grid's k x k blocks.

    Returns (block rows, block columns, sums, counts).
    """
    ni, nj = field.shape
    ri, rj = (i0 + np.arange(ni)) // k, (j0 + np.arange(nj)) // k
    si = np.flatnonzero(np.r_[True, np.diff(ri) > 0])
    sj = np.flatnonzero(np.r_[True, np.diff(rj) > 0])
    sums = np.add.reduceat(np.add.reduceat(np.asarray(field, dtype=float), si, axis=0), sj, axis=1)
    counts = np.outer(np.diff(np.r_[si, ni]), np.diff(np.r_[sj, nj]))
    return ri[si], rj[sj], sums, counts


def _fmt(v: float) -> str:
    return "" if not math.isfinite(v) else f"{v:.6g}"


def _csv_lines(step: str, start: int, rows: np.ndarray) -> str:
    """CSV lines (CSV_COLUMNS) of ``rows`` numbered from ``start``."""
    c = _COL
    metric = [c[k] for k in METRIC_COLUMNS]
    out = []
    for n, r in enumerate(rows, start):
        out.append(",".join((step, str(n), f"{r[c['design_x_um']]:.4f}", f"{r[c['design_y_um']]:.4f}",
                             *[_fmt(r[m]) for m in metric], _fmt(r[c["cd_x_um"]] - r[c["design_cd_x_um"]]),
                             _fmt(r[c["cd_y_um"]] - r[c["design_cd_y_um"]]), str(int(r[c["missing"]] > 0)),
                             str(int(r[c["bridged"]] > 0)))))
    return "\n".join(out) + "\n" if out else ""


def _row_dicts(rows: np.ndarray, start: int) -> list:
    """Rows as dicts of PIXEL_FIELDS (NaN -> None), with ``index`` and ``design_centroid_um``."""
    out = []
    for n, r in enumerate(rows, start):
        d = {name: (None if not math.isfinite(r[i]) else float(r[i])) for name, i in _COL.items()}
        d["missing"], d["bridged"] = bool(r[_COL["missing"]] > 0), bool(r[_COL["bridged"]] > 0)
        d["design_centroid_um"] = [d["design_x_um"], d["design_y_um"]]
        d["index"] = n
        out.append(d)
    return out


def _overview_figure(grid, steps, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(steps), figsize=(4.5 * len(steps), 4.2), squeeze=False)
    for ax, step in zip(axes[0], steps):
        im = ax.imshow(step.overview, origin="lower", extent=grid.extent_um, vmin=0, vmax=1, cmap="viridis",
                       interpolation="antialiased")  # a display pixel spans many pitches
        ax.set(title=f"{step.name}: h/h0 (mean of {step.overview_step}² samples)", xlabel="x (µm)", ylabel="y (µm)")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
