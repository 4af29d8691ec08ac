"""XSum 1-shot summarisation as a seqio task (`xsum_1shot`, split `test`), prompted as the official release.

Data: TFDS `xsum:1.1.0`, which needs a manual download: build it once with
    tfds build xsum --data_dir=/path/tfds --manual_dir=/dir/with/xsum-extracts-from-downloads.tar.gz
then point the eval run at `/path/tfds` (T5X-style `--tfds_data_dir`, i.e.
`seqio.set_tfds_data_dir_override`, or `tasks.eval_settings.set_tfds_data_dir`).

As in the official `generate_outputs.py`: the shot is the first train article with fewer than 192
words (TFDS's train order, which differs from Hugging Face's, so the shot may differ from the
release's); test articles longer than 550 tokens (counting `<s>` and `</s>`) are cut to their first
549 tokens and the last, partial sentence is dropped (the release uses nltk's punkt; we split after
`.`, `!` or `?` with a regex). Predictions are cut at `<br><br><br>`; metrics are ROUGE-1/2/L
F-measure with stemming. Registered at import with the default vocabulary;
`register_xsum_tasks(vocabulary)` registers it again with another one.

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

from tasks import eval_metrics
from tasks.eval_settings import SETTINGS, load_tfds_numpy, resolve_vocabulary
from tasks.prompts import cut_summary, one_line, summarization_prompt

TASK_NAME = "xsum_1shot"
TFDS_NAME = "xsum:1.1.0"
EVAL_SPLIT = "test"
SHOT_MAX_WORDS = 192  # official: shots are train articles with fewer words than this
ARTICLE_TOKEN_LIMIT = 550  # official: longer test articles (with <s> and </s>) are truncated
BUILD_HINT = (
    "XSum needs a manual download: tfds build xsum --data_dir=/path/tfds "
    "--manual_dir=/dir/with/xsum-extracts-from-downloads.tar.gz, then pass that data dir "
    "(--tfds_data_dir or tasks.eval_settings.set_tfds_data_dir)."
)
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*(?=\s)")


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def select_shot(train_rows: Iterable[Mapping[str, Any]], max_words: int = SHOT_MAX_WORDS) -> tuple[str, str]:
    """(document, summary) of the first row whose document has fewer than `max_words` words."""
    for row in train_rows:
        document = _text(row["document"])
        if len(document.split()) < max_words:
            return document, _text(row["summary"])
    raise ValueError(f"no XSum train article with fewer than {max_words} words")


def drop_last_sentence(text: str) -> str:
    """Text up to the end of its second-to-last sentence (what `' '.join(sent_tokenize(t)[:-1])` keeps).

    Without any sentence boundary the text is kept whole (nltk would leave nothing).
    """
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()] if ends else text


def truncate_article(article: str, vocabulary: seqio.Vocabulary, limit: int = ARTICLE_TOKEN_LIMIT) -> str:
    """Official cut: over `limit` tokens (with `<s>`, `</s>`) keep `limit - 1` tokens, whole sentences."""
    ids = vocabulary.encode(article)
    if len(ids) + 2 <= limit:
        return article
    return drop_last_sentence(vocabulary.decode(ids[: limit - 1]).strip())


def build_examples(
    shot: tuple[str, str], test_rows: Iterable[Mapping[str, Any]], vocabulary: seqio.Vocabulary
) -> dict[str, list[Any]]:
    """Prompts and reference summaries (columns: inputs, targets, idx), capped by MAX_EVAL_EXAMPLES."""
    inputs, targets = [], []
    for row in test_rows:
        if SETTINGS.max_eval_examples and len(inputs) >= SETTINGS.max_eval_examples:
            break
        article = truncate_article(one_line(_text(row["document"])), vocabulary)
        inputs.append(summarization_prompt([shot], article))
        targets.append(_text(row["summary"]))
    return {"inputs": inputs, "targets": targets, "idx": list(range(len(inputs)))}


def _dataset_fn(vocabulary: seqio.Vocabulary):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
        del shuffle_files, seed  # evaluation data: fixed order
        shot = select_shot(load_tfds_numpy(TFDS_NAME, "train", BUILD_HINT))
        columns = build_examples(shot, load_tfds_numpy(TFDS_NAME, split, BUILD_HINT), vocabulary)
        return tf.data.Dataset.from_tensor_slices(
            {k: tf.constant(v, dtype=tf.int32 if k == "idx" else tf.string) for k, v in columns.items()}
        )

    return dataset_fn


def postprocess_summary(
    output: str, example: Mapping[str, Any] | None = None, is_target: bool = False
) -> str:
    """References pass through; predictions are cut at `<br><br><br>` (official)."""
    del example
    output = _text(output)
    return output if is_target else cut_summary(output)


def register_xsum_tasks(vocabulary: seqio.Vocabulary | str | None = None) -> list[str]:
    """Registers `xsum_1shot` (replacing an earlier one); returns its name in a list.

    `vocabulary`: a seqio vocabulary, a SentencePiece path, or None for the project's default.
    """
    vocabulary = resolve_vocabulary(vocabulary)
    seqio.TaskRegistry.remove(TASK_NAME)
    seqio.TaskRegistry.add(
        TASK_NAME,
        source=seqio.FunctionDataSource(_dataset_fn(vocabulary), splits=(EVAL_SPLIT, "validation")),
        output_features={
            "inputs": seqio.Feature(vocabulary, add_eos=True),
            "targets": seqio.Feature(vocabulary, add_eos=True),
        },
        preprocessors=[seqio.preprocessors.tokenize, seqio.preprocessors.append_eos],
        postprocess_fn=postprocess_summary,
        metric_fns=[eval_metrics.rouge_metrics],
    )
    return [TASK_NAME]


register_xsum_tasks()  # at import, with the default vocabulary (as every module of `tasks` does)
