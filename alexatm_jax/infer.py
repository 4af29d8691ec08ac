"""`python -m alexatm_jax.infer --gin_file=gin/runs/infer.gin --gin.NAME=VALUE`: T5X-style batch inference.

    python -m alexatm_jax.infer --gin_file=gin/runs/infer.gin --gin.CHECKPOINT_PATH="'runs/default_tiny'" \\
      --gin.INFER_OUTPUT_DIR="'infer/out'" --gin.INPUT_FILE="'prompts.jsonl'" [--gin.MODE="'score'"]

Inputs come from a JSONL file (`{"inputs": str | [ids], "targets": ...}` per line, other fields copied to the
output), a TSV file (`inputs<TAB>targets`) or a SeqIO task (`MIXTURE_OR_TASK_NAME`, `SPLIT`; token ids).
MODE `predict` generates, `score` gives each target's summed log-likelihood. A record the model cannot take
(`{"inputs": 5}`, an empty or over-long input) gets an `error` field; the others are unaffected.

Outputs are written per shard of `shard_size` examples (`<mode>-00000.jsonl`, ...), each written whole or not at
all, then joined into `<mode>.jsonl`. A run started again into the same INFER_OUTPUT_DIR skips complete shards
only if it would compute the same thing: `infer_state.json` records the checkpoint (step and content
fingerprint), every decoding option, the input file's content hash and the vocabulary's; any difference is an
error that names it (`--gin.OVERWRITE=True` replaces the old results). Every setting, the input and the
checkpoint are checked before anything is written or the model is loaded.
Exit codes: 0 done, 2 configuration or input error (an input file without records included: nothing to do is
almost always the wrong file; the message says how to fix it).
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from absl import flags

from alexatm_jax import console, paths
from alexatm_jax import inputs as user_inputs
from alexatm_jax.checkpoint import integrity, run_dir
from alexatm_jax.cli import app
from alexatm_jax.decoding.predict import check_options
from alexatm_jax.errors import ConfigError, DataError
from tasks.registry import TaskDataError, UnknownTaskError

log = logging.getLogger("alexatm_jax.infer")
MODES = ("predict", "score")
STATE_FILENAME = "infer_state.json"
STATE_FORMAT = 2
SCORE_OPTIONS = ("max_input_length", "truncation", "batch_size")


def infer(
    *, checkpoint_path: str, output_dir: str, mode: str = "predict", input_file: str | None = None,
    mixture_or_task_name: str | None = None, split: str = "validation", task_module: str | None = "tasks.all",
    shard_size: int = 256, batch_size: int = 32, max_examples: int | None = None,
    prompt_mode: str | None = "clm", max_new_tokens: int = 64, min_new_tokens: int = 0, num_beams: int = 1,
    num_return_sequences: int = 1, temperature: float = 0.0, top_k: int | None = None, top_p: float | None = None,
    length_penalty: float = 1.0, early_stopping: bool = True, stop_strings: Sequence[str] | None = None,
    banned_sequences: Sequence[Any] | None = None, seed: int = 0, max_input_length: int | None = None,
    truncation: str = "left", target_eos: bool = False, dtype: str | None = None, vocab_path: str | None = None,
    tokenization: str | None = None, overwrite: bool = False, partitioner: Any = None, progress_bar: bool = True,
) -> Path:
    """Runs `mode` over every input and writes JSONL shards into `output_dir`; returns the joined output file.

    `prompt_mode` applies to string inputs (see `Seq2SeqLM.generate`); SeqIO task inputs are token ids, used as
    the task made them. The generation options are `Seq2SeqLM.generate`'s. `overwrite` replaces the results of an
    earlier run with other settings (without it, that is an error).
    """
    from alexatm_jax import api, prompting

    options = dict(max_new_tokens=max_new_tokens, min_new_tokens=min_new_tokens, num_beams=num_beams,
                   num_return_sequences=num_return_sequences, temperature=temperature, top_k=top_k, top_p=top_p,
                   length_penalty=length_penalty, early_stopping=early_stopping, stop_strings=stop_strings,
                   banned_sequences=banned_sequences, max_input_length=max_input_length, truncation=truncation,
                   batch_size=batch_size)
    if prompt_mode not in prompting.MODES:
        raise ConfigError(f"PROMPT_MODE={prompt_mode!r} is unknown: use one of {prompting.MODES}.")
    if truncation not in api.TRUNCATIONS:
        raise ConfigError(f"truncation={truncation!r} is unknown: use one of {api.TRUNCATIONS}.")
    _check_settings(mode, input_file, mixture_or_task_name, shard_size, max_examples, seed, options)
    out_dir = paths.resolve(output_dir)
    _check_output_dir(out_dir)
    checkpoint_dir = run_dir.find_checkpoint(paths.resolve(checkpoint_path))
    config = run_dir.read_model_config(run_dir.config_dir(checkpoint_dir))
    if mode == "predict":
        _check_decoding(config.max_position_embeddings, options)
    vocab = paths.resolve_optional(vocab_path) or run_dir.read_metadata(checkpoint_dir).get(run_dir.VOCAB_PATH_FIELD)
    if vocab and "://" not in str(vocab) and not Path(vocab).is_file():
        raise ConfigError(f"The vocabulary {vocab} does not exist: pass --gin.VOCAB_PATH=\"'/path/spm.model'\" (the "
                          "SentencePiece model the checkpoint was trained with).")

    if input_file is not None:
        input_path = paths.resolve(input_file)
        records, total = read_input_file(str(input_path))
        source = {"input_file": str(input_path), "sha256": _sha256(input_path)}
    else:
        records, total = read_task(mixture_or_task_name, split, task_module)
        source = {"mixture_or_task_name": mixture_or_task_name, "split": split, "task_module": task_module}
    if max_examples is not None:
        records, total = itertools.islice(records, max_examples), min(total or max_examples, max_examples)
    records = _nonempty(records, input_file or f"{mixture_or_task_name} ({split})")

    state = {
        "format": STATE_FORMAT, "mode": mode, "shard_size": shard_size, "max_examples": max_examples,
        "input": source,
        "checkpoint": {"path": str(checkpoint_dir), "step": int(checkpoint_dir.name) if checkpoint_dir.name.isdigit()
                       else None, "fingerprint": integrity.fingerprint(checkpoint_dir)},
        "vocabulary": None if not vocab else {"path": str(vocab), "sha256": _sha256(Path(vocab))
                                              if Path(vocab).is_file() else None},
        # What decides the outputs of this mode (score ignores the generation options).
        "options": {**(options if mode == "predict" else {k: options[k] for k in SCORE_OPTIONS}),
                    **({"seed": seed} if mode == "predict" else {"target_eos": target_eos}),
                    "prompt_mode": prompt_mode, "dtype": dtype, "tokenization": tokenization},
    }
    _claim(out_dir, json.loads(json.dumps(state)), overwrite)

    lm = api.load(checkpoint_dir, dtype=dtype, partitioner=partitioner, vocab_path=vocab_path,
                  tokenization=tokenization)
    _ = lm.tokenizer  # A vocabulary that does not fit the model fails here, not once per example.
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
    with open(joined.with_suffix(".tmp"), "w", encoding="utf-8") as f:
        for path in shards:
            f.write(path.read_text(encoding="utf-8"))
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


def record_problem(record: dict[str, Any], *, needs_targets: bool) -> str | None:
    """Why one record cannot be run (one string or one token-id list as `inputs`; `targets` when scoring)."""
    inputs = record.get("inputs")
    if inputs is None or inputs == [] or (isinstance(inputs, str) and not inputs.strip()):
        return "empty input"
    fields = [("inputs", inputs)] + ([("targets", record.get("targets"))] if needs_targets else [])
    for name, value in fields:
        if value is None:
            return "no targets to score"
        try:
            _, single, _ = user_inputs.examples(value, name, allow_empty=name == "targets")
        except (TypeError, ValueError) as e:
            return str(e)
        if not single and not (name == "targets" and value == []):
            return f"{name} must be one string or one list of token ids, not a list of {len(value)} of them."
    return None


def _run_guarded(records: list[dict[str, Any]], run, *, needs_targets: bool) -> list[dict[str, Any]]:
    """Runs the whole list (sorted longest first: similar lengths share a batch); if the model rejects it,
    runs records one by one so that only the bad ones carry an `error`."""
    errors = {}
    for i, r in enumerate(records):
        problem = record_problem(r, needs_targets=needs_targets)
        if problem:
            errors[i] = problem
    good = sorted((i for i in range(len(records)) if i not in errors), key=lambda i: -len(records[i]["inputs"]))
    results: dict[int, dict[str, Any]] = {}
    try:
        for i, row in zip(good, run([records[i] for i in good]) if good else []):
            results[i] = row
    except (TypeError, ValueError):
        for i in good:
            try:
                results[i] = run([records[i]])[0]
            except (TypeError, ValueError) as e:
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
    if file.suffix not in (".tsv", ".jsonl", ".json"):
        raise DataError(f"INPUT_FILE {path} must end in .jsonl or .tsv.")
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise DataError(f"INPUT_FILE {path} is not UTF-8 text ({e}): save it as UTF-8.") from e
    records = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if file.suffix == ".tsv":
            parts = line.split("\t")
            if len(parts) > 2:
                raise DataError(f"{path}:{n} has {len(parts)} tab-separated columns: use `inputs<TAB>targets`.")
            records.append({"inputs": parts[0], **({"targets": parts[1]} if len(parts) == 2 else {})})
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"{path}:{n} is not JSON ({e}): write one object per line.") from e
        if not isinstance(record, dict) or "inputs" not in record:
            raise DataError(f"{path}:{n} needs an \"inputs\" field: {{\"inputs\": \"...\", \"targets\": ...}}.")
        records.append(record)
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


def _check_settings(mode: str, input_file: str | None, task: str | None, shard_size: Any, max_examples: Any,
                    seed: Any, options: dict[str, Any]) -> None:
    """Every setting that needs no file, with the gin macro to fix it."""
    if mode not in MODES:
        raise ConfigError(f"MODE={mode!r} is unknown: use one of {MODES}, e.g. --gin.MODE=\"'score'\".")
    if (input_file is None) == (task is None):
        raise ConfigError("Give exactly one input source: --gin.INPUT_FILE=\"'/path/inputs.jsonl'\" or "
                          "--gin.MIXTURE_OR_TASK_NAME=\"'task_name'\".")
    try:
        user_inputs.integer(shard_size, "shard_size (SHARD_SIZE)", minimum=1)
        user_inputs.integer(max_examples, "max_examples (MAX_EXAMPLES)", minimum=1, optional=True)
        if mode == "predict":
            user_inputs.check_generate(seed=seed, stop_sequences=None, **{
                k: v for k, v in options.items() if k not in ("early_stopping", "truncation")})
        else:
            user_inputs.check_batching(batch_size=options["batch_size"],
                                       max_input_length=options["max_input_length"])
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{e} Set it with --gin.NAME=VALUE (see gin/runs/infer.gin).") from e


def _check_decoding(limit: int, options: dict[str, Any]) -> None:
    """The decoding options' ranges for this model, before any work (the same rules `generate` applies)."""
    try:
        check_options(limit, max_decode_length=limit, **{k: options[k] for k in (
            "max_new_tokens", "min_new_tokens", "num_beams", "num_return_sequences", "temperature", "top_k",
            "top_p")})
    except ValueError as e:
        raise ConfigError(f"{e} Set it with --gin.NAME=VALUE (see gin/runs/infer.gin).") from e


