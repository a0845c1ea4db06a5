"""The method table: registry name -> the method's declaration (:class:`reactdiff.methods.base.Method`).

    from reactdiff.methods.registry import METHODS, get_method
    METHODS["reactdiff"].stages          # (autoencoder, diffusion)
    get_method("transvae").is_online(config)

Each entry is imported on first use, so listing commands (``reactdiff --help``) stays fast. A new
method is one folder with a ``method.py`` defining ``METHOD``, plus one line here; the
registry-wide tests then cover it.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Iterator

from reactdiff.errors import ConfigError

#: Registry name -> module defining ``METHOD``.
_MODULES = {
    "reactdiff": "reactdiff.methods.reactdiff.method",
    "belfusion": "reactdiff.methods.belfusion.method",
    "regnn": "reactdiff.methods.regnn.method",
    "reactface": "reactdiff.methods.reactface.method",
    "transvae": "reactdiff.methods.transvae.method",
}


class _MethodTable(Mapping):
    """A read-only mapping that imports each method's module when it is first looked up."""

    def __init__(self, modules: dict[str, str]):
        self._modules = modules
        self._loaded: dict = {}

    def __getitem__(self, name: str):
        if name not in self._loaded:
            if name not in self._modules:
                raise KeyError(name)
            self._loaded[name] = importlib.import_module(self._modules[name]).METHOD
        return self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


METHODS = _MethodTable(_MODULES)


def get_method(name: str):
    """The registered method ``name``; a ConfigError listing the registered ones otherwise."""
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; registered methods: {', '.join(METHODS)}")
    return METHODS[name]
