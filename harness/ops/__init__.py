"""One folder per op family: its checks, parameters, C emitter and NumPy kernels."""
