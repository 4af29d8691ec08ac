"""What a trained model learnt, shown on held-out sentences of the embedded corpus (the README's main job).

Three views, each with the objective the model was trained on, each ending with a number so that "learnt
something" is not an impression:
* denoising: a span of tokens is dropped and the decoder rewrites the whole sentence; its token similarity to the
  original is compared with the trivial answer, copying the corrupted input (the margin is printed);
* causal LM: `[CLM]` + the first half of a sentence, the decoder continues; how many continuations are in the
  prompt's language;
* few-shot intent generation: two held-out requests of one intent, the decoder writes on ([CLM]); how many
  outputs are in the prompt's language and of the shown intent, and how many of those are new text rather than
  a piece of the prompt. (The other few-shot form, an unseen intent asked by name after examples of three others
  as in `tasks.corpus.few_shot_intent_prompt`, needs a model that knows what intent names mean: this corpus never
  names them.)
Languages and intents of generated text are told by `tasks.corpus.identify` (character-trigram classifiers of the
corpus's train split). Sentences come from the corpus's validation split, which shares no sentence with train.

    python -m alexatm_jax.demo --checkpoint=runs/default_tiny
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import random
import warnings
from collections.abc import Sequence
from typing import Any

from absl import flags

import alexatm_jax
from alexatm_jax import console, paths
from alexatm_jax.checkpoint import run_dir
from alexatm_jax.cli import app
from alexatm_jax.errors import ConfigError
from tasks import corpus
from tasks.corpus import identify

# Requests shown to the model in each few-shot prompt (two mostly fit the main job's 32-token rows; a longer
# prompt keeps its end, and the demo says how many were cut).
FEW_SHOT_SHOTS = 2


@dataclasses.dataclass(frozen=True)
class View:
    """One view of the demo: its title, the examples printed, the summary line and its numbers."""

    title: str
    examples: list[str]
    summary: str
    numbers: dict[str, float]

    def render(self) -> str:
        return "\n".join([f"\n== {self.title}", *self.examples, self.summary])


def drop_span(ids: Sequence[int], fraction: float, rng: random.Random) -> list[int]:
    """`ids` with one contiguous span of about `fraction` of its tokens (at least one) removed."""
    length = max(1, round(len(ids) * fraction))
    start = rng.randrange(0, max(1, len(ids) - length))
    return list(ids[:start]) + list(ids[start + length:])


def token_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Matching-token ratio in [0, 1] (difflib's 2*M/T): 1 means identical sequences."""
    return difflib.SequenceMatcher(a=list(a), b=list(b), autojunk=False).ratio()


def held_out_sentences(num: int, seed: int) -> list[corpus.Utterance]:
    """`num` validation sentences, taken in turn from each of the 12 languages."""
    rng = random.Random(seed)
    by_language: dict[str, list[corpus.Utterance]] = {}
    for utterance in corpus.generate("validation", seed=seed):
        by_language.setdefault(utterance.language, []).append(utterance)
    picked = []
    while len(picked) < num:
        for language in corpus.LANGUAGES:
            if len(picked) < num and by_language.get(language):
                pool = by_language[language]
                picked.append(pool.pop(rng.randrange(len(pool))))
    return picked


