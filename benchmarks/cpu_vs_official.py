r"""CPU speed: our JAX model vs the official PyTorch release, same config, weights, inputs and threads.

Times (1) the forward pass (logits, no gradient), (2) loss + gradient and (3) a full AdamW train step for the 61M
configuration (vocab 32000, d_model 512, 6+6 layers, 8 heads, FFN 2048, shared and tied embeddings as in the
official defaults), batch 8 x (256 input + 256 target) tokens, float32, dropout off on both sides.

The two halves need different venvs, so this script orchestrates: it runs the PyTorch half with `--ref_python`
(which also saves the official model), then each JAX variant with this python (which converts that model with
`alexatm_jax.convert_checkpoint`, so both start from the same weights and report the same initial loss). Both
sides get the same threads: `torch.set_num_threads(threads)`, and XLA sizes its pool by the CPUs the process
may use (`taskset` pins every side to `threads` cores when the machine has more). The step is plain
AdamW on both sides (torch's defaults: b1 0.9, b2 0.999, eps 1e-8; no clipping). `final_logits_bias` gets no
gradient on either side (a buffer in the official model, frozen by our trainer).

Every round runs each implementation once, in a fresh process, one after another, so a burst of load from
other jobs hits all of them alike; times pool over rounds. Compilation and warm-up calls are excluded. The
table gives the median, min and max seconds per call, tokens/s and the ratio to the official release (of
medians; in brackets, of the best calls), and CPU seconds per call (process time, all threads: less sensitive to
other jobs than wall time, but still inflated by them). Record the load average with the numbers: on a loaded
machine the ratios are not worth quoting.

  python benchmarks/cpu_vs_official.py --ref_python=/work/refvenv/bin/python --rounds=3 --json_out=cpu.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

CONFIG = dict(vocab_size=32000, d_model=512, encoder_layers=6, decoder_layers=6, encoder_attention_heads=8,
              decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=1024,
              share_embeddings=True, tie_word_embeddings=True, dropout=0.0, attention_dropout=0.0,
              activation_dropout=0.0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
LEARNING_RATE, WEIGHT_DECAY = 1e-4, 0.1
METRICS = ("forward", "loss_grad", "train_step")
# JAX variants: name -> (scan_layers, XLA flags added to XLA_FLAGS; later flags win).
VARIANTS = {
    "scan": (True, ""),
    "unrolled": (False, ""),
    # Matmuls kept out of XLA's YNNPACK fusions (Eigen GEMMs), and with oneDNN as well.
    "scan+eigen_dots": (True, "--xla_cpu_experimental_ynn_fusion_type=-dot,-individual_dot"),
    "scan+onednn+eigen_dots": (True, "--xla_cpu_use_onednn=true "
                                     "--xla_cpu_experimental_ynn_fusion_type=-dot,-individual_dot"),
}
DEFAULT_VARIANTS = "scan,unrolled"


def make_inputs(path: Path, batch: int, input_length: int, target_length: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    targets = rng.integers(4, CONFIG["vocab_size"], (batch, target_length), dtype=np.int64)
    decoder_start = 0  # The official config's bos_token_id (decoder_start_token_id unset falls back to it).
    np.savez(path, encoder_input_tokens=rng.integers(4, CONFIG["vocab_size"], (batch, input_length)),
             decoder_input_tokens=np.concatenate([np.full((batch, 1), decoder_start), targets[:, :-1]], 1),
             decoder_target_tokens=targets)


def time_calls(fn: Callable[[], float | None], warmup: int, calls: int) -> dict:
    """Wall and CPU seconds of `calls` calls after `warmup` (the first compiles); the first call's result."""
    start = time.perf_counter()
    first_result = fn()
    first_s = time.perf_counter() - start
    for _ in range(warmup - 1):
        fn()
    wall, cpu = [], []
    for _ in range(calls):
        start, cpu_start = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - cpu_start)
    return {"first_s": first_s, "wall": wall, "cpu": cpu, "first_result": first_result}


