"""``vrig screenshot``: render the rig window to a PNG after it has run for a while.

Runs offscreen unless QT_QPA_PLATFORM says otherwise (e.g. xcb under Xvfb), with
temporary settings so the user's saved layout is neither used nor changed. The output
is checked before anything runs and written completely or not at all; Qt's one known
harmless offscreen warning is not printed.
"""

import argparse
import os
import sys
import tempfile
from dataclasses import replace

from rig import units
from rig.clamp import Mode
from rig.errors import VrigError
from rig.files.output_files import atomic_output, check_target
from rig.resources import printable
from rig.session.session import HOLDING_RANGES
from ui.window.window_options import WindowOptions, check_theme

TABS = ("scopes", "protocol", "analysis", "axon")  # the window's centre tabs (axon: fibres)
STIMULUS_AT_S = 0.5  # a fibre is stimulated once this far into the run (or at its end)
HARMLESS_QT_MESSAGES = ("This plugin does not support propagateSizeHints()",)
MAX_SECONDS = 600.0  # of simulation before the picture
HOLDING_PA_LIMIT = HOLDING_RANGES[Mode.CC][1]  # the CC holding knob's range, +/- pA


def _qt_messages(_kind, _context, message):
    """Qt's messages go to stderr as usual, except the known harmless ones."""
    if message not in HARMLESS_QT_MESSAGES:
        print(message, file=sys.stderr)


def parse_size(text):
    """'1280x800' -> (1280, 800), with a clear error otherwise."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise VrigError(f"--size must look like 1280x800, got {text!r}") from None
    if not (320 <= width <= 7680 and 240 <= height <= 4320):
        raise VrigError(f"--size {text} is outside 320x240 to 7680x4320")
    return width, height


def render(out, protocol=None, seconds=2.0, size=(1280, 800), holding_pa=None, traces=(),
           look=("dark", False), bath=None, tab=None, cell=None):
    """Run the window for `seconds` (s) and save it as a PNG at `out`.

    protocol: a shipped protocol's name or a .json path, run episodically;
    holding_pa: CC holding current in pA (e.g. 120 to show repetitive firing);
    traces: optional traces to tick (e.g. ['INa', 'IK']);
    look: (theme name, large text) as `vrig --theme NAME --large-text`;
    bath: 'show' or 'hide' the Bath & drugs dock (None: as the window's size decides);
    tab: the centre tab shown in the picture (one of TABS; default axon for a fibre,
    else scopes); cell: a cell preset's name (default: hh-squid); a fibre is
    stimulated once (in VC when the headstage cannot give the CC pulse it needs).
    """
    from rig.protocols.protocol import load_protocol

    if not str(out).lower().endswith(".png"):
        raise VrigError(f"screenshot must be a .png file, got {printable(out)[:120]}")
    check_target(out)
    if not 0 <= seconds <= MAX_SECONDS:
        raise VrigError(f"--seconds must be 0 to {MAX_SECONDS:g}, got {seconds:g}")
    if tab is not None and tab not in TABS:
        raise VrigError(f"--tab must be one of {', '.join(TABS)}, got {printable(tab)[:40]}")
    loaded = load_protocol(protocol) if protocol else None
    options = WindowOptions.from_args(argparse.Namespace(cell=cell or "hh-squid"))
    options = replace(options, theme=check_theme(look[0]), large_text=bool(look[1]))
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer, qInstallMessageHandler

    from ui.app import make_app
    from ui.window.main_window import MainWindow

    previous = qInstallMessageHandler(_qt_messages)
    try:
        app = make_app()
        with tempfile.TemporaryDirectory() as folder:
            settings = QSettings(os.path.join(folder, "shot.ini"), QSettings.IniFormat)
            window = MainWindow(settings=settings, options=options)
            try:
                window.resize(*size)
                window.show()
                # as a real first start: lesson 1 sets the rig, unless the picture
                # asks for a cell, a protocol or a holding of its own
                window.teaching.at_first_start(cell_chosen=any(
                    choice is not None for choice in (cell, protocol, holding_pa)))
                if bath is not None:
                    window.bath.setVisible(bath == "show")
                unknown = [name for name in traces
                           if name not in window.scopes.optional_traces()]
                if unknown:
                    raise VrigError(f"unknown trace {unknown[0]!r} for --traces; this cell "
                                    "has " + ", ".join(window.scopes.optional_traces()))
                window.scopes.set_visible_traces(list(traces))
                if holding_pa is not None:
                    window.set_mode("CC")
                    window.set_holding("CC", holding_pa)
                fibre = window.session.electrodes is not None
                tab = tab or ("axon" if fibre else "scopes")
                if tab == "axon" and not fibre:
                    raise VrigError("--tab axon needs a fibre: give --cell squid-axon, "
                                    "thin-fibre or myelinated-axon")
                if loaded is not None:
                    window.protocols.load_shipped(protocol)
                    window.run_protocol(loaded)
                else:
                    window.start()
                if fibre and loaded is None:
                    window.axon.prepare_stimulus(window)
                loop = QEventLoop()
                if fibre and loaded is None:
                    QTimer.singleShot(int(units.s_to_ms(min(STIMULUS_AT_S, seconds))),
                                      window.panel.stimulus.fire)
                QTimer.singleShot(int(units.s_to_ms(seconds)), loop.quit)
                loop.exec()
                window.tabs.setCurrentWidget({"scopes": window.scopes,
                                              "protocol": window.protocols,
                                              "analysis": window.analysis,
                                              "axon": window.axon}[tab])
                app.processEvents()
                picture = window.grab()
                with atomic_output(out) as temp:
                    if not picture.save(str(temp), "PNG"):
                        raise VrigError(f"cannot write {printable(out)}")
            finally:
                window.close()
                app.processEvents()
    finally:
        qInstallMessageHandler(previous)
    return out
