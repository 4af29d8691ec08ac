"""Device mesh and logical axis rules: the only place that decides how arrays are sharded (T5X style).

Model code names axes logically (`batch`, `length`, `embed`, `mlp`, `heads`, `kv`, `vocab`, `layers`, ...);
a `Partitioner` maps them onto a mesh with axes `data`, `fsdp`, `tensor` by rules that gin sets
(`gin/partitioning/{dp,fsdp,fsdp_tp}.gin`). The same model runs on one device or many.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import flax.linen as nn
import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from alexatm_jax.errors import ConfigError

MESH_AXES = ("data", "fsdp", "tensor")
LogicalRules = Sequence[tuple[str, Any]]

# Pure data parallelism: only the batch is split, parameters are replicated.
DATA_PARALLEL_RULES: LogicalRules = (("batch", ("data", "fsdp")),)
# Fully sharded data parallelism: parameters split along `embed` over `fsdp` (ZeRO-3 as the paper used).
FSDP_RULES: LogicalRules = (("batch", ("data", "fsdp")), ("embed", "fsdp"), ("vocab", "tensor"))
# FSDP plus tensor (Megatron-style) parallelism over heads, FFN and vocabulary.
FSDP_TP_RULES: LogicalRules = (
    ("batch", ("data", "fsdp")),
    ("embed", "fsdp"),
    ("heads", "tensor"),
    ("mlp", "tensor"),
    ("vocab", "tensor"),
)


def resolve_mesh_shape(mesh_shape: Sequence[int], num_devices: int) -> tuple[int, ...]:
    """Fills the single -1 in `mesh_shape` so the product equals `num_devices`; explains a mismatch."""
    shape = list(mesh_shape)
    if len(shape) != len(MESH_AXES):
        raise ConfigError(f"mesh_shape needs {len(MESH_AXES)} sizes for axes {MESH_AXES}, got {tuple(shape)}.")
    if shape.count(-1) > 1:
        raise ConfigError(f"mesh_shape {tuple(shape)} has more than one -1: only one axis can fill the rest.")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if num_devices % known:
            raise ConfigError(f"mesh_shape {tuple(shape)} cannot fill {num_devices} devices: {num_devices} is "
                             f"not divisible by {known}.")
        shape[shape.index(-1)] = num_devices // known
    if math.prod(shape) != num_devices:
        raise ConfigError(f"mesh_shape {tuple(shape)} covers {math.prod(shape)} devices but {num_devices} are "
                         "available: use -1 for one axis, e.g. --gin.Partitioner.mesh_shape=\"(-1, 1, 1)\".")
    return tuple(shape)


def make_mesh(mesh_shape: Sequence[int] = (-1, 1, 1), devices: Sequence[Any] | None = None) -> Mesh:
    """A mesh over all devices of all processes (or `devices`), axes `data`, `fsdp`, `tensor`.

    Accelerators are laid out by `mesh_utils.create_device_mesh`, which follows the physical topology (ICI
    rings, NVLink islands); CPU devices have no topology, so they are reshaped in order. Built as a plain `Mesh`
    (auto axis types): linen's logical constraints inside `nn.scan` need that (docs/STACK.md).
    """
    devices = list(jax.devices() if devices is None else devices)
    shape = resolve_mesh_shape(mesh_shape, len(devices))
    if all(d.platform == "cpu" for d in devices):
        return Mesh(np.asarray(devices, dtype=object).reshape(shape), MESH_AXES)
    from jax.experimental import mesh_utils

    try:
        grid = mesh_utils.create_device_mesh(shape, devices=devices, allow_split_physical_axes=True)
    except (ValueError, AssertionError, NotImplementedError) as e:
        raise ConfigError(
            f"mesh_shape {tuple(shape)} does not fit the topology of these {len(devices)} "
            f"{devices[0].device_kind} devices ({e}): choose a shape whose axes follow the hardware, e.g. "
            "--gin.Partitioner.mesh_shape=\"(1, -1, 1)\" for FSDP over all devices, or TENSOR_PARALLELISM "
            "equal to the devices of one host.") from e
    return Mesh(grid, MESH_AXES)


@dataclasses.dataclass(frozen=True)
class Partitioner:
    """Mesh plus logical axis rules; turns logical axis trees into shardings.

    The default is plain data parallelism: every device on the `data` axis, parameters replicated. FSDP and
    tensor parallelism are `gin/partitioning/{fsdp,fsdp_tp}.gin` (or `FSDP_RULES` / `FSDP_TP_RULES` with a
    matching `mesh_shape`).
    """

    mesh_shape: tuple[int, ...] = (-1, 1, 1)
    logical_axis_rules: LogicalRules = DATA_PARALLEL_RULES

    @functools.cached_property
    def mesh(self) -> Mesh:
        return make_mesh(self.mesh_shape)

    @property
    def rules(self) -> tuple[tuple[str, Any], ...]:
        return tuple((name, axes) for name, axes in self.logical_axis_rules)

    def shardings(self, logical_specs: Any) -> Any:
        """A tree of `NamedSharding`s from a tree of logical `PartitionSpec`s (e.g. `model.logical_axes()`)."""
        return nn.logical_to_mesh_sharding(logical_specs, self.mesh, self.rules)

    def sharding(self, *logical_axes: str | None) -> NamedSharding:
        return NamedSharding(self.mesh, nn.logical_to_mesh_axes(logical_axes, self.rules))

    @property
    def batch_sharding(self) -> NamedSharding:
        """How [batch, ...] input arrays are split: the leading axis over the `batch` rule."""
        return self.sharding("batch")

    @property
    def replicated(self) -> NamedSharding:
        return NamedSharding(self.mesh, PartitionSpec())

    @property
    def batch_divisor(self) -> int:
        """Global batch sizes must be a multiple of this (the devices the batch is split over)."""
        spec = self.batch_sharding.spec[0] if self.batch_sharding.spec else None
        axes = (spec,) if isinstance(spec, str) else tuple(spec or ())
        return math.prod(self.mesh.shape[a] for a in axes)

    def layout(self, logical_specs: Any, arrays: Any) -> list[dict[str, Any]]:
        """How each array of a tree is laid out, one row per leaf (for tables such as the sharding notebook's):
        `name`, `shape`, `logical` axes, `mesh` axes (the `PartitionSpec` the rules give) and `shard` (the
        shape each device holds). `logical_specs` as `model.logical_axes()`; `arrays`: a matching tree of arrays
        or `jax.ShapeDtypeStruct`s (e.g. `model.param_shapes()`)."""
        specs = jax.tree_util.tree_leaves_with_path(logical_specs, is_leaf=lambda x: isinstance(x, PartitionSpec))
        leaves = jax.tree_util.tree_leaves(arrays)
        if len(specs) != len(leaves):
            raise ValueError(f"{len(specs)} logical specs but {len(leaves)} arrays: pass matching trees.")
        rows = []
        for (path, spec), leaf in zip(specs, leaves):
            sharding = self.sharding(*spec)
            rows.append({"name": jax.tree_util.keystr(path, simple=True, separator="/"), "shape": tuple(leaf.shape),
                         "logical": tuple(spec), "mesh": sharding.spec, "shard": sharding.shard_shape(leaf.shape)})
        return rows

    @contextlib.contextmanager
    def activation_context(self) -> Iterator[None]:
        """Mesh and rules in scope, so `nn.with_logical_constraint` inside the model takes effect.

        `jax.set_mesh`, not `with mesh:`: the latter is deprecated and invisible to tracing in JAX >= 0.10 (flax's
        constraints silently did nothing, and the Pallas attention could not find the mesh to `shard_map` over).
        """
        with jax.set_mesh(self.mesh), nn.logical_axis_rules(self.rules):
            yield


def shard_batch(batch: dict[str, np.ndarray], sharding: NamedSharding) -> dict[str, jax.Array]:
    """Places a host-local numpy batch on the mesh (each process gives its own slice of the global batch)."""
    if jax.process_count() == 1:
        return {k: jax.device_put(v, sharding) for k, v in batch.items()}
    return {
        k: jax.make_array_from_process_local_data(sharding, v) for k, v in batch.items()
    }
