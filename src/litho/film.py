"""Light in the film: absorbed dose through the depth (PHYSICS.md §3).

The dose a point of the film receives is the incident dose at the top times a
depth profile f(z) (the fluence through the point, counting the wave going
down and the one reflected back up by the substrate):

- ``"beer-lambert"``: f(z) = T_in·[e^{−αz} + R·e^{−α(2h − z)}], with
  T_in = 1 − R_top the transmission of the air/film surface
  (R_top = ((n − 1)/(n + 1))²) and R the film/substrate reflectance;
- ``"transfer-matrix"``: f(z) = n·|E(z)|² of the exact normal-incidence
  solution for air / film / underlayers / substrate (standing waves on
  reflective stacks such as ITO or Ag), with the film's k = αλ/4π.

In both, ∫₀ʰ α·f(z) dz is the fraction of the incident light the film
absorbs, so absorbed + transmitted + reflected = incident (tested).

α is the film's own absorption (QDs with ligands, library data) plus the
crosslinker's, Σ ln10·ε·c (PHYSICS.md §3).

Examples
--------
>>> from litho import materials
>>> film = materials.resolve("film", {"material": "CdSe/ZnS", "thickness_nm": 30})
>>> xl = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})
>>> z = depth_samples_nm(film, [absorption_coefficient_per_nm(film, xl, 254)])
>>> profile = relative_fluence(film, xl, 254, z)
>>> bool(profile[0] > profile[-1])
True
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from .chemistry import crosslinker_molarity
from .materials import Crosslinker, Film

__all__ = [
    "absorption_coefficient_per_nm", "qd_absorption_coefficient_per_nm", "top_reflectance",
    "depth_samples_nm", "depth_weights", "relative_fluence", "fluence_components", "energy_balance",
    "transfer_matrix",
]

LN10 = math.log(10.0)
#: Fewest and most depth samples: a handful suffices because the film is at
#: most a few absorption lengths thick and the bottom (always sampled) decides adhesion.
MIN_DEPTH_SAMPLES, MAX_DEPTH_SAMPLES = 3, 9


def qd_absorption_coefficient_per_nm(film: Film, wavelength_nm: float) -> float:
    """α of the neat QD film (QDs and ligands), nm⁻¹."""
    return 1.0 / film.absorption_length_nm(wavelength_nm)


def absorption_coefficient_per_nm(film: Film, crosslinker: Crosslinker | None, wavelength_nm: float) -> float:
    """Total α of the film with its crosslinker, nm⁻¹.

    α = α_QD + ln10·(n_arms·ε_arm·[XL] + ε_sens·[sens]) (PHYSICS.md §3),
    ε in M⁻¹cm⁻¹ and concentrations in M give cm⁻¹; ×1e-7 → nm⁻¹.
    """
    alpha = qd_absorption_coefficient_per_nm(film, wavelength_nm)
    if crosslinker is None:
        return alpha
    molar = crosslinker_molarity(crosslinker, film)
    eps = crosslinker.arms * crosslinker.epsilon_per_arm(wavelength_nm)
    eps += crosslinker.arms * crosslinker.sensitiser_per_group * crosslinker.sensitiser_epsilon(wavelength_nm)
    return alpha + LN10 * eps * molar * 1e-7


def top_reflectance(film: Film) -> float:
    """Normal-incidence reflectance of the air/film surface, ((n − 1)/(n + 1))²."""
    n = film.refractive_index
    return ((n - 1.0) / (n + 1.0)) ** 2


def depth_samples_nm(film: Film, alphas_per_nm: Sequence[float], wavelengths_nm: Sequence[float] = ()) -> np.ndarray:
    """Depths (nm, top = 0 to bottom = thickness, both included) at which to evaluate the film.

    The spacing resolves the shortest absorption length (about two samples per
    1/α) and, for the transfer-matrix model, the standing-wave period
    λ/(2n) (four samples per period); between MIN_DEPTH_SAMPLES and MAX_DEPTH_SAMPLES.
    """
    h = film.thickness_nm
    alpha = max(alphas_per_nm) if len(alphas_per_nm) else 0.0
    n = math.ceil(2.0 * h * alpha) + 2
    if film.depth_model == "transfer-matrix" and len(wavelengths_nm):
        period = min(wavelengths_nm) / (2.0 * film.refractive_index)
        n = max(n, math.ceil(4.0 * h / period) + 1)
    n = int(min(max(n, MIN_DEPTH_SAMPLES), MAX_DEPTH_SAMPLES))
    return np.linspace(0.0, h, n)


def depth_weights(depth_nm: np.ndarray) -> np.ndarray:
    """Trapezoid weights that average a quantity over the film depth (sum to 1)."""
    depth_nm = np.asarray(depth_nm, dtype=np.float64)
    if depth_nm.size == 1:
        return np.ones(1)
    w = np.zeros_like(depth_nm)
    d = np.diff(depth_nm)
    w[:-1] += d / 2.0
    w[1:] += d / 2.0
    return w / w.sum()


def relative_fluence(film: Film, crosslinker: Crosslinker | None, wavelength_nm: float,
                     depth_nm: np.ndarray) -> np.ndarray:
    """Local dose over incident dose, f(z), at each depth (see module docstring).

    Parameters
    ----------
    film, crosslinker : materials
    wavelength_nm : float
    depth_nm : ndarray
        Depths below the film top, nm.

    Returns
    -------
    ndarray
        f(z), dimensionless; the local dose is f(z) × the incident dose.
    """
    alpha = absorption_coefficient_per_nm(film, crosslinker, wavelength_nm)
    z = np.asarray(depth_nm, dtype=np.float64)
    if film.depth_model == "transfer-matrix":
        profile, _, _ = transfer_matrix(film, alpha, wavelength_nm, z)
        return profile
    h = film.thickness_nm
    t_in = 1.0 - top_reflectance(film)
    return t_in * (np.exp(-alpha * z) + film.substrate_reflectance * np.exp(-alpha * (2.0 * h - z)))


def fluence_components(film: Film, crosslinker: Crosslinker | None, wavelength_nm: float,
                       depth_nm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(z) split into the light going down from the mask and the light the substrate sends back.

    The two passes carry different images laterally (the reflected light has
    travelled 2h − z through the film, the direct light z), so the film stage
    images each at its own path length (litho.dose).

    Returns
    -------
    down, up : ndarray
        ``down + up`` equals :func:`relative_fluence` exactly. Beer-Lambert:
        down = T_in·e^{−αz}, up = T_in·R·e^{−α(2h − z)}. Transfer matrix:
        down = n·|A·e^{ikz}|², the downward wave alone, and up the rest (the
        reflected wave and the standing-wave term it makes with the downward
        one, which exists only where reflected light does).
    """
    z = np.asarray(depth_nm, dtype=np.float64)
    alpha = absorption_coefficient_per_nm(film, crosslinker, wavelength_nm)
    if film.depth_model == "transfer-matrix":
        profile, _, _ = transfer_matrix(film, alpha, wavelength_nm, z)
        a1, kz = _downward_wave(film, alpha, wavelength_nm)
        down = film.refractive_index * np.abs(a1 * np.exp(1j * kz * z)) ** 2
        return down, profile - down
    h = film.thickness_nm
    t_in = 1.0 - top_reflectance(film)
    return t_in * np.exp(-alpha * z), t_in * film.substrate_reflectance * np.exp(-alpha * (2.0 * h - z))


