"""The published AlexaTM 20B numbers the report puts beside ours: task -> metric -> (value, source).

Copied from docs/PAPER.md ("Published results"), which says where each number comes from; a test keeps the two
in step. Only numbers with a known source are here; a task without one shows a blank "paper" cell.
"""

from __future__ import annotations

# Sources, as labelled in docs/PAPER.md.
PWC = "[pwc]"

PAPER_RESULTS: dict[str, dict[str, tuple[float, str]]] = {
    # SuperGLUE zero-shot, validation sets.
    "super_glue_boolq_zeroshot": {"accuracy": (69.4, PWC)},
    "super_glue_cb_zeroshot": {"accuracy": (67.9, PWC)},
    "super_glue_copa_zeroshot": {"accuracy": (78.0, PWC)},
    "super_glue_multirc_zeroshot": {"f1a": (59.6, PWC)},
    "super_glue_record_zeroshot": {"f1": (88.4, PWC)},
    "super_glue_rte_zeroshot": {"accuracy": (68.6, PWC)},
    "super_glue_wic_zeroshot": {"accuracy": (53.3, PWC)},
    "super_glue_wsc_zeroshot": {"accuracy": (68.3, PWC)},
}


def paper_value(task: str, metric: str) -> tuple[float, str] | None:
    """(value, source) of a published number, or None."""
    return PAPER_RESULTS.get(task, {}).get(metric)
