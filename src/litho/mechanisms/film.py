"""Film properties derived from composition by one formula each (no per-film fits).

- Surface susceptibility s = exp(−t_shell/ℓ): traps form at the QD surface;
  a shell of thickness t_shell screens the exciton from them, with one decay
  length ℓ for every core/shell film (a global constant). Core-only
  perovskite nanocubes have s = 1.
- Photodamage yield per absorbed photon Φ_dmg(λ) = Φ_254(class)·exp(−β·(E_254 − E_λ)):
  hot carriers with more excess energy make more traps; one slope β for every
  film, so Φ_dmg never increases with wavelength. Φ_254 is one value per
  material class (II-VI/III-V chalcogenides, lead-halide perovskites).
- Thiyl photocatalysis: perovskite NCs photocatalyse thiol-ene (Cho, Science
  2023); chalcogenide QDs are taken as inert.
- Crosslink dispersion and the trap definition: the same for every film.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from .constants import Constants

__all__ = ["DERIVED_FILM_FIELDS", "derive_film", "photon_energy_ev", "surface_susceptibility"]

DERIVED_FILM_FIELDS = ("surface_attack", "damage_yield_by_wavelength", "trap_quench", "crosslink_dispersion",
                       "thiyl_photocatalysis_yield")
MATERIAL_CLASSES = ("chalcogenide", "perovskite")
_HC_EV_NM = 1239.841984
_E254_EV = _HC_EV_NM / 254.0


def photon_energy_ev(wavelength_nm: float) -> float:
    return _HC_EV_NM / wavelength_nm


def surface_susceptibility(shell_thickness_nm: float, decay_length_nm: float) -> float:
    """s = exp(−t_shell/ℓ)."""
    return math.exp(-shell_thickness_nm / decay_length_nm)


def derive_film(values: Mapping[str, Any], k: Constants) -> dict[str, tuple[Any, str]]:
    """Derived film fields {field: (value, source)} from composition and the constants.

    ``values`` holds the film's own fields: ``material_class``,
    ``shell_thickness_nm`` and ``absorption_length_nm_by_wavelength`` (the
    wavelengths at which a damage yield is given).
    """
    cls = values["material_class"]
    ell = k["surface.shell_decay_length_nm"]
    beta = k["photodamage.energy_slope_per_ev"]
    phi_key = f"photodamage.{cls}_yield_254nm"
    phi = k[phi_key]
    damage = tuple((w, phi * math.exp(-beta * max(_E254_EV - photon_energy_ev(w), 0.0)))
                   for w, _ in values.get("absorption_length_nm_by_wavelength", ()))
    thiyl = k["photocatalysis.perovskite_thiyl_yield"] if cls == "perovskite" else 0.0
    return {
        "surface_attack": (surface_susceptibility(values["shell_thickness_nm"], ell),
                           f"exp(−shell/ℓ), shell {values['shell_thickness_nm']:g} nm, "
                           f"ℓ = surface.shell_decay_length_nm ({k.source('surface.shell_decay_length_nm')})"),
        "damage_yield_by_wavelength": (damage, f"{phi_key}·exp(−β·(E_254 − E_λ)), β = photodamage.energy_slope_per_ev "
                                               f"({k.source(phi_key)})"),
        "trap_quench": (k["shared.trap_quench"], f"shared.trap_quench ({k.source('shared.trap_quench')})"),
        "crosslink_dispersion": (k["gelation.crosslink_dispersion"],
                                 f"gelation.crosslink_dispersion ({k.source('gelation.crosslink_dispersion')})"),
        "thiyl_photocatalysis_yield": (thiyl, "photocatalysis.perovskite_thiyl_yield "
                                              f"({k.source('photocatalysis.perovskite_thiyl_yield')})"
                                       if cls == "perovskite" else "chalcogenide QDs: no thiol-ene photocatalysis"),
    }
