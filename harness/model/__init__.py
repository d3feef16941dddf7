"""Model stage: the graph (tensors, ops, options) and the .tflite reader."""
