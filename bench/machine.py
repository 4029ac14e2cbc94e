"""How busy the machine was: a benchmark on a shared machine must say when others took CPU."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

# Fields of the "cpu" line in /proc/stat that count busy time: user, nice, system, irq, softirq,
# steal (idle and iowait are not busy).
BUSY_FIELDS = (0, 1, 2, 5, 6, 7)
# Above this share of the cores used by other processes, the numbers are called pessimistic.
BUSY_SHARE = 0.25


def busy_seconds() -> float:
    """Return the CPU seconds the whole machine has spent busy since boot."""
    with Path("/proc/stat").open() as handle:
        fields = handle.readline().split()[1:]
    ticks = sum(int(fields[index]) for index in BUSY_FIELDS if index < len(fields))
    return ticks / os.sysconf("SC_CLK_TCK")


def cores() -> int:
    """Return how many cores this process may run on."""
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class Share:
    """CPU used by processes other than the benchmark's during a stretch of wall-clock time."""

    seconds: float
    other_cpu_s: float

    @property
    def cores_used(self) -> float:
        """Average cores the other processes kept busy."""
        return self.other_cpu_s / self.seconds if self.seconds > 0 else 0.0

    @property
    def busy(self) -> bool:
        return self.cores_used > BUSY_SHARE * cores()

    def describe(self) -> str:
        """Return one line saying how much of the machine others used."""
        line = f"other processes used {self.cores_used:.2f} of {cores()} cores"
        return line + (" (busy machine: numbers are pessimistic)" if self.busy else "")


def load_average() -> float:
    """Return the one-minute load average."""
    return os.getloadavg()[0]
