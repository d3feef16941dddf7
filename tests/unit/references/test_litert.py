"""The LiteRT references: their load errors condensed to one line."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("message, expect", [
    ("quantized_dimension must be in range [0, 1). Was 3.Tensor 33 has invalid quantization "
     "parameters.quantized_dimension must be in range [0, 1). Was 3.Tensor 36 has invalid "
     "quantization parameters.",
     "quantized_dimension must be in range [0, 1). Was 3. (tensors 33, 36: invalid "
     "quantization parameters)"),
    ("Didn't find op for builtin opcode 'FOO'.", "Didn't find op for builtin opcode 'FOO'."),
])
def test_litert_messages_are_condensed(message: str, expect: str) -> None:
    from harness.references.litert import condense

    assert condense(message) == expect
