"""Evaluation: the SeqIO `Evaluator` glue that scores a checkpoint on the evaluation tasks and writes metrics,
predictions and tables (`evaluator`)."""
