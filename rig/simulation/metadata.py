"""What a recording's file header says about the Rig that made it: everything needed
to reproduce it, as text. Values in the units their keys name (mV, pF, um^2, degC,
kHz, us, MOhm, mM)."""

import json
from typing import Any

from rig import units
from rig.amplifier.circuit import input_range
from rig.protocols.protocol import Protocol
from rig.simulation.stochastic import describe as describe_channels
from rig.version import __version__


def recording_metadata(rig: Any, protocol: Protocol | None = None,
                       dt_s: float | None = None) -> dict[str, str]:
    """{key: text} for a recording by rig (a rig.simulation.engine.Rig) of a protocol
    (None: continuous acquisition) with the kernel step dt_s (s; default rig.dt).

    It only reads immutable settings (cell, solutions, amplifier) and copies of the
    drug table, so the window may call it while the runner owns the engine."""
    bath, pipette, temperature = rig.bath, rig.pipette, rig.temperature_c
    e_rev = rig.reversal_potentials()
    meta = {
        "vrig_version": __version__,
        "protocol": protocol.name if protocol else "continuous",
        "mode": rig.mode,
        "cell": rig.cell.name,
        "membrane_area_um2": f"{rig.cell.area_um2:g}",
        "membrane_capacitance_pF": f"{rig.cell.capacitance_pf:g}",
        **_geometry(rig),
        "temperature_C": f"{temperature:g}",
        "sample_rate_kHz": f"{protocol.sample_rate_khz:g}" if protocol else "",
        "dt_us": f"{units.s_to_us(dt_s or rig.dt):g}",
        "seed": str(rig.seed),
        "series_resistance_MOhm": f"{units.ohm_to_mohm(rig.series_resistance):g}",
        "amplifier": rig.amplifier.describe(),
        "liquid_junction_potential_mV": f"{units.v_to_mv(rig.amplifier.junction_potential):.2f}",
        "ljp_correction": "on" if rig.amplifier.junction_correction else "off",
        "bath": bath.name,
        "bath_mM": bath.summary(),
        "pipette": pipette.name,
        "pipette_mM": pipette.summary(),
        "E_rev_mV": " ".join(f"{ion}={units.v_to_mv(v):.1f}" for ion, v in e_rev.items()),
        "drugs": rig.perfusion.summary() or "none",
        "stochastic": "on" if rig.cell.stochastic else "off",
        **gradient_metadata(rig),
    }
    m = rig.membrane()
    if m.markov is not None:
        meta.update(describe_channels(m))
    if rig.cell.configuration:
        meta["patch_configuration"] = rig.cell.configuration
    held = rig.perfusion.held_summary()
    if held:
        meta["irreversible_effects"] = held
    if rig.overloaded:
        v_range, i_range = input_range(rig.amplifier, rig.mode)
        meta["overload"] = (f"the recorded output clipped at +/-{units.a_to_na(i_range):g} nA "
                            f"or +/-{units.v_to_mv(v_range):g} mV "
                            "(see the amplifier's range and gain)")
    if protocol is not None:
        meta["holding"] = f"{protocol.holding:g} {protocol.units}"
        meta["sweeps"] = str(protocol.sweeps)
        meta["sweep_interval_ms"] = f"{protocol.sweep_interval_ms:g}"
        meta["protocol_json"] = json.dumps(protocol.to_dict())
    return meta


def gradient_metadata(rig: Any) -> dict[str, str]:
    """Accumulation, pump density, volumes and fast-forward as header text."""
    store = getattr(rig, "ions", None)
    if store is None:
        return {"accumulation": "off", "pump": "off"}
    s = store.setup
    inside = store.inside_mm()
    return {"accumulation": "on" if s.accumulation else "off",
            "pump": "on" if s.pump else "off",
            "pump_imax_uA_per_cm2": f"{s.imax_ua_per_cm2:g} at {s.imax_temperature_c:g} degC "
                                    f"(Q10 {s.kinetics.q10:g}; {s.imax_source})",
            "cell_volume_um3": f"{store.volume_um3:.6g}",
            "restricted_space_um3": f"{store.space_um3:g} (tau {store.space_tau_ms:g} ms)",
            "ions_in_mM": " ".join(f"{ion}={c:.6g}" for ion, c in inside.items()),
            "K_out_mM": f"{store.k_out_mm():.6g}",
            "fast_forward_s": f"{getattr(rig, 'fast_forwarded_s', 0.0):g}"}


def _geometry(rig: Any) -> dict[str, str]:
    """A fibre's geometry and electrode positions as header text ({} for a point cell)."""
    geometry = rig.cell.geometry
    if geometry is None:
        return {}
    where = rig.placement
    centres = geometry.centres_um()
    return {"length_mm": f"{units.um_to_mm(geometry.total_length_um):g}",
            "diameter_um": f"{geometry.diameter_um:g}",
            "compartments": str(geometry.n_compartments),
            "axial_resistivity_ohm_cm": f"{geometry.axial_resistivity_ohm_cm:g}",
            "stim_compartment_mm": f"{units.um_to_mm(centres[where.stim]):g}",
            "recording_sites": ", ".join(where.names),
            "axial_wire": "on" if where.axial_wire else "off",
            "stimulator_2": where.stimulator.describe() if where.stimulator else "none",
            "local_temperature": "; ".join(
                f"{t:g} degC at {units.um_to_mm(a):g}-{units.um_to_mm(b):g} mm"
                for a, b, t in where.local_temperature) or "none",
            "demyelinated": "; ".join(f"{units.um_to_mm(a):g}-{units.um_to_mm(b):g} mm"
                                      for a, b in where.demyelinated) or "none",
            "local_drugs": "; ".join(
                f"{change.label} at {units.um_to_mm(change.start_um):g}-"
                f"{units.um_to_mm(change.end_um):g} mm" for change in where.local)}
