"""Lookup of registered seqio tasks and mixtures (with helpful errors), registration helpers, the evaluation
families, and the one place that sets the TFDS data dir."""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Callable, Sequence
from typing import Any


class UnknownTaskError(ValueError):
    """Raised for a name that is neither a registered task nor mixture."""


class TaskDataError(ValueError):
    """A task's data file is malformed or holds an unknown value; the message names the file, the line and the
    fix (entry points report it like their own data errors: exit 2, no traceback)."""


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


# ----------------------------------------------------------------------------- the TFDS data dir

_tfds_data_dir: str | None = None


def set_tfds_data_dir(path: str | None) -> None:
    """Where prepared TFDS datasets live, for every task (pretraining and evaluation): the one place to set it.

    It is seqio's own override (what T5X's `--tfds_data_dir` sets: every `seqio.TfdsDataSource` reads it),
    recorded here too for the evaluation loaders that call TFDS directly.
    """
    import seqio

    global _tfds_data_dir
    _tfds_data_dir = path or None
    seqio.set_tfds_data_dir_override(_tfds_data_dir)


def tfds_data_dir() -> str | None:
    """The TFDS data dir set with `set_tfds_data_dir` (None: TFDS's default, `$TFDS_DATA_DIR`)."""
    return _tfds_data_dir


# ----------------------------------------------------------------------------- evaluation families


@dataclasses.dataclass(frozen=True)
class EvalFamily:
    """A family of evaluation tasks (Flores-101, SuperGLUE, ...): what the evaluator needs to know of it.

    `register(vocabulary, settings)` (re-)registers the family's tasks and mixtures for a seqio vocabulary and
    a `tasks.eval_settings.EvalSettings`, returning the task names. `check_data(settings, task_names)` raises,
    before any model is loaded, when the data of those tasks cannot be found (naming the expected layout and the
    flag that sets it).
    Families with `caps_examples` cap their examples themselves (`settings.max_eval_examples` counts questions,
    not candidates), so the evaluator must not cut their datasets.
    """

    name: str
    prefix: str  # every task name of the family starts with it
    eval_split: str
    register: Callable[[Any, Any], list[str]]
    check_data: Callable[[Any, Sequence[str]], None] = lambda settings, task_names: None
    caps_examples: bool = True


_families: dict[str, EvalFamily] = {}


def add_eval_family(family: EvalFamily) -> EvalFamily:
    """Registers (or replaces) an evaluation family; its module calls this at import."""
    _families[family.name] = family
    return family


def eval_families() -> list[EvalFamily]:
    """Every registered evaluation family (import `tasks.all` first to have them all)."""
    return list(_families.values())


def eval_family_of(task_name: str) -> EvalFamily | None:
    """The family a task belongs to (longest matching prefix), or None."""
    matches = [f for f in _families.values() if task_name.startswith(f.prefix)]
    return max(matches, key=lambda f: len(f.prefix)) if matches else None
