"""MLSum 1-shot summarisation in German, Spanish and French as seqio tasks (`mlsum_1shot_{de,es,fr}`, split `test`).

The paper reports 1-shot MLSum (de, es, fr) next to XSum (docs/PAPER.md), prompted as the official XSum script
does: `[CLM] Article: {shot} ==> Short summary: {summary} <br><br><br> Article: {article} ==> Short summary:`
(`tasks.prompts.summarization_prompt`), the shot the first train article with fewer than 192 words, test
articles over 550 tokens cut to whole sentences, predictions cut at `<br><br><br>` (`tasks.xsum` owns these
rules). Metrics: ROUGE-1/2/L/Lsum F-measure with a tokenizer that keeps accented letters and the language's
Snowball stemmer (`tasks.eval_metrics.rouge_metrics(language=...)`): rouge-score's default tokenizer would drop
every non-ASCII letter.

Data: the files of the Hugging Face `mlsum` dataset (its loading script downloads `{lang}_{split}.zip`, each
holding `{lang}_{split}.jsonl`: one JSON object per line with `text`, `summary`, `topic`, `url`, `title`,
`date`), unzipped under one directory, `EvalSettings.mlsum_dir` (gin macro MLSUM_DIR):
`<dir>/de_train.jsonl`, `<dir>/de_test.jsonl`, ... (`val` for validation); each zip unzipped into its own folder
(`<dir>/de_test/de_test.jsonl`) works too. TFDS has no MLSum builder.

Mixture `mlsum_1shot` (the three languages). Registered at import with the default vocabulary and settings;
`register_mlsum_tasks(vocabulary, settings)` registers them again (the eval entry point does).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any

import seqio
import tensorflow as tf

from tasks import eval_metrics, registry
from tasks.eval_settings import DEFAULT_SETTINGS, EvalSettings
from tasks.seqio_vocabulary import default_vocabulary, generation_features
from tasks.xsum import build_examples, columns_dataset, postprocess_summary, select_shot

LANGUAGES = ("de", "es", "fr")
EVAL_SPLIT = "test"
SHOT_SPLIT = "train"
FILE_SPLITS = {"train": "train", "validation": "val", "test": "test"}  # seqio split -> file name part
MIXTURE = "mlsum_1shot"
GIN_FLAG = "--gin.MLSUM_DIR=\"'/path/mlsum'\""


def task_name(language: str) -> str:
    """`mlsum_1shot_{language}`."""
    return f"mlsum_1shot_{language}"


def _layout_help(root: str | None) -> str:
    return (
        f"MLSum not found{f' at {root!r}' if root else ' (MLSUM_DIR is unset)'}: expected the files of the Hugging "
        "Face `mlsum` dataset unzipped under one directory, <dir>/{lang}_{split}.jsonl (or "
        "<dir>/{lang}_{split}/{lang}_{split}.jsonl) for lang in de, es, fr and split in train, val, test, one JSON "
        f"object per line with `text` and `summary`. Pass {GIN_FLAG} to the eval entry point."
    )


def split_path(language: str, split: str, root: str | None) -> str:
    """The jsonl file of one language and split; raises naming the expected layout when it is missing."""
    stem = f"{language}_{FILE_SPLITS.get(split, split)}"
    candidates = [os.path.join(root, f"{stem}.jsonl"), os.path.join(root, stem, f"{stem}.jsonl")] if root else []
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(_layout_help(root) + (f" Missing file: {candidates[0]}" if candidates else ""))


def read_rows(language: str, split: str, root: str | None) -> Iterator[dict[str, Any]]:
    """The rows of `<root>/{language}_{split}.jsonl`, lazily (the train files are large)."""
    path = split_path(language, split, root)
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ValueError(f"{path}, line {number}, is not JSON ({e}): " + _layout_help(root)) from e
            if "text" not in row or "summary" not in row:
                raise ValueError(f"{path}, line {number}, has no `text` or `summary` field: " + _layout_help(root))
            yield row


def check_data(settings: EvalSettings, task_names: Sequence[str] = ()) -> None:
    """Raises (layout help, the gin flag) when the MLSum files of these tasks (default: all) are missing."""
    for language in [lang for lang in LANGUAGES if not task_names or task_name(lang) in task_names]:
        for split in (SHOT_SPLIT, EVAL_SPLIT):
            split_path(language, split, settings.mlsum_dir)


def _dataset_fn(language: str, vocabulary: seqio.Vocabulary, settings: EvalSettings):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
        del shuffle_files, seed  # evaluation data: fixed order
        shot = select_shot({"document": r["text"], "summary": r["summary"]}
                           for r in read_rows(language, SHOT_SPLIT, settings.mlsum_dir))
        rows = read_rows(language, split, settings.mlsum_dir)
        return columns_dataset(build_examples(shot, rows, vocabulary, settings, document_key="text"))

    return dataset_fn


def register_mlsum_tasks(vocabulary: seqio.Vocabulary | None = None,
                         settings: EvalSettings = DEFAULT_SETTINGS) -> list[str]:
    """Registers `mlsum_1shot_{de,es,fr}` and the mixture `mlsum_1shot`; returns the task names."""
    vocabulary = vocabulary or default_vocabulary()
    names = []
    for language in LANGUAGES:
        registry.add_task(
            task_name(language),
            source=seqio.FunctionDataSource(_dataset_fn(language, vocabulary, settings),
                                            splits=(EVAL_SPLIT, "validation")),
            output_features=generation_features(vocabulary),
            preprocessors=[seqio.preprocessors.tokenize, seqio.preprocessors.append_eos],
            postprocess_fn=postprocess_summary,
            metric_fns=[functools.partial(eval_metrics.rouge_metrics, language=language)],
        )
        names.append(task_name(language))
    registry.add_mixture(MIXTURE, [(n, 1.0) for n in names])  # explicit rates: no size lookup
    return names


FAMILY = registry.add_eval_family(registry.EvalFamily(
    name="mlsum", prefix="mlsum_", eval_split=EVAL_SPLIT, register=register_mlsum_tasks, check_data=check_data))
register_mlsum_tasks()  # at import, with the default vocabulary and settings (as every module of `tasks`)
