"""The known-wrong rule (harness/references/known_wrong.py): where a reference is known
to compute something else, and where it is not.
"""

from __future__ import annotations

from harness.ops.validate import load_model
from harness.references.known_wrong import known_wrong
from support.paths import shared_model


def test_litert_refused_where_known_wrong() -> None:
    keyword = load_model(shared_model("keyword_scrambled_8bit.tflite"))
    why = known_wrong("litert-ref", keyword)
    assert why and "SVDF" in why and "int8 weights_time" in why
    assert known_wrong("numpy-int8", keyword) is None
    assert known_wrong("litert-ref", load_model(shared_model("trained_lstm_int8.tflite"))) is None
