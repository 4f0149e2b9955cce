"""Every recipe value and option is checked where it is read (issue 9, items 5-8).

One regression test per defect: through :func:`litho.load_recipe` /
:func:`litho.recipe.recipe_from_dict`, and through ``litho.cli.main`` with
exit 2, one stderr line, no traceback and nothing written.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import tomllib
import warnings

import pytest

import litho
from litho import fields
from litho.cli import build_parser, main
from litho.errors import LithoInputError, LithoNote
from litho.recipe import recipe_from_dict
from conftest import run_cli
from conftest import RECIPES, SMALL_RECIPE

NAN, INF = float("nan"), float("inf")


def _raw():
    return tomllib.loads(SMALL_RECIPE)


def _refused(edit, *fragments):
    """Apply ``edit`` to the small recipe's dict; it must be refused with one line naming the file."""
    raw = _raw()
    edit(raw)
    with pytest.raises(LithoInputError) as err:
        recipe_from_dict(raw, source="r.toml")
    text = str(err.value)
    assert "\n" not in text and text.startswith("r.toml: "), text
    assert "np.float64" not in text and "numpy" not in text, text
    for fragment in fragments:
        assert fragment in text, text
    return text


def _assert_refused(code, err, *fragments):
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err


# --------------------------------------------------------------------------- item 5

@pytest.mark.parametrize("section, key, value, field", [
    ("simulation", "pixel_um", [0.25], "simulation.pixel_um = [0.25]"),
    ("simulation", "guard_um", [1], "simulation.guard_um = [1]"),
    ("exposure", "dose_mj_cm2", [3], "exposure.dose_mj_cm2 = [3]"),
    ("exposure", "dose", [3], "exposure.dose = [3]"),
])
def test_array_where_a_number_belongs_is_refused(section, key, value, field):
    def edit(raw):
        if key.startswith("dose"):
            raw["exposure"].pop("dose")
        raw[section][key] = value
    _refused(edit, field, "is not a number")


@pytest.mark.parametrize("nest", ["x = " + "[" * 500 + "]" * 500, "x = " + "{a = " * 500 + "1" + "}" * 500])
def test_toml_nested_500_deep_is_refused(write_recipe, nest):
    path = write_recipe(SMALL_RECIPE.replace("[film]", nest + "\n[film]"))
    with pytest.raises(LithoInputError, match="nested too deeply"):
        litho.load_recipe(path)


def test_dict_nested_deeper_than_a_recipe_is_refused():
    def edit(raw):
        deep = {}
        cur = deep
        for _ in range(500):
            cur["a"] = {}
            cur = cur["a"]
        raw["film"]["x"] = deep
    _refused(edit, "nested too deeply")


@pytest.mark.parametrize("name", ["a" * 300 + ".gds", "d/" + "é" * 130 + ".gds"])
def test_mask_file_name_over_255_bytes_is_refused(name):
    _refused(lambda raw: raw["mask"].__setitem__("file", name), "mask.file", "too long", "255 bytes")


def test_mask_file_with_nul_is_refused():
    _refused(lambda raw: raw["mask"].__setitem__("file", "a\x00b.gds"), "mask.file", "NUL")


@pytest.mark.parametrize("value", [NAN, INF, -INF, 2.5])
def test_arms_not_a_whole_number_is_refused(value):
    _refused(lambda raw: raw["crosslinker"].__setitem__("arms", value), "crosslinker.arms", "whole number")


@pytest.mark.parametrize("value", [[NAN, 0], [INF, 0], [1e300, 0], [0, -1e300], [1, 2, 3], "up"])
def test_overlay_not_finite_or_out_of_range_is_refused(value):
    _refused(lambda raw: raw["exposure"].__setitem__("overlay_um", value), "exposure.overlay_um")


def test_overlay_in_range_is_accepted():
    raw = _raw()
    raw["exposure"]["overlay_um"] = [1.5, -2]
    assert recipe_from_dict(raw).steps[0].exposure.overlay_um == (1.5, -2.0)


# --------------------------------------------------------------------------- item 6

