"""The results report of an evaluation output directory: one table of every task scored there beside the paper's
numbers, a heat map of Flores-101 spBLEU (source x target) and a bar chart of SuperGLUE.

Reads the `<task>-metrics.json` files (`outputs.read_task_records`), so it works on a finished run, a run cut
short (the tasks scored so far) and a directory that several runs wrote into (each task's checkpoint is shown
when they differ). Writes `results.md`, `flores101_summary.md` (with Flores-101 tasks), `flores101_spbleu.png`
and `superglue.png` (when there are such tasks). Plots use matplotlib's object API (no pyplot, no display).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from alexatm_jax.errors import DataError
from alexatm_jax.evaluation import outputs
from alexatm_jax.evaluation.paper_results import paper_value
from tasks import flores101, superglue

TABLE_FILENAME = "results.md"
FLORES_TABLE_FILENAME = "flores101_summary.md"
FLORES_HEATMAP_FILENAME = "flores101_spbleu.png"
SUPERGLUE_CHART_FILENAME = "superglue.png"
SOURCES_NOTE = "Paper numbers: docs/PAPER.md, section \"Published results\" (the source of each is named there)."


@dataclasses.dataclass(frozen=True)
class Row:
    """One metric of one task, with the paper's number when known."""

    task: str
    metric: str
    value: float
    examples: int | None
    paper: float | None = None
    source: str = ""


def rows(records: Mapping[str, Mapping[str, Any]]) -> list[Row]:
    """One `Row` per (task, numeric metric), tasks in name order, metrics in the order they were computed."""
    out = []
    for task, record in sorted(records.items()):
        for metric, value in record.get("metrics", {}).items():
            if isinstance(value, (int, float)) and not metric.endswith("_total") and metric != "total":
                paper = paper_value(task, metric)
                out.append(Row(task, metric, float(value), record.get("num_examples"),
                               *(paper if paper else (None, ""))))
    return out


def markdown_table(table_rows: list[Row]) -> str:
    """`| task | examples | metric | ours | paper | source |`, blank paper cells where no number is known."""
    lines = ["| task | examples | metric | ours | paper | source |", "|---|---:|---|---:|---:|---|"]
    for r in table_rows:
        paper = "" if r.paper is None else f"{r.paper:.1f}"
        examples = "" if r.examples is None else str(r.examples)
        lines.append(f"| {r.task} | {examples} | {r.metric} | {r.value:.2f} | {paper} | {r.source} |")
    return "\n".join(lines)


def checkpoints_note(records: Mapping[str, Mapping[str, Any]]) -> str:
    """Which checkpoint was scored (or, when the directory mixes runs, which task used which)."""
    by_checkpoint: dict[str, list[str]] = {}
    for task, record in sorted(records.items()):
        by_checkpoint.setdefault(str(record.get("checkpoint", "")), []).append(task)
    if len(by_checkpoint) == 1:
        return f"Checkpoint: {next(iter(by_checkpoint))}"
    parts = [f"{checkpoint}: {', '.join(tasks)}" for checkpoint, tasks in by_checkpoint.items()]
    return "WARNING: these tasks were scored with different checkpoints:\n" + "\n".join(f"- {p}" for p in parts)


def flores_metric(records: Mapping[str, Mapping[str, Any]]) -> str | None:
    """The BLEU metric the Flores-101 tasks report (`spbleu`, or the opted-into BLEU), None without such tasks."""
    names = [m for task, r in records.items() if task.startswith(flores101.FAMILY.prefix) for m in r["metrics"]]
    return "spbleu" if "spbleu" in names else next((m for m in names if m.startswith("bleu")), None)


def flores_matrix(records: Mapping[str, Mapping[str, Any]], metric: str) -> np.ndarray:
    """[source, target] over `flores101.LANGUAGES` of one metric; NaN where a direction was not scored."""
    codes = flores101.LANGUAGES
    matrix = np.full((len(codes), len(codes)), np.nan)
    for i, source in enumerate(codes):
        for j, target in enumerate(codes):
            value = records.get(flores101.task_name(source, target), {}).get("metrics", {}).get(metric)
            if isinstance(value, (int, float)):
                matrix[i, j] = value
    return matrix


