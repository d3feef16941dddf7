"""Test support: synthetic model builders and host-compiled kernels (not shipped)."""
