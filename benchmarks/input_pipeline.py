"""Input pipeline rate: tokens/s per CPU core of the pretraining mixtures, per stage, against what accelerators eat.

    python benchmarks/input_pipeline.py                                   # both mixtures, a few minutes
    python benchmarks/input_pipeline.py --mixtures=alexatm_pretrain --cores=2

Mixtures: `alexatm_default_pretrain` (the project's own corpus, `tasks/default_tasks.py`) and `alexatm_pretrain`
(mC4 + Wikipedia, `tasks/pretraining.py`) read from TFDS mock data (`tfds.testing.mock_data`) backed by TFRecord
files this script writes: documents of each language's sentences from `tasks.corpus`, with log-normal lengths
(`--mc4_chars` / `--wiki_chars`: median characters and sigma; assumed, erring short, since short documents are the
costly case: much of the work is per document). Both at `--input_length` + `--target_length` (1024 + 1024) with
packing. `--vocabulary` measures with another SentencePiece model (the default one has 7,000 pieces).

A "token" is one position of a packed model row (encoder + decoder, padding included: the accelerator computes
every position); "fill" is the share of positions that hold real tokens. Rates per core are tokens per CPU
second of this process (all its threads), so they hold on a loaded machine and scale with cores.

* Stages: read (source), text (clean, spoken form), tokenise, documents (skip short, split long, pack with
  `[DOC]`), objective (denoise / CLM, EOS), convert (mixing the objectives and `AlexaTMFeatureConverter` packing
  into rows). Each objective runs its chain over documents drawn from its tasks' sources in proportion to the
  mixture's rates, cut after each stage in turn (`stage_costs`); a stage's cost per row counts the examples the
  rows used. "tokens/s per core" of a stage is what one core would deliver if it ran that stage alone.
* End to end: the trainer's own pipeline (`alexatm_jax.training.input_pipeline.SeqioBatches`): its start-up
  (building it and filling its buffers up to the first batch: for `alexatm_pretrain`, 48 task pipelines with
  shuffle buffers of 1,000 examples each), then `--rows` rows after `--warmup_rows`. Its rate per core depends on
  where that window falls: right after start-up it reads ahead from full buffers (above steady state); while
  tasks still fill theirs it pays for that (below). The goals take the lower of it and the stage total.
* Need: one accelerator at the MFU goal on `--model_gin` (FLOPs of a fully packed row from `alexatm_jax.model.flops`,
  peak from its table). The default goal, 50% MFU, is what AlexaTM 20B reached: up to 154 TFLOP/s per A100
  (docs/PAPER.md) over the A100's 312 TFLOP/s bf16 peak (the table) is 49%.
* Goals: a 2-core process delivers at least 1/8 of one accelerator's need; a `--host_cores` host at least
  `--accelerators_per_host` accelerators' need with margin. Scaling assumption: linear in cores, times
  `--scaling_efficiency` (0.75: the host also runs the trainer), with one input stream per accelerator
  (`DatasetConfig.num_shards`, or one process per accelerator), so streams share nothing. Some steps of a stream
  run on one thread (mixing, batching for the packers, `flat_map`): the table checks that even the slowest
  stage, all on one core, keeps up with one accelerator.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util  # noqa: F401  (gin-config 0.5.0 needs it before gin)
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a checkout without installing

from alexatm_jax import paths  # noqa: E402
from alexatm_jax.cli.app import configure_console  # noqa: E402

STAGES = ("read", "text", "tokenise", "documents", "objective", "convert")
STAGE_LABELS = {
    "read": "read (source)", "text": "clean + spoken form", "tokenise": "tokenise",
    "documents": "skip short, split long, [DOC] pack", "objective": "denoise / CLM, EOS",
    "convert": "mix + convert (pack rows)",
}
# seqio preprocessor name -> stage (a preprocessor missing here is an error: keep the table honest).
STAGE_OF = {
    "rekey": "text", "clean_text": "text", "spoken_form": "text",
    "tokenize": "tokenise",
    "split_long_documents": "documents", "filter_short_documents": "documents", "pack_documents": "documents",
    "denoise": "objective", "clm": "objective", "append_eos_after_trim": "objective", "add_objective": "objective",
}
DEFAULT_MIXTURES = ("alexatm_default_pretrain", "alexatm_pretrain")


@dataclasses.dataclass(frozen=True)
class Run:
    """Counts and times of one pass over a dataset."""

    elements: int
    wall_s: float
    cpu_s: float


@contextlib.contextmanager
def timed() -> Iterator[dict[str, float]]:
    """Wall and process CPU seconds (all threads) of the block, filled in on exit."""
    out: dict[str, float] = {}
    wall, cpu = time.perf_counter(), time.process_time()
    yield out
    out["wall_s"], out["cpu_s"] = time.perf_counter() - wall, time.process_time() - cpu


def consume(ds: Any) -> Run:
    """Runs a dataset to its end inside TensorFlow (`reduce`: no python per element)."""
    import numpy as np

    with timed() as t:
        n = int(ds.reduce(np.int64(0), lambda count, _: count + 1))
    return Run(n, t["wall_s"], t["cpu_s"])


# ----------------------------------------------------------------------------- TFDS mock data


@dataclasses.dataclass(frozen=True)
class LengthModel:
    """Document lengths in characters: log-normal with this median and sigma, capped."""

    median: float
    sigma: float
    cap: int = 150_000  # above the pipeline's max_chars (100,000), so truncation happens now and then

    @classmethod
    def parse(cls, text: str) -> LengthModel:
        """"MEDIAN,SIGMA" (a command-line value)."""
        try:
            median, sigma = (float(v) for v in text.split(","))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected MEDIAN_CHARS,SIGMA, e.g. 1000,1.0") from None
        if median < 1 or sigma < 0:
            raise argparse.ArgumentTypeError(f"{text!r}: the median must be >= 1 character and sigma >= 0")
        return cls(median, sigma)


def write_documents(path: Path, sentences: Sequence[str], count: int, lengths: LengthModel, seed: int,
                    paragraph: int = 0) -> None:
    """`count` documents of random `sentences` (a newline every `paragraph` sentences) as tf.train.Examples."""
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for _ in range(count):
            target = min(rng.lognormal(np.log(lengths.median), lengths.sigma), lengths.cap)
            parts, size = [], 0
            while size < target:
                parts.append(sentences[rng.integers(len(sentences))])
                size += len(parts[-1]) + 1
                if paragraph and len(parts) % paragraph == 0:
                    parts[-1] += "\n"
            text = " ".join(parts).encode()
            feature = {"text": tf.train.Feature(bytes_list=tf.train.BytesList(value=[text]))}
            writer.write(tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString())


@contextlib.contextmanager
def mock_pretraining_tfds(directory: Path, languages: Sequence[str], docs_per_source: int, mc4: LengthModel,
                          wiki: LengthModel, seed: int = 0) -> Iterator[None]:
    """mC4 and Wikipedia of `languages` as TFDS mock data read from TFRecord files in `directory`."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    from tasks import corpus

    files = {}
    for i, language in enumerate(languages):
        sentences = [u.text for u in corpus.generate("train", languages=(language,))]
        for corpus_name, lengths, paragraph in (("mc4", mc4, 0), ("wiki", wiki, 4)):
            files[corpus_name, language] = directory / f"{corpus_name}-{language}.tfrecord"
            write_documents(files[corpus_name, language], sentences, docs_per_source, lengths,
                            seed=seed * 1000 + 2 * i + (corpus_name == "wiki"), paragraph=paragraph)
    spec = {"text": tf.io.FixedLenFeature([], tf.string)}

    def as_dataset(builder, split, decoders=None, read_config=None, **kwargs):
        del decoders, read_config, kwargs
        if builder.name == "c4":  # c4/multilingual splits are "<lang>" and "<lang>-validation"
            key = ("mc4", str(split).split("-")[0].split("[")[0])
        else:  # wikipedia/20230601.<lang>
            key = ("wiki", builder.builder_config.name.rsplit(".", 1)[-1])
        return tf.data.TFRecordDataset(str(files[key])).map(lambda record: tf.io.parse_single_example(record, spec))

    with tfds.testing.mock_data(as_dataset_fn=as_dataset):
        yield


