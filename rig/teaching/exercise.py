"""Instructor exercises: an unknown condition on the rig for the student to identify,
with the answer kept out of the file.

An exercise file (JSON, ``"format": "vrig-exercise"``) holds the kind, the task shown
to the student, a random salt, a *commitment* to the answer and the rig's setup:

- The answer is reduced to a canonical *bin* before it is committed: a drug and the
  nearest value of the 1-3-10 series (1, 3, 10, 30 ... nM/mM), a channel and the nearest
  power of two of its conductance factor, an ion and the nearest value of the 1-2-5
  series (mM). The file stores PBKDF2-HMAC-SHA256(canonical text, salt), never the text,
  so ``check`` decides a numeric answer with a tolerance (anything that rounds into the
  same bin: within a factor of about 1.8 of the true value) without the answer being
  written down. ``key --seed N`` regenerates the answer from the seed the instructor
  used and confirms it against the commitment.
- The setup (cell, drugs, channel factors, ion changes) must reach the engine, so it is
  stored scrambled (XOR with a SHA-256 keystream of the salt, base64): not readable by
  eye, but decodable by anyone who reads this module. The answer space is small, so a
  student with the file and vRig's source could also try every bin against the hash
  (each try costs ``ITERATIONS`` rounds of PBKDF2). The scheme keeps an answer out of
  sight, not out of reach of a determined programmer; grade with ``check`` as well.
"""

import base64
import hashlib
import hmac
import json
import math
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rig.errors import VrigError
from rig.model.pharmacology import format_concentration, load_drug, parse_concentration
from rig.resources import printable
from rig.teaching.jsonfile import line_of, parse_json, read_json

FORMAT = "vrig-exercise"
VERSION = 1
ITERATIONS = 200_000
KINDS = ("mystery-drug", "mystery-cell", "mystery-solution")
CELL = "hh-squid"
Choices = tuple[tuple[str, tuple[float, ...]], ...]  # (identity, the values it may take)
# (drug, bath concentrations in M): around each drug's half-blocking concentration on the
# squid axon (TTX 5.1 nM, 4-AP 0.5 mM outside), so the block is partial and measurable;
# not TEA, which is inert outside the squid axon (Tasaki & Hagiwara 1957)
DRUG_CHOICES: Choices = (("TTX", (3e-9, 10e-9, 30e-9)), ("4-AP", (0.3e-3, 1e-3, 3e-3)))
CHANNEL_CHOICES: Choices = (("Na", (0.25, 0.5, 2.0)), ("K", (0.25, 0.5, 2.0)))
# bath mM (squid seawater has K 20, Na 440)
ION_CHOICES: Choices = (("K", (50.0, 100.0, 200.0)), ("Na", (100.0, 200.0)))

TASKS = {
    "mystery-drug": ("Mystery drug", "A drug is in the bath of this squid axon. Find out "
                     "which one and at what concentration, e.g. by comparing the voltage-clamp "
                     "currents with those of a control cell.",
                     "NAME=CONCENTRATION, e.g. TTX=100nM or 4-AP=10mM"),
    "mystery-cell": ("Mystery cell", "One channel type of this squid axon has an altered "
                     "density. Find out which one, and by what factor its conductance differs "
                     "from the Hodgkin-Huxley axon's (gNa 120, gK 36 mS/cm2).",
                     "CHANNEL xFACTOR, e.g. Na x4 or K x0.125"),
    "mystery-solution": ("Mystery bath", "The bath is seawater with one ion changed. Find "
                         "out which ion and its new concentration, e.g. from the resting "
                         "potential or the reversal potential of a current.",
                         "ION=CONCENTRATION in mM, e.g. K=10mM or Na=50mM"),
}


@dataclass(frozen=True)
class Setup:
    """What the rig is given: a cell preset; drugs (name, M) in the bath at steady
    state; channel conductance factors (channel label, factor); bath ion changes
    ('out:ION=MM')."""

    cell: str = CELL
    drugs: tuple[tuple[str, float], ...] = ()
    channel_factors: tuple[tuple[str, float], ...] = ()
    ion_overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Key:
    """The instructor's key: the kind, the canonical answer text and the setup."""

    kind: str
    answer: str
    setup: Setup


@dataclass(frozen=True)
class Exercise:
    """An exercise as read from its file (no answer in it)."""

    kind: str
    title: str
    task: str
    answer_format: str
    salt: bytes
    commitment: str
    setup: Setup


# --- the answer's bins ------------------------------------------------------------------


