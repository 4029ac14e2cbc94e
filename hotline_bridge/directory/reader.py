"""The directory as the engine reads it: one site's services, at one moment.

This is the one object through which the flow engine reads the directory (see
``engine.step.Directory``); channels never query the directory themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import sqlite_utils

from hotline_bridge.directory.discreet import DiscreetNames
from hotline_bridge.directory.models import Service, Site, get_service, get_services, services_in
from hotline_bridge.directory.nearby import Nearby, nearest, zip_point


def known_zip(zip_code: str) -> bool:
    """Return whether the offline ZIP table knows ``zip_code``."""
    return zip_point(zip_code) is not None


class SiteDirectory:
    """The services shown at ``site``, with "open now" judged at ``now``, each labelled as a
    list may show it (``discreet``: a sensitive name without a label is never listed)."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        site: Site,
        now: dt.datetime,
        discreet: DiscreetNames | None = None,
    ) -> None:
        self.db, self.site, self.now = db, site, now
        self.discreet = discreet

    def _safe(self, service: Service) -> Service:
        return self.discreet.apply(service) if self.discreet else service

    def services(self, categories: Sequence[str]) -> Sequence[Service]:
        """Return the services of ``categories`` shown at the site, local ones first."""
        return [self._safe(s) for s in services_in(self.db, categories, self.site.id)]

    def service(self, service_id: str) -> Service | None:
        """Return one service, or None if it is gone."""
        found = get_service(self.db, service_id)
        return self._safe(found) if found else None

    def lines(self, service_ids: Sequence[str]) -> Sequence[Service]:
        """Return the services ``service_ids`` that exist, in that order."""
        return [self._safe(s) for s in get_services(self.db, service_ids)] if service_ids else []

    def known_zip(self, zip_code: str) -> bool:
        """Return whether the offline table knows ``zip_code``."""
        return known_zip(zip_code)

    def nearest(
        self, zip_code: str, categories: Sequence[str], lang: str, limit: int
    ) -> Sequence[Nearby] | None:
        """Return up to ``limit`` services nearest ``zip_code``; None when it is unknown."""
        found = nearest(
            self.db, zip_code, categories, site=self.site, lang=lang, limit=limit, now=self.now
        )
        if found is None or self.discreet is None:
            return found
        return [replace(near, service=self._safe(near.service)) for near in found]