@pytest.mark.parametrize("dose, fragment", [
    (1e300, "exposure.dose = 1e+300 mJ/cm^2: give > 0 and <= 1e+06 mJ/cm^2"),
    (INF, "exposure.dose = inf"),
    (NAN, "exposure.dose = nan"),
    ("1e400 mJ/cm^2", "exposure.dose = '1e400 mJ/cm^2'"),
    ("1e308 J/cm^2", "give a finite quantity"),
    (2 ** 1100, "exposure.dose"),
], ids=["1e300", "inf", "nan", "1e400-string", "overflow-after-units", "int-beyond-float"])
def test_dose_huge_or_not_finite_is_refused(dose, fragment):
    _refused(lambda raw: raw["exposure"].__setitem__("dose", dose), fragment)


@pytest.mark.parametrize("key, value, field", [
    ("underlayers", [[NAN, 0, 10]], "film.underlayers[0][0] = nan"),
    ("underlayers", [[1.8, 0, INF]], "film.underlayers[0][2] = inf"),
    ("substrate_index", [NAN, 0], "film.substrate_index[0] = nan"),
    ("substrate_index", [1.5, INF], "film.substrate_index[1] = inf"),
    ("absorption_length_nm_by_wavelength", {"nan": 100}, "key 'nan'"),
    ("absorption_length_nm_by_wavelength", {"inf": 100}, "key 'inf'"),
    ("absorption_length_nm_by_wavelength", {"254": NAN}, "absorption_length_nm_by_wavelength.254 = nan"),
])
def test_nan_in_film_optics_is_refused(key, value, field):
    _refused(lambda raw: raw["film"].__setitem__(key, value), field)


@pytest.mark.parametrize("value", ["1e300", "1e-300", "inf", "nan", "-1", "0", "101", "x"])
def test_pixel_option_outside_range_is_refused_before_simulating(tmp_path, capsys, value):
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "simulate", RECIPES / "ebt_cdse_254nm.toml", "--pixel-um", value, "-o", out)
    _assert_refused(code, err, "--pixel-um")
    assert not out.exists()


def test_pixel_in_range_but_coarser_than_the_window_is_refused_before_simulating(tmp_path, capsys):
    # 100 µm is inside 0.001-100 but leaves fewer than 8 samples across the 2 x 2 cell
    out = tmp_path / "out"
    code, _, err = run_cli(capsys, "simulate", RECIPES / "ebt_cdse_254nm.toml", "--pixel-um", "100", "-o", out)
    _assert_refused(code, err)
    code, _, err = run_cli(capsys, "aerial", RECIPES / "ebt_cdse_254nm.toml", "--pixel-um", "50", "-o", out)
    # aerial shares simulate's set-up (process.prepare): the optics' pitch limit is checked first
    _assert_refused(code, err, "pixel_um = 50 is too coarse", "needs pixel_um <=")
    assert not out.exists()


def test_pixel_option_error_states_the_range(capsys):
    code, _, err = run_cli(capsys, "simulate", RECIPES / "ebt_cdse_254nm.toml", "--pixel-um", "1e-300")
    _assert_refused(code, err, "0.001 to 100 µm")


# --------------------------------------------------------------------------- item 7

def test_typo_lists_every_exposure_key_and_the_nearest():
    text = _refused(lambda raw: raw["exposure"].__setitem__("atmospher", "N2"), "exposure.atmospher",
                    "did you mean 'atmosphere'")
    accepted = text.split("accepted: ")[1].split(", ")
    for key in ("dose", "atmosphere", "wavelength", "gap", "overlay_um", "tool", "collimation_half_angle"):
        assert key in accepted, text


@pytest.mark.parametrize("where, key, nearest", [
    (None, "developr", "developer"),
    ("mask", "fiel", "file"),
    ("simulation", "pixle", None),
    ("simulation", "treshold", "threshold"),
])
def test_unknown_keys_suggest_the_nearest(where, key, nearest):
    def edit(raw):
        (raw if where is None else raw[where])[key] = 1
    text = _refused(edit, "unknown")
    if nearest:
        assert f"did you mean {nearest!r}" in text


