"""Training metrics: summarise per-step sums over a logging window, write them to TensorBoard and JSONL.

The train step returns sums (loss, target weight, correct tokens, per-objective sums, token counts); ratios are
taken over the whole window so every target token counts once. TensorBoard goes through `clu.metric_writers`
when installed (it needs TensorFlow; GPU boxes without it keep the JSONL file only).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from alexatm_jax.model import flops as flops_lib

log = logging.getLogger(__name__)
METRICS_FILENAME = "metrics.jsonl"
OBJECTIVES = ("denoise", "clm")


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 else None


def loss_metrics(sums: dict[str, float]) -> dict[str, float]:
    """Loss, accuracy and per-objective losses from summed step outputs (see `Trainer`)."""
    weight = sums.get("weight_sum", 0.0)
    out = {
        "loss": _ratio(sums.get("loss_sum", 0.0), weight),
        "z_loss": _ratio(sums.get("z_loss_sum", 0.0), weight),
        "accuracy": _ratio(sums.get("correct_sum", 0.0), weight),
        "target_tokens": weight,
    }
    for name in OBJECTIVES:
        if f"{name}_weight_sum" in sums:
            out[f"{name}_loss"] = _ratio(sums[f"{name}_loss_sum"], sums[f"{name}_weight_sum"])
    return {k: v for k, v in out.items() if v is not None}


def add_sums(total: dict[str, float], step: dict[str, float]) -> dict[str, float]:
    for k, v in step.items():
        if k.endswith("_sum") or k.endswith("_tokens"):
            total[k] = total.get(k, 0.0) + float(v)
    return total


def summarize_window(steps: Sequence[dict[str, float]], seconds: float, *,
                     step_flops: Callable[[dict[str, float]], float] | None = None, num_devices: int = 1,
                     peak_flops_per_device: float | None = None) -> dict[str, float]:
    """Metrics of a window of consecutive train steps that took `seconds` of wall-clock time."""
    sums: dict[str, float] = {}
    for m in steps:
        add_sums(sums, m)
    out = loss_metrics(sums)
    n = len(steps)
    out["grad_norm"] = sum(float(m["grad_norm"]) for m in steps) / n
    out["learning_rate"] = float(steps[-1]["learning_rate"])
    out["step_time_s"] = seconds / n
    tokens = sums.get("encoder_tokens", 0.0) + sums.get("decoder_tokens", 0.0)
    out["tokens_per_s"] = tokens / seconds if seconds > 0 else 0.0
    if step_flops is not None and seconds > 0:
        total = sum(step_flops(m) for m in steps)
        out["tflops_per_s_per_device"] = total / seconds / num_devices / 1e12
        value = flops_lib.mfu(total, seconds, num_devices, peak_flops_per_device)
        if value is not None:
            out["mfu"] = value
    return out


class MetricsWriter:
    """Scalars to `MODEL_DIR/metrics.jsonl` and TensorBoard (`MODEL_DIR/tensorboard/<split>`); process 0 only."""

    def __init__(self, model_dir: str | Path, *, enabled: bool = True, tensorboard: bool = True):
        self.directory = Path(model_dir)
        self.enabled = enabled
        self._writers: dict[str, Any] = {}
        self._tensorboard = tensorboard and enabled
        self._jsonl = None
        if enabled:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._jsonl = open(self.directory / METRICS_FILENAME, "a")  # noqa: SIM115 (closed in close())

    def _writer(self, split: str) -> Any:
        if split not in self._writers:
            try:
                from clu import metric_writers
            except ImportError:
                log.warning("clu is not installed: TensorBoard summaries skipped, metrics go to %s only.",
                            METRICS_FILENAME)
                self._tensorboard = False
                return None
            self._writers[split] = metric_writers.SummaryWriter(str(self.directory / "tensorboard" / split))
        return self._writers[split]

    def write(self, step: int, split: str, scalars: dict[str, float]) -> None:
        if not self.enabled:
            return
        scalars = {k: float(v) for k, v in scalars.items()}
        self._jsonl.write(json.dumps({"step": int(step), "split": split, **scalars}, sort_keys=True) + "\n")
        self._jsonl.flush()
        if self._tensorboard:
            writer = self._writer(split)
            if writer is not None:
                writer.write_scalars(int(step), scalars)
                writer.flush()

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        if self._jsonl is not None:
            self._jsonl.close()
            self._jsonl = None


def read_metrics(model_dir: str | Path, split: str = "train") -> list[dict[str, Any]]:
    """The JSONL records of one split, in order (tests and notebooks use it)."""
    path = Path(model_dir) / METRICS_FILENAME
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("split") == split]
