"""One thing a check before going live found, said from the catalogs.

A finding is a catalog key (``golive.<key>``) and its values, so the command line says it in
English and the console in its reader's language, from the same words. It is a problem (the
line cannot reach people as it should, or keeps what it should not), a step to confirm by hand
(something Twilio's API does not show), or only said (what is already right).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hotline_bridge.engine.catalogs import Catalogs

PROBLEM, MANUAL, PASSED = "problem", "manual", "passed"


@dataclass(frozen=True)
class Finding:
    """One thing found: its catalog key, its values, and whether it stops the line (a
    problem), waits on a person's look in the Twilio console (manual) or is only said."""

    key: str
    values: Mapping[str, str] = field(default_factory=dict)
    problem: bool = True
    manual: bool = False

    @property
    def state(self) -> str:
        """``problem``, ``manual`` or ``passed``."""
        return PROBLEM if self.problem else MANUAL if self.manual else PASSED

    def said(self, catalogs: Catalogs, lang: str) -> str:
        """Return the finding in ``lang``."""
        return catalogs.text(lang, f"golive.{self.key}", **self.values)


def _text(values: Mapping[str, object]) -> dict[str, str]:
    return {name: str(value) for name, value in values.items()}


def ok(key: str, **values: object) -> Finding:
    """What is right, only said."""
    return Finding(key, _text(values), problem=False)


def bad(key: str, **values: object) -> Finding:
    """A problem: the line cannot go live as it is."""
    return Finding(key, _text(values), problem=True)


def by_hand(key: str, **values: object) -> Finding:
    """A step Twilio's API cannot show: confirmed in the Twilio console, never a pass."""
    return Finding(key, _text(values), problem=False, manual=True)
