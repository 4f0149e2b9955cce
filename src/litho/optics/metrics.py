"""Image quality at the mask edges: image log slope (ILS) and normalised ILS.

The developed edge moves with dose by dCD/d ln E = 2/ILS (PHYSICS.md §5), so
the ILS at the designed edges is the optics' share of the exposure latitude.
NILS = CD · ILS is the same number made dimensionless by the feature size
(C. A. Mack, *Fundamental Principles of Optical Lithography*, Wiley 2007, §8.3).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

from ..errors import LithoInputError


def image_log_slope(intensity, pixel_um: float, *, floor: float = 1e-6) -> np.ndarray:
    """|∇ ln I| in 1/µm on the grid of ``intensity``.

    Parameters
    ----------
    intensity : array_like, shape (ny, nx)
        Aerial image (clear field = 1).
    pixel_um : float
        Sample pitch, µm.
    floor : float
        Intensities below ``floor`` (relative to the clear field) are raised to
        it so dark regions give a finite slope.

    Returns
    -------
    ndarray, float64, shape (ny, nx)
        Magnitude of the gradient of ln I (second-order central differences).

    Examples
    --------
    >>> import numpy as np
    >>> x = (np.arange(64) + 0.5) * 0.1
    >>> ils = image_log_slope(np.exp(2.0 * x)[None, :].repeat(4, 0), 0.1)
    >>> bool(np.allclose(ils[:, 1:-1], 2.0))
    True
    """
    image = np.asarray(intensity, dtype=float)
    if image.ndim != 2:
        raise LithoInputError(f"intensity: expected a 2-D image, got shape {image.shape}")
    if not pixel_um > 0:
        raise LithoInputError(f"pixel_um = {pixel_um!r}: must be > 0")
    log_i = np.log(np.maximum(image, floor))
    axes = [a for a in (0, 1) if image.shape[a] > 1]
    if not axes:
        return np.zeros_like(image)
    grads = np.gradient(log_i, pixel_um, axis=axes)
    if len(axes) == 1:
        grads = [grads]
    return np.sqrt(sum(g * g for g in grads))


def edge_points(geometry, spacing_um: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``spacing_um`` along the boundary of a shapely geometry, and
    the outward unit normals there.

    Returns
    -------
    points, normals : ndarray, shape (n, 2)
        ``(x, y)`` in µm.
    """
    pts, normals = [], []
    polygons = getattr(geometry, "geoms", [geometry])
    for poly in polygons:
        if poly.is_empty:
            continue
        for ring, sign in [(poly.exterior, 1.0)] + [(r, -1.0) for r in poly.interiors]:
            coords = np.asarray(ring.coords)
            # Shapely exteriors may run either way; orient normals outward by the signed area.
            area2 = np.sum(coords[:-1, 0] * coords[1:, 1] - coords[1:, 0] * coords[:-1, 1])
            ccw = 1.0 if area2 > 0 else -1.0
            for a, b in zip(coords[:-1], coords[1:]):
                d = b - a
                length = float(np.hypot(*d))
                if length == 0:
                    continue
                n = max(1, int(round(length / spacing_um)))
                s = (np.arange(n) + 0.5) / n
                pts.append(a[None, :] + s[:, None] * d[None, :])
                normal = sign * ccw * np.array([d[1], -d[0]]) / length
                normals.append(np.repeat(normal[None, :], n, axis=0))
    if not pts:
        return np.zeros((0, 2)), np.zeros((0, 2))
    return np.concatenate(pts), np.concatenate(normals)


