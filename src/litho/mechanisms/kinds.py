"""The crosslinking mechanisms litho knows (DOMAIN.md §2, §3a), each registered once.

- ``nitrene``: direct photolysis of (perfluoro)aryl azides; the singlet
  nitrene inserts into C–H; what does not insert ends as azo compounds and
  aromatic amines that quench QDs. O₂ does not compete with the ns singlet
  insertion.
- ``sensitised-nitrene``: a triplet sensitiser (Ir(tBu-ppy)₃) hands its
  energy to the azide by Dexter transfer, which gives the *triplet* nitrene:
  no singlet insertion, H abstraction and recombination instead, more amine
  side products per activation, but no deep-UV photons.
- ``carbene``: aryl(CF₃)diazirines; carbene or diazo isomer on photolysis;
  a para EDG makes the singlet the ground state (air-tolerant), otherwise
  fast ISC gives the O₂-quenched triplet.
- ``triplet-ketone``: benzophenone triplets abstract H, radicals couple; O₂
  quenches both.
- ``thiol-ene``: thiyl radical chains on ligand C=C; QD photocatalysis of
  thiyl radicals on perovskites; peroxyl radicals restart chains.
"""

from __future__ import annotations

import math

import numpy as np

from .base import Mechanism, _kq_tau, activation_constant_cm2_mj, register
from .constants import Constants

AVOGADRO = 6.02214076e23
PHOTONS_PER_MJ_CM2_PER_NM = 5.034e12


class Nitrene(Mechanism):
    name = section = "nitrene"
    amine_side_products = True

    def branching(self, structure, k: Constants):
        return k["nitrene.singlet_insertion_yield"], 1.0, 0.0, 0.0

    def side_product_damage(self, structure, k: Constants, bond_yield: float):
        value, src = super().side_product_damage(structure, k, bond_yield)
        bulky = float(structure.get("bulky_groups_per_arm", 0.0) or 0.0)
        b = k["side_products.bulky_shielding_per_group"]
        # Bulky groups beside the azide keep its side products off the QD surface (DOMAIN.md §3a).
        return value * math.exp(-b * bulky), f"{src} × exp(−b·{bulky:g} bulky groups per arm), b = {b:.3g}"


class SensitisedNitrene(Nitrene):
    name = section = "sensitised-nitrene"

    def branching(self, structure, k: Constants):
        # Dexter transfer makes the triplet nitrene: no singlet path at all.
        return (k["sensitised-nitrene.triplet_bond_yield"], 0.0, 0.0,
                _kq_tau(k, "sensitised-nitrene.triplet_lifetime_us", 1e-6))

    def activation_constant(self, crosslinker, film, atmosphere, wavelength_nm: float) -> float:
        """Direct azide photolysis plus sensitised activation C_sens·η_ET·(sensitisers per group)·Φ."""
        from ..chemistry import dexter_transfer_efficiency

        c = super().activation_constant(crosslinker, film, atmosphere, wavelength_nm)
        c_sens = activation_constant_cm2_mj(crosslinker.sensitiser_epsilon(wavelength_nm),
                                            crosslinker.sensitiser_isc_yield, wavelength_nm)
        return c + (c_sens * crosslinker.sensitiser_per_group
                    * dexter_transfer_efficiency(crosslinker, film, atmosphere) * crosslinker.quantum_yield)


