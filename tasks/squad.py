"""SQuAD v2 k-shot extractive question answering by generation (`squad_v2_{k}shot`, k = 0..5; split `validation`).

The paper reports SQuAD v2 among its headline results (docs/PAPER.md) without the official scripts' prompt, so
the prompt follows the official summarisation format (`tasks.prompts.squad_prompt`): `[CLM] ` then, per shot,
`Context: {context} Question: {question} Answer: {answer} <br><br><br> `, then the query ending in `Answer:`. An
unanswerable question (`is_impossible`) is answered with the fixed string `NO_ANSWER` ("unanswerable"), which
the postprocessor maps to the empty answer before scoring. Predictions are cut at `<br>`, `Context:` or
`Question:`. The metric is the official SQuAD v2 one (`tasks.eval_metrics.squad_v2_metrics`: exact match and
F1, overall and split into answerable / unanswerable).

Shots alternate answerable and unanswerable questions, an answerable one first, taken in file order from one
article other than the query's: from the official train file when the questions come from TFDS (`squad/v2.0`,
train split), from another article of the same file when they come from an official-format JSON.

Data: `EvalSettings.squad_v2_json` (gin macro SQUAD_V2_JSON), any file in the official layout
(`{"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text",
"answer_start"}], "is_impossible"}]}]}]}`, e.g. `dev-v2.0.json`); unset: TFDS `squad/v2.0` (validation split;
data dir `tasks.registry.tfds_data_dir()`). `EvalSettings.max_eval_examples` caps the questions.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import seqio
import tensorflow as tf

from tasks import eval_metrics, registry
from tasks.eval_settings import DEFAULT_SETTINGS, EvalSettings, load_tfds_numpy, text
from tasks.prompts import one_line, squad_prompt
from tasks.seqio_vocabulary import default_vocabulary, generation_features

EVAL_SPLIT = "validation"
SHOT_COUNTS = (0, 1, 2, 3, 4, 5)
TFDS_NAME = "squad/v2.0:3.0.0"
NO_ANSWER = "unanswerable"
GIN_FLAG = "--gin.SQUAD_V2_JSON=\"'/path/dev-v2.0.json'\""
_STOPS = ("<br>", "Context:", "Question:", "\n", "</s>")


def task_name(shots: int) -> str:
    """`squad_v2_{shots}shot`."""
    return f"squad_v2_{shots}shot"


@dataclasses.dataclass(frozen=True)
class Question:
    """One SQuAD v2 question with its paragraph; `answers` is empty for an unanswerable one."""

    id: str
    title: str
    context: str
    question: str
    answers: tuple[str, ...]

    @property
    def answer_text(self) -> str:
        """What a shot shows as the answer: the first gold answer, or `NO_ANSWER`."""
        return self.answers[0] if self.answers else NO_ANSWER


def _layout_help(path: str | None) -> str:
    return (
        f"SQuAD v2 JSON {path!r} is not an official-format file: expected {{\"data\": [{{\"title\": ..., "
        "\"paragraphs\": [{\"context\": ..., \"qas\": [{\"id\": ..., \"question\": ..., \"answers\": [{\"text\": ..., "
        "\"answer_start\": ...}], \"is_impossible\": ...}]}]}]} as in dev-v2.0.json. Pass "
        f"{GIN_FLAG}, or leave SQUAD_V2_JSON unset to read TFDS {TFDS_NAME}."
    )


def read_json(path: str) -> list[Question]:
    """The questions of an official-format SQuAD v2 file, in file order."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"SQuAD v2 JSON {path} not found. " + _layout_help(path))
    try:
        with open(path, encoding="utf-8") as f:
            articles = json.load(f)["data"]
        questions = []
        for article in articles:
            for paragraph in article["paragraphs"]:
                for qa in paragraph["qas"]:
                    answers = () if qa.get("is_impossible") else tuple(a["text"] for a in qa["answers"])
                    questions.append(Question(str(qa["id"]), article.get("title", ""), paragraph["context"],
                                              qa["question"], answers))
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: {type(e).__name__} {e}. " + _layout_help(path)) from e
    if not questions:
        raise ValueError(f"{path} holds no questions. " + _layout_help(path))
    return questions


def _tfds_questions(split: str) -> Iterable[Question]:
    hint = f"Or read an official-format JSON file instead: {GIN_FLAG}."
    for row in load_tfds_numpy(TFDS_NAME, split, data_dir=registry.tfds_data_dir(), hint=hint):
        answers = () if row.get("is_impossible") else tuple(text(a) for a in row["answers"]["text"])
        yield Question(text(row["id"]), text(row["title"]), text(row["context"]), text(row["question"]), answers)