@pytest.mark.parametrize("section, key, value, written, nearest", [
    ("film", "thicknes", "30 nm", "film.thicknes", "thickness"),
    ("developer", "tme", "30 s", "developer.tme", "time"),
    ("crosslinker", "loading", 8, "crosslinker.loading", "loading_wt_pct"),
])
def test_material_field_typo_is_named_as_written_with_the_nearest(section, key, value, written, nearest):
    _refused(lambda raw: raw[section].__setitem__(key, value), f"{written}: unknown {section} field",
             f"did you mean {nearest!r}", "accepted: material")


def test_projection_key_under_contact_says_which_tool_takes_it():
    _refused(lambda raw: raw["exposure"].__setitem__("na", 0.5), "exposure.na: belongs to tool = 'projection'")


def test_material_exact_alias_is_exact_without_note():
    raw = _raw()
    raw["film"]["material"] = "InP"          # an alias of InP/ZnSe/ZnS in films.toml
    raw["crosslinker"] = {"material": "Tris-TAD", "loading_wt_pct": 9}
    raw["exposure"]["wavelength"] = "365 nm"
    with warnings.catch_warnings():
        warnings.simplefilter("error", LithoNote)
        assert recipe_from_dict(raw).steps[0].film.name == "InP/ZnSe/ZnS"


def test_material_ambiguous_prefix_is_refused_with_candidates():
    _refused(lambda raw: raw["film"].__setitem__("material", "InP/ZnSe"), "film.material = 'InP/ZnSe'",
             "matches several films: InP/ZnSe/ZnS, InP/ZnSeS")


def test_material_unique_prefix_is_taken_with_a_note():
    from litho import materials

    with pytest.warns(LithoNote, match="'tolu' taken as 'toluene'"):
        assert materials.resolve("developer", {"material": "tolu"}).name == "toluene"


def test_material_prefix_note_is_one_cli_line(write_recipe, tmp_path, capsys):
    # the note is printed even though the run then stops at a bad pixel pitch (before simulating)
    path = write_recipe(**{'material = "toluene"': 'material = "tolu"'})
    code, _, err = run_cli(capsys, "simulate", path, "--pixel-um", "100", "-o", tmp_path / "o")
    assert code == 2
    note = err.splitlines()[0]
    assert note.startswith("litho simulate: note: ") and "developer.material = 'tolu' taken as 'toluene'" in note
    assert "Traceback" not in err and "warnings.warn" not in err


def test_unknown_material_suggests_the_nearest():
    _refused(lambda raw: raw["crosslinker"].__setitem__("material", "EBTT"), "crosslinker.material = 'EBTT'",
             "known:")


def test_optics_message_names_the_field_as_written_without_type_names():
    def edit(raw):
        raw["exposure"]["tool"] = "proximity"
        raw["exposure"]["gap"] = "-1 um"
    _refused(edit, "r.toml: exposure.gap = -1:")


def test_optics_message_with_numpy_value_has_no_type_name():
    import numpy as np

    from litho.optics import ProximityOptics

    with pytest.raises(LithoInputError) as err:
        ProximityOptics(wavelength_nm=365, gap_um=np.float64(-1.0))
    assert "np.float64" not in str(err.value) and "gap_um = -1:" in str(err.value)


def test_sweep_field_twice_has_one_prefix(capsys):
    code, _, err = run_cli(capsys, "sweep", RECIPES / "ebt_cdse_254nm.toml", "--vary", "exposure.dose=1",
                        "--vary", "exposure.dose=2")
    _assert_refused(code, err, "litho sweep: --vary: exposure.dose_mj_cm2 is varied twice")
    assert "sweep: sweep" not in err


def test_kernels_messages_name_the_flag(capsys):
    code, _, err = run_cli(capsys, "kernels", "--wavelength-nm", "365", "--na", "0.5", "--tolerance", "0.7")
    _assert_refused(code, err, "--tolerance")
    assert "kernel_tolerance" not in err
    code, _, err = run_cli(capsys, "kernels", "--wavelength-nm", "365", "--na", "1.5")
    _assert_refused(code, err, "--na = 1.5")
    assert "ProjectionOptics" not in err


def test_utf8_bom_is_accepted(write_recipe, tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL_RECIPE.encode())
    assert litho.load_recipe(path).steps[0].film.name == "CdSe/ZnS"


