"""Built-in material library: QD films, photocrosslinkers, developers.

The data live in ``films.toml``, ``crosslinkers.toml`` and
``developers.toml`` beside this module. Every numeric parameter there is an
inline table ``{value = ..., source = "..."}``: the source is a literature
reference or the word ``estimate`` (DOMAIN.md §2). Per-wavelength data
(absorption, extinction coefficients, damage yields) are tables keyed by the
wavelength in nm, each entry again with its source.

:func:`resolve` turns a recipe section (``material = "EBT"`` plus overrides
of any field) into a frozen, validated dataclass; the recipe-only process
fields (film ``thickness_nm``, crosslinker ``loading_wt_pct`` /
``loading_mol_pct``, developer ``time_s``) ride along in the same object;
the library holds a typical value of each (with its source), so a recipe that
leaves one out still describes a real process.

Examples
--------
>>> from litho import materials
>>> ebt = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})
>>> ebt.arms, ebt.wavelengths_nm
(2, (254.0, 275.0))
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tomllib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import LithoInputError, where
from ..fields import show as _show

__all__ = [
    "Film", "Crosslinker", "Developer", "resolve", "names", "field_range",
    "WAVELENGTH_MATCH_NM",
]

_HERE = Path(__file__).parent
_FILES = {"film": "films.toml", "crosslinker": "crosslinkers.toml", "developer": "developers.toml"}

#: Library data at a wavelength stand for that lamp line or LED band ± this
#: many nm (Hg lines and UV LEDs are a few nm wide; absorption spectra of the
#: photogroups do not change much within it). Beyond it there is no data.
WAVELENGTH_MATCH_NM = 10.0

Spectrum = tuple[tuple[float, float], ...]   # ((wavelength_nm, value), ...) sorted by wavelength



def _registered_mechanisms() -> tuple[str, ...]:
    from .. import mechanisms   # the registry is the one list of mechanisms

    return mechanisms.names()


FAMILIES_CROSSLINKER = _registered_mechanisms()
GELATION_MODELS = ("flory", "lattice", "charlesby-pinner")
DEPTH_MODELS = ("beer-lambert", "transfer-matrix")


def _at(spectrum: Spectrum, wavelength_nm: float, what: str, name: str) -> float:
    """Value of a per-wavelength table at the nearest data point within WAVELENGTH_MATCH_NM."""
    if not spectrum:
        raise LithoInputError(f"{name} has no {what} data at {wavelength_nm:g} nm; it has none")
    best = min(spectrum, key=lambda wv: abs(wv[0] - wavelength_nm))
    if abs(best[0] - wavelength_nm) > WAVELENGTH_MATCH_NM:
        have = ", ".join(f"{w:g}" for w, _ in spectrum)
        raise LithoInputError(f"{name} has no {what} data at {wavelength_nm:g} nm; it has {have} nm")
    return best[1]


def _has(spectrum: Spectrum, wavelength_nm: float) -> bool:
    return any(abs(w - wavelength_nm) <= WAVELENGTH_MATCH_NM for w, _ in spectrum)


@dataclass(frozen=True)
class Film:
    """A colloidal QD film as coated (library data plus the recipe's thickness).

    Attributes
    ----------
    name, family, composition, ligand : str
        Library name, material family ("II-VI", "III-V", "perovskite"), structure, capping ligand.
    material_class : str
        "chalcogenide" (II-VI, III-V) or "perovskite": selects the class constants
        of the photodamage and photocatalysis formulas (litho.mechanisms.film).
    shell_thickness_nm : float
        Inorganic shell around the emitting core, nm (0 for core-only NCs); sets
        the surface susceptibility exp(−shell/ℓ).
    qd_diameter_nm : float
        Inorganic QD (or NC edge) size, nm.
    ligand_spacing_nm : float
        Surface-to-surface distance between neighbouring QDs in the film, nm
        (interdigitated ligand shells).
    qd_density_g_cm3 : float
        Density of the inorganic core/shell, g/cm³.
    packing_fraction : float
        Volume fraction of the film occupied by QDs with their ligand shells.
    absorption_length_nm_by_wavelength : tuple of (wavelength_nm, 1/α in nm)
        Absorption length of the neat film (QDs with ligands, no crosslinker).
    refractive_index : float
        Real part of the film index (used for the top-surface reflection and
        the transfer-matrix option; the imaginary part follows from α).
    plqy0 : float
        PLQY of the pristine film (fraction).
    ligands_per_nm2 : float
        Ligand grafting density on the QD surface, nm⁻².
    ligand_alkenes : float
        C=C bonds per ligand (oleate/oleylamine: 1), for thiol-ene.
    ligand_molar_mass_g_mol : float
        Molar mass of one ligand, g/mol (counts in the film mass for wt% loading).
    damage_yield_by_wavelength : tuple of (wavelength_nm, traps per absorbed photon)
        Φ_dmg(λ) on an unshelled surface, PHYSICS.md §6 (derived: litho.mechanisms.film).
    trap_quench : float
        κ in PLQY/PLQY₀ = 1/(1 + κ·n_t) (shared definition of a trap).
    surface_attack : float
        Surface susceptibility s = exp(−shell/ℓ) (derived): multiplies every
        trap-making process at the surface (photodamage and side products).
    thiyl_photocatalysis_yield : float
        Thiyl radicals made per photon absorbed by a QD when thiols are present
        (derived: perovskite class constant; 0 for chalcogenides).
    crosslink_dispersion : float
        Log-normal σ of the local crosslink density (a global constant):
        crosslinker and QDs do not mix uniformly in a spin-cast film, so c
        varies from region to region about its mean (broadens the contrast curve).
    thickness_nm : float
        Coated film thickness, nm (recipe).
    depth_model : str
        "beer-lambert" (with substrate reflectance) or "transfer-matrix".
    substrate_reflectance : float
        Intensity reflectance at the film/substrate interface (Beer-Lambert model).
    substrate_index : tuple (n, k)
        Complex index of the semi-infinite substrate (transfer-matrix model).
    underlayers : tuple of (n, k, thickness_nm)
        Layers between the film and the substrate, top first (e.g. HTL, ITO).
    sources : mapping
        Field name -> source of its value (literature, "estimate", or the recipe).
    """

    name: str
    family: str
    composition: str
    ligand: str
    material_class: str
    shell_thickness_nm: float
    qd_diameter_nm: float
    ligand_spacing_nm: float
    qd_density_g_cm3: float
    packing_fraction: float
    absorption_length_nm_by_wavelength: Spectrum
    refractive_index: float
    plqy0: float
    ligands_per_nm2: float
    ligand_alkenes: float
    ligand_molar_mass_g_mol: float
    damage_yield_by_wavelength: Spectrum
    trap_quench: float
    surface_attack: float
    thiyl_photocatalysis_yield: float
    crosslink_dispersion: float = 0.0
    thickness_nm: float = 30.0
    depth_model: str = "beer-lambert"
    substrate_reflectance: float = 0.05
    substrate_index: tuple[float, float] = (1.5, 0.0)
    underlayers: tuple[tuple[float, float, float], ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def wavelengths_nm(self) -> tuple[float, ...]:
        return tuple(w for w, _ in self.absorption_length_nm_by_wavelength)

    def absorption_length_nm(self, wavelength_nm: float) -> float:
        """Absorption length 1/α of the neat film at a wavelength, nm."""
        return _at(self.absorption_length_nm_by_wavelength, wavelength_nm, "absorption", f"film {self.name}")

    def damage_yield(self, wavelength_nm: float) -> float:
        """Traps made per photon absorbed by a QD, Φ_dmg(λ) (PHYSICS.md §6)."""
        if not self.damage_yield_by_wavelength:
            return 0.0
        return _at(self.damage_yield_by_wavelength, wavelength_nm, "photodamage", f"film {self.name}")

    @property
    def qd_pitch_nm(self) -> float:
        """Centre-to-centre distance of neighbouring QDs, nm."""
        return self.qd_diameter_nm + self.ligand_spacing_nm

    @property
    def qd_number_density_per_nm3(self) -> float:
        """QDs per nm³ of film: packing fraction over the volume of a QD with its half-spacing shell."""
        return self.packing_fraction / (math.pi / 6.0 * self.qd_pitch_nm ** 3)

    @property
    def ligands_per_qd(self) -> float:
        """Ligands bound to one QD (grafting density × sphere area)."""
        return self.ligands_per_nm2 * math.pi * self.qd_diameter_nm ** 2

    @property
    def qd_molar_mass_g_mol(self) -> float:
        """Molar mass of one QD with its ligands, g/mol."""
        inorganic_g = self.qd_density_g_cm3 * math.pi / 6.0 * (self.qd_diameter_nm * 1e-7) ** 3
        return inorganic_g * 6.02214076e23 + self.ligands_per_qd * self.ligand_molar_mass_g_mol


@dataclass(frozen=True)
class Crosslinker:
    """A photocrosslinker (free additive or tethered ligand) with its loading.

    Attributes
    ----------
    name, mechanism : str
        Library name; the mechanism (litho.mechanisms registry) names the
        reactive intermediate: "nitrene", "carbene", "triplet-ketone",
        "thiol-ene", "sensitised-nitrene". Every yield below that the
        mechanism derives is shared by all crosslinkers of that mechanism.
    arms : int
        Photoactive groups per molecule (n in B_n(q), PHYSICS.md §4).
    tethered : bool
        True when the photogroup sits on a ligand bound to a QD (one hit links).
    molar_mass_g_mol : float
    epsilon_per_arm_by_wavelength : tuple of (wavelength_nm, ε in M⁻¹cm⁻¹)
        Decadic molar extinction coefficient of one photoactive group.
    para_edg : bool
        Structure: a para electron-donating group on the aryl diazirine (singlet ground state).
    bulky_groups_per_arm : float
        Structure: bulky substituents beside each photogroup (steric shielding).
    quantum_yield : float
        Φ, photogroups activated per photon absorbed (mechanism).
    insertion_yield : float
        η₀, fraction of intermediates that bond to a ligand in N₂ (mechanism branching).
    singlet_fraction : float
        Share of η₀ made through the short-lived (O₂-immune) singlet path.
    ksv_singlet_per_molar, ksv_triplet_per_molar : float
        K_SV = k_q·τ of the singlet and of the triplet/radical path, M⁻¹:
        η = η₀·[f_S/(1 + K_S[O₂]) + (1 − f_S)/(1 + K_T[O₂])].
    carbene_fraction : float
        Diazirines: fraction photolysed straight to the carbene (rest: diazo isomer). 1 otherwise.
    diazo_relative_rate : float
        Photolysis rate of the diazo isomer relative to the diazirine (it reaches the
        carbene only by a second photon).
    link_reach_fraction : float
        f_diff, fraction of bonds that join a *different* QD (reach of the intermediate).
    qd_damage_per_activation : float
        Traps per QD per activated group per QD on an unshelled surface: side
        products (1 − η₀) times the trap yield of the mechanism's side products,
        times the steric shielding of bulky groups.
    chain_length : float
        Thiol-ene kinetic chain length ν (additions per initiating radical); 1 otherwise.
    sensitiser_epsilon_by_wavelength : tuple
        Sensitised systems: ε of the sensitiser, M⁻¹cm⁻¹.
    sensitiser_isc_yield : float
        Triplet yield of the sensitiser.
    sensitiser_per_group : float
        Sensitiser molecules per photoactive group.
    dexter_radius_nm : float
        R_q of the Dexter sphere (PHYSICS.md §4).
    sensitiser_triplet_lifetime_us : float
        Sensitiser triplet lifetime τ₀, µs.
    triplet_o2_quench_per_molar_s : float
        k_q of the sensitiser triplet by O₂, M⁻¹s⁻¹.
    loading_wt_pct : float
        Free crosslinkers: wt% of the dry film (QDs + ligands + crosslinker) (recipe).
    loading_mol_pct : float
        Tethered ligands: mol% of the QD's ligands (recipe).
    sources : mapping
    """

    name: str
    mechanism: str
    arms: int
    tethered: bool
    molar_mass_g_mol: float
    epsilon_per_arm_by_wavelength: Spectrum
    quantum_yield: float
    insertion_yield: float
    singlet_fraction: float
    ksv_singlet_per_molar: float
    ksv_triplet_per_molar: float
    link_reach_fraction: float
    qd_damage_per_activation: float
    para_edg: bool = False
    bulky_groups_per_arm: float = 0.0
    carbene_fraction: float = 1.0
    diazo_relative_rate: float = 0.0
    chain_length: float = 1.0
    sensitiser_epsilon_by_wavelength: Spectrum = ()
    sensitiser_isc_yield: float = 0.0
    sensitiser_per_group: float = 0.0
    dexter_radius_nm: float = 0.0
    sensitiser_triplet_lifetime_us: float = 0.0
    triplet_o2_quench_per_molar_s: float = 0.0
    loading_wt_pct: float = 0.0
    loading_mol_pct: float = 0.0
    description: str = ""
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @property
    def family(self) -> str:
        """The mechanism's name (kept for readers of earlier reports)."""
        return self.mechanism

    @property
    def wavelengths_nm(self) -> tuple[float, ...]:
        """Wavelengths (nm) at which this crosslinker can be activated."""
        ws = {w for w, _ in self.epsilon_per_arm_by_wavelength}
        ws |= {w for w, _ in self.sensitiser_epsilon_by_wavelength}
        return tuple(sorted(ws))

    def has_absorption(self, wavelength_nm: float) -> bool:
        return _has(self.epsilon_per_arm_by_wavelength, wavelength_nm) or _has(
            self.sensitiser_epsilon_by_wavelength, wavelength_nm)

    def epsilon_per_arm(self, wavelength_nm: float) -> float:
        """ε of one photogroup (M⁻¹cm⁻¹); 0 where only the sensitiser absorbs."""
        if _has(self.epsilon_per_arm_by_wavelength, wavelength_nm):
            return _at(self.epsilon_per_arm_by_wavelength, wavelength_nm, "absorption", f"crosslinker {self.name}")
        if _has(self.sensitiser_epsilon_by_wavelength, wavelength_nm):
            return 0.0
        _at(self.epsilon_per_arm_by_wavelength + self.sensitiser_epsilon_by_wavelength, wavelength_nm,
            "absorption", f"crosslinker {self.name}")
        return 0.0  # pragma: no cover - _at raised

    def sensitiser_epsilon(self, wavelength_nm: float) -> float:
        if _has(self.sensitiser_epsilon_by_wavelength, wavelength_nm):
            return _at(self.sensitiser_epsilon_by_wavelength, wavelength_nm, "absorption", self.name)
        return 0.0


@dataclass(frozen=True)
class Developer:
    """A developing solvent and the development step.

    Attributes
    ----------
    name, solvent : str
    dissolution_time_s : float
        τ_dev: undissolved sol ∝ exp(−t/τ_dev) (PHYSICS.md §5).
    swelling_gel_threshold : float
        g_th: a gel looser than this swells and lifts off.
    swelling_width : float
        Width of the swelling transition in gel fraction (a gel's swelling
        varies from QD to QD, so lift-off is a smooth step, not a cliff).
    time_s : float
        Development time, s (recipe).
    gelation : str
        "flory" (mean field), "lattice" (z neighbours) or "charlesby-pinner".
    lattice_neighbours : float
        z of the lattice model (6–12 for a QD packing).
    cp_p0_over_q0 : float
        Charlesby-Pinner p₀/q₀ (scission over crosslinking).
    cp_gel_dose_mj_cm2 : float
        Charlesby-Pinner gel dose D_g at the film top, mJ/cm².
    sources : mapping
    """

    name: str
    solvent: str
    dissolution_time_s: float
    swelling_gel_threshold: float
    swelling_width: float
    time_s: float = 30.0
    gelation: str = "flory"
    lattice_neighbours: float = 8.0
    cp_p0_over_q0: float = 0.2
    cp_gel_dose_mj_cm2: float = 1.0
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False, repr=False)


