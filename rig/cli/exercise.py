"""``vrig exercise new|check|key``: instructor exercises with hidden answers
(see :mod:`rig.teaching.exercise` for the commitment scheme)."""

import argparse
from typing import Any

from rig.errors import VrigError
from rig.resources import printable
from rig.teaching import exercise as ex

EXIT_INCORRECT = 1


def add_parser(sub: "argparse._SubParsersAction[Any]") -> None:
    """Add `exercise` with its three subcommands."""
    parser = sub.add_parser("exercise", help="make and mark instructor exercises with "
                            "hidden answers")
    actions = parser.add_subparsers(dest="action", parser_class=type(parser))
    new = actions.add_parser("new", help="write an exercise file (the answer is not in it)")
    new.add_argument("--kind", required=True, choices=ex.KINDS)
    new.add_argument("--seed", required=True, help="a whole number; keep it: `key` needs it")
    new.add_argument("-o", "--output", required=True, help="the exercise file to write")
    check = actions.add_parser("check", help="print correct (exit 0) or incorrect (exit 1)")
    check.add_argument("file")
    check.add_argument("--answer", required=True, help="the student's answer")
    key = actions.add_parser("key", help="print the answer from the seed the file was "
                             "made with")
    key.add_argument("file")
    key.add_argument("--seed", required=True)


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        raise VrigError(f"--seed {printable(text)!r} is not a whole number") from None
    if not 0 <= seed < 2**63:
        raise VrigError(f"--seed {seed} is out of range (0 to 2**63-1)")
    return seed


def cmd_exercise(args: argparse.Namespace) -> int:
    """Run an exercise subcommand; returns the exit status."""
    if args.action == "new":
        key = ex.make_key(args.kind, _seed(args.seed))
        ex.write_exercise(key, args.output)
        print(f"wrote {printable(args.output)}: {args.kind}; `vrig exercise key "
              f"{printable(args.output)} --seed {args.seed}` prints the answer")
        return 0
    if args.action == "check":
        correct = ex.is_correct(ex.load_exercise(args.file), args.answer)
        print("correct" if correct else "incorrect")
        return 0 if correct else EXIT_INCORRECT
    if args.action == "key":
        key = ex.key_for(ex.load_exercise(args.file), _seed(args.seed))
        print(f"answer: {key.answer}")
        return 0
    raise VrigError("give an action: vrig exercise new|check|key (see vrig exercise -h)")
