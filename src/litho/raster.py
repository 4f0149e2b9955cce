"""Geometry -> transmission: exact area coverage of each grid cell (PHYSICS.md §1).

Point sampling aliases an edge by up to half a pixel, which shows up as a
fake CD error; supersampling only shrinks the error. Here each cell gets the
exact fraction of its area inside the polygons, computed in one pass over the
polygon edges (the signed-area accumulation of font rasterisers):

For a point, the winding number is the sum over edges crossing the
horizontal line through it, to its left, of ±1 (sign of the edge's dy). Its
integral over a cell is therefore a sum over the edge pieces that cross the
cell's row: a piece with vertical extent dv (in cell units) and mean x-offset
f inside column j covers (1 − f)·dv of cell j and dv of every cell right of
it. Splitting every edge at the grid lines, adding ``(1 − f)·dv`` to cell j and
``f·dv`` to cell j + 1, and taking a cumulative sum along x gives the exact
coverage. Horizontal edges contribute nothing, so Manhattan layouts cost one
piece per row a vertical edge crosses. The cost is O(edge pieces + cells),
and exact to float rounding (about 1e-12 of a cell).

Example
-------
>>> import shapely
>>> from litho.grid import Grid
>>> from litho.raster import rasterize
>>> t = rasterize(shapely.box(0.25, 0.0, 1.0, 1.0), Grid((1, 2), 0.5))
>>> t.round(3).tolist()
[[0.5, 1.0]]
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from .errors import LithoInputError
from .grid import Grid
from .layout.geometry import merge

__all__ = ["rasterize", "rasterize_tiled"]


def _as_geometry(geometry) -> BaseGeometry:
    """Accept a shapely geometry, a Mask (``.geometry``) or an iterable of polygons."""
    geom = getattr(geometry, "geometry", geometry)
    if isinstance(geom, BaseGeometry):
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        return geom
    try:
        parts = list(geom)
    except TypeError:
        raise LithoInputError(f"rasterize: {type(geometry).__name__} is not polygon geometry") from None
    # a collection of shapes may overlap: merge so each point counts once
    return merge(shapely.make_valid(np.asarray(parts, dtype=object)))


def _polygon_edges(geom: BaseGeometry) -> np.ndarray:
    """(n, 4) edges x0, y0, x1, y1 with exteriors counter-clockwise and holes
    clockwise, so the winding number is 1 inside and 0 outside (and in holes)."""
    polys = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and not p.is_empty]
    polys += [q for p in shapely.get_parts(geom) if p.geom_type == "MultiPolygon" for q in p.geoms]
    if not polys:
        return np.zeros((0, 4))
    polys = shapely.orient_polygons(np.asarray(polys, dtype=object), exterior_cw=False)
    rings = shapely.get_rings(polys)
    coords, index = shapely.get_coordinates(rings, return_index=True)
    same = index[1:] == index[:-1]
    return np.column_stack([coords[:-1][same], coords[1:][same]])


def _integer_crossings(a0: np.ndarray, a1: np.ndarray, lo: int, hi: int):
    """For segments a0 -> a1: integer lines k with min < k < max and lo <= k <= hi.
    Returns (segment index, t = (k − a0)/(a1 − a0)) of every crossing."""
    amin, amax = np.minimum(a0, a1), np.maximum(a0, a1)
    kmin = np.maximum(np.floor(amin) + 1, lo)
    kmax = np.minimum(np.ceil(amax) - 1, hi)
    n = np.where(a1 != a0, np.maximum(kmax - kmin + 1, 0), 0).astype(np.int64)
    total = int(n.sum())
    seg = np.repeat(np.arange(len(a0)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    k = kmin[seg] + (np.arange(total) - start)
    t = (k - a0[seg]) / (a1[seg] - a0[seg])
    return seg, t


def _coverage(edges_uv: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Exact coverage on a grid of unit cells [0, nx] x [0, ny] from oriented edges (cell units)."""
    ny, nx = shape
    u0, v0, u1, v1 = edges_uv.T
    keep = (v0 != v1) & (np.maximum(v0, v1) > 0) & (np.minimum(v0, v1) < ny) & (np.minimum(u0, u1) < nx)
    u0, v0, u1, v1 = u0[keep], v0[keep], u1[keep], v1[keep]
    n = len(u0)
    if n == 0:
        return np.zeros((ny, nx))
    seg_v, t_v = _integer_crossings(v0, v1, 0, ny)
    seg_u, t_u = _integer_crossings(u0, u1, 0, nx)
    seg = np.concatenate([np.arange(n), np.arange(n), seg_v, seg_u])
    t = np.concatenate([np.zeros(n), np.ones(n), t_v, t_u])
    order = np.lexsort((t, seg))
    seg, t = seg[order], t[order]
    same = seg[1:] == seg[:-1]
    s = seg[:-1][same]
    ta, tb = t[:-1][same], t[1:][same]
    tm = 0.5 * (ta + tb)
    du, dv = u1 - u0, v1 - v0
    um = u0[s] + tm * du[s]
    vm = v0[s] + tm * dv[s]
    # counter-clockwise exteriors go down on their left side: minus makes the inside positive
    w = -(tb - ta) * dv[s]
    row = np.floor(vm)
    inside = (row >= 0) & (row < ny) & (um < nx) & (w != 0)
    um, row, w = um[inside], row[inside].astype(np.int64), w[inside]
    col = np.floor(um)
    left = col < 0
    # a piece left of the grid covers every cell of its row: as if it ran along x = 0
    frac = np.where(left, 0.0, um - col)
    col = np.where(left, 0, col).astype(np.int64)
    base = row * nx + col
    nxt = col + 1 < nx
    # one bincount for both contributions: it allocates the output once (memory = one raster)
    index = np.concatenate([base, base[nxt] + 1])
    weight = np.concatenate([w * (1.0 - frac), (w * frac)[nxt]])
    # astype: numpy returns int64 from an empty weighted bincount (no edge piece in the grid)
    acc = np.bincount(index, weights=weight, minlength=ny * nx).astype(np.float64, copy=False).reshape(ny, nx)
    np.cumsum(acc, axis=1, out=acc)
    return acc


