import json

import pytest

import litho
from litho.cli import main
from litho.errors import LithoInputError
from litho.parallel import map_tasks
from litho.sweep import exposure_latitude, parse_vary, point_recipe, sweep


def test_parse_vary_linear_and_list():
    axis = parse_vary("exposure.dose=10:30:3")
    assert axis.name == "exposure.dose_mj_cm2" and axis.values == (10.0, 20.0, 30.0)
    assert parse_vary("exposure.gap=1, 3,10").values == (1.0, 3.0, 10.0)


@pytest.mark.parametrize("text, message", [
    ("dose=1:2:3", "section.key"),
    ("mask.layer=1,2", "section"),
    ("exposure.dose=a:b:3", "numbers"),
    ("exposure.dose", "KEY=a:b:n"),
])
def test_parse_vary_rejects_bad_axes(text, message):
    with pytest.raises(LithoInputError, match=message):
        parse_vary(text)


def test_point_recipe_replaces_every_spelling_in_every_step(write_recipe, small_recipe_text):
    text = small_recipe_text + '\n[[step]]\nname = "R"\n[step.mask]\nlayer = "R"\n' \
        '\n[[step]]\nname = "G"\n[step.mask]\nlayer = "G"\n[step.exposure]\ndose = "40 mJ/cm^2"\n'
    recipe = litho.load_recipe(write_recipe(text))
    varied = point_recipe(recipe, [parse_vary("exposure.dose=55")], (55.0,))
    assert [s.exposure.dose_mj_cm2 for s in varied.steps] == [55.0, 55.0]


def test_sweep_dose_moves_cd_monotonically_and_gives_a_latitude(write_recipe):
    recipe = litho.load_recipe(write_recipe())
    result = sweep(recipe, [parse_vary("exposure.dose=2:40:4")], scheduler="sync")
    rows = result["rows"]
    assert [r["exposure.dose_mj_cm2"] for r in rows] == pytest.approx([2, 14.667, 27.333, 40], rel=1e-3)
    cds = [r["cd_x_error_mean_um"] for r in rows if r["cd_x_error_mean_um"] is not None]
    assert cds == sorted(cds)
    latitude = result["exposure_latitude"][0]
    assert latitude["exposure_latitude_pct"] is not None


def test_threads_and_a_dask_cluster_give_the_same_answer_as_one_by_one(write_recipe):
    distributed = pytest.importorskip("distributed")
    recipe = litho.load_recipe(write_recipe())
    axes = [parse_vary("exposure.dose=10,30")]
    serial = sweep(recipe, axes, scheduler="sync")["rows"]
    threaded = sweep(recipe, axes)["rows"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        clustered = sweep(recipe, axes, scheduler=cluster.scheduler_address)["rows"]
    assert serial == threaded == clustered


def _same_rows(a: list[dict], b: list[dict], tol: float = 1e-9) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for key in x:
            if isinstance(x[key], float) and isinstance(y[key], float):
                assert x[key] == pytest.approx(y[key], rel=tol, abs=tol), key
            else:
                assert x[key] == y[key], key


def test_shared_sweep_equals_independent_simulations(write_recipe, small_recipe_text):
    """Dose and developer time share one image per optics group; film thickness starts a new group."""
    text = small_recipe_text + '\n[[step]]\nname = "R"\n[step.mask]\nlayer = "R"\n' \
        '\n[[step]]\nname = "G"\n[step.mask]\nlayer = "G"\n[step.exposure]\ndose = "40 mJ/cm^2"\n'
    recipe = litho.load_recipe(write_recipe(text))
    axes = [parse_vary("exposure.dose=8,20,40"), parse_vary("developer.time=5,60"),
            parse_vary("film.thickness=25,35")]
    shared = sweep(recipe, axes, scheduler="sync")["rows"]
    alone = sweep(recipe, axes, scheduler="sync", share=False)["rows"]
    assert len(shared) == 3 * 2 * 2 * 2
    _same_rows(shared, alone)
    assert len({r["iou_mean"] for r in shared}) > 4          # the points really differ


def test_sweep_groups_points_by_their_optics():
    from litho.sweep import chemistry_only

    assert chemistry_only(parse_vary("exposure.dose=1,2"))
    assert chemistry_only(parse_vary("exposure.dose_mj_cm2=1,2"))
    assert chemistry_only(parse_vary("developer.time=1,2"))
    assert not chemistry_only(parse_vary("exposure.gap=1,2"))
    assert not chemistry_only(parse_vary("exposure.dosimetry=1,2"))
    assert not chemistry_only(parse_vary("film.thickness=1,2"))


def test_map_tasks_refuses_an_unknown_scheduler():
    with pytest.raises(LithoInputError, match="scheduler"):
        map_tasks(abs, [1], scheduler="http://nowhere")


def test_latitude_is_the_contiguous_in_spec_dose_range():
    rows = [{"step": "R", "d": d, "in_spec": ok, "iou_mean": iou}
            for d, ok, iou in [(1, False, .5), (2, True, .9), (3, True, .95), (4, True, .9), (5, False, .6)]]
    [entry] = exposure_latitude(rows, "d", [])
    assert (entry["dose_min_mj_cm2"], entry["dose_max_mj_cm2"]) == (2, 4)
    assert entry["exposure_latitude_pct"] == pytest.approx(100 * 2 / 3)
    assert entry["limited_by_sweep"] is False


def test_sweep_command_writes_table_json_and_plot(tmp_path, write_recipe, capsys):
    out = tmp_path / "sw"
    code = main(["sweep", str(write_recipe()), "--vary", "exposure.dose=10,30", "--vary", "film.thickness=25,35",
                 "--scheduler", "sync", "-o", str(out)])
    assert code == 0
    assert "exposure latitude" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir() if p.name != ".litho-output") == ["sweep.csv", "sweep.json", "sweep.png"]
    data = json.loads((out / "sweep.json").read_text())
    assert len(data["rows"]) == 4
    assert (out / "sweep.csv").read_text().splitlines()[0].startswith("exposure.dose_mj_cm2,film.thickness_nm,step")


