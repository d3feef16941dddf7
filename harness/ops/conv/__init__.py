"""CONV_2D and DEPTHWISE_CONV_2D: int8 and 16x8, per-channel weights, SAME/VALID,
strides, dilation, fused clamps."""
