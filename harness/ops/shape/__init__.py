"""Shape and data-movement ops: RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION, PAD,
PADV2, STRIDED_SLICE, TRANSPOSE and MEAN, one module per op (SQUEEZE and EXPAND_DIMS
share one)."""
