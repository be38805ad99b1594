"""The rig that `vrig run` (and `vrig membrane-test`) builds from its options: the
cell with its geometry, sites and channel counts, the solutions, drugs (local ones on
stretches of a fibre), temperature, the amplifier, gradients and a fast-forward. Each
bad value is one VrigError naming the option."""

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from rig import units
from rig.amplifier.circuit import RANGES
from rig.errors import VrigError
from rig.model import limits, physics
from rig.model.pharmacology import parse_drug_option
from rig.resources import option_number, printable

if TYPE_CHECKING:  # loaded by the commands that simulate, not by `vrig list`
    from rig.simulation.engine import Rig


def parse_number(text: str, option: str, cast: Callable[[str], Any] = float) -> Any:
    """text as cast (float, or int for a count); VrigError naming option if it is not."""
    try:
        return cast(text)
    except ValueError:
        # '1e9' or '2.5' for a count is a number, just not a whole one written as such
        kind = "a whole number (digits only)" if cast is int else "a valid number"
        raise VrigError(f"{option} {printable(text)!r} is not {kind}") from None


def _stretch_m(text: str, option: str = "--drug",
               example: str = "TTX=1uM@40:50mm") -> tuple[float, float]:
    """(start, end) in m of a stretch 'A:Bmm' (mm from the fibre's first end) given
    to option."""
    start, colon, end = text.removesuffix("mm").partition(":")
    if not text.endswith("mm") or not colon:
        raise VrigError(f"{option} {printable(text)!r}: give the stretch as START:ENDmm, "
                        f"e.g. {example}")
    return tuple(units.um_to_m(units.mm_to_um(parse_number(part.strip(), f"{option} stretch")))
                 for part in (start, end))


def _channel_counts(text: str | None) -> dict[str, int] | None:
    """{label: count} from --channels: '50' ({'': 50}, the cell's only kind) or
    'Na=600,K=180'; each count a whole number (checked again against the range)."""
    if text is None:
        return None
    counts: dict[str, int] = {}
    for part in text.split(","):
        label, equals, count = part.strip().rpartition("=")
        if equals and not label:
            raise VrigError(f"--channels {printable(text)!r}: give each count as LABEL=N, "
                            "e.g. Na=50")
        counts[label.strip()] = parse_number(count.strip(), "--channels", int)
    return counts


def apply_stretches(setup: "Rig", args: argparse.Namespace) -> None:
    """--temperature-at and --demyelinate on the Rig's fibre; each error names the
    option and what was given."""
    for text in getattr(args, "temperature_at", []):
        temperature, at, stretch = text.partition("@")
        if not at:
            raise VrigError(f"--temperature-at {printable(text)!r}: give DEGC@START:ENDmm, "
                            "e.g. 5@10:20mm")
        degc = option_number(temperature.strip().removesuffix("C"), "--temperature-at",
                             physics.MIN_TEMPERATURE_C, physics.MAX_TEMPERATURE_C, "degC")
        start, end = _stretch_m(stretch, "--temperature-at", "5@10:20mm")
        try:
            setup.set_local_temperature(degc, start, end)
        except VrigError as exc:
            raise VrigError(f"--temperature-at {printable(text)}: {exc}") from None
    for text in getattr(args, "demyelinate", []):
        start, end = _stretch_m(text, "--demyelinate", "8:10mm")
        try:
            setup.demyelinate(start, end)
        except VrigError as exc:
            raise VrigError(f"--demyelinate {printable(text)}: {exc}") from None


def _fibre_options(args: argparse.Namespace, cell: Any) -> dict[str, Any]:
    """{'stim_at', 'record_at'} (m) from --stim-at and --record-at (mm) and
    {'axial_wire'} from --axial-wire, where given; each position checked against cell's
    fibre (a point cell takes none)."""
    options: dict[str, Any] = {}
    if getattr(args, "stim_at", None) is not None:
        options["stim_at"] = _position_m(args.stim_at, "--stim-at", cell)
    if getattr(args, "record_at", None) is not None:
        options["record_at"] = tuple(_position_m(text.strip(), "--record-at", cell)
                                     for text in args.record_at.split(","))
    if getattr(args, "axial_wire", None) is not None:
        options["axial_wire"] = args.axial_wire == "on"
    if getattr(args, "stim2", None):
        options["stimulator"] = _stimulator(args.stim2, cell)
    return options


