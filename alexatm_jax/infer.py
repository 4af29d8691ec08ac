"""`python -m alexatm_jax.infer --gin_file=gin/runs/infer.gin --gin.NAME=VALUE`: T5X-style batch inference.

    python -m alexatm_jax.infer --gin_file=gin/runs/infer.gin --gin.CHECKPOINT_PATH="'runs/default_tiny'" \\
      --gin.INFER_OUTPUT_DIR="'infer/out'" --gin.INPUT_FILE="'prompts.jsonl'" [--gin.MODE="'score'"]

Inputs come from a JSONL file (`{"inputs": str | [ids], "targets": ...}` per line, other fields copied to the
output), a TSV file (`inputs<TAB>targets`) or a SeqIO task (`MIXTURE_OR_TASK_NAME`, `SPLIT`; token ids).
MODE `predict` generates, `score` gives each target's summed log-likelihood. Outputs are written per shard of
`shard_size` examples (`<mode>-00000.jsonl`, ...), each written whole or not at all: a run started again with
the same settings skips complete shards. At the end every shard is joined into `<mode>.jsonl`.
Exit codes: 0 done, 2 configuration or input error (the message says how to fix it).
"""

from __future__ import annotations

import importlib
import itertools
import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from absl import flags

from alexatm_jax import console, paths
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.cli import app
from alexatm_jax.errors import ConfigError, DataError
from tasks.registry import UnknownTaskError

log = logging.getLogger("alexatm_jax.infer")
MODES = ("predict", "score")
STATE_FILENAME = "infer_state.json"


