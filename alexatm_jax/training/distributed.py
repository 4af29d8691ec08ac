"""Multi-process set-up (`jax.distributed.initialize`) and which rows of a global batch each process feeds.

Settings come from flags or the environment: `ALEXATM_COORDINATOR_ADDRESS` (host:port),
`ALEXATM_NUM_PROCESSES`, `ALEXATM_PROCESS_ID` (JAX's own `JAX_COORDINATOR_ADDRESS`, ... are read too). With
none of them, the run is single-process unless `auto=True`, which lets JAX detect the cluster (SLURM, Open MPI,
Cloud TPU). CPU processes talk through gloo (docs/STACK.md), set before initialisation.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import jax
import numpy as np

from alexatm_jax.errors import ConfigError

log = logging.getLogger(__name__)


def _env(*names: str) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return None


def initialize(coordinator_address: str | None = None, num_processes: int | None = None,
               process_id: int | None = None, *, auto: bool = False) -> bool:
    """Joins the process group when configured; returns True when running multi-process.

    Must run before anything touches a JAX device.
    """
    coordinator_address = coordinator_address or _env("ALEXATM_COORDINATOR_ADDRESS", "JAX_COORDINATOR_ADDRESS")
    if num_processes is None and (value := _env("ALEXATM_NUM_PROCESSES", "JAX_NUM_PROCESSES")):
        num_processes = int(value)
    if process_id is None and (value := _env("ALEXATM_PROCESS_ID", "JAX_PROCESS_ID")):
        process_id = int(value)
    if not coordinator_address and not auto:
        if num_processes not in (None, 1):
            raise ConfigError(f"num_processes={num_processes} but no coordinator address: pass "
                             "--coordinator_address=HOST:PORT (or set ALEXATM_COORDINATOR_ADDRESS).")
        return False
    if coordinator_address and (num_processes is None or process_id is None):
        raise ConfigError("A coordinator address needs the process count and this process's id: pass "
                         "--process_count=N --process_id=I (or ALEXATM_NUM_PROCESSES / ALEXATM_PROCESS_ID).")
    # Only affects the CPU backend; without it multi-process CPU computations cannot communicate.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    if coordinator_address:
        jax.distributed.initialize(coordinator_address, num_processes=num_processes, process_id=process_id)
    else:
        jax.distributed.initialize()
    log.info("Process %d of %d, %d local / %d global devices", jax.process_index(), jax.process_count(),
             jax.local_device_count(), jax.device_count())
    return jax.process_count() > 1


def process_rows(sharding: Any, global_batch_size: int) -> tuple[int, int]:
    """The contiguous rows [start, stop) of a global batch that this process's devices hold under `sharding`."""
    shape = (global_batch_size,)
    starts, stops = [], []
    for device, index in sharding.addressable_devices_indices_map(shape).items():
        del device
        rows = index[0]
        starts.append(rows.start or 0)
        stops.append(global_batch_size if rows.stop is None else rows.stop)
    start, stop = min(starts), max(stops)
    covered = np.zeros(global_batch_size, bool)
    for a, b in zip(starts, stops):
        covered[a:b] = True
    if not covered[start:stop].all():
        raise ConfigError(f"Process {jax.process_index()} holds non-contiguous batch rows under {sharding}: "
                         "order the mesh so each process's devices are adjacent along the batch axes.")
    return start, stop


def is_main_process() -> bool:
    return jax.process_index() == 0
