"""Malformed evaluation data is named (file, line, what is wrong) before any model work: SuperGLUE jsonl lines,
unknown labels, a damaged spBLEU model."""

from __future__ import annotations

import json

import pytest

from tasks import eval_metrics, superglue
from tasks.registry import TaskDataError

CB_ROW = {"premise": "It rains.", "hypothesis": "It is wet.", "label": "entailment", "idx": 0}


def _write_cb(root, *lines):
    (root / "CB").mkdir(parents=True)
    (root / "CB" / "val.jsonl").write_text("".join(line + "\n" for line in lines))


def test_a_good_cb_file_reads(tmp_path):
    _write_cb(tmp_path, json.dumps(CB_ROW), "", json.dumps({**CB_ROW, "label": "neutral", "idx": 1}))
    assert [r["label"] for r in superglue.read_rows("cb", "validation", str(tmp_path))] == [0, 2]


@pytest.mark.parametrize("bad_line,message", [
    ('{"premise": "It rains.", "hypo',
     r"val.jsonl:2 is not JSON \(Invalid control character at column 31\): fix the line"),
    (json.dumps({**CB_ROW, "label": "maybe"}), r"val.jsonl:2 is not a SuperGLUE CB row \(label 'maybe' is not one of "
                                               r"\('entailment', 'contradiction', 'neutral'\)\)"),
    (json.dumps([1, 2]), r"val.jsonl:2 is not a SuperGLUE CB row"),
])
def test_a_malformed_line_is_named_with_file_and_line(tmp_path, bad_line, message):
    _write_cb(tmp_path, json.dumps(CB_ROW), bad_line)
    with pytest.raises(TaskDataError, match=message):
        list(superglue.read_rows("cb", "validation", str(tmp_path)))


def test_multirc_row_without_a_field_names_it(tmp_path):
    (tmp_path / "MultiRC").mkdir()
    (tmp_path / "MultiRC" / "val.jsonl").write_text(json.dumps({"idx": 0, "passage": {"text": "t"}}) + "\n")
    with pytest.raises(TaskDataError, match=r"val.jsonl:1 is not a SuperGLUE MultiRC row \(field 'questions' is "
                                            "missing\\)"):
        list(superglue.read_rows("multirc", "validation", str(tmp_path)))


def test_a_damaged_spbleu_model_fails_when_it_is_looked_up(tmp_path):
    bad = tmp_path / eval_metrics.SPBLEU_MODEL_FILE
    bad.write_bytes(b"<html>not a model</html>")
    with pytest.raises(ValueError, match="is not a SentencePiece model .*fetch https://"):
        eval_metrics.spbleu_model_path(str(bad))
