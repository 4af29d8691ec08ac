"""Checkpoints: the run-directory layout (`run_dir`), parameter save/restore (`params`), training checkpoints
(`manager`), layer layouts (`layouts`) and the official release's format (`official`). Knows the model's
config, never its modules."""
