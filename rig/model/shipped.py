"""What ships in ``resources/``, scanned kind by kind so that one broken preset never
stops the others: each scan returns the presets that load and, for each one that does
not, its file and what is wrong with it (bad JSON, a wrong field, an oversized file,
a cell whose channel or solution is broken). The window shows the problems at start;
``vrig list`` prints the good ones and warns on stderr.
"""

from collections.abc import Callable
from typing import Any, TypeVar

from rig import resources
from rig.errors import VrigError

T = TypeVar("T")


def scan(kind: str, build: Callable[[Any, str], T]
         ) -> tuple[dict[str, T], list[tuple[str, str]]]:
    """({name: object}, [(path, problem)]) for every preset of a kind, where
    build(data, name) validates the parsed JSON and raises VrigError if it is wrong."""
    good: dict[str, T] = {}
    problems: list[tuple[str, str]] = []
    for name in resources.preset_names(kind):
        path = resources.resources_dir() / kind / f"{name}.json"
        try:
            good[name] = build(resources.load_preset(kind, name), name)
        except VrigError as exc:
            problems.append((str(path), str(exc)))
        except (TypeError, AttributeError, KeyError, IndexError) as exc:
            # A field of the wrong JSON type that a builder did not foresee: still the
            # file's fault, and still reported rather than raised.
            problems.append((str(path), f"a field has the wrong type ({exc})"))
    return good, problems
