"""The film stage's hand-off: local dose through the film depth, per spectral line.

DESIGN.md §1: the optics give the image of each spectral line *inside* the
film (:func:`litho.optics.depth_images`), the film gives how much of the
incident light reaches each depth on the way down and on the way back from
the substrate (:func:`litho.film.fluence_components`), and
:func:`local_dose` combines them into a :class:`LocalDose`, the one value
the photochemistry and development consume (:func:`litho.development.develop`).

The local dose of line λ at depth z (PHYSICS.md §3) is

    E_λ(z, y, x) = E₀ · w_λ · [ f↓_λ(z) · I_λ(g + z/n_f; y, x)
                               + f↑_λ(z) · I_λ(g + (2h − z)/n_f; y, x) ]

with E₀ the recipe dose, w_λ the line's share of the irradiance, f↓ and f↑
the down and up parts of the fluence profile, and I_λ(d) the image after an
optical path d below the mask (written here paraxially; the optics propagate
exactly). The reflected light has travelled 2h − z through the film when it
is back at depth z, so it carries the image of that longer path; the two
passes add incoherently (their interference, the standing wave, is in the
transfer-matrix f↑ and does not change the lateral image: within the film
the two images differ by a path 2(h − z)/n_f of tens of nm against an
effective gap of µm).

Cost: the images are needed at the nz depth samples and, for the reflected
pass, at the nz − 1 further path lengths 2h − z (none without substrate
reflection): 2·nz − 1 images per line, each one inverse FFT per illumination
direction on the band grid, and that many (ny, nx) float64 planes per line
held while the dose is formed (nz is 3–9, :func:`litho.film.depth_samples_nm`).

Examples
--------
>>> import numpy as np
>>> from litho import materials
>>> film = materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30})
>>> xl = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})
>>> local = uniform_local_dose([(254.0, np.full((2, 2), 10.0))], film, xl)
>>> local.lines[0][1].shape == (local.depth_nm.size, 2, 2)
True
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from . import film as film_optics
from .errors import LithoInputError
from .materials import Crosslinker, Film

__all__ = ["LocalDose", "depth_samples", "image_depths_nm", "imaging_optics", "local_dose", "uniform_local_dose"]


@dataclass(frozen=True)
class LocalDose:
    """Local dose through the film, per spectral line.

    Attributes
    ----------
    lines : tuple of (float, ndarray)
        ``(wavelength_nm, dose)`` per line; ``dose`` is E(z, y, x) in mJ/cm²,
        shape ``(nz, *shape)``, the same for every line.
    depth_nm : ndarray, shape (nz,)
        Depth samples below the film top, nm (top = 0, bottom = thickness).
    depth_weights : ndarray, shape (nz,)
        Weights that average over the depth (sum to 1).
    thickness_nm : ndarray or None
        The local film thickness h0(y, x), nm, of a film coated over topography
        (:mod:`litho.topography`): sample k of a column then sits at
        depth_nm[k]·h0/thickness (:mod:`litho.local_film`). None: the planar film.
    """

    lines: tuple
    depth_nm: np.ndarray
    depth_weights: np.ndarray
    thickness_nm: np.ndarray | None = None

    @property
    def wavelengths_nm(self) -> list[float]:
        return [w for w, _ in self.lines]

    @property
    def shape(self) -> tuple[int, ...]:
        """Lateral shape of the dose arrays (without the depth axis)."""
        return tuple(self.lines[0][1].shape[1:])

    def total(self) -> np.ndarray:
        """Σ over lines of E(z, ...), mJ/cm², shape ``(nz, *shape)``."""
        return sum(d for _, d in self.lines)

    def check(self, film: Film | None = None) -> None:
        """Raise :class:`LithoInputError` unless the arrays fit the depths (and ``film``'s thickness)."""
        if not self.lines:
            raise LithoInputError("local dose: no exposure lines given")
        nz = self.depth_nm.size
        shapes = {np.shape(d) for _, d in self.lines}
        if len(shapes) != 1 or next(iter(shapes))[:1] != (nz,) or self.depth_weights.shape != (nz,):
            raise LithoInputError(f"local dose: arrays of shapes {sorted(shapes)} do not match {nz} depth samples")
        for w, d in self.lines:
            if np.any(d < 0) or not np.all(np.isfinite(d)):
                raise LithoInputError(f"local dose at {w:g} nm has negative or non-finite values")
        if film is not None and abs(float(self.depth_nm[-1]) - film.thickness_nm) > 1e-6 * max(film.thickness_nm, 1):
            raise LithoInputError(f"local dose: depth samples end at {float(self.depth_nm[-1]):g} nm, "
                                  f"not at the film's {film.thickness_nm:g} nm bottom")


def depth_samples(film: Film, crosslinker: Crosslinker | None, wavelengths_nm: Sequence[float]) -> np.ndarray:
    """The film's depth samples (nm) for these lines: :func:`litho.film.depth_samples_nm` of their α."""
    wavelengths = [float(w) for w in wavelengths_nm]
    alphas = [film_optics.absorption_coefficient_per_nm(film, crosslinker, w) for w in wavelengths]
    return film_optics.depth_samples_nm(film, alphas, wavelengths)


def _reflects(film: Film) -> bool:
    return film.depth_model == "transfer-matrix" or film.substrate_reflectance > 0


def image_depths_nm(film: Film, depth_nm: np.ndarray) -> np.ndarray:
    """Optical path lengths in the film (nm) at which :func:`local_dose` needs images.

    The depth samples z, and for the reflected pass the unfolded paths 2h − z
    (only when the substrate reflects), sorted and without repeats.
    """
    z = np.asarray(depth_nm, dtype=np.float64)
    paths = np.concatenate([z, 2.0 * film.thickness_nm - z]) if _reflects(film) else z
    return np.unique(np.round(paths, 9))


def imaging_optics(step):
    """The optics a step's film is imaged with: its own, carried to the longest path in the film.

    Contact and proximity optics image every depth the film stage needs
    (:func:`image_depths_nm`) with the direction rule of the longest path, the
    widest cone spread (:meth:`litho.optics.ProximityOptics.depth_intensities`).
    This returns the step's optics at that path (``film_depth_um``,
    ``film_index``), so that what describes the imaging (the memory estimate,
    the quadrature estimate of a report or a min-feature trial) sizes the
    same rule as the imaging, once. Other optics come back as they are.
    """
    optics = step.exposure.optics
    if not hasattr(optics, "film_depth_um"):
        return optics
    paths_nm = image_depths_nm(step.film, depth_samples(step.film, step.crosslinker, [w for w, _ in optics.lines]))
    # the same float the imaging forms (litho.optics.depth_images: depths_nm * 1e-3)
    return dataclasses.replace(optics, film_depth_um=float(np.max(paths_nm * 1e-3)),
                               film_index=float(step.film.refractive_index))


def local_dose(images: Sequence[Any], film: Film, crosslinker: Crosslinker | None, dose_mj_cm2: float,
               depth_nm: np.ndarray | None = None, *, thickness_nm: np.ndarray | None = None) -> LocalDose:
    """The local dose E(z, y, x) per line from the images inside the film.

    Parameters
    ----------
    images : sequence of litho.optics.DepthImage
        One per spectral line, taken at (at least) :func:`image_depths_nm`.
    film, crosslinker : litho.materials dataclasses
    dose_mj_cm2 : float
        Incident dose on a clear area at the film top (the recipe dose).
    depth_nm : ndarray, optional
        The depth samples; default :func:`depth_samples` of the images' lines.
    thickness_nm : ndarray (ny, nx), optional
        Local film thickness h0, nm, for a film coated over topography: each
        column's samples sit at the same fractions of its own thickness and
        take that thickness's fluence (:func:`litho.local_film.fluence_components_local`);
        the images stay those of the planar samples. A map equal to
        ``film.thickness_nm`` everywhere gives the planar result.

    Returns
    -------
    LocalDose
    """
    if not images:
        raise LithoInputError("local dose: no spectral images given")
    if depth_nm is None:
        depth_nm = depth_samples(film, crosslinker, [im.wavelength_nm for im in images])
    z = np.asarray(depth_nm, dtype=np.float64)
    h = film.thickness_nm
    lines = []
    for im in images:
        if thickness_nm is None:
            down, up = film_optics.fluence_components(film, crosslinker, im.wavelength_nm, z)
        else:
            from .local_film import fluence_components_local

            down, up = fluence_components_local(film, crosslinker, im.wavelength_nm, z, thickness_nm)
        scale = float(dose_mj_cm2) * im.weight
        dose = np.empty((z.size,) + im.intensity.shape[1:])
        for k, zk in enumerate(z):
            dose[k] = (scale * down[k]) * _image_at(im, zk)
            if np.any(up[k] != 0.0):
                dose[k] += (scale * up[k]) * _image_at(im, 2.0 * h - zk)
        lines.append((float(im.wavelength_nm), dose))
    out = LocalDose(tuple(lines), z, film_optics.depth_weights(z),
                    None if thickness_nm is None else np.asarray(thickness_nm, dtype=np.float64))
    out.check(film)
    return out


def _image_at(image, path_nm: float) -> np.ndarray:
    k = int(np.argmin(np.abs(image.film_depth_nm - path_nm)))
    if abs(image.film_depth_nm[k] - path_nm) > 1e-6:
        raise ValueError(f"no image at {path_nm:g} nm in the film (have {image.film_depth_nm.tolist()}); "
                         "image at litho.dose.image_depths_nm")
    return image.intensity[k]


def uniform_local_dose(exposures: Sequence[tuple[float, Any]], film: Film,
                       crosslinker: Crosslinker | None) -> LocalDose:
    """The local dose when the image is the same at every depth (an open frame, or a top-of-film dose map).

    Parameters
    ----------
    exposures : sequence of (wavelength_nm, dose_mj_cm2 array)
        Incident dose at the film top per line, mJ/cm²; arrays of any common
        (broadcastable) shape. E(z) = f(z) × that dose.

    Returns
    -------
    LocalDose
    """
    lines = [(float(w), np.asarray(d, dtype=np.float64)) for w, d in exposures]
    if not lines:
        raise LithoInputError("develop: no exposure lines given")
    shape = np.broadcast_shapes(*(d.shape for _, d in lines))
    for w, d in lines:
        if np.any(d < 0) or not np.all(np.isfinite(d)):
            raise LithoInputError(f"develop: dose at {w:g} nm has negative or non-finite values")
    z = depth_samples(film, crosslinker, [w for w, _ in lines])
    expand = (slice(None),) + (None,) * len(shape)
    local = []
    for w, d in lines:
        profile = film_optics.relative_fluence(film, crosslinker, w, z)
        local.append((w, profile[expand] * np.broadcast_to(d, shape)[None, ...]))
    return LocalDose(tuple(local), z, film_optics.depth_weights(z))