_CLASSES = {"film": Film, "crosslinker": Crosslinker, "developer": Developer}

# field -> (low, high, what). Fractions are [0, 1]; a bound of None is open.
_RANGES: dict[str, tuple[float | None, float | None, str]] = {
    # film
    "qd_diameter_nm": (0.5, 100.0, "nm"),
    "ligand_spacing_nm": (0.0, 20.0, "nm"),
    "qd_density_g_cm3": (0.5, 20.0, "g/cm^3"),
    "packing_fraction": (0.01, 0.7405, "a volume fraction up to close packing"),
    "absorption_length_nm_by_wavelength": (0.1, 1e7, "nm per wavelength"),
    "refractive_index": (1.0, 5.0, ""),
    "plqy0": (0.0, 1.0, "a fraction"),
    "ligands_per_nm2": (0.0, 20.0, "per nm^2"),
    "ligand_alkenes": (0.0, 10.0, "C=C per ligand"),
    "ligand_molar_mass_g_mol": (1.0, 1e5, "g/mol"),
    "damage_yield_by_wavelength": (0.0, 1.0, "a fraction per wavelength"),
    "trap_quench": (0.0, 1e3, ""),
    "surface_attack": (0.0, 1e3, ""),
    "thiyl_photocatalysis_yield": (0.0, 1.0, "a fraction"),
    "crosslink_dispersion": (0.0, 3.0, "log-normal sigma"),
    "thickness_nm": (1.0, 1e5, "nm"),
    "substrate_reflectance": (0.0, 1.0, "a fraction"),
    # crosslinker
    "arms": (1, 64, "photoactive groups per molecule"),
    "molar_mass_g_mol": (10.0, 1e6, "g/mol"),
    "epsilon_per_arm_by_wavelength": (0.0, 1e6, "M^-1 cm^-1 per wavelength"),
    "quantum_yield": (0.0, 1.0, "a fraction"),
    "insertion_yield": (0.0, 1.0, "a fraction"),
    "ksv_singlet_per_molar": (0.0, 1e9, "M^-1"),
    "ksv_triplet_per_molar": (0.0, 1e9, "M^-1"),
    "singlet_fraction": (0.0, 1.0, "a fraction"),
    "bulky_groups_per_arm": (0.0, 20.0, "groups per arm"),
    "shell_thickness_nm": (0.0, 50.0, "nm"),
    "carbene_fraction": (0.0, 1.0, "a fraction"),
    "diazo_relative_rate": (0.0, 100.0, ""),
    "link_reach_fraction": (0.0, 1.0, "a fraction"),
    "qd_damage_per_activation": (0.0, 100.0, ""),
    "chain_length": (1.0, 1e5, "additions per radical"),
    "sensitiser_epsilon_by_wavelength": (0.0, 1e6, "M^-1 cm^-1 per wavelength"),
    "sensitiser_isc_yield": (0.0, 1.0, "a fraction"),
    "sensitiser_per_group": (0.0, 100.0, ""),
    "dexter_radius_nm": (0.0, 10.0, "nm"),
    "sensitiser_triplet_lifetime_us": (0.0, 1e6, "us"),
    "triplet_o2_quench_per_molar_s": (0.0, 1e12, "M^-1 s^-1"),
    "loading_wt_pct": (0.0, 100.0, "wt% (0-100)"),
    "loading_mol_pct": (0.0, 100.0, "mol% (0-100)"),
    # developer
    "dissolution_time_s": (1e-6, 1e7, "s"),
    "swelling_gel_threshold": (0.0, 1.0, "a fraction"),
    "swelling_width": (1e-4, 1.0, "a fraction"),
    "time_s": (0.0, 1e6, "s"),
    "lattice_neighbours": (3.0, 30.0, "neighbours"),
    "cp_p0_over_q0": (0.0, 2.0, ""),
    "cp_gel_dose_mj_cm2": (1e-9, 1e9, "mJ/cm^2"),
}

