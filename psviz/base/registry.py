"""One way to look things up by name in psviz (losses, datasets, models, presets, the paper's benchmarks).

Each kind of thing has a `Registry`: entries are registered under a canonical name, and any spelling that differs
from it only in case, '-', '_' or spaces finds it and gives back that canonical name, so one thing has one name
(in configs, run keys, file names). A base module: it imports nothing from psviz.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

Entry = TypeVar("Entry")


def lenient_key(name: str) -> str:
    """The form names are matched in: lower case, without '-', '_' or whitespace ("Norm-SoftMax" -> "normsoftmax")."""
    return "".join(name.casefold().replace("-", "").replace("_", "").split())


class Registry(Generic[Entry]):
    """Entries of one kind under canonical names, in registration order; lookups forgive case, '-', '_' and spaces.

    ``kind`` names the kind of thing in error messages: ``Registry("loss")`` says "unknown loss 'x'; choose one
    of: ...". ``entries`` (a mapping of canonical name to entry) are registered at once, in their order.
    """

    def __init__(self, kind: str, entries: Mapping[str, Entry] | None = None):
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._names: dict[str, str] = {}  # lenient key -> canonical name
        for name, entry in (entries or {}).items():
            self.register(name, entry)

    def register(self, name: str, entry: Entry) -> Entry:
        """Add ``entry`` under the canonical ``name``; a name that matches one already registered raises ValueError."""
        key = lenient_key(name)
        if key in self._names:
            raise ValueError(f"{self.kind} {name!r} is already registered as {self._names[key]!r}")
        self._names[key] = name
        self._entries[name] = entry
        return entry

    def available(self) -> list[str]:
        """The canonical names, in registration order."""
        return list(self._entries)

    def canonical(self, name: str) -> str:
        """The canonical name ``name`` stands for; an unknown name raises ValueError listing the valid ones."""
        if isinstance(name, str) and lenient_key(name) in self._names:
            return self._names[lenient_key(name)]
        raise ValueError(self._unknown(name))

    def get(self, name: str) -> Entry:
        """The entry ``name`` stands for (matched like `canonical`)."""
        return self._entries[self.canonical(name)]

    def items(self) -> list[tuple[str, Entry]]:
        """(canonical name, entry) pairs, in registration order."""
        return list(self._entries.items())

    def __contains__(self, name: object) -> bool:
        """Whether `canonical` would accept ``name`` (so "Norm-SoftMax" in a loss registry is True)."""
        return isinstance(name, str) and lenient_key(name) in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self.available())

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._entries)})"

    def _unknown(self, name: object) -> str:
        """The error for an unknown name: the valid names and, when one is close, a "did you mean" hint."""
        message = f"unknown {self.kind} {name!r}; choose one of: {', '.join(self._entries)}"
        if isinstance(name, str):
            close = difflib.get_close_matches(lenient_key(name), list(self._names), n=1)
            if close:
                message += f" (did you mean {self._names[close[0]]!r}?)"
        return message


__all__ = ["Registry", "lenient_key"]
