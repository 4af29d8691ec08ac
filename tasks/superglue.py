"""SuperGLUE zero-shot by rank classification (BoolQ, CB, COPA, MultiRC, ReCoRD, RTE, WiC, WSC).

Each question becomes a `[CLM]` prompt (GPT-3 style, one line) and a list of candidate answers; the
model scores every (prompt, candidate) pair by its log-likelihood and the best candidate wins.

Sources, read when a dataset is built: the official SuperGLUE jsonl files
`<dir>/{BoolQ,CB,COPA,MultiRC,ReCoRD,RTE,WiC,WSC}/val.jsonl` when `EvalSettings.superglue_jsonl_dir` is set
(gin macro SUPERGLUE_JSONL_DIR), else TFDS `super_glue/<name>:1.0.2` (data dir: `tasks.registry.tfds_data_dir()`).
`EvalSettings.max_eval_examples` keeps the first n questions (MultiRC: question = its answer options).

Scoring follows `EvalSettings.superglue_scoring` (`tasks.eval_settings.Scoring`): the encoder reads `[CLM] prompt`
("clm") or the prompt alone ("denoising"); the decoder is teacher-forced on the candidate ("answer") or on the
prompt followed by the candidate ("full"); scores are summed or averaged per token (docs/EVALUATION.md).

Tasks `super_glue_{boolq,cb,copa,multirc,record,rte,wic,wsc}_zeroshot`, split `validation`, mixture
`super_glue_zeroshot` (explicit rates), registered at import with the default vocabulary and settings;
`register_superglue_tasks(vocabulary, settings)` registers them again (the eval entry point does).

How the eval entry point runs them with `seqio.Evaluator(..., eval_split="validation")`:
- Each task example is ONE candidate: `inputs` (prompt tokens, EOS appended), `targets` (the scored
  text's tokens, no EOS), plus `idx`, `candidate_idx`, `group_idx`, `is_correct`, `answers`,
  `candidate_answer` and the `*_pretokenized` strings; the feature converter must ignore them.
  Leave `num_examples` unset (it would cut a question's candidates): cap with MAX_EVAL_EXAMPLES.
  Use `sequence_length=None` (or lengths >= the longest prompt): seqio trims the END of long inputs.
- `evaluate(score_fn=...)`: the score fn gets the enumerated model dataset and returns
  `[(index, score)]`, one float per candidate = the sum over the target tokens of
  log p(target token | inputs, previous target tokens) (teacher forcing, padding excluded).
- The metric fns (`tasks.eval_metrics.rank_accuracy`, `cb_metrics`, `multirc_metrics`,
  `record_metrics`) receive `targets` = one `tasks.rank_classification.CandidateTarget` per candidate
  (built by the task's postprocess_fn from the cached example) and `scores` = that float array; they
  group by `idx`, take the argmax and report accuracy / macro-F1 / F1a+EM / F1+EM (0-100).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import seqio
import tensorflow as tf

from tasks import eval_metrics, registry
from tasks.eval_settings import DEFAULT_SCORING, DEFAULT_SETTINGS, EvalSettings, Scoring, load_tfds_numpy
from tasks.prompts import clm_prompt, denoising_prompt, one_line
from tasks.rank_classification import rank_classification, rank_classification_target
from tasks.seqio_vocabulary import default_vocabulary

EVAL_SPLIT = "validation"
TFDS_VERSION = "1.0.2"
MIXTURE = "super_glue_zeroshot"
GIN_FLAG = "--gin.SUPERGLUE_JSONL_DIR=\"'/path/superglue'\""
# Task -> folder of the official jsonl distribution.
JSONL_FOLDERS = {
    "boolq": "BoolQ",
    "cb": "CB",
    "copa": "COPA",
    "multirc": "MultiRC",
    "record": "ReCoRD",
    "rte": "RTE",
    "wic": "WiC",
    "wsc": "WSC",
}
JSONL_FILES = {"validation": "val.jsonl", "train": "train.jsonl", "test": "test.jsonl"}
CB_LABELS = ("entailment", "contradiction", "neutral")
RTE_LABELS = ("entailment", "not_entailment")


def task_name(name: str) -> str:
    """`super_glue_{name}_zeroshot`."""
    return f"super_glue_{name}_zeroshot"


# ----------------------------------------------------------------------------- rows (TFDS schema)


def _jsonl_rows(name: str, split: str, root: str) -> Iterator[dict[str, Any]]:
    """Official jsonl rows, converted to the TFDS `super_glue` schema (labels as class indices)."""
    path = os.path.join(root, JSONL_FOLDERS[name], JSONL_FILES.get(split, f"{split}.jsonl"))
    if not os.path.isfile(path):
        layout = ", ".join(f"<dir>/{folder}/val.jsonl" for folder in JSONL_FOLDERS.values())
        raise FileNotFoundError(
            f"SuperGLUE jsonl file {path} not found; expected the official layout ({layout}). Pass "
            f"{GIN_FLAG}, or leave SUPERGLUE_JSONL_DIR unset to read TFDS super_glue/*:{TFDS_VERSION}."
        )
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows = list(_jsonl_to_tfds(name, json.loads(line)))
            except json.JSONDecodeError as e:
                raise registry.TaskDataError(f"{path}:{number} is not JSON ({e.msg.removesuffix(' at')} at column "
                                             f"{e.colno}): fix the line "
                                             "or restore the file from the official distribution.") from None
            except (KeyError, TypeError, ValueError) as e:
                problem = f"field {e} is missing" if isinstance(e, KeyError) else str(e)
                raise registry.TaskDataError(f"{path}:{number} is not a SuperGLUE {JSONL_FOLDERS[name]} row "
                                             f"({problem}): fix the line or restore the file.") from None
            yield from rows


def _jsonl_to_tfds(name: str, row: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """One jsonl row as TFDS rows (MultiRC: one per answer option; ReCoRD: one per query)."""
    if name == "multirc":
        passage = row["passage"]
        for question in passage["questions"]:
            for answer in question["answers"]:
                yield {
                    "paragraph": passage["text"],
                    "question": question["question"],
                    "answer": answer["text"],
                    "label": int(answer.get("label", -1)),
                    "idx": {"paragraph": row["idx"], "question": question["idx"], "answer": answer["idx"]},
                }
    elif name == "record":
        text = row["passage"]["text"]
        # Entity spans are inclusive of `end`.
        entities = sorted({text[e["start"] : e["end"] + 1] for e in row["passage"]["entities"]})
        for qa in row["qas"]:
            yield {
                "passage": text,
                "query": qa["query"],
                "entities": entities,
                "answers": sorted({a["text"] for a in qa.get("answers", [])}),
                "idx": {"passage": row["idx"], "query": qa["idx"]},
            }
    else:
        out = dict(row)
        if name == "wsc":
            out.update(row["target"])  # span1_text, span2_text, span1_index, span2_index
        label = row.get("label", -1)
        if name in ("cb", "rte") and label != -1:
            labels = CB_LABELS if name == "cb" else RTE_LABELS
            if label not in labels:
                raise ValueError(f"label {label!r} is not one of {labels}")
            label = labels.index(label)
        out["label"] = int(label)  # bools (BoolQ, WiC, WSC) and COPA's 0/1 are already class indices
        yield out


def _plain(value: Any) -> Any:
    """TFDS numpy values as Python values (bytes -> str, arrays -> lists)."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "tolist"):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def read_rows(name: str, split: str, jsonl_dir: str | None) -> Iterator[dict[str, Any]]:
    """Rows of one SuperGLUE task in the TFDS schema, from the jsonl files under `jsonl_dir`, else TFDS."""
    if jsonl_dir:
        yield from _jsonl_rows(name, split, jsonl_dir)
    else:
        hint = f"Or read the official jsonl distribution instead: {GIN_FLAG}."
        for row in load_tfds_numpy(f"super_glue/{name}:{TFDS_VERSION}", split, data_dir=registry.tfds_data_dir(),
                                   hint=hint):
            yield _plain(row)


