"""AlexaTM 20B pretraining tasks: mC4 + Wikipedia in 12 languages, denoising and CLM.

Importing this module registers, with the default vocabulary and TFDS's default data dir:
* tasks `alexatm_{mc4,wiki}_{lang}_{denoise,clm}` (e.g. `alexatm_mc4_en_denoise`, `alexatm_wiki_ta_clm`);
* mixture `alexatm_pretrain` (80% denoising / 20% CLM; mC4 91% / Wikipedia 9%; languages sampled with
  q_i ~ p_i^alpha, alpha = 0.5) and its halves `alexatm_pretrain_denoise`, `alexatm_pretrain_clm`.

Data dir: `tasks.registry.set_tfds_data_dir(path)` (the one place, seqio's override, which every TFDS source
reads; the entry points' `--tfds_data_dir`), or `register_pretraining_tasks(data_dir=...)` (gin-configurable
keyword arguments: vocabulary, languages, alpha, counts, shares, preprocessing knobs). Mixing rates are
explicit numbers computed from `MC4_EXAMPLE_COUNTS` / `WIKIPEDIA_EXAMPLE_COUNTS` (offline: TFDS `dataset_info`
may be absent, and `seqio.mixing_rate_num_examples` then fails).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import seqio

from tasks import preprocessors as prep
from tasks.registry import add_mixture, add_task
from tasks.seqio_vocabulary import default_vocabulary, get_vocabulary

LANGUAGES: tuple[str, ...] = ("ar", "en", "fr", "de", "hi", "it", "ja", "mr", "pt", "es", "ta", "te")
MC4_TFDS_NAME = "c4/multilingual:3.1.0"
WIKIPEDIA_TFDS_TEMPLATE = "wikipedia/20230601.{lang}:1.0.0"
CORPORA: tuple[str, ...] = ("mc4", "wiki")
OBJECTIVES: tuple[str, ...] = ("denoise", "clm")

# Approximate documents per language, for language sampling only (override with `example_counts`).
# mC4: pages per language from the mT5 paper (Xue et al., 2021, table 6); Wikipedia: articles in the
# 2023-06-01 dumps (rounded).
MC4_EXAMPLE_COUNTS: dict[str, float] = {
    "ar": 53e6, "en": 3067e6, "fr": 333e6, "de": 397e6, "hi": 19e6, "it": 186e6,
    "ja": 85e6, "mr": 7.8e6, "pt": 169e6, "es": 416e6, "ta": 3.5e6, "te": 1.3e6,
}
WIKIPEDIA_EXAMPLE_COUNTS: dict[str, float] = {
    "ar": 1.2e6, "en": 6.7e6, "fr": 2.5e6, "de": 2.8e6, "hi": 0.16e6, "it": 1.8e6,
    "ja": 1.4e6, "mr": 0.09e6, "pt": 1.1e6, "es": 1.9e6, "ta": 0.16e6, "te": 0.08e6,
}
EXAMPLE_COUNTS: dict[str, dict[str, float]] = {"mc4": MC4_EXAMPLE_COUNTS, "wiki": WIKIPEDIA_EXAMPLE_COUNTS}
CORPUS_SHARES: dict[str, float] = {"mc4": 0.91, "wiki": 0.09}  # the paper's corpus split
OBJECTIVE_SHARES: dict[str, float] = {"denoise": 0.8, "clm": 0.2}
ALPHA = 0.5
SPOKEN_SHARE = 0.7  # 7 spoken : 3 written
WIKI_VALIDATION_PERCENT = 1  # Wikipedia has only a train split: hold out its first 1% for validation.


def task_name(corpus: str, language: str, objective: str) -> str:
    """E.g. task_name("mc4", "en", "denoise") == "alexatm_mc4_en_denoise"."""
    return f"alexatm_{corpus}_{language}_{objective}"


def language_sampling_rates(counts: Mapping[str, float], alpha: float = ALPHA) -> dict[str, float]:
    """q_i = p_i^alpha / sum_j p_j^alpha with p_i = n_i / sum_j n_j (sums to 1)."""
    if not counts or any(n <= 0 for n in counts.values()):
        raise ValueError(f"Example counts must be positive, got {dict(counts)}")
    total = sum(counts.values())
    weights = {lang: (n / total) ** alpha for lang, n in counts.items()}
    norm = sum(weights.values())
    return {lang: w / norm for lang, w in weights.items()}


def pretraining_mixture_rates(
    *,
    languages: Sequence[str] = LANGUAGES,
    alpha: float = ALPHA,
    example_counts: Mapping[str, Mapping[str, float]] | None = None,
    corpus_shares: Mapping[str, float] | None = None,
    objective_shares: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Task name -> rate (sums to 1): objective share x corpus share x language rate within the corpus."""
    counts = example_counts or EXAMPLE_COUNTS
    corpus_shares = corpus_shares or CORPUS_SHARES
    objective_shares = objective_shares or OBJECTIVE_SHARES
    rates = {}
    for corpus, corpus_share in corpus_shares.items():
        missing = [lang for lang in languages if lang not in counts[corpus]]
        if missing:
            raise ValueError(f"No {corpus} example count for {missing}: pass example_counts.")
        q = language_sampling_rates({lang: counts[corpus][lang] for lang in languages}, alpha)
        for objective, objective_share in objective_shares.items():
            for lang in languages:
                rates[task_name(corpus, lang, objective)] = objective_share * corpus_share * q[lang]
    total = sum(rates.values())
    return {name: r / total for name, r in rates.items()}


