"""The library walk: every value founded, none set for one published result; mechanisms share constants."""

import math
import re
import tomllib
from pathlib import Path

import pytest

from litho import materials, mechanisms
from litho.mechanisms import DERIVED_CROSSLINKER_FIELDS, DERIVED_FILM_FIELDS
from litho.validation import ROWS

LIB = Path(materials.__file__).parent
# A source that says a value was set to make a result come out.
TUNED = re.compile(r"\b(calibrated|chosen|tuned|fitted)\b(?! once)", re.I)
CITATIONS = sorted({row.source.split(" (")[0] for row in ROWS})


def _entries():
    for name in ("films.toml", "crosslinkers.toml", "developers.toml", "mechanisms.toml"):
        data = tomllib.loads((LIB / name).read_text())
        for key, table in data.items():
            yield name, key, table


def _values(table, prefix=""):
    for field, value in table.items():
        if isinstance(value, dict) and "value" in value:
            yield prefix + field, value
        elif isinstance(value, dict):
            yield from _values(value, prefix + field + ".")


def test_every_library_value_has_a_source_that_names_no_single_result():
    count = 0
    for file, key, table in _entries():
        for field, entry in _values(table):
            count += 1
            source = str(entry.get("source", ""))
            assert source.strip(), f"{file} [{key}] {field}: no source"
            assert not TUNED.search(source), f"{file} [{key}] {field}: {source!r} reads as set for a result"
    assert count > 150


def test_global_fit_values_name_the_fit_and_all_their_rows():
    data = tomllib.loads((LIB / "global_fit.toml").read_text())
    fitted = [r.id for r in ROWS if r.fitted]
    for section, table in data.items():
        for name, entry in table.items():
            assert f"{section}.{name}" in mechanisms.GLOBAL_PRIORS
            assert entry["source"].startswith("global fit, ")
            assert all(row in entry["source"] for row in fitted), entry["source"]
            assert math.isfinite(entry["sigma"]) and entry["sigma"] >= 0


def test_library_entries_hold_no_derived_field():
    for file, key, table in _entries():
        derived = DERIVED_FILM_FIELDS if file == "films.toml" else DERIVED_CROSSLINKER_FIELDS
        if file in ("films.toml", "crosslinkers.toml"):
            assert not set(table) & set(derived), (file, key, set(table) & set(derived))


@pytest.mark.parametrize("film", materials.names("film"))
def test_photodamage_yield_never_rises_with_wavelength(film):
    f = materials.resolve("film", {"material": film})
    yields = [y for _, y in f.damage_yield_by_wavelength]
    assert len(yields) >= 3
    assert all(b <= a for a, b in zip(yields, yields[1:])), yields


def test_crosslinkers_of_one_mechanism_share_its_constants():
    by_mechanism = {}
    for name in materials.names("crosslinker"):
        xl = materials.resolve("crosslinker", {"material": name})
        by_mechanism.setdefault(xl.mechanism, []).append(xl)
    assert set(by_mechanism) == set(mechanisms.names())   # every registered mechanism has an entry
    # fields that depend only on the mechanism, given the same structural flags
    shared = ("quantum_yield", "carbene_fraction", "diazo_relative_rate", "chain_length",
              "triplet_o2_quench_per_molar_s", "ksv_singlet_per_molar", "ksv_triplet_per_molar")
    for mech, xls in by_mechanism.items():
        for field in shared:
            assert len({getattr(x, field) for x in xls}) == 1, (mech, field)
        by_structure = {}
        for x in xls:
            by_structure.setdefault((x.tethered, x.para_edg, x.bulky_groups_per_arm), []).append(x)
        for group in by_structure.values():
            for field in ("insertion_yield", "singlet_fraction", "link_reach_fraction", "qd_damage_per_activation"):
                assert len({getattr(x, field) for x in group}) == 1, (mech, field)


def test_edg_changes_oxygen_tolerance_and_nothing_else():
    pfb, otad = (materials.resolve("crosslinker", {"material": n}) for n in ("PFB", "O-TAD"))
    assert otad.para_edg and not pfb.para_edg
    assert otad.singlet_fraction == 1.0 and pfb.singlet_fraction < 0.5
    assert otad.quantum_yield == pfb.quantum_yield
    # K_SV = k_q·τ: a ns singlet against a µs triplet
    k = mechanisms.library_constants()
    assert otad.ksv_singlet_per_molar == pytest.approx(k["shared.o2_quench_rate_per_molar_s"] * 1e-9)
    assert pfb.ksv_triplet_per_molar == pytest.approx(k["shared.o2_quench_rate_per_molar_s"] * 2e-6)


def test_recipe_override_of_a_derived_field_wins_and_is_recorded():
    xl = materials.resolve("crosslinker", {"material": "EBT", "quantum_yield": 0.3}, source="r.toml")
    assert xl.quantum_yield == 0.3 and xl.sources["quantum_yield"].startswith("recipe")
    again = mechanisms.apply_constants(xl, mechanisms.library_constants().with_values(
        {"side_products.nitrene_traps_per_side_product": 1.0}))
    assert again.quantum_yield == 0.3 and again.qd_damage_per_activation > xl.qd_damage_per_activation


def test_a_new_mechanism_is_one_registered_entry():
    class Fast(mechanisms.Mechanism):
        name = "test-fast-nitrene"
        section = "nitrene"
        amine_side_products = True

        def branching(self, structure, k):
            return 1.0, 1.0, 0.0, 0.0

    with pytest.raises(ValueError):
        mechanisms.register(mechanisms.get("nitrene"))
    fast = Fast()
    derived = fast.derive({"tethered": False}, mechanisms.library_constants())
    assert derived["insertion_yield"][0] == 1.0 and derived["qd_damage_per_activation"][0] == 0.0
