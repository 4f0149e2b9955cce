"""One meaning per word on the command line: pixel counts, the vernier's database unit, the contrast
command's recipe-dose NRT against its own curve, and documents cited that ship with litho."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from litho.cli import main
from litho.errors import LithoInputError
from litho.layout import pixel_array

ROOT = Path(__file__).resolve().parents[1]


def _exit_code(argv) -> int:
    """litho's exit code for ``argv`` (a usage error exits through argparse, a LithoInputError returns 2)."""
    try:
        return main(argv)
    except SystemExit as exit_:
        return exit_.code


def test_mask_columns_and_rows_count_pixels(tmp_path, capsys):
    """The issue's case: a delta 8 x 8 at 1500 ppi is about 8 x 16.93 µm on each side (it was 276 x 67 µm)."""
    assert main(["mask", "delta", "--ppi", "1500", "--subpixel-gap-um", "2", "--columns", "8", "--rows", "8",
                 "--no-marks", "--json", "-o", str(tmp_path / "d.gds")]) == 0
    info = json.loads(capsys.readouterr().out)
    x0, y0, x1, y1 = info["array_bounds_um"]
    pitch = 25400 / 1500
    assert abs((x1 - x0) - 8 * pitch) < pitch and abs((y1 - y0) - 8 * pitch) < pitch
    assert (info["columns"], info["rows"]) == (8, 8)


def test_mask_refuses_odd_delta_columns_in_one_line(tmp_path, capsys):
    assert _exit_code(["mask", "delta", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "7", "--rows", "2",
                       "-o", str(tmp_path / "d.gds")]) == 2
    err = capsys.readouterr().err.strip()
    assert "even" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "d.gds").exists()


@pytest.mark.parametrize("db_unit_um", [1.0, 0.003])
def test_a_database_unit_that_cannot_draw_the_vernier_is_refused(db_unit_um, tmp_path, capsys):
    with pytest.raises(LithoInputError, match="0.2 um step"):
        pixel_array("stripe", ppi=1000, gap_um=2, columns=2, rows=2, db_unit_um=db_unit_um)
    assert _exit_code(["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2",
                       "--db-unit-um", f"{db_unit_um:g}", "-o", str(tmp_path / "m.gds")]) == 2
    assert not (tmp_path / "m.gds").exists() and "0.2 um step" in capsys.readouterr().err
    # without marks there is no vernier to keep
    pixel_array("stripe", ppi=1000, gap_um=2, columns=2, rows=2, db_unit_um=db_unit_um, marks=False)


def test_a_database_unit_that_divides_the_step_keeps_the_vernier():
    import gdstk

    lib = pixel_array("stripe", ppi=1000, gap_um=2, columns=2, rows=2, db_unit_um=0.01)
    top = lib.top_level()[0]
    # the colour vernier's bars (on R, 1/0, outside the array) keep their 9.8 µm pitch
    bars = [p for p in top.get_polygons(depth=0, layer=1, datatype=0)
            if abs(p.bounding_box()[1][0] - p.bounding_box()[0][0] - 2.0) < 1e-6]
    xs = sorted({round(0.5 * (p.bounding_box()[0][0] + p.bounding_box()[1][0]), 6) for p in bars})
    steps = np.diff(xs)
    assert isinstance(top, gdstk.Cell) and np.any(np.isclose(steps, 9.8, atol=1e-6))


def test_contrast_recipe_dose_nrt_lies_on_its_own_curve(tmp_path, capsys):
    out = tmp_path / "c"
    assert main(["contrast", str(ROOT / "recipes" / "ebt_cdse_254nm.toml"), "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads((out / "contrast.json").read_text())
    rows = list(csv.DictReader((out / "contrast.csv").read_text().splitlines()))
    doses = np.array([float(r["dose_mj_cm2"]) for r in rows])
    nrt = np.array([float(r["nrt"]) for r in rows])
    dose = summary["recipe_dose_mj_cm2"]
    on_curve = float(np.interp(math.log(dose), np.log(doses), nrt))
    assert summary["nrt_at_recipe_dose"] == pytest.approx(on_curve, abs=0.01)
    shown = float(re.search(r"at the recipe dose .*?: NRT ([0-9.]+)", printed).group(1))
    assert shown == pytest.approx(on_curve, abs=0.01)


def test_sweep_help_documents_a_b_n_as_n_points(capsys):
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert "n linear points" in " ".join(capsys.readouterr().out.split())


def test_recipes_and_mask_notes_cite_only_shipped_documents():
    unshipped = re.compile(r"\b(DOMAIN|PHYSICS|DESIGN)\.md")
    for path in [*sorted((ROOT / "recipes").glob("*.toml")), ROOT / "masks" / "README.md"]:
        assert not unshipped.search(path.read_text()), path.name
    from litho.optics.contact import CONTACT_MODES

    assert not any(unshipped.search(mode.source) for mode in CONTACT_MODES.values())


def test_masks_readme_names_the_summary_label_layer():
    from litho.layout import MARKS, SUMMARY_TEXTTYPE

    text = (ROOT / "masks" / "README.md").read_text()
    assert f"label on {MARKS[0]}/{SUMMARY_TEXTTYPE}" in text


def test_material_sources_cite_only_shipped_documents():
    """``litho materials --show`` prints every parameter's source."""
    import tomllib

    unshipped = re.compile(r"\b(DOMAIN|PHYSICS|DESIGN)\.md")

    def sources(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "source" and isinstance(value, str):
                    yield value
                else:
                    yield from sources(value)
        elif isinstance(node, list):
            for value in node:
                yield from sources(value)

    for path in sorted((ROOT / "src" / "litho" / "materials").glob("*.toml")):
        cited = [s for s in sources(tomllib.loads(path.read_text())) if unshipped.search(s)]
        assert not cited, (path.name, cited[:3])
