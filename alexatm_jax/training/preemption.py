"""Preemption: a SIGTERM to any process stops training on every process after the same step, with a checkpoint.

Multi-process runs use JAX's preemption sync point (`multihost_utils.reached_preemption_sync_point`, what orbax's
`CheckpointManager.reached_preemption` calls): JAX's coordination service catches SIGTERM on each process and
picks the step after the furthest process's latest check, at which every process gets True. The check is a local
read, with no collective and no wait for the device, so the loop keeps one step queued. Checks are numbered by
the global step, as orbax numbers its own (`CheckpointManager.save` checks too); the watch checks the resumed
step as soon as it starts. A SIGTERM that reaches every process before that (during start-up) goes unanswered:
the run trains on until the scheduler kills it, having done little since its checkpoint.

A single process records SIGTERM in a Python signal handler (JAX's service only exists under
`jax.distributed`). Multi-process runs with the service turned off (`jax_enable_preemption_service=False`) use
that handler plus an all-gather of the flags every `fallback_every_steps` steps, steps at which the loop
already waits for the device.
"""

from __future__ import annotations

import logging
import signal
import threading

import jax
import numpy as np

log = logging.getLogger(__name__)


class PreemptionWatch:
    """Answers, after each step and identically on every process, whether to save and stop."""

    def __init__(self, *, start_step: int, fallback_every_steps: int):
        self.fallback_every_steps = max(1, fallback_every_steps)
        self._received = False
        self._previous_handler = None
        self._sync_point = jax.process_count() > 1 and _sync_point_available(start_step)
        if not self._sync_point and threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGTERM, self._handle)
        if jax.process_count() > 1 and not self._sync_point:
            log.info("JAX's preemption service is off: the processes compare SIGTERM flags every %d steps.",
                     self.fallback_every_steps)

    def _handle(self, signum, frame) -> None:
        del signum, frame
        self._received = True

    def reached(self, step: int) -> bool:
        """True on every process at the same step once any process got SIGTERM; call it after every step."""
        from jax.experimental import multihost_utils

        if self._sync_point:
            return multihost_utils.reached_preemption_sync_point(step)
        if jax.process_count() == 1:
            return self._received
        if step % self.fallback_every_steps:
            return False
        return bool(np.any(multihost_utils.process_allgather(np.asarray(self._received, np.int32))))

    def close(self) -> None:
        """Gives SIGTERM back to the handler that was there before."""
        if self._previous_handler is not None:
            signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None


def _sync_point_available(start_step: int) -> bool:
    """Whether JAX's preemption sync manager runs (`jax.distributed.initialize` starts it unless turned off).

    Asking records `start_step` as this process's latest check, which the service's protocol builds on.
    """
    from jax.experimental import multihost_utils

    try:
        multihost_utils.reached_preemption_sync_point(start_step)
    except RuntimeError:
        return False
    return True
