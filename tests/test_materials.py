"""The built-in library: every parameter sourced, resolve() validates and merges overrides."""

import dataclasses
import tomllib
from pathlib import Path

import pytest

from litho import materials
from litho.errors import LithoInputError

LIBRARY = Path(materials.__file__).parent


@pytest.mark.parametrize("kind", ["film", "crosslinker", "developer"])
def test_every_material_resolves(kind):
    for name in materials.names(kind):
        obj = materials.resolve(kind, {"material": name})
        assert dataclasses.is_dataclass(obj) and obj.name == name


@pytest.mark.parametrize("filename", ["films.toml", "crosslinkers.toml", "developers.toml"])
def test_every_numeric_parameter_carries_a_source(filename):
    data = tomllib.loads((LIBRARY / filename).read_text())
    for name, entry in data.items():
        for key, value in entry.items():
            if key in ("aliases",) or isinstance(value, (str, bool)):
                continue
            assert isinstance(value, dict), f"{filename} [{name}] {key}: write {{value=..., source=...}}"
            entries = [value] if "value" in value else list(value.values())
            for item in entries:
                assert isinstance(item, dict) and item.get("source"), f"{filename} [{name}] {key} has no source"


def test_library_holds_domain_materials():
    assert {"CdSe/ZnS", "CdSe/CdZnSe/ZnSeS", "InP/ZnSe/ZnS", "InP/ZnSeS", "CsPbBr3", "FAPbBr3"} <= set(
        materials.names("film"))
    assert {"EBT", "2-LiXer", "IP-6-LiXer", "PFB", "O-TAD", "E-TAD", "Tris-TAD", "TDBA", "BP-PXL", "PETMP",
            "Ir-azide"} <= set(materials.names("crosslinker"))
    assert {"toluene", "hexane", "octane", "chlorobenzene", "PGMEA"} <= set(materials.names("developer"))


def test_films_have_absorption_at_the_mercury_and_deep_uv_lines():
    for name in materials.names("film"):
        film = materials.resolve("film", {"material": name})
        for wavelength in (254, 275, 365, 405):
            assert film.absorption_length_nm(wavelength) > 0


def test_crosslinker_table_matches_domain_arms_and_tethering():
    expect = {"EBT": (2, False), "IP-6-LiXer": (6, False), "Tris-TAD": (3, False), "TDBA": (1, True),
              "BP-PXL": (1, True), "PETMP": (4, False)}
    for name, (arms, tethered) in expect.items():
        xl = materials.resolve("crosslinker", {"material": name})
        assert (xl.arms, xl.tethered) == (arms, tethered)


def test_edg_benzophenone_absorbs_at_365_as_reported():
    xl = materials.resolve("crosslinker", {"material": "BP-PXL"})
    assert xl.epsilon_per_arm(365) == pytest.approx(2.02e4)


def test_aliases_and_case_are_accepted():
    assert materials.resolve("crosslinker", {"material": "bis-diazirine"}).name == "PFB"
    assert materials.resolve("film", {"material": "cdse/zns"}).name == "CdSe/ZnS"


def test_overrides_and_process_fields_are_carried_with_recipe_source():
    xl = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 3, "quantum_yield": 0.4,
                                           "epsilon_per_arm_by_wavelength": {"254": 1.8e4}}, "r.toml")
    assert xl.loading_wt_pct == 3 and xl.quantum_yield == 0.4
    assert xl.epsilon_per_arm(254) == 1.8e4 and xl.epsilon_per_arm(275) == 1.6e4   # merged per wavelength
    assert xl.sources["quantum_yield"] == "recipe r.toml"
    film = materials.resolve("film", {"material": "CsPbBr3", "thickness_nm": 45})
    assert film.thickness_nm == 45
    dev = materials.resolve("developer", {"material": "octane", "time_s": 12})
    assert dev.time_s == 12


def test_ebt_loading_anchor_about_33_per_qd():
    from litho.chemistry import molecules_per_qd
    film = materials.resolve("film", {"material": "CdSe/ZnS"})
    xl = materials.resolve("crosslinker", {"material": "EBT", "loading_wt_pct": 2})
    assert molecules_per_qd(xl, film) == pytest.approx(33, rel=0.2)


@pytest.mark.parametrize("kind, table, message", [
    ("crosslinker", {"material": "Nope"}, r"'Nope' is not a known crosslinker; known: EBT, 2-LiXer"),
    ("film", {"material": "CdSe/ZnS", "colour": "red"}, r"film.colour is not a film field; accepted: .*plqy0"),
    ("crosslinker", {"material": "EBT", "quantum_yield": 1.2}, r"quantum_yield = 1.2 is outside \[0, 1\]"),
    ("film", {"material": "CdSe/ZnS", "plqy0": -0.1}, r"plqy0 = -0.1 is outside \[0, 1\]"),
    ("developer", {"material": "toluene", "swelling_gel_threshold": 2}, r"outside \[0, 1\]"),
    ("crosslinker", {"material": "EBT", "insertion_yield": "high"}, r"insertion_yield = 'high' is not a number"),
    ("crosslinker", {"material": "EBT", "arms": 2.5}, r"whole number"),
    ("film", {"material": "CdSe/ZnS", "depth_model": "ray"}, r"not one of beer-lambert, transfer-matrix"),
    ("developer", {"material": "toluene", "gelation": "magic"}, r"not one of flory, lattice, charlesby-pinner"),
    ("crosslinker", {"loading_wt_pct": 2}, r"crosslinker.material is missing; known crosslinkers: EBT"),
    ("crosslinker", {"material": "EBT", "epsilon_per_arm_by_wavelength": {"uv": 3}}, r"not a wavelength"),
])
def test_bad_material_input_is_one_clear_line(kind, table, message):
    with pytest.raises(LithoInputError, match=message) as err:
        materials.resolve(kind, table, "r.toml")
    assert "\n" not in str(err.value) and str(err.value).startswith("r.toml")


def test_materials_are_frozen():
    film = materials.resolve("film", {"material": "CdSe/ZnS"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        film.thickness_nm = 10