class Carbene(Mechanism):
    name = section = "carbene"

    def derive(self, structure, k: Constants):
        out = super().derive(structure, k)
        out["carbene_fraction"] = (k["carbene.carbene_fraction"], self._src(k, "carbene.carbene_fraction"))
        out["diazo_relative_rate"] = (k["carbene.diazo_relative_rate"], self._src(k, "carbene.diazo_relative_rate"))
        return out

    def branching(self, structure, k: Constants):
        ksv_s = _kq_tau(k, "carbene.singlet_lifetime_ns", 1e-9)
        ksv_t = _kq_tau(k, "carbene.triplet_lifetime_us", 1e-6)
        eta_s, eta_t = k["carbene.singlet_insertion_yield"], k["carbene.triplet_bond_yield"]
        # A para EDG inverts the singlet-triplet order: the carbene stays singlet (DOMAIN.md §3a).
        isc = 0.0 if structure.get("para_edg") else k["carbene.isc_fraction_without_edg"]
        eta = (1.0 - isc) * eta_s + isc * eta_t
        return eta, (1.0 - isc) * eta_s / eta, ksv_s, ksv_t

    def reactive_fraction(self, exponent, crosslinker):
        """Carbene made after exponent x: direct fraction f plus the diazo isomer's second photolysis.

        Sequential first-order kinetics A →k1 D →k2 carbene with r = k2/k1:
        y = f·(1 − e^{−x}) + (1 − f)·[1 − (r·e^{−x} − e^{−r·x})/(r − 1)].
        """
        x = np.asarray(exponent, dtype=np.float64)
        f, r = crosslinker.carbene_fraction, float(crosslinker.diazo_relative_rate)
        direct = -np.expm1(-x)
        if f >= 1.0:
            return direct
        if r <= 0.0:
            via_diazo = np.zeros_like(x)
        elif abs(r - 1.0) < 1e-6:
            via_diazo = 1.0 - (1.0 + x) * np.exp(-x)
        else:
            via_diazo = 1.0 - (r * np.exp(-x) - np.exp(-r * x)) / (r - 1.0)
        return f * direct + (1.0 - f) * via_diazo


class TripletKetone(Mechanism):
    name = "triplet-ketone"
    section = "triplet-ketone"

    def branching(self, structure, k: Constants):
        return k["triplet-ketone.triplet_bond_yield"], 0.0, 0.0, _kq_tau(k, "triplet-ketone.triplet_lifetime_us", 1e-6)


class ThiolEne(Mechanism):
    name = section = "thiol-ene"

    def derive(self, structure, k: Constants):
        out = super().derive(structure, k)
        out["chain_length"] = (k["thiol-ene.chain_length"], self._src(k, "thiol-ene.chain_length"))
        return out

    def branching(self, structure, k: Constants):
        return k["thiol-ene.triplet_bond_yield"], 0.0, 0.0, _kq_tau(k, "thiol-ene.chain_carrier_lifetime_ns", 1e-9)

    def side_product_damage(self, structure, k: Constants, bond_yield: float):
        return 0.0, ("mechanism thiol-ene: thiols and thioethers bind to and passivate the QD surface "
                     "rather than quench it (no amine or radical side products on the surface)")

    def activation_constant(self, crosslinker, film, atmosphere, wavelength_nm: float) -> float:
        """(direct S–H photolysis + QD-photocatalysed thiyl radicals per thiol) × kinetic chain length ν."""
        from ..chemistry import molecules_per_qd, qd_absorption_cross_section_cm2

        c = super().activation_constant(crosslinker, film, atmosphere, wavelength_nm)
        thiols_per_qd = molecules_per_qd(crosslinker, film) * crosslinker.arms
        if thiols_per_qd > 0 and film.thiyl_photocatalysis_yield > 0:
            photons_per_mj = qd_absorption_cross_section_cm2(film, wavelength_nm) * wavelength_nm * \
                PHOTONS_PER_MJ_CM2_PER_NM
            c += film.thiyl_photocatalysis_yield * photons_per_mj / thiols_per_qd
        return c * crosslinker.chain_length

    def bond_yield(self, crosslinker, film, atmosphere) -> float:
        """Specific chemistry: a thiol bonds only where a ligand C=C is left."""
        from ..chemistry import molecules_per_qd

        eta = super().bond_yield(crosslinker, film, atmosphere)
        alkenes = film.ligands_per_qd * film.ligand_alkenes
        thiols = max(molecules_per_qd(crosslinker, film) * crosslinker.arms, 1e-300)
        return eta * min(1.0, alkenes / thiols)


for _mechanism in (Nitrene(), SensitisedNitrene(), Carbene(), TripletKetone(), ThiolEne()):
    register(_mechanism)
