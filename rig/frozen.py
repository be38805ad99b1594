"""FrozenMap: a read-only mapping that can be hashed, compared and pickled, for the
fields of frozen values (a protocol's epochs, a solution's concentrations) that travel
as messages between the window and the engine."""

from collections.abc import Hashable, Iterator, Mapping
from typing import Any


class FrozenMap(Mapping[Any, Any]):
    """A read-only dict. FrozenMap({'a': 1}) == {'a': 1}; hashable when its values are."""

    __slots__ = ("_data",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._data = dict(*args, **kwargs)

    def __getitem__(self, key: Hashable) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"

    def __reduce__(self) -> tuple[type["FrozenMap"], tuple[dict[Any, Any]]]:
        return FrozenMap, (self._data,)
