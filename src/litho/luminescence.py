"""PLQY retention of the patterned film (PHYSICS.md §6).

Traps form at the QD surface, by two routes (DOMAIN.md §3a):

- photodamage: a QD at depth z absorbs σ_QD(λ)·F_λ(z) photons (σ_QD =
  α_QD/n_QD, F the local photon fluence), each making a trap with yield
  Φ_dmg(λ), which falls with photon energy (litho.mechanisms.film);
- side products: every activated photogroup that does not bond leaves a side
  product; δ = the crosslinker's ``qd_damage_per_activation`` traps per
  activated group per QD (nitrene amines/azo compounds many, carbene and
  ketyl products few, shielded by bulky groups; litho.mechanisms).

Both act on the surface, so both scale with the film's surface
susceptibility s = exp(−shell/ℓ) (``surface_attack``):

    n_t(z) = s·[Σ_λ Φ_dmg(λ)·σ_QD(λ)·F_λ(z) + δ·N_act(z)]
    PLQY/PLQY₀ = 1/(1 + κ·n_t)

The film's retention is the depth average weighted by the material that stays.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .chemistry import photons_per_cm2, qd_absorption_cross_section_cm2
from .materials import Crosslinker, Film

__all__ = ["traps_per_qd", "plqy_retention"]


def traps_per_qd(local_exposures: Sequence[tuple[float, Any]], film: Film, crosslinker: Crosslinker,
                 activated_per_qd) -> np.ndarray:
    """Mean traps per QD, n_t, at each point.

    Parameters
    ----------
    local_exposures : sequence of (wavelength_nm, local dose mJ/cm² array)
        Dose through each point (after film absorption).
    film, crosslinker : materials
    activated_per_qd : ndarray
        Activated photogroups per QD at each point.
    """
    traps = crosslinker.qd_damage_per_activation * np.asarray(activated_per_qd, np.float64)
    for wavelength_nm, dose in local_exposures:
        absorbed_photons = qd_absorption_cross_section_cm2(film, wavelength_nm) * photons_per_cm2(dose, wavelength_nm)
        traps = traps + film.damage_yield(wavelength_nm) * absorbed_photons
    return film.surface_attack * traps


def plqy_retention(local_exposures: Sequence[tuple[float, Any]], film: Film, crosslinker: Crosslinker,
                   activated_per_qd, retained_fraction_depth, depth_weights) -> np.ndarray:
    """PLQY/PLQY₀ of the film left after development (depth on axis 0 of the inputs).

    Parameters
    ----------
    local_exposures : sequence of (wavelength_nm, (nz, ...) local dose)
    film, crosslinker : materials
    activated_per_qd : ndarray (nz, ...)
    retained_fraction_depth : ndarray (nz, ...)
        Fraction of the material at each depth that stays (weights the average).
    depth_weights : ndarray (nz,)

    Returns
    -------
    ndarray
        Relative PLQY, shape of the inputs without the depth axis. Where
        nothing stays, the plain depth average (what a residue would emit).
    """
    traps = traps_per_qd(local_exposures, film, crosslinker, activated_per_qd)
    relative = 1.0 / (1.0 + film.trap_quench * traps)
    kept = np.asarray(retained_fraction_depth, dtype=np.float64)
    w = np.asarray(depth_weights, dtype=np.float64).reshape((-1,) + (1,) * (kept.ndim - 1))
    weight = w * (kept + 1e-9)
    return np.sum(weight * relative, axis=0) / np.sum(weight, axis=0)
