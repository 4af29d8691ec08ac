"""Training: train state and compiled steps (`trainer`), the fault-tolerant loop (`loop`), optimisers, metrics,
the SeqIO input pipeline (`input_pipeline`, the only module here that imports seqio or TensorFlow) and
multi-process set-up (`distributed`)."""
