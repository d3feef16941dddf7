"""The builtin runtime: the graph compiled ahead of time into calls to firmware/kernels."""
