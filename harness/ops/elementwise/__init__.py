"""Elementwise ops: ADD, SUB, MUL (broadcasting), RELU, RELU6, LEAKY_RELU, PRELU,
HARD_SWISH, LOGISTIC and TANH, int8 and (where LiteRT has them) int16."""
