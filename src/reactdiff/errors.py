"""Exceptions that carry a user-facing message naming the file and what is wrong."""

from __future__ import annotations

from pathlib import Path


class ReactDiffError(Exception):
    """Base class: the CLI prints these without a traceback and exits with status 2."""


class DataError(ReactDiffError):
    """A dataset file is missing, unreadable or violates the REACT data contract."""

    def __init__(self, path: str | Path | None, problem: str):
        self.path = None if path is None else Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path is not None else problem)

    def __reduce__(self):
        # Rebuilt from (path, problem), not from the formatted message: an error raised in a
        # ``prepare --workers`` process reaches the parent intact.
        return (type(self), (self.path, self.problem))


class ConfigError(ReactDiffError):
    """A configuration key is unknown or a value has the wrong type."""


class FeatureError(DataError):
    """Feature extraction failed on an input file (no face, no audio track, silence...)."""