# ----------------------------------------------------------------------------- stages


def stage_chain(preprocessors: Sequence[Any]) -> list[tuple[str, list[Any]]]:
    """Consecutive preprocessors grouped by stage, in order."""
    import seqio

    chain: list[tuple[str, list[Any]]] = []
    for prep in preprocessors:
        name = seqio.utils.function_name(prep)
        if name not in STAGE_OF:
            raise ValueError(f"Preprocessor {name!r} has no stage: add it to STAGE_OF in {__file__}.")
        if chain and chain[-1][0] == STAGE_OF[name]:
            chain[-1][1].append(prep)
        else:
            chain.append((STAGE_OF[name], [prep]))
    return chain


def objective_groups(mixture: Any) -> dict[str, list[tuple[Any, float]]]:
    """Objective -> [(task, rate)] of a pretraining mixture (task names end in `_denoise` / `_clm`)."""
    from tasks.preprocessors import OBJECTIVE_IDS

    groups: dict[str, list[tuple[Any, float]]] = {}
    for task in mixture.tasks:
        objective = task.name.rsplit("_", 1)[-1]
        if objective not in OBJECTIVE_IDS:
            raise ValueError(f"{task.name}: not a pretraining task (expected a name ending in _denoise or _clm).")
        groups.setdefault(objective, []).append((task, mixture.get_rate(task)))
    return groups


