"""litho.layout.geometry.merge: the union, fast for many separate shapes."""

from __future__ import annotations

import time

import numpy as np
import pytest
import shapely

from litho.layout.geometry import merge


def test_merge_equals_union_all():
    rng = np.random.default_rng(3)
    boxes = [shapely.box(x, y, x + w, y + h) for x, y, w, h in rng.uniform(0, 50, (300, 4)) / [1, 1, 10, 10]]
    boxes.append(shapely.Point(20, 20).buffer(3).difference(shapely.Point(20, 20).buffer(1)))
    got, expect = merge(boxes), shapely.union_all(boxes)
    assert got.symmetric_difference(expect).area < 1e-9
    assert len(shapely.get_parts(got)) == len(shapely.get_parts(expect))


def test_merge_small_and_empty():
    assert merge([]).is_empty
    assert merge([shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)]).equals(shapely.box(0, 0, 2, 1))
    assert merge([shapely.LineString([(0, 0), (1, 1)])]).is_empty


def test_merge_many_disjoint_pixels_is_fast():
    boxes = [shapely.box(i * 3, j * 3, i * 3 + 2, j * 3 + 2) for i in range(200) for j in range(200)]
    start = time.perf_counter()
    got = merge(boxes)
    assert time.perf_counter() - start < 5.0
    assert len(got.geoms) == 40000 and got.area == pytest.approx(40000 * 4)
