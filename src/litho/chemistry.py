"""Photochemistry: absorbed photons -> activated photogroups -> links between QDs.

PHYSICS.md §4. Every function takes plain numbers or numpy arrays (any shape,
float64) and the frozen material dataclasses of :mod:`litho.materials`.

The chain, per point of the film and per spectral line λ with local dose E_λ:

1. activation exponent x = Σ_λ C_λ·E_λ with C = 1.925e-8·ε·Φ·λ [cm²/mJ]
   (sensitised systems: C of the sensitiser times the Dexter transfer
   efficiency; thiol-ene: initiation times the kinetic chain length);
2. activated fraction p_a = 1 − exp(−x) (diazirines: only the carbene branch
   and the re-photolysed diazo isomer bond);
3. bonded-arm fraction q = η·p_a, η = η₀ / (1 + K_SV·[O₂]);
4. the gel criterion. QDs are the units; a free molecule with k of its n
   arms bonded (k ~ Binomial(n, q)) joins k QDs. Mean-field (Flory) gelation
   asks for the branching factor R: enter a QD along one bond, and count the
   further QDs reached through its other bonds. A QD carries on average
   N·n·q bonded arms (Poisson); the molecule entered through one arm has
   E[k(k−1)]/E[k] = (n−1)·q further bonded arms, each on a different QD with
   probability f_diff, so

       R = (N/N_QD)·f_diff·n(n−1)·q²          (free n-arm crosslinker)
       R = 2·(N/N_QD)·f_diff·q                 (tethered one-hit group)

   and the gel point is R = 1 for every n. ``crosslinks_per_qd`` is R. For
   n = 2 it equals 2·N·f·B₂(q) (each link counted at both ends); for n ≥ 3
   2·N·f·B_n(q) = N·f·(n(n−1)q² − O(q³)) underestimates it (by 32% for n = 6
   at q = 0.3). The exact gel fraction solves the hypergraph fixed point
   v = exp(−λ·(1 − (1 − q' + q'v)^{n−1})), λ = N·n·q', g = 1 − v;
   Flory's g = 1 − exp(−R·g) is exact at the gel point for every n and above
   it for n = 2, but high by O(n·q') for more arms (≤ 0.08 at typical loadings),
   so litho hands development the c whose Flory gel fraction is the exact one
   (:func:`flory_equivalent_links`); tests/physics/test_gelation_monte_carlo.py
   checks both against a Monte-Carlo gelation of random links.

Each crosslinker's mechanism (:mod:`litho.mechanisms`) supplies steps 1–3:
its activation constant, the fraction of groups that become the bonding
intermediate, and the bonding yield in the atmosphere.

Examples
--------
>>> round(activation_constant_cm2_mj(6000, 0.3, 365), 4)
0.0126
>>> parse_atmosphere("N2, 5 ppm O2").o2_ppm
5.0
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from . import mechanisms
from .errors import LithoInputError, where
from .fields import show as _show
from .materials import Crosslinker, Film

__all__ = [
    "Atmosphere", "parse_atmosphere", "check_wavelengths",
    "activation_constant_cm2_mj", "activated_fraction", "links_per_molecule",
    "molecules_per_qd", "crosslinker_molarity", "insertion_yield", "dexter_transfer_efficiency",
    "branching_factor", "hypergraph_gel_fraction", "flory_equivalent_links",
    "diazirine_carbene_yield", "qd_absorption_cross_section_cm2", "photons_per_cm2",
    "effective_activation_constant", "Crosslinking", "crosslink",
]

AVOGADRO = 6.02214076e23
#: photons/cm² in 1 mJ/cm² per nm of wavelength (PHYSICS.md §4: λ[nm] × 5.034e12).
PHOTONS_PER_MJ_CM2_PER_NM = 5.034e12
#: O₂ mole fraction of dry air, ppm.
AIR_O2_PPM = 209_460.0
#: Dissolved O₂ in an alkyl-ligand matrix equilibrated with air, mM
#: (PHYSICS.md §4: 1–2 mM, estimate). A 30-nm film re-equilibrates in ~0.1 ms,
#: so [O₂] is constant during an exposure.
AIR_O2_MM = 1.5
#: O₂ left in a nitrogen glovebox when the recipe gives no number, ppm (estimate).
GLOVEBOX_O2_PPM = 1.0


# --------------------------------------------------------------------------- atmosphere

@dataclass(frozen=True)
class Atmosphere:
    """Gas over the film during exposure.

    Attributes
    ----------
    gas : str
        "air", "N2", "Ar" or "O2".
    o2_ppm : float
        O₂ mole fraction in the gas, ppm.
    """

    gas: str
    o2_ppm: float

    @property
    def o2_mm(self) -> float:
        """Dissolved O₂ in the film, mM (Henry's law, scaled from air)."""
        return AIR_O2_MM * self.o2_ppm / AIR_O2_PPM

    @property
    def o2_molar(self) -> float:
        """Dissolved O₂ in the film, mol/L."""
        return self.o2_mm * 1e-3

    @property
    def label(self) -> str:
        if self.gas == "air" and self.o2_ppm == AIR_O2_PPM:
            return "air"
        return f"{self.gas}, {self.o2_ppm:g} ppm O2"


_GASES = {"n2": "N2", "nitrogen": "N2", "ar": "Ar", "argon": "Ar", "air": "air", "ambient": "air",
          "ambient air": "air", "o2": "O2", "oxygen": "O2"}
_ACCEPTED_ATM = ('"air", "N2", "Ar", "N2, 5 ppm O2", "O2 ppm = 5", '
                 'or a table {gas = "N2", o2_ppm = 5}')


def parse_atmosphere(value: Any, source: str | None = None) -> Atmosphere:
    """Parse a recipe's ``exposure.atmosphere``.

    Parameters
    ----------
    value : str, mapping or Atmosphere
        ``"air"``, ``"N2"`` (glovebox, 1 ppm O₂ assumed), ``"Ar"``,
        ``"N2, 5 ppm O2"``, ``"O2 ppm = 5"`` (inert gas with 5 ppm O₂),
        ``"N2 + 0.1% O2"``, or ``{gas = "N2", o2_ppm = 5}``.
    source : str, optional
        Recipe file for the error message.

    Returns
    -------
    Atmosphere

    Raises
    ------
    LithoInputError
        Anything else, or an O₂ content outside 0–10⁶ ppm.
    """
    label = where(source, "exposure.atmosphere")
    if isinstance(value, Atmosphere):
        return value
    if isinstance(value, Mapping):
        unknown = set(value) - {"gas", "o2_ppm", "o2_pct"}
        if unknown or "gas" not in value:
            raise LithoInputError(f"{label} = {_show(dict(value))} is not an atmosphere; accepted: {_ACCEPTED_ATM}")
        gas = _GASES.get(str(value["gas"]).strip().lower())
        if gas is None:
            raise LithoInputError(f"{label}: gas = {_show(value['gas'])} is not air, N2, Ar or O2")
        ppm = value.get("o2_ppm")
        if "o2_pct" in value:
            ppm = _ppm(value["o2_pct"], label) * 1e4
        return _make(gas, None if ppm is None else _ppm(ppm, label), label)
    if not isinstance(value, str):
        raise LithoInputError(f"{label} = {_show(value)} is not an atmosphere; accepted: {_ACCEPTED_ATM}")
    text = value.strip().lower()
    if text in _GASES:
        return _make(_GASES[text], None, label)
    # "N2, 5 ppm O2", "N2 + 5 ppm O2", "N2 (5 ppm O2)", "O2 ppm = 5", "O2 = 5 ppm", "5 ppm O2"
    gas_match = re.match(r"^\s*(n2|nitrogen|argon|ar|air)\b", text)
    rest = text[gas_match.end():] if gas_match else text
    rest = rest.strip(" ,;+()[]")
    number = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?)"
    patterns = [
        (rf"^{number}\s*(ppm|%)\s*(?:of\s+)?o2\)?$", 1, 2),
        (rf"^o2\s*(ppm|%)\s*[=:]?\s*{number}$", 2, 1),
        (rf"^o2\s*[=:]?\s*{number}\s*(ppm|%)$", 1, 2),
        (rf"^with\s+{number}\s*(ppm|%)\s*o2$", 1, 2),
    ]
    for pattern, num_group, unit_group in patterns:
        m = re.match(pattern, rest)
        if m:
            ppm = float(m.group(num_group)) * (1e4 if m.group(unit_group) == "%" else 1.0)
            gas = _GASES[gas_match.group(1)] if gas_match else "N2"
            if gas == "air":
                break
            return _make(gas, _ppm(ppm, label), label)
    raise LithoInputError(f"{label} = {_show(value)} is not an atmosphere; accepted: {_ACCEPTED_ATM}")


