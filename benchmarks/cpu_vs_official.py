r"""CPU training throughput: our JAX model vs the official PyTorch release, same config, weights and inputs.

Times (1) loss + gradient and (2) a full AdamW train step for the 61M configuration (vocab 32000, d_model 512,
6+6 layers, 8 heads, FFN 2048, shared and tied embeddings as in the official defaults), batch 8 x (256 input +
256 target) tokens, dropout off on both sides. The two halves need different venvs, so this script orchestrates:
it runs the PyTorch half with `--ref_python` (which also saves the official model), then each JAX variant with
this python (which converts that model with `alexatm_jax.convert_checkpoint`, so both start from the same
weights and report the same initial loss). `final_logits_bias` gets no gradient on either side (a buffer in the
official model, frozen by our trainer). Compilation and warm-up steps are excluded; times are medians.

  python benchmarks/cpu_vs_official.py --ref_python=/work/venv_ref/bin/python [--threads=2] [--steps=5]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CONFIG = dict(vocab_size=32000, d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
              decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=1024,
              share_embeddings=True, tie_word_embeddings=True, dropout=0.0, attention_dropout=0.0,
              activation_dropout=0.0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
LEARNING_RATE, WEIGHT_DECAY = 1e-4, 0.1
# JAX variants: name -> (scan_layers, extra XLA flags).
# "eigen_dots" keeps matmuls out of XLA's YNNPACK fusions, which are slow for the transposed GEMMs of the
# LM head's backward pass here.
_EIGEN_DOTS = "--xla_cpu_experimental_ynn_fusion_type=-dot,-individual_dot"
VARIANTS = {
    "scan": (True, ""),
    "unrolled": (False, ""),
    "scan+onednn": (True, "--xla_cpu_use_onednn=true"),
    "unrolled+onednn": (False, "--xla_cpu_use_onednn=true"),
    "unrolled+xnnpack": (False, "--xla_cpu_use_xnnpack=true"),
    "scan+eigen_dots": (True, _EIGEN_DOTS),
    "scan+onednn+eigen_dots": (True, f"--xla_cpu_use_onednn=true {_EIGEN_DOTS}"),
}


def make_inputs(path: Path, batch: int, input_length: int, target_length: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    targets = rng.integers(4, CONFIG["vocab_size"], (batch, target_length), dtype=np.int64)
    decoder_start = 0  # The official config's bos_token_id (decoder_start_token_id unset falls back to it).
    np.savez(path, encoder_input_tokens=rng.integers(4, CONFIG["vocab_size"], (batch, input_length)),
             decoder_input_tokens=np.concatenate([np.full((batch, 1), decoder_start), targets[:, :-1]], 1),
             decoder_target_tokens=targets)


def time_steps(fn, warmup: int, steps: int) -> tuple[float, list[float], float]:
    """(first call seconds incl. compilation, timed step seconds, loss of the first call)."""
    start = time.perf_counter()
    first_loss = fn()
    first = time.perf_counter() - start
    for _ in range(warmup - 1):
        fn()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return first, times, first_loss


# ----------------------------------------------------------------------------------------------- PyTorch half
def run_torch(args: argparse.Namespace) -> dict:
    import torch
    from alexa_teacher_models.configuration_atm import AlexaTMSeq2SeqConfig
    from alexa_teacher_models.modeling_atm import AlexaTMSeq2SeqForConditionalGeneration

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = AlexaTMSeq2SeqForConditionalGeneration(AlexaTMSeq2SeqConfig(**CONFIG))
    if not (args.workdir / "official").exists():  # Later rounds reuse it (same seed, same weights).
        model.save_pretrained(args.workdir / "official", safe_serialization=True)
    model.train()
    data = {k: torch.from_numpy(v).long() for k, v in np.load(args.workdir / "inputs.npz").items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

    def loss_and_grad():
        optimizer.zero_grad(set_to_none=True)
        loss = model(input_ids=data["encoder_input_tokens"], decoder_input_ids=data["decoder_input_tokens"],
                     labels=data["decoder_target_tokens"]).loss
        loss.backward()
        return float(loss)

    def train_step():
        loss = loss_and_grad()
        optimizer.step()
        return loss

    result = {"side": "official PyTorch", "threads": torch.get_num_threads(), "torch": torch.__version__,
              "params": sum(p.numel() for p in model.parameters())}
    result.update(_measure(loss_and_grad, train_step, args))
    return result


# ----------------------------------------------------------------------------------------------- JAX half
def run_jax(args: argparse.Namespace) -> dict:
    import jax
    import optax

    import alexatm_jax
    from alexatm_jax import convert_checkpoint
    from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

    scan_layers, _ = VARIANTS[args.variant]
    converted = args.workdir / "converted"
    if not (converted / "params").exists():
        convert_checkpoint.import_official(args.workdir / "official", converted)
    loaded = alexatm_jax.load(converted, scan_layers=scan_layers)
    model = EncoderDecoderModel(loaded.config)
    # final_logits_bias is a buffer in the official model (no gradient) and frozen by our trainer: no gradient.
    params = dict(loaded.params)
    frozen = {"final_logits_bias": params.pop("final_logits_bias")}
    batch = {k: jax.numpy.asarray(v, jax.numpy.int32) for k, v in np.load(args.workdir / "inputs.npz").items()}
    loss_fn = lambda p, b: model.loss_fn({**p, **frozen}, b, None)[0]
    grad_fn = jax.jit(jax.value_and_grad(loss_fn))
    tx = optax.adamw(LEARNING_RATE, weight_decay=WEIGHT_DECAY)  # b1, b2, eps: torch's AdamW defaults.

    @functools.partial(jax.jit, donate_argnums=(0, 1))
    def train_step(params, opt_state, batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    def loss_and_grad():
        loss, grads = grad_fn(params, batch)
        jax.block_until_ready(grads)
        return float(loss)

    state = {"params": jax.tree_util.tree_map(lambda x: x.copy(), params), "opt": tx.init(params)}

    def step():
        state["params"], state["opt"], loss = train_step(state["params"], state["opt"], batch)
        jax.block_until_ready(state["params"])
        return float(loss)

    result = {"side": f"JAX ({args.variant})", "jax": jax.__version__, "xla_flags": os.environ.get("XLA_FLAGS", ""),
              "params": int(sum(x.size for x in jax.tree_util.tree_leaves(loaded.params)))}
    result.update(_measure(loss_and_grad, step, args))
    return result


def _measure(loss_and_grad, train_step, args: argparse.Namespace) -> dict:
    tokens = args.batch * (args.input_length + args.target_length)
    first_grad, grad_times, loss = time_steps(loss_and_grad, args.warmup, args.steps)
    first_step, step_times, _ = time_steps(train_step, args.warmup, args.steps)
    return summarise({
        "initial_loss": loss, "tokens_per_step": tokens, "first_loss_grad_s": first_grad,
        "first_train_step_s": first_step, "loss_grad_times": grad_times, "train_step_times": step_times,
        "load_average_after": list(os.getloadavg()),  # A shared machine: other jobs slow both sides.
    })


def summarise(result: dict) -> dict:
    """Adds medians, best (min) step times and tokens/s from the raw step times."""
    tokens = result["tokens_per_step"]
    for name in ("loss_grad", "train_step"):
        times = result[f"{name}_times"]
        result[f"{name}_s"] = statistics.median(times)
        result[f"{name}_best_s"] = min(times)
        result[f"{name}_tokens_per_s"] = tokens / result[f"{name}_s"]
    return result


# ----------------------------------------------------------------------------------------------- orchestration
def orchestrate(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="cpu_vs_official_"))
    print(f"load average before: {os.getloadavg()}", flush=True)
    make_inputs(workdir / "inputs.npz", args.batch, args.input_length, args.target_length)
    common = [f"--workdir={workdir}", f"--threads={args.threads}", f"--steps={args.steps}",
              f"--warmup={args.warmup}", f"--batch={args.batch}", f"--input_length={args.input_length}",
              f"--target_length={args.target_length}"]
    # Same cores for both: torch.set_num_threads(threads); XLA sizes its pool by the schedulable CPUs.
    pin = [] if args.threads >= (os.cpu_count() or 1) else ["taskset", "-c", f"0-{args.threads - 1}"]
    repo = str(Path(__file__).resolve().parents[1])
    runs = [([*pin, args.ref_python, __file__, "--side=torch", *common], {})]
    for variant in args.variants.split(","):
        env = {"XLA_FLAGS": VARIANTS[variant][1], "JAX_PLATFORMS": "cpu", "PYTHONPATH": repo}
        runs.append(([*pin, sys.executable, __file__, "--side=jax", f"--variant={variant}", *common], env))
    # Rounds interleave the implementations, so a burst of load from other jobs hits all of them alike.
    results: list[dict] = []
    for round_index in range(args.rounds):
        for i, (command, env) in enumerate(runs):
            result = _child(command, env)
            if round_index == 0:
                results.append(result)
            else:
                for key in ("loss_grad_times", "train_step_times", "load_average_after"):
                    results[i][key] = results[i][key] + result[key]
            summarise(results[i])
            print_table([results[i]], reference=None if i == 0 and round_index == 0 else results[0])
    print(f"\nAll results ({args.rounds} round(s) x {args.steps} steps each):")
    print_table(results)
    out = Path(args.json_out) if args.json_out else workdir / "results.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nload average after: {os.getloadavg()}\nRaw results: {out}")


def _child(command: list[str], env: dict[str, str]) -> dict:
    print("+", " ".join(command), " ".join(f"{k}={v!r}" for k, v in env.items()), flush=True)
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_table(results: list[dict], reference: dict | None = None) -> None:
    """Rows of `results`, ratios against `reference` (default: the first row); a header unless given one."""
    if reference is None:
        reference = results[0]
        print(f"\n{'implementation':<30} {'loss+grad s':>11} {'(best)':>6} {'tok/s':>6} {'ratio':>6}   "
              f"{'train step s':>12} {'(best)':>6} {'tok/s':>6} {'ratio':>6}   {'initial loss':>12}  "
              f"{'1st step s':>10}")
    for r in results:
        print(f"{r['side']:<30} {r['loss_grad_s']:>11.2f} {r['loss_grad_best_s']:>6.2f} "
              f"{r['loss_grad_tokens_per_s']:>6.0f} "
              f"{r['loss_grad_tokens_per_s'] / reference['loss_grad_tokens_per_s']:>5.2f}x   "
              f"{r['train_step_s']:>12.2f} {r['train_step_best_s']:>6.2f} {r['train_step_tokens_per_s']:>6.0f} "
              f"{r['train_step_tokens_per_s'] / reference['train_step_tokens_per_s']:>5.2f}x   "
              f"{r['initial_loss']:>12.6f}  {r['first_train_step_s']:>10.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", choices=["orchestrate", "torch", "jax"], default="orchestrate")
    parser.add_argument("--ref_python", default="/work/venv_ref/bin/python",
                        help="python of a venv with torch, transformers 4.29.2 and alexa-teacher-models")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"JAX variants, from {list(VARIANTS)}")
    parser.add_argument("--variant", choices=list(VARIANTS), default="scan")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first (the first compiles)")
    parser.add_argument("--rounds", type=int, default=1, help="times to run every implementation, interleaved")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--input_length", type=int, default=256)
    parser.add_argument("--target_length", type=int, default=256)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json_out", help="where to write the raw results (default: in the work directory)")
    args = parser.parse_args()
    if args.side == "orchestrate":
        orchestrate(args)
    else:
        result = run_torch(args) if args.side == "torch" else run_jax(args)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