class OfflineTfdsDataSource(seqio.TfdsDataSource):
    """`seqio.TfdsDataSource` that tolerates a missing `dataset_info` (offline, `tfds.testing.mock_data`).

    seqio 0.0.20 asks the source for its size (in-memory caching) and its files (sharding); without split
    info TFDS raises. Here the size is then unknown (None: no caching) and there is a single shard, so
    seqio shards by example with `Dataset.shard` (each host reads disjoint examples).
    """

    def num_input_examples(self, split: str) -> int | None:
        try:
            return super().num_input_examples(split)
        except (KeyError, ValueError, AssertionError):
            return None

    def list_shards(self, split: str) -> Sequence[str]:
        try:
            return super().list_shards(split)
        except (KeyError, ValueError, AssertionError):
            return [split]


def output_features(vocabulary: seqio.Vocabulary) -> dict[str, seqio.Feature]:
    """inputs/targets with EOS, plus the optional scalar "objective" for the feature converter."""
    return {
        "inputs": seqio.Feature(vocabulary=vocabulary, add_eos=True),
        "targets": seqio.Feature(vocabulary=vocabulary, add_eos=True),
        "objective": seqio.Feature(
            vocabulary=seqio.PassThroughVocabulary(size=0), add_eos=False, required=False, rank=0
        ),
    }


