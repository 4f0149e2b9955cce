import numpy as np
import pytest
from hypothesis import given, strategies as st

from litho.grid import Grid


def test_sample_centres_follow_the_convention():
    g = Grid((2, 3), 0.5, (1.0, -1.0))
    np.testing.assert_allclose(g.x_um, [1.25, 1.75, 2.25])
    np.testing.assert_allclose(g.y_um, [-0.75, -0.25])
    assert g.extent_um == (1.0, 2.5, -1.0, 0.0)


@given(st.floats(-50, 50), st.floats(-50, 50), st.floats(0.1, 30), st.floats(0.1, 30),
       st.floats(0.01, 2))
def test_covering_grid_holds_the_box(x, y, w, h, pitch):
    g = Grid.covering((x, y, x + w, y + h), pitch)
    xmin, ymin, xmax, ymax = g.bounds_um
    assert xmin <= x + 1e-9 and ymin <= y + 1e-9
    assert xmax >= x + w - 1e-9 and ymax >= y + h - 1e-9
    assert (xmax - xmin) < w + pitch + 1e-9


def test_bad_grids_are_refused():
    with pytest.raises(ValueError):
        Grid((0, 4), 1.0)
    with pytest.raises(ValueError):
        Grid((4, 4), 0.0)
