"""Every kind of screen the engine shows is rendered by every channel.

The kinds are registered once (``engine.screen.SCREEN_KINDS``); a channel that cannot render one,
or a kind the engine shows that is not registered, fails here before a person meets it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask

from hotline_bridge.channels.kiosk import pages as kiosk_pages
from hotline_bridge.channels.sms import render as sms_render
from hotline_bridge.channels.voice import render as voice_render
from hotline_bridge.directory.models import get_site
from hotline_bridge.directory.reader import SiteDirectory
from hotline_bridge.directory.store import open_db
from hotline_bridge.engine.flow import Position
from hotline_bridge.engine.screen import SCREEN_KINDS, Screen
from hotline_bridge.engine.step import Capabilities
from hotline_bridge.engine.walk import reachable
from hotline_bridge.runtime import Runtime
from tests.directory.test_import import EXAMPLES, run

SITE = "demo-clinic"


@pytest.fixture
def demo(app: Flask) -> Flask:
    for name in ("sites.csv", "services.csv"):
        result = run(app, "import", str(EXAMPLES / "demo" / name))
        assert result.exit_code == 0, result.output
    return app


def screens(app: Flask, lang: str, caps: Capabilities) -> list[Screen]:
    """Every screen the demo clinic's line can show in ``lang`` to a channel of ``caps``."""
    rt: Runtime = app.extensions["hotline_bridge"]
    with app.app_context(), open_db(app) as db:
        site = get_site(db, SITE)
        assert site is not None
        now = dt.datetime.now(dt.UTC)
        directory = SiteDirectory(db, site, now, rt.discreet)
        return list(reachable(rt.flow, lang, directory, caps, (site.zip or "02139", "00000")))


def test_every_channel_has_a_renderer_for_every_kind() -> None:
    assert set(kiosk_pages.BUILDERS) == SCREEN_KINDS
    assert set(voice_render.RENDERERS) == SCREEN_KINDS


def test_a_screen_of_an_unknown_kind_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        Screen(Position("main"), "carousel", "menu.main")


@pytest.mark.clock
@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_demo_line_shows_every_kind_on_text_voice_and_kiosk(demo: Flask, lang: str) -> None:
    for caps in (sms_render.CAPABILITIES, voice_render.CAPABILITIES, kiosk_pages.CAPABILITIES):
        assert {screen.kind for screen in screens(demo, lang, caps)} == SCREEN_KINDS, caps


@pytest.mark.clock
@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_screen_of_the_demo_line_opens_on_the_kiosk(demo: Flask, lang: str) -> None:
    client = demo.test_client()
    kinds = set()
    for screen in screens(demo, lang, kiosk_pages.CAPABILITIES):
        url = f"/kiosk/{SITE}/{lang}/{screen.position.encode()}"
        response = client.get(url)
        assert response.status_code == 200, url
        kinds.add(screen.kind)
    assert kinds == SCREEN_KINDS
