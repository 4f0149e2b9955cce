"""Crosslinking mechanisms and solubility switches behind one interface, and the constants they share.

>>> from litho import mechanisms
>>> sorted(mechanisms.names())
['carbene', 'ligand-binding', 'ligand-decomposition', 'ligand-desorption', 'nitrene', 'sensitised-nitrene', 'thiol-ene', 'triplet-ketone']
>>> mechanisms.get("carbene").name
'carbene'
"""

from . import kinds  # noqa: F401  (registers the built-in mechanisms)
from . import switches  # noqa: F401  (registers the solubility switches)
from .base import DERIVED_CROSSLINKER_FIELDS, Mechanism, activation_constant_cm2_mj, get, names, register
from .constants import GLOBAL_PRIORS, Constant, Constants, library_constants
from .film import DERIVED_FILM_FIELDS, MATERIAL_CLASSES, derive_film

__all__ = ["Mechanism", "register", "get", "names", "activation_constant_cm2_mj", "Constants", "Constant",
           "library_constants", "GLOBAL_PRIORS", "derive_film", "DERIVED_FILM_FIELDS", "DERIVED_CROSSLINKER_FIELDS",
           "MATERIAL_CLASSES", "derive", "apply_constants"]


def derive(kind: str, values, constants: Constants | None = None) -> dict:
    """Derived fields {name: (value, source)} of a film or crosslinker from its own values."""
    k = constants or library_constants()
    if kind == "film":
        return derive_film(values, k)
    if kind == "crosslinker":
        return get(values["mechanism"]).derive(values, k)
    return {}


def apply_constants(material, constants: Constants):
    """The same film or crosslinker with its derived fields recomputed from ``constants``.

    Fields a recipe set explicitly (source starting with "recipe") are kept.
    """
    import dataclasses

    from ..materials import Crosslinker, Film

    kind = "film" if isinstance(material, Film) else "crosslinker" if isinstance(material, Crosslinker) else None
    if kind is None:
        return material
    values = {f.name: getattr(material, f.name) for f in dataclasses.fields(material)}
    derived = derive(kind, values, constants)
    sources = dict(material.sources)
    changes = {}
    for name, (value, src) in derived.items():
        if str(sources.get(name, "")).startswith("recipe"):
            continue
        changes[name] = value
        sources[name] = src
    return dataclasses.replace(material, **changes, sources=sources)
