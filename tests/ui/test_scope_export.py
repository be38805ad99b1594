"""Export of the scopes: a PNG at print resolution, an SVG that parses, a vector PDF of
the requested size; dark on white for print; the screen look is restored after."""

import os
import re
import xml.etree.ElementTree as ET

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtGui import QColor, QImage

from rig.errors import VrigError
from tests.ui.test_scope_area import NAMES, synthetic_recording
from ui.look import theme
from ui.scopes.scope_area import ScopeArea

MM_PER_INCH = 25.4


@pytest.fixture
def area(qtbot, qapp):
    theme.apply(qapp)
    widget = ScopeArea(NAMES, "CC")
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    widget.show_recording(synthetic_recording("cc-paired-pulse"))
    return widget


def test_png_is_300_dpi_and_a4_text_wide_dark_on_white(area, tmp_path):
    path = area.export(tmp_path / "scopes.png")
    image = QImage(str(path))
    width_px = round(180 / MM_PER_INCH * 300)  # 180 mm at 300 dpi: 2126 px
    assert image.width() == width_px
    stack = area.scope.ci
    aspect = stack.boundingRect().height() / stack.boundingRect().width()
    assert image.height() == pytest.approx(width_px * aspect, abs=1)
    assert image.dotsPerMeterX() == round(300 / MM_PER_INCH * 1000)  # 11811 dots/m
    assert QColor(image.pixel(2, 2)).name() == theme.PRINT_BACKGROUND
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    # every sweep's colour is drawn (the traces, and the legend's swatches)
    sweep_colors = {c.name() for c in theme.sweep_colors(10)}
    drawn = {QColor(image.pixel(x, y)).name() for x in range(0, image.width(), 3)
             for y in range(0, image.height(), 3)}
    assert sweep_colors <= drawn


def test_screen_style_keeps_the_dark_background(area, tmp_path):
    path = area.export(tmp_path / "screen.png", style="screen", dpi=150, width_mm=100)
    image = QImage(str(path))
    assert image.width() == round(100 / MM_PER_INCH * 150)
    assert QColor(image.pixel(2, 2)).name() == theme.BACKGROUND


def test_svg_parses_and_holds_the_traces(area, tmp_path):
    path = area.export(tmp_path / "scopes.svg")
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    paths = [e for e in root.iter() if e.tag.endswith(("path", "polyline"))]
    assert len(paths) >= 30  # 10 sweeps in each of three plots, plus axes
    text = path.read_text(encoding="utf-8")
    assert theme.sweep_colors(10)[2].name() in text.lower()
    assert "interval 8 ms" in text  # the legend


def test_pdf_is_a_vector_page_of_the_figure_size(area, tmp_path):
    path = area.export(tmp_path / "scopes.pdf", width_mm=180)
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert box is not None
    assert float(box.group(1)) == pytest.approx(180 / MM_PER_INCH * 72, abs=1.0)  # 510 pt
    assert b"/Subtype /Image" not in data  # the traces are paths, not a bitmap


def test_export_restores_the_screen_look(area, tmp_path):
    stack = area.scope
    curve = stack.sweep_curves["Vm"][0]
    before = (curve.opts["pen"].color().name(), curve.opts["pen"].widthF())
    axis = stack.plots["Vm"].getAxis("left")
    axis_before = axis.pen().color().name()
    area.export(tmp_path / "a.png")
    assert (curve.opts["pen"].color().name(), curve.opts["pen"].widthF()) == before
    assert axis.pen().color().name() == axis_before
    assert stack.ci.layout.columnCount() == 1  # the figure's legend column is gone


@pytest.mark.parametrize("name, message", [("scopes.jpg", "extension"),
                                           ("missing/scopes.png", "does not exist")])
def test_bad_export_paths_say_what_to_do(area, tmp_path, name, message):
    with pytest.raises(VrigError, match=message):
        area.export(tmp_path / name)


def _fifo(folder):
    os.mkfifo(folder / "pipe.png")
    return folder / "pipe.png"


def _read_only(folder):
    (folder / "old.pdf").write_bytes(b"an earlier figure")
    (folder / "old.pdf").chmod(0o444)
    return folder / "old.pdf"


def _under_a_file(folder):
    (folder / "notes.txt").write_text("x")
    return folder / "notes.txt" / "scopes.svg"


@pytest.mark.parametrize("make, message", [(_fifo, "not a regular file"),
                                           (_read_only, "read-only"),
                                           (_under_a_file, "is a file, not a folder")])
def test_an_export_target_that_must_not_be_written_is_refused_before_drawing(
        area, tmp_path, make, message):
    """A FIFO would block the window (it used to), a read-only figure is not replaced."""
    target = make(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(VrigError, match=message):
        area.export(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    if target.name == "old.pdf":
        assert target.read_bytes() == b"an earlier figure"


@pytest.mark.parametrize("name", ["a.png", "a.pdf", "a.svg"])
def test_a_failed_export_leaves_the_earlier_figure_and_no_temporary_file(area, tmp_path,
                                                                        monkeypatch, name):
    from ui.scopes import scope_export

    target = tmp_path / name
    target.write_bytes(b"an earlier figure")

    def fail(*args):  # a full disk half way through the figure
        args[1].write_bytes(b"half a fig")
        raise VrigError(f"cannot write {args[1]}")

    monkeypatch.setattr(scope_export, f"_{name[2:]}", fail)
    with pytest.raises(VrigError, match=f"cannot write {target}$"):
        area.export(target)
    assert target.read_bytes() == b"an earlier figure"
    assert [p.name for p in tmp_path.iterdir()] == [name]
