"""Help for a first-time user: the welcome card with three things to try, the quick
guide (F1) and About. The dialogs only describe and ask: each "try this" button calls a
function the window gives them, so they never touch the engine."""

import platform

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

import rig
from ui.look import theme

WELCOME_TEXT = (
    "<h2>Welcome to vRig</h2>"
    "<p>This is a patch-clamp rig. On the left is the amplifier: the mode switch "
    "(<b>VC</b> voltage clamp, <b>I=0</b>, <b>CC</b> current clamp), the holding knob, "
    "the meters and Run/Rec. On the right are the scopes: <span style='color:#ffd54f'>"
    "<b>{vm_colour}</b></span> is the membrane potential Vm, <span style='color:#4dd0e1'>"
    "<b>{im_colour}</b></span> the membrane current Im, <span style='color:#7ee081'><b>"
    "{command_colour}</b></span> the command.</p>"
    "<p>The cell is <b>{cell}</b>: {description}. <b>{holding}</b></p>"
    "<p><b>Three things to try:</b></p>")
TRIES = (
    ("Let it rest, then kick it",
     "Sets the holding current to 0 pA: the cell rests at {rest_mv:.0f} mV. Then press <b>P</b> "
     "(or Pulse) to give it 300 pA for 1 ms: it fires one action potential."),
    ("Find the threshold",
     "Runs the <i>cc-threshold</i> protocol: 1 ms pulses from 20 to 130 pA. Which is "
     "the first that fires? The Analysis tab measures it."),
    ("Block the Na channels",
     "Opens the TTX valve at 300 nM (Bath &amp; drugs): watch the spikes shrink and stop "
     "as the drug reaches the membrane. Wash brings them back."),
)
FIBRE_WELCOME_TEXT = (
    "<h2>Welcome to vRig</h2>"
    "<p>This is a fibre on the rig: the <b>Axon</b> tab shows it to scale with the "
    "amplifier's electrode (<b>Stim</b>) and three recording electrodes you drag along it, "
    "the membrane potential along the fibre in time (the map) and at each electrode (the "
    "scope), and the conduction velocity between two electrodes.</p>"
    "<p>The cell is <b>{cell}</b>: {description}. <b>{holding}</b></p>"
    "<p><b>Three things to try:</b></p>")
FIBRE_TRIES = (
    ("Fire it, watch it travel",
     "One stimulus at Stim (P repeats it): the action potential runs along the fibre, a "
     "slanted stripe on the map; it passes E1, E2 and E3 in turn."),
    ("Measure the velocity",
     "Puts E1 and E2 a third and two thirds along and fires: distance over delay is the "
     "conduction velocity (about 19 m/s in the squid's giant axon)."),
    ("Block a stretch with TTX",
     "1 uM TTX on a stretch between E1 and E2, then a stimulus: the action potential "
     "stops at the block (on a myelinated fibre it may jump a few blocked nodes). "
     "'Wash stretches' takes it off."),
)
PATCH_WELCOME_TEXT = (
    "<h2>Welcome to vRig</h2>"
    "<p>This is a membrane <b>patch</b> on the rig: a few channels, each opening and closing "
    "at random. In voltage clamp the current (<span style='color:#4dd0e1'><b>{im_colour}"
    "</b></span>) steps between whole multiples of one channel's current; the PATCH group "
    "on the amplifier sets the configuration and the number of channels.</p>"
    "<p>The cell is <b>{cell}</b>: {description}. <b>{holding}</b></p>"
    "<p><b>Three things to try:</b></p>")
PATCH_TRIES = (
    ("See the channels open",
     "Runs the patch's step protocol in voltage clamp: single openings in each sweep. "
     "The Single channels tab idealises them and fits the dwell times."),
    ("Average 200 sweeps",
     "Runs <i>vc-patch-na-noise</i>: the ensemble average becomes the smooth macroscopic "
     "current, and the variance against the mean gives the unitary current and the "
     "number of channels (the Single channels tab)."),
    ("Block with TTX",
     "10 nM TTX in the bath: on an outside-out patch channels drop out one by one, "
     "whole, over about half a minute (a blocked channel carries nothing, and one toxin "
     "stays bound for about 70 s); inside-out the bath does not reach the toxin's site."),
)
GUIDE_HTML = """
<h2>vRig quick guide</h2>
<h3>Keys</h3>
<table cellpadding="3">
<tr><td><b>Space</b></td><td>start or stop acquisition</td></tr>
<tr><td><b>R</b></td><td>start or stop recording</td></tr>
<tr><td><b>P</b></td><td>the one-click stimulus (pulse in CC, step in VC)</td></tr>
<tr><td><b>Arrows, wheel</b></td><td>turn the holding knob (Shift fine, Ctrl coarse)</td></tr>
<tr><td><b>F5</b></td><td>run the protocol shown in the Protocol tab</td></tr>
<tr><td><b>Ctrl+M</b></td><td>membrane test</td></tr>
<tr><td><b>F1</b></td><td>this guide</td></tr>
</table>
<h3>The parts of the window</h3>
<p><b>Amplifier</b>: VC holds the membrane potential and measures the current; CC
injects a current and measures the potential; I=0 injects nothing. Each mode keeps its
own holding level. The one-click stimulus under the knob gives a pulse (CC) or a step
(VC). <b>Compensation</b> (the tab beside it): the electrode's access resistance and
capacitances, compensation, filter, gain, noise.</p>
<p><b>Scopes</b>: continuous display (sweeping or scrolling) or episodic (the sweeps of
a protocol overlaid). Tick INa, IK, gNa, m, h, n ... to see the mechanism behind the
membrane current. Drag to pan, wheel to zoom, Autoscale to fit.</p>
<p><b>Protocol</b>: the stimulus as an epoch table (as in Clampex), with a preview of
every sweep; shipped protocols cover threshold, refractory periods, accommodation,
anode break, I-V curves, tail currents, inactivation and its recovery.</p>
<p><b>Analysis</b>: measures each sweep of the protocol that ran (spikes and their
threshold in CC; peak and steady currents, I-V, conductance and fits in VC).</p>
<p><b>Bath &amp; drugs</b> (button on the scope bar): perfuse TTX, TEA, 4-AP ... and
change the ionic solutions and the temperature; the reversal potentials follow.</p>
<p><b>Recording</b>: Rec writes what you acquire to a file (File menu: where and how).</p>
<h3>Where the science comes from</h3>
<p>Hodgkin &amp; Huxley (1952) for the squid membrane, Pospischil et al. (2008) for the
cortical neuron; every preset names its source (see the README).</p>
"""