@pytest.mark.parametrize("data, fragment", [
    (b"\xff\xfe" + SMALL_RECIPE.encode("utf-16-le"), "not a UTF-8 text"),
    (b"name = 1\x00", "TOML syntax error"),
])
def test_unreadable_recipe_text_is_one_line(tmp_path, data, fragment):
    path = tmp_path / "r.toml"
    path.write_bytes(data)
    with pytest.raises(LithoInputError, match=fragment):
        litho.load_recipe(path)


def test_recipe_path_too_long_a_directory_or_a_device_is_one_line(tmp_path, capsys):
    for path in (tmp_path / ("r" * 300 + ".toml"), tmp_path, "/dev/zero", "/dev/stdin"):
        code, _, err = run_cli(capsys, "simulate", path, "-o", tmp_path / "o")
        _assert_refused(code, err)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("edit, fragment", [
    (lambda raw: raw.__setitem__("seed", 2 ** 70), "seed ="),
    (lambda raw: raw.__setitem__("seed", 1.5), "seed ="),
    (lambda raw: raw.__setitem__("name", {"a": 1}), "name = {a = 1}"),
    (lambda raw: raw["mask"].__setitem__("layer", [2 ** 40, 0]), "mask.layer[0]"),
    (lambda raw: raw["mask"].__setitem__("cell", [1]), "mask.cell = [1]"),
    (lambda raw: raw["mask"].__setitem__("window_um", [0, 0, NAN, 1]), "mask.window_um[2] = nan"),
    (lambda raw: raw["simulation"].__setitem__("threshold", NAN), "simulation.threshold = nan"),
    (lambda raw: raw["simulation"].__setitem__("stochastic", "yes"), "simulation.stochastic"),
    (lambda raw: raw["simulation"].__setitem__("window", "periodc"), "did you mean 'periodic'"),
    (lambda raw: raw["film"].__setitem__("thickness", INF), "film.thickness = inf"),
    (lambda raw: raw["exposure"].__setitem__("tool", ["contact"]), "exposure.tool"),
    (lambda raw: raw.__setitem__("step", [{"name": {"a": 1}}]), "step[0].name"),
])
def test_other_values_checked_where_read(edit, fragment):
    _refused(edit, fragment)


def test_field_messages_show_values_as_written():
    import numpy as np

    assert fields.show(np.float64(-1.0)) == "-1"
    assert fields.show([0.25]) == "[0.25]"
    assert fields.show({"nan": 100}) == "{nan = 100}"
    assert fields.show("x" * 100).endswith("…") and len(fields.show("x" * 100)) == fields.SHOW_CHARS


# --------------------------------------------------------------------------- item 8

def test_projection_optics_replace_round_trips():
    recipe = litho.load_recipe(RECIPES / "projection_stripe_3000ppi_365nm.toml")
    optics = recipe.steps[0].exposure.optics
    moved = dataclasses.replace(optics, defocus_um=1)
    assert moved.defocus_um == 1.0 and moved.source == optics.source
    with pytest.raises(LithoInputError, match="give sigma or source, not both"):
        dataclasses.replace(optics, source=litho.optics.annular(0.5, 0.8))


def test_focus_series_runs(tmp_path):
    import numpy as np

    from litho.optics import ProjectionOptics, aerial_series

    optics = ProjectionOptics(wavelength_nm=365, na=0.3, sigma=0.6)
    mask = np.zeros((32, 32))
    mask[8:24, 8:24] = 1
    stack = aerial_series(mask, 0.1, optics, defocus_um=[-2, 0, 2], periodic=True)
    assert stack.shape == (3, 32, 32) and np.all(np.isfinite(stack))


@pytest.mark.parametrize("text, values", [("-2,0,2", (-2.0, 0.0, 2.0)), ("-1e-1", (-0.1,)), ("0.5", (0.5,))])
def test_negative_focus_list_is_a_value(text, values):
    args = build_parser().parse_args(["aerial", "r.toml", "--defocus-um", text])
    assert args.defocus_um == values


