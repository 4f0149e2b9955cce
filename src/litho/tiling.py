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

In a pixel array the tile side is a whole number of array periods (the
fewest pitches that are also a whole number of samples; the pitch is read
from the designed pixels' centroids), so tiles a whole number of tiles apart
hold the same geometry up to a translation. Tiles whose *whole window*
(core, margin and halo; exposed and designed geometry) is the same up to a
translation are simulated once: the key is a hash of that geometry moved to
the window's origin. Only the border, the marks and defects make distinct
tiles; the rest of a panel is one computation per step.

A stochastic run draws its noise by global position (:class:`PositionalNoise`:
one stream per noise cell of the grid, from the recipe seed and the cell's
place), so the same voxel gets the same random number in every tile whose
window holds it: the run is deterministic and the same for any tile size or
worker (up to the tiling's own halo error); no two tiles share, then.

Outputs stream to disk as tiles finish (:mod:`litho.tiled_output`), so memory
is bounded by the tiles in flight, not by the panel.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import threading
from dataclasses import dataclass, field

import numpy as np
import shapely

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
# Pixel centroids are compared on the layout grid (1 nm) when reading the array pitch.
PITCH_DECIMALS = 3
# A tile period holds at most this many array pitches (a pitch incommensurate with the sample pitch).
MAX_PITCHES_PER_PERIOD = 64
# Tile core side against the margin and halo on one side: the halo costs at most (1 + 2/CORE_PER_PAD)^2 in area.
CORE_PER_PAD = 2.0
# Side of a noise cell of a stochastic tiled run, samples (PositionalNoise).
NOISE_CELL_SAMPLES = 64


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
    period_px : int
        Samples of one period of the pixel array (a whole number of array
        pitches); the tile side is a multiple of it (1: no repetition found).
    array_pitch_um : (float or None, float or None)
        The array's (x, y) pitch read from the design.
    """

    grid: Grid
    tile_px: int
    margin_px: int
    halo_px: int
    halo_um: float
    tiles: tuple = field(repr=False, default=())
    period_px: int = 1
    array_pitch_um: tuple = (None, None)

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


def array_pitch_um(designs) -> tuple:
    """(x, y) repetition pitch of the designed pixel array, µm; None along an axis that does not repeat.

    Read from the designed pixels' centroids (every layer must agree): the
    most common step between consecutive distinct centroid coordinates, on
    the layout's 1 nm grid. A defect or a missing pixel does not change it.
    """
    pitch = []
    for axis in (0, 1):
        found = set()
        for design in designs:
            if not len(design):
                continue
            coords = shapely.get_coordinates(shapely.centroid(np.asarray(design, dtype=object)))[:, axis]
            steps = np.round(np.diff(np.unique(np.round(coords, PITCH_DECIMALS))), PITCH_DECIMALS)
            steps = steps[steps > 0]
            if not steps.size:
                found.add(None)
                continue
            values, counts = np.unique(steps, return_counts=True)
            found.add(float(values[np.argmax(counts)]))
        pitch.append(found.pop() if len(found) == 1 else None)
    return pitch[0], pitch[1]


def period_samples(pitch_um: float | None, pixel_um: float) -> int:
    """The fewest samples that hold a whole number of array pitches (1 when there is no pitch or none fits)."""
    if not pitch_um:
        return 1
    for n in range(1, MAX_PITCHES_PER_PERIOD + 1):
        samples = n * pitch_um / pixel_um
        if abs(samples - round(samples)) < 1e-6 * max(1.0, samples):
            return int(round(samples))
    return 1


def plan_tiles(setup, tile_um: float | None = None, *, available_bytes: int | None = None) -> TilePlan:
    """Cut the grid of ``setup`` into tiles.

    In a periodic pixel array the tile side is a whole number of array
    pitches (and of samples), so tiles an integer number of tile sides apart
    hold the same geometry up to a translation and are simulated once
    (module notes). Without a pitch the tile is the largest that fits.

    Parameters
    ----------
    setup : litho.process.Setup
    tile_um : float, optional
        Tile side, µm, rounded to a whole number of array periods; by default
        the smallest whole number of periods at least ``CORE_PER_PAD`` times
        the tile's margin and halo (so the halo costs at most a factor 4 in
        area), or without a pitch the largest tile whose window fits in
        ``TILE_MEMORY_SHARE`` of the memory litho may use; at most
        ``MAX_TILE_SAMPLES`` samples either way.
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
    array_pitch = array_pitch_um(setup.designs)
    period = math.lcm(*(period_samples(p, pitch) for p in array_pitch))
    pad = 2 * (margin_px + halo_px)
    allowed = MEMORY_FRACTION * TILE_MEMORY_SHARE * (available_bytes or memory_limit()[0])
    probe = 256
    per_sample = estimate_simulation(Grid((probe + pad, probe + pad), pitch, (0.0, 0.0)), recipe).total_bytes \
        / (probe + pad) ** 2
    largest = min(MAX_TILE_SAMPLES, int(math.sqrt(allowed / per_sample)) - pad)
    if period > largest:
        period = 1      # no whole period fits in a tile: tiles cannot repeat
    if tile_um is not None:
        if not (tile_um > 0 and math.isfinite(tile_um)):
            raise LithoInputError(f"--tile {tile_um!r}: give a tile side > 0 µm")
        if tile_um < halo:
            raise LithoInputError(f"--tile {tile_um:g}: a tile must be at least its halo of {halo:.3g} µm "
                                  f"(the optics' reach); give --tile {math.ceil(halo):d} or more")
        tile_px = max(1, int(round(tile_um / pitch)))
        tile_px = max(period, int(round(tile_px / period)) * period)
    else:
        if largest < max(halo_px, 8):
            raise LithoInputError(f"{source}: even a tile of its halo ({halo:.3g} µm) needs more than "
                                  f"{format_bytes(allowed)}; use a coarser --pixel-um")
        tile_px = largest
        if period > 1:
            wanted = max(period, int(math.ceil(CORE_PER_PAD * pad / 2 / period)) * period)
            tile_px = min(wanted, largest // period * period)
    ny, nx = grid.shape
    tiles = []
    for r, i0 in enumerate(range(0, ny, tile_px)):
        for c, j0 in enumerate(range(0, nx, tile_px)):
            tiles.append(Tile(r, c, (i0, min(ny, i0 + tile_px), j0, min(nx, j0 + tile_px))))
    return TilePlan(grid=grid, tile_px=tile_px, margin_px=margin_px, halo_px=halo_px, halo_um=halo,
                    tiles=tuple(tiles), period_px=period, array_pitch_um=array_pitch)


NOISE_SPAWN_OFFSET = 2 ** 24   # noise cells left of / below the grid origin get non-negative spawn keys


class PositionalNoise(np.random.Generator):
    """The random numbers of a stochastic tiled run, fixed by global position, not by tile.

    The grid is cut into noise cells of ``NOISE_CELL_SAMPLES`` samples, each
    with its own stream from the recipe seed and the (step, cell row, cell
    column) (numpy ``SeedSequence``). :meth:`poisson` draws one uniform per
    voxel from the cell holding it and inverts the Poisson CDF there, so a
    voxel gets the same number in every tile whose window holds it, whatever
    the tile size. :func:`litho.development.develop` takes it as its ``seed``
    (``numpy.random.default_rng`` passes a Generator through).
    """

    def __init__(self, seed: int | None, step_index: int, row0: int, col0: int):
        super().__init__(np.random.PCG64(0))
        self.seed_value = 0 if seed is None else int(seed)
        self.step_index, self.row0, self.col0 = int(step_index), int(row0), int(col0)

    def uniforms(self, shape) -> np.ndarray:
        """Uniforms in (0, 1) on a window of ``shape`` (..., rows, columns) whose first sample is (row0, col0)."""
        *lead, ny, nx = shape
        depth = int(np.prod(lead)) if lead else 1
        c = NOISE_CELL_SAMPLES
        out = np.empty((depth, ny, nx))
        i0, j0 = self.row0, self.col0
        for ci in range(i0 // c, (i0 + ny - 1) // c + 1):
            for cj in range(j0 // c, (j0 + nx - 1) // c + 1):
                sequence = np.random.SeedSequence(self.seed_value, spawn_key=(
                    self.step_index, ci + NOISE_SPAWN_OFFSET, cj + NOISE_SPAWN_OFFSET))
                cell = np.random.default_rng(sequence).random((depth, c, c))
                a0, a1 = max(i0, ci * c), min(i0 + ny, (ci + 1) * c)
                b0, b1 = max(j0, cj * c), min(j0 + nx, (cj + 1) * c)
                out[:, a0 - i0:a1 - i0, b0 - j0:b1 - j0] = cell[:, a0 - ci * c:a1 - ci * c, b0 - cj * c:b1 - cj * c]
        return np.maximum(out.reshape(shape), np.finfo(float).tiny)

    def poisson(self, lam=1.0, size=None):
        """Poisson numbers of mean ``lam`` (an array on the window), by inverse CDF of the positional uniforms."""
        lam = np.asarray(lam, dtype=float)
        if size is not None or lam.ndim < 2:
            raise ValueError("PositionalNoise.poisson draws one number per voxel of a window-shaped lam")
        return poisson_quantile(self.uniforms(lam.shape), lam)


# Above this mean the Poisson quantile is the Cornish-Fisher normal one (scipy's exact ppf costs 50 µs a voxel).
EXACT_POISSON_BELOW = 30.0


def poisson_quantile(u: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """The smallest count k with P(K <= k) >= u for K ~ Poisson(lam), elementwise.

    Exact (pmf summed up) for ``lam < EXACT_POISSON_BELOW``; above, the
    normal quantile with its Cornish-Fisher skewness term,
    k = floor(lam + z sqrt(lam) + (z² - 1)/6 + 1/2): measured against scipy's
    exact ppf it differs by one count in 0.7% of draws at lam = 31, 0.25% at
    300 and 0.05% at 1e4 (a voxel holds 1e3-1e4 crosslinkable groups).
    """
    from scipy.special import ndtri

    u, lam = np.broadcast_arrays(np.asarray(u, dtype=float), np.asarray(lam, dtype=float))
    out = np.empty(lam.shape, dtype=np.int64)
    small = lam < EXACT_POISSON_BELOW
    if small.any():
        mean, target = lam[small], u[small]
        k = np.zeros(mean.shape, dtype=np.int64)
        pmf = np.exp(-mean)
        cdf = pmf.copy()
        for n in range(1, 1000):
            more = cdf < target
            if not more.any():
                break
            k += more
            pmf = pmf * mean / n
            cdf = cdf + pmf
        out[small] = k
    if (~small).any():
        mean, z = lam[~small], ndtri(u[~small])
        out[~small] = np.maximum(0.0, np.floor(mean + z * np.sqrt(mean) + (z * z - 1.0) / 6.0 + 0.5))
    return out


@dataclass(frozen=True)
class TileTask:
    """Everything one tile of one step needs, picklable for a Dask worker."""

    recipe: object
    step_index: int
    plan: TilePlan
    tile: Tile
    keep_field: bool = True
    design_path: object = None


# Columns of TileResult.pixels: the design centroid, the metrics, the design CDs and the two flags.
PIXEL_FIELDS = ("design_x_um", "design_y_um", "design_area_um2", "printed_area_um2", "cd_x_um", "cd_y_um",
                "centroid_shift_um", "iou", "epe_rms_um", "mean_nrt", "centre_nrt", "design_cd_x_um",
                "design_cd_y_um", "missing", "bridged")


@dataclass(frozen=True)
class TileResult:
    """One tile of one step, in the frame of the simulation grid.

    Attributes
    ----------
    tile : Tile
    remaining_thickness : ndarray
        h/h0 on the tile's core samples (float32 unless the field is kept).
    intensity : ndarray
        The aerial image on the tile's core samples (None when the field is not kept).
    pixels : ndarray (n, len(PIXEL_FIELDS))
        The pixels whose centroid lies in the tile, one row each (NaN: not measured).
    printed : list of shapely Polygon
        Printed contours whose centroid lies in the tile, µm.
    residue_max_nrt : float
        Largest h/h0 outside the designed pixels in the tile's measured window.
    """

    tile: Tile
    remaining_thickness: np.ndarray
    intensity: np.ndarray | None
    pixels: np.ndarray
    printed: list
    residue_max_nrt: float


# Whole layers read once per process, with a search tree, so a tile's window is a query, not a file read.
_LAYERS: dict = {}
_LAYERS_LOCK = threading.Lock()


def _layer_index(path, layer, cell, window_um):
    """(polygons, STRtree) of one mask layer, read whole (inside ``window_um``) once and cached."""
    from .gds import read_mask

    key = (str(path), str(layer), cell, None if window_um is None else tuple(window_um))
    with _LAYERS_LOCK:
        if key not in _LAYERS:
            try:
                polygons = np.asarray(read_mask(path, layer=layer, cell=cell, window=window_um).polygons,
                                      dtype=object)
            except LithoInputError as error:
                if "outside the layout" not in str(error) and "empty" not in str(error) \
                        and "no area" not in str(error):
                    raise
                polygons = np.asarray([], dtype=object)
            _LAYERS[key] = (polygons, shapely.STRtree(polygons))
        return _LAYERS[key]


def _read(step, bounds, path=None):
    """The step's mask layer inside ``bounds`` (µm): geometry clipped to it; empty where nothing is drawn.

    ``path``: read the same layer from this layout instead (the intended design).
    """
    polygons, tree = _layer_index(path or step.mask.path, step.mask.layer, None if path else step.mask.cell,
                                  step.mask.window_um)
    if not len(polygons):
        return ()
    clipped = shapely.clip_by_rect(polygons[tree.query(shapely.box(*bounds))], *bounds)
    parts = shapely.get_parts(clipped)
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts) & (shapely.area(parts) > 0)]
    centre = shapely.get_coordinates(shapely.centroid(parts))
    # the order read_mask gives: by (y, x) of the centroid
    order = np.lexsort((np.round(centre[:, 0], 9), np.round(centre[:, 1], 9))) if len(parts) else []
    return tuple(parts[order])


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
    """A hash of the whole window's geometry (exposed and designed, halo included) moved to the window's origin.

    Tiles equal up to a translation share it; a stochastic run never shares
    (its noise is fixed by position, :class:`PositionalNoise`).
    """
    window = task.plan.window(task.tile)
    x0, y0 = window.origin_um
    digest = hashlib.sha256(repr((task.step_index, window.shape)).encode())
    if task.recipe.simulation.stochastic:
        digest.update(repr(task.tile.core).encode())
    origin = np.array([x0, y0])
    for part in (exposed, exposed if designed is None else designed):
        digest.update(b"|")
        if part:
            # moved to the window origin and rounded to the hash grid (coordinates only: fast, unlike set_precision)
            moved = shapely.transform(np.asarray(part, dtype=object),
                                      lambda xy: np.round((xy - origin) / HASH_PRECISION_UM) * HASH_PRECISION_UM)
            moved = shapely.normalize(moved)
            for wkb in sorted(shapely.to_wkb(moved, hex=False)):
                digest.update(wkb)
    return digest.hexdigest()


def run_tile(task: TileTask) -> TileResult:
    """Simulate one tile of one step (pure: the same task gives the same result on any worker).

    The window is imaged and developed whole, but measured once, on the
    tile and its margin only; a pixel is reported by the tile holding its centroid.
    """
    from .metrology import measure
    from .process import simulate_step, shifted

    recipe, plan, tile = task.recipe, task.plan, task.tile
    step = recipe.steps[task.step_index]
    window = plan.window(tile)
    exposed, designed = window_content(task)
    overlay = tuple(float(v) for v in step.exposure.overlay_um)
    sim = recipe.simulation
    pad = plan.margin_px + plan.halo_px
    local = recipe
    if sim.stochastic:
        noise = PositionalNoise(recipe.seed, task.step_index, tile.core[0] - pad, tile.core[2] - pad)
        local = dataclasses.replace(recipe, seed=noise)
    # simulate_step exposes its design moved by the overlay: give it the exposed content moved back
    imaged = shifted(exposed, (-overlay[0], -overlay[1])) if overlay != (0.0, 0.0) else exposed
    result = simulate_step(step, step.mask.layer, tuple(imaged), window, local, overlay_um=overlay,
                           measure_print=False)
    halo = slice(plan.halo_px, -plan.halo_px or None)
    h = np.ascontiguousarray(result.developed.remaining_thickness[halo, halo])
    measured = plan.measured(tile)
    # every design the measured window touches is given, so neighbours' pixels are not residue;
    # only those whose centroid lies in the tile are reported
    design_arr = np.asarray(designed, dtype=object)
    box = shapely.box(*_window_bounds(measured))
    touching = list(design_arr[shapely.intersects(design_arr, box)]) if len(design_arr) else []
    metrology = measure(h, measured, touching, sim.threshold)
    core = _window_bounds(plan._sub(tile.core, 0))
    rows = []
    for poly, metrics in zip(touching, metrology.pixels):
        c = poly.centroid
        if _owns(core, c.x, c.y, plan):
            rows.append(_pixel_row(metrics))
    printed = [p for p in metrology.printed if _owns(core, p.centroid.x, p.centroid.y, plan)]
    i = slice(pad, pad + tile.core[1] - tile.core[0])
    j = slice(pad, pad + tile.core[3] - tile.core[2])
    keep = task.keep_field
    core_h = result.developed.remaining_thickness[i, j]
    return TileResult(tile=tile, remaining_thickness=core_h.copy() if keep else core_h.astype(np.float32),
                      intensity=result.intensity[i, j].copy() if keep else None,
                      pixels=np.array(rows, dtype=float).reshape(len(rows), len(PIXEL_FIELDS)),
                      printed=printed, residue_max_nrt=float(metrology.residue_max_nrt))


def _pixel_row(metrics) -> list:
    """One row of PIXEL_FIELDS from a :class:`litho.metrology.PixelMetrics` (None -> NaN)."""
    d = metrics.as_dict()
    d["design_x_um"], d["design_y_um"] = d["design_centroid_um"]
    return [np.nan if d[k] is None else float(d[k]) for k in PIXEL_FIELDS]


def _owns(core, x: float, y: float, plan: TilePlan) -> bool:
    """Whether a point belongs to the tile ``core`` (half-open, the grid's last edge closed)."""
    x0, y0, x1, y1 = core
    gx1, gy1 = plan.grid.extent_um[1], plan.grid.extent_um[3]
    inside_x = x0 <= x < x1 or (x1 >= gx1 and x == x1)
    inside_y = y0 <= y < y1 or (y1 >= gy1 and y == y1)
    return inside_x and inside_y


@dataclass(frozen=True)
class TiledStep:
    """One step of a tiled run.

    Attributes
    ----------
    pixels : list of dict or None
        One row per designed pixel (PIXEL_FIELDS, plus ``index`` and
        ``design_centroid_um``), in (y, x) order; None when the run is too
        large to hold them (they are in pixels.csv).
    remaining_thickness, intensity : ndarray or None
        The stitched field, when kept.
    overview : ndarray
        h/h0 averaged over blocks of ``overview_step`` x ``overview_step`` samples of the grid.
    """

    name: str
    layer: tuple
    pixels: list | None
    residue_max_nrt: float
    remaining_thickness: np.ndarray | None
    intensity: np.ndarray | None
    overview: np.ndarray
    overview_step: int


@dataclass(frozen=True)
class TiledResult:
    """The outcome of :func:`simulate_tiled`: steps, the report (report.json) and the files written."""

    recipe: object
    plan: TilePlan
    steps: tuple
    tiles_total: int
    tiles_simulated: int
    report: dict
    written: tuple = ()


def overview_step(grid: Grid, max_side: int = 2000) -> int:
    """Decimation of the overview figure: blocks of ``k`` x ``k`` samples so the longer side is at most ``max_side``."""
    return max(1, int(math.ceil(max(grid.shape) / max_side)))


# Keep the per-pixel rows in memory (TiledStep.pixels) up to this many designed pixels.
KEEP_PIXELS_UP_TO = 50_000


def simulate_tiled(setup, tile_um: float | None = None, *, scheduler: str | None = None,
                   keep_field: bool | None = None, progress=None, workers: int | None = None,
                   design_path=None, out_dir=None, figures: bool = True, share: bool = True) -> TiledResult:
    """Simulate every step of ``setup`` tile by tile, each pixel measured by the tile holding its centroid.

    Results stream to disk as tiles finish (:class:`litho.tiled_output.TiledWriter`):
    memory is bounded by the tiles in flight, not by the panel.

    Parameters
    ----------
    setup : litho.process.Setup
    tile_um : float, optional
        Tile side, µm (default: :func:`plan_tiles`).
    scheduler : str, optional
        Where the tiles run (:func:`litho.parallel.iter_tasks`).
    keep_field : bool, optional
        Stitch the full h/h0 and image (default: when they take under 1 GB).
    design_path : path, optional
        The intended layout to measure against (same layers as the mask); by
        default the mask itself. Against it, a defect of the mask shows as a
        missing, bridged or misshapen pixel.
    out_dir : path, optional
        Where pixels.csv, report.json, predicted.gds/.oas and overview.png
        are written (default: nowhere; the rows are kept in memory).
    figures : bool
        Write overview.png (with ``out_dir``).
    share : bool
        Simulate tiles with the same geometry once (False: every tile; to check the sharing).
    """
    import tempfile
    from pathlib import Path

    from .parallel import iter_tasks
    from .tiled_output import TiledWriter

    say = progress or (lambda message: None)
    plan = plan_tiles(setup, tile_um)
    recipe = setup.recipe
    samples = plan.grid.shape[0] * plan.grid.shape[1]
    if keep_field is None:
        keep_field = 16 * samples * len(recipe.steps) < 1e9
    designed = sum(len(d) for d in setup.designs)
    if out_dir is not None:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tiles-") as parts:
        writer = TiledWriter(plan, recipe, Path(parts), overview_step(plan.grid), keep_field,
                             keep_pixels=out_dir is None or designed <= KEEP_PIXELS_UP_TO)
        simulated = 0
        for index, step in enumerate(recipe.steps):
            tasks = [TileTask(recipe, index, plan, tile, keep_field, design_path) for tile in plan.tiles]
            groups: dict = {}
            for task in tasks:
                key = geometry_key(task, *window_content(task)) if share else repr(task.tile.core)
                groups.setdefault(key, []).append(task.tile)
            members = list(groups.values())
            unique = [TileTask(recipe, index, plan, tiles[0], keep_field, design_path) for tiles in members]
            say(f"{step.name}: {len(plan.tiles)} tiles of {plan.tile_px} samples "
                f"({plan.tile_px * plan.grid.pixel_um:g} um), {len(unique)} distinct, halo {plan.halo_um:.3g} um")
            writer.start_step(index, step)
            for n, result in iter_tasks(run_tile, unique, scheduler=scheduler, workers=workers):
                writer.add(index, result, members[n])
            simulated += len(unique)
        steps, report = writer.finish(Path(out_dir) if out_dir is not None else None, figures=figures,
                                      tiles_total=len(plan.tiles) * len(recipe.steps), tiles_simulated=simulated)
    return TiledResult(recipe=recipe, plan=plan, steps=tuple(steps), tiles_total=len(plan.tiles) * len(recipe.steps),
                       tiles_simulated=simulated, report=report, written=tuple(writer.written))


# ---------------------------------------------------------------- disk check of a tiled run

# Bytes per CSV row (one designed pixel) and per printed-contour vertex, to check the disk first.
CSV_BYTES_PER_PIXEL = 400
GDS_BYTES_PER_VERTEX = 16
GDS_VERTICES_PER_PIXEL = 400


def output_bytes(setup) -> int:
    """Bytes a tiled run will write (pixels table, contours, overview, report), estimated from the design.

    An upper bound: the contours of repeated tiles are written once and placed by reference.
    """
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
