"""Runs with 8 simulated CPU devices for `test_api.py`: the same checkpoint on 1 device and sharded over 8.

Usage: XLA_FLAGS=--xla_force_host_platform_device_count=8 python sharded_inference_worker.py CKPT OUT.json
"""

from __future__ import annotations

import json
import sys

import jax


def run(lm) -> dict:
    prompts = ["Hello world", "Le chat est sur la table.", "Ein"]
    return {
        "greedy": lm.generate(prompts, max_new_tokens=6, return_details=True),
        "beams": lm.generate(prompts[:2], max_new_tokens=6, num_beams=3, num_return_sequences=2,
                             return_details=True),
        "score": lm.score(prompts, ["again", "et le chien", "zwei"]).tolist(),
    }


def main(checkpoint: str, out: str) -> None:
    import alexatm_jax
    from alexatm_jax.partitioning import FSDP_TP_RULES, Partitioner

    assert len(jax.devices()) == 8, jax.devices()
    single = alexatm_jax.load(checkpoint)
    partitioner = Partitioner(mesh_shape=(1, 4, 2), logical_axis_rules=FSDP_TP_RULES)
    sharded = alexatm_jax.load(checkpoint, partitioner=partitioner)
    kernel = sharded.params["decoder"]["stack"]["layers"]["mlp"]["wi"]["kernel"]
    result = {"single": run(single), "sharded": run(sharded),
              "kernel_shards": len({str(s.index) for s in kernel.addressable_shards}),
              "kernel_shard_shape": list(kernel.addressable_shards[0].data.shape), "kernel_shape": list(kernel.shape)}
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