def group_documents(group: Sequence[tuple[Any, float]], split: str, seed: int) -> Any:
    """Documents of the group's sources, drawn in proportion to the tasks' rates (one task: its source)."""
    import tensorflow as tf

    sources = [task.source.get_dataset(split=split, shuffle=True, seed=seed).repeat() for task, _ in group]
    if len(sources) == 1:
        return sources[0]
    total = sum(rate for _, rate in group)
    return tf.data.Dataset.sample_from_datasets(sources, [rate / total for _, rate in group], seed=seed)


def apply_stages(ds: Any, stages: Sequence[tuple[str, list[Any]]], task: Any, lengths: Mapping[str, int]) -> Any:
    """`ds` through the preprocessors of `stages`, as the task would run them (seqio passes these arguments)."""
    import seqio

    for _, preps in stages:
        for prep in preps:
            ds = seqio.utils.add_kwargs_to_transform(
                prep, sequence_length=dict(lengths), output_features=task.output_features)(ds)
    return ds


def least_cpu(build: Any, repeats: int) -> float:
    """The least CPU seconds of `repeats` runs of the dataset `build()` makes (the least is the least disturbed)."""
    return min(consume(build()).cpu_s for _ in range(repeats))


def objective_costs(group: Sequence[tuple[Any, float]], lengths: Mapping[str, int], documents: int, seed: int,
                    split: str, repeats: int) -> tuple[dict[str, float], Any, int]:
    """CPU seconds of each stage of one objective's chain over `documents` documents; its examples (cached), count.

    The documents are read once into a memory cache (the read stage); then the chain runs from that cache up to
    each stage in turn, and a stage costs the difference between consecutive runs. Cutting the chain into cached
    pieces instead would add a cache per stage and lose tf.data's fusion of consecutive maps: measured that way,
    the stages summed to 1.4-1.9x the whole chain.
    """
    import seqio

    task = group[0][0]
    chain = stage_chain(task.preprocessors)
    docs = group_documents(group, split, seed).take(documents).cache()
    cost = dict.fromkeys(STAGES, 0.0)
    cost["read"] = consume(docs).cpu_s

    def through(k: int) -> Any:
        with seqio.map_seed_manager(seed):  # the same seeds every run: the same examples
            return apply_stages(docs, chain[:k], task, lengths)

    previous = least_cpu(lambda: docs, repeats)
    for k, (stage, _) in enumerate(chain, start=1):
        cumulative = least_cpu(lambda k=k: through(k), repeats)
        cost[stage] += max(cumulative - previous, 0.0)
        previous = cumulative
    examples = through(len(chain)).cache()
    return cost, examples, consume(examples).elements


