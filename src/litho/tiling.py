"""Tiled simulation of a layout larger than one window (DESIGN.md §4).

The simulation grid of a recipe (:func:`litho.process.prepare`) is cut into
square *tiles* of whole samples. Each tile is simulated on its own window:
the tile, a *measure margin* (room for the pixels whose centroid lies in the
tile) and an optical *halo* around both, with the real mask content of the
whole window read from the layout (``read_mask(window=...)``). The developed
film is cropped to the tile and its margin, and measured there; every
designed pixel is reported by exactly one tile, the one that holds its
centroid. The halo is where the tile's image differs from the untiled one:

- contact / proximity printing: ``HALO_FRESNEL_LENGTHS`` Fresnel lengths
  √(λ g) plus the geometric blur of the collimation cone;
- projection: ``HALO_WAVELENGTHS_PER_NA`` λ/NA plus the defocus spread.

``benchmarks/bench_tiling.py`` measures the error of a tiled image against
the untiled one as the halo grows (benchmarks/README.md): at 16 Fresnel
lengths it is 7.8e-5 of the clear field on the tested hard-contact case;
beyond ~8 the remaining ~1e-4 moves with the window's FFT size (the optics'
own sampling), not with the halo. The projection multiple is the optics'
guard band, not yet measured against an untiled image.

Tiles whose window holds the same geometry up to a translation (the normal
case inside a pixel array) are simulated once: the key is a hash of the
window's geometry moved to the window's origin. A stochastic run gives each
tile its own random stream, derived from the recipe seed and the tile's
(step, row, column) index (numpy ``SeedSequence``), so it does not depend on
which worker ran which tile or in which order (it then skips the
deduplication). The noise is drawn over each tile's window by the
development stage, so a different tile size gives a different (equally
valid) realisation: the run is deterministic for a given plan, not
bit-identical across tile sizes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely import affinity

from .errors import LithoInputError
from .grid import Grid

# Halo multiples: the tiled image within 1e-4 of the untiled one (benchmarks/bench_tiling.py).
HALO_FRESNEL_LENGTHS = 16.0
HALO_WAVELENGTHS_PER_NA = 10.0
# Largest tile side, samples: tiles are also the unit of work handed to a scheduler.
MAX_TILE_SAMPLES = 2048
# Share of the memory litho may use that one tile's window may take (the rest: results, other tasks).
TILE_MEMORY_SHARE = 0.5
# Geometry is compared on this grid (µm) when deciding whether two tiles are the same.
HASH_PRECISION_UM = 1e-6


@dataclass(frozen=True)
class Tile:
    """One tile: its samples on the simulation grid and the window it is simulated on.

    Attributes
    ----------
    row, col : int
        Tile index in the plan.
    core : (i0, i1, j0, j1)
        Rows i0:i1 and columns j0:j1 of the simulation grid the tile reports.
    """

    row: int
    col: int
    core: tuple[int, int, int, int]


@dataclass(frozen=True)
class TilePlan:
    """How a simulation grid is cut into tiles.

    Attributes
    ----------
    grid : Grid
        The whole simulation grid.
    tile_px : int
        Tile side, samples.
    margin_px : int
        Measure margin around a tile, samples (half the largest designed pixel, and 2).
    halo_px : int
        Optical halo around tile and margin, samples.
    halo_um : float
        The optical halo the optics need, µm (before rounding to samples).
    tiles : tuple of Tile
    """

    grid: Grid
    tile_px: int
    margin_px: int
    halo_px: int
    halo_um: float
    tiles: tuple = field(repr=False, default=())

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of tiles."""
        return (max(t.row for t in self.tiles) + 1, max(t.col for t in self.tiles) + 1)

    def window(self, tile: Tile) -> Grid:
        """The grid a tile is simulated on: core, margin and halo."""
        pad = self.margin_px + self.halo_px
        return self._sub(tile.core, pad)

    def measured(self, tile: Tile) -> Grid:
        """The grid a tile is measured on: core and margin."""
        return self._sub(tile.core, self.margin_px)

    def _sub(self, core, pad: int) -> Grid:
        i0, i1, j0, j1 = core
        x0, y0 = self.grid.origin_um
        p = self.grid.pixel_um
        return Grid((i1 - i0 + 2 * pad, j1 - j0 + 2 * pad), p, (x0 + (j0 - pad) * p, y0 + (i0 - pad) * p))


