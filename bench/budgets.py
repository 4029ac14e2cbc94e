"""Budget lines in the one format every benchmark prints."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """One measured budget: its name, the value, the target as written, and whether it is met."""

    name: str
    measured: str
    target: str
    ok: bool

    def line(self) -> str:
        """Return ``budget NAME: measured X, target Y, ok|over``."""
        verdict = "ok" if self.ok else "over"
        return f"budget {self.name}: measured {self.measured}, target {self.target}, {verdict}"


def not_measured(name: str) -> str:
    """Return the line for a budget that could not be measured in this run."""
    return f"budget {name}: not measured"
