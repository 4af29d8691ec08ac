"""The model layer: configuration, layers, attention (the one dispatch point), the network, the
`EncoderDecoderModel` wrapper and FLOP counting. Imports no data, training or checkpoint code, no seqio and no
TensorFlow, so it runs on machines without them."""
