"""The errors a user can fix: entry points report them in one paragraph and exit 2 (no traceback).

Both subclass `ValueError`, so callers of the Python API that catch `ValueError` keep working.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting is missing, misspelt or inconsistent (flags, gin, model config, paths); the message says how
    to fix it."""


class DataError(ValueError):
    """Input data or a file on disk is missing, malformed or damaged; the message names it and what to do."""
