"""Mechanism and global constants: the values shared by every crosslinker of a kind.

Two files beside the material library hold them:

- ``materials/mechanisms.toml``: literature (or literature-range) constants of
  each reactive intermediate and of the shared processes (O₂ quenching rate,
  the definition of a trap, how far a link reaches);
- ``materials/global_fit.toml``: the few constants no paper fixes, fitted once
  to every published result together (:mod:`litho.validation`), each with its
  1σ uncertainty.

A constant is addressed as ``"section.name"`` (``"carbene.triplet_lifetime_us"``,
``"photodamage.energy_slope_per_ev"``). :class:`Constants` is immutable; a
fit or a what-if builds a new one with :meth:`Constants.with_values`.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

_LIBRARY = Path(__file__).resolve().parents[1] / "materials"
MECHANISM_FILE = _LIBRARY / "mechanisms.toml"
GLOBAL_FIT_FILE = _LIBRARY / "global_fit.toml"

__all__ = ["Constant", "Constants", "library_constants", "GLOBAL_PRIORS"]


@dataclass(frozen=True)
class Constant:
    """One constant: its value, where it comes from, and its 1σ (global fits only)."""

    value: float
    source: str
    sigma: float | None = None


#: The globally fitted constants: (prior value, lower bound, upper bound, log-scale, meaning).
#: The prior is what litho uses until a global fit has been written (and what a
#: leave-one-out fit starts from); bounds keep the fit physical.
GLOBAL_PRIORS: dict[str, tuple[float, float, float, bool, str]] = {
    "photodamage.chalcogenide_yield_254nm": (
        2e-5, 1e-9, 1e-2, True, "traps per photon absorbed by a II-VI/III-V QD at 254 nm, unshelled surface"),
    "photodamage.perovskite_yield_254nm": (
        2e-5, 1e-9, 1e-2, True, "traps per photon absorbed by a lead-halide perovskite NC at 254 nm"),
    "photodamage.energy_slope_per_ev": (
        2.0, 0.0, 12.0, False, "β in Φ_dmg(λ) = Φ_254·exp(−β·(E_254 − E_λ)): hot-carrier trap creation falls with photon energy"),
    "surface.shell_decay_length_nm": (
        1.5, 0.2, 20.0, True, "ℓ in the surface susceptibility exp(−shell/ℓ): how fast a shell screens the core from surface traps"),
    "side_products.nitrene_traps_per_side_product": (
        0.02, 1e-6, 10.0, True, "traps per nitrene side product (azo, aromatic amine) per QD on an unshelled surface"),
    "side_products.radical_traps_per_side_product": (
        1e-3, 1e-7, 10.0, True, "traps per non-amine side product (carbene and ketyl radical products) per QD"),
    "side_products.bulky_shielding_per_group": (
        0.5, 0.0, 6.0, False, "b in exp(−b·bulky groups per arm): steric shielding of the QD from nitrene side products"),
    "gelation.crosslink_dispersion": (
        0.5, 0.0, 2.0, False, "log-normal σ of the local crosslinker density in a spin-cast film"),
    "photocatalysis.perovskite_thiyl_yield": (
        1e-4, 1e-9, 1.0, True, "thiyl radicals made per photon absorbed by a perovskite NC in a thiol film"),
}


@dataclass(frozen=True)
class Constants:
    """An immutable set of constants keyed ``"section.name"``."""

    values: Mapping[str, Constant]

    def __getitem__(self, key: str) -> float:
        try:
            return self.values[key].value
        except KeyError:
            raise KeyError(f"no mechanism or global constant {key!r}") from None

    def source(self, key: str) -> str:
        return self.values[key].source

    def with_values(self, values: Mapping[str, float], source: str = "what-if") -> "Constants":
        """A copy with some values replaced (a fit's trial point, a user's what-if)."""
        merged = dict(self.values)
        for key, value in values.items():
            if key not in merged:
                raise KeyError(f"no mechanism or global constant {key!r}")
            merged[key] = Constant(float(value), source, None)
        return Constants(merged)

    def keys(self):
        return self.values.keys()


def _read(path: Path) -> dict[str, Constant]:
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        raw = tomllib.load(fh)
    out = {}
    for section, table in raw.items():
        for name, entry in table.items():
            if isinstance(entry, Mapping) and "value" in entry:
                out[f"{section}.{name}"] = Constant(float(entry["value"]), str(entry.get("source", "")),
                                                    None if entry.get("sigma") is None else float(entry["sigma"]))
    return out


@functools.cache
def library_constants() -> Constants:
    """The shipped constants: mechanisms.toml, then global_fit.toml over the priors."""
    values = _read(MECHANISM_FILE)
    for key, (prior, *_rest) in GLOBAL_PRIORS.items():
        values[key] = Constant(prior, "prior (no global fit written yet)", None)
    values.update({k: v for k, v in _read(GLOBAL_FIT_FILE).items() if k in GLOBAL_PRIORS})
    return Constants(values)
