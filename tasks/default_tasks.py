"""Offline tasks over the project's own corpus (`tasks.corpus`), with each of its two vocabularies.

Importing this module registers, with the default 7,000-piece vocabulary:
* `alexatm_default_denoise`, `alexatm_default_clm` (the pretraining chain of `tasks.pretraining`),
  mixture `alexatm_default_pretrain` (80% denoising / 20% CLM);
* `alexatm_default_fewshot_intent`: few-shot prompts ("[CLM] Intent: ...; Utterances: ...", as "inputs")
  and an utterance of the target intent ("targets"); metrics belong to the evaluation modules;
and the same four with the 3,000-piece vocabulary of the CPU main job, named with the suffix `_3k`
(`alexatm_default_pretrain_3k`, ...). Splits: train, validation. Sources are `seqio.FunctionDataSource`s over
the generated documents.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import seqio
import tensorflow as tf

from tasks import corpus
from tasks import preprocessors as prep
from tasks.pretraining import OBJECTIVE_SHARES, output_features, pretraining_preprocessors
from tasks.registry import add_mixture, add_task
from tasks.seqio_vocabulary import AlexaTMVocabulary, default_3k_vocabulary, default_vocabulary

SPLITS: tuple[str, ...] = ("train", "validation")
# The source is already a full permutation of the corpus each epoch; the task-level buffer only mixes
# neighbouring packed examples, so a small one suffices (and pipelines start 4x faster than with 1000).
SHUFFLE_BUFFER_SIZE = 256


@functools.cache
def _documents(split: str, seed: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    docs = corpus.documents(split, seed=seed)
    return tuple(d["text"] for d in docs), tuple(d["language"] for d in docs)


@functools.cache
def _fewshot(split: str, seed: int) -> dict[str, tuple[str, ...]]:
    examples = corpus.few_shot_intent_examples(split, seed=seed)
    keys = ("inputs", "targets", "language", "target_intent")
    return {k: tuple(str(ex[k]) for ex in examples) for k in keys}


def _shuffled(ds: tf.data.Dataset, size: int, shuffle: bool, seed: int | None) -> tf.data.Dataset:
    """A full, seeded permutation (the small corpus fits in one buffer).

    seqio shuffles the task's output again with the same `seed`; two tf.data shuffles with one seed draw
    the same random stream and leave neighbours together, so the source uses a derived seed.
    """
    if not shuffle:
        return ds
    source_seed = None if seed is None else (seed * 1_000_003 + 7_919) % (2**31 - 1)
    return ds.shuffle(size, seed=source_seed, reshuffle_each_iteration=True)


def corpus_dataset_fn(split: str, shuffle_files: bool, seed: int | None = None, *, corpus_seed: int = 0):
    """{"text", "language"} documents of the default corpus (`seed` shuffles, `corpus_seed` generates)."""
    texts, languages = _documents(split, corpus_seed)
    ds = tf.data.Dataset.from_tensor_slices({"text": np.array(texts, object), "language": np.array(languages, object)})
    return _shuffled(ds, len(texts), shuffle_files, seed)


def fewshot_dataset_fn(split: str, shuffle_files: bool, seed: int | None = None, *, corpus_seed: int = 0):
    """{"inputs", "targets", "language", "target_intent"} few-shot intent examples."""
    data = _fewshot(split, corpus_seed)
    ds = tf.data.Dataset.from_tensor_slices({k: np.array(v, object) for k, v in data.items()})
    return _shuffled(ds, len(data["inputs"]), shuffle_files, seed)


def register_default_tasks(
    *,
    vocabulary: AlexaTMVocabulary | None = None,
    suffix: str = "",
    corpus_seed: int = 0,
    objective_shares: dict[str, float] | None = None,
    shuffle_buffer_size: int = SHUFFLE_BUFFER_SIZE,
    **preprocessing: Any,
) -> list[str]:
    """(Re-)registers the default-corpus tasks and mixture, their names ending in `suffix`, with `vocabulary`
    (default: `default_vocabulary()`); `preprocessing` as in `pretraining_preprocessors`."""
    features = output_features(vocabulary or default_vocabulary())
    source = seqio.FunctionDataSource(
        functools.partial(corpus_dataset_fn, corpus_seed=corpus_seed), splits=SPLITS
    )
    names = []
    for objective in ("denoise", "clm"):
        name = f"alexatm_default_{objective}{suffix}"
        add_task(name, source=source, output_features=features,
                 preprocessors=pretraining_preprocessors(objective, **preprocessing),
                 shuffle_buffer_size=shuffle_buffer_size)
        names.append(name)
    shares = objective_shares or OBJECTIVE_SHARES
    add_mixture(f"alexatm_default_pretrain{suffix}", [(f"alexatm_default_{o}{suffix}", r) for o, r in shares.items()])

    add_task(
        f"alexatm_default_fewshot_intent{suffix}",
        source=seqio.FunctionDataSource(
            functools.partial(fewshot_dataset_fn, corpus_seed=corpus_seed), splits=SPLITS
        ),
        output_features=features,
        preprocessors=[
            seqio.preprocessors.tokenize,
            seqio.preprocessors.append_eos_after_trim,
            functools.partial(prep.add_objective, objective=prep.OBJECTIVE_OTHER),
        ],
        shuffle_buffer_size=shuffle_buffer_size,
    )
    names.append(f"alexatm_default_fewshot_intent{suffix}")
    return names


register_default_tasks()
register_default_tasks(vocabulary=default_3k_vocabulary(), suffix="_3k")
