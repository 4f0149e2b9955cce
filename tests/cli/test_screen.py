"""``litho screen``: library crosslinkers ranked by PLQY at a target retention."""

import csv
import json
import math

import pytest

from litho import materials
from litho.cli import main
from litho.screen import screen


def test_screen_ranks_the_365nm_chemistries_for_inp_in_air_and_writes_csv_json(tmp_path, capsys):
    out = tmp_path / "s"
    assert main(["screen", "--film", "InP/ZnSe/ZnS", "--wavelength", "365", "--atmosphere", "air",
                 "--target-nrt", "0.8", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "never reach NRT 0.8" in text and "PLQY/PLQY0" in text
    summary = json.loads((out / "screen.json").read_text())
    ranking = summary["ranking"]
    names = [r["crosslinker"] for r in ranking]
    # exactly the library entries with data at 365 nm (EBT has none; the switches NHN-Tf and xanthate do)
    expected = {n for n in materials.names("crosslinker")
                if materials.resolve("crosslinker", {"material": n}).has_absorption(365)}
    assert set(names) == expected and "EBT" not in names and {"NHN-Tf", "xanthate"} <= set(names)
    reached = [r for r in ranking if r["reaches_target"]]
    plqy = [r["plqy_retention"] for r in reached]
    assert plqy == sorted(plqy, reverse=True)
    assert ranking[: len(reached)] == reached            # the ones that never reach come last
    by_name = {r["crosslinker"]: r for r in ranking}
    # DOMAIN.md rules as consequences: three arms need less dose than two; no EDG fails in air
    assert by_name["Tris-TAD"]["dose_mj_cm2"] < by_name["O-TAD"]["dose_mj_cm2"]
    assert not by_name["PFB"]["reaches_target"] and by_name["PFB"]["dose_mj_cm2"] is None
    for r in reached:
        assert r["d0_mj_cm2"] <= r["dose_mj_cm2"] and r["gamma"] > 0
        assert 0 < r["plqy_retention"] <= 1
    rows = list(csv.DictReader((out / "screen.csv").open()))
    assert [r["crosslinker"] for r in rows] == names
    assert (out / "screen.png").stat().st_size > 1000


def test_nitrogen_rescues_the_non_edg_bis_diazirine():
    rows = {r.crosslinker: r for r in screen("InP/ZnSe/ZnS", 365, "N2", target_nrt=0.8)}
    assert rows["PFB"].reaches_target and math.isfinite(rows["PFB"].dose_mj_cm2)


def test_a_higher_target_needs_more_dose():
    low = {r.crosslinker: r for r in screen("CdSe/ZnS", 254, "N2", target_nrt=0.5)}
    high = {r.crosslinker: r for r in screen("CdSe/ZnS", 254, "N2", target_nrt=0.9)}
    for name, row in high.items():
        if row.reaches_target:
            assert low[name].dose_mj_cm2 < row.dose_mj_cm2, name


@pytest.mark.parametrize("args, message", [
    (["--film", "nope", "--wavelength", "365"], "film.material = 'nope' is not a known film"),
    (["--film", "InP/ZnSe/ZnS", "--wavelength", "300"], "no absorption data at 300 nm"),
    (["--film", "InP/ZnSe/ZnS", "--wavelength", "365", "--target-nrt", "1.5"], "--target-nrt"),
    (["--film", "InP/ZnSe/ZnS", "--wavelength", "blue"], "--wavelength"),
    (["--film", "InP/ZnSe/ZnS", "--wavelength", "365", "--atmosphere", "helium"], "'helium' is not an atmosphere"),
    (["--film", "InP/ZnSe/ZnS", "--wavelength", "365", "--developer", "water"], "'water' is not a known developer"),
])
def test_screen_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, args, message):
    out = tmp_path / "s"
    try:
        code = main(["screen", *args, "-o", str(out)])
    except SystemExit as exc:      # refused by the option parser
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
    assert not out.exists()


def test_the_help_example_runs(tmp_path, capsys):
    import shlex

    from litho.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    argv = shlex.split(sub.choices["screen"].epilog.splitlines()[-1].strip())[1:]
    argv[argv.index("-o") + 1] = str(tmp_path / "screen")
    assert main(argv) == 0
    assert (tmp_path / "screen" / "screen.json").is_file()
