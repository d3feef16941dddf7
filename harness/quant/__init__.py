"""Quantization maths, free of any graph: multipliers, ranges, fixed point, windows, tables."""
