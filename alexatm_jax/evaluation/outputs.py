"""What an evaluation run leaves in its output directory, and reading it back.

Per task, as soon as it is scored: `<task>-metrics.json` (task, split, checkpoint, step, number of examples,
metrics) and `<task>-predictions.jsonl` (one row per example: inputs, targets, prediction or score). At the end:
`metrics.json` (every task of the run). Files are written through a temporary name and a rename, so a crash
never leaves half a file; the report (`alexatm_jax.evaluation.report`) reads the per-task files.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import seqio
import tensorflow as tf

METRICS_FILENAME = "metrics.json"
TASK_METRICS_SUFFIX = "-metrics.json"
TASK_PREDICTIONS_SUFFIX = "-predictions.jsonl"
# Task features copied to each predictions row when present.
_ROW_FEATURES = ("inputs_pretokenized", "targets_pretokenized", "idx", "id", "candidate_idx", "group_idx",
                 "is_correct")


def write_text(path: Path, text: str) -> None:
    """Writes `text` through a temporary file and a rename: a reader never sees half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def jsonable(value: Any) -> Any:
    """`value` with bytes, numpy values and dataclasses turned into JSON types."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _metric_value(value: Any) -> Any:
    value = getattr(value, "value", value)
    return float(value) if isinstance(value, (int, float, np.number)) else jsonable(value)


class OutputWriter(seqio.Logger):
    """A seqio logger writing `<task>-metrics.json` and `<task>-predictions.jsonl`; keeps every task's metrics."""

    def __init__(self, output_dir: str, *, checkpoint: str = "", splits: Mapping[str, str] | None = None,
                 settings: Mapping[str, Any] | None = None):
        super().__init__(output_dir)
        self.checkpoint = checkpoint
        self.splits = dict(splits or {})
        self.settings = dict(settings or {})
        self.results: dict[str, dict[str, Any]] = {}
        self.num_examples: dict[str, int] = {}

    def __call__(self, task_name: str, step: int | None, metrics: Mapping[str, Any], dataset: tf.data.Dataset | None,
                 inferences: Mapping[str, Sequence[Any]] | None, targets: Sequence[Any] | None) -> None:
        values = {k: _metric_value(v) for k, v in metrics.items()}
        rows = []
        for i, ex in enumerate(dataset.as_numpy_iterator() if dataset is not None else ()):
            row: dict[str, Any] = {"index": i}
            row.update({k.removesuffix("_pretokenized"): jsonable(ex[k]) for k in _ROW_FEATURES if k in ex})
            if targets is not None and i < len(targets) and jsonable(targets[i]) != row.get("targets"):
                row["reference"] = jsonable(targets[i])  # the postprocessed target, when it differs
            for key, column in (inferences or {}).items():
                if i < len(column):
                    row[key] = jsonable(column[i])
            rows.append(row)
        self.results[task_name] = values
        self.num_examples[task_name] = len(rows)
        out = Path(self.output_dir)
        record = {"task": task_name, "split": self.splits.get(task_name), "checkpoint": self.checkpoint,
                  "num_examples": len(rows), "metrics": values, "settings": self.settings}
        if step is not None:
            record["step"] = step
        write_text(out / f"{task_name}{TASK_PREDICTIONS_SUFFIX}",
                   "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        write_text(out / f"{task_name}{TASK_METRICS_SUFFIX}", json.dumps(record, indent=2) + "\n")


def write_summary(output_dir: str | Path, results: Mapping[str, Mapping[str, Any]],
                  num_examples: Mapping[str, int], *, checkpoint: str = "") -> Path:
    """`metrics.json`: the checkpoint and every task's number of examples and metrics."""
    record = {"checkpoint": checkpoint, "tasks": {t: {"num_examples": num_examples.get(t), "metrics": m}
                                                  for t, m in results.items()}}
    path = Path(output_dir) / METRICS_FILENAME
    write_text(path, json.dumps(record, indent=2) + "\n")
    return path


def read_task_records(output_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every `<task>-metrics.json` of an output directory: task name -> its record (sorted by task name)."""
    records = {}
    for path in sorted(Path(output_dir).glob(f"*{TASK_METRICS_SUFFIX}")):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record.get("task", path.name.removesuffix(TASK_METRICS_SUFFIX))] = record
    return records
