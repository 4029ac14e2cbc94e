"""Why the directory refuses a value, in words the command line and the console both use.

A ``Reason`` is the English text the command line prints, which also carries the catalog key
(``import.<key>``) and values the console says it with in its reader's language.
"""

from __future__ import annotations


class Reason(str):
    """Why a value is refused: its English text, as the command line prints it, that also
    carries the catalog key and values the console says it with in its reader's language."""

    key: str
    values: dict[str, str]

    def __new__(cls, key: str, english: str, /, **values: object) -> Reason:
        reason = super().__new__(cls, english)
        reason.key = f"import.{key}"
        # A value that is itself a reason stays one, so the console can say it too.
        reason.values = {n: v if isinstance(v, Reason) else str(v) for n, v in values.items()}
        return reason
