"""FrozenMap: a read-only mapping that can be hashed, compared and pickled, for the
fields of frozen values (a protocol's epochs, a solution's concentrations) that travel
as messages between the window and the engine."""

from collections.abc import Mapping


class FrozenMap(Mapping):
    """A read-only dict. FrozenMap({'a': 1}) == {'a': 1}; hashable when its values are."""

    __slots__ = ("_data",)

    def __init__(self, *args, **kwargs):
        self._data = dict(*args, **kwargs)

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def __hash__(self):
        return hash(frozenset(self._data.items()))

    def __repr__(self):
        return f"FrozenMap({self._data!r})"

    def __reduce__(self):
        return FrozenMap, (self._data,)