def select_shots(pool: Iterable[Question], count: int, avoid_title: str | None = None) -> list[Question]:
    """`count` shots from the first article of `pool` whose title is not `avoid_title`, alternating answerable
    and unanswerable questions (an answerable one first) while the article has both."""
    if count == 0:
        return []
    article: list[Question] = []
    for q in pool:
        if q.title == avoid_title:
            continue
        if article and q.title != article[0].title:
            break
        article.append(q)
    if not article:
        raise ValueError(f"No article other than {avoid_title!r} to draw SQuAD v2 shots from: the file needs at "
                         "least two articles (titles).")
    answerable = [q for q in article if q.answers]
    unanswerable = [q for q in article if not q.answers]
    shots = []
    while len(shots) < count and (answerable or unanswerable):
        queue = answerable if (len(shots) % 2 == 0 and answerable) or not unanswerable else unanswerable
        shots.append(queue.pop(0))
    return shots


def build_examples(questions: Sequence[Question], shot_pool: Sequence[Question], shots: int,
                   settings: EvalSettings) -> list[dict[str, Any]]:
    """Prompts and gold answers of the (capped) questions; shots avoid the query's own article."""
    by_title: dict[str, list[Question]] = {}
    examples = []
    for index, q in enumerate(settings.capped(questions)):
        if q.title not in by_title:
            by_title[q.title] = select_shots(shot_pool, shots, avoid_title=q.title)
        examples.append({
            "inputs": squad_prompt([(s.context, s.question, s.answer_text) for s in by_title[q.title]],
                                   q.context, q.question),
            "targets": q.answer_text,
            "answers": list(q.answers),
            "id": q.id,
            "idx": index,
        })
    return examples


def _to_dataset(examples: list[dict[str, Any]]) -> tf.data.Dataset:
    return tf.data.Dataset.from_tensor_slices({
        "inputs": tf.constant([ex["inputs"] for ex in examples], tf.string),
        "targets": tf.constant([ex["targets"] for ex in examples], tf.string),
        "answers": tf.ragged.constant([ex["answers"] for ex in examples], dtype=tf.string, ragged_rank=1),
        "id": tf.constant([ex["id"] for ex in examples], tf.string),
        "idx": tf.constant([ex["idx"] for ex in examples], tf.int32),
    })


def _dataset_fn(shots: int, settings: EvalSettings):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
        del shuffle_files, seed  # evaluation data: fixed order
        if settings.squad_v2_json:
            questions = read_json(settings.squad_v2_json)
            pool = questions
        else:
            questions = list(_tfds_questions(split))
            pool = list(_tfds_questions("train")) if shots else []
        return _to_dataset(build_examples(questions, pool, shots, settings))

    return dataset_fn


def check_data(settings: EvalSettings, task_names: Sequence[str] = ()) -> None:
    """Raises (layout help, the gin flag) when the configured JSON file is missing or not in the official layout."""
    del task_names
    if settings.squad_v2_json:
        read_json(settings.squad_v2_json)


def postprocess_answer(output: Any, example: Mapping[str, Any] | None = None, is_target: bool = False) -> Any:
    """Targets become the list of gold answers (empty: unanswerable); a prediction is cut at the end of its
    answer, and `NO_ANSWER` becomes the empty answer."""
    if is_target:
        answers = example.get("answers", ()) if example is not None else ()
        return [text(a) for a in answers]
    answer = text(output)
    for stop in _STOPS:
        cut = answer.find(stop)
        if cut >= 0:
            answer = answer[:cut]
    answer = one_line(answer).strip()
    return "" if eval_metrics.normalize_answer(answer) == eval_metrics.normalize_answer(NO_ANSWER) else answer


def register_squad_tasks(vocabulary: seqio.Vocabulary | None = None,
                         settings: EvalSettings = DEFAULT_SETTINGS) -> list[str]:
    """Registers `squad_v2_{k}shot` for every k in `SHOT_COUNTS`; returns the task names."""
    vocabulary = vocabulary or default_vocabulary()
    names = []
    for shots in SHOT_COUNTS:
        registry.add_task(
            task_name(shots),
            source=seqio.FunctionDataSource(_dataset_fn(shots, settings), splits=(EVAL_SPLIT,)),
            output_features=generation_features(vocabulary),
            preprocessors=[seqio.preprocessors.tokenize, seqio.preprocessors.append_eos],
            postprocess_fn=postprocess_answer,
            metric_fns=[eval_metrics.squad_v2_metrics],
        )
        names.append(task_name(shots))
    return names


FAMILY = registry.add_eval_family(registry.EvalFamily(
    name="squad_v2", prefix="squad_v2_", eval_split=EVAL_SPLIT, register=register_squad_tasks,
    check_data=check_data))
register_squad_tasks()  # at import, with the default vocabulary and settings (as every module of `tasks`)
