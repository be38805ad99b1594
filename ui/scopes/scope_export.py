"""Export the scopes as a figure: PNG at print resolution, SVG or PDF (vector).

The stack is drawn as it is laid out on screen, scaled to the figure's width (180 mm,
the text width of an A4 page, by default). Style 'print' draws it dark on white for a
handout or a report: the axes in PRINT_FOREGROUND and every trace in a colour that
keeps a contrast of at least 3:1 on white; style 'screen' keeps the dark scope look.
Lines are drawn wider than on screen (a 1 px line at 300 dpi is 0.08 mm). With an
overlay on screen, the figure carries the sweep legend in a column at its right.

All three are painted through QPainter: QPdfWriter and QSvgGenerator keep every path a
vector. The SVG's curves are then mapped to figure coordinates (:func:`flatten_transforms`).
pyqtgraph's own SVGExporter is not used: it takes 10-50 s for a family of sweeps (it
maps every point in Python, freezing the window) and, in 0.14 with Qt 6, fails on the
closed clip path of every plot (pyqtgraph issue #3495).
"""

import re
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRectF, QSize, QSizeF
from PySide6.QtGui import QColor, QImage, QPageSize, QPainter, QPdfWriter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem

from rig.errors import VrigError
from rig.files.output_files import atomic_output, check_target
from ui.look import theme

FORMATS = (".png", ".svg", ".pdf")
STYLES = ("print", "screen")
MM_PER_INCH = 25.4
LINE_MM = 0.25  # drawn width of a 1 px screen line in the figure
PRINT_CONTRAST = 3.0


