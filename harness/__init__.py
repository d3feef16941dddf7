"""Cross-check quantized TFLite models on Cortex-M targets against desktop references."""

__version__ = "0.1.0"
