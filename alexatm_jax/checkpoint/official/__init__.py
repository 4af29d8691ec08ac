"""The official AlexaTM release's checkpoint format (PyTorch / transformers `save_pretrained` directories):
the name and config mapping (`mapping`), reading and writing its files (`files`), conversion both ways
(`convert`)."""
