"""Train a SentencePiece unigram vocabulary with the AlexaTM special pieces reserved.

    python -m tasks.train_vocab --input=corpus.txt[,more.txt] --output_prefix=out/spm --vocab_size=8000

Writes `out/spm.model` and `out/spm.vocab` with the id layout `<s>`=0, `<pad>`=1, `</s>`=2, `<unk>`=3,
`[CLM]`=4, `[DOC]`=5, `[MASK]`=6 (see `tasks.vocabulary.TRAINED_LAYOUT`). One sentence/document per line.
"""

from __future__ import annotations

import argparse
import glob
import os
from collections.abc import Sequence

import sentencepiece as spm

from tasks.vocabulary import (
    BOS_PIECE,
    EOS_PIECE,
    PAD_PIECE,
    SPECIAL_PIECES,
    TRAINED_LAYOUT,
    UNK_PIECE,
    SentencePieceTokenizer,
)


def _expand(inputs: Sequence[str] | str) -> list[str]:
    if isinstance(inputs, str):
        inputs = [s for s in inputs.split(",") if s]
    files: list[str] = []
    for pattern in inputs:
        matches = sorted(glob.glob(pattern))
        if not matches:
            raise FileNotFoundError(f"--input {pattern!r} matches no file.")
        files.extend(matches)
    return files


def train_vocabulary(
    inputs: Sequence[str] | str,
    output_prefix: str,
    vocab_size: int,
    *,
    character_coverage: float = 0.9995,
    byte_fallback: bool = True,
    input_sentence_size: int = 2_000_000,
    max_sentence_length: int = 16384,
    seed: int = 0,
    num_threads: int | None = None,
    hard_vocab_limit: bool = True,
) -> str:
    """Trains a unigram model on `inputs` (files or globs) and returns the `.model` path.

    `byte_fallback` adds 256 byte pieces so text in unseen scripts never becomes `<unk>`.
    `hard_vocab_limit=False` lets a small corpus yield fewer pieces than `vocab_size` instead of failing.
    """
    files = _expand(inputs)
    out_dir = os.path.dirname(os.path.abspath(output_prefix))
    os.makedirs(out_dir, exist_ok=True)
    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(
        input=files,
        model_prefix=output_prefix,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=character_coverage,
        byte_fallback=byte_fallback,
        input_sentence_size=input_sentence_size,
        shuffle_input_sentence=True,
        max_sentence_length=max_sentence_length,
        bos_id=TRAINED_LAYOUT[BOS_PIECE], bos_piece=BOS_PIECE,
        pad_id=TRAINED_LAYOUT[PAD_PIECE], pad_piece=PAD_PIECE,
        eos_id=TRAINED_LAYOUT[EOS_PIECE], eos_piece=EOS_PIECE,
        unk_id=TRAINED_LAYOUT[UNK_PIECE], unk_piece=UNK_PIECE,
        user_defined_symbols=list(SPECIAL_PIECES),
        num_threads=num_threads or os.cpu_count() or 1,
        hard_vocab_limit=hard_vocab_limit,
        minloglevel=2,
    )
    model_path = output_prefix + ".model"
    tok = SentencePieceTokenizer(model_path)
    layout = {p: tok.sp.PieceToId(p) for p in TRAINED_LAYOUT}
    if layout != TRAINED_LAYOUT:  # a sentencepiece change would silently break every checkpoint.
        raise RuntimeError(f"Unexpected id layout {layout}, expected {TRAINED_LAYOUT}.")
    return model_path


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tasks.train_vocab", description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="comma-separated text files or globs, one doc per line")
    parser.add_argument("--output_prefix", required=True, help="writes PREFIX.model and PREFIX.vocab")
    parser.add_argument("--vocab_size", type=int, required=True)
    parser.add_argument("--character_coverage", type=float, default=0.9995)
    parser.add_argument("--byte_fallback", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--input_sentence_size", type=int, default=2_000_000)
    parser.add_argument("--hard_vocab_limit", action=argparse.BooleanOptionalAction, default=True,
                        help="--no-hard_vocab_limit: allow fewer pieces when the corpus is small")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    path = train_vocabulary(
        args.input, args.output_prefix, args.vocab_size,
        character_coverage=args.character_coverage, byte_fallback=args.byte_fallback,
        input_sentence_size=args.input_sentence_size, seed=args.seed, hard_vocab_limit=args.hard_vocab_limit,
    )
    tok = SentencePieceTokenizer(path)
    print(f"wrote {path} (vocab_size={tok.vocab_size}, special ids {tok.special_ids()})")


if __name__ == "__main__":
    main()
