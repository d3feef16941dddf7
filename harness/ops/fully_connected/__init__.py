"""FULLY_CONNECTED: int8, 16x8 and float32; per-tensor or per-channel weights."""