_CHOICES = {"depth_model": DEPTH_MODELS, "gelation": GELATION_MODELS}
_CHOICES_BY_KIND = {("crosslinker", "mechanism"): FAMILIES_CROSSLINKER,
                    ("film", "material_class"): ("chalcogenide", "perovskite")}

# Process fields a recipe sets; the library does not hold them.
_PROCESS_FIELDS = {
    "film": ("thickness_nm",),
    "crosslinker": ("loading_wt_pct", "loading_mol_pct"),
    "developer": ("time_s",),
}


def _derived_fields(kind: str) -> tuple[str, ...]:
    from .. import mechanisms

    return {"film": mechanisms.DERIVED_FILM_FIELDS,
            "crosslinker": mechanisms.DERIVED_CROSSLINKER_FIELDS}.get(kind, ())


def _field_names(kind: str) -> list[str]:
    return [f.name for f in dataclasses.fields(_CLASSES[kind]) if f.name not in ("sources",)]


@functools.cache
def _library(kind: str) -> dict[str, dict[str, Any]]:
    with open(_HERE / _FILES[kind], "rb") as fh:
        return tomllib.load(fh)


def names(kind: str) -> list[str]:
    """Names of the built-in materials of a kind ("film", "crosslinker", "developer")."""
    _check_kind(kind)
    return list(_library(kind))