@pytest.mark.parametrize("argv, named", [
    ([], "--vary"),
    (["--vary", "exposure.dose=-5"], "dose"),
    (["--vary", "film.thickness=x"], "numbers"),
])
def test_sweep_bad_input_is_one_line_and_writes_nothing(tmp_path, write_recipe, capsys, argv, named):
    out = tmp_path / "sw"
    try:
        code = main(["sweep", str(write_recipe()), "-o", str(out), *argv])
    except SystemExit as stop:      # an option's own validator refuses through argparse
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and named in err[0]
    assert not out.exists()


def test_proximity_transfer_cache_evicts_whole_gaps():
    import numpy as np

    from litho.optics.proximity import GapTransferCache

    cache = GapTransferCache(max_sets=2, max_bytes=10 * 800)
    h = np.zeros(100)                       # 800 bytes
    for gap in (1.0, 2.0):
        for direction in range(4):
            cache.put(("gap", gap), direction, h)
    assert len(cache) == 2 and cache.get(("gap", 1.0), 3) is not None
    cache.put(("gap", 3.0), 0, h)           # a third gap evicts the least recently used one, whole
    assert cache.get(("gap", 2.0), 0) is None and cache.get(("gap", 1.0), 0) is not None
    assert cache.evicted_sets == 1


def test_proximity_transfer_cache_keeps_the_two_sets_in_use_when_they_fill_the_budget():
    """An image fills its gap's and its film's set direction by direction: past the budget it keeps
    what both hold and computes the rest, instead of evicting one whole set for the other."""
    import numpy as np

    from litho.optics.proximity import GapTransferCache

    cache = GapTransferCache(max_sets=6, max_bytes=10 * 800)
    h = np.zeros(100)                       # 800 bytes: the budget holds 10
    for direction in range(8):
        cache.put(("gap", 3.0), direction, h)
        cache.put(("film", 1.8), direction, h)
    assert cache.nbytes <= cache.max_bytes and cache.evicted_sets == 0
    assert all(cache.get(key, d) is not None for key in (("gap", 3.0), ("film", 1.8)) for d in range(5))
    # an older set makes room for the ones in use
    cache.clear()
    cache.put(("gap", 1.0), 0, h)
    for direction in range(5):
        cache.put(("gap", 3.0), direction, h)
        cache.put(("film", 1.8), direction, h)
    assert cache.get(("gap", 1.0), 0) is None and cache.evicted_sets == 1
    assert cache.get(("gap", 3.0), 4) is not None and cache.get(("film", 1.8), 4) is not None


class _Terminal:
    """A stderr stand-in that says it is a terminal and keeps what is written."""

    def __init__(self):
        self.text = ""

    def isatty(self):
        return True

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_bar_only_on_a_terminal_outside_ci_and_without_quiet(monkeypatch):
    import io
    import sys

    from litho import progress

    monkeypatch.delenv("CI", raising=False)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    assert progress.progress_enabled() and not progress.progress_enabled(quiet=True)
    with progress.Progress(3, "points") as bar:
        for _ in range(3):
            bar.update()
    assert "/3" in terminal.text and "points" in terminal.text and bar.done == 3
    monkeypatch.setenv("CI", "true")
    assert not progress.progress_enabled()
    monkeypatch.delenv("CI")
    assert not progress.progress_enabled(stream=io.StringIO())   # a pipe or a log file: no bar


def test_sweep_command_quiet_and_piped_stderr_stay_free_of_bars(tmp_path, write_recipe, capsys, monkeypatch):
    from litho import progress

    monkeypatch.setattr(progress, "DELAY_S", 0.0)
    monkeypatch.delenv("CI", raising=False)
    recipe = write_recipe()
    for extra in (["--quiet"], []):   # capsys's stderr is not a terminal
        assert main(["sweep", str(recipe), "--vary", "exposure.dose=10,30", "-o", str(tmp_path / "o"),
                     *extra]) == 0
        assert capsys.readouterr().err == ""
