"""The recurrent ops SVDF and UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations, int8 or
int16 state), which keep state in *variable* tensors (SVDF's activation state, the
LSTM's output and cell state).

State across vectors - what every side does, and why it is the same:

* LiteRT (``litert-ref``) and TFLite Micro (``tflm-host``) run all vectors of a
  run through ONE interpreter, in order (``references/runner.py``); variable
  tensors start at their zero point (int8) or 0 (int16) when the interpreter is
  built and are updated in place by every Invoke(). So vector k sees the state
  left by vectors 0..k-1.
* Here the state lives in the op's :class:`~harness.ops.plan.OpPlan`
  (``plan.cache["state"]``, :func:`numpy_int8.state`), set to the zero point on
  first use; one :class:`~harness.ops.interpreter.Int8Interpreter` runs a whole
  run, so it carries the state from vector to vector the same way. A fresh plan
  (``run_op``) starts from the zero point again.
* On the device each recurrent op owns static RAM for its variable tensors
  (:mod:`emit`): set to the zero point once after boot, never placed in the
  reused arena, updated by every INVOKE. A run boots the firmware once.

Both start from :func:`params.initial_state`. Consequences: vectors must run in
the same order everywhere (they do), and a ``--resume``d run or a board reset
mid-run restarts the device's state, so it diverges from references that did not
restart.
"""
