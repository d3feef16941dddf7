"""SOFTMAX: int8 -> int8 or int16 (fixed point), int16 -> int16 (lookup tables)."""
