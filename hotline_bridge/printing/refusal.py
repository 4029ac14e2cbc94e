"""Why a print was refused, as a catalog entry, so the command and the console say it the same way
in the staff member's language."""

from __future__ import annotations

from hotline_bridge.engine.catalogs import Catalogs


class PrintRefused(Exception):
    """Nothing was printed: a number or keyword could not be proven, a national number waits
    for re-verification, or a printed word would alarm an onlooker.

    ``key`` is the catalog entry that explains why and ``params`` fill it; ``str()`` gives the
    English wording for logs and tests.
    """

    def __init__(self, catalogs: Catalogs, key: str, **params: object) -> None:
        self.catalogs, self.key, self.params = catalogs, key, params
        super().__init__(self.text("en"))

    def text(self, lang: str) -> str:
        """Return the reason in ``lang``."""
        return self.catalogs.text(lang, self.key, **self.params)
