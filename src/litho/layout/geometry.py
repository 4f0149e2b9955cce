"""Plain shapely geometry helpers shared by the mask reader and the rasteriser."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["merge"]

# Below this many shapes one cascaded union is as fast as anything else.
_DIRECT_UNION = 64


def merge(polygons) -> BaseGeometry:
    """Union of polygons, fast for large arrays of separate shapes.

    A cascaded union of every polygon at once (``shapely.union_all``) costs
    about 20 s for 10⁵ disjoint pixels, so only polygons that touch are merged:
    the connected components of the "intersects" graph (an STRtree query) are
    unioned one by one and a lone polygon is kept as it is.

    Parameters
    ----------
    polygons : iterable of shapely geometries (or an array of them)

    Returns
    -------
    Polygon or MultiPolygon
        Empty Polygon when nothing has area.
    """
    polys = np.asarray(list(polygons) if not isinstance(polygons, np.ndarray) else polygons, dtype=object)
    if len(polys):
        polys = shapely.get_parts(polys)
        polys = polys[~shapely.is_empty(polys)]
    if len(polys) <= _DIRECT_UNION:
        merged = [shapely.union_all(polys)] if len(polys) else []
    else:
        from scipy.sparse import coo_matrix
        from scipy.sparse.csgraph import connected_components

        tree = shapely.STRtree(polys)
        i, j = tree.query(polys, predicate="intersects")
        pair = i < j
        n = len(polys)
        graph = coo_matrix((np.ones(int(pair.sum()), dtype=np.int8), (i[pair], j[pair])), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        size = np.bincount(labels)
        alone = size[labels] == 1
        merged = [polys[alone]]
        rest = np.flatnonzero(~alone)
        if len(rest):
            order = rest[np.argsort(labels[rest], kind="stable")]
            cuts = np.flatnonzero(np.diff(labels[order])) + 1
            merged.append(np.array([shapely.union_all(polys[g]) for g in np.split(order, cuts)], dtype=object))
    if not merged:
        return shapely.Polygon()
    parts = shapely.get_parts(np.concatenate([np.atleast_1d(np.asarray(m, dtype=object)) for m in merged]))
    parts = parts[(shapely.get_type_id(parts) == 3) & ~shapely.is_empty(parts)]
    if not len(parts):
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)