def field_range(name: str) -> tuple[float | None, float | None, str]:
    """Accepted (low, high, description) of a numeric material field; (None, None, "") if unbounded."""
    return _RANGES.get(name, (None, None, ""))


def _check_kind(kind: str) -> None:
    if kind not in _CLASSES:
        raise ValueError(f"kind must be one of {', '.join(_CLASSES)}; got {kind!r}")


def _lookup(kind: str, name: Any, source: str | None) -> str:
    """The library key of a material name: exact (case-insensitive, aliases included), or an
    unambiguous prefix of one entry's names (with a note saying which entry it picked).

    An ambiguous prefix is refused with the candidates, so ``"InP/ZnSe"`` does
    not silently pick one of InP/ZnSe/ZnS and InP/ZnSeS.
    """
    from .. import fields
    from ..errors import LithoNote

    lib = _library(kind)
    label = where(source, kind + ".material")
    if not isinstance(name, str) or not name.strip():
        raise LithoInputError(f"{label} = {fields.show(name)} is not a {kind} name; known: {', '.join(lib)}")
    wanted = name.strip().lower()
    spellings = {key: [key] + [str(a) for a in entry.get("aliases", [])] for key, entry in lib.items()}
    for key, names_ in spellings.items():
        if wanted in (a.lower() for a in names_):
            return key
    candidates = [key for key, names_ in spellings.items() if any(a.lower().startswith(wanted) for a in names_)]
    if len(candidates) == 1:
        warnings.warn(LithoNote(f"{label} = {name!r} taken as {candidates[0]!r} (the only {kind} whose name "
                                "starts so); write the full name to silence this note"), stacklevel=2)
        return candidates[0]
    if candidates:
        raise LithoInputError(f"{label} = {fields.show(name)} matches several {kind}s: {', '.join(candidates)}; "
                              "write the full name")
    raise LithoInputError(
        f"{label} = {fields.show(name)} is not a known {kind}{fields.suggest(name, lib)}; known: {', '.join(lib)}")