def _ppm(value: Any, label: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LithoInputError(f"{label}: O2 content {_show(value)} is not a number")
    value = float(value)
    if not 0.0 <= value <= 1e6:
        raise LithoInputError(f"{label}: O2 content {value:g} ppm is outside [0, 1e6] ppm")
    return value


def _make(gas: str, ppm: float | None, label: str) -> Atmosphere:
    if gas == "air":
        if ppm is not None and ppm != AIR_O2_PPM:
            raise LithoInputError(f"{label}: air has {AIR_O2_PPM:g} ppm O2; for other contents use N2 with ppm O2")
        return Atmosphere("air", AIR_O2_PPM)
    if gas == "O2":
        return Atmosphere("O2", 1e6 if ppm is None else ppm)
    return Atmosphere(gas, GLOVEBOX_O2_PPM if ppm is None else ppm)


# --------------------------------------------------------------------------- wavelengths

def check_wavelengths(crosslinker: Crosslinker, film: Film, wavelengths_nm: Iterable[float],
                      source: str | None = None) -> None:
    """Raise unless the crosslinker and the film have absorption data at every wavelength.

    Data at a wavelength cover that line ± ``materials.WAVELENGTH_MATCH_NM``.

    Raises
    ------
    LithoInputError
        e.g. "recipe.toml: exposure.wavelength: crosslinker EBT has no
        absorption data at 365 nm; it has 254, 275 nm".
    """
    label = where(source, "exposure.wavelength")
    for wavelength in wavelengths_nm:
        wavelength = float(wavelength)
        if not crosslinker.has_absorption(wavelength):
            have = ", ".join(f"{w:g}" for w in crosslinker.wavelengths_nm) or "none"
            raise LithoInputError(
                f"{label}: crosslinker {crosslinker.name} has no absorption data at {wavelength:g} nm; "
                f"it has {have} nm")
        try:
            film.absorption_length_nm(wavelength)
        except LithoInputError as err:
            raise LithoInputError(f"{label}: {err}") from None


# --------------------------------------------------------------------------- photolysis

activation_constant_cm2_mj = mechanisms.activation_constant_cm2_mj


def activated_fraction(dose_mj_cm2, c_cm2_mj):
    """p_a = 1 − exp(−C·E) (PHYSICS.md §4); ``expm1`` keeps low doses exact."""
    return -np.expm1(-np.asarray(c_cm2_mj) * np.asarray(dose_mj_cm2, dtype=np.float64))


def diazirine_carbene_yield(exponent, carbene_fraction: float, diazo_relative_rate: float):
    """Fraction of diazirines that have become a carbene after activation exponent x = C·E.

    The carbene mechanism's branching (:meth:`litho.mechanisms.kinds.Carbene.reactive_fraction`).
    """
    from types import SimpleNamespace

    return mechanisms.get("carbene").reactive_fraction(
        exponent, SimpleNamespace(carbene_fraction=carbene_fraction, diazo_relative_rate=diazo_relative_rate))


def links_per_molecule(bonded_fraction, arms: int):
    """B_n(q) = n·q − 1 + (1 − q)ⁿ: expected inter-QD links per free n-arm molecule.

    A molecule with k bonded arms joins k units with k − 1 links; the mean of
    max(k − 1, 0) over k ~ Binomial(n, q) is B_n (PHYSICS.md §4).
    B₂ = q², B₃ = 3q² − q³. Low q: B_n ≈ n(n−1)/2·q² (two hits needed).
    """
    q = np.asarray(bonded_fraction, dtype=np.float64)
    if arms < 2:
        return np.zeros_like(q)       # one arm never joins two units
    if arms <= 8:
        # Expanded: B_n = Σ_{k=2..n} C(n,k)(−q)^k, by Horner; no cancellation at small q
        # (n·q − 1 + (1−q)^n loses every digit as q → 0) and cheap on large arrays.
        coeffs = [math.comb(arms, k) * (-1) ** k for k in range(2, arms + 1)]
        poly = np.full(q.shape, float(coeffs[-1])) if q.shape else float(coeffs[-1])
        for a in reversed(coeffs[:-1]):
            poly = poly * q + a
        return poly * q * q
    return arms * q + np.expm1(arms * np.log1p(-np.minimum(q, 1.0 - 1e-16)))


def molecules_per_qd(crosslinker: Crosslinker, film: Film) -> float:
    """Crosslinker molecules (or tethered photogroups) per QD.

    Free crosslinkers: ``loading_wt_pct`` is wt% relative to the inorganic QD
    mass, N = (w/100)·M_QD/M_XL (DOMAIN.md §2 anchor: EBT at 2 wt% with
    8-nm CdSe QDs ≈ 33 per QD). Tethered ligands: ``loading_mol_pct`` of the
    QD's ligands, N = (x/100)·ligands per QD.
    """
    if crosslinker.tethered:
        return crosslinker.loading_mol_pct / 100.0 * film.ligands_per_qd
    inorganic_g = film.qd_density_g_cm3 * math.pi / 6.0 * (film.qd_diameter_nm * 1e-7) ** 3
    return crosslinker.loading_wt_pct / 100.0 * inorganic_g * AVOGADRO / crosslinker.molar_mass_g_mol


def crosslinker_molarity(crosslinker: Crosslinker, film: Film) -> float:
    """Crosslinker (or tethered photogroup) concentration in the film, mol/L."""
    per_nm3 = molecules_per_qd(crosslinker, film) * film.qd_number_density_per_nm3
    return per_nm3 * 1e24 / AVOGADRO


def insertion_yield(crosslinker: Crosslinker, atmosphere: Atmosphere, film: Film | None = None) -> float:
    """η, the bonding yield of the crosslinker's intermediate in this atmosphere.

    Stern–Volmer on each path of the mechanism, K_SV = k_q·τ (PHYSICS.md §4):
    a singlet (ns) escapes O₂, a triplet or radical (µs) does not. Air
    tolerance of EDG carbenes follows from their singlet ground state
    (:mod:`litho.mechanisms`). Thiol-ene also needs a ligand C=C per thiol
    (pass ``film`` for that).
    """
    mech = mechanisms.get(crosslinker.mechanism)
    if film is None:
        return mechanisms.Mechanism.bond_yield(mech, crosslinker, None, atmosphere)
    return mech.bond_yield(crosslinker, film, atmosphere)


def dexter_transfer_efficiency(crosslinker: Crosslinker, film: Film, atmosphere: Atmosphere) -> float:
    """η_ET = [1 − exp(−(4/3)π R_q³ N_A [A])] / (1 + k_q τ₀ [O₂]) (PHYSICS.md §4).

    [A] is the molarity of acceptor photogroups (azides) in the film; the
    numerator is the chance that an acceptor sits inside the Dexter sphere of
    the excited sensitiser (Perrin model), the denominator the triplet's loss to O₂.
    """
    acceptor_molar = crosslinker_molarity(crosslinker, film) * crosslinker.arms
    # (R in cm)³ is cm³ = mL; × 1e-3 → L; × N_A → L/mol.
    sphere_l_per_mol = 4.0 / 3.0 * math.pi * (crosslinker.dexter_radius_nm * 1e-7) ** 3 * 1e-3 * AVOGADRO
    capture = -math.expm1(-sphere_l_per_mol * acceptor_molar)
    quench = crosslinker.triplet_o2_quench_per_molar_s * crosslinker.sensitiser_triplet_lifetime_us * 1e-6 * atmosphere.o2_molar
    return capture / (1.0 + quench)


def qd_absorption_cross_section_cm2(film: Film, wavelength_nm: float) -> float:
    """Absorption cross-section of one QD, cm²: σ = α_film / n_QD."""
    alpha_per_nm = 1.0 / film.absorption_length_nm(wavelength_nm)
    return alpha_per_nm / film.qd_number_density_per_nm3 * 1e-14  # nm² -> cm²


def photons_per_cm2(dose_mj_cm2, wavelength_nm: float):
    """Photon fluence for a dose at a wavelength, photons/cm² (PHYSICS.md §4)."""
    return np.asarray(dose_mj_cm2, dtype=np.float64) * wavelength_nm * PHOTONS_PER_MJ_CM2_PER_NM


def effective_activation_constant(crosslinker: Crosslinker, film: Film, atmosphere: Atmosphere,
                                  wavelength_nm: float) -> float:
    """Activation constant per photogroup at one wavelength, cm²/mJ, from the crosslinker's mechanism.

    Direct photolysis C = 1.925e-8·ε·Φ·λ; a sensitised mechanism adds the
    sensitiser's triplets handed over by Dexter transfer; thiol-ene adds QD
    photocatalysis and multiplies by the kinetic chain length
    (:mod:`litho.mechanisms.kinds`).
    """
    return mechanisms.get(crosslinker.mechanism).activation_constant(crosslinker, film, atmosphere, wavelength_nm)


def branching_factor(bonded_fraction, crosslinker: Crosslinker, film: Film):
    """R, the mean-field gel criterion (gel point R = 1): see the module docstring.

    Free n-arm molecules: R = N·f·n(n−1)·q²; tethered groups: R = 2·N·f·q.
    """
    q = np.asarray(bonded_fraction, dtype=np.float64)
    n_per_qd = molecules_per_qd(crosslinker, film)
    f = crosslinker.link_reach_fraction
    if crosslinker.tethered:
        return 2.0 * n_per_qd * f * q
    n = crosslinker.arms
    if n < 2:
        return np.zeros_like(q)        # one free arm never joins two QDs
    return n_per_qd * f * n * (n - 1) * q * q


def flory_equivalent_links(bonded_fraction, crosslinker: Crosslinker, film: Film):
    """The mean degree c for which Flory's g = 1 − exp(−c·g) is the exact gel fraction.

    Development solves Flory's equation in c (:func:`litho.development.flory_gel_fraction`,
    with the film's crosslink dispersion). Two-arm molecules and tethered groups
    join QDs pairwise, so c = R is exact for them. A molecule with n ≥ 3 arms
    joins k QDs at once (a hyperedge): its exact gel fraction g_h solves the
    hypergraph fixed point (:func:`hypergraph_gel_fraction`), and the c that
    reproduces it is c = −ln(1 − g_h)/g_h above the gel point (R below it,
    where both give g = 0; the two meet at R = 1). Tabulated once per
    (molecules per QD, arms) over q, interpolated in log q.
    """
    q = np.asarray(bonded_fraction, dtype=np.float64)
    r = branching_factor(q, crosslinker, film)
    n = crosslinker.arms
    if crosslinker.tethered or n <= 2:
        return r
    reach = molecules_per_qd(crosslinker, film) * crosslinker.link_reach_fraction
    log_q, c_table = _flory_equivalent_table(round(float(reach), 12), int(n))
    c = np.interp(np.log(np.clip(q, 1e-12, 1.0)), log_q, c_table)
    return np.where(r <= 1.0, r, np.maximum(c, 1.0))


@functools.lru_cache(maxsize=64)
def _flory_equivalent_table(reach_per_qd: float, arms: int) -> tuple[np.ndarray, np.ndarray]:
    """log q and the Flory-equivalent c on a grid fine enough for 1e-4 in g (4096 points in log q)."""
    q = np.geomspace(1e-8, 1.0, 4096)
    g = hypergraph_gel_fraction(reach_per_qd, arms, q, iterations=2000)
    r = reach_per_qd * arms * (arms - 1) * q * q
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(g > 1e-9, -np.log1p(-np.minimum(g, 1.0 - 1e-15)) / np.maximum(g, 1e-300), r)
    return np.log(q), np.where(r <= 1.0, r, c)


def hypergraph_gel_fraction(molecules_per_qd_: float, arms: int, bonded_fraction, iterations: int = 200):
    """Exact mean-field gel fraction of QDs joined by random n-arm molecules.

    Each of N molecules per QD has n arms, each bonded (to a uniformly random
    QD) with probability q. With v the chance that a QD reached along a bond
    is not in the gel through its other bonds, λ = N·n·q the bonded arms per
    QD (Poisson) and (1 − q + q·v)^{n−1} the chance that a molecule entered
    through one arm leads nowhere:

        v = exp(−λ·(1 − (1 − q + q·v)^{n−1})),   g = 1 − v.

    Solved by fixed-point iteration from v = 0 (monotone to the smallest root).
    For n = 2 this is g = 1 − exp(−R·g) with R = 2Nq²; for small q it tends
    to Flory's form in R = N·n(n−1)q² for every n.
    """
    q = np.asarray(bonded_fraction, dtype=np.float64)
    lam = molecules_per_qd_ * arms * q
    v = np.zeros_like(q)
    for _ in range(iterations):
        v = np.exp(-lam * (1.0 - (1.0 - q + q * v) ** (arms - 1)))
    return 1.0 - v


@dataclass(frozen=True)
class Crosslinking:
    """Crosslinking state at each point (arrays of the dose's shape).

    Attributes
    ----------
    activation_exponent : ndarray
        x = Σ C_λ E_λ (dimensionless).
    activated_fraction : ndarray
        Fraction of photogroups photolysed (p_a).
    bonded_fraction : ndarray
        Fraction of photogroups bonded to a ligand (q).
    activated_per_qd : ndarray
        Activated photogroups per QD (side products attack QDs in proportion).
    crosslinks_per_qd : ndarray
        The Flory-equivalent mean degree c (:func:`flory_equivalent_links`):
        equal to the branching factor R of the gel criterion below the gel
        point (R = 1 for every n), and the c whose Flory gel fraction is the
        exact hypergraph one above it; for two-arm molecules the mean number
        of links per QD.
    """

    activation_exponent: np.ndarray
    activated_fraction: np.ndarray
    bonded_fraction: np.ndarray
    activated_per_qd: np.ndarray
    crosslinks_per_qd: np.ndarray


def crosslink(exposures: Sequence[tuple[float, Any]], film: Film, crosslinker: Crosslinker,
              atmosphere: Atmosphere, *, bonded_fraction_override=None) -> Crosslinking:
    """Crosslinks per QD from the local dose of each spectral line.

    Parameters
    ----------
    exposures : sequence of (wavelength_nm, dose_mj_cm2 array)
        Local dose (fluence through the point, both passes) per line.
    film, crosslinker, atmosphere
    bonded_fraction_override : ndarray, optional
        Replace q (used by the stochastic option after drawing counts).

    Returns
    -------
    Crosslinking
    """
    exponent = None
    for wavelength_nm, dose in exposures:
        term = effective_activation_constant(crosslinker, film, atmosphere, wavelength_nm) * np.asarray(dose, np.float64)
        exponent = term if exponent is None else exponent + term
    if exponent is None:
        raise ValueError("exposures is empty; give at least one (wavelength_nm, dose) line")
    exponent = np.maximum(exponent, 0.0)
    activated = -np.expm1(-exponent)
    mech = mechanisms.get(crosslinker.mechanism)
    reactive = mech.reactive_fraction(exponent, crosslinker)
    eta = mech.bond_yield(crosslinker, film, atmosphere)
    n_per_qd = molecules_per_qd(crosslinker, film)
    bonded = eta * reactive if bonded_fraction_override is None else np.asarray(bonded_fraction_override)
    c = flory_equivalent_links(bonded, crosslinker, film)
    return Crosslinking(
        activation_exponent=exponent,
        activated_fraction=activated,
        bonded_fraction=bonded,
        activated_per_qd=n_per_qd * crosslinker.arms * activated,
        crosslinks_per_qd=c,
    )
