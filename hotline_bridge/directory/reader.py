"""The directory as the engine reads it: one site's services, at one moment.

This is the one object through which the flow engine reads the directory (see
``engine.step.Directory``); channels never query the directory themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import sqlite_utils

from hotline_bridge.directory.discreet import DiscreetNames
from hotline_bridge.directory.models import Service, Site, get_service, get_services, services_in
from hotline_bridge.directory.nearby import Nearby, nearest, zip_point
from hotline_bridge.directory.store import DERIVED_SIZE, derived


def known_zip(zip_code: str) -> bool:
    """Return whether the offline ZIP table knows ``zip_code``."""
    return zip_point(zip_code) is not None


class SiteDirectory:
    """The services shown at ``site``, with "open now" judged at ``now``, each labelled as a
    list may show it (``discreet``: a sensitive name without a label is never listed).

    What it reads is kept in ``memo`` for as long as the database is unchanged
    (``store.derived``), with what the engine works out from it (a list's page size): the
    same list is not read, labelled and paged again at every message."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        site: Site,
        now: dt.datetime,
        discreet: DiscreetNames | None = None,
    ) -> None:
        self.db, self.site, self.now = db, site, now
        self.discreet = discreet
        shared = derived(db)
        at = (SiteDirectory, site.id, id(discreet))
        memo = shared.get(at)
        if memo is None or len(memo) >= DERIVED_SIZE:
            memo = shared[at] = {}
        self.memo: dict[Any, Any] = memo

    def _safe(self, service: Service) -> Service:
        return self.discreet.apply(service) if self.discreet else service

    def services(self, categories: Sequence[str]) -> Sequence[Service]:
        """Return the services of ``categories`` shown at the site, local ones first."""
        at = ("services", *categories)
        found = self.memo.get(at)
        if found is None:
            found = self.memo[at] = tuple(
                self._safe(s) for s in services_in(self.db, categories, self.site.id)
            )
        return found

    def service(self, service_id: str) -> Service | None:
        """Return one service, or None if it is gone."""
        at = ("service", service_id)
        if at not in self.memo:
            found = get_service(self.db, service_id)
            self.memo[at] = self._safe(found) if found else None
        return self.memo[at]

    def lines(self, service_ids: Sequence[str]) -> Sequence[Service]:
        """Return the services ``service_ids`` that exist, in that order."""
        if not service_ids:
            return ()
        at = ("lines", *service_ids)
        found = self.memo.get(at)
        if found is None:
            found = self.memo[at] = tuple(self._safe(s) for s in get_services(self.db, service_ids))
        return found

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