def halo_um(optics) -> float:
    """The optical halo a tile needs, µm (module notes)."""
    if hasattr(optics, "fresnel_length_um"):
        fresnel = max(optics.fresnel_length_um(w) for w, _ in optics.lines)
        return HALO_FRESNEL_LENGTHS * fresnel + float(getattr(optics, "geometric_blur_um", 0.0))
    lam_um = max(w for w, _ in optics.lines) * 1e-3
    spread = abs(optics.defocus_um) * math.tan(math.asin(optics.na / optics.immersion_index))
    return HALO_WAVELENGTHS_PER_NA * lam_um / optics.na + spread


def pixel_extent_um(designs) -> float:
    """The largest side of any designed pixel's bounding box, µm (0 with no design)."""
    best = 0.0
    for design in designs:
        if len(design):
            bounds = shapely.bounds(np.asarray(design, dtype=object))
            best = max(best, float(np.max(np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]))))
    return best


def plan_tiles(setup, tile_um: float | None = None, *, available_bytes: int | None = None) -> TilePlan:
    """Cut the grid of ``setup`` into tiles.

    Parameters
    ----------
    setup : litho.process.Setup
    tile_um : float, optional
        Tile side, µm; by default the largest tile whose window fits in
        ``TILE_MEMORY_SHARE`` of the memory litho may use (at most
        ``MAX_TILE_SAMPLES`` samples).
    available_bytes : int, optional
        Memory litho may use; default :func:`litho.memory.memory_limit`.

    Raises
    ------
    LithoInputError
        A tile smaller than its halo, a periodic window (it is one period
        already), or no tile that fits in memory.
    """
    from .memory import MEMORY_FRACTION, estimate_simulation, format_bytes, memory_limit

    recipe, grid = setup.recipe, setup.grid
    source = str(recipe.path or "recipe")
    if recipe.simulation.window == "periodic":
        raise LithoInputError(f"{source}: a periodic window is one period already; tiling is for isolated windows")
    pitch = grid.pixel_um
    halo = max(halo_um(s.exposure.optics) for s in recipe.steps)
    halo_px = int(math.ceil(halo / pitch - 1e-9))
    # a pixel whose centroid is in the tile reaches at most half its extent beyond it
    margin_px = int(math.ceil(0.5 * pixel_extent_um(setup.designs) / pitch - 1e-9)) + 2
    if tile_um is not None:
        if not (tile_um > 0 and math.isfinite(tile_um)):
            raise LithoInputError(f"--tile {tile_um!r}: give a tile side > 0 µm")
        if tile_um < halo:
            raise LithoInputError(f"--tile {tile_um:g}: a tile must be at least its halo of {halo:.3g} µm "
                                  f"(the optics' reach); give --tile {math.ceil(halo):d} or more")
        tile_px = max(1, int(round(tile_um / pitch)))
    else:
        allowed = MEMORY_FRACTION * TILE_MEMORY_SHARE * (available_bytes or memory_limit()[0])
        pad = 2 * (margin_px + halo_px)
        probe = 256
        per_sample = estimate_simulation(Grid((probe + pad, probe + pad), pitch, (0.0, 0.0)), recipe).total_bytes \
            / (probe + pad) ** 2
        side = int(math.sqrt(allowed / per_sample)) - pad
        tile_px = min(MAX_TILE_SAMPLES, side)
        if tile_px < max(halo_px, 8):
            raise LithoInputError(f"{source}: even a tile of its halo ({halo:.3g} µm) needs more than "
                                  f"{format_bytes(allowed)}; use a coarser --pixel-um")
    ny, nx = grid.shape
    tiles = []
    for r, i0 in enumerate(range(0, ny, tile_px)):
        for c, j0 in enumerate(range(0, nx, tile_px)):
            tiles.append(Tile(r, c, (i0, min(ny, i0 + tile_px), j0, min(nx, j0 + tile_px))))
    return TilePlan(grid=grid, tile_px=tile_px, margin_px=margin_px, halo_px=halo_px, halo_um=halo,
                    tiles=tuple(tiles))