def stage_costs(mixture_name: str, lengths: Mapping[str, int], documents: int, seed: int = 0,
                split: str = "train", repeats: int = 2) -> dict[str, Any]:
    """CPU seconds per packed row of each stage, the rows' fill and the examples used per objective."""
    import numpy as np
    import seqio
    import tensorflow as tf

    from tasks.feature_converters import AlexaTMFeatureConverter
    from tasks.preprocessors import OBJECTIVE_IDS

    groups = objective_groups(seqio.get_mixture_or_task(mixture_name))
    costs, examples, made = {}, {}, {}
    for objective, group in groups.items():
        costs[objective], examples[objective], made[objective] = objective_costs(
            group, lengths, documents, seed, split, repeats)

    objectives = list(groups)
    shares = [sum(rate for _, rate in groups[o]) for o in objectives]

    def mixed() -> Any:
        return tf.data.Dataset.sample_from_datasets([examples[o] for o in objectives],
                                                    [s / sum(shares) for s in shares], seed=seed,
                                                    stop_on_empty_dataset=True)

    ids = tf.constant([OBJECTIVE_IDS[o] for o in objectives], tf.int32)
    used = mixed().reduce(tf.zeros([len(objectives)], tf.int64),
                          lambda acc, ex: acc + tf.cast(tf.equal(ids, ex["objective"]), tf.int64)).numpy()
    # Re-reading the examples' caches is not conversion work (mixing them is: it stays in the stage).
    reread = sum(least_cpu(lambda o=o: examples[o], repeats) * n / max(made[o], 1) for o, n in zip(objectives, used))
    converter = AlexaTMFeatureConverter(decoder_start_token_id=0, pack=True)
    convert = least_cpu(lambda: converter(mixed(), dict(lengths)), repeats)
    rows = converter(mixed(), dict(lengths))
    num_rows = consume(rows).elements
    real = rows.reduce(np.int64(0), lambda acc, ex: acc + tf.reduce_sum(
        tf.cast(ex["encoder_segment_ids"] > 0, tf.int64) + tf.cast(ex["decoder_segment_ids"] > 0, tf.int64)))
    per_row = dict.fromkeys(STAGES, 0.0)
    for objective, n_used in zip(objectives, used):
        for stage in STAGES[:-1]:
            per_row[stage] += costs[objective][stage] * n_used / max(made[objective], 1) / max(num_rows, 1)
    per_row["convert"] = max(convert - reread, 0.0) / max(num_rows, 1)
    return {"cpu_s_per_row": per_row, "rows": num_rows,
            "fill": float(real) / max(num_rows * sum(lengths.values()), 1),
            "examples": dict(zip(objectives, (int(u) for u in used)))}


# ----------------------------------------------------------------------------- end to end