def rasterize(geometry, grid: Grid, *, periodic: bool = False) -> np.ndarray:
    """Exact area coverage of ``geometry`` on ``grid``: the transmission t(x, y).

    Parameters
    ----------
    geometry : shapely Polygon / MultiPolygon / collection, a Mask, or iterable of polygons
        Openings of the mask, µm. Holes are respected; overlapping polygons of an
        iterable are merged first.
    grid : Grid
        Sampling grid (pitch ``grid.pixel_um``, origin ``grid.origin_um``).
    periodic : bool
        If True, the grid is one period of an infinite array: geometry outside
        the grid wraps around (each point counted modulo the grid extent).

    Returns
    -------
    ndarray, float64, shape ``grid.shape`` = (ny, nx)
        Fraction of each cell's area covered, in [0, 1]. ``t.sum() * pixel_um**2``
        equals the geometry's area inside the grid to about 1e-12 relative.
    """
    if not isinstance(grid, Grid):
        raise LithoInputError(f"rasterize: grid must be a litho.grid.Grid, got {type(grid).__name__}")
    geom = _as_geometry(geometry)
    ny, nx = grid.shape
    dx = grid.pixel_um
    x0, y0 = grid.origin_um
    box = None if periodic else _axis_aligned_box(geom)
    if box is not None:
        return _box_coverage(box, grid)
    edges = _polygon_edges(geom)
    uv = np.empty_like(edges)
    uv[:, 0::2] = (edges[:, 0::2] - x0) / dx
    uv[:, 1::2] = (edges[:, 1::2] - y0) / dx
    if periodic and len(uv):
        # copies shifted by whole periods so that every part lands inside once
        umin, umax = uv[:, 0::2].min(), uv[:, 0::2].max()
        vmin, vmax = uv[:, 1::2].min(), uv[:, 1::2].max()
        kx = range(math.floor(-umax / nx), math.ceil((nx - umin) / nx) + 1)
        ky = range(math.floor(-vmax / ny), math.ceil((ny - vmin) / ny) + 1)
        shift = np.array([[i * nx, j * ny, i * nx, j * ny] for i in kx for j in ky], dtype=float)
        uv = (uv[None, :, :] + shift[:, None, :]).reshape(-1, 4)
    out = _coverage(uv, (ny, nx))
    # float rounding leaves |error| ~ 1e-15; keep the documented range exactly
    np.clip(out, 0.0, 1.0, out=out)
    return out