def _check_output_dir(out_dir: Path) -> None:
    """INFER_OUTPUT_DIR must be a directory this command may write: not a file, not a checkpoint or training run."""
    found = run_dir.kind(out_dir)
    ours = (out_dir / STATE_FILENAME).is_file()
    if found is run_dir.DirKind.NOT_A_DIRECTORY:
        raise ConfigError(f"INFER_OUTPUT_DIR {out_dir} is a file: pass a directory.")
    if not ours and found in (run_dir.DirKind.TRAINING_RUN, run_dir.DirKind.CHECKPOINT, run_dir.DirKind.OFFICIAL):
        raise ConfigError(f"INFER_OUTPUT_DIR {out_dir} is a {found.value}: inference would overwrite its files "
                          "(config.gin). Pass another directory.")
    if not paths.writable_directory(out_dir):
        raise ConfigError(f"INFER_OUTPUT_DIR {out_dir} cannot be written: choose a directory you can write to.")


def _nonempty(records: Iterator[dict[str, Any]], where: str) -> Iterator[dict[str, Any]]:
    """`records`, or `DataError` if there is none (checked now, before the model loads)."""
    first = next(records, None)
    if first is None:
        raise DataError(f"{where} holds no records: nothing to do. Check the file (one {{\"inputs\": ...}} object per "
                        "line for .jsonl, inputs<TAB>targets per line for .tsv), the task and split, or MAX_EXAMPLES.")
    return itertools.chain([first], records)


