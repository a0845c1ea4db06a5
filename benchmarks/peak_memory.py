"""Peak resident memory of the calling process, measured the way that is right for a child.

``ru_maxrss`` is wrong in a benchmark's child process: Linux carries the high-water mark of the
memory map a process had before ``exec`` into ``ru_maxrss``, and a freshly forked child's map is its
parent's, so a child of a 425 MiB parent reports at least 425 MiB whatever it does. ``VmHWM`` in
/proc/self/status is the high-water mark of the current memory map only: fresh after ``exec``.
Benchmarks therefore run each case in a fresh interpreter (subprocess or the "spawn" start method)
and read VmHWM there. GPU memory is a separate quantity (``torch.cuda.max_memory_allocated``) and
is never folded into this number.
"""

from __future__ import annotations


def peak_rss_mib() -> float:
    """VmHWM of this process in MiB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # reported in kB
    raise RuntimeError("/proc/self/status has no VmHWM: peak memory needs Linux")
