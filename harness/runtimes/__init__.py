"""On-target runtimes behind one interface: builtin (the project's own C) and tflm."""