def _split(value: Any) -> tuple[Any, str | None]:
    """``{value=..., source=...}`` -> (value, source); a plain value has no source."""
    if isinstance(value, Mapping) and "value" in value:
        return value["value"], value.get("source")
    return value, None


def _spectrum(raw: Any, field_name: str, source: str | None, kind: str) -> tuple[Spectrum, dict[str, str]]:
    if not isinstance(raw, Mapping):
        raise LithoInputError(
            f"{where(source, kind + '.' + field_name)} = {_show(raw)} must be a table of wavelength (nm) = value, "
            f"e.g. {{254 = 2e4, 365 = 300}}")
    from .. import fields

    pairs, srcs = [], {}
    for key, entry in raw.items():
        wavelength = fields.wavelength_key(key, where(source, kind + '.' + field_name))
        value, src = _split(entry)
        pairs.append((wavelength, _number(value, f"{field_name}.{key}", source, kind)))
        if src:
            srcs[f"{field_name}.{wavelength:g}"] = src
    return tuple(sorted(pairs)), srcs


def _number(value: Any, field_name: str, source: str | None, kind: str) -> float:
    """A finite float (range checks follow in :func:`_check_range`)."""
    from .. import fields

    return fields.number(value, where(source, kind + "." + field_name))


def _check_range(kind: str, field_name: str, value: float, source: str | None) -> None:
    low, high, what = _RANGES.get(field_name, (None, None, ""))
    base = field_name.split(".")[0]
    if base != field_name:
        low, high, what = _RANGES.get(base, (None, None, ""))
    if (low is not None and value < low) or (high is not None and value > high) or value != value:
        unit = f" ({what})" if what else ""
        raise LithoInputError(
            f"{where(source, kind + '.' + field_name)} = {value:g} is outside [{low:g}, {high:g}]{unit}")


