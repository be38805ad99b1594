"""vRig: a virtual electrophysiology rig (Qt-free core).

Units convention
----------------
* Public Python API: SI floats -- volts, amperes, seconds, siemens, farads, ohms,
  square metres -- except concentrations (mM, which is mol/m^3 and so SI already)
  and temperature (degrees Celsius everywhere).
* Files and the screen: electrophysiology units -- mV, pA, ms, pF, nS, MOhm, um^2.
  Protocol files keep the Clampex convention (levels in mV for VC, pA for CC).
* The compiled kernel works in mV, ms, pA, nS and pF (these are mutually consistent:
  nS * mV = pA, pF * mV / ms = pA).
* Conversion between these happens only in :mod:`rig.units`.

Sign convention: current flowing into the cell is positive for injected current and
membrane current is positive outward, so inward sodium current is negative.

Five lines of Python::

    import rig
    bench = rig.Rig.from_presets(cell="hh-squid")
    protocol = rig.load_protocol("vc-iv-family")
    recording = bench.run(protocol)
    recording.save("iv.csv")
"""

__version__ = "0.1.0"

from rig.errors import VrigError  # noqa: E402
from rig.protocols.protocol import Protocol, load_protocol  # noqa: E402
from rig.simulation.engine import Rig  # noqa: E402
from rig.files.recording import Recording  # noqa: E402

__all__ = ["Protocol", "Recording", "Rig", "VrigError", "load_protocol", "__version__"]
