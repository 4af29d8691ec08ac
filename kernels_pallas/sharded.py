"""The attention kernels on a device mesh: `shard_map` over the batch and head axes.

To XLA's SPMD partitioner a Pallas kernel is one opaque custom call, which it can only replicate: under a
partitioned `jit` every device would gather the whole batch and run the kernel on all of it. Attention is
independent across examples and heads, so here each device runs the kernel on its own block of examples and
heads and nothing is communicated. The caller names the mesh axes (it owns the logical rules); this module
knows only the kernels' argument layouts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import jax
from jax.sharding import PartitionSpec as P

from kernels_pallas import api

MeshAxes = str | Sequence[str] | None


def usable_axes(mesh: Any, axes: MeshAxes, size: int) -> tuple[str, ...] | None:
    """The mesh axes (of `axes`) that can split a dimension of `size`, or None to keep it whole.

    Axes missing from the mesh, of size 1 or already manual (inside another `shard_map`) are dropped, then
    trailing ones until their product divides `size` (e.g. a decoding batch of 1 stays whole on every device).
    """
    if axes is None:
        return None
    names = (axes,) if isinstance(axes, str) else tuple(axes)
    manual = set(getattr(mesh, "manual_axes", ()))
    names = tuple(a for a in names if a in mesh.shape and mesh.shape[a] > 1 and a not in manual)
    while names and size % math.prod(mesh.shape[a] for a in names):
        names = names[:-1]
    return names or None


def _shard(kernel: Callable, mesh: Any, arrays: dict[str, jax.Array], specs: dict[str, P], out_spec: P):
    # check_vma=False: a pallas_call's outputs carry no varying-axes type in JAX 0.10/0.11 (shard_map would ask
    # for `manual_axis_type` on every out_shape). Safe here: every input and the output are split the same way.
    return jax.shard_map(
        kernel, mesh=mesh, in_specs=({k: specs[k] for k in arrays},), out_specs=out_spec, check_vma=False,
    )(arrays)


def sharded_flash_attention(
    q: jax.Array, k: jax.Array, v: jax.Array, *, mesh: Any, batch_axes: MeshAxes, head_axes: MeshAxes,
    q_segment_ids: jax.Array | None = None, kv_segment_ids: jax.Array | None = None,
    q_lengths: jax.Array | None = None, kv_lengths: jax.Array | None = None, **kernel_options: Any,
) -> jax.Array:
    """`flash_attention` with [B, S, H, D] inputs split over `batch_axes` (B) and `head_axes` (H) of `mesh`.

    `kernel_options` are `flash_attention`'s (causal, sm_scale, blocks, interpret, backend). Differentiable.
    """
    b = usable_axes(mesh, batch_axes, q.shape[0])
    h = usable_axes(mesh, head_axes, q.shape[2])
    arrays = {"q": q, "k": k, "v": v, "q_segment_ids": q_segment_ids, "kv_segment_ids": kv_segment_ids,
              "q_lengths": q_lengths, "kv_lengths": kv_lengths}
    arrays = {name: x for name, x in arrays.items() if x is not None}
    if b is None and h is None:
        return api.flash_attention(**arrays, **kernel_options)
    heads = P(b, None, h, None)
    specs = {"q": heads, "k": heads, "v": heads, "q_segment_ids": P(b, None), "kv_segment_ids": P(b, None),
             "q_lengths": P(b), "kv_lengths": P(b)}
    return _shard(lambda a: api.flash_attention(**a, **kernel_options), mesh, arrays, specs, heads)


def sharded_decode_attention(
    q: jax.Array, k_cache: jax.Array, v_cache: jax.Array, lengths: jax.Array, *, mesh: Any,
    batch_axes: MeshAxes, head_axes: MeshAxes, **kernel_options: Any,
) -> jax.Array:
    """`decode_attention` (q [B, H, D], caches [B, S, H, D], lengths [B]) split over batch and head mesh axes."""
    b = usable_axes(mesh, batch_axes, q.shape[0])
    h = usable_axes(mesh, head_axes, q.shape[1])
    arrays = {"q": q, "k_cache": k_cache, "v_cache": v_cache, "lengths": lengths}
    if b is None and h is None:
        return api.decode_attention(**arrays, **kernel_options)
    cache = P(b, None, h, None)
    specs = {"q": P(b, h, None), "k_cache": cache, "v_cache": cache, "lengths": P(b)}
    return _shard(lambda a: api.decode_attention(**a, **kernel_options), mesh, arrays, specs, P(b, h, None))
