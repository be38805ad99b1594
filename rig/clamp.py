"""The amplifier's clamp modes, each knowing its command's unit, its limits and its
conversion between the files' units (mV, pA) and SI (V, A)."""

from enum import Enum
from typing import Any

from rig import units
from rig.errors import VrigError


class Mode(str, Enum):
    """A clamp mode. A Mode equals its name as text (``Mode.VC == "VC"``), so it is
    written to files and JSON as 'VC', 'CC' or 'I0'."""

    VC = "VC"
    CC = "CC"
    I0 = "I0"

    # str's own formatting, so that f"{mode}" is 'VC' on every Python version
    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, format_spec: str) -> str:
        return str.__format__(self, format_spec)

    @classmethod
    def parse(cls, value: Any, what: str = "mode") -> "Mode":
        """The Mode named by value ('VC', 'CC' or 'I0'), else a VrigError naming `what`."""
        if isinstance(value, str) and value in cls._value2member_map_:
            return cls(value)
        raise VrigError(f"{what} must be one of {', '.join(m.value for m in cls)}, "
                        f"got {value!r:.40}")

    @property
    def label(self) -> str:
        """The mode as an amplifier's switch names it: 'VC', 'I=0', 'CC'."""
        return "I=0" if self is Mode.I0 else self.value

    @property
    def is_voltage_clamp(self) -> bool:
        """True in VC: the command is a voltage and the current is measured."""
        return self is Mode.VC

    @property
    def command_unit(self) -> str:
        """SI unit of the command: 'V' in VC, 'A' in CC and I=0."""
        return "V" if self is Mode.VC else "A"

    @property
    def level_unit(self) -> str:
        """Unit of levels in protocols and on screen: 'mV' in VC, 'pA' otherwise."""
        return "mV" if self is Mode.VC else "pA"

    @property
    def level_limit(self) -> float:
        """Largest |level| a protocol may ask for, in level_unit: 500 mV; 1 mA, the
        widest headstage's range (the giant-axon one; the cell's own range is checked
        when the protocol runs)."""
        return 500.0 if self is Mode.VC else 1e9

    @property
    def measured(self) -> str:
        """The signal the mode measures: 'Im' in VC, 'Vm' in CC and I=0."""
        return "Im" if self is Mode.VC else "Vm"

    def to_si(self, level: units.Q) -> units.Q:
        """A level in level_unit (mV or pA; a number or an array) in SI (V or A)."""
        return units.mv_to_v(level) if self is Mode.VC else units.pa_to_a(level)

    def from_si(self, value: units.Q) -> units.Q:
        """A value in SI (V or A) in level_unit (mV or pA)."""
        return units.v_to_mv(value) if self is Mode.VC else units.a_to_pa(value)