class WelcomeDialog(QDialog):
    """The first-start card. tries: three callables, one per "try this" button, run in
    order with the card closed; rest_mv: the cell's resting potential (mV); fibre: the
    card of a fibre (the Axon tab's three things); patch: the card of a membrane patch
    (single channels) instead of a whole cell's.
    dontShowAgain(bool) reports the check box."""

    dontShowAgain = Signal(bool)

    def __init__(self, cell, holding_text, tries, rest_mv, parent=None, fibre=False,
                 patch=False):
        super().__init__(parent)
        self.setWindowTitle("Welcome to vRig")
        self.setModal(False)
        layout = QVBoxLayout(self)
        description = cell.description.split(":")[0].split(". ")[0] or "a cell preset"
        # The trace colours it names, as the theme shown draws them.
        look = theme.current()
        vm, im, command = look.colour_words
        welcome = (FIBRE_WELCOME_TEXT if fibre else PATCH_WELCOME_TEXT if patch
                   else WELCOME_TEXT)
        intro = QLabel(theme.restyle_qss(welcome.format(
            cell=cell.name, description=description, holding=holding_text, vm_colour=vm,
            im_colour=im, command_colour=command), look))
        intro.setWordWrap(True)
        self.intro = intro
        intro.setTextFormat(Qt.RichText)
        layout.addWidget(intro)
        self.try_buttons = []
        texts = FIBRE_TRIES if fibre else PATCH_TRIES if patch else TRIES
        for number, ((title, text), action) in enumerate(zip(texts, tries), start=1):
            text = text.format(rest_mv=rest_mv)
            row = QHBoxLayout()
            button = QPushButton(f"{number}. {title}")
            button.setMinimumWidth(220)
            button.clicked.connect(lambda _=False, act=action: (self.close(), act()))
            label = QLabel(text)
            label.setTextFormat(Qt.RichText)
            label.setWordWrap(True)
            row.addWidget(button)
            row.addWidget(label, 1)
            layout.addLayout(row)
            self.try_buttons.append(button)
        self.dont_show = QCheckBox("Don't show this at start (Help > Welcome shows it again)")
        self.dont_show.toggled.connect(self.dontShowAgain)
        layout.addWidget(self.dont_show)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.setMinimumWidth(640)
        self.adjustSize()


def guide_dialog(parent=None):
    """The quick guide (F1), a read-only page."""
    dialog = QDialog(parent)
    dialog.setWindowTitle("vRig quick guide")
    layout = QVBoxLayout(dialog)
    page = QTextBrowser()
    page.setHtml(GUIDE_HTML)
    layout.addWidget(page)
    buttons = QDialogButtonBox(QDialogButtonBox.Close)
    buttons.rejected.connect(dialog.close)
    layout.addWidget(buttons)
    dialog.resize(640, 640)
    return dialog


def about_text():
    """The About box's text: version, the libraries it runs on, licence, sources."""
    import numba
    import numpy
    import pyqtgraph
    from PySide6 import __version__ as pyside_version

    return (f"<h2>vRig {rig.__version__}</h2>"
            "<p>A virtual electrophysiology rig: a Hodgkin-Huxley engine behind a "
            "patch-clamp amplifier, for lab practicals, lectures and demo stations.</p>"
            f"<p>Python {platform.python_version()}, PySide6 {pyside_version}, "
            f"pyqtgraph {pyqtgraph.__version__}, numpy {numpy.__version__}, "
            f"numba {numba.__version__}.</p>"
            "<p>Models: Hodgkin &amp; Huxley 1952 (J Physiol 117:500); Pospischil et al. "
            "2008 (Biol Cybern 99:427). Every preset cites its source.</p>"
            "<p>BSD 3-Clause licence.</p>")