def energy_balance(film: Film, crosslinker: Crosslinker | None, wavelength_nm: float) -> dict[str, float]:
    """Fractions of the incident light reflected, absorbed in the film and transmitted.

    Beer-Lambert: reflected = R_top + T_in·R·e^{−2αh} (the return pass that
    leaves through the top), absorbed = T_in·[(1 − e^{−αh})(1 + R·e^{−αh})],
    transmitted = T_in·(1 − R)·e^{−αh}. Transfer matrix: |r|², ∫α·f dz and
    the rest (transmitted into the stack below, including any underlayer absorption).
    """
    alpha = absorption_coefficient_per_nm(film, crosslinker, wavelength_nm)
    h = film.thickness_nm
    if film.depth_model == "transfer-matrix":
        z = np.linspace(0.0, h, 2001)
        profile, reflectance, transmitted = transfer_matrix(film, alpha, wavelength_nm, z)
        from scipy.integrate import simpson   # smooth integrand: Simpson is exact to ~1e-13 here

        absorbed = float(simpson(alpha * profile, x=z))
        return {"reflected": reflectance, "absorbed": absorbed, "transmitted": 1.0 - reflectance - absorbed,
                "transmitted_substrate": transmitted}
    r_top, r_sub = top_reflectance(film), film.substrate_reflectance
    t_in = 1.0 - r_top
    down = math.exp(-alpha * h)
    return {
        "reflected": r_top + t_in * r_sub * down * down,
        "absorbed": t_in * (1.0 - down) * (1.0 + r_sub * down),
        "transmitted": t_in * (1.0 - r_sub) * down,
    }


