"""What machine a measurement ran on: one line for every benchmark table."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpuinfo(field: str) -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    return _cpuinfo("model name") or platform.processor() or platform.machine() or "unknown CPU"


def numerics() -> str:
    """What decides the rounding of a CPU run: torch build, the kernels torch dispatches to, the
    CPU vendor (MKL picks its matrix kernels by vendor and instruction set) and the thread count.
    Two runs agree to the bit only where this line is the same."""
    import torch

    vendor = _cpuinfo("vendor_id") or platform.machine()
    return (f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()} kernels, "
            f"{vendor}, {torch.get_num_threads()} threads")


def nominal_clock_hz() -> float | None:
    """The clock ``/proc/cpuinfo`` reports (nominal; turbo and a shared host change the real one)."""
    mhz = _cpuinfo("cpu MHz")
    return float(mhz) * 1e6 if mhz else None


def memory_gib() -> float | None:
    """Physical memory of the machine."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return None


def hardware() -> str:
    """CPU, cores, memory, GPU, the numerics line, Python version, and the load when measured."""
    import torch

    gpu = f", GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else ", no GPU"
    memory = memory_gib()
    ram = f", {memory:.0f} GiB RAM" if memory else ""
    load = f", load average {os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else ""
    return (f"{cpu_model()}, {os.cpu_count()} cores{ram}{gpu}, {numerics()}, "
            f"{platform.python_implementation()} {platform.python_version()}{load}")


def hardware_line(*details: str) -> str:
    """The ``hardware:`` line every benchmark script prints under its table: :func:`hardware`, then
    what that script also depends on (library versions, devices), so tables from different machines
    or builds are never mixed."""
    return "hardware: " + "; ".join([hardware(), *filter(None, details)])
