"""The worksheet as a PDF, printed by Qt (QPdfWriter: no extra dependency): the
student's name and the date, every question with the answer given, the value measured
and the verdict, then pictures of the scopes and the analysis as recorded."""

from datetime import date

from PySide6.QtCore import QMarginsF, QRectF, Qt
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter, QPdfWriter

from rig.errors import VrigError
from rig.teaching.worksheet import worksheet

DPI = 150


def write_pdf(path, student, lessons, progress, pictures=()):
    """Write the worksheet to path; pictures: (caption, QPixmap) of the traces.
    Raises VrigError if the file cannot be written."""
    writer = QPdfWriter(str(path))
    writer.setResolution(DPI)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.A4), QPageLayout.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Millimeter))
    writer.setTitle(f"vRig worksheet - {student}")
    painter = QPainter()
    if not painter.begin(writer):
        raise VrigError(f"cannot write the worksheet to {path}; choose another folder")
    try:
        _draw(painter, writer, student, worksheet(lessons, progress), pictures)
    finally:
        painter.end()


def _draw(painter, writer, student, entries, pictures):
    page = painter.viewport()
    width, height = page.width(), page.height()
    y = 0.0

    def text(line, size=10, bold=False, indent=0.0):
        nonlocal y
        font = QFont("Sans Serif", size)
        font.setBold(bold)
        painter.setFont(font)
        box = QRectF(indent, y, width - indent, height)
        bound = painter.boundingRect(box, Qt.TextWordWrap, line)
        if y + bound.height() > height:
            writer.newPage()
            y = 0.0
            box = QRectF(indent, y, width - indent, height)
            bound = painter.boundingRect(box, Qt.TextWordWrap, line)
        painter.drawText(box, Qt.TextWordWrap, line)
        y += bound.height() + 0.15 * DPI / 6

    text("vRig worksheet", 18, bold=True)
    text(f"Student: {student or '(no name)'}        Date: {date.today().isoformat()}", 11)
    y += DPI / 6
    lesson = None
    if not entries:
        text("No lesson answered yet.")
    for entry in entries:
        if entry.lesson != lesson:
            lesson = entry.lesson
            y += DPI / 10
            text(lesson, 13, bold=True)
        verdict = {True: "correct", False: "not correct", None: "not answered"}[entry.correct]
        text(f"{entry.step}: {entry.prompt}", 10, bold=True, indent=DPI / 6)
        measured = "" if entry.measured is None else (
            f"    measured: {entry.measured:.4g} {entry.unit}".rstrip())
        given = f"{entry.given} {entry.unit}".strip() if entry.given else "-"
        text(f"answer: {given}{measured}    ({verdict})", 10, indent=DPI / 3)
    for caption, pixmap in pictures:
        if pixmap is None or pixmap.isNull():
            continue
        writer.newPage()
        y = 0.0
        text(caption, 13, bold=True)
        scale = min(width / pixmap.width(), (height - y) / pixmap.height())
        target = QRectF(0, y, pixmap.width() * scale, pixmap.height() * scale)
        painter.drawPixmap(target, pixmap, QRectF(pixmap.rect()))