# ----------------------------------------------------------------------------- prompts


def _choice(candidates: tuple[str, ...], label: int) -> tuple[list[str], list[bool]]:
    return list(candidates), [i == label for i in range(len(candidates))]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _record_passage(passage: str) -> str:
    """Passage with its `@highlight` bullets as `- bullet.` (one line)."""
    text, *highlights = passage.strip().split("@highlight\n")
    return " ".join([text.strip()] + [f"- {h.strip().rstrip('.')}." for h in highlights])


def boolq_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    return (f"{row['passage']} Question: {row['question']}? Answer:", *_choice(("no", "yes"), row["label"]))


def cb_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    inputs = f"{row['premise']} Question: {row['hypothesis']} True, False, or Neither? Answer:"
    return (inputs, *_choice(("True", "False", "Neither"), row["label"]))


def copa_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    connector = {"cause": "because", "effect": "therefore"}[row["question"]]
    inputs = f"{row['premise'].strip().rstrip('.')} {connector}"
    return (inputs, *_choice((_lower_first(row["choice1"]), _lower_first(row["choice2"])), row["label"]))


def multirc_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    inputs = f"{row['paragraph']} Question: {row['question']} Answer: {row['answer']} Is the answer correct?"
    return (inputs, *_choice(("no", "yes"), row["label"]))


