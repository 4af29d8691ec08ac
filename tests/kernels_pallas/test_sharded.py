"""The kernels per device on a mesh (`kernels_pallas.sharded`): which axes split, and the same numbers as one call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jax.sharding import AbstractMesh

from kernels_pallas.sharded import usable_axes

REPO = Path(__file__).resolve().parents[2]
MESH = AbstractMesh((2, 2, 2), ("data", "fsdp", "tensor"))


@pytest.mark.parametrize("axes, size, expected", [
    (("data", "fsdp"), 8, ("data", "fsdp")),
    (("data", "fsdp"), 6, ("data",)),  # 4 does not divide 6: the trailing axis is dropped
    (("data", "fsdp"), 3, None),  # nothing divides 3: the dimension stays whole
    ("tensor", 4, ("tensor",)),
    (("data", "pipeline"), 4, ("data",)),  # not a mesh axis
    (None, 8, None),
])
def test_usable_axes_split_only_what_divides(axes, size, expected):
    assert usable_axes(MESH, axes, size) == expected


def test_usable_axes_skip_size_one_and_empty_meshes():
    assert usable_axes(AbstractMesh((8, 1), ("data", "fsdp")), ("data", "fsdp"), 8) == ("data",)
    assert usable_axes(AbstractMesh((), ()), ("data", "fsdp"), 8) is None


def test_sharded_kernels_match_one_call_on_8_devices():
    """Batch over data x fsdp, heads over tensor; a decode batch of 3 that no batch axis divides stays whole."""
    script = textwrap.dedent("""
        import jax, jax.numpy as jnp, numpy as np
        from jax.sharding import Mesh
        from kernels_pallas import decode_attention, flash_attention
        from kernels_pallas.sharded import sharded_decode_attention, sharded_flash_attention

        mesh = Mesh(np.asarray(jax.devices()).reshape(2, 2, 2), ("data", "fsdp", "tensor"))
        where = dict(mesh=mesh, batch_axes=("data", "fsdp"), head_axes="tensor")
        rng = np.random.default_rng(0)
        q, k, v = (jnp.asarray(rng.standard_normal((4, n, 2, 16)), jnp.float32) for n in (20, 24, 24))
        seg_q = jnp.asarray(rng.integers(0, 3, (4, 20)), jnp.int32)
        seg_kv = jnp.asarray(rng.integers(0, 3, (4, 24)), jnp.int32)
        opts = dict(q_segment_ids=seg_q, kv_segment_ids=seg_kv, q_lengths=jnp.array([20, 7, 0, 13]),
                    kv_lengths=jnp.array([24, 5, 9, 0]), causal=True)

        def loss(fn):
            return lambda q, k, v: jnp.sum(fn(q, k, v, **opts) ** 2)

        with jax.set_mesh(mesh):
            sharded = jax.jit(jax.value_and_grad(loss(lambda *a, **o: sharded_flash_attention(*a, **o, **where)),
                                                 argnums=(0, 1, 2)))(q, k, v)
            text = jax.jit(lambda q, k, v: sharded_flash_attention(q, k, v, **opts, **where)).lower(q, k, v).as_text()
        single = jax.value_and_grad(loss(flash_attention), argnums=(0, 1, 2))(q, k, v)
        for a, b in zip(jax.tree_util.tree_leaves(sharded), jax.tree_util.tree_leaves(single)):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        assert "manual_computation" in text  # the kernel runs inside the shard_map, not replicated

        qd = jnp.asarray(rng.standard_normal((3, 2, 16)), jnp.float32)
        kd, vd = (jnp.asarray(rng.standard_normal((3, 40, 2, 16)), jnp.float32) for _ in range(2))
        lengths = jnp.array([40, 1, 17], jnp.int32)
        with jax.set_mesh(mesh):
            out = jax.jit(lambda *a: sharded_decode_attention(*a, **where))(qd, kd, vd, lengths)
        np.testing.assert_allclose(out, decode_attention(qd, kd, vd, lengths), rtol=1e-5, atol=1e-6)
        print("ok")
    """)
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8 --xla_backend_optimization_level=0",
           "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]
