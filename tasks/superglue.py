"""SuperGLUE zero-shot by rank classification (BoolQ, CB, COPA, MultiRC, ReCoRD, RTE, WiC, WSC).

Each question becomes a `[CLM]` prompt (GPT-3 style, one line) and a list of candidate answers; the
model scores every (prompt, candidate) pair by its log-likelihood and the best candidate wins.

Sources, read when a dataset is built: the official SuperGLUE jsonl files
`<dir>/{BoolQ,CB,COPA,MultiRC,ReCoRD,RTE,WiC,WSC}/val.jsonl` when
`tasks.eval_settings.set_superglue_jsonl_dir(dir)` is set (gin macro SUPERGLUE_JSONL_DIR), else TFDS
`super_glue/<name>:1.0.2` (data dir: `seqio.set_tfds_data_dir_override` or TFDS's default).
`set_max_eval_examples(n)` keeps the first n questions (MultiRC: question = its answer options).

Tasks `super_glue_{boolq,cb,copa,multirc,record,rte,wic,wsc}_zeroshot`, split `validation`, mixture
`super_glue_zeroshot` (explicit rates), registered at import with the default vocabulary;
`register_superglue_tasks(vocabulary)` registers them again with another one.

How the eval entry point runs them with `seqio.Evaluator(..., eval_split="validation")`:
- Each task example is ONE candidate: `inputs` (prompt tokens, EOS appended), `targets` (candidate
  tokens, no EOS), plus `idx`, `candidate_idx`, `group_idx`, `is_correct`, `answers`,
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

import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import seqio
import tensorflow as tf

from tasks import eval_metrics
from tasks.eval_settings import (  # noqa: F401  (set_superglue_jsonl_dir: re-exported)
    SETTINGS,
    load_tfds_numpy,
    resolve_vocabulary,
    set_superglue_jsonl_dir,
)
from tasks.prompts import clm_prompt, one_line
from tasks.rank_classification import rank_classification, rank_classification_target

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
        for line in f:
            if line.strip():
                yield from _jsonl_to_tfds(name, json.loads(line))


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
        if name == "cb":
            label = CB_LABELS.index(label) if label != -1 else -1
        elif name == "rte":
            label = RTE_LABELS.index(label) if label != -1 else -1
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


def read_rows(name: str, split: str = EVAL_SPLIT) -> Iterator[dict[str, Any]]:
    """Rows of one SuperGLUE task in the TFDS schema, from jsonl when configured, else TFDS."""
    if SETTINGS.superglue_jsonl_dir:
        yield from _jsonl_rows(name, split, SETTINGS.superglue_jsonl_dir)
    else:
        hint = f"Or read the official jsonl distribution instead: {GIN_FLAG}."
        for row in load_tfds_numpy(f"super_glue/{name}:{TFDS_VERSION}", split, hint):
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


def build_examples(name: str, rows: Iterable[Mapping[str, Any]], max_groups: int | None = None) -> list[dict]:
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
        inputs, candidates, is_correct = PROMPTS[name](row)
        candidates = [one_line(c) for c in candidates]
        examples.append(
            {
                "inputs": clm_prompt(inputs),
                "candidates": candidates,
                "is_correct": is_correct,
                "idx": len(examples),
                "group_idx": groups[key],
                "answers": list(row.get("answers", [])),
                "candidate_answers": list(row["entities"]) if name == "record" else candidates,
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


def _dataset_fn(name: str):
    def dataset_fn(split: str, shuffle_files: bool, seed: int | None = None) -> tf.data.Dataset:
        del shuffle_files, seed  # evaluation data: fixed order
        examples = build_examples(name, read_rows(name, split), SETTINGS.max_eval_examples)
        if not examples:
            raise ValueError(f"SuperGLUE {name} {split}: no examples")
        return _to_dataset(examples)

    return dataset_fn


def _output_features(vocabulary: seqio.Vocabulary | str | None) -> dict[str, seqio.Feature]:
    vocabulary = resolve_vocabulary(vocabulary)
    # Candidates are continuations of the prompt: score their tokens only, no EOS.
    return {
        "inputs": seqio.Feature(vocabulary, add_eos=True),
        "targets": seqio.Feature(vocabulary, add_eos=False),
    }


def register_superglue_tasks(vocabulary: seqio.Vocabulary | str | None = None) -> list[str]:
    """Registers the eight zero-shot tasks and the `super_glue_zeroshot` mixture; returns task names.

    `vocabulary`: a seqio vocabulary, a SentencePiece path, or None for the project's default.
    """
    features = _output_features(vocabulary)
    names = []
    for name in PROMPTS:
        full = task_name(name)
        seqio.TaskRegistry.remove(full)
        seqio.TaskRegistry.add(
            full,
            source=seqio.FunctionDataSource(_dataset_fn(name), splits=(EVAL_SPLIT,)),
            output_features=features,
            preprocessors=[rank_classification, seqio.preprocessors.tokenize, seqio.preprocessors.append_eos],
            postprocess_fn=rank_classification_target,
            metric_fns=[METRICS[name]],
        )
        names.append(full)
    seqio.MixtureRegistry.remove(MIXTURE)
    seqio.MixtureRegistry.add(MIXTURE, [(n, 1.0) for n in names])  # explicit rates: no size lookup
    return names


register_superglue_tasks()  # at import, with the default vocabulary (as every module of `tasks` does)