def end_to_end(mixture_name: str, lengths: Mapping[str, int], batch_size: int, warmup_rows: int, rows: int,
               seed: int = 0) -> dict[str, float]:
    """The trainer's pipeline (`SeqioBatches`): start-up, then rows/s and tokens per CPU second after a warm-up."""
    from alexatm_jax.training.input_pipeline import DatasetConfig, SeqioBatches

    config = DatasetConfig(mixture_name, dict(lengths), batch_size=batch_size, seed=seed, module=None)
    with timed() as startup:  # building the pipeline, then filling its buffers up to the first batch
        iterator = iter(SeqioBatches(config, decoder_start_token_id=0).iterator())
        next(iterator)
    for _ in range(warmup_rows // batch_size):
        next(iterator)
    num_batches = max(rows // batch_size, 1)
    real = 0
    with timed() as t:
        for _ in range(num_batches):
            batch = next(iterator)
            real += int((batch["encoder_segment_ids"] > 0).sum() + (batch["decoder_segment_ids"] > 0).sum())
    tokens = num_batches * batch_size * sum(lengths.values())
    return {"startup_s": startup["wall_s"], "startup_cpu_s": startup["cpu_s"], "rows": num_batches * batch_size,
            "wall_s": t["wall_s"], "cpu_s": t["cpu_s"], "tokens_per_s": tokens / t["wall_s"],
            "tokens_per_cpu_s": tokens / t["cpu_s"], "fill": real / tokens}


# ----------------------------------------------------------------------------- what accelerators consume


def accelerator_need(model_gin: str, device: str, mfu_goal: float, lengths: Mapping[str, int]) -> dict[str, Any]:
    """Tokens/s (row positions) one `device` consumes training `model_gin` at `mfu_goal` on fully packed rows."""
    import gin
    from alexatm_jax.cli import gin_config
    from alexatm_jax.model import flops
    from alexatm_jax.model.config import ModelConfig

    gin_config.parse([model_gin])
    config = gin.get_configurable(ModelConfig)()
    enc, dec = lengths["inputs"], lengths["targets"]
    row_flops = flops.train_flops(config, encoder_tokens=enc, decoder_tokens=dec, encoder_length=enc,
                                  decoder_length=dec)
    peak = flops.peak_flops_per_device(device)
    rows_per_s = mfu_goal * peak / row_flops
    return {"model": Path(model_gin).stem, "device": device, "row_tflop": row_flops / 1e12, "peak_tflops": peak / 1e12,
            "rows_per_s": rows_per_s, "tokens_per_s": rows_per_s * (enc + dec)}


# ----------------------------------------------------------------------------- report


def format_table(rows: list[dict[str, Any]]) -> str:
    columns = list(rows[0])
    cells = [[f"{r[c]:,.3g}" if isinstance(r[c], float) and abs(r[c]) < 1000 else
              f"{r[c]:,.0f}" if isinstance(r[c], float) else str(r[c]) for c in columns] for r in rows]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def stage_rows(mixture: str, stages: dict[str, Any], row_tokens: int) -> list[dict[str, Any]]:
    per_row = stages["cpu_s_per_row"]
    total = sum(per_row.values())
    out = []
    for stage in (*STAGES, "total"):
        cpu = total if stage == "total" else per_row[stage]
        out.append({"mixture": mixture, "stage": STAGE_LABELS.get(stage, stage), "CPU ms/row": 1e3 * cpu,
                    "tokens/s per core": row_tokens / cpu if cpu > 0 else float("inf"),
                    "share": f"{cpu / total:.0%}" if total else "n/a"})
    return out


def goal_rows(name: str, per_core: float, slowest_stage_per_core: float, need: dict[str, Any],
              args: argparse.Namespace) -> list[dict[str, Any]]:
    one = need["tokens_per_s"]
    host = args.host_cores * args.scaling_efficiency * per_core
    return [
        {"mixture": name, "goal": f"2-core process >= 1/8 {need['device']}", "needed tokens/s": one / 8,
         "delivers tokens/s": 2 * per_core, "ratio": 2 * per_core / (one / 8)},
        {"mixture": name, "goal": f"{args.host_cores}-core host >= {args.accelerators_per_host} {need['device']}",
         "needed tokens/s": args.accelerators_per_host * one, "delivers tokens/s": host,
         "ratio": host / (args.accelerators_per_host * one)},
        {"mixture": name, "goal": f"slowest stage on 1 core >= 1 {need['device']}", "needed tokens/s": one,
         "delivers tokens/s": slowest_stage_per_core, "ratio": slowest_stage_per_core / one},
    ]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mixtures", default=",".join(DEFAULT_MIXTURES), help="comma-separated mixture names")
    parser.add_argument("--input_length", type=int, default=1024)
    parser.add_argument("--target_length", type=int, default=1024)
    parser.add_argument("--documents", type=int, default=3000, help="documents per objective for the stage table")
    parser.add_argument("--repeats", type=int, default=2, help="runs per stage measurement (the least counts)")
    parser.add_argument("--rows", type=int, default=1024, help="rows timed end to end")
    parser.add_argument("--warmup_rows", type=int, default=512, help="rows read end to end before timing")
    parser.add_argument("--batch_size", type=int, default=8, help="rows per batch end to end")
    parser.add_argument("--docs_per_source", type=int, default=400, help="mock documents per (corpus, language)")
    parser.add_argument("--languages", default=None, help="alexatm_pretrain languages (default: all 12), e.g. en,ja")
    parser.add_argument("--vocabulary", default=None,
                        help="SentencePiece model for alexatm_pretrain (e.g. the official 20b_tokenizer.model)")
    parser.add_argument("--mc4_chars", type=LengthModel.parse, default=LengthModel(1000, 1.0),
                        help="median characters, sigma of the log-normal mC4 document length")
    parser.add_argument("--wiki_chars", type=LengthModel.parse, default=LengthModel(800, 1.2),
                        help="median characters, sigma of the log-normal Wikipedia article length")
    parser.add_argument("--model_gin", default="gin/models/alexatm_1b.gin")
    parser.add_argument("--device", default="H100", help="a key of alexatm_jax.model.flops.PEAK_FLOPS_PER_DEVICE")
    parser.add_argument("--mfu_goal", type=float, default=0.5)
    parser.add_argument("--accelerators_per_host", type=int, default=8)
    parser.add_argument("--host_cores", type=int, default=96)
    parser.add_argument("--scaling_efficiency", type=float, default=0.75)
    parser.add_argument("--cores", type=int, default=None, help="pin this process to its first N CPUs")
    parser.add_argument("--skip_end_to_end", action="store_true")
    parser.add_argument("--verbosity", type=int, default=0, help="1: library logs back")
    args = parser.parse_args(argv)
    args.mixtures = [m for m in args.mixtures.split(",") if m]
    unknown = [m for m in args.mixtures if m not in DEFAULT_MIXTURES]
    if unknown or not args.mixtures:
        parser.error(f"unknown mixture(s) {unknown}: choose from {', '.join(DEFAULT_MIXTURES)}")
    from alexatm_jax.cli.gin_config import GinConfigError, resolve_gin_file
    from alexatm_jax.model.flops import PEAK_FLOPS_PER_DEVICE

    if args.device not in PEAK_FLOPS_PER_DEVICE:
        parser.error(f"--device={args.device!r} is not in alexatm_jax.model.flops.PEAK_FLOPS_PER_DEVICE: choose from "
                     f"{', '.join(PEAK_FLOPS_PER_DEVICE)}")
    try:
        resolve_gin_file(args.model_gin)
    except GinConfigError as e:
        parser.error(f"--model_gin: {e}")
    available = len(os.sched_getaffinity(0))
    if args.cores is not None and not 1 <= args.cores <= available:
        parser.error(f"--cores={args.cores}: this process may use 1 to {available} CPUs")
    numbers = {"--input_length": args.input_length, "--target_length": args.target_length,
               "--documents": args.documents, "--rows": args.rows, "--batch_size": args.batch_size,
               "--docs_per_source": args.docs_per_source, "--repeats": args.repeats}
    for flag, value in numbers.items():
        if value < 1:
            parser.error(f"{flag}={value}: must be >= 1")
    if not 0 < args.mfu_goal <= 1 or not 0 < args.scaling_efficiency <= 1:
        parser.error("--mfu_goal and --scaling_efficiency are fractions in (0, 1]")
    from tasks.corpus import LANGUAGES

    args.languages = tuple(args.languages.split(",")) if args.languages else None
    if args.languages and not set(args.languages) <= set(LANGUAGES):
        parser.error(f"--languages: {sorted(set(args.languages) - set(LANGUAGES))} not among {', '.join(LANGUAGES)}")
    if args.vocabulary:
        args.vocabulary = str(paths.resolve(args.vocabulary))
        if not os.path.isfile(args.vocabulary):
            parser.error(f"--vocabulary: no file {args.vocabulary}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])  # before TensorFlow sizes its pools
    configure_console(args.verbosity)
    lengths = {"inputs": args.input_length, "targets": args.target_length}
    row_tokens = sum(lengths.values())
    need = accelerator_need(args.model_gin, args.device, args.mfu_goal, lengths)

    import tasks.default_tasks  # noqa: F401  (registers the mixtures)
    from tasks import pretraining

    languages = args.languages or pretraining.LANGUAGES
    if args.languages or args.vocabulary:
        pretraining.register_pretraining_tasks(languages=languages, vocabulary=args.vocabulary)
    stage_table, e2e_table, goal_table = [], [], []
    with tempfile.TemporaryDirectory(prefix="alexatm-input-bench-") as tmp, mock_pretraining_tfds(
            Path(tmp), languages, args.docs_per_source, args.mc4_chars, args.wiki_chars):
        for name in args.mixtures:
            print(f"{name}: stages over {args.documents} documents per objective...", file=sys.stderr, flush=True)
            stages = stage_costs(name, lengths, args.documents, repeats=args.repeats)
            stage_table += stage_rows(name, stages, row_tokens)
            # The goals take the lower of the stage total and the end-to-end rate (see the module docstring).
            per_core = row_tokens / sum(stages["cpu_s_per_row"].values())
            if not args.skip_end_to_end:
                print(f"{name}: end to end, {args.warmup_rows} + {args.rows} rows...", file=sys.stderr, flush=True)
                e2e = end_to_end(name, lengths, args.batch_size, args.warmup_rows, args.rows)
                e2e_table.append({"mixture": name, "start-up s": e2e["startup_s"],
                                  "start-up CPU s": e2e["startup_cpu_s"], "rows": e2e["rows"],
                                  "rows/s": e2e["rows"] / e2e["wall_s"], "tokens/s": e2e["tokens_per_s"],
                                  "cores busy": e2e["cpu_s"] / e2e["wall_s"],
                                  "tokens/s per core": e2e["tokens_per_cpu_s"], "fill": f"{e2e['fill']:.0%}"})
                per_core = min(per_core, e2e["tokens_per_cpu_s"])
            slowest = row_tokens / max(stages["cpu_s_per_row"].values())
            goal_table += goal_rows(name, per_core, slowest, need, args)

    cores = len(os.sched_getaffinity(0))
    print(f"\n## Input pipeline at {args.input_length} + {args.target_length}, packed "
          f"({cores} cores, load average {os.getloadavg()[0]:.1f})\n")
    print(format_table(stage_table))
    if e2e_table:
        print()
        print(format_table(e2e_table))
    print(f"\n## Need: {need['model']} on {need['device']} at {args.mfu_goal:.0%} MFU: {need['row_tflop']:.2f} TFLOP "
          f"per row, peak {need['peak_tflops']:.0f} TFLOP/s -> {need['rows_per_s']:.1f} rows/s = "
          f"{need['tokens_per_s']:,.0f} tokens/s per accelerator\n")
    print(format_table(goal_table))
    print(f"\nPer core: the lower of the stage total and the end-to-end rate. Host: per core x {args.host_cores} "
          f"cores x {args.scaling_efficiency} (linear scaling, one input stream per accelerator).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
