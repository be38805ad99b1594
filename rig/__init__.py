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
    setup = rig.Rig.from_presets(cell="hh-squid")
    protocol = rig.load_protocol("vc-iv-family")
    recording = setup.run(protocol)
    recording.save("iv.csv")
"""

from importlib import import_module
from typing import Any

from rig.errors import VrigError
from rig.version import __version__

# The API's classes are loaded on first use (PEP 562), so that importing a Qt-free
# part such as rig.model.cell does not load the engine and numba.
_LAZY = {"Protocol": "rig.protocols.protocol", "load_protocol": "rig.protocols.protocol",
         "Rig": "rig.simulation.engine", "Recording": "rig.files.recording"}

__all__ = ["Protocol", "Recording", "Rig", "VrigError", "__version__", "load_protocol"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rig' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
