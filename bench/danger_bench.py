"""The danger words of flows/danger.toml on their labelled sets, and how long hearing takes.

``run()`` returns the budget lines ``bench/bench.py`` prints: recall and false alarms per set
and language (the dev sets they were tuned on must meet 95% and 5%; a held-out set is reported
against the same targets, as it is), and the time one message takes, cache warm.
"""

from __future__ import annotations

import csv
import time

from hotline_bridge.engine.danger import (
    FALSE_ALARM_TARGET,
    RECALL_TARGET,
    Danger,
    measure_all,
)
from hotline_bridge.settings import resolve_path

from .budgets import Budget

DANGER_FILE = "flows/danger.toml"
EXAMPLES = "flows/danger-examples"
# Milliseconds one message may take, warm, on the SMS webhook's path.
HEAR_TARGET_MS = 2.0


def run() -> list[str]:
    """Measure and return the budget lines."""
    danger = Danger.load(resolve_path(DANGER_FILE))
    lines = []
    for rates in measure_all(danger, resolve_path(EXAMPLES)):
        name = f"signals {rates.name} {rates.lang}"
        lines.append(
            Budget(
                f"{name} recall",
                f"{rates.recall:.1%}",
                f">= {RECALL_TARGET:.0%}",
                rates.recall >= RECALL_TARGET,
            ).line()
        )
        lines.append(
            Budget(
                f"{name} false alarms",
                f"{rates.false_alarms:.1%}",
                f"<= {FALSE_ALARM_TARGET:.0%}",
                rates.false_alarms <= FALSE_ALARM_TARGET,
            ).line()
        )
    texts = []
    for path in sorted(resolve_path(EXAMPLES).glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts.extend(row["text"] for row in csv.DictReader(handle))
    for text in texts:  # warm, as a running server is
        danger.hear(text)
    start = time.perf_counter()
    for text in texts:
        danger.hear(text)
    per_ms = (time.perf_counter() - start) * 1000 / max(len(texts), 1)
    ok = per_ms <= HEAR_TARGET_MS
    lines.append(Budget("signals hear", f"{per_ms:.2f} ms", f"<= {HEAR_TARGET_MS} ms", ok).line())
    return lines


if __name__ == "__main__":
    print("\n".join(run()))
