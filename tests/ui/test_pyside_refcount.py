"""PySide6 6.12.0 on CPython 3.11 corrupts the reference counts of None/True/False on
every Signal.emit() and every Python paint() override, and the interpreter aborts after
a few hundred emits. The stress runs in a subprocess so that a regression fails this
test instead of killing the test run (or a classroom)."""

import json
import os
import subprocess
import sys
import textwrap

STRESS = textwrap.dedent("""
    import gc, json, os, sys
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6 import QtCore, QtGui, QtWidgets
    import pyqtgraph as pg

    EMITS, PAINTS = int(sys.argv[1]), int(sys.argv[2])
    app = QtWidgets.QApplication([])

    def counts():
        gc.collect()
        return [sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)]

    class Emitter(QtCore.QObject):
        value = QtCore.Signal(object)
        flag = QtCore.Signal(bool)

    emitter = Emitter()
    received = [0, 0]

    def on_value(v):
        received[0] += 1

    emitter.value.connect(lambda v: on_value(v))
    emitter.flag.connect(lambda b: received.__setitem__(1, received[1] + 1))

    class Marker(QtWidgets.QGraphicsObject):
        # a Python paint() override inside the plot
        painted = 0

        def boundingRect(self):
            return QtCore.QRectF(0, 0, 1, 1)

        def paint(self, painter, option, widget=None):
            Marker.painted += 1
            painter.setPen(pg.mkPen("y"))
            painter.drawRect(self.boundingRect())
            return None

    plot = pg.PlotWidget()
    plot.resize(160, 120)
    plot.plot([0, 1, 2, 3], [0, 1, 0, 1])  # pyqtgraph's own Python paint()
    marker = Marker()
    plot.addItem(marker)
    plot.show()
    app.processEvents()

    start = counts()
    payloads = (None, True, False)
    for i in range(EMITS):
        emitter.value.emit(payloads[i % 3])
        emitter.flag.emit(i % 2 == 0)
    app.processEvents()
    after_emits = counts()

    painted_before = Marker.painted
    for i in range(PAINTS):
        plot.viewport().repaint()
    app.processEvents()
    after_paints = counts()

    print("RESULT=" + json.dumps({
        "received": received, "painted": Marker.painted - painted_before,
        "start": start, "after_emits": after_emits, "after_paints": after_paints}))
    sys.stdout.flush()
""")

EMITS = 20_000
PAINTS = 2_000
TOLERANCE = 200  # natural drift; corruption loses at least one per emit or paint


def test_installed_pyside6_is_not_the_broken_release():
    import PySide6

    if sys.version_info[:2] == (3, 11):
        assert not PySide6.__version__.startswith("6.12.0"), (
            f"PySide6 {PySide6.__version__} corrupts refcounts on CPython 3.11; "
            "pin PySide6 < 6.12 there")


def test_signals_and_paints_keep_refcounts_of_singletons():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", STRESS, str(EMITS), str(PAINTS)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, (
        f"the stress process died with status {result.returncode} "
        f"(a negative status is a signal, e.g. SIGABRT)\n{result.stderr[-3000:]}")
    lines = [line for line in result.stdout.splitlines() if line.startswith("RESULT=")]
    assert lines, result.stdout + result.stderr
    data = json.loads(lines[-1][len("RESULT="):])
    assert data["received"] == [EMITS, EMITS]
    assert data["painted"] >= PAINTS
    for label, stage in (("emits", "after_emits"), ("paints", "after_paints")):
        for name, before, after in zip(("None", "True", "False"), data["start"], data[stage]):
            assert after >= before - TOLERANCE, (
                f"sys.getrefcount({name}) fell from {before} to {after} over the {label}")
