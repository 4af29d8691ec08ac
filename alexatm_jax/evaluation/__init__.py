"""Evaluation: `evaluator` (the run: settings, vocabulary, the SeqIO Evaluator per task), `predictors` (what is
asked of a model, and the seqio predict / score adapters), `outputs` (metrics and predictions on disk),
`results_report` (the table beside the paper's numbers, `paper_results`, and the plots)."""