@pytest.mark.parametrize("text", ["-2,x", "nan", "-inf", "1e300", ""])
def test_bad_focus_list_is_refused_by_the_parser(capsys, tmp_path, text):
    code, _, err = run_cli(capsys, "aerial", RECIPES / "projection_stripe_3000ppi_365nm.toml", "--defocus-um", text,
                        "-o", tmp_path / "o")
    _assert_refused(code, err, "--defocus-um")
    assert not (tmp_path / "o").exists()


def test_contrast_doses_that_do_not_bracket_the_curve_say_so(tmp_path, capsys):
    out = tmp_path / "c"
    code, text, err = run_cli(capsys, "contrast", RECIPES / "ebt_cdse_254nm.toml", "--doses", "100:1000:5", "-o", out)
    assert code == 0, err
    assert "D0 = n/a" in text and "D0, D50, D100 not bracketed" in text and "lower LOW" in text
    summary = json.loads((out / "contrast.json").read_text())
    assert summary["d0_mj_cm2"] is None and summary["not_bracketed"]


@pytest.mark.parametrize("doses", ["100:10:5", "0:1:5", "1:inf:5", "1:nan:5", "1:2:1", "1:2:1e9", "1:1e300:5"])
def test_contrast_bad_doses_are_refused_by_the_parser(tmp_path, capsys, doses):
    code, _, err = run_cli(capsys, "contrast", RECIPES / "ebt_cdse_254nm.toml", "--doses", doses, "-o", tmp_path / "c")
    _assert_refused(code, err, "--doses")


def test_calibration_at_a_bound_is_flagged_and_covariance_explained():
    import numpy as np

    from litho.calibration import calibrate
    from litho.cli.calibrate import result_dict

    step = litho.load_recipe(RECIPES / "ebt_cdse_254nm.toml").steps[0]
    # a curve far broader than any crosslink dispersion in range gives, and slow: quantum_yield ends at 1
    doses = np.geomspace(0.01, 1000, 9)
    nrt = np.linspace(0.0, 0.9, 9)
    fit = calibrate(step.film, step.crosslinker, step.developer, step.exposure.atmosphere,
                    step.exposure.optics.lines, doses, nrt, ["quantum_yield", "crosslink_dispersion"])
    assert "quantum_yield" in fit.at_bound
    assert np.isnan(fit.uncertainties["quantum_yield"])
    assert "bound" in fit.covariance_note
    report = result_dict(fit, type("D", (), {"path": "d.csv"})())
    assert report["at_bound"] == ["crosslinker.quantum_yield"]
    assert report["covariance"]["parameters"] == ["crosslinker.quantum_yield", "film.crosslink_dispersion"]
    assert report["covariance"]["matrix"][0][0] is None and report["covariance"]["matrix"][1][1] > 0
    assert report["covariance_note"]
    json.dumps(report)


def test_calibrate_command_warns_about_a_parameter_at_its_bound(tmp_path, capsys):
    import numpy as np

    data = tmp_path / "broad.csv"
    doses = np.geomspace(0.01, 1000, 9)
    data.write_text("dose_mj_cm2,nrt\n" + "".join(f"{d:.6g},{h:.4f}\n" for d, h in zip(doses, np.linspace(0, 0.9, 9))))
    out = tmp_path / "cal"
    code, text, err = run_cli(capsys, "calibrate", RECIPES / "ebt_cdse_254nm.toml", data,
                           "--fit", "quantum_yield,crosslink_dispersion", "-o", out)
    assert code == 0, err
    assert "warning: crosslinker.quantum_yield = 1 stopped at a bound of its range [0, 1]" in text
    report = json.loads((out / "calibration.json").read_text())
    assert report["at_bound"] == ["crosslinker.quantum_yield"] and "bound" in report["covariance_note"]


# --------------------------------------------------------------------------- every shipped recipe still loads

def test_shipped_recipes_load_with_the_checks():
    for path in sorted(RECIPES.glob("*.toml")):
        recipe = litho.load_recipe(path)
        assert recipe.steps, path
        raw = copy.deepcopy(dict(recipe.raw))
        assert recipe_from_dict(raw, source=str(path), base_dir=path.parent, path=path).steps