def pretraining_preprocessors(
    objective: str,
    *,
    text_key: str = "text",
    spoken_share: float = SPOKEN_SHARE,
    noise_density: float = 0.15,
    mean_span_length: float = 3.0,
    min_prefix: float = 0.2,
    max_prefix: float = 0.8,
    min_tokens: int = 4,
    max_chars: int | None = 100_000,
    pack: bool = True,
    long_documents: str = "split",
) -> list[Any]:
    """The preprocessing chain for one objective; shared by the mC4/Wikipedia and default-corpus tasks.

    text -> clean (skip/truncate, counted) -> spoken form (share) -> tokenize -> skip short / split long
    documents (counted) -> [denoise: pack with [DOC]] -> objective -> EOS -> "objective" tag.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"Unknown objective {objective!r}: expected one of {OBJECTIVES}")
    chain: list[Any] = [
        functools.partial(seqio.preprocessors.rekey, key_map={"targets": text_key}),
        functools.partial(prep.clean_text, max_chars=max_chars),
    ]
    if spoken_share > 0:
        chain.append(functools.partial(prep.spoken_form, share=spoken_share))
    chain += [
        functools.partial(seqio.preprocessors.tokenize, copy_pretokenized=False),
        functools.partial(prep.split_long_documents, objective=objective, mode=long_documents),
        functools.partial(prep.filter_short_documents, min_tokens=max(min_tokens, 2)),
    ]
    if objective == "denoise":
        if pack:
            chain.append(prep.pack_documents)
        chain.append(functools.partial(prep.denoise, noise_density=noise_density, mean_span_length=mean_span_length))
    else:
        chain.append(functools.partial(prep.clm, min_prefix=min_prefix, max_prefix=max_prefix))
    chain += [
        seqio.preprocessors.append_eos_after_trim,
        functools.partial(prep.add_objective, objective=objective),
    ]
    return chain


def _source(corpus: str, language: str, data_dir: str | None) -> seqio.DataSource:
    if corpus == "mc4":
        return OfflineTfdsDataSource(
            MC4_TFDS_NAME, tfds_data_dir=data_dir, splits={"train": language, "validation": f"{language}-validation"}
        )
    p = WIKI_VALIDATION_PERCENT
    return OfflineTfdsDataSource(
        WIKIPEDIA_TFDS_TEMPLATE.format(lang=language),
        tfds_data_dir=data_dir,
        splits={"train": f"train[{p}%:]", "validation": f"train[:{p}%]"},
    )


def register_pretraining_tasks(
    data_dir: str | None = None,
    *,
    vocabulary: seqio.Vocabulary | str | None = None,
    languages: Sequence[str] = LANGUAGES,
    alpha: float = ALPHA,
    example_counts: Mapping[str, Mapping[str, float]] | None = None,
    corpus_shares: Mapping[str, float] | None = None,
    objective_shares: Mapping[str, float] | None = None,
    mixture_name: str = "alexatm_pretrain",
    shuffle_buffer_size: int = seqio.SHUFFLE_BUFFER_SIZE,
    **preprocessing: Any,
) -> list[str]:
    """(Re-)registers the pretraining tasks and mixtures; returns the task names.

    `data_dir`: TFDS data dir (None: TFDS default / $TFDS_DATA_DIR). `vocabulary`: a seqio vocabulary or
    a SentencePiece path (e.g. the official `20b_tokenizer.model`); default: `default_vocabulary()`.
    `preprocessing`: keyword arguments of `pretraining_preprocessors` (spoken_share, noise_density, ...).
    """
    unknown = sorted(set(languages) - set(LANGUAGES))
    if unknown:
        raise ValueError(f"Unsupported language(s) {unknown}; AlexaTM languages are {LANGUAGES}.")
    if vocabulary is None:
        vocabulary = default_vocabulary()
    elif isinstance(vocabulary, str):
        vocabulary = get_vocabulary(vocabulary)
    features = output_features(vocabulary)
    rates = pretraining_mixture_rates(
        languages=languages, alpha=alpha, example_counts=example_counts,
        corpus_shares=corpus_shares, objective_shares=objective_shares,
    )
    names = []
    for corpus in CORPORA:
        for language in languages:
            for objective in OBJECTIVES:
                name = task_name(corpus, language, objective)
                add_task(
                    name,
                    source=_source(corpus, language, data_dir),
                    preprocessors=pretraining_preprocessors(objective, **preprocessing),
                    output_features=features,
                    shuffle_buffer_size=shuffle_buffer_size,
                )
                names.append(name)
    active = [n for n in names if rates.get(n, 0) > 0]
    add_mixture(mixture_name, [(n, rates[n]) for n in active])
    for objective in OBJECTIVES:
        part = [(n, rates[n]) for n in active if n.endswith(f"_{objective}")]
        if part:
            add_mixture(f"{mixture_name}_{objective}", part)
    return names


register_pretraining_tasks()
