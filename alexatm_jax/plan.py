"""`python -m alexatm_jax.plan`: will a model fit? Per-device memory of a compiled step, without any weights.

    python -m alexatm_jax.plan --gin_file=gin/models/alexatm_20b.gin --num_devices=8 \\
      [--gin_file=gin/partitioning/fsdp_tp.gin] [--step=forward|decode|train] \\
      [--batch_size=8 --input_length=1024 --target_length=256] [--device_memory_gib=40] [--json]

Compiles the step ahead of time on `num_devices` simulated CPU devices, parameters given as abstract arrays
(`jax.ShapeDtypeStruct` with their shardings from the partitioning rules), and prints the bytes per device for
parameters, cache or optimiser state, temporaries and the peak (XLA's `memory_analysis`). Steps: `forward`
(teacher-forced scoring of `target_length` tokens), `decode` (one incremental step with a cache of
`target_length` self-attention and `input_length` cross-attention positions), `train` (one AdamW update).
Inference steps hold parameters in the compute dtype (as `load(..., dtype=...)` does) unless `--param_dtype`.
Without a partitioning gin file, `partitioning/fsdp_tp.gin` is used. Exit codes: 0 fits (or no budget
given), 1 over `--device_memory_gib`, 2 configuration error.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Any

from absl import flags

from alexatm_jax.cli import app
from alexatm_jax.errors import ConfigError

STEPS = ("forward", "decode", "train")
GIB = 1024 ** 3


def use_simulated_devices(num_devices: int) -> None:
    """Makes JAX start with `num_devices` CPU devices (before its backend starts; re-running is fine)."""
    import jax

    os.environ["JAX_PLATFORMS"] = "cpu"
    jax.config.update("jax_platforms", "cpu")
    try:
        jax.config.update("jax_num_cpu_devices", num_devices)
    except RuntimeError:  # The backend already started (e.g. called in-process): it must match.
        pass
    if len(jax.devices()) != num_devices:
        raise ConfigError(f"JAX already started with {len(jax.devices())} devices, not {num_devices}: run "
                           "`python -m alexatm_jax.plan` in a fresh process.")


def plan(model: Any, partitioner: Any, *, step: str, batch_size: int, input_length: int,
         target_length: int) -> dict[str, Any]:
    """Compiles `step` for abstract parameters and returns its per-device memory (bytes) and shapes."""
    import flax.linen as nn
    import jax

    cfg = model.config
    if step not in STEPS:
        raise ConfigError(f"step={step!r} is unknown: use one of {STEPS}.")
    for name, length in (("input_length", input_length), ("target_length", target_length)):
        if not 1 <= length <= cfg.max_position_embeddings:
            raise ConfigError(f"{name}={length} must lie in [1, max_position_embeddings="
                              f"{cfg.max_position_embeddings}].")
    if batch_size % partitioner.batch_divisor:  # Rows cannot split evenly: keep the batch whole on every device.
        partitioner = type(partitioner)(partitioner.mesh_shape, _replicated_batch(partitioner.rules))
    boxed = model.abstract_params()
    param_shardings = partitioner.shardings(nn.get_partition_spec(boxed))
    params = jax.tree_util.tree_map(lambda x, s: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=s),
                                    nn.meta.unbox(boxed), param_shardings)
    report: dict[str, Any] = {
        "step": step, "num_devices": partitioner.mesh.size, "mesh": dict(partitioner.mesh.shape),
        "rules": [list(r) if not isinstance(r[1], tuple) else [r[0], list(r[1])] for r in partitioner.rules],
        "num_params": model.num_params(), "param_dtype": cfg.param_dtype, "dtype": cfg.dtype,
        "batch_size": batch_size, "input_length": input_length, "target_length": target_length,
        "param_bytes": _bytes_per_device(params),
    }
    started = time.perf_counter()
    with partitioner.activation_context():
        if step == "train":
            compiled, state, inputs = _compile_train(model, partitioner, batch_size, input_length, target_length)
            report["optimizer_state_bytes"] = state
        elif step == "forward":
            compiled, state, inputs = _compile_forward(model, partitioner, params, batch_size, input_length,
                                                       target_length)
        else:
            compiled, state, inputs = _compile_decode(model, partitioner, params, batch_size, input_length,
                                                      target_length)
            report["cache_bytes"] = state
        report["input_bytes"] = inputs
    report["compile_s"] = time.perf_counter() - started
    memory = compiled.memory_analysis()
    for field in ("argument", "output", "temp", "alias", "generated_code"):
        report[f"{field}_bytes"] = int(getattr(memory, f"{field}_size_in_bytes", 0) or 0)
    # Every parameter stays resident, also those the step does not read (XLA leaves them out of its
    # arguments: the encoder in `decode`), so the peak counts all of them, not XLA's argument size.
    report["peak_bytes"] = (report["param_bytes"] + state + inputs + report["temp_bytes"]
                            + report["output_bytes"] - report["alias_bytes"])
    return report


def _replicated_batch(rules):
    return tuple((name, None if name == "batch" else axes) for name, axes in rules)


def _bytes_per_device(tree: Any) -> int:
    """Bytes of the largest shard each leaf puts on one device, summed."""
    import jax

    total = 0
    for leaf in jax.tree_util.tree_leaves(tree):
        shape = leaf.sharding.shard_shape(leaf.shape) if leaf.sharding is not None else leaf.shape
        total += math.prod(shape) * leaf.dtype.itemsize
    return int(total)


def _abstract(shape, dtype, sharding):
    import jax

    return jax.ShapeDtypeStruct(shape, dtype, sharding=sharding)


def _compile_forward(model, partitioner, params, batch_size, input_length, target_length):
    import jax
    import jax.numpy as jnp

    rows = partitioner.batch_sharding
    batch = {name: _abstract((batch_size, input_length if name.startswith("encoder") else target_length),
                             jnp.int32, rows)
             for name in ("encoder_input_tokens", "encoder_segment_ids", "decoder_input_tokens",
                          "decoder_target_tokens", "decoder_loss_weights")}
    fn = jax.jit(model.score_batch, out_shardings=partitioner.replicated)
    return fn.lower(params, batch).compile(), 0, _bytes_per_device(batch)


def _compile_decode(model, partitioner, params, batch_size, input_length, target_length):
    import jax
    import jax.numpy as jnp

    cfg = model.config
    encoded = _abstract((batch_size, input_length, cfg.d_model), cfg.compute_dtype,
                        partitioner.sharding("batch", "length", "embed"))
    segment_ids = _abstract((batch_size, input_length), jnp.int32, partitioner.batch_sharding)
    cache_shapes = jax.eval_shape(lambda p, e, s: model.init_cache(p, e, s, target_length), params, encoded,
                                  segment_ids)

    def cache_sharding(leaf):
        axes = ("batch", "length", "heads", "kv")
        if leaf.ndim < len(axes):  # cache indices
            return partitioner.replicated
        return partitioner.sharding(*(("layers",) * (leaf.ndim - len(axes)) + axes))

    cache = jax.tree_util.tree_map(lambda x: _abstract(x.shape, x.dtype, cache_sharding(x)), cache_shapes)
    tokens = _abstract((batch_size, 1), jnp.int32, partitioner.batch_sharding)
    cache_out = jax.tree_util.tree_map(lambda x: x.sharding, cache)
    fn = jax.jit(model.decode_step, donate_argnums=(1,),
                 out_shardings=(partitioner.sharding("batch", "length", "vocab"), cache_out))
    compiled = fn.lower(params, cache, encoded, segment_ids, tokens, tokens).compile()
    return compiled, _bytes_per_device(cache), _bytes_per_device((encoded, segment_ids, tokens, tokens))


def _compile_train(model, partitioner, batch_size, input_length, target_length):
    import jax
    import jax.numpy as jnp

    from alexatm_jax.training.optimizers import OptimizerConfig, make_optimizer
    from alexatm_jax.training.trainer import Trainer

    trainer = Trainer(model, make_optimizer(OptimizerConfig(), 1000), partitioner)
    trainer.check_batch_size(batch_size)
    batch = {}
    for side, length in (("encoder", input_length), ("decoder", target_length)):
        names = ("input_tokens", "segment_ids", "positions") + (
            ("target_tokens", "loss_weights") if side == "decoder" else ())
        for name in names:
            batch[f"{side}_{name}"] = jax.ShapeDtypeStruct((batch_size, length), jnp.int32,
                                                           sharding=partitioner.batch_sharding)
    compiled = trainer.compile_train_step(batch)
    return compiled, _bytes_per_device(trainer.abstract_state().opt_state), _bytes_per_device(batch)


def memory_breakdown(r: dict[str, Any]) -> dict[str, int]:
    """The parts of a `plan` report's peak, bytes per device, the same keys for every step (a table row or a
    stacked bar); they sum to `peak_bytes`."""
    return {
        "parameters": r["param_bytes"],
        "KV cache": r.get("cache_bytes", 0),
        "optimiser state": r.get("optimizer_state_bytes", 0),
        "inputs": r["input_bytes"],
        "temporaries": r["temp_bytes"],
        "outputs (not aliased)": r["output_bytes"] - r["alias_bytes"],
    }


def format_report(r: dict[str, Any], budget_gib: float | None = None) -> str:
    gib = lambda b: f"{b / GIB:8.2f} GiB"
    mesh = " x ".join(f"{k}={v}" for k, v in r["mesh"].items())
    lines = [
        f"AlexaTM plan: step={r['step']}, {r['num_devices']} devices ({mesh}), batch {r['batch_size']}, "
        f"input {r['input_length']}, target {r['target_length']}",
        f"  model: {r['num_params'] / 1e9:.2f}B parameters, {r['param_dtype']} weights, {r['dtype']} compute",
        "  per device:",
        f"    parameters         {gib(r['param_bytes'])}",
    ]
    if "cache_bytes" in r:
        lines.append(f"    KV cache           {gib(r['cache_bytes'])}")
    if "optimizer_state_bytes" in r:
        lines.append(f"    optimiser state    {gib(r['optimizer_state_bytes'])}")
    lines += [
        f"    inputs             {gib(r['input_bytes'])}",
        f"    outputs            {gib(r['output_bytes'])} ({gib(r['alias_bytes']).strip()} aliased to arguments)",
        f"    temporaries        {gib(r['temp_bytes'])}",
        f"    peak               {gib(r['peak_bytes'])} (parameters + state + inputs + temporaries + outputs "
        "not aliased)",
        f"  compiled in {r['compile_s']:.1f} s",
    ]
    if budget_gib is not None:
        verdict = "fits" if r["peak_bytes"] <= budget_gib * GIB else "does NOT fit"
        lines.append(f"  {verdict} in {budget_gib:g} GiB per device")
    return "\n".join(lines)


def _define_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_integer("num_devices", None, "Simulated devices to plan for.", required=True, flag_values=fv)
    flags.DEFINE_enum("step", "decode", list(STEPS), "Which step to compile.", flag_values=fv)
    flags.DEFINE_integer("batch_size", 1, "Global batch size.", flag_values=fv)
    flags.DEFINE_integer("input_length", 1024, "Encoder length.", flag_values=fv)
    flags.DEFINE_integer("target_length", None, "Decoder length (default: 256 for decode, else input_length).",
                         flag_values=fv)
    flags.DEFINE_string("param_dtype", None, "Weights dtype (default: the compute dtype for forward/decode, the "
                        "config's param_dtype for train).", flag_values=fv)
    flags.DEFINE_float("device_memory_gib", None, "Exit 1 if the peak exceeds this many GiB per device.",
                       flag_values=fv)
    flags.DEFINE_boolean("json", False, "Print the report as one JSON object.", flag_values=fv)


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    """Starts the simulated devices, compiles and reports."""
    del args
    if fv.num_devices < 1:
        raise ConfigError(f"--num_devices={fv.num_devices} must be >= 1.")
    use_simulated_devices(fv.num_devices)
    from alexatm_jax import partitioning
    from alexatm_jax.cli import gin_config
    from alexatm_jax.model.config import ModelConfig
    from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

    files = list(fv.gin_file)
    if not any("partitioning" in f for f in files):
        files.append("partitioning/fsdp_tp.gin")
    gin_config.parse(files, fv.gin_bindings, fv.gin_search_paths)
    model_config = gin_config.call(ModelConfig)
    if fv.param_dtype or fv.step != "train":
        model_config = model_config.replace(param_dtype=fv.param_dtype or model_config.dtype)
    partitioner = gin_config.call(partitioning.Partitioner)
    target = fv.target_length or (256 if fv.step == "decode" else fv.input_length)
    report = plan(EncoderDecoderModel(model_config), partitioner, step=fv.step, batch_size=fv.batch_size,
                  input_length=fv.input_length, target_length=target)
    print(json.dumps(report) if fv.json else format_report(report, fv.device_memory_gib), flush=True)
    if fv.device_memory_gib is not None and report["peak_bytes"] > fv.device_memory_gib * GIB:
        return app.EXIT_FAILURE
    return app.EXIT_OK


COMMAND = app.Command(name="plan", doc=__doc__, run=_run, define_flags=_define_flags, uses_gin=True)


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