def nils_at_edges(intensity, pixel_um: float, edges, cd_um: float, *, origin_um=(0.0, 0.0),
                  normals=None) -> np.ndarray:
    """NILS = CD · ILS at points on the designed edges.

    Parameters
    ----------
    intensity : array_like, shape (ny, nx)
        Aerial image; sample (i, j) sits at ``(x0 + (j+½)p, y0 + (i+½)p)``.
    pixel_um : float
    edges : array_like (n, 2) or shapely geometry
        Edge points ``(x, y)`` in µm, or a geometry whose boundary is sampled
        every pixel (its outward normals are then used).
    cd_um : float or array_like (n,)
        Feature size that normalises the slope, µm (one value, or one per point).
    origin_um : (float, float)
        Grid origin ``(x0, y0)``.
    normals : array_like (n, 2), optional
        Unit normals at the points; the slope is taken along them. Without
        normals the gradient magnitude is used.

    Returns
    -------
    ndarray, shape (n,)
        NILS per edge point (cubic interpolation of ∇ ln I).
    """
    image = np.asarray(intensity, dtype=float)
    if hasattr(edges, "geom_type"):
        points, normals = edge_points(edges, pixel_um)
    else:
        points = np.asarray(edges, dtype=float).reshape(-1, 2)
    cd = np.asarray(cd_um, dtype=float)
    if not np.all(cd > 0):
        raise LithoInputError(f"cd_um = {cd_um!r}: must be > 0")
    if points.size == 0:
        return np.zeros(0)
    log_i = np.log(np.maximum(image, 1e-6))
    gy, gx = np.gradient(log_i, pixel_um)
    cols = (points[:, 0] - origin_um[0]) / pixel_um - 0.5
    rows = (points[:, 1] - origin_um[1]) / pixel_um - 0.5
    at = lambda g: ndimage.map_coordinates(g, [rows, cols], order=3, mode="nearest")  # noqa: E731
    sx, sy = at(gx), at(gy)
    if normals is not None:
        n = np.asarray(normals, dtype=float).reshape(-1, 2)
        slope = np.abs(sx * n[:, 0] + sy * n[:, 1])
    else:
        slope = np.hypot(sx, sy)
    return cd * slope


def edge_slope_summary(intensity, grid, polygons) -> dict:
    """ILS and NILS at the edges of designed pixels, summarised for a report.

    Parameters
    ----------
    intensity : ndarray, shape ``grid.shape``
        Aerial image (clear field = 1).
    grid : litho.grid.Grid
    polygons : sequence of shapely Polygons
        The designed pixels (µm). Each pixel's CD is its narrow width (side of
        the minimum rotated rectangle); its edges are sampled every pixel.

    Returns
    -------
    dict
        ``points``, ``nils_mean``, ``nils_min``, ``nils_p05``,
        ``ils_mean_per_um``, ``ils_min_per_um`` (None when no edge lies on the grid).
    """
    points, normals, cds = [], [], []
    (x0, y0, x1, y1) = grid.bounds_um
    for poly in polygons:
        rect = poly.minimum_rotated_rectangle
        xs, ys = rect.exterior.coords.xy
        sides = [math.hypot(xs[k + 1] - xs[k], ys[k + 1] - ys[k]) for k in range(2)]
        cd = min((s for s in sides if s > 0), default=0.0)
        if cd <= 0:
            continue
        p, n = edge_points(poly, grid.pixel_um)
        inside = (p[:, 0] > x0) & (p[:, 0] < x1) & (p[:, 1] > y0) & (p[:, 1] < y1)
        points.append(p[inside])
        normals.append(n[inside])
        cds.append(np.full(int(inside.sum()), cd))
    empty = {"points": 0, "nils_mean": None, "nils_min": None, "nils_p05": None, "ils_mean_per_um": None,
             "ils_min_per_um": None}
    if not points or not sum(len(p) for p in points):
        return empty
    cd = np.concatenate(cds)
    # one call: the spline prefilter of the gradient runs once for all edges
    nils = nils_at_edges(intensity, grid.pixel_um, np.concatenate(points), cd, origin_um=grid.origin_um,
                         normals=np.concatenate(normals))
    ils = nils / cd
    return {"points": int(nils.size), "nils_mean": float(nils.mean()), "nils_min": float(nils.min()),
            "nils_p05": float(np.percentile(nils, 5)), "ils_mean_per_um": float(ils.mean()),
            "ils_min_per_um": float(ils.min())}
