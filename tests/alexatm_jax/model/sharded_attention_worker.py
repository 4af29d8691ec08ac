"""Runs on 8 simulated CPU devices for `test_attention_sharded.py`: the Pallas kernels inside the partitioned train
step and the partitioned decoding of `gin/partitioning/<name>.gin` files, against `attention_impl="xla"`.

    XLA_FLAGS=--xla_force_host_platform_device_count=8 python sharded_attention_worker.py OUT.json fsdp_tp [dp ...]

Per partitioning: the mesh and rules; the reference (xla: loss and gradients of one partitioned `jit`, greedy
outputs of `Seq2SeqLM.generate`); the Pallas model's `Trainer.train_step` (plain SGD with learning rate 1, so the
parameter change is minus the gradient), its greedy outputs, and where each kernel call runs (inside a
`shard_map` or not, the shape of its first operand there) in the training and the decoding computations.
"""

from __future__ import annotations

import importlib.util  # noqa: F401  (gin-config 0.5.0 needs it before gin)
import json
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

import gin
from alexatm_jax.api import Seq2SeqLM
from alexatm_jax.cli import gin_config
from alexatm_jax.model.config import ModelConfig
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel
from alexatm_jax.partitioning import Partitioner, shard_batch
from alexatm_jax.training.optimizers import Optimizer
from alexatm_jax.training.trainer import Trainer
from tests.alexatm_jax.decoding_fixtures import random_params

# Tiny, with head counts the tensor axis (2) divides; head dim 16 (the kernels' smallest tile).
CONFIG = ModelConfig(vocab_size=64, d_model=32, num_encoder_layers=2, num_decoder_layers=2, num_encoder_heads=2,
                     num_decoder_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=48, max_position_embeddings=64)
PROMPTS = [[5, 6, 7, 8, 2], [9, 10, 2], [11, 2], [12, 13, 14, 15, 16, 17, 2]]
BATCH_SIZE, ENCODER_LENGTH, DECODER_LENGTH, MAX_DECODE_LENGTH = 8, 12, 8, 8


def packed_batch() -> dict[str, np.ndarray]:
    """Packed and padded examples: two segments in even rows, three padding positions at the end of odd rows."""
    rng = np.random.default_rng(0)
    batch: dict[str, np.ndarray] = {}
    for side, length in (("encoder", ENCODER_LENGTH), ("decoder", DECODER_LENGTH)):
        seg = np.ones((BATCH_SIZE, length), np.int32)
        pos = np.broadcast_to(np.arange(length, dtype=np.int32), seg.shape).copy()
        cut = length // 2
        seg[0::2, cut:] = 2
        pos[0::2, cut:] -= cut
        seg[1::2, length - 3:] = 0
        pos[1::2, length - 3:] = 0
        batch[f"{side}_segment_ids"], batch[f"{side}_positions"] = seg, pos
    batch["encoder_input_tokens"] = rng.integers(3, 64, (BATCH_SIZE, ENCODER_LENGTH)).astype(np.int32)
    batch["decoder_target_tokens"] = rng.integers(3, 64, (BATCH_SIZE, DECODER_LENGTH)).astype(np.int32)
    dec_in = np.roll(batch["decoder_target_tokens"], 1, axis=1)
    dec_in[batch["decoder_positions"] == 0] = CONFIG.decoder_start_token_id
    batch["decoder_input_tokens"] = dec_in
    batch["decoder_loss_weights"] = (batch["decoder_segment_ids"] > 0).astype(np.int32)
    return batch


def kernel_calls(jaxpr: Any, under_shard_map: bool = False) -> list[dict]:
    """Every `pallas_call` in a jaxpr (sub-jaxprs included): its name, whether a `shard_map` encloses it, and the
    shape of its first operand as the kernel sees it."""
    calls = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "pallas_call":
            calls.append({"name": str(eqn.params.get("name")), "under_shard_map": under_shard_map,
                          "first_operand": list(eqn.invars[0].aval.shape)})
        inside = under_shard_map or eqn.primitive.name == "shard_map"
        for value in eqn.params.values():
            for sub in value if isinstance(value, (list, tuple)) else (value,):
                sub = getattr(sub, "jaxpr", sub)
                if hasattr(sub, "eqns"):
                    calls.extend(kernel_calls(sub, inside))
    return calls