def tile_seed(seed: int | None, tile: Tile, step_index: int) -> int:
    """The random stream of one tile of one step: from the recipe seed and the tile's index only."""
    sequence = np.random.SeedSequence(entropy=0 if seed is None else int(seed),
                                      spawn_key=(int(step_index), int(tile.row), int(tile.col)))
    return int(sequence.generate_state(1, dtype=np.uint64)[0])


@dataclass(frozen=True)
class TileTask:
    """Everything one tile of one step needs, picklable for a Dask worker."""

    recipe: object
    step_index: int
    plan: TilePlan
    tile: Tile
    keep_field: bool = True
    overview_step: int = 1
    design_path: object = None


@dataclass(frozen=True)
class TileResult:
    """One tile of one step, in the frame of the simulation grid.

    Attributes
    ----------
    tile : Tile
    remaining_thickness, intensity : ndarray
        h/h0 and the aerial image on the tile's core samples (None when not kept).
    overview : ndarray
        h/h0 at every ``overview_step``-th sample of the simulation grid inside the tile.
    pixels : list of dict
        :class:`litho.metrology.PixelMetrics` of the pixels whose centroid lies in the tile.
    printed : list of shapely Polygon
        Printed contours whose centroid lies in the tile, µm.
    residue_max_nrt : float
        Largest h/h0 outside the designed pixels in the tile's measured window.
    """

    tile: Tile
    remaining_thickness: np.ndarray | None
    intensity: np.ndarray | None
    overview: np.ndarray
    pixels: list
    printed: list
    residue_max_nrt: float


def _read(step, bounds, path=None):
    """The step's mask layer inside ``bounds`` (µm): geometry clipped to it; empty where nothing is drawn.

    ``path``: read the same layer from this layout instead (the intended design).
    """
    from .gds import read_mask

    try:
        mask = read_mask(path or step.mask.path, layer=step.mask.layer, cell=None if path else step.mask.cell,
                         window=bounds)
    except LithoInputError as error:
        if "outside the layout" in str(error) or "empty" in str(error):
            return ()
        raise
    return tuple(mask.polygons)


def _window_bounds(window: Grid, offset=(0.0, 0.0)):
    x0, y0, x1, y1 = window.extent_um[0], window.extent_um[2], window.extent_um[1], window.extent_um[3]
    return (x0 - offset[0], y0 - offset[1], x1 - offset[0], y1 - offset[1])


def _clip_to_mask_window(step, bounds):
    """``bounds`` clipped to the step's ``mask.window_um`` (None when it lies outside)."""
    if step.mask.window_um is None:
        return bounds
    wx0, wy0, wx1, wy1 = step.mask.window_um
    b = (max(bounds[0], wx0), max(bounds[1], wy0), min(bounds[2], wx1), min(bounds[3], wy1))
    return b if b[0] < b[2] and b[1] < b[3] else None


def window_content(task: TileTask):
    """(exposed geometry, designed geometry) of a tile's window, µm, as read from the mask.

    The design is the mask itself, or the same layer of ``task.design_path``
    (the intended layout, when the mask carries defects to find).
    """
    recipe, plan = task.recipe, task.plan
    step = recipe.steps[task.step_index]
    window = plan.window(task.tile)
    overlay = tuple(float(v) for v in step.exposure.overlay_um)
    designed_bounds = _clip_to_mask_window(step, _window_bounds(window))
    designed = _read(step, designed_bounds) if designed_bounds else ()
    if task.design_path is not None:
        exposed = designed
        designed = _read(step, designed_bounds, task.design_path) if designed_bounds else ()
        if overlay == (0.0, 0.0):
            return exposed, designed
    elif overlay == (0.0, 0.0):
        return designed, designed
    # the mask exposed in the window is the design read where the overlay moves it from
    exposed_bounds = _clip_to_mask_window(step, _window_bounds(window, overlay))
    return (_read(step, exposed_bounds) if exposed_bounds else ()), designed


