"""Process-wide counters of documents the pipelines skipped, split or truncated.

tf.data has no counters a trainer can read, so the filters call back into python, only when an event
happens (a `tf.py_function` inside the taken branch of a `tf.cond`): the common path costs one
predicate. Counts cover what the pipeline processed, prefetched elements included, so they run a
little ahead of what the trainer consumed. A trainer logs `snapshot()` next to its metrics.
Pipelines that use the counters cannot be serialized (tf.data service, `Dataset.save`); every
counting preprocessor takes `count=False` to turn them off.
"""

from __future__ import annotations

import collections
import threading

import tensorflow as tf

_LOCK = threading.Lock()
_COUNTS: collections.Counter[str] = collections.Counter()


def increment(name: str, amount: int = 1) -> None:
    with _LOCK:
        _COUNTS[name] += int(amount)


def snapshot() -> dict[str, int]:
    """A copy of the counts, e.g. {"skipped_empty": 3, "split_long_document": 12}."""
    with _LOCK:
        return dict(_COUNTS)


def reset() -> None:
    with _LOCK:
        _COUNTS.clear()


# Plain TF ops: skip autograph's rewriting (see tasks.preprocessors).
@tf.autograph.experimental.do_not_convert
def count_if(condition: tf.Tensor, name: str, amount: tf.Tensor | int = 1) -> tf.Tensor:
    """In a tf.data function: adds `amount` to counter `name` when `condition` holds; returns `condition`."""

    def _bump(a):
        increment(name, int(a))
        return 0

    def _count():
        return tf.py_function(_bump, [tf.cast(amount, tf.int64)], tf.int32)

    done = tf.cond(condition, _count, lambda: tf.constant(0, tf.int32))
    with tf.control_dependencies([done]):
        return tf.identity(condition)
