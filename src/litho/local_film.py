"""Light in a film whose thickness varies across the field: f↓ and f↑ per sample (PHYSICS.md §3).

The film over pixel-define-layer banks (:mod:`litho.topography`) has a
thickness h0(x, y). Each column of the film is sampled at the same fractions
of its own thickness as the planar film: depth z_k(x, y) = z_k · h0(x, y)/h̄
for the planar samples z_k of thickness h̄ (:func:`litho.film.depth_samples_nm`),
so the top and the bottom are always sampled and the depth weights stay
those of the planar film. The fluence at each sample is that of a planar film
of the local thickness (the film's lateral slope is a few degrees: each
column is treated as a flat stack):

- Beer-Lambert: f↓ = T_in·e^{−αz}, f↑ = T_in·R·e^{−α(2h0 − z)};
- transfer matrix: the normal-incidence stack solution of
  :func:`litho.film.transfer_matrix`, with the film layer's propagation
  matrix evaluated for every local thickness at once.

The lateral image at sample k is the planar film's image at z_k (and at
2h̄ − z_k for the reflected pass): the path difference to the local depth
is at most the bank height, against an effective gap of µm.

A uniform thickness map equal to h̄ reproduces :func:`litho.film.fluence_components`
(Beer-Lambert bit for bit, transfer matrix to rounding).
"""

from __future__ import annotations

import math

import numpy as np

from . import film as film_optics
from .materials import Crosslinker, Film

__all__ = ["fluence_components_local", "local_depths_nm"]


def local_depths_nm(depth_nm: np.ndarray, film: Film, thickness_nm: np.ndarray) -> np.ndarray:
    """Depth of every sample in every column, nm, shape (nz, *thickness.shape): z_k · h0/h̄."""
    z = np.asarray(depth_nm, dtype=np.float64)
    scale = np.asarray(thickness_nm, dtype=np.float64) / film.thickness_nm
    return z.reshape((-1,) + (1,) * scale.ndim) * scale[None, ...]


def fluence_components_local(film: Film, crosslinker: Crosslinker | None, wavelength_nm: float,
                             depth_nm: np.ndarray, thickness_nm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f↓ and f↑ at the planar samples ``depth_nm`` mapped into columns of thickness ``thickness_nm``.

    Parameters
    ----------
    film, crosslinker : materials
        ``film.thickness_nm`` is the planar thickness h̄ the samples belong to.
    wavelength_nm : float
    depth_nm : ndarray (nz,)
        The planar film's depth samples, nm.
    thickness_nm : ndarray (ny, nx)
        Local thickness h0, nm (>= 0).

    Returns
    -------
    down, up : ndarray (nz, ny, nx)
        As :func:`litho.film.fluence_components`, per column.
    """
    alpha = film_optics.absorption_coefficient_per_nm(film, crosslinker, wavelength_nm)
    h = np.asarray(thickness_nm, dtype=np.float64)[None, ...]
    z = local_depths_nm(depth_nm, film, thickness_nm)
    if film.depth_model == "transfer-matrix":
        return _transfer_matrix_components(film, alpha, wavelength_nm, z, h)
    t_in = 1.0 - film_optics.top_reflectance(film)
    # the same operations, in the same order, as litho.film.fluence_components
    return t_in * np.exp(-alpha * z), t_in * film.substrate_reflectance * np.exp(-alpha * (2.0 * h - z))


def _interface(n1: complex, n2: complex) -> np.ndarray:
    return 0.5 / n1 * np.array([[n1 + n2, n1 - n2], [n1 - n2, n1 + n2]], dtype=complex)


def _transfer_matrix_components(film: Film, alpha_per_nm: float, wavelength_nm: float, z: np.ndarray,
                                h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Transfer-matrix f↓ and f↑ for every column thickness (Byrnes, arXiv:1603.02720)."""
    lam = float(wavelength_nm)
    k_film = alpha_per_nm * lam / (4.0 * math.pi)
    n0, n1 = 1.0 + 0j, complex(film.refractive_index, k_film)
    indices = [n0, n1] + [complex(n, k) for n, k, _ in film.underlayers] + [complex(*film.substrate_index)]
    thicknesses = [0.0, 0.0] + [d for _, _, d in film.underlayers] + [0.0]
    # M = I01 · P1(h) · R, with R = I12 · P2 · ... the part of the stack below the film (h-independent)
    rest = np.eye(2, dtype=complex)
    for j in range(1, len(indices) - 1):
        rest = rest @ _interface(indices[j], indices[j + 1])
        if j + 1 < len(indices) - 1:
            delta = 2.0 * math.pi * indices[j + 1] * thicknesses[j + 1] / lam
            rest = rest @ np.array([[np.exp(-1j * delta), 0], [0, np.exp(1j * delta)]], dtype=complex)
    top = _interface(n0, n1)
    delta = 2.0 * math.pi * n1 * h / lam
    down_phase, up_phase = np.exp(-1j * delta), np.exp(1j * delta)
    m00 = top[0, 0] * down_phase * rest[0, 0] + top[0, 1] * up_phase * rest[1, 0]
    m10 = top[1, 0] * down_phase * rest[0, 0] + top[1, 1] * up_phase * rest[1, 0]
    r = m10 / m00
    inverse = np.linalg.inv(top)
    a1 = inverse[0, 0] + inverse[0, 1] * r
    b1 = inverse[1, 0] + inverse[1, 1] * r
    kz = 2.0 * math.pi * n1 / lam
    forward = a1 * np.exp(1j * kz * z)
    field = forward + b1 * np.exp(-1j * kz * z)
    profile = n1.real * np.abs(field) ** 2 / n0.real
    down = film.refractive_index * np.abs(forward) ** 2
    return down, profile - down
