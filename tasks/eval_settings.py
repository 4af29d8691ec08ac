"""Run-time settings and data locations of the eval tasks (Flores-101, SuperGLUE, XSum).

Tasks are registered once at import of `tasks.all`; these settings are read when a dataset is built
or a metric is computed, so the entry point may set them afterwards from its gin macros
(`FLORES101_DIR`, `SUPERGLUE_JSONL_DIR`, `MAX_EVAL_EXAMPLES`) with `configure(...)`.
"""

from __future__ import annotations

import dataclasses
import os


@dataclasses.dataclass
class EvalSettings:
    """Current values; `None` means unset."""

    flores101_dir: str | None = None
    superglue_jsonl_dir: str | None = None
    max_eval_examples: int | None = None
    tfds_data_dir: str | None = None
    # Flores-101 SentencePiece model for spBLEU (sacrebleu's `sacrebleu_tokenizer_spm.model`).
    spbleu_model_path: str | None = None
    # "flores101" = spBLEU; anything else (e.g. "13a") is sacrebleu BLEU, NOT comparable to spBLEU.
    bleu_tokenizer: str = "flores101"
    # Few-shot example choice: "official" = the release script's (first dev line / first short
    # train article for every query); "per_example" = a dev line drawn per query (Flores only).
    shot_selection: str = "official"
    shot_seed: int = 0
    # SuperGLUE rank classification: "sum" = total log-likelihood of the candidate (default),
    # "mean" = per target token.
    score_normalization: str = "sum"


SETTINGS = EvalSettings()
_SHOT_SELECTIONS = ("official", "per_example")
_NORMALIZATIONS = ("sum", "mean")


def set_flores101_dir(path: str | None) -> None:
    """Directory holding Flores-101's `dev/` and `devtest/` (gin macro FLORES101_DIR)."""
    SETTINGS.flores101_dir = os.fspath(path) if path else None


def set_superglue_jsonl_dir(path: str | None) -> None:
    """Directory of the official SuperGLUE jsonl files (`BoolQ/val.jsonl`, ...); unset = TFDS."""
    SETTINGS.superglue_jsonl_dir = os.fspath(path) if path else None


def set_tfds_data_dir(path: str | None) -> None:
    """TFDS data dir for SuperGLUE / XSum (else seqio's override, else TFDS's default)."""
    SETTINGS.tfds_data_dir = os.fspath(path) if path else None


def set_max_eval_examples(n: int | None) -> None:
    """Cap on evaluated examples per task (questions, not candidates); None or <= 0 = all."""
    SETTINGS.max_eval_examples = int(n) if n and int(n) > 0 else None


def set_spbleu_model_path(path: str | None) -> None:
    """Local copy of the Flores-101 SentencePiece model used by spBLEU."""
    SETTINGS.spbleu_model_path = os.fspath(path) if path else None


def set_bleu_tokenizer(name: str) -> None:
    """`flores101` (spBLEU, default) or a sacrebleu tokenizer such as `13a` (labelled NOT_spBLEU)."""
    SETTINGS.bleu_tokenizer = name


def set_shot_selection(mode: str, seed: int = 0) -> None:
    """`official` (default) or `per_example` (seeded draw per query)."""
    if mode not in _SHOT_SELECTIONS:
        raise ValueError(f"shot selection must be one of {_SHOT_SELECTIONS}, got {mode!r}")
    SETTINGS.shot_selection, SETTINGS.shot_seed = mode, int(seed)


def set_score_normalization(mode: str) -> None:
    """`sum` (default) or `mean` log-likelihood per candidate for rank classification."""
    if mode not in _NORMALIZATIONS:
        raise ValueError(f"score normalization must be one of {_NORMALIZATIONS}, got {mode!r}")
    SETTINGS.score_normalization = mode


def configure(**values) -> None:
    """Sets several settings at once, e.g. `configure(flores101_dir=..., max_eval_examples=100)`."""
    setters = {
        "flores101_dir": set_flores101_dir,
        "superglue_jsonl_dir": set_superglue_jsonl_dir,
        "max_eval_examples": set_max_eval_examples,
        "tfds_data_dir": set_tfds_data_dir,
        "spbleu_model_path": set_spbleu_model_path,
        "bleu_tokenizer": set_bleu_tokenizer,
        "shot_selection": set_shot_selection,
        "score_normalization": set_score_normalization,
    }
    for key, value in values.items():
        if key not in setters:
            raise ValueError(f"unknown eval setting {key!r}; known: {sorted(setters)}")
        setters[key](value)


def reset() -> None:
    """Back to defaults (tests)."""
    fresh = EvalSettings()
    for field in dataclasses.fields(EvalSettings):
        setattr(SETTINGS, field.name, getattr(fresh, field.name))


def load_tfds_numpy(name: str, split: str, hint: str = ""):
    """Iterates a TFDS split as numpy dicts, from seqio's TFDS data dir override or TFDS's default.

    Downloads what TFDS can fetch itself; never asks Google Cloud Storage (offline machines hang there).
    A failure is re-raised with `hint` (where else the data can come from).
    """
    import seqio
    import tensorflow_datasets as tfds

    # Ours first, then what seqio.set_tfds_data_dir_override (T5X's --tfds_data_dir) set, then TFDS's default.
    data_dir = SETTINGS.tfds_data_dir or getattr(seqio.utils, "_TFDS_DATA_DIR_OVERRIDE", None)
    try:
        dataset = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False, try_gcs=False)
    except Exception as e:  # TFDS raises many kinds (network, missing manual files, missing modules)
        where = data_dir or "TFDS's default data dir"
        raise RuntimeError(f"Could not load TFDS {name} split {split!r} from {where}: {e}. {hint}") from e
    return tfds.as_numpy(dataset)


def resolve_vocabulary(vocabulary=None):
    """A seqio vocabulary, given one, a SentencePiece path (e.g. the official `20b_tokenizer.model`) or None.

    None is the project's default vocabulary.
    """
    from tasks.seqio_vocabulary import default_vocabulary, get_vocabulary  # lazy: imports seqio

    if vocabulary is None:
        return default_vocabulary()
    if isinstance(vocabulary, (str, os.PathLike)):
        return get_vocabulary(vocabulary)
    return vocabulary


def capped(items: list, cap: int | None = None) -> list:
    """The first `max_eval_examples` items (or `cap` when given)."""
    n = cap if cap is not None else SETTINGS.max_eval_examples
    return items[:n] if n else items
