"""The directory as the engine reads it: one site's services, at one moment.

This is the one object through which the flow engine reads the directory (see
``engine.step.Directory``); channels never query the directory themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlite_utils

from hotline_bridge.directory.models import Service, Site, get_service, get_services, services_in
from hotline_bridge.directory.nearby import Nearby, nearest, zip_point


def known_zip(zip_code: str) -> bool:
    """Return whether the offline ZIP table knows ``zip_code``."""
    return zip_point(zip_code) is not None


class SiteDirectory:
    """The services shown at ``site``, with "open now" judged at ``now``."""

    def __init__(self, db: sqlite_utils.Database, site: Site, now: dt.datetime) -> None:
        self.db, self.site, self.now = db, site, now

    def services(self, categories: Sequence[str]) -> Sequence[Service]:
        """Return the services of ``categories`` shown at the site, local ones first."""
        return services_in(self.db, categories, self.site.id)

    def service(self, service_id: str) -> Service | None:
        """Return one service, or None if it is gone."""
        return get_service(self.db, service_id)

    def lines(self, service_ids: Sequence[str]) -> Sequence[Service]:
        """Return the services ``service_ids`` that exist, in that order."""
        return get_services(self.db, service_ids) if service_ids else []

    def known_zip(self, zip_code: str) -> bool:
        """Return whether the offline table knows ``zip_code``."""
        return known_zip(zip_code)

    def nearest(
        self, zip_code: str, categories: Sequence[str], lang: str, limit: int
    ) -> Sequence[Nearby] | None:
        """Return up to ``limit`` services nearest ``zip_code``; None when it is unknown."""
        return nearest(
            self.db, zip_code, categories, site=self.site, lang=lang, limit=limit, now=self.now
        )
