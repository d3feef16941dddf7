"""firmware/kernels built for the host, shared by the unit tests of the ops and of the
quantization maths (each build once per session)."""

from __future__ import annotations

import ctypes

import pytest

from support.kernel_cases import host_kernels
from support.kernels_host import HostKernels, build_host_library, have_host_gcc


@pytest.fixture(scope="session")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    """The kernels as the firmware builds them by default."""
    return host_kernels(tmp_path_factory)


@pytest.fixture(scope="session")
def kernels_single_rounding(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    """The kernels built with HX_REQUANT_SINGLE_ROUNDING."""
    return host_kernels(tmp_path_factory, "HX_REQUANT_SINGLE_ROUNDING")


@pytest.fixture(scope="session")
def kernels_fc_double_rounding(tmp_path_factory: pytest.TempPathFactory) -> HostKernels:
    """The kernels built with HX_FC_REQUANT_DOUBLE_ROUNDING (TFLite Micro's FC)."""
    return host_kernels(tmp_path_factory, "HX_FC_REQUANT_DOUBLE_ROUNDING")


@pytest.fixture(scope="session")
def lib(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    """firmware/kernels built for the host, as a ctypes library (the elementwise tests)."""
    if not have_host_gcc():
        pytest.skip("no host gcc on PATH: cannot build firmware/kernels for the host")
    return ctypes.CDLL(str(build_host_library(tmp_path_factory.mktemp("hx_elementwise"))))