def geometry_key(task: TileTask, exposed, designed=None) -> str:
    """A hash of the window's geometry (exposed and designed) moved to the window's origin.

    Tiles equal up to a translation share it.
    """
    window = task.plan.window(task.tile)
    x0, y0 = window.origin_um
    digest = hashlib.sha256(repr((task.step_index, window.shape)).encode())
    for part in (exposed, exposed if designed is None else designed):
        digest.update(b"|")
        if part:
            moved = [affinity.translate(p, -x0, -y0) for p in part]
            moved = shapely.normalize(shapely.set_precision(np.asarray(moved, dtype=object), HASH_PRECISION_UM))
            for wkb in sorted(shapely.to_wkb(moved, hex=False)):
                digest.update(wkb)
    return digest.hexdigest()


def run_tile(task: TileTask) -> TileResult:
    """Simulate one tile of one step (pure: the same task gives the same result on any worker)."""
    from .metrology import measure
    from .process import simulate_step, shifted

    recipe, plan, tile = task.recipe, task.plan, task.tile
    step = recipe.steps[task.step_index]
    window = plan.window(tile)
    exposed, designed = window_content(task)
    overlay = tuple(float(v) for v in step.exposure.overlay_um)
    sim = recipe.simulation
    if sim.stochastic:
        local = dataclasses.replace(recipe, seed=tile_seed(recipe.seed, tile, task.step_index))
    else:
        local = recipe
    # simulate_step exposes its design moved by the overlay: give it the exposed content moved back
    imaged = shifted(exposed, (-overlay[0], -overlay[1])) if overlay != (0.0, 0.0) else exposed
    result = simulate_step(step, step.mask.layer, tuple(imaged), window, local, overlay_um=overlay)
    pad = plan.margin_px + plan.halo_px
    h = result.remaining_thickness[plan.halo_px:-plan.halo_px or None, plan.halo_px:-plan.halo_px or None]
    measured = plan.measured(tile)
    # every design the measured window touches is given, so neighbours' pixels are not residue;
    # only those whose centroid lies in the tile are reported
    box = shapely.box(*_window_bounds(measured))
    touching = [p for p in designed if p.intersects(box)]
    metrology = measure(np.ascontiguousarray(h), measured, touching, sim.threshold)
    core = _window_bounds(plan._sub(tile.core, 0))
    rows = []
    for poly, metrics in zip(touching, metrology.pixels):
        c = poly.centroid
        if _owns(core, c.x, c.y, plan):
            rows.append(metrics.as_dict())
    printed = [p for p in metrology.printed if _owns(core, p.centroid.x, p.centroid.y, plan)]
    i = slice(pad, pad + tile.core[1] - tile.core[0])
    j = slice(pad, pad + tile.core[3] - tile.core[2])
    keep, k = task.keep_field, task.overview_step
    core_h = result.remaining_thickness[i, j]
    i0, i1, j0, j1 = tile.core
    # the overview takes every k-th sample of the whole grid
    overview = core_h[np.ix_(np.arange(-(-i0 // k) * k, i1, k) - i0, np.arange(-(-j0 // k) * k, j1, k) - j0)]
    return TileResult(tile=tile, remaining_thickness=core_h.copy() if keep else None,
                      intensity=result.intensity[i, j].copy() if keep else None, overview=overview.copy(),
                      pixels=rows, printed=printed, residue_max_nrt=float(metrology.residue_max_nrt))


def _owns(core, x: float, y: float, plan: TilePlan) -> bool:
    """Whether a point belongs to the tile ``core`` (half-open, the grid's last edge closed)."""
    x0, y0, x1, y1 = core
    gx1, gy1 = plan.grid.extent_um[1], plan.grid.extent_um[3]
    inside_x = x0 <= x < x1 or (x1 >= gx1 and x == x1)
    inside_y = y0 <= y < y1 or (y1 >= gy1 and y == y1)
    return inside_x and inside_y


def translated(result: TileResult, tile: Tile, dx_um: float, dy_um: float) -> TileResult:
    """The result of an identical tile moved by (dx, dy) µm onto ``tile``."""
    rows = []
    for row in result.pixels:
        row = dict(row)
        cx, cy = row["design_centroid_um"]
        row["design_centroid_um"] = [cx + dx_um, cy + dy_um]
        rows.append(row)
    printed = [affinity.translate(p, dx_um, dy_um) for p in result.printed]
    return dataclasses.replace(result, tile=tile, pixels=rows, printed=printed)


@dataclass(frozen=True)
class TiledStep:
    """One step of a tiled run: every pixel measured once, the field stitched when kept."""

    name: str
    layer: tuple
    pixels: list
    printed: list
    residue_max_nrt: float
    remaining_thickness: np.ndarray | None
    intensity: np.ndarray | None
    overview: np.ndarray
    overview_step: int


@dataclass(frozen=True)
class TiledResult:
    """The outcome of :func:`simulate_tiled`."""

    recipe: object
    plan: TilePlan
    steps: tuple
    tiles_total: int
    tiles_simulated: int


def overview_step(grid: Grid, max_side: int = 2000) -> int:
    """Decimation of the overview figure: every ``k``-th sample so the longer side is at most ``max_side``."""
    return max(1, int(math.ceil(max(grid.shape) / max_side)))


def simulate_tiled(setup, tile_um: float | None = None, *, scheduler: str | None = None,
                   keep_field: bool | None = None, progress=None, workers: int | None = None,
                   design_path=None) -> TiledResult:
    """Simulate every step of ``setup`` tile by tile, each pixel measured by the tile holding its centroid.

    Parameters
    ----------
    setup : litho.process.Setup
    tile_um : float, optional
        Tile side, µm (default: from memory, :func:`plan_tiles`).
    scheduler : str, optional
        Where the tiles run (:func:`litho.parallel.map_tasks`).
    keep_field : bool, optional
        Stitch the full h/h0 and image (default: when they take under 1 GB).
    design_path : path, optional
        The intended layout to measure against (same layers as the mask); by
        default the mask itself. Against it, a defect of the mask shows as a
        missing, bridged or misshapen pixel.
    """
    from .parallel import map_tasks

    say = progress or (lambda message: None)
    plan = plan_tiles(setup, tile_um)
    recipe = setup.recipe
    samples = plan.grid.shape[0] * plan.grid.shape[1]
    if keep_field is None:
        keep_field = 16 * samples * len(recipe.steps) < 1e9
    k = overview_step(plan.grid)
    steps = []
    simulated = 0
    for index, step in enumerate(recipe.steps):
        tasks = [TileTask(recipe, index, plan, tile, keep_field, k, design_path) for tile in plan.tiles]
        # identical windows (up to translation) are simulated once; a stochastic run never repeats
        groups: dict = {}
        for task in tasks:
            key = (f"{task.tile.row},{task.tile.col}" if recipe.simulation.stochastic
                   else geometry_key(task, *window_content(task)))
            groups.setdefault(key, []).append(task)
        unique = [members[0] for members in groups.values()]
        say(f"{step.name}: {len(plan.tiles)} tiles of {plan.tile_px} samples, {len(unique)} distinct, "
            f"halo {plan.halo_um:.3g} um")
        done = map_tasks(run_tile, unique, scheduler=scheduler, workers=workers)
        simulated += len(unique)
        results = {}
        for members, result in zip(groups.values(), done):
            first = members[0]
            for task in members:
                dx = (task.tile.core[2] - first.tile.core[2]) * plan.grid.pixel_um
                dy = (task.tile.core[0] - first.tile.core[0]) * plan.grid.pixel_um
                results[(task.tile.row, task.tile.col)] = result if task is first else translated(
                    result, task.tile, dx, dy)
        steps.append(_stitch(step, plan, [results[(t.row, t.col)] for t in plan.tiles], keep_field, k))
    return TiledResult(recipe=recipe, plan=plan, steps=tuple(steps), tiles_total=len(plan.tiles) * len(recipe.steps),
                       tiles_simulated=simulated)


def _stitch(step, plan: TilePlan, results, keep_field: bool, k: int) -> TiledStep:
    ny, nx = plan.grid.shape
    h = np.zeros((ny, nx)) if keep_field else None
    intensity = np.zeros((ny, nx)) if keep_field else None
    overview = np.zeros((math.ceil(ny / k), math.ceil(nx / k)))
    pixels, printed = [], []
    residue = 0.0
    for r in results:
        i0, i1, j0, j1 = r.tile.core
        if keep_field:
            h[i0:i1, j0:j1] = r.remaining_thickness
            intensity[i0:i1, j0:j1] = r.intensity
        r0, c0 = -(-i0 // k), -(-j0 // k)
        overview[r0:r0 + r.overview.shape[0], c0:c0 + r.overview.shape[1]] = r.overview
        pixels.extend(r.pixels)
        printed.extend(r.printed)
        residue = max(residue, r.residue_max_nrt)
    # one row per designed pixel, in a fixed order (by centroid), whatever tile measured it
    pixels.sort(key=lambda row: (round(row["design_centroid_um"][1], 6), round(row["design_centroid_um"][0], 6)))
    for n, row in enumerate(pixels):
        row["index"] = n
    from .gds import parse_layer

    return TiledStep(name=step.name, layer=tuple(parse_layer(step.mask.layer)), pixels=pixels, printed=printed,
                     residue_max_nrt=residue, remaining_thickness=h, intensity=intensity, overview=overview,
                     overview_step=k)


# ---------------------------------------------------------------- outputs of a tiled run

# Bytes per CSV row (one designed pixel) and per printed-contour vertex, to check the disk first.
CSV_BYTES_PER_PIXEL = 400
GDS_BYTES_PER_VERTEX = 16
GDS_VERTICES_PER_PIXEL = 400
# Predicted contours go to OASIS above this many pixels (GDS has no compression).
OASIS_ABOVE_PIXELS = 200_000
# A pixel's printed area this far (relative) from its colour's median is a defect.
AREA_DEFECT_FRACTION = 0.05
METRIC_COLUMNS = ("design_area_um2", "printed_area_um2", "cd_x_um", "cd_y_um", "centroid_shift_um", "iou",
                  "epe_rms_um", "mean_nrt", "centre_nrt")


def output_bytes(setup) -> int:
    """Bytes a tiled run will write (pixels table, contours, overview, report), estimated from the design."""
    pixels = sum(len(d) for d in setup.designs)
    return int(pixels * (CSV_BYTES_PER_PIXEL + GDS_BYTES_PER_VERTEX * GDS_VERTICES_PER_PIXEL) + 8 * 2**20)


def check_disk(setup, out_dir) -> None:
    """Refuse a run whose outputs would not fit on the disk of ``out_dir`` (before any work)."""
    import shutil
    from pathlib import Path

    from .memory import format_bytes

    need = output_bytes(setup)
    parent = Path(out_dir).resolve()
    while not parent.exists():
        parent = parent.parent
    free = shutil.disk_usage(parent).free
    if need > free:
        raise LithoInputError(f"-o {out_dir}: the outputs need about {format_bytes(need)}, more than the "
                              f"{format_bytes(free)} free there; choose another output directory")


def defects(step: TiledStep) -> dict:
    """Missing and bridged pixels, and pixels whose printed area is off their colour's median."""
    areas = np.array([r["printed_area_um2"] / r["design_area_um2"] for r in step.pixels if r["design_area_um2"] > 0])
    median = float(np.median(areas)) if areas.size else 0.0
    out = {"missing": [], "bridged": [], "area_off": []}
    for r in step.pixels:
        where = [round(v, 4) for v in r["design_centroid_um"]]
        if r["missing"]:
            out["missing"].append(where)
        elif r["bridged"]:
            out["bridged"].append(where)
        elif r["design_area_um2"] > 0 and abs(r["printed_area_um2"] / r["design_area_um2"] - median) \
                > AREA_DEFECT_FRACTION * max(median, 1e-12):
            out["area_off"].append(where)
    return out


def tiled_report(result: TiledResult) -> dict:
    """Summary per step (colour): pixel count, statistics of each metric, defects; JSON-ready, no timings."""
    plan = result.plan
    steps = []
    for step in result.steps:
        stats = {}
        for key in METRIC_COLUMNS:
            values = np.array([r[key] for r in step.pixels if r[key] is not None and not r["missing"]], dtype=float)
            values = values[np.isfinite(values)]
            stats[key] = None if not values.size else {
                "mean": round(float(values.mean()), 6), "std": round(float(values.std()), 6),
                "min": round(float(values.min()), 6), "max": round(float(values.max()), 6)}
        steps.append({"name": step.name, "layer": list(step.layer), "designed_pixels": len(step.pixels),
                      "missing_pixels": sum(bool(r["missing"]) for r in step.pixels),
                      "bridged_pixels": sum(bool(r["bridged"]) for r in step.pixels),
                      "residue_max_nrt": round(step.residue_max_nrt, 6), "statistics": stats,
                      "defects": defects(step)})
    return {"recipe": str(result.recipe.path or result.recipe.name), "name": result.recipe.name,
            "seed": result.recipe.seed,
            "tiling": {"grid_shape": list(plan.grid.shape), "pixel_um": plan.grid.pixel_um,
                       "tile_samples": plan.tile_px, "tile_um": round(plan.tile_px * plan.grid.pixel_um, 6),
                       "halo_um": round(plan.halo_px * plan.grid.pixel_um, 6),
                       "measure_margin_um": round(plan.margin_px * plan.grid.pixel_um, 6),
                       "tiles": result.tiles_total, "tiles_simulated": result.tiles_simulated},
            "steps": steps}


def write_tiled(result: TiledResult, tmp_dir, *, figures: bool = True) -> list:
    """Write report.json, pixels.csv, predicted.gds/.oas and overview.png of a tiled run into ``tmp_dir``."""
    import csv
    import json
    from pathlib import Path

    from .gds import write_polygons

    tmp = Path(tmp_dir)
    written = []
    columns = ["step", "index", "design_x_um", "design_y_um", *METRIC_COLUMNS, "cd_x_error_um", "cd_y_error_um",
               "missing", "bridged"]
    with open(tmp / "pixels.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for step in result.steps:
            for r in step.pixels:
                x, y = r["design_centroid_um"]
                writer.writerow([step.name, r["index"], f"{x:.4f}", f"{y:.4f}",
                                 *[_fmt(r[k]) for k in METRIC_COLUMNS], _fmt(_diff(r["cd_x_um"], r["design_cd_x_um"])),
                                 _fmt(_diff(r["cd_y_um"], r["design_cd_y_um"])), int(bool(r["missing"])),
                                 int(bool(r["bridged"]))])
    written.append(tmp / "pixels.csv")
    (tmp / "report.json").write_text(json.dumps(tiled_report(result), indent=2) + "\n")
    written.append(tmp / "report.json")
    pixels = sum(len(s.pixels) for s in result.steps)
    name = "predicted.oas" if pixels > OASIS_ABOVE_PIXELS else "predicted.gds"
    layers = {(100 + s.layer[0], 0): s.printed for s in result.steps}
    write_polygons(tmp / name, layers, "predicted")
    written.append(tmp / name)
    if figures:
        written.append(_overview_figure(result, tmp / "overview.png"))
    return written


def _diff(a, b):
    return None if a is None or b is None else a - b


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(int(v))
    return f"{float(v):.6g}"


def _overview_figure(result: TiledResult, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = result.plan.grid
    fig, axes = plt.subplots(1, len(result.steps), figsize=(4.5 * len(result.steps), 4.2), squeeze=False)
    for ax, step in zip(axes[0], result.steps):
        im = ax.imshow(step.overview, origin="lower", extent=grid.extent_um, vmin=0, vmax=1, cmap="viridis",
                       interpolation="nearest")
        ax.set(title=f"{step.name}: h/h0 (every {step.overview_step} samples)", xlabel="x (µm)", ylabel="y (µm)")
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
