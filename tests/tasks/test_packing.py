"""Packing: documents stay whole, [DOC] only between them, lengths never read from token values."""

import numpy as np
import tensorflow as tf

from tasks.packing import pack_documents, pack_sequences

DOC = 5


def _dataset(docs, key="targets"):
    return tf.data.Dataset.from_generator(
        lambda: ({key: np.asarray(d, np.int32)} for d in docs), output_signature={key: tf.TensorSpec([None], tf.int32)}
    )


def _split_on(row, sep):
    parts, cur = [], []
    for t in row:
        if t == sep:
            parts.append(cur)
            cur = []
        else:
            cur.append(int(t))
    return parts + [cur]


def test_pack_documents_keeps_documents_whole_and_separated():
    rng = np.random.default_rng(0)
    # Token ids avoid [DOC] but include 0 (`<s>`), which must not be taken for padding.
    vocab = np.array([0] + list(range(7, 500)))
    docs = [rng.choice(vocab, size=rng.integers(1, 80)).tolist() for _ in range(600)]
    rows = [r["targets"] for r in pack_documents(_dataset(docs), max_tokens=100, doc_id=DOC).as_numpy_iterator()]
    assert all(0 < len(r) <= 100 for r in rows)
    assert all(r[0] != DOC and r[-1] != DOC for r in rows)  # [DOC] only between documents
    unpacked = [d for r in rows for d in _split_on(r, DOC)]
    assert unpacked == docs  # every document, whole and in order, nothing added or lost
    assert np.mean([len(r) for r in rows]) > 65  # next-fit packing: rows ~73% full here
    assert sum(len(_split_on(r, DOC)) > 1 for r in rows) > len(rows) // 2


def test_pack_documents_length_from_sequence_length():
    docs = [[7] * 10] * 20
    rows = list(pack_documents(_dataset(docs), {"inputs": 32, "targets": 64}, doc_id=DOC).as_numpy_iterator())
    # Room = min(inputs, targets) - 1 (EOS): two 10-token docs + [DOC] = 21; three = 32 > 31.
    assert [len(r["targets"]) for r in rows] == [21] * 10


def test_pack_sequences_counts_zeros_as_tokens():
    ds = _dataset([[0, 0, 3], [4, 0], [0]], key="x")
    (row,) = list(pack_sequences(ds, {"x": 8}).as_numpy_iterator())
    np.testing.assert_array_equal(row["x"], [0, 0, 3, 4, 0, 0, 0, 0])
    np.testing.assert_array_equal(row["x_segment_ids"], [1, 1, 1, 2, 2, 3, 0, 0])
    np.testing.assert_array_equal(row["x_positions"], [0, 1, 2, 0, 1, 0, 0, 0])
