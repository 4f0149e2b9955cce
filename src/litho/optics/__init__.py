"""Exposure optics: mask transmission -> aerial image (PHYSICS.md §2).

Two tools, one interface:

- :class:`ProximityOptics` -- mask aligners (contact and proximity printing):
  angular-spectrum propagation across the gap (a contact mode's effective
  gap in contact, :mod:`.contact`) and into the film, summed over the directions of
  the collimation cone and over the lamp's spectral lines.
- :class:`ProjectionOptics` -- steppers and maskless projectors: partially
  coherent imaging through a pupil (NA, defocus, Zernike aberrations) with
  conventional, annular, dipole, quadrupole or user-map sources; Abbe
  summation as the reference, Hopkins/SOCS kernels for speed.

:func:`spectral_images` gives one image per spectral line (the chemistry
weights each by its absorption), :func:`depth_images` the same at depths
inside the film (the film stage's input), :func:`aerial_image` their weighted sum;
both normalise the clear field to 1. :func:`spectral_series` /
:func:`aerial_series` run a gap or focus series; :func:`from_exposure` builds
the optics of a recipe's ``[exposure]`` table.
"""

from __future__ import annotations

from .cache import clear_caches
from .contact import CONTACT_MODES, DEFAULT_CONTACT_MODE, ContactMode
from .imaging import (DepthImage, SpectralImage, aerial_image, aerial_series, depth_images, from_exposure,
                      spectral_images, spectral_series)
from .kernels import Kernels, socs_kernels
from .metrics import edge_points, edge_slope_summary, image_log_slope, nils_at_edges
from .projection import ProjectionOptics
from .proximity import ProximityOptics
from .source import Source, annular, conventional, dipole, incoherent, quadrupole, source_map
from .spectrum import NAMED_SPECTRA, parse_spectrum

__all__ = [
    "ProximityOptics", "ProjectionOptics", "SpectralImage", "DepthImage", "aerial_image", "spectral_images",
    "depth_images", "ContactMode", "CONTACT_MODES", "DEFAULT_CONTACT_MODE",
    "aerial_series", "spectral_series", "from_exposure", "parse_spectrum", "NAMED_SPECTRA",
    "Source", "conventional", "annular", "dipole", "quadrupole", "source_map", "incoherent",
    "Kernels", "socs_kernels", "clear_caches", "image_log_slope", "nils_at_edges", "edge_points",
    "edge_slope_summary",
]