def record_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    """Inputs end where the query's `@placeholder` starts; a candidate is entity + rest of the query.

    (`build_examples` records the entities themselves as the candidates' answers.)
    """
    before, _, after = row["query"].partition("@placeholder")
    inputs = f"{_record_passage(row['passage'])} {before.strip()}".strip()
    candidates = [f"{entity}{after}" for entity in row["entities"]]
    return inputs, candidates, [entity in row["answers"] for entity in row["entities"]]


def rte_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    inputs = f"{row['premise']} Question: {row['hypothesis']} True or False? Answer:"
    return (inputs, *_choice(("True", "False"), row["label"]))


def wic_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    inputs = (
        f"Sentence 1: {row['sentence1']} Sentence 2: {row['sentence2']} Question: Is the word "
        f"'{row['word']}' used in the same way in the two sentences above? Answer:"
    )
    return (inputs, *_choice(("no", "yes"), row["label"]))


def wsc_prompt(row: Mapping[str, Any]) -> tuple[str, list[str], list[bool]]:
    inputs = (
        f"Passage: {row['text']} Question: In the passage above, does the pronoun "
        f'"{row["span2_text"]}" refer to "{row["span1_text"]}"? Answer:'
    )
    return (inputs, *_choice(("no", "yes"), row["label"]))


PROMPTS: dict[str, Callable[[Mapping[str, Any]], tuple[str, list[str], list[bool]]]] = {
    "boolq": boolq_prompt,
    "cb": cb_prompt,
    "copa": copa_prompt,
    "multirc": multirc_prompt,
    "record": record_prompt,
    "rte": rte_prompt,
    "wic": wic_prompt,
    "wsc": wsc_prompt,
}
METRICS = {
    "boolq": eval_metrics.rank_accuracy,
    "cb": eval_metrics.cb_metrics,
    "copa": eval_metrics.rank_accuracy,
    "multirc": eval_metrics.multirc_metrics,
    "record": eval_metrics.record_metrics,
    "rte": eval_metrics.rank_accuracy,
    "wic": eval_metrics.rank_accuracy,
    "wsc": eval_metrics.rank_accuracy,
}
# The key that groups questions for per-group metrics (MultiRC: all options of one question).
_GROUP_KEYS = {"multirc": lambda row: (row["idx"]["paragraph"], row["idx"]["question"])}


def scored_texts(prompt: str, candidates: list[str], scoring: Scoring) -> tuple[str, list[str]]:
    """(encoder input, decoder targets) of a question under `scoring`: see the module docstring."""
    inputs = clm_prompt(prompt) if scoring.mode == "clm" else denoising_prompt(prompt)
    if scoring.scored == "full":
        candidates = [one_line(f"{prompt} {c}") for c in candidates]
    return inputs, candidates