def plot_flores_heatmap(matrix: np.ndarray, metric: str, path: Path) -> Path:
    """A source x target heat map with the values written in the cells."""
    from matplotlib.figure import Figure

    codes = flores101.LANGUAGES
    figure = Figure(figsize=(9, 7.5), dpi=100)
    axes = figure.add_subplot()
    image = axes.imshow(np.ma.masked_invalid(matrix), cmap="viridis")
    axes.set_xticks(range(len(codes)), labels=codes)
    axes.set_yticks(range(len(codes)), labels=codes)
    axes.set_xlabel("target language")
    axes.set_ylabel("source language")
    axes.set_title(f"Flores-101 1-shot {metric} (devtest)")
    finite = matrix[np.isfinite(matrix)]
    middle = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for i in range(len(codes)):
        for j in range(len(codes)):
            if math.isfinite(matrix[i, j]):
                axes.text(j, i, f"{matrix[i, j]:.1f}", ha="center", va="center", fontsize=7,
                          color="black" if matrix[i, j] > middle else "white")
    figure.colorbar(image, ax=axes, label=metric)
    return _save(figure, path)


def superglue_bars(records: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, float, float | None]]:
    """(task, metric, ours, paper) per SuperGLUE task scored: the metric the paper reports, else the first."""
    out = []
    for name in superglue.PROMPTS:
        record = records.get(superglue.task_name(name))
        if not record or not record.get("metrics"):
            continue
        metrics = record["metrics"]
        metric = next((m for m in metrics if paper_value(superglue.task_name(name), m)), next(iter(metrics)))
        paper = paper_value(superglue.task_name(name), metric)
        out.append((name, metric, float(metrics[metric]), paper[0] if paper else None))
    return out


def plot_superglue(bars: list[tuple[str, str, float, float | None]], path: Path) -> Path:
    """Grouped bars: ours and the paper's number per task."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.5), dpi=100)
    axes = figure.add_subplot()
    x = np.arange(len(bars))
    ours = [b[2] for b in bars]
    paper = [np.nan if b[3] is None else b[3] for b in bars]
    axes.bar(x - 0.2, ours, width=0.4, label="this run")
    axes.bar(x + 0.2, paper, width=0.4, label="paper")
    axes.set_xticks(x, labels=[f"{b[0]}\n({b[1]})" for b in bars], fontsize=8)
    axes.set_ylim(0, 100)
    axes.set_ylabel("score (0-100)")
    axes.set_title("SuperGLUE zero-shot (validation)")
    axes.legend()
    return _save(figure, path)


def _save(figure: Any, path: Path) -> Path:
    """Saves a PNG through a temporary name and a rename (no half-written image)."""
    figure.tight_layout()
    tmp = path.with_name(path.name + ".tmp")
    figure.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def load_records(output_dir: Path) -> dict[str, dict[str, Any]]:
    """The per-task records of `output_dir`; a clear error when there are none or one is unreadable."""
    if not output_dir.is_dir():
        raise DataError(f"{output_dir} is not a directory: pass the EVAL_OUTPUT_DIR of an evaluation run.")
    try:
        records = outputs.read_task_records(output_dir)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise DataError(f"A *{outputs.TASK_METRICS_SUFFIX} file in {output_dir} is not valid JSON ({e}): run "
                        "that task's evaluation again.") from e
    if not records:
        raise DataError(f"No *{outputs.TASK_METRICS_SUFFIX} files in {output_dir}: it holds no evaluation results "
                        "(run `python -m alexatm_jax.eval ... --gin.EVAL_OUTPUT_DIR=...` first).")
    return records


def write_report(output_dir: str | Path) -> tuple[str, list[Path]]:
    """Writes the report files into `output_dir`; returns (the text to print, the files written)."""
    output_dir = Path(output_dir)
    records = load_records(output_dir)
    table = markdown_table(rows(records))
    text = f"{checkpoints_note(records)}\n\n{table}\n\n{SOURCES_NOTE}\n"
    written = [output_dir / TABLE_FILENAME]
    outputs.write_text(written[0], f"# Evaluation results\n\n{text}")
    metric = flores_metric(records)
    if metric:
        flores_records = {t: r["metrics"] for t, r in records.items() if t.startswith(flores101.FAMILY.prefix)}
        summary = flores101.flores101_summary_table(flores_records, metric=metric)
        written.append(output_dir / FLORES_TABLE_FILENAME)
        outputs.write_text(written[-1], f"# Flores-101 1-shot\n\n{summary}\n")
        written.append(plot_flores_heatmap(flores_matrix(records, metric), metric,
                                           output_dir / FLORES_HEATMAP_FILENAME))
    bars = superglue_bars(records)
    if bars:
        written.append(plot_superglue(bars, output_dir / SUPERGLUE_CHART_FILENAME))
    return text, written
