"""What a trained model learnt, shown on held-out sentences of the embedded corpus (the README's main job).

Three views, each with the objective the model was trained on: denoising (a span of tokens is dropped, the
decoder rewrites the whole sentence), causal LM (`[CLM]` + the first half, the decoder continues) and the
few-shot intent task (utterances of three intents, then an unseen fourth). Reconstruction is scored against the
trivial answer of copying the corrupted input, so "learnt something" is a number, not an impression.

    python -m alexatm_jax.demo --checkpoint=runs/default_tiny
"""

from __future__ import annotations

import difflib
import random
from collections.abc import Sequence

from absl import flags

import alexatm_jax
from alexatm_jax.cli import app
from alexatm_jax.errors import ConfigError
from tasks import corpus


def drop_span(ids: Sequence[int], fraction: float, rng: random.Random) -> list[int]:
    """`ids` with one contiguous span of about `fraction` of its tokens (at least one) removed."""
    length = max(1, round(len(ids) * fraction))
    start = rng.randrange(0, max(1, len(ids) - length))
    return list(ids[:start]) + list(ids[start + length:])


def token_similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Matching-token ratio in [0, 1] (difflib's 2*M/T): 1 means identical sequences."""
    return difflib.SequenceMatcher(a=list(a), b=list(b), autojunk=False).ratio()


def held_out_sentences(num: int, seed: int) -> list[corpus.Utterance]:
    """`num` validation sentences spread over the 12 languages."""
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


def denoising_report(lm, sentences: list[corpus.Utterance], *, fraction: float, shown: int, seed: int) -> None:
    tokenizer = lm.tokenizer
    rng = random.Random(seed)
    eos = lm.config.eos_token_id
    originals = [tokenizer.encode(s.text, add_eos=False) for s in sentences]
    corrupted = [drop_span(ids, fraction, rng) for ids in originals]
    outputs = lm.generate([c + [eos] for c in corrupted], max_new_tokens=max(map(len, originals)) + 8,
                          mode=None)
    model_sim = [token_similarity(o, y) for o, y in zip(originals, outputs)]
    copy_sim = [token_similarity(o, c) for o, c in zip(originals, corrupted)]
    exact = sum(o == list(y) for o, y in zip(originals, outputs))
    print("\n== Denoising: one span of tokens dropped, the decoder rewrites the sentence")
    for s, c, y in list(zip(sentences, corrupted, outputs))[:shown]:
        print(f"[{s.language}] input : {tokenizer.decode(c)}\n     output: {tokenizer.decode(list(y))}\n"
              f"     truth : {s.text}")
    print(f"Reconstruction over {len(sentences)} held-out sentences: token similarity "
          f"{100 * sum(model_sim) / len(model_sim):.1f}% (copying the corrupted input: "
          f"{100 * sum(copy_sim) / len(copy_sim):.1f}%), exact {exact}/{len(sentences)}.")


def clm_report(lm, sentences: list[corpus.Utterance], *, shown: int) -> None:
    print("\n== Causal LM: [CLM] + the first half, the decoder continues")
    prompts = []
    for s in sentences[:shown]:
        words = s.text.split()
        prompts.append(" ".join(words[: max(1, len(words) // 2)]) if len(words) > 1 else s.text[: len(s.text) // 2])
    for s, prompt, out in zip(sentences, prompts, lm.generate(prompts, max_new_tokens=24, mode="clm")):
        print(f"[{s.language}] {prompt} -> {out}")


def few_shot_report(lm, *, shown: int, seed: int) -> None:
    print("\n== Few-shot intent generation: utterances of three intents, then an unseen fourth")
    rng = random.Random(seed)
    for language in rng.sample(list(corpus.LANGUAGES), shown):
        intent = rng.choice(corpus.INTENTS)
        example = corpus.few_shot_intent_prompt(language, intent, split="validation", seed=seed)
        out = lm.generate(example["inputs"], max_new_tokens=32, mode=None)
        print(f"[{language}] {intent} -> {out}")


def _define_flags(fv: flags.FlagValues) -> None:
    flags.DEFINE_string("checkpoint", None, "A training MODEL_DIR or a converted checkpoint.", required=True,
                        flag_values=fv)
    flags.DEFINE_integer("num_examples", 48, "Held-out sentences to score reconstruction on.", flag_values=fv)
    flags.DEFINE_integer("num_shown", 4, "Examples printed per view.", flag_values=fv)
    flags.DEFINE_float("drop_fraction", 0.15, "Share of tokens dropped, in one span, for denoising.",
                       flag_values=fv)
    flags.DEFINE_integer("seed", 0, "Which held-out sentences are used.", flag_values=fv)


def _run(fv: flags.FlagValues, args: list[str]) -> int:
    del args
    lm = alexatm_jax.load(fv.checkpoint)
    if lm.tokenizer is None:
        raise ConfigError(f"{fv.checkpoint} names no vocabulary: the demo needs one to show text.")
    sentences = held_out_sentences(fv.num_examples, fv.seed)
    denoising_report(lm, sentences, fraction=fv.drop_fraction, shown=fv.num_shown, seed=fv.seed)
    clm_report(lm, sentences, shown=fv.num_shown)
    few_shot_report(lm, shown=fv.num_shown, seed=fv.seed)
    return app.EXIT_OK


COMMAND = app.Command(name="demo", doc=__doc__, run=_run, define_flags=_define_flags)


def main(argv: Sequence[str] | None = None) -> int:
    return app.main(COMMAND, argv)


if __name__ == "__main__":
    app.run(COMMAND)