def measure(forward, loss_and_grad, train_step, args: argparse.Namespace) -> dict:
    """Times the three callables in turn (each returns the loss, or None for the forward)."""
    result = {"load_average_before": os.getloadavg()[0]}
    for name, fn in zip(METRICS, (forward, loss_and_grad, train_step)):
        timed = time_calls(fn, args.warmup, args.steps)
        result[name] = {k: timed[k] for k in ("first_s", "wall", "cpu")}
        if name == "loss_grad":
            result["initial_loss"] = timed["first_result"]
    result["load_average_after"] = os.getloadavg()[0]
    return result


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
    data = {k: torch.from_numpy(v).long() for k, v in np.load(args.workdir / "inputs.npz").items()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)

    def forward():
        model.eval()
        with torch.no_grad():
            logits = model(input_ids=data["encoder_input_tokens"],
                           decoder_input_ids=data["decoder_input_tokens"]).logits
        model.train()
        assert logits.shape[-1] == CONFIG["vocab_size"]

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

    model.train()
    result = {"side": "official PyTorch", "threads": torch.get_num_threads(), "version": f"torch {torch.__version__}",
              "params": sum(p.numel() for p in model.parameters())}
    result.update(measure(forward, loss_and_grad, train_step, args))
    return result


# ----------------------------------------------------------------------------------------------- JAX half
def run_jax(args: argparse.Namespace) -> dict:
    scan_layers, extra_flags = VARIANTS[args.variant]
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {extra_flags}".strip()

    import jax
    import optax

    import alexatm_jax
    from alexatm_jax.checkpoint.official import convert
    from alexatm_jax.model.encoder_decoder import EncoderDecoderModel

    converted = args.workdir / "converted"
    if not (converted / "params").exists():
        convert.import_official(args.workdir / "official", converted)
    loaded = alexatm_jax.load(converted, scan_layers=scan_layers)
    model = EncoderDecoderModel(loaded.config)
    # final_logits_bias is a buffer in the official model (no gradient) and frozen by our trainer: no gradient.
    params = dict(loaded.params)
    frozen = {"final_logits_bias": params.pop("final_logits_bias")}
    batch = {k: jax.numpy.asarray(v, jax.numpy.int32) for k, v in np.load(args.workdir / "inputs.npz").items()}

    def loss_fn(p, b):
        return model.loss_fn({**p, **frozen}, b, None)[0]

    logits_fn = jax.jit(lambda p, b: model.logits({**p, **frozen}, b))
    grad_fn = jax.jit(jax.value_and_grad(loss_fn))
    tx = optax.adamw(LEARNING_RATE, weight_decay=WEIGHT_DECAY)  # b1, b2, eps: torch's AdamW defaults.

    def step_fn(params, opt_state, batch):
        loss, grads = jax.value_and_grad(loss_fn)(params, batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    train_step_fn = jax.jit(step_fn, donate_argnums=(0, 1))

    def forward():
        jax.block_until_ready(logits_fn(params, batch))

    def loss_and_grad():
        loss, grads = grad_fn(params, batch)
        jax.block_until_ready(grads)
        return float(loss)

    state = {"params": jax.tree_util.tree_map(lambda x: x.copy(), params), "opt": tx.init(params)}

    def train_step():
        state["params"], state["opt"], loss = train_step_fn(state["params"], state["opt"], batch)
        jax.block_until_ready(state["params"])
        return float(loss)

    result = {"side": f"JAX ({args.variant})", "version": f"jax {jax.__version__}",
              "xla_flags": os.environ.get("XLA_FLAGS", ""), "threads": args.threads,
              "params": int(sum(x.size for x in jax.tree_util.tree_leaves(loaded.params)))}
    result.update(measure(forward, loss_and_grad, train_step, args))
    return result


# ----------------------------------------------------------------------------------------------- orchestration
def orchestrate(args: argparse.Namespace) -> None:
    if not args.ref_python or not Path(args.ref_python).exists():
        sys.exit(f"error: --ref_python={args.ref_python!r} is not a python: pass the python of a venv with torch, "
                 "transformers 4.29.2 and alexa-teacher-models (see .ci/run_official_parity.sh), or set REF_VENV.")
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        sys.exit(f"error: unknown variant(s) {unknown}: choose from {list(VARIANTS)}.")
    workdir = Path(tempfile.mkdtemp(prefix="cpu_vs_official_"))
    print(f"load average before: {os.getloadavg()}", flush=True)
    make_inputs(workdir / "inputs.npz", args.batch, args.input_length, args.target_length)
    common = [f"--workdir={workdir}", f"--threads={args.threads}", f"--steps={args.steps}",
              f"--warmup={args.warmup}", f"--batch={args.batch}", f"--input_length={args.input_length}",
              f"--target_length={args.target_length}"]
    pin = [] if args.threads >= (os.cpu_count() or 1) else ["taskset", "-c", f"0-{args.threads - 1}"]
    repo = str(Path(__file__).resolve().parents[1])
    runs = [([*pin, args.ref_python, __file__, "--side=torch", *common], {})]
    for variant in variants:
        env = {"JAX_PLATFORMS": "cpu", "PYTHONPATH": repo}
        runs.append(([*pin, sys.executable, __file__, "--side=jax", f"--variant={variant}", *common], env))
    results: list[dict] = []
    for round_index in range(args.rounds):
        for i, (command, env) in enumerate(runs):
            result = _child(command, env)
            if round_index == 0:
                results.append({**result, "rounds": [result]})
            else:
                results[i]["rounds"].append(result)
            summarise(results[i])
        print(f"\nAfter round {round_index + 1} of {args.rounds}:")
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


def summarise(result: dict) -> dict:
    """Pools the rounds' timed calls into median / min / max wall seconds, median CPU seconds and tokens/s."""
    tokens = result["batch_tokens"]
    for name in METRICS:
        wall = [t for r in result["rounds"] for t in r[name]["wall"]]
        cpu = [t for r in result["rounds"] for t in r[name]["cpu"]]
        result[f"{name}_summary"] = {
            "median_s": statistics.median(wall), "min_s": min(wall), "max_s": max(wall), "calls": len(wall),
            "cpu_median_s": statistics.median(cpu), "tokens_per_s": tokens / statistics.median(wall),
        }
    result["load_averages"] = [v for r in result["rounds"] for v in (r["load_average_before"],
                                                                     r["load_average_after"])]
    return result


def print_table(results: list[dict]) -> None:
    """One row per implementation and metric; ratios against the first implementation (the official one)."""
    reference = results[0]
    print(f"{'implementation':<26} {'metric':<10} {'median s':>8} {'min':>6} {'max':>6} {'tok/s':>6} "
          f"{'ratio (best)':>13} {'CPU s':>6}  {'initial loss':>12}  {'load':>9}")
    for r in results:
        loads = r["load_averages"]
        for name in METRICS:
            s, ref = r[f"{name}_summary"], reference[f"{name}_summary"]
            ratio = f"{ref['median_s'] / s['median_s']:.2f}x ({ref['min_s'] / s['min_s']:.2f})"
            print(f"{r['side']:<26} {name:<10} {s['median_s']:>8.2f} {s['min_s']:>6.2f} {s['max_s']:>6.2f} "
                  f"{s['tokens_per_s']:>6.0f} {ratio:>13} {s['cpu_median_s']:>6.2f}  "
                  f"{r['rounds'][0]['initial_loss']:>12.6f}  {min(loads):>4.1f}-{max(loads):<4.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", choices=["orchestrate", "torch", "jax"], default="orchestrate")
    ref_venv = os.environ.get("REF_VENV")
    parser.add_argument("--ref_python", default=f"{ref_venv}/bin/python" if ref_venv else None,
                        help="python of a venv with torch, transformers 4.29.2 and alexa-teacher-models "
                             "(default: $REF_VENV/bin/python)")
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help=f"JAX variants, from {list(VARIANTS)}")
    parser.add_argument("--variant", choices=list(VARIANTS), default="scan")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5, help="timed calls of each metric per round")
    parser.add_argument("--warmup", type=int, default=2, help="untimed calls first (the first compiles)")
    parser.add_argument("--rounds", type=int, default=3, help="times to run every implementation, interleaved")
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
        result["batch_tokens"] = args.batch * (args.input_length + args.target_length)
        print(json.dumps(result))


if __name__ == "__main__":
    main()
