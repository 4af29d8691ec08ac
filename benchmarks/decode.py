"""Benchmark: incremental greedy decoding (`alexatm_jax.decoding.Decoder.predict_batch`) with random weights.

    python benchmarks/decode.py                        # CPU: tiny and small configs, batch 1 and 32
    python benchmarks/decode.py --roofline             # GPU: 20B-shaped model, batch 1, against the roofline
    python benchmarks/decode.py --roofline --decoder-layers 4,8   # the same with fewer layers, scaled to 32
        [--scan-layers] [--attention-impl xla|pallas|cudnn|auto] [--roofline-model 20b] [--encoder-layers 2]
        [--models tiny,small] [--batch-sizes 1,32] [--input-length 64] [--new-tokens 32] [--json out.json]

Decode speed is measured without the prompt: a run of N new tokens and a run of 1 new token compile to the
same function (the token count is a run-time value), so (T(N) - T(1)) / (N - 1) is the time of one step. EOS is
banned so every output runs to N tokens. `--roofline` compares the batch-1 step time with the memory roofline:
the bytes one step must read (decoder weights except the cross-attention key/value projections, whose outputs
are cached; the LM head; the KV cache: cross-attention over the input, self-attention over the tokens so far)
over the device bandwidth measured by a large copy. With `--decoder-layers` the model keeps its width but gets fewer
layers (to fit a smaller device, or to save compile time); two or more sizes give a scaled row for the full layer
count: step time fitted as fixed + per-layer cost through the two largest sizes, against the full model's roofline.
Configs come from gin/models/*.gin (read without gin, which GPU machines lack).
"""

from __future__ import annotations

import argparse
import ast
import json
import platform
import re
import statistics
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from alexatm_jax.api import decoder_for  # noqa: E402
from alexatm_jax.model.config import ModelConfig  # noqa: E402
from alexatm_jax.model.encoder_decoder import EncoderDecoderModel  # noqa: E402


def config_from_gin(name: str, **overrides) -> ModelConfig:
    """`config.ModelConfig` bindings of gin/models/alexatm_<name>.gin (literal values only)."""
    text = (REPO / "gin" / "models" / f"alexatm_{name}.gin").read_text()
    block = text.split("config.ModelConfig:", 1)[1]
    values = {}
    for line in block.splitlines()[1:]:
        match = re.match(r"^\s+(\w+)\s*=\s*(.+?)\s*(#.*)?$", line)
        if not match:
            break
        values[match.group(1)] = ast.literal_eval(match.group(2))
    return ModelConfig(**{**values, **overrides})


def random_params(model: EncoderDecoderModel, seed: int = 0):
    """Random parameters made on the device (`init` under jit), in the config's parameter dtype."""
    import flax.linen as nn

    return jax.jit(lambda key: nn.meta.unbox(model.init(key)))(jax.random.PRNGKey(seed))


def time_decode(model, params, batch_size: int, input_length: int, new_tokens: int, repeats: int) -> dict:
    """Seconds per decoding step (steady state) and for a whole run, greedy, EOS banned."""
    cfg = model.config
    rng = np.random.default_rng(0)
    batch = {"encoder_input_tokens": rng.integers(7, cfg.vocab_size, (batch_size, input_length), dtype=np.int32),
             "encoder_segment_ids": np.ones((batch_size, input_length), np.int32)}
    batch = jax.device_put(batch)
    options = dict(banned_sequences=[[cfg.eos_token_id]], max_decode_length=new_tokens)
    decoder = decoder_for(model)

    def run(n):
        return jax.block_until_ready(decoder.predict_batch(params, batch, max_new_tokens=n, **options))

    start = time.perf_counter()
    out = run(new_tokens)  # compiles
    compile_s = time.perf_counter() - start
    assert int(np.asarray(out["lengths"]).min()) == new_tokens

    def median(n):
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(n)
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    full, one = median(new_tokens), median(1)
    step = (full - one) / (new_tokens - 1)
    return {"batch_size": batch_size, "input_length": input_length, "new_tokens": new_tokens,
            "step_ms": 1e3 * step, "decode_tokens_per_s": batch_size / step, "run_s": full,
            "end_to_end_tokens_per_s": batch_size * new_tokens / full, "prefill_s": one, "compile_s": compile_s}


