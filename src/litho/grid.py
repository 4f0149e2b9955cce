"""The sampling grid that travels with every field array.

Arrays are indexed ``[row, col] = [y, x]``; sample ``(i, j)`` sits at
``(x0 + (j + 0.5)·dx, y0 + (i + 0.5)·dx)`` (DESIGN.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Grid:
    """A uniform square-pixel grid.

    Parameters
    ----------
    shape : (int, int)
        ``(ny, nx)``, rows then columns.
    pixel_um : float
        Sample pitch in µm, the same in x and y.
    origin_um : (float, float)
        ``(x0, y0)``: the lower-left corner of sample (0, 0), in µm.
    """

    shape: tuple[int, int]
    pixel_um: float
    origin_um: tuple[float, float] = (0.0, 0.0)

    def __post_init__(self):
        ny, nx = self.shape
        if ny < 1 or nx < 1:
            raise ValueError(f"grid shape must be positive, got {self.shape}")
        if not self.pixel_um > 0:
            raise ValueError(f"pixel_um must be > 0, got {self.pixel_um}")
        object.__setattr__(self, "shape", (int(ny), int(nx)))
        object.__setattr__(self, "pixel_um", float(self.pixel_um))
        object.__setattr__(self, "origin_um", (float(self.origin_um[0]), float(self.origin_um[1])))

    @classmethod
    def covering(cls, bounds_um: tuple[float, float, float, float], pixel_um: float) -> "Grid":
        """The smallest grid of pitch ``pixel_um`` whose extent covers ``bounds_um``
        ``(xmin, ymin, xmax, ymax)``, centred on it."""
        xmin, ymin, xmax, ymax = bounds_um
        nx = max(1, int(np.ceil((xmax - xmin) / pixel_um - 1e-9)))
        ny = max(1, int(np.ceil((ymax - ymin) / pixel_um - 1e-9)))
        x0 = 0.5 * (xmin + xmax) - 0.5 * nx * pixel_um
        y0 = 0.5 * (ymin + ymax) - 0.5 * ny * pixel_um
        return cls((ny, nx), pixel_um, (x0, y0))

    @property
    def x_um(self) -> np.ndarray:
        """Sample centres along x (columns), µm."""
        return self.origin_um[0] + (np.arange(self.shape[1]) + 0.5) * self.pixel_um

    @property
    def y_um(self) -> np.ndarray:
        """Sample centres along y (rows), µm."""
        return self.origin_um[1] + (np.arange(self.shape[0]) + 0.5) * self.pixel_um

    @property
    def extent_um(self) -> tuple[float, float, float, float]:
        """``(xmin, xmax, ymin, ymax)`` of the sampled area, for ``imshow(extent=...)``."""
        x0, y0 = self.origin_um
        return (x0, x0 + self.shape[1] * self.pixel_um, y0, y0 + self.shape[0] * self.pixel_um)

    @property
    def bounds_um(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the sampled area."""
        xmin, xmax, ymin, ymax = self.extent_um
        return (xmin, ymin, xmax, ymax)

    def nbytes(self, itemsize: int = 8, planes: int = 1) -> int:
        """Bytes of ``planes`` arrays of this grid with ``itemsize``-byte items."""
        return int(self.shape[0]) * int(self.shape[1]) * itemsize * planes
