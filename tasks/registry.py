"""Lookup of registered seqio tasks and mixtures, with helpful errors; registration helpers."""

from __future__ import annotations

import difflib
from typing import Any


class UnknownTaskError(ValueError):
    """Raised for a name that is neither a registered task nor mixture."""


def registered_names() -> list[str]:
    """Sorted names of every registered seqio task and mixture."""
    import seqio

    return sorted(set(seqio.TaskRegistry.names()) | set(seqio.MixtureRegistry.names()))


def get_mixture_or_task(name: str) -> Any:
    """The registered seqio Task or Mixture `name`, or `UnknownTaskError` with the closest names.

    Tasks register when their module is imported; the caller imports it first (`import tasks.all` registers
    every task of the project; the entry points do, and `DatasetConfig.module` names another).
    """
    import seqio

    names = registered_names()
    if name in names:
        return seqio.get_mixture_or_task(name)
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.4)
    hint = f" Did you mean {', '.join(close)}?" if close else ""
    raise UnknownTaskError(
        f"Unknown task or mixture {name!r}.{hint} {len(names)} are registered: list them with "
        "`python -m tasks.inspect --list`. A task registers when its module is imported (`tasks.all` registers "
        "every task of the project; for your own, set DatasetConfig.module to your module)."
    )


def add_task(name: str, source: Any, **kwargs: Any) -> Any:
    """`seqio.TaskRegistry.add`, replacing an existing task of that name (registration is re-runnable)."""
    import seqio

    if name in seqio.TaskRegistry.names():
        seqio.TaskRegistry.remove(name)
    return seqio.TaskRegistry.add(name, source=source, **kwargs)


def add_mixture(name: str, tasks: Any, **kwargs: Any) -> Any:
    """`seqio.MixtureRegistry.add`, replacing an existing mixture of that name."""
    import seqio

    if name in seqio.MixtureRegistry.names():
        seqio.MixtureRegistry.remove(name)
    return seqio.MixtureRegistry.add(name, tasks, **kwargs)