def _snap(value: float, mantissas: tuple[float, ...]) -> float:
    """The nearest (in log) value of mantissa x 10^k."""
    if not (math.isfinite(value) and value > 0):
        raise VrigError(f"{value!r} is not a positive number")
    decade = math.floor(math.log10(value))
    grid = [m * 10.0 ** d for d in (decade - 1, decade, decade + 1) for m in mantissas]
    return min(grid, key=lambda g: abs(math.log(value / g)))


def _snap_power_of_two(value: float) -> float:
    if not (math.isfinite(value) and value > 0):
        raise VrigError(f"{value!r} is not a positive number")
    return 2.0 ** round(math.log2(value))


def _number_text(value: float) -> str:
    return f"{value:.6g}"


def canonical_answer(kind: str, text: str) -> str:
    """The bin an answer falls in, as canonical text ('TTX=10nM', 'K x0.5', 'K=50mM').
    Raises VrigError naming the expected form when the text cannot be read."""
    kind = check_kind(kind)
    title, _, form = TASKS[kind]
    text = str(text).strip()
    try:
        if kind == "mystery-drug":
            name, eq, conc = text.removeprefix("out:").partition("=")
            if not eq:
                raise VrigError("no '='")
            drug = load_drug(name.strip())
            molar = parse_concentration(conc.replace(" ", ""))
            return f"{drug.name}={format_concentration(_snap(molar, (1.0, 3.0)))}"
        if kind == "mystery-cell":
            match = re.fullmatch(r"(\w+)\s*[x*\u00d7]\s*([0-9.eE+-]+)", text)
            if not match:
                raise VrigError("not CHANNEL xFACTOR")
            label = _choice(match.group(1), [n for n, _ in CHANNEL_CHOICES])
            return f"{label} x{_number_text(_snap_power_of_two(float(match.group(2))))}"
        match = re.fullmatch(r"(?:out:)?\s*(\w+)\s*=\s*([0-9.eE+-]+)\s*(?:mM)?", text)
        if not match:
            raise VrigError("not ION=CONCENTRATION")
        ion = _choice(match.group(1), [n for n, _ in ION_CHOICES])
        return f"{ion}={_number_text(_snap(float(match.group(2)), (1.0, 2.0, 5.0)))}mM"
    except (VrigError, ValueError) as exc:
        raise VrigError(f"answer {printable(text)!r} for a {title.lower()}: {exc}; "
                        f"give {form}") from None


def _choice(name: str, allowed: list[str]) -> str:
    for option in allowed:
        if name.lower() == option.lower():
            return option
    raise VrigError(f"{name!r} is not one of {', '.join(allowed)}")


def check_kind(kind: str) -> str:
    """kind if it is one of KINDS, else VrigError listing them."""
    if kind not in KINDS:
        raise VrigError(f"unknown exercise kind {printable(str(kind))!r}; use one of "
                        f"{', '.join(KINDS)}")
    return kind


# --- making and checking -------------------------------------------------------------


def make_key(kind: str, seed: int) -> Key:
    """The answer and setup an exercise of this kind gets from a seed (deterministic)."""
    kind = check_kind(kind)
    pick = random.Random(f"{kind}:{seed}")
    if kind == "mystery-drug":
        name, values = pick.choice(DRUG_CHOICES)
        molar = pick.choice(values)
        setup = Setup(drugs=((name, molar),))
        answer = f"{name}={format_concentration(molar)}"
    elif kind == "mystery-cell":
        label, values = pick.choice(CHANNEL_CHOICES)
        factor = pick.choice(values)
        setup = Setup(channel_factors=((label, factor),))
        answer = f"{label} x{_number_text(factor)}"
    else:
        ion, values = pick.choice(ION_CHOICES)
        mm = pick.choice(values)
        setup = Setup(ion_overrides=(f"out:{ion}={_number_text(mm)}",))
        answer = f"{ion}={_number_text(mm)}mM"
    return Key(kind, canonical_answer(kind, answer), setup)


def commit(canonical: str, salt: bytes) -> str:
    """The salted commitment (hex) to a canonical answer."""
    return hashlib.pbkdf2_hmac("sha256", canonical.encode(), salt, ITERATIONS).hex()


def is_correct(exercise: Exercise, answer: str) -> bool:
    """True if the answer falls in the committed bin (VrigError if it cannot be read)."""
    return hmac.compare_digest(commit(canonical_answer(exercise.kind, answer), exercise.salt),
                               exercise.commitment)