def _claim(out_dir: Path, state: dict[str, Any], overwrite: bool) -> None:
    """Reuses `out_dir`'s shards only if an earlier run computed them with `state`; else raises, or with `overwrite`
    removes that run's files (only those this command writes). Then records `state`."""
    path = out_dir / STATE_FILENAME
    previous = _read_state(path) if path.is_file() else None
    leftovers = _our_files(out_dir) if out_dir.is_dir() else []
    if previous != state and (previous is not None or leftovers):
        if not overwrite:
            changed = _differences(previous or {}, state) if previous else ["no record of their settings"]
            raise ConfigError(
                f"INFER_OUTPUT_DIR {out_dir} holds results computed with other settings ({'; '.join(changed[:6])}"
                f"{'; ...' if len(changed) > 6 else ''}): reusing them would mix old and new results. Pass "
                "--gin.OVERWRITE=True to replace them, or use a new INFER_OUTPUT_DIR.")
        for file in leftovers:
            file.unlink()
        log.warning("OVERWRITE: removed %d result file(s) of an earlier run with other settings from %s.",
                    len(leftovers), out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def _read_state(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {"unreadable": str(path)}


def _our_files(out_dir: Path) -> list[Path]:
    names = [f"{m}-[0-9][0-9][0-9][0-9][0-9].jsonl" for m in MODES] + [f"{m}.jsonl" for m in MODES] + ["*.tmp"]
    return sorted({p for pattern in names for p in out_dir.glob(pattern) if p.is_file()} | (
        {out_dir / STATE_FILENAME} if (out_dir / STATE_FILENAME).is_file() else set()))


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    """`key: old -> new` for every leaf that differs."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {_short(a)} -> {_short(b)}")
    return out


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:28] + "..." + text[-28:]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _chunks(records: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    while chunk := list(itertools.islice(records, size)):
        yield chunk


def _write_atomically(path: Path, rows: list[dict[str, Any]], *, start: int) -> None:
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for i, row in enumerate(rows):
            f.write(_json_line({"index": start + i, **row}))
    tmp.replace(path)


def _json_line(row: dict[str, Any]) -> str:
    """Readable UTF-8 JSON; a record holding a lone surrogate (valid JSON, not encodable) is \\u-escaped."""
    line = json.dumps(row, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        line = json.dumps(row)
    return line + "\n"


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
                      user_errors=(UnknownTaskError, TaskDataError))


def main(argv: list[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
