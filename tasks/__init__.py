"""Data side of alexatm-jax: vocabulary, pretraining objectives, tasks, evaluation data and metrics.

Knows nothing of models and imports nothing from `alexatm_jax`. Importing `tasks` is light (no TensorFlow, no
seqio). Tasks register when their modules are imported: `import tasks.all` (everything), `tasks.pretraining`
(mC4 + Wikipedia), `tasks.default_tasks` (the offline default corpus); `tasks.registry.get_mixture_or_task`
looks a name up.
"""
