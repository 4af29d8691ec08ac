"""Small data for the eval-task tests: a tiny SentencePiece model, a Flores-101 tree, SuperGLUE jsonl.

All sentences are written for these tests.
"""

from __future__ import annotations

import functools
import json
import os
import string
import tempfile

FLORES_SENTENCES = {
    "eng": {
        "dev": ["The cat sleeps on the warm mat.", "We walked to the old market.", "Rain fell all night."],
        "devtest": [
            "The train leaves at nine.",
            "My sister reads a long book.",
            "The garden is full of red flowers.",
            "He bought fresh bread this morning.",
        ],
    },
    "fra": {
        "dev": [
            "Le chat dort sur le tapis chaud.",
            "Nous avons marché au vieux marché.",
            "Il a plu toute la nuit.",
        ],
        "devtest": [
            "Le train part à neuf heures.",
            "Ma sœur lit un long livre.",
            "Le jardin est plein de fleurs rouges.",
            "Il a acheté du pain frais ce matin.",
        ],
    },
    "deu": {
        "dev": [
            "Die Katze schläft auf der warmen Matte.",
            "Wir gingen zum alten Markt.",
            "Es regnete die ganze Nacht.",
        ],
        "devtest": [
            "Der Zug fährt um neun Uhr ab.",
            "Meine Schwester liest ein langes Buch.",
            "Der Garten ist voller roter Blumen.",
            "Er kaufte heute Morgen frisches Brot.",
        ],
    },
}

SUPERGLUE_ROWS = {
    "BoolQ": [
        {
            "question": "is the sky blue on a clear day",
            "passage": "On a clear day the sky looks blue.",
            "idx": 0,
            "label": True,
        },
        {
            "question": "do fish live in trees",
            "passage": "Fish live in water, not in trees.",
            "idx": 1,
            "label": False,
        },
    ],
    "CB": [
        {
            "premise": "Anna said the shop was closed.",
            "hypothesis": "The shop was closed.",
            "label": "entailment",
            "idx": 0,
        },
        {
            "premise": "Tom never eats meat.",
            "hypothesis": "Tom eats meat every day.",
            "label": "contradiction",
            "idx": 1,
        },
        {"premise": "Lea may visit us.", "hypothesis": "Lea likes tea.", "label": "neutral", "idx": 2},
    ],
    "COPA": [
        {
            "premise": "The glass fell off the table.",
            "choice1": "It broke.",
            "choice2": "It grew.",
            "question": "effect",
            "label": 0,
            "idx": 0,
        },
        {
            "premise": "The road was wet.",
            "choice1": "The sun was out.",
            "choice2": "It had rained.",
            "question": "cause",
            "label": 1,
            "idx": 1,
        },
    ],
    "MultiRC": [
        {
            "idx": 0,
            "version": 1.1,
            "passage": {
                "text": "Mia has a red bike and a blue kite. She rides the bike to school.",
                "questions": [
                    {
                        "question": "What color is the bike?",
                        "idx": 0,
                        "answers": [
                            {"text": "Red", "idx": 0, "label": 1},
                            {"text": "Blue", "idx": 1, "label": 0},
                            {"text": "A red one", "idx": 2, "label": 1},
                        ],
                    },
                    {
                        "question": "Where does Mia ride?",
                        "idx": 1,
                        "answers": [
                            {"text": "To school", "idx": 3, "label": 1},
                            {"text": "To the sea", "idx": 4, "label": 0},
                        ],
                    },
                ],
            },
        },
    ],
    "ReCoRD": [
        {
            "idx": 0,
            "source": "test",
            "passage": {
                # "Paris" at 0-4 and 32-36 (end inclusive), "France" at 24-29, "Lyon" at 49-52.
                "text": (
                    "Paris is the capital of France. Paris is big and Lyon is smaller."
                    "\n@highlight\nA city story"
                ),
                "entities": [
                    {"start": 0, "end": 4},
                    {"start": 24, "end": 29},
                    {"start": 32, "end": 36},
                    {"start": 49, "end": 52},
                ],
            },
            "qas": [
                {
                    "query": "@placeholder is the capital.",
                    "idx": 0,
                    "answers": [{"start": 0, "end": 4, "text": "Paris"}],
                },
                {
                    "query": "The smaller city is @placeholder.",
                    "idx": 1,
                    "answers": [{"start": 49, "end": 52, "text": "Lyon"}],
                },
            ],
        },
    ],
    "RTE": [
        {
            "premise": "Ben sold his car in May.",
            "hypothesis": "Ben had a car.",
            "label": "entailment",
            "idx": 0,
        },
        {
            "premise": "The lake is frozen.",
            "hypothesis": "People swim in the lake today.",
            "label": "not_entailment",
            "idx": 1,
        },
    ],
    "WiC": [
        {
            "word": "bank",
            "sentence1": "He sat on the river bank.",
            "sentence2": "She went to the bank to pay.",
            "idx": 0,
            "label": False,
            "start1": 19,
            "start2": 14,
            "end1": 23,
            "end2": 18,
            "version": 1.1,
        },
        {
            "word": "run",
            "sentence1": "I run every day.",
            "sentence2": "They run in the park.",
            "idx": 1,
            "label": True,
            "start1": 2,
            "start2": 5,
            "end1": 5,
            "end2": 8,
            "version": 1.1,
        },
    ],
    "WSC": [
        {
            "text": "Sam thanked Max because he had helped.",
            "idx": 0,
            "label": False,
            "target": {"span1_text": "Sam", "span1_index": 0, "span2_text": "he", "span2_index": 4},
        },
        {
            "text": "The cup fell on the box because it was heavy.",
            "idx": 1,
            "label": True,
            "target": {"span1_text": "The cup", "span1_index": 0, "span2_text": "it", "span2_index": 7},
        },
    ],
}

