"""The `tflm` runtime: real TensorFlow Lite Micro, compiled from the user's own tree.

tree.py finds and identifies the tree, sources.py reads its source list,
library.py builds (and caches) libtflm.a offline, firmware.py generates the
app that runs the model through tflite::MicroInterpreter.
"""