def greedy(model: EncoderDecoderModel, params: Any, partitioner: Partitioner) -> dict:
    lm = Seq2SeqLM(model.config, params, partitioner=partitioner)
    out = lm.generate(PROMPTS, max_new_tokens=5, return_details=True)
    return {"tokens": [d["tokens"] for d in out], "log_likelihoods": [d["log_likelihood"] for d in out]}


def reference(partitioner: Partitioner, params: Any, batch: dict[str, np.ndarray]) -> dict:
    """xla attention: loss and gradients of one partitioned jit, and greedy outputs."""
    model = EncoderDecoderModel(CONFIG)
    shardings = partitioner.shardings(model.logical_axes())
    loss_and_grads = jax.jit(jax.value_and_grad(lambda p, b: model.loss_fn(p, b, None)[0]),
                             in_shardings=(shardings, partitioner.batch_sharding),
                             out_shardings=(partitioner.replicated, shardings))
    with partitioner.activation_context():
        sharded_params = jax.device_put(params, shardings)
        loss, grads = loss_and_grads(sharded_params, shard_batch(batch, partitioner.batch_sharding))
    return {"loss": float(loss), "grads": flat(grads), **greedy(model, sharded_params, partitioner)}


def pallas(partitioner: Partitioner, params: Any, batch: dict[str, np.ndarray]) -> dict:
    """Pallas attention: one `Trainer.train_step` (SGD, learning rate 1), greedy outputs and kernel placements."""
    model = EncoderDecoderModel(CONFIG.replace(attention_impl="pallas"))
    sgd = Optimizer(optax.sgd(1.0), schedule=lambda step: 1.0)
    trainer = Trainer(model, sgd, partitioner)
    # Host copies: the step donates its state, which may alias `params` on device 0 (replicated layouts).
    state = trainer.init_state(jax.tree_util.tree_map(np.asarray, params))
    sharded_batch = shard_batch(batch, partitioner.batch_sharding)
    new_state, metrics = trainer.train_step(state, sharded_batch)
    minus_grads = jax.tree_util.tree_map(lambda new, old: old - new, new_state.params, params)

    sharded_params = jax.device_put(params, trainer.param_shardings)
    prompt = jnp.asarray(np.array([[5, 6, 7, 2] * 2] * BATCH_SIZE, np.int32))
    prompt_seg = jnp.ones_like(prompt)

    def decode_once(p, tokens, seg):
        encoded = model.encode(p, tokens, seg)
        cache = model.init_cache(p, encoded, seg, MAX_DECODE_LENGTH)
        step_tokens = jnp.zeros((tokens.shape[0], 1), jnp.int32)
        return model.decode_step(p, cache, encoded, seg, step_tokens, step_tokens)[0]

    with partitioner.activation_context():
        train_jaxpr = jax.make_jaxpr(jax.value_and_grad(lambda p, b: model.loss_fn(p, b, None)[0]))(
            sharded_params, sharded_batch)
        decode_jaxpr = jax.make_jaxpr(decode_once)(sharded_params, prompt, prompt_seg)
    return {
        "loss": float(metrics["loss"]), "grad_norm": float(metrics["grad_norm"]), "grads": flat(minus_grads),
        **greedy(model, sharded_params, partitioner),
        "train_kernels": kernel_calls(train_jaxpr.jaxpr), "decode_kernels": kernel_calls(decode_jaxpr.jaxpr),
    }


def flat(tree: Any) -> dict[str, list[float]]:
    return {jax.tree_util.keystr(path): np.asarray(x).ravel().tolist()
            for path, x in jax.tree_util.tree_leaves_with_path(tree)}


def main(out: str, *partitionings: str) -> None:
    assert jax.device_count() == 8, jax.devices()
    # Weights 10x the init scale: peaked attention, so a kernel that mixes up examples, heads or keys shows.
    params = jax.tree_util.tree_map(jnp.asarray, random_params(EncoderDecoderModel(CONFIG), scale=10.0))
    batch = packed_batch()
    results = {}
    for name in partitionings:
        gin_config.parse([f"gin/partitioning/{name}.gin"])
        partitioner = gin.get_configurable(Partitioner)()
        results[name] = {"mesh": dict(partitioner.mesh.shape), "rules": [list(r) for r in partitioner.rules],
                         "num_heads": CONFIG.num_encoder_heads, "batch_size": BATCH_SIZE,
                         "xla": reference(partitioner, params, batch), "pallas": pallas(partitioner, params, batch)}
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], *sys.argv[2:])