def _stimulator(texts: Sequence[str], cell: Any) -> Any:
    """The second stimulator of the --stim2 AT_MM:DELAY_MS:WIDTH_MS:AMP_UA options
    (one electrode: every pulse at the same place)."""
    from rig.simulation.cable import STIMULATOR_LIMIT_A, StimPulse, Stimulator

    limit_ua = units.a_to_pa(STIMULATOR_LIMIT_A) / 1e6
    places, pulses = set(), []
    for text in texts:
        parts = text.split(":")
        if len(parts) != 4:
            raise VrigError(f"--stim2 {printable(text)!r}: give AT_MM:DELAY_MS:WIDTH_MS:AMP_UA, "
                            "e.g. 30:1:0.1:20")
        places.add(_position_m(parts[0].strip(), "--stim2 position", cell))
        delay = option_number(parts[1], "--stim2 delay", 0.0, 1e7, "ms")
        width = option_number(parts[2], "--stim2 width", 0.0, 1e7, "ms")
        if width == 0:
            raise VrigError(f"--stim2 {printable(text)}: the width must be more than 0 ms")
        amplitude = option_number(parts[3], "--stim2 amplitude", -limit_ua, limit_ua, "uA")
        pulses.append(StimPulse(units.ms_to_s(delay), units.ms_to_s(width),
                                units.pa_to_a(amplitude * 1e6)))
    if len(places) > 1:
        raise VrigError("--stim2: the second stimulating electrode sits at one place; give "
                        "the same AT_MM in every pulse")
    return Stimulator(places.pop(), tuple(pulses))


def _position_m(text: str, option: str, cell: Any) -> float:
    """A position on cell's fibre typed in mm, in m; off the fibre (or on a point
    cell) a VrigError that gives the fibre's extent."""
    if cell.geometry is None:
        raise VrigError(f"{option}: cell {printable(cell.name)!r} is a single compartment; "
                        "positions apply to a fibre (squid-axon, thin-fibre, myelinated-axon)")
    length_mm = units.um_to_mm(cell.geometry.total_length_um)
    try:
        position_mm = option_number(text, option, 0.0, length_mm * (1 + 1e-12), "mm")
    except VrigError as exc:
        raise VrigError(f"{exc}: the fibre runs from 0 to {length_mm:g} mm") from None
    return units.um_to_m(units.mm_to_um(position_mm))


def _fibre_cell(args: argparse.Namespace) -> Any:
    """The cell preset named by --cell, its fibre resized by --length-mm, --diameter-um
    and --compartments where given (a point cell takes none of them)."""
    from rig.model.cell import load_cell, resize_fibre
    from rig.model.geometry import DIAMETER_RANGE_UM, LENGTH_RANGE_UM

    cell = load_cell(args.cell)
    given: dict[str, str] = {}
    for option, attribute in (("--length-mm", "length_mm"), ("--diameter-um", "diameter_um"),
                              ("--compartments", "compartments")):
        if getattr(args, attribute, None) is not None:
            given[option] = getattr(args, attribute)
    if not given:
        return cell
    if cell.geometry is None:
        raise VrigError(f"{', '.join(given)}: cell {printable(args.cell)!r} is a single "
                        "compartment; these options apply to a fibre (squid-axon, "
                        "thin-fibre, myelinated-axon)")
    length_um = diameter_um = compartments = None
    if "--length-mm" in given:
        low, high = (units.um_to_mm(x) for x in LENGTH_RANGE_UM)
        length_um = units.mm_to_um(option_number(given["--length-mm"], "--length-mm", low,
                                                 high, "mm"))
    if "--diameter-um" in given:
        diameter_um = option_number(given["--diameter-um"], "--diameter-um",
                                    DIAMETER_RANGE_UM[0], DIAMETER_RANGE_UM[1], "um")
    if "--compartments" in given:
        compartments = parse_number(given["--compartments"], "--compartments", int)
        if compartments < 1:
            raise VrigError(f"--compartments {compartments}: a fibre has at least 1 "
                            "compartment")
    try:
        return resize_fibre(cell, length_um, diameter_um, compartments)
    except VrigError as exc:
        raise VrigError(f"{', '.join(given)}: {exc}") from None
