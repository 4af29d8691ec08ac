"""mC4 + Wikipedia pretraining tasks: registration, mixing rates, TFDS loading offline, sharding."""

import subprocess
import sys

import numpy as np
import pytest
import seqio
import tensorflow_datasets as tfds

from tasks import pretraining as P
from tasks.registry import UnknownTaskError, add_task, get_mixture_or_task

LENGTHS = {"inputs": 48, "targets": 48}


def test_language_sampling_formula():
    counts = {"a": 900.0, "b": 90.0, "c": 10.0}
    q = P.language_sampling_rates(counts, alpha=0.5)
    p = np.array([0.9, 0.09, 0.01])
    np.testing.assert_allclose([q["a"], q["b"], q["c"]], p**0.5 / np.sum(p**0.5))
    np.testing.assert_allclose(list(P.language_sampling_rates(counts, alpha=1.0).values()), p)
    np.testing.assert_allclose(list(P.language_sampling_rates(counts, alpha=0.0).values()), [1 / 3] * 3)
    with pytest.raises(ValueError):
        P.language_sampling_rates({"a": 0.0})


def test_registered_pretrain_mixture_rates():
    mixture = seqio.get_mixture_or_task("alexatm_pretrain")
    names = {t.name for t in mixture.tasks}
    expected = {P.task_name(c, lang, o) for c in P.CORPORA for lang in P.LANGUAGES for o in P.OBJECTIVES}
    assert names == expected and len(names) == 48
    rates = {t.name: mixture.get_rate(t) for t in mixture.tasks}
    total = sum(rates.values())
    share = lambda pred: sum(r for n, r in rates.items() if pred(n)) / total
    assert share(lambda n: n.endswith("_denoise")) == pytest.approx(0.8)
    assert share(lambda n: n.endswith("_clm")) == pytest.approx(0.2)
    assert share(lambda n: "_mc4_" in n) == pytest.approx(0.91)
    assert share(lambda n: "_wiki_" in n) == pytest.approx(0.09)
    # Within a corpus and objective, languages follow q_i ~ p_i^0.5.
    q = P.language_sampling_rates(P.MC4_EXAMPLE_COUNTS, 0.5)
    for lang in P.LANGUAGES:
        rate = rates[P.task_name("mc4", lang, "clm")] / total
        assert rate == pytest.approx(0.2 * 0.91 * q[lang])
    assert {t.name for t in seqio.get_mixture_or_task("alexatm_pretrain_clm").tasks} == {
        n for n in expected if n.endswith("_clm")
    }


def test_unknown_name_lists_closest_first():
    with pytest.raises(UnknownTaskError, match=r"Did you mean alexatm_mc4_en_denoise") as err:
        get_mixture_or_task("alexatm_mc4_en_denoize")
    assert "alexatm_wiki_te_clm" not in str(err.value)  # not a wall of 200 names
    assert "python -m tasks.inspect --list" in str(err.value)
    with pytest.raises(ValueError):
        get_mixture_or_task("no_such_thing_at_all")


def test_importing_tasks_is_light(repo_root):
    code = "import sys, tasks; assert 'tensorflow' not in sys.modules and 'seqio' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=repo_root)


def test_the_tfds_data_dir_is_set_in_one_place(tmp_path):
    from tasks import registry

    try:
        registry.set_tfds_data_dir(str(tmp_path))
        P.register_pretraining_tasks()  # fresh sources (seqio's loader caches the dir it first reads)
        task = seqio.get_mixture_or_task("alexatm_wiki_hi_denoise")
        assert task.source.tfds_dataset.data_dir == str(tmp_path)
        assert registry.tfds_data_dir() == str(tmp_path)
    finally:
        registry.set_tfds_data_dir(None)
        P.register_pretraining_tasks()
    assert seqio.get_mixture_or_task("alexatm_wiki_hi_denoise").source.tfds_dataset.data_dir is None


def _take(task, n, **kwargs):
    ds = task.get_dataset(LENGTHS, **kwargs)
    return list(ds.take(n).as_numpy_iterator())  # the iterator dies here (mock generators hang at exit)


def test_tfds_tasks_load_offline_with_mock_data():
    with tfds.testing.mock_data(num_examples=40):
        denoise = seqio.get_mixture_or_task("alexatm_mc4_en_denoise")
        first = _take(denoise, 4, split="train", shuffle=True, seed=3)
        again = _take(denoise, 4, split="train", shuffle=True, seed=3)
        for a, b in zip(first, again):  # same seed, same stream
            assert all(np.array_equal(a[k], b[k]) for k in a)
        for ex in first:
            assert int(ex["objective"]) == 0 and ex["targets"][-1] == 2 and ex["inputs"][-1] == 2
            assert len(ex["inputs"]) < len(ex["targets"]) <= LENGTHS["targets"]
        clm = _take(seqio.get_mixture_or_task("alexatm_wiki_ja_clm"), 4, split="validation", shuffle=False)
        assert clm and all(int(ex["objective"]) == 1 and ex["inputs"][0] == 4 for ex in clm)


def _rekey_text(ds):
    return ds.map(lambda ex: {"text": ex["text"]})


def test_tfds_sharding_is_disjoint_and_covers():
    # Same offline source as the pretraining tasks, deterministic preprocessing, to compare documents.
    task = add_task(
        "test_mc4_en_documents",
        source=P._source("mc4", "en", None),
        preprocessors=[_rekey_text],
        output_features={},
    )
    with tfds.testing.mock_data(num_examples=30):
        def texts(shard_info=None):
            ds = task.get_dataset(None, split="train", shuffle=False, shard_info=shard_info)
            return [ex["text"] for ex in ds.as_numpy_iterator()]

        everything = texts()
        shards = [texts(seqio.ShardInfo(i, 2)) for i in range(2)]
    assert len(everything) == 30
    assert not set(shards[0]) & set(shards[1])
    assert sorted(shards[0] + shards[1]) == sorted(everything)