def _axis_aligned_box(geom: BaseGeometry):
    """``(xmin, ymin, xmax, ymax)`` if ``geom`` is one axis-aligned rectangle, else None."""
    if geom.geom_type != "Polygon" or geom.interiors:
        return None
    xy = geom.exterior.coords
    if len(xy) != 5:
        return None
    xmin, ymin, xmax, ymax = geom.bounds
    # the four vertices are the four corners of the bounds (a vertex repeated, or one on an
    # edge, is another polygon: a triangle with a doubled corner has five coordinates too)
    corners = {(xmin, ymin), (xmax, ymin), (xmax, ymax), (xmin, ymax)}
    return (xmin, ymin, xmax, ymax) if len(corners) == 4 and set(xy[:4]) == corners else None


def _box_coverage(box, grid: Grid) -> np.ndarray:
    """Exact coverage of an axis-aligned rectangle: the outer product of its overlap with
    each row and each column of cells (what the edge accumulation gives, to float rounding)."""
    xmin, ymin, xmax, ymax = box
    ny, nx = grid.shape
    x0, y0 = grid.origin_um

    def overlap(lo, hi, origin, n):
        start = origin + np.arange(n) * grid.pixel_um
        return np.clip((np.minimum(start + grid.pixel_um, hi) - np.maximum(start, lo)) / grid.pixel_um, 0.0, 1.0)

    return np.outer(overlap(ymin, ymax, y0, ny), overlap(xmin, xmax, x0, nx))


def rasterize_tiled(unit_geometry, unit_cell_um: tuple[float, float, float, float], grid: Grid) -> np.ndarray:
    """Coverage of an infinite periodic array on ``grid``, by rasterising one unit cell.

    Parameters
    ----------
    unit_geometry : geometry as for :func:`rasterize`
        The openings of one period (may extend outside the unit cell; they wrap).
    unit_cell_um : (x0, y0, period_x, period_y)
        Lower-left corner and periods of the unit cell, µm.
    grid : Grid

    Returns
    -------
    ndarray (ny, nx)
        Identical to rasterising the whole periodic pattern on ``grid``. When the
        periods are whole numbers of pixels and the grid origin sits a whole
        number of pixels from the cell corner, one cell is rasterised and tiled
        (the fast path); otherwise the pattern is replicated over the grid and
        rasterised directly.
    """
    cx, cy, px, py = (float(v) for v in unit_cell_um)
    if not (px > 0 and py > 0):
        raise LithoInputError(f"rasterize_tiled: periods {px}, {py} um must be > 0")
    dx = grid.pixel_um
    mx, my = px / dx, py / dx
    ox, oy = (grid.origin_um[0] - cx) / dx, (grid.origin_um[1] - cy) / dx

    def whole(v):
        return abs(v - round(v)) < 1e-9 * max(1.0, abs(v))

    geom = _as_geometry(unit_geometry)
    ny, nx = grid.shape
    if all(whole(v) for v in (mx, my, ox, oy)):
        mx, my = int(round(mx)), int(round(my))
        cell = rasterize(geom, Grid((my, mx), dx, (cx, cy)), periodic=True)
        ox, oy = int(round(ox)) % mx, int(round(oy)) % my
        reps = (-(-(ny + oy) // my), -(-(nx + ox) // mx))
        return np.ascontiguousarray(np.tile(cell, reps)[oy:oy + ny, ox:ox + nx])
    # slow path: enough copies of the cell to cover the grid, then one exact pass
    xmin, ymin, xmax, ymax = grid.bounds_um
    gx0, gy0, gx1, gy1 = geom.bounds
    ix = range(math.floor((xmin - gx1) / px), math.ceil((xmax - gx0) / px) + 1)
    iy = range(math.floor((ymin - gy1) / py), math.ceil((ymax - gy0) / py) + 1)
    copies = [shapely.affinity.translate(geom, i * px, j * py) for i in ix for j in iy]
    return rasterize(merge(copies), grid)
