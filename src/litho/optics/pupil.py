"""The projection pupil: NA cut-off, non-paraxial defocus, Zernike aberrations.

PHYSICS.md §2:

    P(f) = circ(|f| <= NA/λ) · exp(i2π W(f)),   W in waves,
    W_defocus = z · (√(n²/λ² − |f|²) − n/λ)      (z in µm in the image medium
                                                    of index n; paraxially −z λ|f|²/(2n))
    W_aberration = Σ_j c_j Z_j(ρ, θ),  ρ = |f| λ/NA, θ = atan2(fy, fx)

with Zernike polynomials in Noll's ordering and normalisation (RMS 1 over
the unit disc; R. J. Noll, "Zernike polynomials and atmospheric turbulence",
JOSA 66, 207 (1976)), coefficients in waves RMS.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from ..errors import LithoInputError
from ..fields import show as _show
from .phasor import unit_phasor

MAX_NOLL_INDEX = 231  # radial orders up to 20


def noll_to_nm(j: int) -> tuple[int, int]:
    """Radial order n and signed azimuthal order m of Noll index j (j >= 1).

    m > 0 is a cosine term (even j), m < 0 a sine term (odd j).

    Examples
    --------
    >>> [noll_to_nm(j) for j in range(1, 8)]
    [(0, 0), (1, 1), (1, -1), (2, 0), (2, -2), (2, 2), (3, -1)]
    """
    if j < 1:
        raise ValueError(f"Noll index must be >= 1, got {j}")
    n = int((math.isqrt(8 * j - 7) - 1) // 2)
    p = j - n * (n + 1) // 2  # position within the row, 1..n+1
    if n % 2 == 0:
        m = 2 * (p // 2)
    else:
        m = 2 * ((p + 1) // 2) - 1
    if m != 0 and j % 2 == 1:
        m = -m
    return n, m


def zernike(j: int, rho: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Noll-normalised Zernike polynomial Z_j(ρ, θ) (RMS 1 over the unit disc)."""
    n, m = noll_to_nm(j)
    am = abs(m)
    radial = np.zeros_like(rho, dtype=float)
    for k in range((n - am) // 2 + 1):
        c = (-1) ** k * math.factorial(n - k) / (
            math.factorial(k) * math.factorial((n + am) // 2 - k) * math.factorial((n - am) // 2 - k))
        radial += c * rho ** (n - 2 * k)
    if m == 0:
        return math.sqrt(n + 1) * radial
    norm = math.sqrt(2 * (n + 1))
    return norm * radial * (np.cos(am * theta) if m > 0 else np.sin(am * theta))


def parse_zernike(value: Any, owner: str = "ProjectionOptics") -> tuple[tuple[int, float], ...]:
    """Normalise Zernike coefficients to a sorted tuple of ``(noll_index, waves)``.

    Accepts a mapping ``{noll_index: waves}`` (TOML keys may be strings) or a
    sequence of pairs; zero coefficients are dropped.
    """
    if value is None:
        return ()
    if isinstance(value, Mapping):
        pairs = list(value.items())
    else:
        try:
            pairs = [tuple(p) for p in value]
        except TypeError:
            raise LithoInputError(f"{owner}.zernike = {_show(value)}: give {{noll_index: waves}} "
                                  "or a list of [noll_index, waves] pairs") from None
    out: dict[int, float] = {}
    for pair in pairs:
        if len(pair) != 2:
            raise LithoInputError(f"{owner}.zernike: {_show(pair)} is not a [noll_index, waves] pair")
        j, c = pair
        try:
            jj = int(str(j).strip().upper().removeprefix("Z")) if isinstance(j, str) else j
        except ValueError:
            jj = None
        if not isinstance(jj, (int, np.integer)) or isinstance(jj, bool) or not 1 <= jj <= MAX_NOLL_INDEX:
            raise LithoInputError(f"{owner}.zernike: index {_show(j)} is out of range; Noll indices run "
                                  f"from 1 to {MAX_NOLL_INDEX}")
        try:
            cc = float(c)
        except (TypeError, ValueError):
            cc = math.nan
        if not math.isfinite(cc) or isinstance(c, bool):
            raise LithoInputError(f"{owner}.zernike: coefficient {_show(c)} of Z{jj} is not a finite number of waves")
        out[int(jj)] = out.get(int(jj), 0.0) + cc
    return tuple((j, c) for j, c in sorted(out.items()) if c != 0.0)


def pupil(fy_per_um: np.ndarray, fx_per_um: np.ndarray, wavelength_nm: float, na: float,
          defocus_um: float = 0.0, zernike_waves: tuple[tuple[int, float], ...] = (),
          immersion_index: float = 1.0) -> np.ndarray:
    """Pupil function P at frequencies ``(fy, fx)`` (broadcast against each other).

    Parameters
    ----------
    fy_per_um, fx_per_um : ndarray
        Frequencies in 1/µm (image side, wafer units).
    wavelength_nm : float
        Vacuum wavelength.
    na : float
        Image-side numerical aperture (< ``immersion_index``).
    defocus_um : float
        Defocus z in the image medium (PHYSICS.md §2, non-paraxial).
    zernike_waves : tuple of (int, float)
        Noll index and coefficient in waves RMS.
    immersion_index : float
        Index n of the image medium.

    Returns
    -------
    ndarray, complex128
        Zero outside the NA; unit modulus inside.
    """
    lam_um = wavelength_nm * 1e-3
    cutoff = na / lam_um
    rho2 = fy_per_um ** 2 + fx_per_um ** 2
    inside = rho2 <= cutoff * cutoff * (1 + 1e-12)
    waves = np.zeros(np.shape(rho2))
    if defocus_um != 0.0:
        k = immersion_index / lam_um
        waves = waves + defocus_um * (np.sqrt(np.maximum(k * k - rho2, 0.0)) - k)
    if zernike_waves:
        rho = np.sqrt(rho2) / cutoff
        theta = np.arctan2(fy_per_um, fx_per_um) * np.ones_like(rho)
        for j, c in zernike_waves:
            waves = waves + c * zernike(j, rho, theta)
    if np.ndim(waves) == 0 or not np.any(waves):
        return inside.astype(np.complex128)
    return np.where(inside, unit_phasor((2 * math.pi) * waves), 0.0)
