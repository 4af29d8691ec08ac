"""Data side of alexatm-jax: vocabulary, pretraining objectives, tasks, evaluation data and metrics.

Importing `tasks` is light (no TensorFlow, no seqio). Tasks register when their modules are imported:
`import tasks.all` (everything), `tasks.pretraining` (mC4 + Wikipedia), `tasks.default_tasks` (the
offline default corpus). `tasks.get_mixture_or_task(name)` imports `tasks.all` on a miss.
"""

from __future__ import annotations

from typing import Any


def get_mixture_or_task(name: str) -> Any:
    """The registered seqio Task or Mixture `name` (see `tasks.registry.get_mixture_or_task`)."""
    from tasks.registry import get_mixture_or_task as _get

    return _get(name)


__all__ = ["get_mixture_or_task"]