PROMPT_WORDS = (
    "[CLM] Sentence: Translation in English French German Arabic Article: ==> Short summary: <br><br><br> "
    "Question: Answer: True False Neither no yes because therefore Is the answer correct? Passage: "
    "In the passage above, does the pronoun refer to Sentence 1: 2: used in same way two sentences above "
    "or - . ; : ' \""
)


def _corpus_lines() -> list[str]:
    lines = [PROMPT_WORDS, string.ascii_letters + string.digits + string.punctuation]
    for splits in FLORES_SENTENCES.values():
        for sentences in splits.values():
            lines.extend(sentences)
    lines.extend(json.dumps(rows, ensure_ascii=False) for rows in SUPERGLUE_ROWS.values())
    return lines * 3


@functools.lru_cache(maxsize=1)
def tiny_spm_model() -> str:
    """Path of a SentencePiece model trained on the sentences above (pad 0, eos 1, unk 2: seqio's layout)."""
    import sentencepiece as spm

    directory = tempfile.mkdtemp(prefix="tiny_spm_")
    corpus = os.path.join(directory, "corpus.txt")
    with open(corpus, "w", encoding="utf-8") as f:
        f.write("\n".join(_corpus_lines()) + "\n")
    prefix = os.path.join(directory, "tiny")
    spm.SentencePieceTrainer.train(
        input=corpus,
        model_prefix=prefix,
        vocab_size=400,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        user_defined_symbols=["[CLM]", "[DOC]", "[MASK]"],
        minloglevel=2,
    )
    return prefix + ".model"


@functools.lru_cache(maxsize=1)
def tiny_vocabulary():
    import seqio

    return seqio.SentencePieceVocabulary(tiny_spm_model())


def write_flores(root: str) -> str:
    """Writes `root/dev/<code>.dev` and `root/devtest/<code>.devtest` for eng, fra, deu."""
    for code, splits in FLORES_SENTENCES.items():
        for split, sentences in splits.items():
            os.makedirs(os.path.join(root, split), exist_ok=True)
            with open(os.path.join(root, split, f"{code}.{split}"), "w", encoding="utf-8") as f:
                f.write("\n".join(sentences) + "\n")
    return root


def write_superglue_jsonl(root: str) -> str:
    """Writes `root/<Task>/val.jsonl` in the official distribution's format."""
    for folder, rows in SUPERGLUE_ROWS.items():
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        with open(os.path.join(root, folder, "val.jsonl"), "w", encoding="utf-8") as f:
            f.write("".join(json.dumps(row) + "\n" for row in rows))
    return root


def family_registrar(register_fn, vocabulary, **defaults):
    """`register(**settings)`: registers an eval family's tasks with `vocabulary` and `EvalSettings(**defaults,
    **settings)`, as the evaluator does; returns the task names."""
    from tasks.eval_settings import EvalSettings

    def register(**settings):
        return register_fn(vocabulary, EvalSettings(**{**defaults, **settings}))

    return register