def _keystream(salt: bytes, n: int) -> bytes:
    blocks = (hashlib.sha256(b"vrig-setup" + salt + i.to_bytes(4, "big")).digest()
              for i in range((n + 31) // 32))
    return b"".join(blocks)[:n]


def _scramble(data: bytes, salt: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, _keystream(salt, len(data))))


def exercise_text(key: Key, salt: bytes | None = None) -> str:
    """The file's text for a key (a fresh random salt unless one is given)."""
    salt = os.urandom(16) if salt is None else salt
    title, task, form = TASKS[key.kind]
    plain = json.dumps({"cell": key.setup.cell, "drugs": [list(d) for d in key.setup.drugs],
                        "channel_factors": [list(f) for f in key.setup.channel_factors],
                        "ion_overrides": list(key.setup.ion_overrides)}).encode()
    return json.dumps({
        "format": FORMAT, "version": VERSION, "kind": key.kind, "title": title,
        "task": task, "answer_format": form, "salt": salt.hex(),
        "commitment": commit(key.answer, salt),
        "setup": base64.b64encode(_scramble(plain, salt)).decode()}, indent=1) + "\n"


def write_exercise(key: Key, path: str | Path) -> None:
    """Write an exercise file for the key."""
    try:
        Path(path).write_text(exercise_text(key), encoding="utf-8")
    except OSError as exc:
        raise VrigError(f"{printable(str(path))}: cannot write: {exc.strerror or exc}") from None


def load_exercise(path: str | Path) -> Exercise:
    """Read and check an exercise file; VrigError 'FILE: line N: ...' when it is bad."""
    data, text = read_json(path, "exercise")
    return _exercise_from(data, text, printable(str(path)))


def load_exercise_text(text: str, name: str) -> Exercise:
    """An exercise from its JSON text (name: the file's name, for messages)."""
    return _exercise_from(*parse_json(text, name, "exercise"), printable(name))


def _exercise_from(data: dict[str, Any], text: str, name: str) -> Exercise:

    def field(key: str, kind: type = str) -> Any:
        if key not in data:
            raise VrigError(f"{name}: line 1: not a vRig exercise file ('{key}' is missing)")
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise VrigError(f"{name}: line {line_of(text, key)}: '{key}' must be "
                            f"{'text' if kind is str else 'a whole number'}")
        return value

    if field("format") != FORMAT:
        raise VrigError(f"{name}: line {line_of(text, 'format')}: format is not {FORMAT!r}")
    if field("version", int) > VERSION:
        raise VrigError(f"{name}: line {line_of(text, 'version')}: version {data['version']} "
                        f"is newer than this vRig reads ({VERSION}); update vRig")
    kind = field("kind")
    if kind not in KINDS:
        raise VrigError(f"{name}: line {line_of(text, 'kind')}: unknown kind "
                        f"{printable(kind)!r}; one of {', '.join(KINDS)}")
    try:
        salt = bytes.fromhex(field("salt"))
        commitment = field("commitment")
        bytes.fromhex(commitment)
    except ValueError:
        raise VrigError(f"{name}: line {line_of(text, 'salt')}: salt and commitment must be "
                        "hexadecimal; the file was altered") from None
    setup = _read_setup(field("setup"), salt, f"{name}: line {line_of(text, 'setup')}")
    return Exercise(kind, field("title"), field("task"), field("answer_format"), salt,
                    commitment, setup)


def _read_setup(blob: str, salt: bytes, where: str) -> Setup:
    try:
        plain = _scramble(base64.b64decode(blob, validate=True), salt)
        data = json.loads(plain.decode())
        setup = Setup(cell=str(data["cell"]),
                      drugs=tuple((str(n), float(c)) for n, c in data["drugs"]),
                      channel_factors=tuple((str(n), float(f))
                                            for n, f in data["channel_factors"]),
                      ion_overrides=tuple(str(t) for t in data["ion_overrides"]))
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise VrigError(f"{where}: the setup cannot be read; the file was altered or "
                        "damaged (ask for a fresh copy)") from None
    if not all(math.isfinite(c) and c >= 0 for _, c in setup.drugs) or not all(
            math.isfinite(f) and 0 < f <= 100 for _, f in setup.channel_factors):
        raise VrigError(f"{where}: the setup holds impossible values; the file was altered")
    return setup


def key_for(exercise: Exercise, seed: int) -> Key:
    """The key an exercise was made with from the instructor's seed; VrigError if that
    seed did not make it."""
    key = make_key(exercise.kind, seed)
    if not hmac.compare_digest(commit(key.answer, exercise.salt), exercise.commitment):
        raise VrigError(f"seed {seed} did not make this {exercise.kind} exercise; use the "
                        "seed given to `vrig exercise new`")
    return key
