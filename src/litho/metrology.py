"""Metrology: what a developed film looks like, measured against the design.

Contours of the remaining thickness at the printed threshold become shapely
polygons in µm; each designed pixel is matched to what printed over it and
measured (PHYSICS.md §7): area, CD through the centre, centroid shift, IoU,
signed edge placement error, corner rounding; then the defects of the whole
field: missing pixels, bridges, residue between pixels.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import contourpy
import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import LineString, Polygon

from .grid import Grid
from .layout.geometry import merge

# A designed pixel with less than this fraction of its area printed is missing.
MISSING_AREA_FRACTION = 0.1
# Residue is looked for this far (µm, at least) outside every designed pixel, so
# that the blurred edge of a good pixel does not count as residue.
RESIDUE_EXCLUSION_UM = 1.0
# The central region of a pixel, where its in-feature h/h0 is read: the design
# scaled by this factor about its centroid. Half the width keeps the edge
# roll-off (judged by the CD) out, and is still many samples, not one.
CENTRAL_REGION_SCALE = 0.5


@dataclass(frozen=True)
class PixelMetrics:
    """Measurements of one designed pixel (lengths µm, areas µm²).

    Every length and area is measured on the printed polygon (contours
    interpolated between samples), never by counting samples. The centroid
    shift is printed minus designed centroid (its x and y parts, and their
    length); ``mean_nrt`` is h/h0 averaged over the whole design and
    ``centre_nrt`` over its central region (:func:`central_region`), both
    weighted by each sample's exact area inside.
    """

    index: int
    design_centroid_um: tuple[float, float]
    design_area_um2: float
    printed_area_um2: float
    cd_x_um: float
    cd_y_um: float
    design_cd_x_um: float
    design_cd_y_um: float
    centroid_shift_um: float
    centroid_shift_x_um: float
    centroid_shift_y_um: float
    iou: float
    epe_rms_um: float
    epe_max_um: float
    epe_mean_um: float
    corner_rounding_radius_um: float
    mean_nrt: float
    centre_nrt: float
    missing: bool
    bridged: bool

    def as_dict(self) -> dict:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["design_centroid_um"] = list(self.design_centroid_um)
        return d


@dataclass(frozen=True)
class Metrology:
    """Per-pixel metrics and field defects of one developed layer."""

    threshold: float
    printed: tuple[Polygon, ...]
    pixels: tuple[PixelMetrics, ...]
    missing_pixels: int
    bridges: int
    residue_max_nrt: float
    residue_area_um2: float
    summary: dict = field(default_factory=dict)


def printed_polygons(remaining_thickness: np.ndarray, grid: Grid, threshold: float = 0.5) -> list[Polygon]:
    """Polygons (µm) where ``remaining_thickness >= threshold``.

    Marching squares (contourpy) on the sample centres, filled between the
    threshold and infinity so that holes come out as interior rings.
    """
    if not np.any(remaining_thickness >= threshold):
        return []
    x, y, values = grid.x_um, grid.y_um, np.asarray(remaining_thickness)
    # A window one sample high (or wide) has nothing to contour across it; each sample then
    # stands for its whole cell, so the row is repeated at the cell's two edges.
    if values.shape[0] == 1:
        values, y = np.repeat(values, 2, axis=0), y[0] + 0.5 * grid.pixel_um * np.array([-1.0, 1.0])
    if values.shape[1] == 1:
        values, x = np.repeat(values, 2, axis=1), x[0] + 0.5 * grid.pixel_um * np.array([-1.0, 1.0])
    gen = contourpy.contour_generator(x, y, values,
                                      fill_type=contourpy.FillType.OuterOffset,
                                      line_type=contourpy.LineType.Separate)
    points_list, offsets_list = gen.filled(threshold, np.inf)
    polygons = []
    for points, offsets in zip(points_list, offsets_list):
        rings = [points[offsets[k]:offsets[k + 1]] for k in range(len(offsets) - 1)]
        rings = [r for r in rings if len(r) >= 4]
        if not rings:
            continue
        poly = shapely.make_valid(Polygon(rings[0], rings[1:]))
        for part in getattr(poly, "geoms", [poly]):
            if isinstance(part, Polygon) and part.area > 0:
                polygons.append(part)
    return polygons


def measure(remaining_thickness: np.ndarray, grid: Grid, design: list[Polygon] | tuple[Polygon, ...],
            threshold: float = 0.5, *, epe_step_um: float | None = None) -> Metrology:
    """Measure a developed layer against its designed pixels.

    Parameters
    ----------
    remaining_thickness : ndarray (ny, nx)
        h/h0 after development.
    grid : Grid
        The grid of ``remaining_thickness``.
    design : sequence of shapely Polygon
        The designed pixels (mask openings), µm, in the same frame.
    threshold : float
        h/h0 that counts as printed.
    epe_step_um : float, optional
        Spacing of the EPE samples along design edges (default: the grid pitch).

    Returns
    -------
    Metrology
    """
    printed = printed_polygons(remaining_thickness, grid, threshold)
    printed_tree = shapely.STRtree(printed) if printed else None
    step = epe_step_um or grid.pixel_um
    terms = design_terms(design, grid, step)

    # Which designed pixels each printed polygon touches: two or more is a bridge.
    # One tree query and one array intersection for every (pixel, print) pair.
    design_arr, printed_arr = terms.polygons, _objects(printed)
    touching = {k: [] for k in range(len(printed))}
    per_pixel_hits = [[] for _ in design]
    overlap_um2 = np.zeros(len(design))
    if printed_tree is not None and len(design):
        pix, prt = printed_tree.query(design_arr, predicate="intersects")
        if pix.size:
            overlap = shapely.area(shapely.intersection(printed_arr[prt], design_arr[pix]))
            for i, k, a in zip(pix.tolist(), prt.tolist(), overlap.tolist()):
                if a > 1e-9 * terms.area[i]:
                    overlap_um2[i] += a
                    per_pixel_hits[i].append(k)
                    touching[k].append(i)
    bridged_printed = {k for k, pix in touching.items() if len(pix) >= 2}

    mean_nrt = _weighted_means(remaining_thickness, terms.mean_weights)
    centre_nrt = _weighted_means(remaining_thickness, terms.centre_weights)
    matched = [shapely.union_all([printed[k] for k in hits]) if hits else Polygon() for hits in per_pixel_hits]
    pixels = measure_pixels(design, matched, step, mean_nrt, centre_nrt,
                            [any(k in bridged_printed for k in hits) for hits in per_pixel_hits], terms=terms,
                            overlap_um2=overlap_um2)

    residue_max, residue_area = _residue(remaining_thickness, grid, design, printed, threshold, terms=terms)
    missing = sum(p.missing for p in pixels)
    metrology = Metrology(threshold=threshold, printed=tuple(printed), pixels=tuple(pixels),
                          missing_pixels=missing, bridges=len(bridged_printed),
                          residue_max_nrt=residue_max, residue_area_um2=residue_area)
    object.__setattr__(metrology, "summary", summarize(metrology))
    return metrology


def central_region(design: Polygon) -> Polygon:
    """The middle of a designed pixel: the design scaled by ``CENTRAL_REGION_SCALE``
    about its centroid (clipped to the design, for non-convex shapes)."""
    scaled = affinity.scale(design, CENTRAL_REGION_SCALE, CENTRAL_REGION_SCALE, origin=design.centroid)
    region = scaled.intersection(design)
    return region if not region.is_empty else scaled


def _measure_pixel(index: int, design: Polygon, printed: Polygon, step_um: float, mean_nrt: float,
                   centre_nrt: float, bridged: bool) -> PixelMetrics:
    centre = design.centroid
    xmin, ymin, xmax, ymax = design.bounds
    local = printed.intersection(design.buffer(max(xmax - xmin, ymax - ymin))) if not printed.is_empty else printed
    printed_area = float(local.area)
    missing = printed.intersection(design).area < MISSING_AREA_FRACTION * design.area
    cd_x = _chord(local, LineString([(xmin - (xmax - xmin), centre.y), (xmax + (xmax - xmin), centre.y)]), centre)
    cd_y = _chord(local, LineString([(centre.x, ymin - (ymax - ymin)), (centre.x, ymax + (ymax - ymin))]), centre)
    union = design.union(local).area
    iou = float(design.intersection(local).area / union) if union > 0 else 0.0
    if local.is_empty:
        shift = shift_x = shift_y = math.nan
    else:
        # the centroid of the printed area (sub-sample: the polygon's, not a count of samples)
        shift_x, shift_y = local.centroid.x - centre.x, local.centroid.y - centre.y
        shift = math.hypot(shift_x, shift_y)
    epe = edge_placement_errors(design, local, step_um)
    return PixelMetrics(
        index=index,
        design_centroid_um=(float(centre.x), float(centre.y)),
        design_area_um2=float(design.area),
        printed_area_um2=printed_area,
        cd_x_um=cd_x, cd_y_um=cd_y,
        design_cd_x_um=_chord(design, LineString([(xmin - 1, centre.y), (xmax + 1, centre.y)]), centre),
        design_cd_y_um=_chord(design, LineString([(centre.x, ymin - 1), (centre.x, ymax + 1)]), centre),
        centroid_shift_um=float(shift),
        centroid_shift_x_um=float(shift_x),
        centroid_shift_y_um=float(shift_y),
        iou=iou,
        epe_rms_um=float(np.sqrt(np.mean(epe ** 2))) if epe.size else math.nan,
        epe_max_um=float(epe[np.argmax(np.abs(epe))]) if epe.size else math.nan,
        epe_mean_um=float(np.mean(epe)) if epe.size else math.nan,
        corner_rounding_radius_um=corner_rounding_radius(design, local),
        mean_nrt=float(mean_nrt),
        centre_nrt=float(centre_nrt),
        missing=bool(missing),
        bridged=bool(bridged),
    )


def _objects(items) -> np.ndarray:
    """A 1-D object array of shapely geometries (never a 2-D array of their coordinates)."""
    out = np.empty(len(items), dtype=object)
    out[:] = list(items)
    return out


def measure_pixels(design, matched, step_um: float, mean_nrt, centre_nrt, bridged, *,
                   terms: "DesignTerms | None" = None, overlap_um2=None) -> list[PixelMetrics]:
    """:func:`_measure_pixel` for every pixel at once, with shapely 2's array functions.

    Each geometric operation (intersections with the design and the chord
    lines, areas, centroids, EPE distances, corner boxes) is one call over
    all pixels; results equal the per-pixel evaluation to float rounding
    (tests/test_metrology.py). ``terms`` (:func:`design_terms`) holds what
    depends on the design alone, so that measuring many prints of one design
    (a dose sweep) computes it once. ``overlap_um2``, when given, is each
    pixel's area of ``matched`` ∩ design (the sum of its disjoint printed
    parts' overlaps, known from matching them).
    """
    n = len(design)
    if n == 0:
        return []
    t = terms if terms is not None else _design_terms(design, None, step_um)
    d, cx, cy, centres = t.polygons, t.cx, t.cy, t.centres
    m = _objects(matched)
    empty = shapely.is_empty(m)
    local = m.copy()
    full = ~empty
    if full.any():
        # a print already inside the pixel's neighbourhood is its own restriction to it
        mb = shapely.bounds(m)
        inside = full & np.all((mb[:, :2] >= t.near_box[:, :2]) & (mb[:, 2:] <= t.near_box[:, 2:]), axis=1)
        clip = full & ~inside
        if clip.any():
            local[clip] = shapely.intersection(m[clip], t.neighbourhood[clip])
    design_area = t.area
    on_design = np.asarray(overlap_um2, dtype=float) if overlap_um2 is not None else \
        shapely.area(shapely.intersection(m, d))
    missing = on_design < MISSING_AREA_FRACTION * design_area
    cd_x, cd_y = _chords(local, t.lines_x, centres), _chords(local, t.lines_y, centres)
    design_cd_x, design_cd_y = t.design_cd_x, t.design_cd_y
    local_area = shapely.area(local)
    # the design lies inside the neighbourhood local is clipped to: design ∩ local = design ∩ matched
    inter = on_design
    # |A ∪ B| = |A| + |B| − |A ∩ B|: one overlay fewer than shapely.union
    union = design_area + local_area - inter
    iou = np.divide(inter, union, out=np.zeros(n), where=union > 0)
    shift_x, shift_y = np.full(n, np.nan), np.full(n, np.nan)
    some = ~shapely.is_empty(local)
    if some.any():   # the centroid of the printed area (sub-sample: the polygon's, not a count of samples)
        printed_centres = shapely.centroid(local[some])
        shift_x[some] = shapely.get_x(printed_centres) - cx[some]
        shift_y[some] = shapely.get_y(printed_centres) - cy[some]
    shift = np.hypot(shift_x, shift_y)
    epe = _edge_placement_errors_all(design, local, step_um, points=t.epe_points)
    corners = _corner_rounding_all(design, local, boxes=t.corner_boxes)
    pixels = []
    for i in range(n):
        e = epe[i]
        pixels.append(PixelMetrics(
            index=i,
            design_centroid_um=(float(cx[i]), float(cy[i])),
            design_area_um2=float(design_area[i]),
            printed_area_um2=float(local_area[i]),
            cd_x_um=float(cd_x[i]), cd_y_um=float(cd_y[i]),
            design_cd_x_um=float(design_cd_x[i]), design_cd_y_um=float(design_cd_y[i]),
            centroid_shift_um=float(shift[i]),
            centroid_shift_x_um=float(shift_x[i]),
            centroid_shift_y_um=float(shift_y[i]),
            iou=float(iou[i]),
            epe_rms_um=float(np.sqrt(np.mean(e ** 2))) if e.size else math.nan,
            epe_max_um=float(e[np.argmax(np.abs(e))]) if e.size else math.nan,
            epe_mean_um=float(np.mean(e)) if e.size else math.nan,
            corner_rounding_radius_um=float(corners[i]),
            mean_nrt=float(mean_nrt[i]),
            centre_nrt=float(centre_nrt[i]),
            missing=bool(missing[i]),
            bridged=bool(bridged[i]),
        ))
    return pixels


@dataclass(frozen=True, eq=False)
class DesignTerms:
    """What the metrology of one design on one grid needs that no print changes.

    Computed once per (design, grid, EPE step) by :func:`design_terms` and
    reused by every :func:`measure` of that design: the polygons as an array,
    their areas, centroids, chord lines and designed CDs, the neighbourhood
    a print is restricted to, the EPE sample points, the corner boxes, the
    exact-coverage weights of each pixel and of its central region, and the
    samples clear of the residue keep-out zone.
    """

    design: tuple
    polygons: np.ndarray
    area: np.ndarray
    centres: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    lines_x: np.ndarray
    lines_y: np.ndarray
    design_cd_x: np.ndarray
    design_cd_y: np.ndarray
    neighbourhood: np.ndarray
    near_box: np.ndarray
    epe_points: list
    corner_boxes: list
    mean_weights: list | None = None
    centre_weights: list | None = None
    keep_out: Polygon | None = None
    outside: np.ndarray | None = None

    @property
    def nbytes(self) -> int:
        """Bytes of the grid arrays held (coverage weights and the keep-out mask)."""
        weights = [w for ws in (self.mean_weights or [], self.centre_weights or []) for w in ws if w is not None]
        return sum(w[2].nbytes for w in weights) + (self.outside.nbytes if self.outside is not None else 0)


_TERMS: "OrderedDict[tuple, DesignTerms]" = OrderedDict()
_TERMS_LOCK = threading.Lock()
#: designs whose terms stay cached (a sweep runs a few groups side by side, each one design),
#: and the most bytes of weight and keep-out arrays they may hold together
TERMS_CACHED = 8
TERMS_BUDGET_BYTES = 256 * 2 ** 20


def design_terms(design, grid: Grid, step_um: float) -> DesignTerms:
    """The :class:`DesignTerms` of ``design`` on ``grid``, cached for the same design object.

    The cache is keyed on the identity of the design sequence (and of its
    polygons, checked on a hit), the grid and the EPE step: a sweep measures
    one design tuple many times; a new design is simply computed afresh.
    """
    key = (id(design), grid, float(step_um))
    with _TERMS_LOCK:
        found = _TERMS.get(key)
        if found is not None and len(found.design) == len(design) and all(
                a is b for a, b in zip(found.design, design)):
            _TERMS.move_to_end(key)
            return found
    terms = _design_terms(design, grid, step_um)
    if terms.nbytes > TERMS_BUDGET_BYTES:
        return terms
    with _TERMS_LOCK:
        _TERMS[key] = terms
        while len(_TERMS) > TERMS_CACHED or sum(t.nbytes for t in _TERMS.values()) > TERMS_BUDGET_BYTES:
            _TERMS.popitem(last=False)
    return terms


def _design_terms(design, grid: Grid | None, step_um: float) -> DesignTerms:
    """:class:`DesignTerms` computed (the grid-dependent parts only when ``grid`` is given)."""
    design = tuple(design)
    d = _objects(design)
    n = len(design)
    if n:
        xmin, ymin, xmax, ymax = shapely.bounds(d).T
    else:
        xmin = ymin = xmax = ymax = np.zeros(0)
    w, h = xmax - xmin, ymax - ymin
    centres = shapely.centroid(d)
    cx, cy = shapely.get_x(centres), shapely.get_y(centres)

    def lines(x0, y0, x1, y1):
        return shapely.linestrings(np.stack([np.stack([x0, y0], -1), np.stack([x1, y1], -1)], 1)) if n \
            else np.empty(0, dtype=object)

    reach = np.maximum(w, h)
    # a print whose bounds are inside the design's bounds grown by reach/√2 (less a margin)
    # lies wholly inside the design buffered by reach: intersecting with it changes nothing
    grow = reach / math.sqrt(2.0) * (1 - 1e-9)
    terms = dict(
        design=design, polygons=d, area=shapely.area(d), centres=centres, cx=cx, cy=cy,
        lines_x=lines(xmin - w, cy, xmax + w, cy), lines_y=lines(cx, ymin - h, cx, ymax + h),
        design_cd_x=_chords(d, lines(xmin - 1, cy, xmax + 1, cy), centres),
        design_cd_y=_chords(d, lines(cx, ymin - 1, cx, ymax + 1), centres),
        neighbourhood=shapely.buffer(d, reach, quad_segs=16) if n else d,
        near_box=np.stack([xmin - grow, ymin - grow, xmax + grow, ymax + grow], -1),
        epe_points=[_edge_points(poly, step_um) for poly in design],
        corner_boxes=corner_boxes_all(design))
    if grid is not None:
        terms.update(mean_weights=_coverage_weights(grid, design),
                     centre_weights=_coverage_weights(grid, [central_region(p) for p in design]))
        band = max(RESIDUE_EXCLUSION_UM, 2 * grid.pixel_um)
        keep_out = merge([p.buffer(band, join_style="mitre") for p in design]) if design else Polygon()
        # A sample counts as outside only when no part of it touches the keep-out zone.
        outside = coverage([keep_out], grid) < 1e-9 if not keep_out.is_empty else np.ones(grid.shape, bool)
        terms.update(keep_out=keep_out, outside=outside)
    return DesignTerms(**terms)


def _edge_points(poly: Polygon, step_um: float) -> np.ndarray:
    """EPE sample points of one design: every ring, spaced about ``step_um`` (at least 8 a ring)."""
    points = []
    for ring in [poly.exterior, *poly.interiors]:
        count = max(8, int(math.ceil(ring.length / step_um)))
        points.append(shapely.line_interpolate_point(ring, np.linspace(0, ring.length, count, endpoint=False)))
    return np.concatenate(points)


def _chords(geometries: np.ndarray, lines: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """:func:`_chord` of each geometry with its line, through its centre, in array calls."""
    out = np.zeros(len(geometries))
    pieces = shapely.intersection(geometries, lines)
    parts, owner = shapely.get_parts(pieces, return_index=True)
    if parts.size == 0:
        return out
    is_line = shapely.get_type_id(parts) == 1          # LineString
    near = shapely.distance(parts, centres[owner]) < 1e-9
    length = shapely.length(parts)
    hit = is_line & near
    # the first part that holds the centre, as _chord takes it
    for k in np.flatnonzero(hit)[::-1]:
        out[owner[k]] = length[k]
    return out


def _edge_placement_errors_all(design, printed: np.ndarray, step_um: float, *, points=None) -> list[np.ndarray]:
    """:func:`edge_placement_errors` of every pixel, the distances in one call
    (``points``: each pixel's edge samples, :func:`_edge_points`, when already known)."""
    per_pixel = points if points is not None else [_edge_points(poly, step_um) for poly in design]
    points = [p for p in per_pixel]
    owner = [np.full(p.size, i) for i, p in enumerate(per_pixel)]
    if not points:
        return [np.zeros(0) for _ in design]
    points, owner = np.concatenate(points), np.concatenate(owner)
    empty = shapely.is_empty(printed)
    target = printed[owner]
    distance = np.empty(points.size)
    none = empty[owner]
    if none.any():   # nothing printed: the shortfall is the distance to the centroid
        distance[none] = -shapely.distance(points[none], shapely.centroid(_objects(design))[owner[none]])
    some = ~none
    if some.any():
        # each pixel's print boundary once, not once per edge sample
        d = _distances_to_boundaries(points[some], owner[some], printed)
        inside = shapely.contains_xy(target[some], shapely.get_x(points[some]), shapely.get_y(points[some]))
        distance[some] = np.where(inside, d, -d)
    order = np.argsort(owner, kind="stable")
    splits = np.searchsorted(owner[order], np.arange(1, len(design)))
    return np.split(distance[order], splits)


#: nearest segment midpoints examined per point before the exact distance is taken as proven
NEAREST_SEGMENTS = 6


def _distances_to_boundaries(points: np.ndarray, owner: np.ndarray, printed: np.ndarray) -> np.ndarray:
    """Distance from each point to the boundary of ``printed[owner]``: exactly shapely's, faster.

    Every boundary segment's midpoint goes into one k-d tree, with its
    polygon's index as a third coordinate far apart from the others, so a
    point only finds its own print's segments. The exact point-segment
    distance over the nearest midpoints is the answer when the farthest of
    them is at least that distance plus the longest half-segment away: any
    other segment is then farther. The few points without that proof (long
    straight segments) take shapely's distance.
    """
    from scipy.spatial import cKDTree

    used = np.unique(owner)
    parts, part_of = shapely.get_parts(printed[used], return_index=True)
    polygonal = shapely.get_type_id(parts) == 3
    rings, ring_of = shapely.get_rings(parts[polygonal], return_index=True)
    ring_owner = used[part_of[polygonal][ring_of]]
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]                      # consecutive vertices of one ring: a segment
    a, b = xy[:-1][same], xy[1:][same]
    seg_owner = ring_owner[ring[:-1][same]]
    if a.shape[0] == 0:
        return shapely.distance(points, shapely.boundary(printed[owner]))
    mid = 0.5 * (a + b)
    half = 0.5 * float(np.max(np.hypot(*(b - a).T)))
    px, py = shapely.get_x(points), shapely.get_y(points)
    # owners apart by far more than any distance on the mask
    spread = 10.0 * (float(np.ptp(np.concatenate([xy[:, 0], px]))) + float(np.ptp(np.concatenate([xy[:, 1], py])))
                     + 1.0)
    tree = cKDTree(np.column_stack([mid, seg_owner * spread]))
    k = min(NEAREST_SEGMENTS, a.shape[0])
    near_d, near = tree.query(np.column_stack([px, py, owner * spread]), k=k)
    near_d, near = near_d.reshape(len(px), k), near.reshape(len(px), k)
    sa, sb = a[near], b[near]                          # (points, k, 2)
    p = np.stack([px, py], -1)[:, None, :]
    ab = sb - sa
    length2 = np.einsum("pkj,pkj->pk", ab, ab)
    t = np.clip(np.einsum("pkj,pkj->pk", p - sa, ab) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    closest = sa + t[..., None] * ab
    exact = np.hypot(*(p - closest).transpose(2, 0, 1))
    exact = np.where(seg_owner[near] == owner[:, None], exact, np.inf)
    best = exact.min(axis=1)
    # proven: every segment was examined, or the rest are farther; a point whose print has no
    # polygon part (best = inf) is proven by neither and takes shapely's answer
    unproven = ~np.isfinite(best)
    if k < a.shape[0]:
        unproven |= ~(near_d[:, -1] >= best + half)
    if unproven.any():
        best[unproven] = shapely.distance(points[unproven], shapely.boundary(printed[owner[unproven]]))
    return best


def corner_boxes(design: Polygon) -> list[Polygon]:
    """The square boxes (side a quarter of the design's smaller extent) at its sharp convex corners.

    Empty for designs that are not polygons of 3 to 16 vertices, and for
    vertices whose edges are too short to hold a box.
    """
    coords = np.asarray(design.exterior.coords)[:-1]
    n = len(coords)
    if n < 3 or n > 16:
        return []
    xmin, ymin, xmax, ymax = design.bounds
    box_um = 0.25 * min(xmax - xmin, ymax - ymin)
    grown = design.buffer(1e-9)
    boxes = []
    for k in range(n):
        prev, here, nxt = coords[k - 1], coords[k], coords[(k + 1) % n]
        a, b = prev - here, nxt - here
        if np.linalg.norm(a) < 2 * box_um or np.linalg.norm(b) < 2 * box_um:
            continue
        a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
        corner = Polygon([here, here + box_um * a, here + box_um * (a + b), here + box_um * b])
        if corner.is_valid and corner.area > 0 and grown.contains(corner):
            boxes.append(corner)
    return boxes


def corner_boxes_all(design) -> list[list[Polygon]]:
    """:func:`corner_boxes` of every design, the shapely work (validity, area, containment) in array calls."""
    candidates, owner = [], []
    grown_of = []
    for i, poly in enumerate(design):
        coords = np.asarray(poly.exterior.coords)[:-1]
        n = len(coords)
        if n < 3 or n > 16:
            continue
        xmin, ymin, xmax, ymax = poly.bounds
        box_um = 0.25 * min(xmax - xmin, ymax - ymin)
        a = np.roll(coords, 1, axis=0) - coords
        b = np.roll(coords, -1, axis=0) - coords
        na = np.sqrt(a[:, 0] * a[:, 0] + a[:, 1] * a[:, 1])
        nb = np.sqrt(b[:, 0] * b[:, 0] + b[:, 1] * b[:, 1])
        for k in np.flatnonzero((na >= 2 * box_um) & (nb >= 2 * box_um)):
            here, ua, ub = coords[k], a[k] / na[k], b[k] / nb[k]
            candidates.append([here, here + box_um * ua, here + box_um * (ua + ub), here + box_um * ub])
            owner.append(i)
        grown_of.append(i)
    out: list[list[Polygon]] = [[] for _ in design]
    if not candidates:
        return out
    owner = np.asarray(owner)
    boxes = shapely.polygons(np.asarray(candidates))
    grown = np.empty(len(design), dtype=object)
    grown[grown_of] = shapely.buffer(_objects([design[i] for i in grown_of]), 1e-9, quad_segs=16)
    keep = shapely.is_valid(boxes) & (shapely.area(boxes) > 0) & shapely.contains(grown[owner], boxes)
    for k in np.flatnonzero(keep):
        out[owner[k]].append(boxes[k])
    return out


def _radius_of_lost_area(lost):
    """A corner rounded with radius r misses (1 − π/4)·r² of its square box."""
    return np.sqrt(np.maximum(lost, 0.0) / (1 - math.pi / 4))


def _corner_rounding_all(design, printed: np.ndarray, *, boxes=None) -> np.ndarray:
    """:func:`corner_rounding_radius` of every pixel, corner areas in one call
    (``boxes``: each pixel's :func:`corner_boxes`, when already known)."""
    out = np.full(len(design), math.nan)
    per_pixel = boxes
    boxes, owner = [], []
    for i, poly in enumerate(design):
        if shapely.is_empty(printed[i]):
            continue
        found = per_pixel[i] if per_pixel is not None else corner_boxes(poly)
        boxes.extend(found)
        owner.extend([i] * len(found))
    if not boxes:
        return out
    boxes_arr, owner = _objects(boxes), np.asarray(owner)
    lost = shapely.area(boxes_arr) - shapely.area(shapely.intersection(boxes_arr, printed[owner]))
    radii = _radius_of_lost_area(lost)
    for i in np.unique(owner):
        out[i] = float(np.mean(radii[owner == i]))
    return out


def _chord(geometry, line: LineString, centre) -> float:
    """Length of the piece of ``line`` inside ``geometry`` that holds ``centre``
    (0 when the centre did not print)."""
    if geometry.is_empty:
        return 0.0
    piece = geometry.intersection(line)
    for part in getattr(piece, "geoms", [piece]):
        if isinstance(part, LineString) and part.distance(centre) < 1e-9:
            return float(part.length)
    return 0.0


def edge_placement_errors(design: Polygon, printed, step_um: float) -> np.ndarray:
    """Signed distance (µm) from design-edge samples to the printed edge.

    Positive where the print extends outside the design, negative where it
    falls short (PHYSICS.md §7). Samples are spaced ``step_um`` along every
    ring of the design, including holes.
    """
    rings = [design.exterior, *design.interiors]
    points = []
    for ring in rings:
        n = max(8, int(math.ceil(ring.length / step_um)))
        points.append(shapely.line_interpolate_point(ring, np.linspace(0, ring.length, n, endpoint=False)))
    points = np.concatenate(points)
    if printed.is_empty:
        # Nothing printed: the edge is "inside" by the pixel's inradius at most;
        # report the distance to the centroid as the shortfall.
        return -shapely.distance(points, design.centroid)
    distance = shapely.distance(points, printed.boundary)
    inside = shapely.contains_xy(printed, shapely.get_x(points), shapely.get_y(points))
    return np.where(inside, distance, -distance)


def corner_rounding_radius(design: Polygon, printed) -> float:
    """Mean radius (µm) of the rounded corners of a printed rectangle-like pixel.

    A corner rounded with radius r misses (1 − π/4)·r² of the square corner;
    the missing area in a square box at each convex design vertex gives r.
    Returns nan for designs that are not convex polygons with sharp corners.
    """
    if printed.is_empty:
        return math.nan
    radii = [float(_radius_of_lost_area(c.area - c.intersection(printed).area)) for c in corner_boxes(design)]
    return float(np.mean(radii)) if radii else math.nan


def _mean_inside(values: np.ndarray, grid: Grid, design) -> list[float]:
    """Area-weighted mean of ``values`` over each polygon.

    Each polygon is rasterised by exact area coverage on the part of the grid
    its bounding box covers, so edge samples count by the share of them inside.
    """
    return _weighted_means(values, _coverage_weights(grid, design))


def _coverage_weights(grid: Grid, design) -> list:
    """Per polygon ``(rows, cols, weight, total)``: its exact area coverage on the part of
    ``grid`` its bounding box covers (None when it misses the grid)."""
    from .raster import rasterize

    out = []
    x0, y0 = grid.origin_um
    ny, nx = grid.shape
    for poly in design:
        xmin, ymin, xmax, ymax = poly.bounds
        j0 = max(0, int(np.floor((xmin - x0) / grid.pixel_um)))
        j1 = min(nx, int(np.ceil((xmax - x0) / grid.pixel_um)))
        i0 = max(0, int(np.floor((ymin - y0) / grid.pixel_um)))
        i1 = min(ny, int(np.ceil((ymax - y0) / grid.pixel_um)))
        if i1 <= i0 or j1 <= j0:
            out.append(None)
            continue
        sub = Grid((i1 - i0, j1 - j0), grid.pixel_um,
                   (x0 + j0 * grid.pixel_um, y0 + i0 * grid.pixel_um))
        weight = rasterize(poly, sub)
        out.append((slice(i0, i1), slice(j0, j1), weight, weight.sum()))
    return out


def _weighted_means(values: np.ndarray, weights: list) -> list[float]:
    """The mean of ``values`` under each of :func:`_coverage_weights`' weights (nan where none)."""
    out = []
    for entry in weights:
        if entry is None:
            out.append(math.nan)
            continue
        rows, cols, weight, total = entry
        out.append(float((weight * values[rows, cols]).sum() / total) if total > 0 else math.nan)
    return out


def coverage(design, grid: Grid) -> np.ndarray:
    """Exact area coverage (0–1) of the union of ``design`` on ``grid``."""
    from .raster import rasterize

    if not design:
        return np.zeros(grid.shape)
    return rasterize(merge(design), grid)


def _residue(values: np.ndarray, grid: Grid, design, printed, threshold: float, *,
             terms: DesignTerms | None = None) -> tuple[float, float]:
    """Largest h/h0 and printed area farther than the exclusion band from every designed pixel."""
    if terms is None or terms.outside is None:
        terms = _design_terms(design, grid, grid.pixel_um)
    keep_out, outside = terms.keep_out, terms.outside
    residue_max = float(values[outside].max()) if outside.any() else 0.0
    residue_area = float(sum(p.difference(keep_out).area for p in printed))
    return residue_max, residue_area


def summarize(m: Metrology) -> dict:
    """Field-level numbers of a :class:`Metrology`, keys carrying their units."""
    px = [p for p in m.pixels if not p.missing]

    def stat(name, fn):
        vals = np.array([getattr(p, name) for p in px], float)
        vals = vals[np.isfinite(vals)]
        return float(fn(vals)) if vals.size else None

    return {
        "threshold_nrt": m.threshold,
        "designed_pixels": len(m.pixels),
        "printed_polygons": len(m.printed),
        "missing_pixels": m.missing_pixels,
        "bridges": m.bridges,
        "residue_max_nrt": m.residue_max_nrt,
        "residue_area_um2": m.residue_area_um2,
        "iou_mean": stat("iou", np.mean),
        "iou_min": stat("iou", np.min),
        "cd_x_mean_um": stat("cd_x_um", np.mean),
        "cd_y_mean_um": stat("cd_y_um", np.mean),
        "cd_x_error_mean_um": (stat("cd_x_um", np.mean) - stat("design_cd_x_um", np.mean)) if px else None,
        "cd_y_error_mean_um": (stat("cd_y_um", np.mean) - stat("design_cd_y_um", np.mean)) if px else None,
        "epe_rms_um": stat("epe_rms_um", lambda v: np.sqrt(np.mean(v ** 2))),
        "epe_max_abs_um": stat("epe_max_um", lambda v: np.max(np.abs(v))),
        "centroid_shift_max_um": stat("centroid_shift_um", np.max),
        "corner_rounding_radius_mean_um": stat("corner_rounding_radius_um", np.mean),
        "pixel_nrt_mean": stat("mean_nrt", np.mean),
        "centre_nrt_min": stat("centre_nrt", np.min),
        "centroid_shift_x_mean_um": stat("centroid_shift_x_um", np.mean),
        "centroid_shift_y_mean_um": stat("centroid_shift_y_um", np.mean),
    }