def build_examples(name: str, rows: Iterable[Mapping[str, Any]], max_groups: int | None = None,
                   scoring: Scoring = DEFAULT_SCORING) -> list[dict]:
    """Question-level examples (inputs, candidates, is_correct, idx, group_idx, answers, candidate_answers).

    Only the first `max_groups` groups (questions; MultiRC: all options of a question) are kept.
    """
    group_key = _GROUP_KEYS.get(name)
    groups: dict[Any, int] = {}
    examples = []
    for row_number, row in enumerate(rows):
        key = group_key(row) if group_key else row_number
        if key not in groups:
            if max_groups is not None and len(groups) >= max_groups:
                break
            groups[key] = len(groups)
        prompt, answers, is_correct = PROMPTS[name](row)
        answers = [one_line(c) for c in answers]
        inputs, candidates = scored_texts(prompt, answers, scoring)
        examples.append(
            {
                "inputs": inputs,
                "candidates": candidates,
                "is_correct": is_correct,
                "idx": len(examples),
                "group_idx": groups[key],
                "answers": list(row.get("answers", [])),
                "candidate_answers": list(row["entities"]) if name == "record" else answers,
            }
        )
    return examples


def _to_dataset(examples: list[dict]) -> tf.data.Dataset:
    def ragged(key: str, dtype: tf.DType) -> tf.RaggedTensor:
        return tf.ragged.constant([ex[key] for ex in examples], dtype=dtype, ragged_rank=1)

    return tf.data.Dataset.from_tensor_slices(
        {
            "inputs": tf.constant([ex["inputs"] for ex in examples], dtype=tf.string),
            "candidates": ragged("candidates", tf.string),
            "is_correct": ragged("is_correct", tf.bool),
            "idx": tf.constant([ex["idx"] for ex in examples], dtype=tf.int32),
            "group_idx": tf.constant([ex["group_idx"] for ex in examples], dtype=tf.int32),
            "answers": ragged("answers", tf.string),
            "candidate_answers": ragged("candidate_answers", tf.string),
        }
    )


def _dataset_fn(name: str, settings: EvalSettings):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
        del shuffle_files, seed  # evaluation data: fixed order
        rows = read_rows(name, split, settings.superglue_jsonl_dir)
        examples = build_examples(name, rows, settings.max_eval_examples, settings.superglue_scoring)
        if not examples:
            raise ValueError(f"SuperGLUE {name} {split}: no examples")
        return _to_dataset(examples)

    return dataset_fn


def _output_features(vocabulary: seqio.Vocabulary) -> dict[str, seqio.Feature]:
    # Candidates are continuations of the prompt: score their tokens only, no EOS.
    return {
        "inputs": seqio.Feature(vocabulary, add_eos=True),
        "targets": seqio.Feature(vocabulary, add_eos=False),
    }


def register_superglue_tasks(vocabulary: seqio.Vocabulary | None = None,
                             settings: EvalSettings = DEFAULT_SETTINGS) -> list[str]:
    """Registers the eight zero-shot tasks and the `super_glue_zeroshot` mixture; returns task names.

    `vocabulary`: a seqio vocabulary (None: the project's default); `settings`: data source, cap and scoring.
    """
    features = _output_features(vocabulary or default_vocabulary())
    aggregation = settings.superglue_scoring.aggregation
    names = []
    for name in PROMPTS:
        full = task_name(name)
        registry.add_task(
            full,
            source=seqio.FunctionDataSource(_dataset_fn(name, settings), splits=(EVAL_SPLIT,)),
            output_features=features,
            preprocessors=[rank_classification, seqio.preprocessors.tokenize, seqio.preprocessors.append_eos],
            postprocess_fn=rank_classification_target,
            metric_fns=[functools.partial(METRICS[name], aggregation=aggregation)],
        )
        names.append(full)
    registry.add_mixture(MIXTURE, [(n, 1.0) for n in names])  # explicit rates: no size lookup
    return names


FAMILY = registry.add_eval_family(registry.EvalFamily(
    name="superglue", prefix="super_glue_", eval_split=EVAL_SPLIT, register=register_superglue_tasks))
register_superglue_tasks()  # at import, with the default vocabulary and settings (as every module of `tasks`)
