"""What distinguishes each sweep of a protocol, as the legend shows it (no Qt).

A protocol's sweeps differ by the epoch fields that have a delta (``level_delta``,
``duration_delta_ms``, ...). Each sweep's label gives those fields' values in that
sweep, in the protocol's units: ``-40 mV`` (a VC step level), ``+150 pA`` (a CC step),
``interval 8 ms`` (the duration of a gap at the holding level between two pulses, as in
the paired-pulse and recovery protocols), ``ramp 40 ms``, ``20 Hz``. The values come
from :meth:`rig.protocols.protocol.Epoch.value`, the same arithmetic that renders the sweep.
"""

from rig.protocols.epochs import delta_name

LEVEL_FIELDS = ("level", "end_level", "pulse_level", "amplitude")
DURATION_NAMES = {"step": "duration", "ramp": "ramp", "train": "train", "sine": "sine"}
TIME_FIELDS = {"pulse_width_ms": "width", "period_ms": "period"}


def sweep_labels(protocol):
    """One label per sweep of a :class:`rig.protocols.protocol.Protocol` (0-based order)."""
    varying = [(i, epoch, name) for i, epoch in enumerate(protocol.epochs)
               for name in epoch.values
               if not name.endswith(("_delta", "_delta_ms", "_delta_hz"))
               and epoch.values.get(delta_name(name), 0.0) != 0.0]
    labels = []
    for sweep in range(protocol.sweeps):
        parts = [_field_text(protocol, i, epoch, name, sweep) for i, epoch, name in varying]
        labels.append(", ".join(parts) if parts else f"sweep {sweep + 1}")
    return labels


def _field_text(protocol, index, epoch, name, sweep):
    value = epoch.value(name, sweep)
    if name in LEVEL_FIELDS:
        text = f"{'+' if value > 0 else ''}{value:g} {protocol.units}"
        return text if name == "level" else f"{name.replace('_', ' ')} {text}"
    if name == "duration_ms":
        what = "interval" if _is_gap(protocol, index) else DURATION_NAMES[epoch.kind]
        return f"{what} {value:g} ms"
    if name == "frequency_hz":
        return f"{value:g} Hz"
    return f"{TIME_FIELDS.get(name, name)} {value:g} ms"


def _is_gap(protocol, index):
    """An epoch at the holding level between two epochs away from it: the interval of
    a paired-pulse or recovery protocol."""
    epochs = protocol.epochs
    if not 0 < index < len(epochs) - 1:
        return False

    def away(epoch):
        return epoch.kind != "step" or epoch.value("level", 0) != protocol.holding

    return not away(epochs[index]) and away(epochs[index - 1]) and away(epochs[index + 1])