def export_scopes(stack, path, legend=(), style="print", dpi=300, width_mm=180.0):
    """Write the :class:`ui.scopes.scope.ScopeStack` to path (.png, .svg or .pdf).

    legend: [(QColor, text)] of the sweeps, drawn at the right (empty: none);
    style: 'print' (dark on white) or 'screen'; dpi: PNG and PDF resolution in dots
    per inch; width_mm: the figure's width in mm. Raises VrigError when the file
    cannot be written."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise VrigError(f"cannot export {path.name}: the extension must be one of "
                        f"{', '.join(FORMATS)}")
    if style not in STYLES:
        raise VrigError(f"export style must be one of {', '.join(STYLES)}, got {style!r}")
    if not 72 <= dpi <= 2400 or not 20 <= width_mm <= 1000:
        raise VrigError("export resolution must be 72-2400 dpi and the width 20-1000 mm")
    check_target(path)  # a missing folder, a FIFO, a read-only file: said before drawing
    # Vector pages are laid out at the screen's resolution (a PDF or SVG needs none,
    # and the axes' fonts keep their size); a PNG has the requested one.
    device_dpi = dpi if suffix == ".png" else stack.logicalDpiX()
    width_px = round(width_mm / MM_PER_INCH * device_dpi)
    line_px = LINE_MM / MM_PER_INCH * device_dpi
    with _figure_look(stack, style, legend, line_px, clip_data=suffix == ".svg"):
        source = stack.ci.mapRectToScene(stack.ci.boundingRect())
        height_px = round(width_px * source.height() / max(source.width(), 1.0))
        background = QColor(theme.PRINT_BACKGROUND if style == "print"
                            else theme.current().scope_background)
        # written beside the target and renamed over it: complete or not at all
        with atomic_output(path) as temp:
            try:
                if suffix == ".png":
                    _png(stack, temp, source, (width_px, height_px), dpi, background)
                elif suffix == ".pdf":
                    _pdf(stack, temp, source, (width_mm, width_mm * height_px / width_px),
                         background)
                else:
                    _svg(stack, temp, source, (width_px, height_px), background)
            except VrigError as exc:
                raise VrigError(str(exc).replace(str(temp), str(path))) from None
    return path


def _png(stack, path, source, size, dpi, background):
    image = QImage(*size, QImage.Format_ARGB32)
    image.fill(background)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.TextAntialiasing)
        stack.scene().render(painter, QRectF(0, 0, *size), source)
    finally:
        painter.end()
    # Only now: the axes replay QPictures whose fonts would be rescaled to a
    # device of another resolution; the painter's scale already enlarges them.
    dots_per_metre = round(dpi / MM_PER_INCH * 1000)
    image.setDotsPerMeterX(dots_per_metre)
    image.setDotsPerMeterY(dots_per_metre)
    if not image.save(str(path), "PNG"):
        raise VrigError(f"cannot write {path}")


def _pdf(stack, path, source, size_mm, background):
    writer = QPdfWriter(str(path))
    writer.setResolution(stack.logicalDpiX())
    writer.setPageSize(QPageSize(QSizeF(*size_mm), QPageSize.Millimeter))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setTitle("vRig scopes")
    writer.setCreator("vRig")
    painter = QPainter()
    if not painter.begin(writer):
        raise VrigError(f"cannot write {path}")
    try:
        painter.setRenderHint(QPainter.Antialiasing)
        target = QRectF(0, 0, writer.width(), writer.height())
        painter.fillRect(target, background)
        stack.scene().render(painter, target, source)
    finally:
        painter.end()


def _svg(stack, path, source, size, background):
    buffer = QBuffer()
    buffer.open(QIODevice.WriteOnly)
    # SVG Tiny (no clip paths): Qt's SVG 1.1 clips are stale (a cursor is clipped to
    # the other cursor's label), so the traces are clipped to the plots beforehand.
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(*size))
    generator.setViewBox(QRectF(0, 0, *size))
    generator.setResolution(stack.logicalDpiX())
    generator.setTitle("vRig scopes")
    painter = QPainter()
    if not painter.begin(generator):
        raise VrigError(f"cannot write {path}")
    try:
        target = QRectF(0, 0, *size)
        painter.fillRect(target, background)
        stack.scene().render(painter, target, source)
    finally:
        painter.end()
    text = flatten_transforms(bytes(buffer.data()).decode("utf-8"))
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise VrigError(f"cannot write {path}: {exc.strerror or exc}") from None


_GROUP = re.compile(r'(<g [^>]*?)transform="matrix\(([^)]*)\)"([^>]*>)(.*?)(</g>)', re.S)
_POINTS = re.compile(r'( (?:d|points)=")([^"]*)(")')
_PAIR = re.compile(r"(-?[\d.]+(?:e[-+]?\d+)?),(-?[\d.]+(?:e[-+]?\d+)?)")


def flatten_transforms(text):
    """Qt's SVG draws each curve in data units (volts, seconds) under a transform of
    scale ~1e4 and relies on 'non-scaling-stroke' for the line width, which many
    viewers ignore (the strokes then cover the plot). Map those paths' points to
    figure coordinates and drop their transform."""

    def group(match):
        start, matrix, rest, body, end = match.groups()
        if "non-scaling-stroke" not in body or "<text" in body or "<image" in body:
            return match.group(0)
        a, b, c, d, e, f = (float(v) for v in matrix.split(","))
        return start + rest + _POINTS.sub(
            lambda m: m.group(1) + _map_points(m.group(2), (a, b, c, d, e, f)) + m.group(3),
            body) + end

    return _GROUP.sub(group, text)


def _map_points(data, matrix):
    """Apply an SVG matrix (a b c d e f) to every 'x,y' pair of path or polyline data."""
    parts = _PAIR.split(data)
    if len(parts) < 3:
        return data
    x = np.array(parts[1::3], dtype=float)
    y = np.array(parts[2::3], dtype=float)
    a, b, c, d, e, f = matrix
    mapped = [f"{u:.2f},{v:.2f}" for u, v in zip(a * x + c * y + e, b * x + d * y + f)]
    return "".join(command + pair for command, pair in zip(parts[0::3], mapped)) + parts[-1]


@contextmanager
def _figure_look(stack, style, legend, line_px, clip_data=False):
    """Restyle the stack for the figure and put everything back afterwards;
    clip_data: limit each trace to its plot's y range (for a format without clipping)."""
    printing = style == "print"
    ink = QColor(theme.PRINT_FOREGROUND)
    background = theme.PRINT_BACKGROUND if printing else theme.current().scope_background
    saved_pens = []
    saved_labels = []  # the cursors' "1" and "2"
    saved_data = []
    label = None
    try:
        for plot in stack.plots.values():
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                # A cached axis would be pasted in as a screen-resolution bitmap.
                axis.setCacheMode(QGraphicsItem.NoCache)
                if printing:
                    axis.setPen(ink)
                    axis.setTextPen(ink)
            for item in plot.items:
                pen = item.opts.get("pen") if isinstance(item, pg.PlotDataItem) else None
                if isinstance(item, pg.InfiniteLine):
                    pen = item.pen
                if pen is None:
                    continue
                pen = pg.mkPen(pen)
                saved_pens.append((item, pg.mkPen(pen)))
                if isinstance(item, pg.PlotDataItem):
                    # One path per curve: wide pens are otherwise drawn as one line
                    # per sample pair (thousands of SVG elements, joints showing).
                    item.curve.setSegmentedLineMode("off")
                    if clip_data and item.yData is not None and item.isVisible():
                        low, high = plot.getViewBox().viewRange()[1]
                        saved_data.append((item, item.xData, item.yData))
                        item.setData(item.xData, np.clip(item.yData, low, high),
                                     connect=item.opts["connect"])
                color = theme.readable_on(pen.color(), background, PRINT_CONTRAST) \
                    if printing and pen.color().alpha() == 255 else pen.color()
                pen.setColor(color)
                pen.setWidthF(max(pen.widthF(), 1.0) * line_px)
                item.setPen(pen)
                if isinstance(item, pg.InfiniteLine) and item.label is not None:
                    saved_labels.append((item.label, QColor(item.label.color)))
                    item.label.setColor(color)
        if legend:
            legend_ink = ink if printing else theme.current().foreground
            label = pg.LabelItem(_legend_html(legend, legend_ink), justify="left")
            rows = max(1, stack.ci.layout.rowCount())
            stack.ci.addItem(label, row=0, col=1, rowspan=rows)
        stack.ci.layout.activate()
        yield
    finally:
        for item, pen in saved_pens:
            item.setPen(pen)
            if isinstance(item, pg.PlotDataItem):
                item.curve.setSegmentedLineMode(pg.getConfigOption("segmentedLineMode"))
        for text, color in saved_labels:
            text.setColor(color)
        for item, x, y in saved_data:
            item.setData(x, y, connect=item.opts["connect"])
        if label is not None:
            stack.ci.removeItem(label)
        for plot in stack.plots.values():
            for side in ("left", "bottom"):
                axis = plot.getAxis(side)
                axis.setPen()
                axis.setTextPen()
                axis.setCacheMode(QGraphicsItem.DeviceCoordinateCache)
        stack.ci.layout.activate()


def _legend_html(legend, ink):
    ink = QColor(ink).name()
    lines = [f"<span style='color:{ink}'><b>Sweeps</b></span>"]
    lines += [f"<span style='color:{QColor(color).name()}'>&#9644;&#9644;</span> "
              f"<span style='color:{ink}'>{text}</span>" for color, text in legend]
    return "<br>".join(lines)
