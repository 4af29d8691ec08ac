"""What an evaluation run reads besides the model: data locations, example caps, metric and scoring choices.

One frozen `EvalSettings` value is built by the eval entry point from its gin macros and passed explicitly to
every eval family when it registers its tasks (`tasks.registry.EvalFamily.register(vocabulary, settings)`):
dataset functions and metric functions close over it, so two runs with different settings never share state.
At import, every family registers with `EvalSettings()` (the defaults) so that task names resolve and
`python -m tasks.inspect` works.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

SHOT_SELECTIONS = ("official", "per_example")
# SuperGLUE scoring switches (docs/EVALUATION.md says which follows the paper and what it leaves open).
SCORING_MODES = ("clm", "denoising")
SCORED_TEXTS = ("answer", "full")
AGGREGATIONS = ("sum", "mean")
SPBLEU_TOKENIZERS = ("flores101", "spm")

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Scoring:
    """How rank classification scores a candidate answer.

    `mode`: "clm" (the encoder reads `[CLM] prompt`) or "denoising" (the encoder reads the prompt alone).
    `scored`: "answer" (the decoder is teacher-forced on the candidate only) or "full" (on the prompt followed by
    the candidate: the full text). `aggregation`: "sum" of the scored tokens' log-likelihoods or their "mean".
    """

    mode: str = "clm"
    scored: str = "answer"
    aggregation: str = "sum"

    def __post_init__(self):
        for name, value, allowed in (("mode", self.mode, SCORING_MODES), ("scored", self.scored, SCORED_TEXTS),
                                     ("aggregation", self.aggregation, AGGREGATIONS)):
            if value not in allowed:
                raise ValueError(f"SuperGLUE scoring {name}={value!r} is unknown: use one of {allowed}.")


DEFAULT_SCORING = Scoring()


@dataclasses.dataclass(frozen=True)
class EvalSettings:
    """Settings of one evaluation run; `None` means unset (the family's default source or no cap)."""

    flores101_dir: str | None = None  # Flores-101: <dir>/dev/<code>.dev, <dir>/devtest/<code>.devtest
    superglue_jsonl_dir: str | None = None  # official SuperGLUE jsonl; None reads TFDS super_glue
    mlsum_dir: str | None = None  # MLSum in the Hugging Face layout; None reads TFDS mlsum
    squad_v2_json: str | None = None  # an official-format SQuAD v2 JSON; None reads TFDS squad/v2.0
    max_eval_examples: int | None = None  # per task (questions, not candidates); None = all
    # Flores-101 SentencePiece model for spBLEU (sacrebleu's `sacrebleu_tokenizer_spm.model`).
    spbleu_model_path: str | None = None
    # "flores101" = spBLEU; anything else (e.g. "13a") is sacrebleu BLEU, NOT comparable to spBLEU.
    bleu_tokenizer: str = "flores101"
    # Few-shot example choice: "official" = the release script's (first dev line / first short train article for
    # every query); "per_example" = a dev line drawn per query (Flores only), seeded by `shot_seed`.
    shot_selection: str = "official"
    shot_seed: int = 0
    superglue_scoring: Scoring = DEFAULT_SCORING

    def __post_init__(self):
        if self.max_eval_examples is not None and int(self.max_eval_examples) <= 0:
            object.__setattr__(self, "max_eval_examples", None)  # 0 or less: all
        if self.shot_selection not in SHOT_SELECTIONS:
            raise ValueError(f"shot selection {self.shot_selection!r} is unknown: use one of {SHOT_SELECTIONS}.")
        for name in ("flores101_dir", "superglue_jsonl_dir", "mlsum_dir", "squad_v2_json", "spbleu_model_path"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, os.fspath(value))

    def replace(self, **changes: Any) -> EvalSettings:
        return dataclasses.replace(self, **changes)

    def capped(self, items: Iterable[T]) -> list[T]:
        """The first `max_eval_examples` items (all when unset)."""
        out = []
        for item in items:
            if self.max_eval_examples is not None and len(out) >= self.max_eval_examples:
                break
            out.append(item)
        return out

    @property
    def uses_spbleu(self) -> bool:
        return self.bleu_tokenizer in SPBLEU_TOKENIZERS


DEFAULT_SETTINGS = EvalSettings()  # what every family registers with at import


def load_tfds_numpy(name: str, split: str, *, data_dir: str | None, hint: str = "") -> Iterator[dict[str, Any]]:
    """Iterates a TFDS split as numpy dicts from `data_dir` (`tasks.registry.tfds_data_dir()`; None: TFDS's default).

    Downloads what TFDS can fetch itself; never asks Google Cloud Storage (offline machines hang there).
    A failure is re-raised with `hint` (where else the data can come from).
    """
    import tensorflow_datasets as tfds

    try:
        dataset = tfds.load(name, split=split, data_dir=data_dir, shuffle_files=False, try_gcs=False)
    except Exception as e:  # TFDS raises many kinds (network, missing manual files, missing modules)
        where = data_dir or "TFDS's default data dir"
        raise FileNotFoundError(f"Could not load TFDS {name} split {split!r} from {where}: {e}. {hint}") from e
    return iter(tfds.as_numpy(dataset))


def text(value: Any) -> str:
    """A TFDS / JSON string value as `str` (TFDS gives bytes)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
