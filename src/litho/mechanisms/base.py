"""The one interface every crosslinking mechanism implements, and its registry.

A mechanism is the reactive intermediate a photoactive group makes and what
that intermediate does: how fast light activates the group, what fraction of
activated groups become the intermediate, what fraction of those bond to a
ligand (and how O₂ steals them), and what side products are left to attack
the QD surface. Every crosslinker names one mechanism; the mechanism turns
the crosslinker's structure and the shared constants
(:mod:`litho.mechanisms.constants`) into the crosslinker's yields, so two
crosslinkers of one mechanism share every constant and differ only in
structure (arms, molar mass, ε, EDG substitution, bulky groups).

A new mechanism is a new subclass registered with :func:`register`; nothing
in chemistry, materials or film changes.

Units: ε in M⁻¹cm⁻¹, activation constants in cm²/mJ, K_SV in M⁻¹.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .constants import Constants

__all__ = ["Mechanism", "register", "get", "names", "activation_constant_cm2_mj", "DERIVED_CROSSLINKER_FIELDS"]

#: Crosslinker fields a mechanism derives (a recipe may still override each one).
DERIVED_CROSSLINKER_FIELDS = (
    "quantum_yield", "insertion_yield", "singlet_fraction", "ksv_singlet_per_molar", "ksv_triplet_per_molar",
    "carbene_fraction", "diazo_relative_rate", "link_reach_fraction", "qd_damage_per_activation",
    "chain_length", "triplet_o2_quench_per_molar_s",
)

_REGISTRY: dict[str, "Mechanism"] = {}


def activation_constant_cm2_mj(epsilon_m_cm: float, quantum_yield: float, wavelength_nm: float) -> float:
    """Dill C of a photogroup, cm²/mJ: C = 1.925e-8·ε·Φ·λ[nm] (PHYSICS.md §4).

    ln10·ε/N_A is the absorption cross-section per molecule (cm²) and
    λ·5.034e12 the photons per mJ/cm².
    """
    return 1.925e-8 * epsilon_m_cm * quantum_yield * wavelength_nm


class Mechanism:
    """Base mechanism: direct photolysis, one intermediate, Stern–Volmer O₂ loss.

    Subclasses set ``name`` and ``section`` (their table in mechanisms.toml)
    and override what differs.
    """

    name = ""
    section = ""
    #: True when the side products are amines/azo compounds (nitrene chemistry).
    amine_side_products = False

    # ----------------------------------------------------------------- library
    def derive(self, structure: Mapping[str, Any], constants: Constants) -> dict[str, tuple[float, str]]:
        """Crosslinker fields from its structure and the constants: {field: (value, source)}.

        ``structure`` holds the crosslinker's own values (arms, tethered,
        para_edg, bulky_groups_per_arm, ...).
        """
        k = constants
        reach = "shared.tethered_link_reach_fraction" if structure.get("tethered") else "shared.free_link_reach_fraction"
        singlet_yield, singlet_fraction, ksv_s, ksv_t = self.branching(structure, k)
        damage, damage_src = self.side_product_damage(structure, k, singlet_yield)
        out = {
            "quantum_yield": (k[f"{self.section}.quantum_yield"], self._src(k, f"{self.section}.quantum_yield")),
            "insertion_yield": (singlet_yield, f"mechanism {self.name}: bonding yield in N2 from its branching "
                                               f"(mechanisms.toml [{self.section}])"),
            "singlet_fraction": (singlet_fraction, f"mechanism {self.name}: share of bonds made by the O2-immune singlet"),
            "ksv_singlet_per_molar": (ksv_s, f"mechanism {self.name}: K_SV = k_q·τ of the singlet"),
            "ksv_triplet_per_molar": (ksv_t, f"mechanism {self.name}: K_SV = k_q·τ of the triplet / radical"),
            "link_reach_fraction": (k[reach], self._src(k, reach)),
            "qd_damage_per_activation": (damage, damage_src),
            "triplet_o2_quench_per_molar_s": (k["shared.o2_quench_rate_per_molar_s"],
                                              self._src(k, "shared.o2_quench_rate_per_molar_s")),
            "carbene_fraction": (1.0, f"mechanism {self.name}: every activated group gives the intermediate"),
            "diazo_relative_rate": (0.0, f"mechanism {self.name}: no isomer"),
            "chain_length": (1.0, f"mechanism {self.name}: no chain"),
        }
        return out

    def branching(self, structure, k: Constants) -> tuple[float, float, float, float]:
        """(η₀ in N₂, share of it via the O₂-immune path, K_SV of that path, K_SV of the other), M⁻¹."""
        raise NotImplementedError

    def side_product_damage(self, structure, k: Constants, bond_yield: float) -> tuple[float, str]:
        """Traps per QD per activated group per QD on an unshelled surface, and its source.

        Every activated group that does not bond ends as a side product; what
        one side product does to the surface is a constant of its chemistry.
        """
        key = ("side_products.nitrene_traps_per_side_product" if self.amine_side_products
               else "side_products.radical_traps_per_side_product")
        value = k[key] * (1.0 - bond_yield)
        return value, f"mechanism {self.name}: (1 − η₀)·{key} ({k.source(key)})"

    @staticmethod
    def _src(k: Constants, key: str) -> str:
        return f"{key} ({k.source(key)})"

    # ----------------------------------------------------------------- physics
    def activation_constant(self, crosslinker, film, atmosphere, wavelength_nm: float) -> float:
        """Activation constant per photogroup at one wavelength, cm²/mJ (direct photolysis)."""
        return activation_constant_cm2_mj(crosslinker.epsilon_per_arm(wavelength_nm), crosslinker.quantum_yield,
                                          wavelength_nm)

    def reactive_fraction(self, exponent, crosslinker):
        """Fraction of photogroups that have become the bonding intermediate, after exponent x = Σ C·E."""
        return -np.expm1(-np.asarray(exponent, dtype=np.float64))

    def bond_yield(self, crosslinker, film, atmosphere) -> float:
        """η: fraction of intermediates that bond to a ligand in this atmosphere.

        Two paths, each quenched by O₂ with K_SV = k_q·τ of its intermediate:
        η = η₀·[f_S/(1 + K_S[O₂]) + (1 − f_S)/(1 + K_T[O₂])].
        """
        o2 = atmosphere.o2_molar
        f = crosslinker.singlet_fraction
        return crosslinker.insertion_yield * (f / (1.0 + crosslinker.ksv_singlet_per_molar * o2)
                                              + (1.0 - f) / (1.0 + crosslinker.ksv_triplet_per_molar * o2))


def register(mechanism: Mechanism) -> Mechanism:
    """Add a mechanism to the registry (by its ``name``)."""
    if not mechanism.name or mechanism.name in _REGISTRY:
        raise ValueError(f"mechanism name {mechanism.name!r} is empty or taken")
    _REGISTRY[mechanism.name] = mechanism
    return mechanism


def get(name: str) -> Mechanism:
    """The registered mechanism of this name."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown mechanism {name!r}; known: {', '.join(_REGISTRY)}") from None


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def _kq_tau(k: Constants, lifetime_key: str, scale_s: float) -> float:
    """K_SV = k_q·τ, M⁻¹, for a lifetime constant given in units of ``scale_s`` seconds."""
    return k["shared.o2_quench_rate_per_molar_s"] * k[lifetime_key] * scale_s


def _finite(x: float) -> float:
    return x if math.isfinite(x) else 0.0
