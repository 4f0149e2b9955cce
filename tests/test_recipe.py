import pytest

import litho
from litho.errors import LithoInputError
from conftest import RECIPES


def test_every_shipped_recipe_loads():
    paths = sorted(RECIPES.glob("*.toml"))
    assert paths, "recipes/ ships no recipe"
    for path in paths:
        recipe = litho.load_recipe(path)
        assert recipe.steps, path
        for step in recipe.steps:
            assert step.exposure.dose_mj_cm2 > 0
            assert step.mask.path.is_file()


def test_units_in_strings_become_canonical_numbers(write_recipe):
    recipe = litho.load_recipe(write_recipe(**{'dose = "20 mJ/cm^2"': 'dose = "0.02 J/cm^2"'}))
    step = recipe.steps[0]
    assert step.exposure.dose_mj_cm2 == pytest.approx(20)
    assert step.exposure.optics.lines[0][0] == pytest.approx(254)
    assert recipe.simulation.pixel_um == 0.2
    assert recipe.seed == 1


def test_recipe_is_frozen(write_recipe):
    recipe = litho.load_recipe(write_recipe())
    with pytest.raises(AttributeError):
        recipe.seed = 3


def test_steps_inherit_shared_sections_and_override_fields(write_recipe, small_recipe_text):
    text = small_recipe_text + """
[[step]]
name = "R"
[step.mask]
layer = "R"

[[step]]
name = "G"
[step.mask]
layer = "G"
[step.exposure]
dose = "40 mJ/cm^2"
"""
    recipe = litho.load_recipe(write_recipe(text))
    assert [s.name for s in recipe.steps] == ["R", "G"]
    assert recipe.steps[0].exposure.dose_mj_cm2 == 20
    assert recipe.steps[1].exposure.dose_mj_cm2 == 40
    assert recipe.steps[1].mask.layer == "G"
    # unchanged shared fields carry over
    assert recipe.steps[1].exposure.optics == recipe.steps[0].exposure.optics


@pytest.mark.parametrize("edit, message", [
    ({'dose = "20 mJ/cm^2"': 'dose = "-5 mJ/cm^2"'}, r"exposure.dose = -5 mJ/cm\^2: give > 0 and <= 1e\+06 mJ/cm\^2"),
    ({'dose = "20 mJ/cm^2"': 'dose = 0'}, r"exposure.dose = 0 mJ/cm\^2: give > 0"),
    ({'material = "EBT"': 'material = "NoSuchLinker"'}, r"NoSuchLinker.*EBT"),
    ({'[developer]': '[developers]'}, r"developers"),
    ({'layer = "R"': 'layer = [1, 2, 3]'}, r"mask.layer"),
    ({'pixel_um = 0.2\n': 'pixel_um = -1\n'}, r"simulation.pixel_um"),
    ({'wavelength = "254 nm"': 'wavelength = "436 nm"'}, r"436.*254"),
    ({'stripe_1000ppi_2x2.gds': 'nowhere.gds'}, r"mask file not found"),
])
def test_bad_recipes_name_file_field_and_value(write_recipe, edit, message):
    path = write_recipe(**edit)
    with pytest.raises(LithoInputError, match=message) as err:
        litho.load_recipe(path)
    text = str(err.value)
    assert "\n" not in text
    assert str(path) in text


def test_missing_section_is_named(write_recipe, small_recipe_text):
    start = small_recipe_text.index("[developer]")
    end = small_recipe_text.index("[mask]")
    path = write_recipe(small_recipe_text[:start] + small_recipe_text[end:])
    with pytest.raises(LithoInputError, match=r"\[developer\]: section missing"):
        litho.load_recipe(path)


def test_toml_syntax_error_gives_the_line(write_recipe):
    path = write_recipe(**{'tool = "contact"': 'tool = "contact'})
    with pytest.raises(LithoInputError, match=r"TOML syntax error.*line \d+"):
        litho.load_recipe(path)


def test_steps_are_found_by_name_or_index(write_recipe, small_recipe_text):
    text = small_recipe_text + "".join(f'\n[[step]]\nname = "{c}"\n[step.mask]\nlayer = "{c}"\n' for c in "RG")
    recipe = litho.load_recipe(write_recipe(text))
    assert [recipe.step_index(k) for k in (None, "G", 1, "0")] == [0, 1, 1, 0]
    for bad in ("B", 2, "7"):
        with pytest.raises(LithoInputError, match="has steps R, G"):
            recipe.step_index(bad)


def test_simulation_pixel_auto_is_a_choice_and_simulate_converges_it(write_recipe):
    import litho

    path = write_recipe(**{"pixel_um = 0.2": 'pixel_um = "auto"'})
    recipe = litho.load_recipe(path)
    assert recipe.simulation.pixel_um == "auto"
    with pytest.raises(litho.errors.LithoInputError, match="simulation.pixel_um"):
        litho.load_recipe(write_recipe(**{"pixel_um = 0.2": 'pixel_um = "fine"'}, name="bad.toml"))