def infer(
    *, checkpoint_path: str, output_dir: str, mode: str = "predict", input_file: str | None = None,
    mixture_or_task_name: str | None = None, split: str = "validation", task_module: str | None = "tasks.all",
    shard_size: int = 256, batch_size: int = 32, max_examples: int | None = None,
    prompt_mode: str | None = "clm", max_new_tokens: int = 64, min_new_tokens: int = 0, num_beams: int = 1,
    num_return_sequences: int = 1, temperature: float = 0.0, top_k: int | None = None, top_p: float | None = None,
    length_penalty: float = 1.0, early_stopping: bool = True, stop_strings: Sequence[str] | None = None,
    banned_sequences: Sequence[Any] | None = None, seed: int = 0, max_input_length: int | None = None,
    truncation: str = "left", target_eos: bool = False, dtype: str | None = None, vocab_path: str | None = None,
    partitioner: Any = None, progress_bar: bool = True,
) -> Path:
    """Runs `mode` over every input and writes JSONL shards into `output_dir`; returns the joined output file.

    `prompt_mode` applies to string inputs (see `Seq2SeqLM.generate`); SeqIO task inputs are token ids, used as
    the task made them. The generation options are `Seq2SeqLM.generate`'s.
    """
    from alexatm_jax import api

    if mode not in MODES:
        raise ConfigError(f"MODE={mode!r} is unknown: use one of {MODES}, e.g. --gin.MODE=\"'score'\".")
    if (input_file is None) == (mixture_or_task_name is None):
        raise ConfigError("Give exactly one input source: --gin.INPUT_FILE=\"'/path/inputs.jsonl'\" or "
                         "--gin.MIXTURE_OR_TASK_NAME=\"'task_name'\".")
    if shard_size < 1:
        raise ConfigError(f"shard_size={shard_size} must be >= 1.")
    out_dir = paths.resolve(output_dir)
    input_file = None if input_file is None else str(paths.resolve(input_file))
    checkpoint_path = paths.resolve(checkpoint_path)
    vocab_path = paths.resolve_optional(vocab_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    _check_state(out_dir, {"mode": mode, "shard_size": shard_size, "input_file": input_file,
                           "mixture_or_task_name": mixture_or_task_name, "split": split})
    if input_file is not None:
        records, total = read_input_file(input_file)
    else:
        records, total = read_task(mixture_or_task_name, split, task_module)
    if max_examples is not None:
        records, total = itertools.islice(records, max_examples), min(total or max_examples, max_examples)

    lm = api.load(checkpoint_path, dtype=dtype, partitioner=partitioner, vocab_path=vocab_path)
    _ = lm.tokenizer  # A vocabulary that does not fit the model fails here, not once per example.
    options = dict(max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens, num_beams=num_beams,
                   num_return_sequences=num_return_sequences, temperature=temperature, top_k=top_k, top_p=top_p,
                   length_penalty=length_penalty, early_stopping=early_stopping, stop_strings=stop_strings,
                   banned_sequences=banned_sequences, max_input_length=max_input_length, truncation=truncation,
                   batch_size=batch_size)
    progress = console.progress_bar(total=total, desc="infer", unit="example", enabled=progress_bar)
    shards = []
    for index, shard in enumerate(_chunks(records, shard_size)):
        path = out_dir / f"{mode}-{index:05d}.jsonl"
        shards.append(path)
        if path.exists():  # Complete: shards are renamed into place only once fully written.
            progress.update(len(shard))
            continue
        if mode == "predict":
            rows = predict_records(lm, shard, prompt_mode=prompt_mode, seed=seed + index * shard_size, **options)
        else:
            rows = score_records(lm, shard, prompt_mode=prompt_mode, target_eos=target_eos,
                                 max_input_length=max_input_length, truncation=truncation, batch_size=batch_size)
        _write_atomically(path, rows, start=index * shard_size)
        progress.update(len(shard))
    progress.close()
    joined = out_dir / f"{mode}.jsonl"
    with open(joined.with_suffix(".tmp"), "w") as f:
        for path in shards:
            f.write(path.read_text())
    joined.with_suffix(".tmp").replace(joined)
    log.info("Wrote %s (%d shards).", joined, len(shards))
    return joined


def predict_records(lm: Any, records: list[dict[str, Any]], *, prompt_mode: str | None, seed: int,
                    **options: Any) -> list[dict[str, Any]]:
    """Generates for each record; a record the model cannot take gets an `error` field instead."""
    def run(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        details = lm.generate([r["inputs"] for r in batch], mode=prompt_mode, seed=seed, return_details=True,
                              **options)
        out = []
        for record, d in zip(batch, details):
            many = isinstance(d, list)
            first = d[0] if many else d
            row = dict(record, prediction=[x["output"] for x in d] if many else first["output"],
                       score=[x["score"] for x in d] if many else first["score"],
                       finish_reason=first["finish_reason"], input_truncated=first["input_truncated"])
            if lm.tokenizer is not None and not isinstance(record["inputs"], str):
                row["prediction_text"] = ([lm.tokenizer.decode(x["tokens"]) for x in d] if many
                                          else lm.tokenizer.decode(first["tokens"]))
            out.append(row)
        return out

    return _run_guarded(records, run, needs_targets=False)


def score_records(lm: Any, records: list[dict[str, Any]], *, prompt_mode: str | None, target_eos: bool,
                  max_input_length: int | None, truncation: str, batch_size: int) -> list[dict[str, Any]]:
    """The summed log-likelihood of each record's `targets` given its `inputs`."""
    def run(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
        scores = lm.score([r["inputs"] for r in batch], [r["targets"] for r in batch], mode=prompt_mode,
                          target_eos=target_eos, max_input_length=max_input_length, truncation=truncation,
                          batch_size=batch_size)
        return [dict(r, score=float(s)) for r, s in zip(batch, scores)]

    return _run_guarded(records, run, needs_targets=True)


def _run_guarded(records: list[dict[str, Any]], run, *, needs_targets: bool) -> list[dict[str, Any]]:
    """Runs the whole list (sorted longest first: similar lengths share a batch); if the model rejects it,
    runs records one by one so that only the bad ones carry an `error`."""
    errors = {}
    for i, r in enumerate(records):
        inputs = r.get("inputs")
        if inputs is None or (isinstance(inputs, str) and not inputs.strip()) or (
                not isinstance(inputs, str) and not len(inputs)):
            errors[i] = "empty input"
        elif needs_targets and r.get("targets") is None:
            errors[i] = "no targets to score"
    good = sorted((i for i in range(len(records)) if i not in errors), key=lambda i: -len(records[i]["inputs"]))
    results: dict[int, dict[str, Any]] = {}
    try:
        for i, row in zip(good, run([records[i] for i in good]) if good else []):
            results[i] = row
    except ValueError:
        for i in good:
            try:
                results[i] = run([records[i]])[0]
            except ValueError as e:
                errors[i] = str(e)
    for i, message in errors.items():
        log.warning("Example %s: %s", records[i].get("index", i), message)
        results[i] = dict(records[i], error=message)
    return [results[i] for i in range(len(records))]


def read_input_file(path: str) -> tuple[Iterator[dict[str, Any]], int]:
    """Records of a `.jsonl` file (`inputs`, optional `targets`, anything else) or a `.tsv` file."""
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"INPUT_FILE {path} not found: pass an existing .jsonl or .tsv file.")
    lines = [line for line in file.read_text().splitlines() if line.strip()]
    if file.suffix == ".tsv":
        records = []
        for n, line in enumerate(lines, 1):
            parts = line.split("\t")
            if len(parts) > 2:
                raise DataError(f"{path}:{n} has {len(parts)} tab-separated columns: use `inputs<TAB>targets`.")
            records.append({"inputs": parts[0], **({"targets": parts[1]} if len(parts) == 2 else {})})
    elif file.suffix in (".jsonl", ".json"):
        records = []
        for n, line in enumerate(lines, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{n} is not JSON ({e}): write one object per line.") from e
            if not isinstance(record, dict) or "inputs" not in record:
                raise DataError(f"{path}:{n} needs an \"inputs\" field: {{\"inputs\": \"...\", \"targets\": ...}}.")
            records.append(record)
    else:
        raise DataError(f"INPUT_FILE {path} must end in .jsonl or .tsv.")
    return iter(records), len(records)


def read_task(name: str, split: str, module: str | None) -> tuple[Iterator[dict[str, Any]], int | None]:
    """Token-id records of a SeqIO task or mixture (no shuffling: restarts see the same order)."""
    from alexatm_jax.training import input_pipeline

    input_pipeline.import_task_module(module)
    from tasks.registry import get_mixture_or_task

    task = get_mixture_or_task(name)
    ds = task.get_dataset(sequence_length=None, split=split, shuffle=False, num_epochs=1)

    def records() -> Iterator[dict[str, Any]]:
        for ex in ds.as_numpy_iterator():
            record = {k: [int(t) for t in ex[k]] for k in ("inputs", "targets") if k in ex}
            for k in ("inputs_pretokenized", "targets_pretokenized"):
                if k in ex and isinstance(ex[k], bytes):
                    record[k] = ex[k].decode("utf-8")
            yield record

    return records(), None


def _chunks(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(itertools.islice(records, size)):
        yield chunk


def _write_atomically(path: Path, rows: list[dict[str, Any]], *, start: int) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w") as f:
        for i, row in enumerate(rows):
            f.write(json.dumps({"index": start + i, **row}, ensure_ascii=False) + "\n")
    tmp.replace(path)


def _check_state(out_dir: Path, state: dict[str, Any]) -> None:
    """Shards of an earlier run are reused only if they cover the same examples the same way."""
    path = out_dir / STATE_FILENAME
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != state:
            changed = sorted(k for k in set(state) | set(previous) if previous.get(k) != state.get(k))
            raise ConfigError(f"{out_dir} holds shards of a run with other settings ({', '.join(changed)}): use a new "
                             "INFER_OUTPUT_DIR, or delete the old one.")
    path.write_text(json.dumps(state, indent=2) + "\n")


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del args
    from alexatm_jax.cli import gin_config

    # The gin file binds `alexatm_jax.infer.infer`; under `python -m` this file is `__main__`, a second copy.
    this_module = importlib.import_module("alexatm_jax.infer")
    gin_config.parse(fv.gin_file, fv.gin_bindings, fv.gin_search_paths)
    output_dir = paths.resolve(gin_config.macro("INFER_OUTPUT_DIR"))
    joined = gin_config.call(this_module.infer)
    run_dir.operative_config_path(output_dir).write_text(gin_config.operative_config())
    print(f"Wrote {joined}", flush=True)
    return app.EXIT_OK


COMMAND = app.Command(name="infer", doc=__doc__, run=_run, uses_gin=True, multi_process=True,
                      user_errors=(UnknownTaskError,))


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