def _gradient_options(args: argparse.Namespace) -> dict[str, Any]:
    """{'accumulation', 'pump', 'pump_density'} from their options, where given."""
    options: dict[str, Any] = {}
    for key in ("accumulation", "pump"):
        if getattr(args, key, None) is not None:
            options[key] = getattr(args, key)
    if getattr(args, "pump_density", None) is not None:
        options["pump_density"] = parse_number(args.pump_density, "--pump-density")
    return options


def _fast_forward(setup: "Rig", text: str) -> None:
    """Fast-forward setup by the --fast-forward seconds in I=0, then back to its mode."""
    from rig.simulation.fast_forward import fast_forward

    seconds = parse_number(text, "--fast-forward")
    mode = setup.mode
    setup.set_mode("I0")
    setup.settle()
    fast_forward(setup, seconds)
    setup.set_mode(mode)
    setup.settle()


def build_rig(args: argparse.Namespace) -> "Rig":
    """A Rig from the cell and amplifier options."""
    from rig.simulation.engine import Rig

    # each number is checked as typed, in the option's unit, before it is converted
    dt_low, dt_high = (units.s_to_us(t) for t in limits.DT_RANGE_S)
    dt_us = option_number(args.dt_us, "--dt-us", dt_low, dt_high, "us")
    rs_comp = option_number(args.rs_comp, "--rs-comp", 0.0, RANGES["rs_prediction"].high,
                            "%") / 100
    corner = RANGES["filter_hz"]
    filter_khz = option_number(args.filter_khz, "--filter-khz", corner.low, corner.high,
                               corner.unit, bypass=0.0)
    rs = RANGES["series_resistance"]
    rs_mohm = None if args.rs is None else option_number(args.rs, "--rs", rs.low, rs.high,
                                                         rs.unit)
    temperature = None if args.temperature is None else option_number(
        args.temperature, "--temperature", physics.MIN_TEMPERATURE_C, physics.MAX_TEMPERATURE_C,
        "degC")
    cell = _fibre_cell(args)
    setup = Rig.from_presets(
        cell=cell, bath=args.bath, pipette=args.pipette,
        temperature_c=temperature, ion_overrides=args.ion,
        dt=units.us_to_s(dt_us), seed=parse_number(args.seed, "--seed", int),
        stochastic=getattr(args, "stochastic", None),
        channel_counts=_channel_counts(getattr(args, "channels", None)),
        patch_configuration=getattr(args, "patch_config", None),
        **_fibre_options(args, cell), **_gradient_options(args))
    changes = {}
    if rs_mohm is not None:
        changes["series_resistance"] = units.mohm_to_ohm(rs_mohm)
    amplifier = setup.amplifier.changed(**changes)
    if args.cm_comp or rs_comp > 0:
        # As on the amplifier: pipette and whole-cell capacitance are compensated before
        # Rs compensation (with the pipette uncompensated, prediction makes it ring).
        changes["fast_compensation"] = amplifier.pipette_capacitance
        changes["whole_cell_capacitance"] = units.pf_to_f(setup.cell.capacitance_pf)
        changes["whole_cell_resistance"] = amplifier.series_resistance
    setup.set_amplifier(
        rs_correction=rs_comp, rs_prediction=rs_comp,
        filter_hz=units.khz_to_hz(filter_khz) if filter_khz else None, noise=args.noise,
        hum_hz=0 if args.hum == "off" else int(args.hum), digitizer=args.digitizer,
        gain=parse_number(args.gain, "--gain"), junction_correction=args.ljp_correction, **changes)
    setup.settle()
    return setup


def apply_run_options(setup: "Rig", args: argparse.Namespace) -> None:
    """The options of `vrig run` that act on a built rig: --drug (a drug@START:ENDmm on
    a stretch of fibre), --temperature-at, --demyelinate and --fast-forward."""
    for text in args.drug:
        text, at, stretch = text.partition("@")
        drug, side, concentration = parse_drug_option(text)
        if at:
            if side != "outside":
                raise VrigError(f"--drug {printable(text)}@{printable(stretch)}: a drug on a "
                                "stretch of fibre is applied outside; drop the in: prefix")
            try:
                setup.apply_local_drug(drug, concentration, *_stretch_m(stretch))
            except VrigError as exc:
                raise VrigError(f"--drug {printable(text)}@{printable(stretch)}: {exc}") from None
        else:
            setup.apply_drug(drug, concentration, side, steady_state=True)
    apply_stretches(setup, args)
    if args.fast_forward is not None:
        _fast_forward(setup, args.fast_forward)
