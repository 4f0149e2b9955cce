"""``litho materials``."""

from litho import materials
from litho.cli import main


def test_lists_every_material_with_family_arms_and_wavelengths(capsys):
    assert main(["materials"]) == 0
    out = capsys.readouterr().out
    for kind in ("film", "crosslinker", "developer"):
        for name in materials.names(kind):
            assert name in out
    ebt_line = next(line for line in out.splitlines() if line.strip().startswith("EBT "))
    assert "nitrene" in ebt_line and "2, free" in ebt_line and "254, 275" in ebt_line
    assert "1, tethered" in next(line for line in out.splitlines() if line.strip().startswith("TDBA"))


def test_kind_filter_and_show_with_sources(capsys):
    assert main(["materials", "--kind", "developer"]) == 0
    out = capsys.readouterr().out
    assert "toluene" in out and "EBT" not in out
    assert main(["materials", "--show", "Tris-TAD"]) == 0
    out = capsys.readouterr().out
    assert "arms = 3" in out and "Brunner 1980" in out and "epsilon_per_arm_by_wavelength[365 nm]" in out


def test_show_unknown_is_one_line_exit_2(capsys):
    assert main(["materials", "--show", "Unobtainium"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "'Unobtainium' is not a known material" in err and "EBT" in err