def measured_bandwidth(gib: float = 4.0, repeats: int = 10) -> float:
    """Device memory bandwidth in bytes/s from a large elementwise copy (one read + one write per byte)."""
    x = jnp.ones((int(gib * 2 ** 30) // 2,), jnp.bfloat16)
    fn = jax.jit(lambda a: a + jnp.bfloat16(1))
    jax.block_until_ready(fn(x))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(x))
        times.append(time.perf_counter() - start)
    return 2 * x.nbytes / min(times)


def bytes_per_step(params, cfg: ModelConfig, input_length: int, new_tokens: int) -> dict:
    """Bytes a batch-1 step must read: streamed weights and the KV cache (self-attention: average length)."""
    weights = 0
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        keys = [getattr(k, "key", "") for k in path]
        if keys[0] == "decoder":
            if "cross_attn" in keys and ("key" in keys or "value" in keys):
                continue  # Applied once to the encoder output; the cache holds the result.
            if "position_embed" in keys or "decoder_embed" in keys:
                continue  # One row per step.
            weights += leaf.size * leaf.dtype.itemsize
        elif keys[0] in ("lm_head", "final_logits_bias"):
            weights += leaf.size * leaf.dtype.itemsize
    kv_width = 2 * cfg.num_decoder_layers * cfg.d_model * jnp.dtype(cfg.compute_dtype).itemsize
    cache = kv_width * (input_length + (new_tokens + 1) / 2)
    return {"weights": weights, "kv_cache": cache, "total": weights + cache}


def cpu_results(args) -> list[dict]:
    rows = []
    for name in args.models.split(","):
        cfg = config_from_gin(name, dropout_rate=0.0)
        model = EncoderDecoderModel(cfg)
        params = random_params(model)
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            row = {"model": name, "num_params": model.num_params(), "dtype": cfg.dtype,
                   **time_decode(model, params, batch_size, args.input_length, args.new_tokens, args.repeats)}
            print(f"{name:6s} batch {batch_size:3d}: {row['decode_tokens_per_s']:9.1f} tokens/s decoding "
                  f"({row['step_ms']:.2f} ms/step), {row['end_to_end_tokens_per_s']:9.1f} tokens/s end to end "
                  f"(prompt {args.input_length}, {args.new_tokens} new tokens), compile {row['compile_s']:.1f} s",
                  flush=True)
            rows.append(row)
    return rows


def device_peak_gb() -> float | None:
    """The device's high-water mark of allocated bytes in GB (GPU/TPU; None where the backend keeps no stats)."""
    stats = jax.devices()[0].memory_stats() or {}
    return stats["peak_bytes_in_use"] / 1e9 if "peak_bytes_in_use" in stats else None


def roofline_config(name: str, *, attention_impl: str, scan_layers: bool, decoder_layers: int | None = None,
                    encoder_layers: int | None = None, **overrides) -> ModelConfig:
    """The served form of gin/models/alexatm_<name>.gin (bf16 weights and compute), optionally with fewer layers."""
    layers = {k: v for k, v in (("num_decoder_layers", decoder_layers), ("num_encoder_layers", encoder_layers)) if v}
    return config_from_gin(name, **{**dict(dropout_rate=0.0, param_dtype="bfloat16", dtype="bfloat16",
                                           attention_impl=attention_impl, scan_layers=scan_layers,
                                           remat_policy="none"), **layers, **overrides})


def roofline_measurement(cfg: ModelConfig, *, bandwidth: float, input_length: int, new_tokens: int,
                         repeats: int) -> dict:
    """Batch-1 ms/token of `cfg` with random weights and the memory roofline of the same step."""
    model = EncoderDecoderModel(cfg)
    params = random_params(model)
    timing = time_decode(model, params, 1, input_length, new_tokens, repeats)
    need = bytes_per_step(params, cfg, input_length, new_tokens)
    del params
    roofline_ms = 1e3 * need["total"] / bandwidth
    return {"decoder_layers": cfg.num_decoder_layers, "encoder_layers": cfg.num_encoder_layers,
            "scan_layers": cfg.scan_layers, "attention_impl": cfg.attention_impl,
            "bandwidth_gb_s": bandwidth / 1e9, "bytes_per_step_gb": need["total"] / 1e9,
            "weights_gb": need["weights"] / 1e9, "kv_cache_gb": need["kv_cache"] / 1e9, "roofline_ms": roofline_ms,
            "fraction_of_roofline": roofline_ms / timing["step_ms"], "device_peak_gb": device_peak_gb(), **timing}


def scaled_to_full(rows: list[dict], full: ModelConfig, *, bandwidth: float, input_length: int,
                   new_tokens: int) -> dict:
    """The full model's step time, fitted as fixed + per-layer cost through the two largest measured sizes."""
    small, large = sorted(rows, key=lambda r: r["decoder_layers"])[-2:]
    per_layer = (large["step_ms"] - small["step_ms"]) / (large["decoder_layers"] - small["decoder_layers"])
    step_ms = large["step_ms"] + per_layer * (full.num_decoder_layers - large["decoder_layers"])
    need = bytes_per_step(EncoderDecoderModel(full).param_shapes(), full, input_length, new_tokens)
    roofline_ms = 1e3 * need["total"] / bandwidth
    return {"decoder_layers": full.num_decoder_layers,
            "scaled_from": [small["decoder_layers"], large["decoder_layers"]], "step_ms": step_ms,
            "per_layer_ms": per_layer, "roofline_ms": roofline_ms,
            "bytes_per_step_gb": need["total"] / 1e9, "fraction_of_roofline": roofline_ms / step_ms}


def roofline_results(args) -> list[dict]:
    bandwidth = measured_bandwidth(args.bandwidth_gib)
    layer_counts = [int(n) for n in args.decoder_layers.split(",")] if args.decoder_layers else [None]
    encoder_layers = args.encoder_layers or (2 if args.decoder_layers else None)
    common = dict(attention_impl=args.attention_impl, scan_layers=args.scan_layers)
    measure = dict(bandwidth=bandwidth, input_length=args.input_length, new_tokens=args.new_tokens)
    rows = []
    for layers in layer_counts:
        cfg = roofline_config(args.roofline_model, decoder_layers=layers, encoder_layers=encoder_layers, **common)
        row = {"model": args.roofline_model, "device": jax.devices()[0].device_kind,
               **roofline_measurement(cfg, repeats=args.repeats, **measure)}
        print(f"{args.roofline_model} ({row['decoder_layers']} decoder layers) batch 1 on {row['device']} "
              f"(scan_layers={cfg.scan_layers}, attention {cfg.attention_impl}): {row['step_ms']:.2f} ms/token, "
              f"roofline {row['roofline_ms']:.2f} ms ({row['bytes_per_step_gb']:.2f} GB at {bandwidth / 1e9:.0f} GB/s "
              f"measured): {row['fraction_of_roofline']:.1%} of the roofline", flush=True)
        rows.append(row)
    if len(rows) >= 2:
        full = roofline_config(args.roofline_model, **common)
        scaled = {"model": args.roofline_model, **scaled_to_full(rows, full, **measure)}
        print(f"{args.roofline_model} scaled to {scaled['decoder_layers']} decoder layers: {scaled['step_ms']:.2f} "
              f"ms/token, roofline {scaled['roofline_ms']:.2f} ms: {scaled['fraction_of_roofline']:.1%}", flush=True)
        rows.append(scaled)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="tiny,small")
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--input-length", type=int, default=None, help="default: 64 (CPU), 1024 (--roofline)")
    parser.add_argument("--new-tokens", type=int, default=None, help="default: 32 (CPU), 128 (--roofline)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--roofline", action="store_true", help="20B-shaped model, batch 1 (needs a GPU)")
    parser.add_argument("--roofline-model", default="20b", help="gin/models/alexatm_<name>.gin for --roofline")
    parser.add_argument("--decoder-layers", default=None,
                        help="--roofline: comma-separated decoder layer counts (default: the model's); 2+ sizes "
                             "add a row scaled to the full model")
    parser.add_argument("--encoder-layers", type=int, default=None,
                        help="--roofline: encoder layers (default: the model's, or 2 with --decoder-layers)")
    parser.add_argument("--bandwidth-gib", type=float, default=4.0, help="size of the bandwidth probe array")
    parser.add_argument("--attention-impl", default="auto", help="xla | pallas | cudnn | auto")
    parser.add_argument("--scan-layers", action="store_true",
                        help="--roofline: scanned layers (default unrolled: no per-step slicing of stacked weights)")
    parser.add_argument("--json", default=None, help="write the results here")
    args = parser.parse_args()
    args.input_length = args.input_length or (1024 if args.roofline else 64)
    args.new_tokens = args.new_tokens or (128 if args.roofline else 32)
    print(f"jax {jax.__version__}, backend {jax.default_backend()}, {jax.devices()[0].device_kind}, "
          f"{platform.processor() or platform.machine()}", flush=True)
    results = roofline_results(args) if args.roofline else cpu_results(args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
