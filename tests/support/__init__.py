"""Test support (not shipped): synthetic model builders, host-compiled kernels, the device
protocol on the host, the cases and paths several test files share."""