def first_half(text: str) -> str:
    """The first half of a sentence, by words (by characters for text without spaces, e.g. Japanese)."""
    words = text.split()
    return " ".join(words[: max(1, len(words) // 2)]) if len(words) > 1 else text[: max(1, len(text) // 2)]


def is_new_text(output: str, prompt: str) -> bool:
    """Whether `output` is more than a piece of `prompt` (compared without case, spacing or punctuation)."""
    def letters(text: str) -> str:
        return "".join(c for c in text.casefold() if c.isalnum())

    return bool(letters(output)) and letters(output) not in letters(prompt)


def denoising_view(lm: Any, sentences: list[corpus.Utterance], *, fraction: float, shown: int,
                   seed: int) -> View:
    tokenizer, eos = lm.tokenizer, lm.config.eos_token_id
    rng = random.Random(seed)
    originals = [tokenizer.encode(s.text) for s in sentences]
    corrupted = [drop_span(ids, fraction, rng) for ids in originals]
    outputs = lm.generate([c + [eos] for c in corrupted], max_new_tokens=max(map(len, originals)) + 8, mode=None)
    model = [token_similarity(o, y) for o, y in zip(originals, outputs)]
    copy = [token_similarity(o, c) for o, c in zip(originals, corrupted)]
    n = len(sentences)
    model_mean, copy_mean = 100 * sum(model) / n, 100 * sum(copy) / n
    wins = sum(m > c for m, c in zip(model, copy))
    exact = sum(o == list(y) for o, y in zip(originals, outputs))
    examples = [f"[{s.language}] input : {tokenizer.decode(c)}\n     output: {tokenizer.decode(list(y))}\n"
                f"     truth : {s.text}" for s, c, y in list(zip(sentences, corrupted, outputs))[:shown]]
    summary = (f"Reconstruction over {n} held-out sentences: token similarity {model_mean:.1f}% (copying the "
               f"corrupted input: {copy_mean:.1f}%), margin {model_mean - copy_mean:+.1f} points; better than the "
               f"copy on {wins}/{n}, exact {exact}/{n}.")
    numbers = {"denoise_similarity": model_mean, "copy_similarity": copy_mean,
               "denoise_margin": model_mean - copy_mean, "denoise_wins": wins, "denoise_exact": exact}
    return View("Denoising: one span of tokens dropped, the decoder rewrites the sentence", examples, summary,
                numbers)


def clm_view(lm: Any, sentences: list[corpus.Utterance], *, shown: int, seed: int) -> View:
    prompts = [first_half(s.text) for s in sentences]
    outputs = lm.generate(prompts, max_new_tokens=24, mode="clm")
    same = sum(identify.identify_language(out, seed) == s.language for s, out in zip(sentences, outputs))
    n = len(sentences)
    examples = [f"[{s.language}] {p} -> {out}" for s, p, out in list(zip(sentences, prompts, outputs))[:shown]]
    summary = (f"Continuations in the prompt's language: {same}/{n} ({100 * same / n:.0f}%; by chance about "
               f"{100 / len(corpus.LANGUAGES):.0f}%).")
    return View("Causal LM: [CLM] + the first half of a sentence, the decoder continues", examples, summary,
                {"clm_language_match": 100 * same / n})


def few_shot_view(lm: Any, *, num: int, shown: int, seed: int, max_input_length: int | None) -> View:
    rng = random.Random(seed)
    languages = [corpus.LANGUAGES[i % len(corpus.LANGUAGES)] for i in range(num)]
    prompts = [corpus.shown_intent_prompt(language, rng.choice(corpus.INTENTS), shots=FEW_SHOT_SHOTS,
                                          split="validation", seed=seed) for language in languages]
    with warnings.catch_warnings():  # one line below for all truncated prompts, not a warning for each
        warnings.simplefilter("ignore")
        details = lm.generate([p["inputs"] for p in prompts], max_new_tokens=24, mode="clm", return_details=True,
                              max_input_length=max_input_length, truncation="left")
    truncated = sum(d["input_truncated"] for d in details)
    outputs = [d["output"].strip() for d in details]
    same_language = sum(identify.identify_language(out, seed) == p["language"] for p, out in zip(prompts, outputs))
    right_intent = [identify.identify_intent(out, p["language"], seed) == p["target_intent"]
                    for p, out in zip(prompts, outputs)]
    new_and_right = sum(right and is_new_text(out, p["inputs"])
                        for right, p, out in zip(right_intent, prompts, outputs))
    examples = [f"[{p['language']}] {p['target_intent']}: {p['inputs']} -> {out}"
                for p, out in list(zip(prompts, outputs))[:shown]]
    if truncated:
        examples.insert(0, f"({truncated}/{num} prompts kept only their last {max_input_length} tokens, the input "
                           "length the model was trained on; --max_input_length changes it.)")
    summary = (f"Few-shot outputs over {num} prompts: in the prompt's language {same_language}/{num}, of the shown "
               f"intent {sum(right_intent)}/{num} (by chance 1/{len(corpus.INTENTS)}), {new_and_right}/{num} of them "
               "new text, not a piece of the prompt.")
    numbers = {"fewshot_language_match": 100 * same_language / num,
               "fewshot_intent_match": 100 * sum(right_intent) / num,
               "fewshot_new_intent_match": 100 * new_and_right / num}
    return View(f"Few-shot intent generation: {FEW_SHOT_SHOTS} requests of one intent, the decoder writes on",
                examples, summary, numbers)


def trained_input_length(checkpoint_dir: Any) -> int | None:
    """The encoder length a training run used (positions past it were never trained), if its metadata says."""
    lengths = run_dir.read_metadata(checkpoint_dir).get(run_dir.TASK_FEATURE_LENGTHS_FIELD) or {}
    return int(lengths["inputs"]) if "inputs" in lengths else None


def _define_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_string("checkpoint", None, "A training MODEL_DIR or a converted checkpoint.", required=True,
                        flag_values=fv)
    flags.DEFINE_integer("num_examples", 48, "Held-out sentences for the denoising and CLM views.", flag_values=fv)
    flags.DEFINE_integer("num_few_shot", 24, "Few-shot prompts (two per language by default).", flag_values=fv)
    flags.DEFINE_integer("num_shown", 4, "Examples printed per view.", flag_values=fv)
    flags.DEFINE_float("drop_fraction", 0.15, "Share of tokens dropped, in one span, for denoising.",
                       flag_values=fv)
    flags.DEFINE_integer("max_input_length", None, "Few-shot prompts keep their last tokens up to this length "
                         "([CLM] stays first). Default: the input length the checkpoint was trained on.",
                         flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Which held-out sentences and prompts are used.", flag_values=fv)


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del args
    for name in ("num_examples", "num_few_shot"):
        if fv[name].value < 1:
            raise ConfigError(f"--{name}={fv[name].value}: give at least 1.")
    lm = alexatm_jax.load(fv.checkpoint)
    if lm.tokenizer is None:
        raise ConfigError(f"{fv.checkpoint} names no vocabulary: the demo needs one to show text.")
    max_input_length = fv.max_input_length or trained_input_length(
        run_dir.find_checkpoint(paths.resolve(fv.checkpoint)))
    sentences = held_out_sentences(fv.num_examples, fv.seed)
    progress = console.progress_bar(total=3, desc="demo", unit="view")
    views = []
    for make in (
        lambda: denoising_view(lm, sentences, fraction=fv.drop_fraction, shown=fv.num_shown, seed=fv.seed),
        lambda: clm_view(lm, sentences, shown=fv.num_shown, seed=fv.seed),
        lambda: few_shot_view(lm, num=fv.num_few_shot, shown=fv.num_shown, seed=fv.seed,
                              max_input_length=max_input_length),
    ):
        views.append(make())
        progress.update(1)
    progress.close()
    for view in views:
        print(view.render())
    numbers = {k: round(v, 1) for view in views for k, v in view.numbers.items()}
    print("\nDemo numbers: " + json.dumps(numbers), flush=True)
    return app.EXIT_OK


COMMAND = app.Command(name="demo", doc=__doc__, run=_run, define_flags=_define_flags)


def main(argv: Sequence[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
