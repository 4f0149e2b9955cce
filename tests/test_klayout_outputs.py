"""predicted.gds and predicted.lyp as KLayout reads them (klayout's Python package)."""

from __future__ import annotations

import pytest
import shapely

klayout_db = pytest.importorskip("klayout.db")

import litho  # noqa: E402
from litho.gds import write_annotated_polygons  # noqa: E402
from litho.report import PROVENANCE_LAYER  # noqa: E402


@pytest.fixture(scope="module")
def run_dir():
    from report_runs import run

    return run("one step")


def _read(path):
    layout = klayout_db.Layout()
    layout.read(str(path))
    return layout


def _polygons(layout, layer):
    """The polygons of ``layer`` (KLayout reads a rectangular boundary as a box)."""
    return [s.polygon for s in _shapes(layout, layer) if s.is_polygon() or s.is_box()]


def _shapes(layout, layer):
    index = layout.find_layer(*layer)
    assert index is not None, f"layer {layer} missing"
    return list(layout.top_cell().shapes(index).each())


def test_one_gds_polygon_per_printed_island_and_per_designed_pixel(run_dir):
    out, result = run_dir
    layout = _read(out / "predicted.gds")
    printed = _polygons(layout, (101, 0))
    design = _polygons(layout, (1, 0))
    assert len(printed) == len(result.steps[0].metrology.printed) == 4
    assert len(design) == 4
    # the areas KLayout reads are the areas litho measured (dbu 1 nm)
    area_um2 = sum(p.area() for p in printed) * layout.dbu ** 2
    assert area_um2 == pytest.approx(sum(p.area for p in result.steps[0].metrology.printed), rel=1e-4)


def test_xor_layers_hold_the_print_outside_and_the_design_not_printed(run_dir):
    out, result = run_dir
    layout = _read(out / "predicted.gds")
    step = result.steps[0]
    printed = shapely.union_all(step.metrology.printed)
    design = shapely.union_all(step.design)
    for layer, expected in (((201, 1), printed.difference(design).area),
                            ((201, 2), design.difference(printed).area)):
        index = layout.find_layer(*layer)
        region = klayout_db.Region(layout.top_cell().begin_shapes_rec(index))
        assert region.area() * layout.dbu ** 2 == pytest.approx(expected, rel=1e-3, abs=1e-3)
    # this print is smaller than its pixels: the design-minus-print of each pixel is a ring
    deficit = klayout_db.Region(layout.top_cell().begin_shapes_rec(layout.find_layer(201, 2))).merged()
    assert deficit.count() == 4 and all(p.holes() == 1 for p in deficit.each())


def test_layer_names_and_provenance_are_text_labels(run_dir):
    out, result = run_dir
    layout = _read(out / "predicted.gds")
    texts = {s.text.string for s in _shapes(layout, (101, 0)) if s.is_text()}
    assert texts == {f"{result.steps[0].name} printed"}
    provenance = [s.text.string for s in _shapes(layout, PROVENANCE_LAYER) if s.is_text()]
    assert provenance == [f"small contact print | litho {litho.__version__}"]


def test_polygon_with_holes_and_many_vertices_stays_one_polygon(tmp_path):
    frame = shapely.box(0, 0, 10, 10).difference(shapely.box(2, 2, 4, 4)).difference(shapely.box(6, 6, 8, 8))
    disc = shapely.Point(30, 30).buffer(5, quad_segs=300)  # 1200 vertices: gdstk's default splits at 199
    path = write_annotated_polygons(tmp_path / "p.gds", {(101, 0): [frame, disc]}, "TOP")
    layout = _read(path)
    polygons = _polygons(layout, (101, 0))
    assert len(polygons) == 2
    merged = klayout_db.Region(layout.top_cell().begin_shapes_rec(layout.find_layer(101, 0))).merged()
    assert sorted(p.holes() for p in merged.each()) == [0, 2]
    assert merged.area() * layout.dbu ** 2 == pytest.approx(frame.area + disc.area, rel=1e-5)


def test_lyp_parses_and_colours_each_layer_by_its_step(run_dir):
    out, _ = run_dir
    lay = pytest.importorskip("klayout.lay")
    view = lay.LayoutView()
    view.load_layout(str(out / "predicted.gds"))
    view.load_layer_props(str(out / "predicted.lyp"))
    nodes = {}
    it = view.begin_layers()
    while not it.at_end():
        node = it.current()
        nodes[node.source] = node
        it.next()
    assert {"1/0@1", "101/0@1", "201/1@1", "201/2@1", "100/0@1"} <= set(nodes)
    red = 0xffe8000b
    assert nodes["1/0@1"].fill_color == red and nodes["101/0@1"].fill_color == red
    assert "printed" in nodes["101/0@1"].name


def test_rgb_layers_take_their_colours():
    import xml.etree.ElementTree as ET
    from types import SimpleNamespace

    from litho.report import layer_properties_xml

    steps = [SimpleNamespace(name=n, layer=(k + 1, 0)) for k, n in enumerate("RGB")]
    fake = SimpleNamespace(steps=steps)
    root = ET.fromstring(layer_properties_xml(fake))
    colour = {p.findtext("source"): p.findtext("fill-color") for p in root}
    assert colour["1/0@1"] == colour["101/0@1"] == "#e8000b"
    assert colour["2/0@1"] == "#1ac938" and colour["103/0@1"] == "#023eff"
