"""XSum 1-shot summarisation as a seqio task (`xsum_1shot`, split `test`), prompted as the official release.

Data: TFDS `xsum:1.1.0`, which needs a manual download: build it once with
    tfds build xsum --data_dir=/path/tfds --manual_dir=/dir/with/xsum-extracts-from-downloads.tar.gz
then point the eval run at `/path/tfds` (T5X-style `--tfds_data_dir`: `tasks.registry.set_tfds_data_dir`).

As in the official `generate_outputs.py`: the shot is the first train article with fewer than 192
words (TFDS's train order, which differs from Hugging Face's, so the shot may differ from the
release's); test articles longer than 550 tokens (counting `<s>` and `</s>`) are cut to their first
549 tokens and the last, partial sentence is dropped (the release uses nltk's punkt; we split after
`.`, `!` or `?` with a regex). Predictions are cut at `<br><br><br>`; metrics are ROUGE-1/2/L/Lsum
F-measure with stemming. Registered at import with the default vocabulary and settings;
`register_xsum_tasks(vocabulary, settings)` registers it again. `tasks.mlsum` reuses the shot rule, the
article cut and the postprocessor.

The eval entry point runs it as the Flores-101 tasks (see `tasks.flores101`): `seqio.Evaluator` with
`eval_split="test"`, `sequence_length=None`, and a predict fn returning fixed-length greedy
continuations (the official run generates at most 64 tokens).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import seqio
import tensorflow as tf

from tasks import eval_metrics, registry
from tasks.eval_settings import DEFAULT_SETTINGS, EvalSettings, load_tfds_numpy, text
from tasks.prompts import cut_summary, one_line, summarization_prompt
from tasks.seqio_vocabulary import default_vocabulary, generation_features

TASK_NAME = "xsum_1shot"
TFDS_NAME = "xsum:1.1.0"
EVAL_SPLIT = "test"
SHOT_MAX_WORDS = 192  # official: shots are train articles with fewer words than this
ARTICLE_TOKEN_LIMIT = 550  # official: longer test articles (with <s> and </s>) are truncated
BUILD_HINT = (
    "XSum needs a manual download: tfds build xsum --data_dir=/path/tfds "
    "--manual_dir=/dir/with/xsum-extracts-from-downloads.tar.gz, then pass that data dir "
    "(--tfds_data_dir=/path/tfds)."
)
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s)")


def select_shot(train_rows: Iterable[Mapping[str, Any]], max_words: int = SHOT_MAX_WORDS) -> tuple[str, str]:
    """(document, summary) of the first row whose document has fewer than `max_words` words."""
    for row in train_rows:
        document = text(row["document"])
        if len(document.split()) < max_words:
            return document, text(row["summary"])
    raise ValueError(f"no train article with fewer than {max_words} words: the shot cannot be drawn")


def drop_last_sentence(text: str) -> str:
    """Text up to the end of its second-to-last sentence (what `' '.join(sent_tokenize(t)[:-1])` keeps).

    Without any sentence boundary the text is kept whole (nltk would leave nothing).
    """
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()] if ends else text


def truncate_article(article: str, vocabulary: seqio.Vocabulary, limit: int = ARTICLE_TOKEN_LIMIT) -> str:
    """Official cut: over `limit` tokens (with `<s>`, `</s>`) keep `limit - 1` tokens, whole sentences."""
    ids = vocabulary.encode(article)
    if getattr(vocabulary, "adds_bos", False):  # the official convention's `encode` starts with `<s>`
        ids = ids[1:]
    if len(ids) + 2 <= limit:
        return article
    return drop_last_sentence(vocabulary.decode(ids[: limit - 1]).strip())


def build_examples(shot: tuple[str, str], test_rows: Iterable[Mapping[str, Any]], vocabulary: seqio.Vocabulary,
                   settings: EvalSettings, *, document_key: str = "document") -> dict[str, list[Any]]:
    """1-shot prompts and reference summaries (columns: inputs, targets, idx), capped by `max_eval_examples`."""
    rows = settings.capped(test_rows)
    inputs = [summarization_prompt([shot], truncate_article(one_line(text(row[document_key])), vocabulary))
              for row in rows]
    return {"inputs": inputs, "targets": [text(row["summary"]) for row in rows], "idx": list(range(len(rows)))}


def columns_dataset(columns: dict[str, list[Any]]) -> tf.data.Dataset:
    """A dataset of string columns (and the int `idx`)."""
    return tf.data.Dataset.from_tensor_slices(
        {k: tf.constant(v, dtype=tf.int32 if k == "idx" else tf.string) for k, v in columns.items()})


def _dataset_fn(vocabulary: seqio.Vocabulary, settings: EvalSettings):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
        del shuffle_files, seed  # evaluation data: fixed order
        data_dir = registry.tfds_data_dir()
        shot = select_shot(load_tfds_numpy(TFDS_NAME, "train", data_dir=data_dir, hint=BUILD_HINT))
        rows = load_tfds_numpy(TFDS_NAME, split, data_dir=data_dir, hint=BUILD_HINT)
        return columns_dataset(build_examples(shot, rows, vocabulary, settings))

    return dataset_fn


def postprocess_summary(
    output: str, example: Mapping[str, Any] | None = None, is_target: bool = False
) -> str:
    """References pass through; predictions are cut at `<br><br><br>` (official)."""
    del example
    output = text(output)
    return output if is_target else cut_summary(output)


def register_xsum_tasks(vocabulary: seqio.Vocabulary | None = None,
                        settings: EvalSettings = DEFAULT_SETTINGS) -> list[str]:
    """Registers `xsum_1shot` (replacing an earlier one); returns its name in a list.

    `vocabulary`: a seqio vocabulary (None: the project's default); `settings`: the example cap.
    """
    vocabulary = vocabulary or default_vocabulary()
    registry.add_task(
        TASK_NAME,
        source=seqio.FunctionDataSource(_dataset_fn(vocabulary, settings), splits=(EVAL_SPLIT, "validation")),
        output_features=generation_features(vocabulary),
        preprocessors=[seqio.preprocessors.tokenize, seqio.preprocessors.append_eos],
        postprocess_fn=postprocess_summary,
        metric_fns=[eval_metrics.rouge_metrics],
    )
    return [TASK_NAME]


FAMILY = registry.add_eval_family(registry.EvalFamily(
    name="xsum", prefix="xsum", eval_split=EVAL_SPLIT, register=register_xsum_tasks))
register_xsum_tasks()  # at import, with the default vocabulary and settings (as every module of `tasks`)