def resolve(kind: str, table: Mapping[str, Any], source: str | None = None, *, constants=None):
    """Build a validated material from a recipe section.

    Parameters
    ----------
    kind : {"film", "crosslinker", "developer"}
    table : mapping
        A normalised recipe section (units.normalize_table): ``material`` names
        the library entry; any other key overrides that field (or sets a
        process field such as ``thickness_nm``, ``loading_wt_pct``, ``time_s``).
        Per-wavelength fields are merged wavelength by wavelength.
    source : str, optional
        The recipe file, for error messages and the ``sources`` record.
    constants : litho.mechanisms.Constants, optional
        Mechanism and global constants the derived fields come from (default:
        the shipped ones). Derived fields (a crosslinker's yields, a film's
        surface susceptibility and photodamage) are never library data: the
        mechanism computes them from the material's structure or composition
        (:mod:`litho.mechanisms`); a recipe may still override each one.

    Returns
    -------
    Film, Crosslinker or Developer
        Frozen dataclass; ``.sources`` maps every field to its source.

    Raises
    ------
    LithoInputError
        Unknown material (lists known names), unknown field (lists accepted
        fields), non-numeric value, or a value outside its range (fractions
        must lie in [0, 1]).
    """
    _check_kind(kind)
    table = dict(table)
    if "material" not in table:
        raise LithoInputError(
            f"{where(source, kind + '.material')} is missing; known {kind}s: {', '.join(names(kind))}")
    key = _lookup(kind, table.pop("material"), source)
    entry = dict(_library(kind)[key])
    entry.pop("aliases", None)
    cls = _CLASSES[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    accepted = sorted(n for n in fields if n not in ("name", "sources"))

    for name in table:
        if name not in fields or name in ("name", "sources"):
            raise LithoInputError(
                f"{where(source, kind + '.' + name)} is not a {kind} field; accepted: {', '.join(accepted)}")

    values: dict[str, Any] = {"name": key}
    sources: dict[str, str] = {}
    recipe_src = f"recipe {source}" if source else "recipe"
    derived_names = _derived_fields(kind)
    for name in derived_names:
        if name in entry:
            raise LithoInputError(
                f"{_FILES[kind]} [{key}]: {name} is derived by its mechanism or composition "
                f"(litho.mechanisms), not library data")
    for name, f in fields.items():
        if name in ("name", "sources"):
            continue
        if name in derived_names and name not in table:
            continue
        lib_raw = entry.pop(name, None)
        over = table.get(name)
        if name.endswith("_by_wavelength"):
            spec, srcs = ((), {})
            if lib_raw is not None:
                spec, srcs = _spectrum(lib_raw, name, f"{_FILES[kind]} [{key}]", kind)
            if over is not None:
                over_spec, _ = _spectrum(over, name, source, kind)
                merged = dict(spec)
                merged.update(over_spec)
                spec = tuple(sorted(merged.items()))
                for w, _v in over_spec:
                    srcs[f"{name}.{w:g}"] = recipe_src
            for w, v in spec:
                _check_range(kind, f"{name}.{w:g}", v, source if over is not None else _FILES[kind])
            values[name] = spec
            sources.update(srcs)
            continue
        raw, src = _split(lib_raw) if lib_raw is not None else (None, None)
        if over is not None:
            raw, src = _split(over)[0], recipe_src
        if raw is None:
            if f.default is dataclasses.MISSING:
                raise LithoInputError(f"{_FILES[kind]} [{key}]: field {name} is missing from the library")
            continue
        values[name] = _coerce(kind, name, raw, f, source if over is not None else f"{_FILES[kind]} [{key}]")
        if src:
            sources[name] = src
    if entry:
        raise LithoInputError(
            f"{_FILES[kind]} [{key}]: unknown library field(s) {', '.join(entry)}; accepted: {', '.join(accepted)}")
    if derived_names:
        from .. import mechanisms

        for name, (value, src) in mechanisms.derive(kind, values, constants).items():
            if name not in values:
                values[name] = value
                sources[name] = src
    obj = cls(**values, sources=sources)
    _check_consistency(kind, obj, source)
    return obj


# Optical constants and stack limits of substrate and underlayers (no real material lies beyond them).
_INDEX_MAX = 10.0
_LAYER_MAX_NM = 1e6
_UNDERLAYERS_MAX = 100


def _coerce(kind: str, name: str, raw: Any, f: dataclasses.Field, source: str | None) -> Any:
    from .. import fields

    label = where(source, kind + "." + name)
    choices = _CHOICES.get(name) or _CHOICES_BY_KIND.get((kind, name))
    if choices:
        return fields.choice(raw, label, choices)
    if name in ("tethered", "para_edg"):
        return fields.boolean(raw, label)
    if name in ("family", "composition", "ligand", "solvent", "description"):
        return fields.text(raw, label, max_chars=10_000)
    if name == "substrate_index":
        n, k = fields.pair(raw, label, names="n, k")
        if not (0 < n <= _INDEX_MAX and 0 <= k <= _INDEX_MAX):
            raise LithoInputError(f"{label} = {fields.show(raw)}: need 0 < n <= {_INDEX_MAX:g} and "
                                  f"0 <= k <= {_INDEX_MAX:g}")
        return (n, k)
    if name == "underlayers":
        if not isinstance(raw, (list, tuple)) or len(raw) > _UNDERLAYERS_MAX:
            raise LithoInputError(f"{label} = {fields.show(raw)}: give a list of [n, k, thickness_nm], top first "
                                  f"(at most {_UNDERLAYERS_MAX} layers)")
        layers = tuple(fields.numbers_list(r, f"{label}[{i}]", length=3) for i, r in enumerate(raw))
        for i, (n, k, d) in enumerate(layers):
            if not (0 < n <= _INDEX_MAX and 0 <= k <= _INDEX_MAX and 0 <= d <= _LAYER_MAX_NM):
                raise LithoInputError(f"{label}[{i}] = {fields.show(list(layers[i]))}: need 0 < n <= "
                                      f"{_INDEX_MAX:g}, 0 <= k <= {_INDEX_MAX:g}, 0 <= thickness <= "
                                      f"{_LAYER_MAX_NM:g} nm")
        return layers
    if name == "arms":
        low, high, what = _RANGES["arms"]
        return fields.integer(raw, label, lo=int(low), hi=int(high), what=what)
    value = _number(raw, name, source, kind)
    _check_range(kind, name, value, source)
    return value


def _check_consistency(kind: str, obj: Any, source: str | None) -> None:
    if kind == "crosslinker":
        if obj.tethered and obj.arms != 1:
            raise LithoInputError(
                f"{where(source, 'crosslinker.arms')} = {obj.arms}: a tethered photogroup has arms = 1")
        if obj.mechanism == "sensitised-nitrene" and not obj.sensitiser_epsilon_by_wavelength:
            raise LithoInputError(
                f"{where(source, 'crosslinker.sensitiser_epsilon_by_wavelength')}: a sensitised crosslinker needs it")
