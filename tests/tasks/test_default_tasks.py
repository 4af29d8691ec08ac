"""Default-corpus tasks: mixture ratio, determinism and restart, sharding, few-shot task, inspect."""

import collections

import numpy as np
import seqio

import tasks.default_tasks  # noqa: F401  (registers the tasks)
from tasks import corpus
from tasks.feature_converters import AlexaTMFeatureConverter
from tasks.inspect import main as inspect_main
from tasks.vocabulary import get_tokenizer

LENGTHS = {"inputs": 64, "targets": 64}


def test_mixture_is_80_20_over_5000_examples():
    ds = seqio.get_mixture_or_task("alexatm_default_pretrain").get_dataset(
        LENGTHS, split="train", shuffle=True, seed=0
    )
    counts = collections.Counter(int(ex["objective"]) for ex in ds.take(5000).as_numpy_iterator())
    assert sum(counts.values()) == 5000
    assert abs(counts[0] / 5000 - 0.8) < 0.02 and abs(counts[1] / 5000 - 0.2) < 0.02


def test_3k_tasks_read_the_same_corpus_in_the_3k_vocabulary():
    """`*_3k` names the same tasks with the main job's 3,000-piece vocabulary."""
    from tasks.vocabulary import DEFAULT_3K_SPM_PATH

    for name in ("alexatm_default_denoise_3k", "alexatm_default_clm_3k", "alexatm_default_fewshot_intent_3k"):
        task = seqio.get_mixture_or_task(name)
        assert task.output_features["targets"].vocabulary.sentencepiece_model_file == DEFAULT_3K_SPM_PATH
    mixture = seqio.get_mixture_or_task("alexatm_default_pretrain_3k")
    assert sorted(t.name for t in mixture.tasks) == ["alexatm_default_clm_3k", "alexatm_default_denoise_3k"]
    tokenizer = get_tokenizer(DEFAULT_3K_SPM_PATH)
    examples = list(mixture.get_dataset(LENGTHS, split="validation", shuffle=False).take(20).as_numpy_iterator())
    for ex in examples:
        assert ex["targets"].max() < 3000 and ex["targets"][-1] == tokenizer.eos_id
    texts = [tokenizer.decode(ex["targets"].tolist()) for ex in examples]
    assert sum(any(c.isalpha() for c in text) for text in texts) == len(texts)
    default = seqio.get_mixture_or_task("alexatm_default_denoise").output_features["targets"].vocabulary
    assert default.vocab_size == 7000  # the default family keeps its vocabulary


def _batches(seed, n, skip=0):
    ds = seqio.get_dataset(
        "alexatm_default_pretrain", LENGTHS, AlexaTMFeatureConverter(decoder_start_token_id=2, pack=True),
        dataset_split="train", shuffle=True, num_epochs=None, seed=seed, batch_size=4, verbose=False,
    )
    return list(ds.skip(skip).take(n).as_numpy_iterator())


def test_same_seed_same_stream_and_restart_with_skip():
    first = _batches(seed=7, n=6)
    restarted = _batches(seed=7, n=3, skip=3)  # a restarted job rebuilds the pipeline and skips
    for a, b in zip(first[3:], restarted):
        assert all(np.array_equal(a[k], b[k]) for k in a)
    batch = first[0]
    assert batch["encoder_input_tokens"].shape == (4, 64) and batch["decoder_objective_ids"].shape == (4, 64)
    starts = (batch["decoder_positions"] == 0) & (batch["decoder_segment_ids"] > 0)
    assert (batch["decoder_input_tokens"][starts] == 2).all()


def test_fewshot_task_and_sharding():
    task = seqio.get_mixture_or_task("alexatm_default_fewshot_intent")

    def examples(shard_info=None):
        ds = task.get_dataset(LENGTHS, split="validation", shuffle=False, shard_info=shard_info)
        return [(tuple(ex["inputs"]), tuple(ex["targets"])) for ex in ds.as_numpy_iterator()]

    everything = examples()
    shards = [examples(seqio.ShardInfo(i, 2)) for i in range(2)]
    assert len(everything) == len(corpus.few_shot_intent_examples("validation"))
    assert not set(shards[0]) & set(shards[1]) and sorted(shards[0] + shards[1]) == sorted(everything)
    tok = get_tokenizer()
    inputs, targets = everything[0]
    assert inputs[0] == tok.clm_id and inputs[-1] == targets[-1] == tok.eos_id
    assert tok.decode(targets) == corpus.few_shot_intent_examples("validation")[0]["targets"]


def test_default_vocabulary_covers_the_corpus():
    tok = get_tokenizer()
    docs = corpus.documents("validation")[:300]
    ids = [i for d in docs for i in tok.encode(d["text"])]
    assert ids.count(tok.unk_id) == 0
    assert len(ids) / sum(len(d["text"].split()) for d in docs) < 3.0  # subwords per word


def test_inspect_prints_decoded_examples(capsys):
    inspect_main(["alexatm_default_clm", "--num=2", "--inputs_length=64", "--targets_length=64"])
    out = capsys.readouterr().out
    assert out.count("=== alexatm_default_clm [train] example") == 2
    assert "objective: clm" in out and "inputs (" in out and "[CLM]" in out
