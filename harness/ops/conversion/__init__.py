"""Type conversions: QUANTIZE (float32 -> int8/int16, and between int8, int16 and
int32) and DEQUANTIZE (int8/int16 -> float32)."""
