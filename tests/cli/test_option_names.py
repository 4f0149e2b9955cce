"""One meaning per option name: --subpixel-gap-um (mask, min-feature) vs --gap-um (aerial)."""

from __future__ import annotations

import gdstk

from litho.cli import main


def test_mask_takes_subpixel_gap_um_and_notes_the_old_name(tmp_path, capsys):
    new, old = tmp_path / "new.gds", tmp_path / "old.gds"
    assert main(["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2",
                 "--no-marks", "-o", str(new)]) == 0
    assert "note" not in capsys.readouterr().err
    assert main(["mask", "stripe", "--ppi", "1000", "--gap-um", "2", "--columns", "2", "--rows", "2",
                 "--no-marks", "-o", str(old)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--gap-um is now --subpixel-gap-um" in err[0]
    assert new.read_bytes() == old.read_bytes()


def test_mask_refuses_a_database_unit_that_cannot_draw_the_vernier(tmp_path, capsys):
    out = tmp_path / "m.gds"
    assert main(["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2",
                 "--db-unit-um", "1", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "0.2 um step" in err[0] and not out.exists()
    # without marks the coarse unit is fine, and 0.1 um still draws the 0.2 um step
    assert main(["mask", "stripe", "--ppi", "1000", "--subpixel-gap-um", "2", "--columns", "2", "--rows", "2",
                 "--db-unit-um", "0.1", "-o", str(out)]) == 0
    assert gdstk.read_rawcells(str(out))


def test_min_feature_help_names_the_subpixel_gap(capsys):
    try:
        main(["min-feature", "--help"])
    except SystemExit:
        pass
    assert "--subpixel-gap-um" in capsys.readouterr().out