def transfer_matrix(film: Film, alpha_per_nm: float, wavelength_nm: float,
                    depth_nm: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Normal-incidence transfer-matrix solution for air / film / underlayers / substrate.

    Parameters
    ----------
    film : Film
        Uses ``refractive_index``, ``thickness_nm``, ``underlayers`` (n, k,
        thickness_nm, top first) and ``substrate_index`` (n, k).
    alpha_per_nm : float
        Film absorption coefficient; k = α·λ/4π.
    wavelength_nm : float
    depth_nm : ndarray
        Depths in the film.

    Returns
    -------
    profile : ndarray
        n_film·|E(z)|² relative to the incident intensity (the local fluence;
        α·profile is the absorbed power density, Born & Wolf §1.5).
    reflectance : float
        |r|².
    transmittance : float
        Power entering the substrate, Re(n_s)·|t|².

    Notes
    -----
    Fields E = A·e^{ikz} + B·e^{−ikz} per layer, k = 2πñ/λ, ñ = n + ik;
    tangential E and H (∝ ñE) are continuous across interfaces
    (Byrnes, "Multilayer optical calculations", arXiv:1603.02720).
    """
    a1, b1, kz, r, t, indices = _stack_solution(film, alpha_per_nm, wavelength_nm)
    z = np.asarray(depth_nm, dtype=np.float64)
    field = a1 * np.exp(1j * kz * z) + b1 * np.exp(-1j * kz * z)
    profile = indices[1].real * np.abs(field) ** 2 / indices[0].real
    return profile, float(abs(r) ** 2), float(indices[-1].real * abs(t) ** 2 / indices[0].real)


def _downward_wave(film: Film, alpha_per_nm: float, wavelength_nm: float) -> tuple[complex, complex]:
    """Amplitude A at the film top and wavenumber k of the downward wave A·e^{ikz} (transfer matrix)."""
    a1, _, kz, _, _, _ = _stack_solution(film, alpha_per_nm, wavelength_nm)
    return a1, kz


def _stack_solution(film: Film, alpha_per_nm: float, wavelength_nm: float):
    """Film amplitudes (A, B), film wavenumber, r, t and the layer indices (see :func:`transfer_matrix`)."""
    lam = float(wavelength_nm)
    k_film = alpha_per_nm * lam / (4.0 * math.pi)
    indices = [1.0 + 0j, complex(film.refractive_index, k_film)]
    thicknesses = [0.0, film.thickness_nm]
    for n, k, d in film.underlayers:
        indices.append(complex(n, k))
        thicknesses.append(d)
    indices.append(complex(*film.substrate_index))
    thicknesses.append(0.0)

    def interface(n1: complex, n2: complex) -> np.ndarray:
        # [A1, B1] = M [A2, B2] across an interface from layer 1 into layer 2.
        return 0.5 / n1 * np.array([[n1 + n2, n1 - n2], [n1 - n2, n1 + n2]], dtype=complex)

    def propagate(n: complex, d: float) -> np.ndarray:
        # amplitudes at the top of a layer from those at its bottom
        delta = 2.0 * math.pi * n * d / lam
        return np.array([[np.exp(-1j * delta), 0], [0, np.exp(1j * delta)]], dtype=complex)

    # total matrix from the ambient to the substrate
    m = np.eye(2, dtype=complex)
    for j in range(len(indices) - 1):
        m = m @ interface(indices[j], indices[j + 1])
        if 0 < j + 1 < len(indices) - 1:
            m = m @ propagate(indices[j + 1], thicknesses[j + 1])
    r = m[1, 0] / m[0, 0]
    t = 1.0 / m[0, 0]
    # amplitudes at the top of the film (layer 1): [A1, B1] = I(0→1)^-1 [1, r]
    a1, b1 = np.linalg.solve(interface(indices[0], indices[1]), np.array([1.0, r], dtype=complex))
    kz = 2.0 * math.pi * indices[1] / lam
    return a1, b1, kz, r, t, indices
