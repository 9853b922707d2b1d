"""How many CPUs this process may run on: the affinity mask (taskset, cgroups' cpusets), not the machine's count."""
from __future__ import annotations

import os


def usable_cpus() -> int:
    """The CPUs the process may use; a pool sized from `os.cpu_count()` on a pinned process only adds overhead."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1
