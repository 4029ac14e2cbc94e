"""Importing 200,000 generated services: under a minute, with memory that stays flat.

It writes a services file of real-shaped rows (phones, ZIP codes, hours, both languages) and
imports it with ``hotline-bridge import`` into a fresh database, in a process of its own so
the peak memory measured is the import's. It imports a tenth of the rows the same way first:
memory is flat when the full import's peak is not much above the tenth's. ``run()`` returns
the budget lines ``bench/bench.py`` prints.
"""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hotline_bridge.directory.validation import CATEGORIES, SERVICE_COLUMNS

from .budgets import Budget

SERVICES = 200_000
TARGET_S = 60.0
# Memory is flat when the peak of the full import is at most this multiple of a tenth's.
FLAT_FACTOR = 1.5
SEED = 20261201
ZIPS = ("02139", "02143", "02128", "60601", "10001", "94103", "33101", "78701", "98101")
# Numbers as directories have them: an organization's main line behind several services.
AREAS = ("617", "312", "212", "415", "305", "512", "206", "773", "646", "510")
HOURS = ("Mo-Fr 09:00-17:00", "Mo-Th 10:00-18:00; Sa 10:00-14:00", "24/7", "")

# The child process: import the file, then report its own peak memory (KiB on Linux).
CHILD = """
import resource, sys
from hotline_bridge.cli import main
try:
    main(["import", sys.argv[1]])
except SystemExit as exc:
    code = exc.code
usage = resource.getrusage(resource.RUSAGE_SELF)
print("peak_kib", usage.ru_maxrss, file=sys.stderr)
print("cpu_s", usage.ru_utime + usage.ru_stime, file=sys.stderr)
sys.exit(code or 0)
"""


def generate(path: Path, count: int) -> None:
    """Write ``count`` services as a services file."""
    rng = random.Random(SEED)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=SERVICE_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for n in range(count):
            writer.writerow(
                {
                    "id": f"gen-{n}",
                    "category": rng.choice(CATEGORIES),
                    "name_en": f"Generated Service {n}",
                    "name_es": f"Servicio Generado {n}",
                    "description_en": "Free help, by appointment or walk in.",
                    "description_es": "Ayuda gratis, con o sin cita.",
                    "phone": f"+1{rng.choice(AREAS)}555{rng.randrange(100, 200):04d}",
                    "zip": rng.choice(ZIPS),
                    "hours": rng.choice(HOURS),
                    "languages": "en, es",
                    "fictional": "1",
                }
            )


def timed_import(tmp: Path, count: int) -> tuple[float, float, int, int]:
    """Import ``count`` generated services; return seconds, CPU seconds, peak KiB and the exit
    status (CPU time tells a slow import from a busy machine)."""
    source = tmp / f"services-{count}.csv"
    generate(source, count)
    env = {
        **os.environ,
        "HOTLINE_BRIDGE_DATABASE": str(tmp / f"import-{count}.db"),
        "HOTLINE_BRIDGE_LOCAL": "1",
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(source)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    said = dict(
        line.split()[:2] for line in done.stderr.splitlines() if line[:4] in {"peak", "cpu_"}
    )
    return seconds, float(said.get("cpu_s", 0)), int(said.get("peak_kib", 0)), done.returncode


def run() -> list[str]:
    """Measure both imports and return the budget lines."""
    with tempfile.TemporaryDirectory(prefix="hotline-import-") as name:
        tmp = Path(name)
        _small_s, _small_cpu, small_kib, small_rc = timed_import(tmp, SERVICES // 10)
        seconds, cpu, kib, rc = timed_import(tmp, SERVICES)
    if rc or small_rc:
        return [f"budget import_200k: not measured (the import exited {rc or small_rc})"]
    growth = kib / small_kib if small_kib else float("inf")
    return [
        Budget(
            "import_200k_seconds",
            f"{seconds:.1f} s ({cpu:.1f} s of CPU)",
            f"{TARGET_S:.0f} s",
            seconds < TARGET_S,
        ).line(),
        Budget(
            "import_memory_flat",
            f"peak {kib // 1024} MB for {SERVICES:,}, {small_kib // 1024} MB for "
            f"{SERVICES // 10:,} ({growth:.2f}x)",
            f"at most {FLAT_FACTOR}x",
            growth <= FLAT_FACTOR,
        ).line(),
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
